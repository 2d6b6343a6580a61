#!/usr/bin/env bash
# Installs every Debian package cloak needs to build, test, fuzz and benchmark.
# Idempotent: packages already present are skipped; apt-get update runs only when needed.
# Usage: scripts/install-deps.sh [--bench]   (as root, or with sudo available)
set -euo pipefail

PKGS=(
  build-essential pkg-config cmake ninja-build clang-14 libclang-rt-14-dev
  libssl-dev openssl libjansson-dev libcmocka-dev libevent-dev
  libarchive-dev libsqlite3-dev libcbor-dev
  curl python3 ca-certificates procps
)
if [ "${1:-}" = "--bench" ]; then
  PKGS+=(nginx wrk hyperfine haproxy)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
