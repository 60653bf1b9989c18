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
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 300
