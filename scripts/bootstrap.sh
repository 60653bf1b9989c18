#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages that building and testing the gateway need.
# Quick no-op when everything is present; runs `apt-get update` only when it must install.
set -euo pipefail

packages=(
  build-essential   # g++ 12, make
  cmake             # >= 3.25
  pkg-config
  libboost-dev      # Asio, Beast (header-only in 1.74)
  libsodium-dev     # Ed25519, BLAKE2b, ChaCha20, SHA-2
  libsqlite3-dev
  sqlite3           # the CLI, used by the benchmark's baseline
  catch2            # 2.13
  nlohmann-json3-dev
  libtomlplusplus-dev
  libexpat1-dev
  libicu-dev
  iso-codes         # source of schemas/codelists (scripts/gen-codelists.py)
  python3           # tests' helper scripts and code-list generation
  curl              # demo script
)
if [[ ${GATEWAY_BOOTSTRAP_EXTRA:-} != "" ]]; then
  read -r -a extra <<<"$GATEWAY_BOOTSTRAP_EXTRA"
  packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "bootstrap: run as root or install sudo" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
