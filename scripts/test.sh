#!/usr/bin/env bash
# Installs what is missing, configures, builds, and runs every test through ctest.
# Exit code: ctest's (0 when every test passed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/bootstrap.sh

build=${GW_BUILD_DIR:-build}
jobs=${GW_JOBS:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs"
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 300)
# The web console in a real browser (Debian's chromium driven by playwright-core).
if [[ -f scripts/console-test.sh && ${GW_SKIP_BROWSER:-0} != 1 ]]; then
  bash scripts/console-test.sh "$build"
fi
