#!/usr/bin/env bash
# The web console (/console/) in a real browser: installs what is missing (Debian's chromium,
# Node.js and npm with apt-get; playwright-core with npm, which never downloads a browser),
# starts a real gateway on a free loopback port over a fresh deployment with the sample
# registers of tests/fixtures, and drives Debian's chromium through it with
# tests/browser/console.test.mjs: a consumer builds tables (a suppressed cell, a dp cost,
# a CSV download), an operator opens snapshots, grants, budgets, the audit log and keys.
#
#   scripts/console-test.sh [BUILD_DIR]     BUILD_DIR defaults to build; the gateway is
#                                           BUILD_DIR/bin/gateway (built here if missing)
#
# Screenshots go to BUILD_DIR/console-artifacts/. Exit code 0 when every check passed. The
# server is always stopped. GW_CONSOLE_KEEP=1 keeps the temporary deployment for a look.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)

build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
gw="$build/bin/gateway"
artifacts="$build/console-artifacts"

# 1. Debian packages: checked with dpkg, installed only when missing (as scripts/bootstrap.sh).
missing=()
for p in chromium nodejs; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
# NodeSource's nodejs package carries npm itself (and conflicts with Debian's npm package).
if ! command -v npm >/dev/null; then
  status=$(dpkg-query -W -f='${Status}' npm 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=(npm)
fi
if ((${#missing[@]} > 0)); then
  echo "console-test: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "console-test: run as root or install sudo" >&2; exit 1; }
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
chromium_bin=${GW_CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium_bin ]] || { echo "console-test: $chromium_bin not found" >&2; exit 1; }

# 2. playwright-core only (no browser download; the lock file pins the version).
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(
  cd tests/browser
  want=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/playwright-core"].version)')
  have=$(node -e 'try{console.log(require("./node_modules/playwright-core/package.json").version)}catch(e){}')
  if [[ $have != "$want" ]]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null || npm install --no-audit --no-fund --loglevel=error >/dev/null
  fi
)

# 3. The gateway.
if [[ ! -x $gw ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "${GW_JOBS:-$(nproc)}" --target gateway >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gw-console-test.XXXXXX")
server_pid=""
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # Graceful stop; SIGKILL if it has not stopped within 10 s.
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -f $work/server.log ]]; then
    mkdir -p "$artifacts" && cp "$work/server.log" "$artifacts/server.log" 2>/dev/null || true
    echo "console-test: server log in $artifacts/server.log" >&2
  fi
  if [[ ${GW_CONSOLE_KEEP:-0} == 1 ]]; then echo "console-test: deployment kept in $work" >&2; else rm -rf "$work"; fi
  echo "console-test: $(( $(date +%s) - started )) s" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

d="$work/gw"
"$gw" init "$d" >/dev/null
consumer=$("$gw" consumer add unhcr --dir "$d" 2>/dev/null)
operator=$("$gw" consumer add secretariat --role operator --dir "$d" 2>/dev/null)
# Kazakhstan shares under sdc (counts below 5 suppressed: a suppressed cell for certain),
# the other four under dp (each new table costs epsilon 0.5 of a budget of 2).
{
  echo '[[grant]]'
  echo 'country = "KAZ"'
  echo 'consumer = "unhcr"'
  echo 'pop_types = ["REF", "ASY", "STA"]'
  echo 'dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]'
  echo 'mechanism = "sdc"'
  echo 'threshold = 5'
  for cc in KGZ TJK TKM UZB; do
    echo
    echo '[[grant]]'
    echo "country = \"$cc\""
    echo 'consumer = "unhcr"'
    echo 'pop_types = ["REF", "ASY", "STA"]'
    echo 'dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]'
    echo 'mechanism = "dp"'
    echo 'epsilon = 0.5'
    echo 'budget = 2.0'
    echo 'threshold = 5'
  done
} >"$d/policies/console-test.toml"
ingest() {  # CC DATE PROFILE FILE
  "$gw" ingest --dir "$d" --country "$1" --ref-date "$2" --profile "$3" --partial "$4" >/dev/null 2>"$work/ingest-$1.log" ||
    { echo "console-test: ingest of $4 failed:" >&2; cat "$work/ingest-$1.log" >&2; exit 1; }
}
ingest KAZ 2015-06-30 kaz-1 tests/fixtures/kaz-1.csv
ingest KGZ 2015-12-31 kgz-1 tests/fixtures/kgz-1.xml
ingest TJK 2016-12-31 tjk-1 tests/fixtures/tjk-1.csv
ingest TKM 2019-12-31 tkm-1 tests/fixtures/tkm-1.csv
ingest UZB 2019-12-31 uzb-1 tests/fixtures/uzb-1.json

"$gw" serve --dir "$d" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
url=""
for _ in $(seq 300); do  # up to 30 s for "listening on URL"
  url=$(sed -n 's/^listening on //p' "$work/server.out")
  [[ -n $url ]] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "console-test: the server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "console-test: the server did not print its URL within 30 s" >&2; exit 1; }

mkdir -p "$artifacts"
no_sandbox=0
[[ $(id -u) -eq 0 || ${GW_BROWSER_NO_SANDBOX:-0} == 1 ]] && no_sandbox=1
GW_URL="$url" GW_CONSUMER_TOKEN="$consumer" GW_OPERATOR_TOKEN="$operator" GW_ARTIFACTS="$artifacts" \
  GW_CHROMIUM="$chromium_bin" GW_NO_SANDBOX=$no_sandbox GW_COUNTRIES="KAZ KGZ TJK TKM UZB" \
  node tests/browser/console.test.mjs
