#!/usr/bin/env bash
# Installs what vidgate needs to build, run and test, from Debian's packages.
# Idempotent and quiet when everything is present. Usage: install-deps.sh [run|test]
set -euo pipefail

mode="${1:-run}"
packages=(
  build-essential cmake ninja-build pkg-config ccache
  libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev
  libebur128-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libssl-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libcpp-httplib-dev
)
if [[ "$mode" == "test" ]]; then
  # ffmpeg/ffprobe CLIs only make fixtures and serve as the reference in tests;
  # vidgate itself never shells out to them.
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev ffmpeg postgresql)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
