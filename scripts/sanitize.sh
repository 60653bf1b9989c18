#!/usr/bin/env bash
# The sanitizer stage of CI (docs/reliability.md).
#
#  1. build-asan: the whole suite with -fsanitize=address,undefined
#     (-fno-sanitize-recover: any UB aborts), then every ctest test (the
#     reliability: ones last, one at a time).
#  2. build-tsan: the gateway and the test files of the concurrency tests with
#     -fsanitize=thread, then those tests, chosen by Catch tag: [server] (the HTTP server's unit tests,
#     streaming included), [budget] (the ledger and the HTTP race of 12
#     clients), [upload] (signed uploads against the real server), [metrics],
#     [hostile] (slowloris and non-reading clients) and [soak] (mixed load,
#     then SIGTERM with uploads in flight, and the upload/audit deadlock
#     regression; GW_SOAK_SECONDS, default 10 here).
#
# The `gateway` binary the integration tests start is built with the same
# sanitizer, so races and memory errors inside the server count too. Every
# process writes its reports to a file of its own under
# BUILD/sanitizer-logs/ (log_path); any report fails the stage, even one
# from a child whose exit status no test looked at.
#
# Both builds use -O1 -g1 -fno-omit-frame-pointer (readable stacks, quick to
# compile) and keep assert() on; warnings do not fail them (GW_WERROR=OFF:
# GCC warns about some constructs only under -fsanitize=thread, and the
# ordinary build already runs with -Werror).
#
# Environment: GW_JOBS (build jobs, default nproc), GW_TEST_JOBS (ctest -j for
# the ASan run, default GW_JOBS), GW_SANITIZE_UNITY=0 (no unity builds),
# GW_SANITIZE=asan|tsan|both (default both), GW_ASAN_DIR / GW_TSAN_DIR (default
# build-asan / build-tsan).
# Exit code: 0 when every selected test passed and no report was written.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

jobs=${GW_JOBS:-$(nproc)}
test_jobs=${GW_TEST_JOBS:-$jobs}
which=${GW_SANITIZE:-both}
asan_dir=${GW_ASAN_DIR:-build-asan}
tsan_dir=${GW_TSAN_DIR:-build-tsan}
tsan_tags='[server],[budget],[upload],[metrics],[hostile],[soak]'
stage_start=$SECONDS
failed=0

# What keeps the builds quick enough for CI (docs/reliability.md has the figures):
#  - only the targets the tests run: gateway, gateway_tests and gwgen;
#  - the libraries as unity builds (CMAKE_UNITY_BUILD; GW_SANITIZE_UNITY=0 turns
#    it off, e.g. to tell a clash of two files' static helpers from a real error);
#  - the test code itself at -O0 (GW_TEST_COMPILE_OPTIONS); what it tests keeps -O1;
#  - for TSan, only the test files with a test case carrying one of its tags
#    (GW_TEST_ONLY_TAGS, tests/CMakeLists.txt).
configure_and_build() {  # DIR SANITIZE_FLAGS [CMAKE_ARGS...]
  local dir=$1 flags=$2 t0=$SECONDS
  shift 2
  # GW_TEST_TIMEOUT: ctest's bound per test (120 s in the ordinary build); the
  # crash test alone takes about a minute under ASan.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_WERROR=OFF -DGW_TEST_TIMEOUT=600 \
    -DCMAKE_UNITY_BUILD="$([[ ${GW_SANITIZE_UNITY:-1} == 0 ]] && echo OFF || echo ON)" \
    -DGW_TEST_COMPILE_OPTIONS=-O0 \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" --target gateway gateway_tests gwgen
  echo "sanitize: built $dir in $((SECONDS - t0)) s"
}

# Prints and counts the reports left in DIR/sanitizer-logs; returns 1 if any.
check_reports() {  # DIR
  local logs=$1/sanitizer-logs
  shopt -s nullglob
  local reports=("$logs"/*)
  shopt -u nullglob
  if ((${#reports[@]} == 0)); then
    echo "sanitize: no sanitizer reports in $logs"
    return 0
  fi
  echo "sanitize: ${#reports[@]} sanitizer report file(s) in $logs:" >&2
  for f in "${reports[@]}"; do
    echo "----- $f" >&2
    head -n 80 "$f" >&2
  done
  return 1
}

run_asan() {
  configure_and_build "$asan_dir" "-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    -DGW_TEST_ONLY_TAGS=
  local logs=$root/$asan_dir/sanitizer-logs t0=$SECONDS
  # World-writable: the storage test runs the gateway as "nobody" when it is root.
  rm -rf "$logs" && mkdir -p "$logs" && chmod 1777 "$logs"
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:log_path=$logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
  # Smaller loads for the reliability tests, which ctest bounds at 120 s each.
  export GW_SOAK_SECONDS=${GW_SOAK_SECONDS:-10} GW_CRASH_PERSONS=${GW_CRASH_PERSONS:-20000}
  local rc=0
  # The reliability tests measure bounds (a /healthz answer within 1 s, clients
  # dropped at write_timeout, ...) against a server several times slower than
  # usual: they run after the others, one at a time.
  (cd "$asan_dir" && ctest --output-on-failure -j "$test_jobs" -E '^reliability:') || rc=$?
  (cd "$asan_dir" && ctest --output-on-failure -j 1 -R '^reliability:') || rc=$?
  unset ASAN_OPTIONS UBSAN_OPTIONS
  check_reports "$asan_dir" || rc=1
  echo "sanitize: asan+ubsan tests took $((SECONDS - t0)) s (exit $rc)"
  return $rc
}

run_tsan() {
  local only=${tsan_tags//[\[\]]/}  # [server],[soak] -> server;soak
  configure_and_build "$tsan_dir" "-fsanitize=thread" -DGW_TEST_ONLY_TAGS="${only//,/;}"
  local logs=$root/$tsan_dir/sanitizer-logs t0=$SECONDS
  rm -rf "$logs" && mkdir -p "$logs" && chmod 1777 "$logs"
  local tests=$root/$tsan_dir/bin/gateway_tests
  # Kernels with high mmap entropy break TSan's memory layout: run without ASLR then.
  local prefix=()
  if ! TSAN_OPTIONS="log_path=/dev/null" "$tests" --list-tests >/dev/null 2>&1; then
    prefix=(setarch "$(uname -m)" -R)
    echo "sanitize: TSan needs ASLR off on this kernel; running under setarch -R"
  fi
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:log_path=$logs/tsan"
  export GW_SOAK_SECONDS=${GW_SOAK_SECONDS:-10} GW_CRASH_PERSONS=${GW_CRASH_PERSONS:-20000}
  local rc=0
  (cd "$tsan_dir/tests" && timeout 1800 "${prefix[@]}" "$tests" "$tsan_tags" --warn NoTests --durations yes) || rc=$?
  unset TSAN_OPTIONS
  check_reports "$tsan_dir" || rc=1
  echo "sanitize: tsan tests ($tsan_tags) took $((SECONDS - t0)) s (exit $rc)"
  return $rc
}

case $which in
  asan) run_asan || failed=1 ;;
  tsan) run_tsan || failed=1 ;;
  both)
    run_asan || failed=1
    run_tsan || failed=1
    ;;
  *) echo "GW_SANITIZE must be asan, tsan or both" >&2; exit 2 ;;
esac
echo "sanitize: stage took $((SECONDS - stage_start)) s"
exit $failed
