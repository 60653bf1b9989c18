#!/usr/bin/env bash
# The performance benchmark (docs/performance.md): builds gwgen, gateway and
# gateway-bench in a release build, generates its own data (deterministic by
# seed) and prints every figure with its target.
#
#   scripts/bench.sh [gateway-bench options]     e.g. scripts/bench.sh --runs 3 --seconds 10
#   scripts/bench.sh --only query --client wrk   the query phases driven by wrk
#
# Environment: BUILD_DIR (default build-bench), WORK_DIR (default bench-work; the
# 10,000,000-person query deployment is kept there between runs, and built again
# once its audit log has doubled its database or for another --query-persons), JOBS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# `--client wrk` measures the query phases with wrk, which bootstrap then
# installs (Debian package wrk) if it is missing.
wants_wrk=""
prev=""
for arg in "$@"; do
  [[ $prev == --client && $arg == wrk ]] && wants_wrk=wrk
  prev=$arg
done
GATEWAY_BOOTSTRAP_EXTRA="${GATEWAY_BOOTSTRAP_EXTRA:-} $wants_wrk" bash scripts/bootstrap.sh
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$root/bench-work}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target gateway gwgen gateway-bench >/dev/null
exec "$build/bin/gateway-bench" --gateway "$build/bin/gateway" --gwgen "$build/bin/gwgen" --work "$work" "$@"
