#!/usr/bin/env bash
# install-test-deps.sh: install what the test suite needs and is missing,
# so that scripts/test.sh works on a fresh Debian machine. Idempotent: it
# installs nothing that is already there.
#   Debian: xmlsec1 (independent XML signer, used by scripts/gen-testdata
#           and the test that re-checks the golden files), chromium (the
#           browser end-to-end test), libxml2-utils (xmllint, the
#           independent canonicalizer pkg/samlflex's c14n is compared with).
#   npm:    dynalite (DynamoDB protocol), samlify (the third-party IdP),
#           aws-cdk and Node 22 for the infra module, @twilio/flex-sdk for
#           the example agent app.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-test-deps: missing ${need[*]}; run: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# moto_server (the Python package moto[server]) is the maintained DynamoDB
# and Secrets Manager emulator the tests start through internal/awsfake/moto
# (dynamostore, rotate, smkeys). It is neither on apt nor on npm; the test
# image ships it. Without it those tests skip, except under CI=true.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "install-test-deps: moto_server is missing (Python package moto[server]); the moto tests skip, and fail with CI=true" >&2
  if [[ ${CI:-} == true ]]; then exit 1; fi
fi

for dir in scripts/dynalite test/e2e/idp infra examples/agent-app; do
  if [[ -f $dir/package-lock.json && ! -d $dir/node_modules ]]; then
    echo "install-test-deps: npm ci in $dir" >&2
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
  fi
done
