#!/usr/bin/env bash
# The demo: installs what is missing, builds, creates a demo deployment under demo/,
# starts the server in the background on a free loopback port, loads the Kazakhstan
# sample as its ministry would, and prints what UNHCR and IOM see.
#
#   scripts/demo.sh         set up and start
#   scripts/demo.sh stop    stop the demo server
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
demo="$root/demo"
gw="$root/build/bin/gateway"

stop_server() {
  if [[ -f $demo/server.pid ]]; then
    pid=$(cat "$demo/server.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "demo server (pid $pid) stopped"
    fi
    rm -f "$demo/server.pid"
  fi
}

if [[ ${1:-} == stop ]]; then
  stop_server
  exit 0
fi

bash scripts/bootstrap.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target gateway >/dev/null

stop_server
rm -rf "$demo"
"$gw" init "$demo/gw" >/dev/null
unhcr=$("$gw" consumer add unhcr --dir "$demo/gw" 2>/dev/null)
iom=$("$gw" consumer add iom --dir "$demo/gw" 2>/dev/null)
operator=$("$gw" consumer add secretariat --role operator --dir "$demo/gw" 2>/dev/null)
cp config/policies/demo-kaz.toml "$demo/gw/policies/kaz.toml"
printf 'unhcr=%s\niom=%s\nsecretariat=%s\n' "$unhcr" "$iom" "$operator" >"$demo/tokens.env"
chmod 600 "$demo/tokens.env"

echo "== Kazakhstan's ministry loads its register (kaz-1, reference date 2015-06-30)"
set +e
"$gw" ingest --dir "$demo/gw" --country KAZ --ref-date 2015-06-30 --profile kaz-1 \
  tests/fixtures/kaz-1.csv >"$demo/strict-receipt.json" 2>/dev/null
rc=$?
set -e
echo "   strict ingest: exit $rc, $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], "-", len(r["rejected"]), "invalid rows:", ", ".join(str(e["row"]) for e in r["rejected"]))' "$demo/strict-receipt.json")"
"$gw" ingest --dir "$demo/gw" --country KAZ --ref-date 2015-06-30 --profile kaz-1 --partial \
  tests/fixtures/kaz-1.csv >"$demo/receipt.json" 2>/dev/null
echo "   with --partial: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], "version", r["version"], "-", r["in_stock"], "in stock,", r["expired"], "expired,", len(r["rejected"]), "rows rejected")' "$demo/receipt.json")"

"$gw" serve --dir "$demo/gw" --listen 127.0.0.1:0 >"$demo/server.out" 2>"$demo/server.log" &
echo $! >"$demo/server.pid"
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on //p' "$demo/server.out")
  [[ -n $url ]] && break
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "the server did not start; see $demo/server.log" >&2
  exit 1
fi
echo "$url" >"$demo/url"

show() {
  local who=$1 token=$2 query=$3
  echo
  echo "== $who: GET /v1/aggregates?$query"
  curl -sS -H "Authorization: Bearer $token" "$url/v1/aggregates?$query" | python3 scripts/show-aggregates.py
}
show "UNHCR (sdc, threshold 5)" "$unhcr" "ref_date=2015-06-30&by=pop_type,coo&pop_type=REF,ASY,STA"
show "IOM (sdc, threshold 5)" "$iom" "ref_date=2015-06-30&by=pop_type,sex,age&pop_type=MIG"
show "IOM asking for refugees, which Kazakhstan did not grant it" "$iom" "ref_date=2015-06-30&by=pop_type&pop_type=REF"

echo
echo "The demo gateway is running at $url (log: demo/server.log)."
echo "Tokens are in demo/tokens.env. Try:"
echo "  source demo/tokens.env; curl -H \"Authorization: Bearer \$unhcr\" \"$url/v1/aggregates?ref_date=2015-06-30&by=pop_type,sex&pop_type=REF\""
echo "Stop it with: scripts/demo.sh stop"
