#!/usr/bin/env bash
# S3 throughput and overhead, against a real s3rver on loopback:
# 1. a SIZE_MB object uploaded and downloaded by vidgate's S3 client
#    (build/bench/s3_cp) and by `aws s3 cp` (Debian's awscli, its defaults),
#    turn by turn, ROUNDS times: medians, and the median of the per-round
#    ratios (aws time / vidgate time: above 1, vidgate is faster);
# 2. VIDEOS tiny clips through one `vidgate run --until-idle` on file:// and
#    on s3:// (catalog in SQLite both times): wall time per video.
#   bench/s3.sh [SIZE_MB] [ROUNDS] [VIDEOS]
# Needs `make build` and `scripts/install-deps.sh bench` (s3rver, awscli).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb="${1:-300}"
rounds="${2:-5}"
videos="${3:-100}"
aws_cli=/usr/bin/aws  # Debian's, not one earlier in PATH
bin="$PWD/build/vidgate"
s3_cp="$PWD/build/bench/s3_cp"
work="$(mktemp -d /tmp/vidgate-s3bench-XXXXXX)"
mkdir -p "$work/s3"
node --openssl-legacy-provider tests/s3rver/node_modules/s3rver/bin/s3rver.js \
  -d "$work/s3" -a 127.0.0.1 -p 0 --silent --configure-bucket bench >"$work/s3rver.log" 2>&1 &
s3rver=$!
cleanup() {
  local rc=$?
  kill "$s3rver" 2>/dev/null || true
  wait "$s3rver" 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
port=""
for _ in $(seq 1 300); do
  port="$(grep -oP 'listening on 127\.0\.0\.1:\K[0-9]+' "$work/s3rver.log" || true)"
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || { echo "s3rver did not start: $(cat "$work/s3rver.log")" >&2; exit 1; }
endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

# Seconds COMMAND takes (its output thrown away; a failure stops the bench).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/last.log" 2>&1 || { echo "failed: $* $(cat "$work/last.log")" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

head -c "$((size_mb << 20))" /dev/urandom >"$work/big.bin"
aws_s3() { "$aws_cli" --endpoint-url "$endpoint" s3 cp --quiet "$@"; }
: >"$work/up"; : >"$work/down"
for _ in $(seq 1 "$rounds"); do
  vu=$(seconds "$s3_cp" "$endpoint" bench up "$work/big.bin" vg/big.bin)
  au=$(seconds aws_s3 "$work/big.bin" s3://bench/aws/big.bin)
  vd=$(seconds "$s3_cp" "$endpoint" bench down vg/big.bin "$work/vg.bin")
  ad=$(seconds aws_s3 s3://bench/aws/big.bin "$work/aws.bin")
  cmp -s "$work/big.bin" "$work/vg.bin" || { echo "vidgate's download differs" >&2; exit 1; }
  cmp -s "$work/big.bin" "$work/aws.bin" || { echo "aws's download differs" >&2; exit 1; }
  echo "$vu $au" >>"$work/up"
  echo "$vd $ad" >>"$work/down"
done
printf '%-9s %6s %8s %10s %8s %10s %14s\n' transfer MiB vidgate_s vidgate_MB/s aws_s aws_MB/s ratio_aws/vg
for op in up down; do
  v=$(cut -d' ' -f1 "$work/$op" | median)
  a=$(cut -d' ' -f2 "$work/$op" | median)
  r=$(awk '{ print $2 / $1 }' "$work/$op" | median)
  awk -v op="$op" -v n="$size_mb" -v v="$v" -v a="$a" -v r="$r" 'BEGIN {
    printf "%-9s %6d %8.2f %10.0f %8.2f %10.0f %14.2f\n", op, n, v, n * 1.048576 / v, a, n * 1.048576 / a, r }'
done

# Per-video cost of the pipeline on file:// and on s3://.
ffmpeg -v error -f lavfi -i testsrc2=size=160x90:rate=25:duration=0.4 \
  -f lavfi -i sine=duration=0.4 -c:v libx264 -preset ultrafast -c:a aac -shortest "$work/tiny.mp4"
mkdir -p "$work/drop"
for i in $(seq 1 "$videos"); do
  cp "$work/tiny.mp4" "$work/drop/v$i.mp4"
  echo '{"title":"bench"}' >"$work/drop/v$i.json"
done
printf '%-6s %6s %8s %12s\n' store videos wall_s ms_per_video
for store in file s3; do
  run="$work/run-$store"
  mkdir -p "$run"
  if [[ "$store" == file ]]; then
    url="file://$run/data"
    mkdir -p "$run/data/uploads"
    # Sidecars first, each video whole before it appears.
    cp "$work/drop/"*.json "$run/data/uploads/"
    for f in "$work/drop/"*.mp4; do cp "$f" "$run/data/uploads/.tmp" && mv "$run/data/uploads/.tmp" "$run/data/uploads/${f##*/}"; done
    extra=""
  else
    url="s3://bench/pipeline"
    "$aws_cli" --endpoint-url "$endpoint" s3 cp --quiet --recursive "$work/drop" s3://bench/pipeline/uploads/
    extra="endpoint = \"$endpoint\""
  fi
  cat >"$run/vidgate.toml" <<TOML
[storage]
url = "$url"
settle_seconds = 0
$extra
[database]
url = "sqlite://$run/vidgate.db"
[intake]
poll_seconds = 0.05
TOML
  (cd "$run" && "$bin" migrate >/dev/null)
  wall=$(cd "$run" && seconds "$bin" run --until-idle --no-server)
  processed=$(cd "$run" && "$bin" list --state processed --json | grep -c '"id"')
  [[ "$processed" -eq "$videos" ]] || { echo "$store: $processed of $videos processed" >&2; exit 1; }
  awk -v s="$store" -v n="$videos" -v w="$wall" 'BEGIN { printf "%-6s %6d %8.2f %12.1f\n", s, n, w, w * 1000 / n }'
done
