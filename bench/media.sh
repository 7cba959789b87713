#!/usr/bin/env bash
# Media engine vs the ffmpeg CLI, side by side in one run, median of RUNS:
#   A  vidgate qc              vs  ffmpeg -i IN -f null -  (bare decode)
#   B  vidgate qc              vs  ffmpeg with blackdetect,freezedetect,signalstats,idet
#                                  and silencedetect,ebur128=peak=true
#   C  vidgate run (QC + main rendition + thumbnails, one pass)
#                              vs  ffmpeg transcoding with the same encoder settings
#   D  vidgate run with a 1080p/720p/480p H.264 ladder (+ QC, thumbnails)
#                              vs  ffmpeg encoding the same ladder from one decode (split)
# and the peak RSS of each. A, C and D are medians of the ratios of the
# pairs run side by side. Usage: bench/media.sh [SECONDS] [RUNS]
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
  (cd "$work" && "$bin" run --until-idle --no-server)
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
# Each comparison is a block of its two commands: one unmeasured run of each,
# then RUNS pairs, the order swapped from pair to pair. A run is slowed by a
# few per cent by what ran just before it on this machine (after the filter
# chain, whichever command comes next is about 4 % slower), so each command
# follows the other and itself equally often, and never another block's.
# MEDIA_BENCH_ONLY="C" (any of A B C D) runs just those blocks.
declare -A blocks=([A]="qc decode" [B]="filters qc" [C]="full transcode" [D]="ladder ffladder")
selected="${MEDIA_BENCH_ONLY:-A B C D}"
order=()
for b in A B C D; do
  if [[ " $selected " == *" $b "* ]]; then
    for name in ${blocks[$b]}; do [[ " ${order[*]} " == *" $name "* ]] || order+=("$name"); done
  fi
done
for name in "${order[@]}"; do : > "$work/$name.wall"; : > "$work/$name.rss"; done
: > "$work/attempt.wall"
run_one() {  # run_one NAME [discard]
  local wall rss
  read -r wall rss < <(measure ${cmds[$1]})
  [ "${2:-}" = discard ] && return 0
  echo "$wall" >> "$work/$1.wall"
  echo "$rss" >> "$work/$1.rss"
  # The attempt alone (claim to filed, from the log), without start-up,
  # intake and the --until-idle check.
  if [ "$1" = full ]; then attempt_span "$work/err" >> "$work/attempt.wall"; fi
}
for b in A B C D; do
  [[ " $selected " == *" $b "* ]] || continue
  read -r first second <<< "${blocks[$b]}"
  # qc is measured in block A; block B only times the filter chain.
  keep_second=yes
  if [ "$b" = B ] && [[ " $selected " == *" A "* ]]; then keep_second=no; fi
  run_one "$first" discard
  run_one "$second" discard
  for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) = 1 ]; then pair=("$first" "$second"); else pair=("$second" "$first"); fi
    for name in "${pair[@]}"; do
      if [ "$name" = "$second" ] && [ "$keep_second" = no ]; then
        run_one "$name" discard
      else
        run_one "$name"
      fi
    done
  done
done
printf '%-10s %10s %8s %8s %12s\n' command median_s min_s max_s peak_rss_MiB
for name in "${order[@]}"; do
  printf '%-10s %10s %8s %8s %12s\n' "$name" "$(median < "$work/$name.wall")" \
    "$(sort -n "$work/$name.wall" | head -1)" "$(sort -n "$work/$name.wall" | tail -1)" \
    "$(awk '{ m = $1 > m ? $1 : m } END { printf "%.0f", m / 1024 }' "$work/$name.rss")"
done
[ -s "$work/attempt.wall" ] && printf '%-10s %10s\n' attempt "$(median < "$work/attempt.wall")"
w() { if [ -s "$work/$1.wall" ]; then median < "$work/$1.wall"; else echo 0; fi; }
# The median of the per-pair ratios NAME1 / NAME2 (runs side by side, so a
# drift of the machine's speed cancels), or 0 without both.
r() {
  if [ -s "$work/$1.wall" ] && [ -s "$work/$2.wall" ]; then
    paste "$work/$1.wall" "$work/$2.wall" | awk '{ printf "%.4f\n", $1 / $2 }' | median
  else echo 0; fi
}
awk -v a="$(r qc decode)" -v b="$(w filters)" -v q="$(w qc)" -v c="$(r full transcode)" \
  -v c2="$(r attempt transcode)" -v d="$(r ladder ffladder)" 'BEGIN {
  if (a > 0) printf "A  qc / bare decode        = %.2fx (target <= 1.25)\n", a
  if (b * q > 0) printf "B  filter chain / qc       = %.2fx faster (target >= 3)\n", b / q
  if (c > 0) printf "C  full / ffmpeg transcode = %.2fx (target <= 1.10)\n", c
  if (c2 > 0) printf "C2 attempt / ffmpeg        = %.2fx (the attempt alone, from the log)\n", c2
  if (d > 0) printf "D  ladder / ffmpeg ladder  = %.2fx\n", d
}'
