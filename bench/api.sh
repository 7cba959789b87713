#!/usr/bin/env bash
# The HTTP API under load, and what serving costs the workers.
#   bench/api.sh [VIDEOS] [REQUESTS] [CONCURRENCY] [PIPELINE_VIDEOS]
# 1. A catalog of VIDEOS filed videos (SQLite; bench/fill_catalog), served by
#    one `vidgate run`; ApacheBench (ab) sends REQUESTS requests, CONCURRENCY
#    at a time, to each route: requests/s, p50 and p99 in ms, failures.
# 2. PIPELINE_VIDEOS tiny clips through `vidgate run --until-idle` (2
#    workers), alone and then read all along by four dashboards (the list
#    and the stats each second, an event stream) and a Prometheus scrape
#    each second: jobs/s of each and their ratio.
# Needs build/vidgate, build/bench/fill_catalog (make build), ab
# (apache2-utils: make bench-deps) and ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
videos="${1:-10000}"
requests="${2:-2000}"
concurrency="${3:-8}"
pipeline_videos="${4:-1000}"
bin="$PWD/build/vidgate"
fill="$PWD/build/bench/fill_catalog"
work="$(mktemp -d /tmp/vidgate-api-bench-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "vidgate did not get ready on port $1" >&2
  return 1
}

# 1. Requests per second and latency of the read routes.
mkdir -p "$work/served/data"
"$fill" "sqlite://$work/served/data/vidgate.db" "$videos" >/dev/null
port=$(free_port)
cat > "$work/served/vidgate.toml" <<TOML
[storage]
url = "file://$work/served/data"
[workers]
count = 1
[server]
listen = "127.0.0.1:$port"
TOML
(cd "$work/served" && exec "$bin" run 2>"$work/served.log") & pids+=($!)
wait_ready "$port"
id=$(curl -sf "http://127.0.0.1:$port/api/videos?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["videos"][0]["id"])')
printf '%-34s %8s %9s %8s %8s %7s\n' route videos req/s p50_ms p99_ms failed
for route in "/api/videos" "/api/videos?limit=200" "/api/videos?q=number%2077" "/api/videos/$id" \
             "/api/stats" "/metrics"; do
  out="$(ab -q -n "$requests" -c "$concurrency" "http://127.0.0.1:$port$route" 2>&1)"
  rps=$(awk '/^Requests per second/ {print $4}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  failed=$(awk '/^Failed requests/ {print $3}' <<< "$out")
  non2xx=$(awk '/^Non-2xx responses/ {print $3}' <<< "$out")
  printf '%-34s %8s %9s %8s %8s %7s\n' "${route/$id/ID}" "$videos" "$rps" "$p50" "$p99" \
    "$((failed + ${non2xx:-0}))"
done
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

# 2. The workers' throughput, with and without clients reading the API.
ffmpeg -v error -f lavfi -i testsrc2=size=160x90:rate=25:duration=0.4 \
  -f lavfi -i sine=duration=0.4 -c:v libx264 -preset ultrafast -c:a aac -shortest "$work/tiny.mp4"
printf '\n%-22s %7s %8s\n' pipeline videos jobs/s
declare -A rate
for mode in alone polled; do
  run="$work/$mode"
  mkdir -p "$run/data/uploads"
  port=$(free_port)
  cat > "$run/vidgate.toml" <<TOML
[storage]
url = "file://$run/data"
settle_seconds = 0
[intake]
poll_seconds = 0.05
[workers]
count = 2
[server]
listen = "127.0.0.1:$port"
TOML
  (cd "$run" && "$bin" migrate >/dev/null)
  for i in $(seq 1 "$pipeline_videos"); do
    echo '{"title":"bench"}' > "$run/data/uploads/v$i.json"
    cp "$work/tiny.mp4" "$run/data/uploads/.v$i.mp4" && mv "$run/data/uploads/.v$i.mp4" "$run/data/uploads/v$i.mp4"
  done
  start=$(date +%s.%N)
  (cd "$run" && exec "$bin" run --until-idle 2>/dev/null) & runner=$!
  wait_ready "$port"
  if [[ "$mode" == polled ]]; then
    # Four dashboards left open (each: the list and the stats every second,
    # and the event stream) and Prometheus scraping every second.
    for _ in 1 2 3 4; do
      curl -sN "http://127.0.0.1:$port/api/events" >/dev/null 2>&1 & pids+=($!)
    done
    (while kill -0 "$runner" 2>/dev/null; do
       for _ in 1 2 3 4; do
         curl -s "http://127.0.0.1:$port/api/videos" "http://127.0.0.1:$port/api/stats" \
           -o /dev/null -o /dev/null || true
       done
       curl -s "http://127.0.0.1:$port/metrics" -o /dev/null || true
       sleep 1
     done) & pids+=($!)
  fi
  wait "$runner"
  end=$(date +%s.%N)
  processed=$(cd "$run" && "$bin" list --state processed --json | grep -c '"id"')
  rate[$mode]=$(awk -v n="$processed" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }')
  printf '%-22s %7s %8s\n' "$mode" "$processed" "${rate[$mode]}"
done
awk -v a="${rate[alone]}" -v p="${rate[polled]}" 'BEGIN { printf "polled / alone: %.2f\n", p / a }'
