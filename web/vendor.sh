#!/usr/bin/env bash
# Copies the browser builds of the dashboard's third-party code from
# node_modules/ (npm ci, from package-lock.json) into vendor/, which is
# committed: vidgate embeds web/ as it is, so running it needs no node.
#
#   ./vendor.sh           copy (after changing a version in package.json + npm install)
#   ./vendor.sh --check   exit 1 when a committed vendor/ file differs from node_modules'
#                         copy, or vendor/ holds a file that is not listed here
#
# The files are copied byte for byte, ES modules renamed to .js (the script
# extension the server types as text/javascript). hooks imports "preact" by
# its bare name, which index.html's import map resolves: nothing is rewritten.
set -euo pipefail

cd "$(dirname "$0")"

# vendor/NAME <- node_modules/PATH. Each is listed in assets.txt (served),
# except the licences, which are kept beside the code they cover.
files=(
  "preact.module.js:preact/dist/preact.mjs"
  "hooks.module.js:preact/hooks/dist/hooks.mjs"
  "htm.module.js:htm/dist/htm.mjs"
  "uPlot.esm.js:uplot/dist/uPlot.esm.js"
  "uPlot.min.css:uplot/dist/uPlot.min.css"
  "LICENSE.preact:preact/LICENSE"
  "LICENSE.htm:htm/LICENSE"
  "LICENSE.uplot:uplot/LICENSE"
)

check=0
if [[ "${1:-}" == "--check" ]]; then
  check=1
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--check]" >&2
  exit 2
fi

if [[ ! -d node_modules ]]; then
  echo "vendor.sh: no web/node_modules; run 'npm ci' in web/ first" >&2
  exit 2
fi

status=0
declare -A wanted=()
mkdir -p vendor
for entry in "${files[@]}"; do
  name="${entry%%:*}"
  from="node_modules/${entry#*:}"
  wanted["$name"]=1
  if [[ ! -f "$from" ]]; then
    echo "vendor.sh: $from is missing (is package-lock.json installed?)" >&2
    status=1
    continue
  fi
  if [[ $check -eq 1 ]]; then
    if ! cmp -s "$from" "vendor/$name"; then
      echo "vendor.sh: vendor/$name differs from $from (run web/vendor.sh and commit)" >&2
      status=1
    fi
  else
    cp "$from" "vendor/$name"
  fi
done

# Anything else in vendor/ is stale or hand-made.
for path in vendor/*; do
  [[ -e "$path" ]] || continue
  name="${path#vendor/}"
  if [[ -z "${wanted[$name]:-}" ]]; then
    if [[ $check -eq 1 ]]; then
      echo "vendor.sh: vendor/$name is not a vendored file" >&2
      status=1
    else
      rm -rf "$path"
    fi
  fi
done
exit $status
