#!/usr/bin/env bash
# The demo: installs what is missing, builds, creates a demo deployment under demo/,
# starts the server in the background on a free loopback port, pushes the sample register
# of each of the five countries as its ministry would (signed, pseudonymised at source),
# and prints what UNHCR and IOM see.
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
cp config/policies/demo.toml "$demo/gw/policies/demo.toml"
printf 'unhcr=%s\niom=%s\nsecretariat=%s\n' "$unhcr" "$iom" "$operator" >"$demo/tokens.env"
chmod 600 "$demo/tokens.env"

# Each ministry makes its own key pair; the secretariat registers the public halves.
mkdir -p "$demo/ministries"
for cc in KAZ KGZ TJK TKM UZB; do
  "$gw" keygen --out "$demo/ministries/$cc" >/dev/null 2>&1
  "$gw" country add "$cc" --dir "$demo/gw" --pubkey "$demo/ministries/$cc.pub" >/dev/null 2>&1
done

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

push() {  # push CC DATE PROFILE FILE [--partial]
  local cc=$1 date=$2 profile=$3 file=$4
  shift 4
  set +e
  "$gw" push --url "$url" --key "$demo/ministries/$cc.key" --country "$cc" --ref-date "$date" \
    --profile "$profile" "$@" "$file" >"$demo/receipt-$cc.json" 2>"$demo/push-$cc.log"
  local rc=$?
  set -e
  echo "   $cc ($profile, $date): exit $rc, $(python3 scripts/show-receipt.py "$demo/receipt-$cc.json")"
}

echo "== The five ministries push their registers (signed, pseudonymised on their own machines)"
echo "   Kazakhstan first uploads strictly, then commits the valid rows with --partial:"
push KAZ 2015-06-30 kaz-1 tests/fixtures/kaz-1.csv
push KAZ 2015-06-30 kaz-1 tests/fixtures/kaz-1.csv --partial
push KGZ 2015-12-31 kgz-1 tests/fixtures/kgz-1.xml --partial
push TJK 2016-12-31 tjk-1 tests/fixtures/tjk-1.csv --partial
push TKM 2019-12-31 tkm-1 tests/fixtures/tkm-1.csv --partial
push UZB 2019-12-31 uzb-1 tests/fixtures/uzb-1.json --partial

show() {
  local who=$1 token=$2 path=$3
  echo
  echo "== $who"
  echo "   GET $path"
  curl -sS -H "Authorization: Bearer $token" "$url$path" | python3 scripts/show-aggregates.py
}
show "UNHCR: population types by country of asylum (UNHCR-style API, dp)" "$unhcr" \
  "/v1/unhcr/population?year=2015,2016,2019&coa_all=true&cf_type=ISO"
for cd in KAZ:2015-06-30 KGZ:2015-12-31 TJK:2016-12-31 TKM:2019-12-31 UZB:2019-12-31; do
  show "UNHCR: refugees by origin in ${cd%%:*} (dp, epsilon 0.5, threshold 5)" "$unhcr" \
    "/v1/aggregates?ref_date=${cd#*:}&coa=${cd%%:*}&by=coo&pop_type=REF"
done
show "UNHCR: the privacy budget left" "$unhcr" "/v1/budget"
show "IOM: labour migrants by sex and age, 2019-12-31 (sdc, threshold 5, rounding 5)" "$iom" \
  "/v1/aggregates?ref_date=2019-12-31&by=coa,sex,age&pop_type=MIG"
show "IOM asking for refugees, which no country granted it" "$iom" "/v1/aggregates?ref_date=2015-06-30&by=pop_type&pop_type=REF"

cat <<EOT

The demo gateway is running at $url (log: demo/server.log).
Web console: $url/console/ (sign in with a token from demo/tokens.env: unhcr, iom or secretariat). Try next:
  source demo/tokens.env
  curl -H "Authorization: Bearer \$unhcr" "$url/v1/aggregates?ref_date=2015-06-30&by=coa,pop_type"
  curl -H "Authorization: Bearer \$unhcr" "$url/v1/aggregates?ref_date=2015-06-30&by=pop_type&format=csv"
  curl -H "Authorization: Bearer \$unhcr" -H "Accept: application/vnd.sdmx.data+csv" "$url/v1/aggregates?ref_date=2015-06-30&by=pop_type"
  curl -H "Authorization: Bearer \$unhcr" "$url/v1/unhcr/demographics?year=2019&coa_all=true"
  curl -H "Authorization: Bearer \$unhcr" "$url/v1/budget"
  curl -H "Authorization: Bearer \$iom" "$url/v1/aggregates?ref_date=2019-12-31&by=sex,age&pop_type=MIG&totals=true"
  curl -H "Authorization: Bearer \$secretariat" "$url/v1/snapshots"
  curl -H "Authorization: Bearer \$secretariat" "$url/metrics"
  build/bin/gateway snapshots --dir demo/gw; build/bin/gateway audit verify --dir demo/gw
Stop it with: scripts/demo.sh stop
EOT
