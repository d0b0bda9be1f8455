// build.js: assemble dist/ from src/ and the Flex SDK's browser bundle.
// Node built-ins only, so `npm ci && npm run build` works offline in CI.
"use strict";
const fs = require("fs");
const path = require("path");

const root = __dirname;
const dist = path.join(root, "dist");
// The package's "exports" hide package.json, so it is read from disk.
const sdkDir = path.join(root, "node_modules", "@twilio", "flex-sdk");
const sdkVersion = JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8")).version;

if (!/^3\./.test(sdkVersion)) {
  throw new Error(`@twilio/flex-sdk ${sdkVersion}: this example is written for 3.x`);
}

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, "vendor", "flex-sdk"), { recursive: true });
for (const f of ["index.html", "app.js"]) {
  fs.copyFileSync(path.join(root, "src", f), path.join(dist, f));
}
// The browser bundle defines window.FlexSdk; it loads its numbered chunks
// from its own directory, so they are copied next to it.
for (const f of fs.readdirSync(sdkDir)) {
  if (f.endsWith(".browser.js")) {
    fs.copyFileSync(path.join(sdkDir, f), path.join(dist, "vendor", "flex-sdk", f));
  }
}
fs.copyFileSync(path.join(sdkDir, "LICENSE"), path.join(dist, "vendor", "flex-sdk", "LICENSE"));
console.log(`built ${path.relative(process.cwd(), dist)} with @twilio/flex-sdk ${sdkVersion}`);
