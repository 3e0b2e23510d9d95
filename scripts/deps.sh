#!/bin/bash
# Install the Debian 12 packages needed to build and test libevidence.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  zlib1g-dev libzip-dev libjansson-dev libunistring-dev libexif-dev libexpat1-dev libmagic-dev libssl-dev libdeflate-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavfilter-dev libswresample-dev
  libavfilter8   # loaded at run time (dlopen) for audio conversion, not linked: docs/dependencies.md
  libcmocka-dev
  ffmpeg libimage-exiftool-perl openssl zip unzip python3 file bc time jq
  chromium poppler-utils fonts-dejavu-core
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
