#!/usr/bin/env bash
# Pipeline throughput: N tiny videos through P `vidgate run --until-idle`
# processes (2 worker threads each) on SQLite or PostgreSQL; prints jobs per
# second and the p50/p99 time from registration to `processed`.
#   bench/pipeline.sh [VIDEOS] [sqlite|postgres] [PROCESSES...]
# WORKERS (default 2) sets the worker threads per process.
# Needs build/vidgate (make build), ffmpeg (fixture) and, for postgres,
# scripts/pg-test-server.sh's PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
videos="${1:-300}"
backend="${2:-sqlite}"
shift 2 || true
procs=("${@:-1 2 4 8}")
[[ ${#procs[@]} -eq 1 ]] && read -r -a procs <<< "${procs[0]}"
bin="$PWD/build/vidgate"
work="$(mktemp -d /tmp/vidgate-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT

ffmpeg -v error -f lavfi -i testsrc2=size=160x90:rate=25:duration=0.4 \
  -f lavfi -i sine=duration=0.4 -c:v libx264 -preset ultrafast -c:a aac -shortest "$work/tiny.mp4"

pg_state="$work/pg.state"
if [[ "$backend" == "postgres" ]]; then
  scripts/pg-test-server.sh start "$pg_state"
  trap 'scripts/pg-test-server.sh stop "$pg_state"; rm -rf "$work"' EXIT
fi

printf '%-9s %-10s %6s %10s %9s %9s\n' backend processes videos jobs/s p50_ms p99_ms
for p in "${procs[@]}"; do
  run="$work/run-$p"
  mkdir -p "$run/data/uploads"
  db=""
  if [[ "$backend" == "postgres" ]]; then
    base="$(sed -n 1p "$pg_state")"
    psql -q "$base" -c "CREATE DATABASE bench_$p" >/dev/null
    db="[database]
url = \"${base%/*}/bench_$p\""
  fi
  cat > "$run/vidgate.toml" <<TOML
[storage]
url = "file://$run/data"
settle_seconds = 0
$db
[intake]
poll_seconds = 0.05
[workers]
count = ${WORKERS:-2}
TOML
  (cd "$run" && "$bin" migrate >/dev/null)
  for i in $(seq 1 "$videos"); do
    echo '{"title":"bench"}' > "$run/data/uploads/v$i.json"
    cp "$work/tiny.mp4" "$run/data/uploads/.v$i.mp4" && mv "$run/data/uploads/.v$i.mp4" "$run/data/uploads/v$i.mp4"
  done
  start=$(date +%s.%N)
  pids=()
  for _ in $(seq 1 "$p"); do
    (cd "$run" && "$bin" run --until-idle --no-server 2>/dev/null) & pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s.%N)
  # Registration-to-processed times from the catalog.
  lat="$(cd "$run" && "$bin" list --state processed --json |
    grep -E '"(created|updated)_at"' | cut -d'"' -f4 | paste - - |
    while read -r c u; do
      awk -v a="$(date -d "$u" +%s.%N)" -v b="$(date -d "$c" +%s.%N)" 'BEGIN { print a - b }'
    done | sort -n)"
  n=$(echo "$lat" | wc -l)
  p50=$(echo "$lat" | sed -n "$(( (n + 1) / 2 ))p")
  p99=$(echo "$lat" | sed -n "$(( (n * 99 + 99) / 100 ))p")
  processed=$(cd "$run" && "$bin" list --state processed --json | grep -c '"id"')
  awk -v b="$backend" -v p="$p" -v n="$processed" -v s="$start" -v e="$end" -v p50="$p50" -v p99="$p99" \
    'BEGIN { printf "%-9s %-10s %6s %10.1f %9.0f %9.0f\n", b, p, n, n / (e - s), p50 * 1000, p99 * 1000 }' 
done
