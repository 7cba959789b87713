#!/usr/bin/env bash
# What fidelity (issue 18) costs, each measured side by side in one run
# against the same run without it: RUNS pairs, the order swapped from pair
# to pair, the median of the ratios of the attempts (claim to filed, from
# the log), on SECONDS of 1080p30 test pattern with a tone.
#   tone mapping   an HDR10 (HEVC 10-bit PQ) copy of the clip tone-mapped
#                  into the default H.264 rendition, against an SDR
#                  (HEVC 8-bit BT.709) copy of the same pictures; and the
#                  ffmpeg CLI doing the same tone mapping, as the reference
#   loudness       loudness_target = -16 (a second, sound-only decode)
#                  against no target
#   quality        the default (PSNR and SSIM of every picture, the
#                  rendition decoded again) against quality_figures = false
#   sound tracks   a 1080p/720p/480p ladder with audio_tracks = "all" on a
#                  copy with 4 sound tracks (the 3 further ones encoded
#                  once, shared by the ladder) against audio_tracks = "one";
#                  and ffmpeg encoding the same ladder plus each further
#                  track once, against the ladder alone, as the reference
# Usage: bench/fidelity.sh [SECONDS] [RUNS]
# Needs build/vidgate (make build), ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
runs="${2:-5}"
bin="$PWD/build/vidgate"
work="$(mktemp -d /tmp/vidgate-fidelity-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
pattern="testsrc2=size=1920x1080:rate=30:duration=$seconds"
tone="sine=frequency=440:duration=$seconds"
ffmpeg -v error -f lavfi -i "$pattern" -f lavfi -i "$tone" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 \
  -color_trc bt709 -c:a aac -shortest "$work/sdr-h264.mp4"
ffmpeg -v error -f lavfi -i "$pattern" -f lavfi -i "$tone" \
  -vf "format=gbrpf32le,zscale=tin=709:t=smpte2084:pin=709:p=2020:m=2020_ncl:npl=400:rin=full:r=limited,format=yuv420p10le" \
  -c:v libx265 -preset ultrafast -color_primaries bt2020 -color_trc smpte2084 \
  -colorspace bt2020nc -x265-params "log-level=error:hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400" \
  -c:a aac -shortest "$work/hdr10.mp4"
ffmpeg -v error -f lavfi -i "$pattern" -f lavfi -i "$tone" \
  -c:v libx265 -preset ultrafast -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 \
  -color_trc bt709 -x265-params log-level=error -c:a aac -shortest "$work/sdr-hevc.mp4"
ffmpeg -v error -f lavfi -i "$pattern" -f lavfi -i "$tone" -f lavfi -i "sine=frequency=550:duration=$seconds" \
  -f lavfi -i "sine=frequency=660:duration=$seconds" -f lavfi -i "sine=frequency=770:duration=$seconds" \
  -map 0:v -map 1:a -map 2:a -map 3:a -map 4:a -c:v libx264 -preset veryfast -pix_fmt yuv420p \
  -c:a aac -metadata:s:a:0 language=eng -metadata:s:a:1 language=fre -metadata:s:a:2 language=ger \
  -metadata:s:a:3 language=spa -shortest "$work/four-tracks.mp4"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One `run --until-idle` of the clip $1 with extra TOML $2; prints the
# attempt's seconds.
attempt() {
  rm -rf "$work/store"
  mkdir -p "$work/store/uploads"
  ln "$1" "$work/store/uploads/clip.mp4"
  echo '{"title":"bench"}' > "$work/store/uploads/clip.json"
  printf '[storage]\nurl = "file://%s/store"\nsettle_seconds = 0\n[intake]\npoll_seconds = 0.05\n[workers]\ncount = 1\n%s\n' \
    "$work" "$2" > "$work/vidgate.toml"
  (cd "$work" && "$bin" run --until-idle --no-server 2> "$work/log")
  awk '/-> processing/ { s = $1 } /processing ->/ { e = $1 }
    function secs(t) { split(substr(t, 12, 12), p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    END { printf "%.3f\n", secs(e) - secs(s) }' "$work/log"
}

# compare NAME CLIP_WITH TOML_WITH CLIP_WITHOUT TOML_WITHOUT
compare() {
  : > "$work/with"
  : > "$work/without"
  attempt "$2" "$3" > /dev/null  # warm-up
  for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) = 1 ]; then
      attempt "$2" "$3" >> "$work/with"
      attempt "$4" "$5" >> "$work/without"
    else
      attempt "$4" "$5" >> "$work/without"
      attempt "$2" "$3" >> "$work/with"
    fi
  done
  paste "$work/with" "$work/without" | awk '{ printf "%.4f\n", $1 / $2 }' | median |
    awk -v n="$1" -v w="$(median < "$work/with")" -v wo="$(median < "$work/without")" -v r="$runs" \
      '{ printf "%-13s with %s s, without %s s (medians of %s): %.3fx\n", n, w, wo, r, $1 }'
}

