#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS
# (default 60), seeded with the national samples in tests/fixtures/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 kaz1 uzb1
#
# Corpora grow in fuzz-corpus/<target>/, crashes land in fuzz-findings/<target>/.
# Prints executions and findings per target; exits non-zero if any target found a crash.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true

GATEWAY_BOOTSTRAP_EXTRA="clang libclang-rt-dev" bash scripts/bootstrap.sh
build=${GW_FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_FUZZ=ON >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in tests/fuzz/*_fuzz.cc; do targets+=("$(basename "$src" _fuzz.cc)"); done
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}" >/dev/null

status=0
for t in "${targets[@]}"; do
  corpus="fuzz-corpus/$t"
  findings="fuzz-findings/$t"
  mkdir -p "$corpus" "$findings"
  # Seeds: the samples of the target's profile ("kaz1" -> kaz-1*), each behind the option
  # byte that every target reads first (1 selects the profile's alternative charset).
  profile=$(echo "$t" | sed -E 's/^([a-z]+)([0-9]+)$/\1-\2/')
  for f in tests/fixtures/"$profile"*; do
    [[ $f == *.truth.json ]] && continue
    opt='\x00'
    [[ $f == *rk1048* ]] && opt='\x01'
    { printf "$opt"; cat "$f"; } >"$corpus/seed-$(basename "$f")"
  done
  log="$findings/last-run.log"
  set +e
  ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" \
    -artifact_prefix="$findings/" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$findings" -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
  echo "fuzz $t: ${execs:-0} executions in ${seconds}s, exit $rc, findings: $crashes (log: $log)"
  ((rc == 0 && crashes == 0)) || status=1
done
exit $status
