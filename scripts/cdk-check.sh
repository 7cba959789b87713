#!/usr/bin/env bash
# Checks the AWS stack (deploy/aws) with no AWS account: compiles it, runs
# its assertion tests (both compute modes, cdk-nag's AwsSolutions rules), and
# synthesizes it with the CDK CLI as a user would, in both modes.
# Usage: cdk-check.sh [OUTDIR]   (synthesized templates go there)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d)}"
cd "$root/deploy/aws"
# The CLI and the libraries stay offline: no notices, no telemetry.
export CDK_DISABLE_CLI_TELEMETRY=true
npx tsc
node --test dist/test/*.test.js
for compute in ecs lambda; do
  npx cdk synth --quiet --no-notices --output "$out/$compute" -c compute="$compute" >/dev/null
  test -s "$out/$compute/Vidgate.template.json"
done
echo "cdk-check: the stack synthesizes in both compute modes; templates in $out"