echo "clips: ${seconds} s of 1080p30 with a tone"
compare "tone mapping" "$work/hdr10.mp4" "" "$work/sdr-hevc.mp4" ""
compare "loudness" "$work/sdr-h264.mp4" $'[[output.rendition]]\nname = "main"\nloudness_target = -16' \
  "$work/sdr-h264.mp4" ""
compare "quality" "$work/sdr-h264.mp4" "" "$work/sdr-h264.mp4" \
  $'[[output.rendition]]\nname = "main"\nquality_figures = false'

ladder() {
  local r=""
  for h in 1080 720 480; do
    r+=$'[[output.rendition]]\n'"name = \"${h}p\""$'\n'"height = $h"$'\n'"audio_tracks = \"$1\""$'\n'
    r+=$'quality_figures = false\n'
  done
  printf '%s' "$r"
}
compare "sound tracks" "$work/four-tracks.mp4" "$(ladder all)" "$work/four-tracks.mp4" "$(ladder one)"

# The reference for the sound tracks: ffmpeg encoding the same ladder from
# one decode, with and without each further track encoded once beside it.
ff_ladder() {
  local extra=()
  if [ "$1" = all ]; then
    for t in 2 3 4; do extra+=(-map "0:a:$((t - 1))" -c:a aac -b:a 128k "$work/ff-track$t.mp4"); done
  fi
  /usr/bin/time -f "%e" -o "$work/t" ffmpeg -v error -y -threads 0 -i "$work/four-tracks.mp4" \
    -filter_complex "[0:v]split=3[a][b][c];[b]scale=-2:720[b2];[c]scale=-2:480[c2]" \
    -map "[a]" -map 0:a:0 -c:v libx264 -preset veryfast -crf 23 -c:a aac -b:a 128k "$work/o1080.mp4" \
    -map "[b2]" -map 0:a:0 -c:v libx264 -preset veryfast -crf 23 -c:a aac -b:a 128k "$work/o720.mp4" \
    -map "[c2]" -map 0:a:0 -c:v libx264 -preset veryfast -crf 23 -c:a aac -b:a 128k "$work/o480.mp4" \
    "${extra[@]}"
  cat "$work/t"
}
: > "$work/ff-all"
: > "$work/ff-one"
for i in $(seq 1 "$runs"); do
  ff_ladder all >> "$work/ff-all"
  ff_ladder one >> "$work/ff-one"
done
paste "$work/ff-all" "$work/ff-one" | awk '{ printf "%.4f\n", $1 / $2 }' | median |
  awk -v w="$(median < "$work/ff-all")" -v wo="$(median < "$work/ff-one")" \
    '{ printf "ffmpeg sound tracks: with %s s, without %s s: %.3fx\n", w, wo, $1 }'

# The reference: ffmpeg tone-mapping the same HDR10 clip into the same
# H.264 rendition (CRF 23, veryfast), against ffmpeg transcoding the SDR
# copy the same way.
: > "$work/ff-hdr"
: > "$work/ff-sdr"
for i in $(seq 1 "$runs"); do
  /usr/bin/time -f "%e" -o "$work/t" ffmpeg -v error -y -i "$work/hdr10.mp4" \
    -vf "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p" \
    -c:v libx264 -preset veryfast -crf 23 -c:a aac "$work/ff.mp4"
  cat "$work/t" >> "$work/ff-hdr"
  /usr/bin/time -f "%e" -o "$work/t" ffmpeg -v error -y -i "$work/sdr-hevc.mp4" \
    -c:v libx264 -preset veryfast -crf 23 -c:a aac "$work/ff.mp4"
  cat "$work/t" >> "$work/ff-sdr"
done
paste "$work/ff-hdr" "$work/ff-sdr" | awk '{ printf "%.4f\n", $1 / $2 }' | median |
  awk -v w="$(median < "$work/ff-hdr")" -v wo="$(median < "$work/ff-sdr")" \
    '{ printf "ffmpeg tone mapping: with %s s, without %s s: %.3fx\n", w, wo, $1 }'
