#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for
# SECONDS (default 60) from its seed corpus in fuzz/corpus/ (copied, so the
# repository's corpus only grows by hand). A crash fails the run and leaves
# its input in build-fuzz/artifacts/; add it to the corpus and a regression
# test. With SEED, the inputs are the same on every run (make test passes
# one, so CI replays a sequence already known to pass instead of finding a
# new crash at random; `make fuzz` explores without one).
# Usage: scripts/fuzz.sh [SECONDS [SEED]]
set -euo pipefail
seconds="${1:-60}"
seed=()
if [[ -n "${2:-}" ]]; then seed=(-seed="$2"); fi
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIDGATE_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
cmake --build "$build" --target fuzz_all >/dev/null

declare -A corpus=([naming_fuzz]=names [metadata_fuzz]=sidecar [secrets_fuzz]=urls [captions_fuzz]=captions)
mkdir -p "$build/artifacts"
status=0
for target in "${!corpus[@]}"; do
  work="$build/corpus/$target"
  rm -rf "$work" && mkdir -p "$work"
  cp "$root/fuzz/corpus/${corpus[$target]}"/* "$work/"
  log="$build/$target.log"
  binary=$(find "$build/src" -name "$target" -type f -perm -u+x | head -n 1)
  if "$binary" "$work" "${seed[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
      >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $target: ${runs:-?} inputs in ${seconds} s, no crash"
  else
    echo "fuzz: $target FOUND A CRASH (input in $build/artifacts/, log $log):" >&2
    tail -n 30 "$log" >&2
    status=1
  fi
done
exit $status
