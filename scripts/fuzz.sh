#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS
# (default 60), seeded with the national samples in tests/fixtures/ (kaz1 ... uzb1)
# or with the seeds written below (query, siginput, policy, ndjson).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 kaz1 uzb1
#
# Corpora grow in fuzz-corpus/<target>/, crashes land in fuzz-findings/<target>/.
# Prints executions and findings per target; exits non-zero if any target found a crash.
# GW_FUZZ_JOBS sets the build parallelism (default: all cores). GW_FUZZ_QUERY_ESCAPE_PLUS=1
# lets the query target explore past its known finding (see tests/fuzz/query_fuzz.cc).
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
cmake --build "$build" -j "${GW_FUZZ_JOBS:-$(nproc)}" --target "${build_targets[@]}" >/dev/null

# Seeds of the targets that do not read a national file (no option byte: the input is
# the whole value). Each writes seed-* files into the corpus directory $1.

# query: query strings of GET /v1/aggregates as consumers send them (see docs/api.md).
seed_query() {
  local i=0 q
  for q in \
    'ref_date=2015-06-30&by=pop_type,coo&pop_type=REF,ASY&totals=true&format=sdmx-csv' \
    'ref_date=2015-06-30' \
    'ref_date=2015-06-30&by=coa,pop_type&format=csv' \
    'ref_date=2015-06-30&by=pop_type,coo,sex,age,region&format=sdmx-json' \
    'ref_date=2019-12-31&by=sex,age&pop_type=MIG&totals=true' \
    'ref_date=2016-12-31&coa=KAZ,KGZ,TJK,TKM,UZB&by=coo&pop_type=REF&format=json' \
    'ref_date=2015-06-30&by=region&region=KZ-75,KG-B&sex=F&age=0-4,60%2B&totals=false' \
    'ref_date=2015-06-30&by=&coo=AFG+&colour=red&by=nonsense'; do
    printf '%s' "$q" >"$1/seed-$((i += 1))"
  done
}

# siginput: "Signature-Input value\nSignature value"; RFC 9421 B.2.6 and what `gateway push` sends.
seed_siginput() {
  printf '%s\n%s' \
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"' \
    'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:' \
    >"$1/seed-rfc9421-b26"
  printf '%s\n%s' \
    'sig1=("@method" "@target-uri" "content-digest" "content-type");created=1618884473;expires=1618884773;keyid="3f1c0a9b2d4e5f60";alg="ed25519";nonce="b3k2pp5k7z-50gnwp.yemd"' \
    'sig1=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:, other=?1;a=1.5;b=tok, sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' \
    >"$1/seed-push"
}

# policy: the demo deployment's policies and the grants of the unit tests.
seed_policy() {
  cp config/policies/demo.toml "$1/seed-demo.toml"
  cat >"$1/seed-grants.toml" <<'TOML'
[[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY"]
dimensions = ["coa", "coo", "sex"]
mechanism = "dp"
epsilon = 0.1
budget = "2.5"
threshold = 5
rounding = 0
expires = 2030-01-31

[[grant]]
country = "KAZ"
consumer = "iom"
pop_types = ["MIG"]
dimensions = ["region"]
mechanism = "sdc"
threshold = 10
rounding = 5
TOML
  cat >"$1/seed-expires.toml" <<'TOML'
[[grant]]
country = "KGZ"
consumer = "iom"
pop_types = ["REF"]
dimensions = ["coo"]
mechanism = "none"
threshold = 5
expires = "2020-12-31"
TOML
}

# ndjson: shared-v1 lines as `gateway push` writes them (adapters/shared-v1), for the
# snapshot the target checks against (KAZ, 2015-06-30).
seed_ndjson() {
  local header='{"country":"KAZ","profile":"shared-v1","ref_date":"2015-06-30","source_profile":"kaz-1","type":"header"}'
  cat >"$1/seed-persons.ndjson" <<EOF
$header
{"type":"person","row":1,"person_key":"0f3a6c9e2b7d4a1185c3e6f0a9d2b471","pop_type":"REF","coo":"AFG","sex":"F","age":"18-59","region":"KZ-75","registered":"2014-03-02","valid_until":null}
{"type":"person","row":2,"person_key":"9b1e4d7a0c3f6285e1a4d7b0c3f62859","pop_type":"ASY","coo":"SYR","sex":"M","age":"0-4","region":"KZ-11","registered":"2015-01-15","valid_until":"2016-01-14"}
{"type":"error","row":3,"field":"ЖСН/ИИН","reason":"the IIN check digit does not match","kind":"bad_checksum"}
{"type":"person","row":4,"person_key":"44d0e8b2a6c1f3957d2e0b8a6c4f1d3e","pop_type":"STA","coo":"UZB","sex":"F","age":"60+","region":"KZ-75","registered":"2010-07-01","valid_until":null}
EOF
  cat >"$1/seed-cells.ndjson" <<EOF
$header
{"type":"cell","row":1,"pop_type":"MIG","coo":"UZB","sex":"M","age":"18-59","region":"KZ-75","count":5}
{"type":"cell","row":2,"pop_type":"REF","coo":"AFG","sex":"F","age":"12-17","region":"KZ-11","count":0}
{"type":"error","row":3,"field":"count","reason":"not a whole number","kind":"bad_number"}
EOF
}

status=0
for t in "${targets[@]}"; do
  corpus="fuzz-corpus/$t"
  findings="fuzz-findings/$t"
  mkdir -p "$corpus" "$findings"
  case $t in
    query | siginput | policy | ndjson) seed_$t "$corpus" ;;
    *)
      # Seeds: the samples of the target's profile ("kaz1" -> kaz-1*), each behind the option
      # byte that every national target reads first (1 selects the profile's alternative charset).
      profile=$(echo "$t" | sed -E 's/^([a-z]+)([0-9]+)$/\1-\2/')
      for f in tests/fixtures/"$profile"*; do
        [[ $f == *.truth.json ]] && continue
        opt='\x00'
        [[ $f == *rk1048* ]] && opt='\x01'
        { printf "$opt"; cat "$f"; } >"$corpus/seed-$(basename "$f")"
      done
      ;;
  esac
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
