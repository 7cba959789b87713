#!/usr/bin/env bash
# Claim latency with 1, 2, 4 and 8 concurrent workers on SQLite and on a
# throwaway PostgreSQL (scripts/pg-test-server.sh). Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-2000}"
work="$(mktemp -d /tmp/vidgate-claim-XXXXXX)"
state="$work/pg.state"
scripts/pg-test-server.sh start "$state"
trap 'scripts/pg-test-server.sh stop "$state"; rm -rf "$work"' EXIT
base="$(sed -n 1p "$state")"
for t in 1 2 4 8; do
  build/bench/claim_bench "sqlite://$work/claims-$t.db" "$jobs" "$t"
done
for t in 1 2 4 8; do
  psql -q "$base" -c "CREATE DATABASE claims_$t" >/dev/null
  build/bench/claim_bench "${base%/*}/claims_$t" "$jobs" "$t"
done
