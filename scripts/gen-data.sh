#!/usr/bin/env bash
# Builds gwgen (Release, in build-bench/ or $BUILD_DIR) if needed and runs it with the
# arguments given, e.g.
#   scripts/gen-data.sh --profile kaz-1 --persons 1000000 --out bench-data/kaz-1.csv
# See `scripts/gen-data.sh --help` and docs/performance.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "${JOBS:-2}" --target gwgen >/dev/null
exec "$build/bin/gwgen" "$@"
