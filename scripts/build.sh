#!/usr/bin/env bash
# build.sh: builds the Lambda bootstraps (functions/acs, functions/metadata,
# functions/rotate) for arm64 and zips each as dist/lambda/<name>.zip, the
# assets that infra/ deploys (infra/cdk.json runs this before every synth).
#
# Usage: scripts/build.sh [name ...]   (default: acs metadata rotate)
# Env:   DIST_DIR  output folder (default: <repo>/dist/lambda)
#
# The zips are reproducible: same source and toolchain => same bytes, so the
# CDK asset hash only changes when the code does and `cdk deploy` does not
# update functions whose code did not change. That is why:
#   -trimpath, -buildvcs=false   no paths or git state in the binary
#   fixed mtime, TZ=UTC, zip -X  no build time or uid/gid in the zip
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="${DIST_DIR:-$root/dist/lambda}"
names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
	names=(acs metadata rotate)
fi

# 2000-01-01T00:00:00Z. Zip stores local DOS time (1980 is its minimum).
fixed_mtime=946684800
export TZ=UTC

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$dist"
cd "$root"
for name in "${names[@]}"; do
	if [ ! -d "functions/$name" ]; then
		echo "build.sh: functions/$name does not exist" >&2
		exit 1
	fi
	dir="$work/$name"
	mkdir -p "$dir"
	# lambda.norpc: provided.al2023 uses the Runtime API, not the Go 1.x RPC
	# shim; the tag drops that code from the binary.
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build \
		-tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w' \
		-o "$dir/bootstrap" "./functions/$name"
	chmod 0755 "$dir/bootstrap"
	touch -d "@$fixed_mtime" "$dir/bootstrap"

	tmpzip="$work/$name.zip"
	if command -v zip >/dev/null 2>&1; then
		(cd "$dir" && zip -q -X -9 "$tmpzip" bootstrap)
	else
		# Same module as `python3 -m zipfile -c`, but that stores without
		# compression and with the file's mode/mtime as found; set both.
		python3 - "$dir/bootstrap" "$tmpzip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(2000, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.create_system = 3  # Unix, so Lambda keeps the executable bit
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
	fi
	# Replace atomically: a failed build never leaves a half-written asset.
	mv -f "$tmpzip" "$dist/$name.zip"
	echo "build.sh: $dist/$name.zip"
done
