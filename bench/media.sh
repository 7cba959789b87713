#!/usr/bin/env bash
# Media engine vs the ffmpeg CLI, side by side in one run, median of RUNS:
#   A  vidgate qc              vs  ffmpeg -i IN -f null -  (bare decode)
#   B  vidgate qc              vs  ffmpeg with blackdetect,freezedetect,signalstats,idet
#                                  and silencedetect,ebur128=peak=true
#   C  vidgate run (QC + main rendition + thumbnails, one pass)
#                              vs  ffmpeg transcoding with the same encoder settings
#   D  vidgate run with a 1080p/720p/480p H.264 ladder (+ QC, thumbnails)
#                              vs  ffmpeg encoding the same ladder from one decode (split)
# and the peak RSS of each. Usage: bench/media.sh [SECONDS] [RUNS]
# Needs build/vidgate (make build), ffmpeg and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
runs="${2:-3}"
bin="$PWD/build/vidgate"
work="$(mktemp -d /tmp/vidgate-mediabench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
in="$work/in.mp4"
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$seconds" \
  -f lavfi -i "sine=frequency=440:duration=$seconds" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$in"

# One run of "$@": prints "wall_seconds peak_rss_kib".
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
    cat "$work/err" >&2
    return 1
  }
  cat "$work/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Seconds from "-> processing" to "processing ->" in a vidgate log.
attempt_span() {
  awk '/-> processing/ { s = $1 } /processing ->/ { e = $1 }
    function secs(t) { split(substr(t, 12, 12), p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    END { printf "%.2f\n", secs(e) - secs(s) }' "$1"
}

# vidgate run --until-idle on one upload; "$1" is extra TOML.
run_vidgate() {
  rm -rf "$work/store"
  mkdir -p "$work/store/uploads"
  ln "$in" "$work/store/uploads/clip.mp4"
  echo '{"title":"bench"}' > "$work/store/uploads/clip.json"
  printf '[storage]\nurl = "file://%s/store"\nsettle_seconds = 0\n[intake]\npoll_seconds = 0.05\n[workers]\ncount = 1\n%s\n' \
    "$work" "${1:-}" > "$work/vidgate.toml"
  (cd "$work" && "$bin" run --until-idle)
}
full_vidgate() { run_vidgate; }
ladder_vidgate() {
  local r=""
  for h in 1080 720 480; do
    r+=$'[[output.rendition]]\n'"name = \"${h}p\""$'\n'"height = $h"$'\n'
  done
  run_vidgate "$r"
}
export -f run_vidgate full_vidgate ladder_vidgate
export work in bin

declare -A cmds=(
  [qc]="$bin qc $in"
  [decode]="ffmpeg -v error -threads 0 -i $in -f null -"
  [filters]="ffmpeg -v error -threads 0 -i $in -vf blackdetect,freezedetect,signalstats,idet -af silencedetect,ebur128=peak=true -f null -"
  [full]="bash -c full_vidgate"
  [transcode]="ffmpeg -v error -y -threads 0 -i $in -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart $work/out.mp4"
  [ladder]="bash -c ladder_vidgate"
  [ffladder]="ffmpeg -v error -y -threads 0 -i $in -filter_complex [0:v]split=3[a][b][c];[b]scale=-2:720[b2];[c]scale=-2:480[c2] -map [a] -map 0:a -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart $work/o1080.mp4 -map [b2] -map 0:a -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart $work/o720.mp4 -map [c2] -map 0:a -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart $work/o480.mp4"
)
order=(qc decode filters full transcode ladder ffladder)
for name in "${order[@]}"; do : > "$work/$name.wall"; : > "$work/$name.rss"; done
: > "$work/attempt.wall"
for _ in $(seq 1 "$runs"); do  # interleaved, so drift hits every command alike
  for name in "${order[@]}"; do
    read -r wall rss < <(measure ${cmds[$name]})
    echo "$wall" >> "$work/$name.wall"
    echo "$rss" >> "$work/$name.rss"
    # The attempt alone (claim to filed, from the log), without start-up,
    # intake and the --until-idle check.
    if [ "$name" = full ]; then attempt_span "$work/err" >> "$work/attempt.wall"; fi
  done
done
printf '%-10s %10s %12s\n' command median_s peak_rss_MiB
for name in "${order[@]}"; do
  printf '%-10s %10s %12s\n' "$name" "$(median < "$work/$name.wall")" \
    "$(awk '{ m = $1 > m ? $1 : m } END { printf "%.0f", m / 1024 }' "$work/$name.rss")"
done
printf '%-10s %10s\n' attempt "$(median < "$work/attempt.wall")"
w() { median < "$work/$1.wall"; }
awk -v q="$(w qc)" -v d="$(w decode)" -v f="$(w filters)" -v full="$(w full)" -v t="$(w transcode)" \
  -v a="$(w attempt)" \
  -v l="$(w ladder)" -v fl="$(w ffladder)" 'BEGIN {
  printf "A  qc / bare decode        = %.2fx (target <= 1.25)\n", q / d
  printf "B  filter chain / qc       = %.2fx faster (target >= 3)\n", f / q
  printf "C  full / ffmpeg transcode = %.2fx (target <= 1.10)\n", full / t
  printf "C2 attempt / ffmpeg        = %.2fx (the attempt alone, from the log)\n", a / t
  printf "D  ladder / ffmpeg ladder  = %.2fx\n", l / fl
}'
