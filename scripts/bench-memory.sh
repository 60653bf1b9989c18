#!/usr/bin/env bash
# Adapter memory benchmark: adapters must stream, so their peak RSS must not grow
# with the input. For each streaming profile (kaz-1, kgz-1, tjk-1, uzb-1) this
# generates a file of at least SIZE_GB GiB with gwgen, runs the registered
# adapter over it with adapter-memory-bench (counting sink, no storage) in a
# fresh process, and checks the peak RSS against the 200 MB target.
# tkm-1 is exempt: it is a small aggregate table (one row per non-empty cell,
# a few thousand rows at most), not a person-level stream.
#
#   scripts/bench-memory.sh [SIZE_GB]      SIZE_GB defaults to 1; fractions work (0.1)
#
# Environment:
#   KEEP=1              keep the generated files in bench-data/ (default: removed)
#   BUILD_DIR=DIR       build directory (default build-bench, Release)
#   JOBS=N              build parallelism (default 2)
#   PROFILES="..."      profiles to run (default "kaz-1 kgz-1 tjk-1 uzb-1")
#   INVALID_RATE=R      fraction of broken rows in the files (default 0.001)
#   SEED=S REF_DATE=D   gwgen seed (default 1) and reference date (default 2023-12-31)
#   LIMIT_MB=N          peak-RSS target in MB of 10^6 bytes (default 200)
#
# Prints one table row per profile and PASS or FAIL; exits 1 on FAIL. MB/s is
# wall-clock throughput; MB/CPU-s divides by the adapter's CPU time, which is the
# steadier figure when other work shares the cores.
# Method and measured figures: docs/performance.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

size_gb=${1:-1}
build=${BUILD_DIR:-$root/build-bench}
jobs=${JOBS:-2}
profiles=${PROFILES:-kaz-1 kgz-1 tjk-1 uzb-1}
invalid_rate=${INVALID_RATE:-0.001}
seed=${SEED:-1}
ref_date=${REF_DATE:-2023-12-31}
limit_mb=${LIMIT_MB:-200}
data="$root/bench-data"

min_bytes=$(awk -v g="$size_gb" 'BEGIN { if (g + 0 <= 0) exit 1; printf "%.0f", g * 1073741824 }') || {
  echo "bench-memory: SIZE_GB must be a positive number" >&2
  exit 2
}

echo "bench-memory: building gwgen and adapter-memory-bench in $build (Release, -j$jobs)" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target gwgen adapter-memory-bench >/dev/null
gwgen="$build/bin/gwgen"
bench="$build/bin/adapter-memory-bench"
registered=" $("$bench" --list | tr '\n' ' ') "

mkdir -p "$data"
generated=()
cleanup() {
  if [[ ${KEEP:-0} != 1 ]]; then
    for f in "${generated[@]+"${generated[@]}"}"; do rm -f "$f"; done
  fi
}
trap cleanup EXIT

# Reads key=value pairs of the bench's output line into the associative array `r`.
declare -A r
parse() {
  r=()
  local kv
  for kv in $1; do r[${kv%%=*}]=${kv#*=}; done
}

echo "bench-memory: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), files >= $size_gb GiB," \
  "invalid rate $invalid_rate, seed $seed, reference date $ref_date" >&2
header=$(printf "%-7s %8s %7s %9s %9s %7s %8s %6s %9s %8s %8s  %s" \
  profile "file MB" "gen s" rows valid errors "adapt s" "MB/s" "MB/CPU-s" "peak MB" "base MB" result)
lines=()
overall=PASS
for p in $profiles; do
  case $p in
    kaz-1 | tjk-1) ext=csv ;;
    kgz-1) ext=xml ;;
    uzb-1) ext=json ;;
    tkm-1)
      lines+=("$(printf "%-7s %s" "$p" "exempt: a small aggregate table, not a person stream")")
      continue ;;
    *) echo "bench-memory: unknown profile $p" >&2; exit 2 ;;
  esac
  if [[ $registered != *" $p "* ]]; then
    lines+=("$(printf "%-7s %s" "$p" "SKIP: no adapter registered")")
    continue
  fi
  file="$data/$p.$ext"
  generated+=("$file")
  echo "bench-memory: generating $file" >&2
  gen_start=$(date +%s.%N)
  "$gwgen" --profile "$p" --min-bytes "$min_bytes" --seed "$seed" --ref-date "$ref_date" \
    --invalid-rate "$invalid_rate" --out "$file"
  gen_s=$(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "bench-memory: running the $p adapter" >&2
  set +e
  out=$("$bench" --profile "$p" --ref-date "$ref_date" "$file")
  rc=$?
  set -e
  echo "  $out" >&2
  parse "$out"
  result=PASS
  if [[ $rc -ne 0 || ${r[status]:-} != ok ]]; then
    result="FAIL (adapter status ${r[status]:-none})"
  elif awk -v a="${r[peak_rss_mb]}" -v l="$limit_mb" 'BEGIN { exit !(a + 0 >= l + 0) }'; then
    result="FAIL (over $limit_mb MB)"
  fi
  [[ $result == PASS ]] || overall=FAIL
  lines+=("$(printf "%-7s %8.0f %7s %9s %9s %7s %8.1f %6s %9s %8s %8s  %s" "$p" \
    "$(awk -v b="${r[bytes]:-0}" 'BEGIN { print b / 1e6 }')" "$gen_s" "${r[rows]:-?}" \
    "${r[valid]:-?}" "${r[errors]:-?}" "${r[seconds]:-0}" "${r[mb_per_s]:-?}" \
    "${r[mb_per_cpu_s]:-?}" "${r[peak_rss_mb]:-?}" "${r[base_rss_mb]:-?}" "$result")")
  if [[ ${KEEP:-0} != 1 ]]; then rm -f "$file"; fi
done

echo
echo "Adapter memory benchmark (target: peak RSS < $limit_mb MB; MB = 10^6 bytes)"
echo "$header"
for l in "${lines[@]}"; do echo "$l"; done
echo "$overall"
[[ $overall == PASS ]]
