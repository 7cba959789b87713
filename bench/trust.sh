#!/usr/bin/env bash
# What trust (issue 17) costs, measured side by side in one run:
#   1. `vidgate run` on the 1080p benchmark clip (QC, the main rendition,
#      thumbnails; now also the original's SHA-256 read before the pass and
#      the fingerprint taken in it), against BASE_BIN doing the same when
#      BASE_BIN names a vidgate built from before the trust work: RUNS
#      pairs, the order swapped from pair to pair, median of the ratios of
#      the attempts (claim to filed, from the log). Whatever BASE_BIN, the
#      digest read alone (sha256sum of the clip) as a share of the attempt.
#   2. bench/neardup_bench: VIDEOS filed fingerprints in a SQLite catalog
#      (filled once, then kept in build/bench-cache/: filling 100 000 takes
#      minutes), QUERIES lookups through the band index against a scan.
# Usage: [BASE_BIN=PATH] bench/trust.sh [SECONDS] [RUNS] [VIDEOS] [QUERIES]
# Needs build/vidgate and build/bench/neardup_bench (make build), ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
runs="${2:-5}"
videos="${3:-100000}"
queries="${4:-200}"
bin="$PWD/build/vidgate"
base="${BASE_BIN:-}"
work="$(mktemp -d /tmp/vidgate-trust-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
in="$work/in.mp4"
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$seconds" \
  -f lavfi -i "sine=frequency=440:duration=$seconds" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$in"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One `run --until-idle` of BINARY on the clip; prints the attempt's
# seconds (from "-> processing" to "processing ->" in its log).
attempt() {
  rm -rf "$work/store"
  mkdir -p "$work/store/uploads"
  ln "$in" "$work/store/uploads/clip.mp4"
  echo '{"title":"bench"}' > "$work/store/uploads/clip.json"
  printf '[storage]\nurl = "file://%s/store"\nsettle_seconds = 0\n[intake]\npoll_seconds = 0.05\n[workers]\ncount = 1\n' \
    "$work" > "$work/vidgate.toml"
  (cd "$work" && "$1" run --until-idle --no-server 2> "$work/log")
  awk '/-> processing/ { s = $1 } /processing ->/ { e = $1 }
    function secs(t) { split(substr(t, 12, 12), p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    END { printf "%.3f\n", secs(e) - secs(s) }' "$work/log"
}

: > "$work/now"
: > "$work/base"
attempt "$bin" > /dev/null  # warm-up
[ -n "$base" ] && attempt "$base" > /dev/null
for i in $(seq 1 "$runs"); do
  if [ -z "$base" ] || [ $((i % 2)) = 1 ]; then
    attempt "$bin" >> "$work/now"
    [ -n "$base" ] && attempt "$base" >> "$work/base"
  else
    attempt "$base" >> "$work/base"
    attempt "$bin" >> "$work/now"
  fi
done
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e" -o "$work/t" sha256sum "$in" > /dev/null
  cat "$work/t" >> "$work/sha"
done
now="$(median < "$work/now")"
echo "clip: $(stat -c %s "$in") bytes, ${seconds} s of 1080p30"
echo "attempt now:   median ${now} s of $runs"
if [ -n "$base" ]; then
  echo "attempt base:  median $(median < "$work/base") s of $runs"
  paste "$work/now" "$work/base" | awk '{ printf "%.4f\n", $1 / $2 }' | median |
    awk '{ printf "attempt now / base = %.3fx (target <= 1.03)\n", $1 }'
fi
awk -v s="$(median < "$work/sha")" -v a="$now" \
  'BEGIN { printf "sha256sum of the clip: %.3f s, %.2f %% of the attempt\n", s, 100 * s / a }'

mkdir -p build/bench-cache
"$PWD/build/bench/neardup_bench" "sqlite://$PWD/build/bench-cache/fingerprints-$videos.db" \
  "$videos" "$queries"
