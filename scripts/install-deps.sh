#!/usr/bin/env bash
# Installs what vidgate needs to build, run and test, from Debian's packages.
# Idempotent and quiet when everything is present.
# Usage: install-deps.sh [run|test|bench|image]  (bench: test's, and the reference tools;
# image: what make image-test needs)
set -euo pipefail

mode="${1:-run}"
packages=(
  build-essential cmake ninja-build pkg-config ccache
  libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev
  libebur128-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libssl-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libcpp-httplib-dev
  libinih-dev libpugixml-dev prometheus-cpp-dev
)
if [[ "$mode" == "test" || "$mode" == "bench" ]]; then
  # ffmpeg/ffprobe CLIs only make fixtures and serve as the reference in tests;
  # vidgate itself never shells out to them.
  # nodejs (with npm) runs the independent verifiers the tests use, from the
  # committed lockfiles (npm ci).
  # python3-botocore signs the same requests as vidgate, as an independent check.
  # prometheus brings promtool (checks /metrics and the alerting rules) and a
  # server the tests scrape vidgate with.
  # chromium runs the dashboard's browser test (driven by playwright-core).
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev ffmpeg postgresql nodejs clang
             python3-botocore prometheus chromium)
fi
if [[ "$mode" == "image" ]]; then
  # podman builds the container image (chroot isolation, no daemon);
  # debootstrap makes its debian:12 base from the Debian mirror.
  packages=(podman debootstrap)
fi
if [[ "$mode" == "bench" ]]; then
  # awscli: the yardstick for S3 transfers (bench/s3.sh).
  # apache2-utils: ab, the load for the API benchmark (bench/api.sh).
  packages+=(awscli apache2-utils)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Debian's nodejs comes without npm; other builds of nodejs bring their own.
if [[ "$mode" == "test" || "$mode" == "bench" ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests' npm packages and the AWS stack's (CDK), exactly as locked; again only when the lockfile
# changed since the last install.
if [[ "$mode" == "test" || "$mode" == "bench" ]]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for dir in "$root"/tests/webhook-verify "$root"/tests/openapi "$root"/tests/browser \
             "$root"/tests/s3rver "$root"/tests/fauxqs "$root"/web "$root"/deploy/aws; do
    stamp="$dir/node_modules/.package-lock.json"
    if [[ ! -f "$stamp" || "$dir/package-lock.json" -nt "$stamp" ]]; then
      (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null)
    fi
  done
  # s3rver 3.7.1 decodes x-amz-copy-source with decodeURI, which leaves %2B,
  # %23 and the other reserved bytes encoded: a key with '+' or '#' could not
  # be copied. AWS S3 and MinIO decode the whole header; so does this fix.
  copy="$root/tests/s3rver/node_modules/s3rver/lib/controllers/object.js"
  if grep -q "decodeURI(ctx.headers\['x-amz-copy-source'\])" "$copy"; then
    sed -i "s/decodeURI(ctx.headers\['x-amz-copy-source'\])/decodeURIComponent(ctx.headers['x-amz-copy-source'])/" "$copy"
  fi
fi
