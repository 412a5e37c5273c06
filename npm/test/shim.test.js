// The npm shim's choices a user notices: which binary it runs, what it says when it cannot, and that
// the staged packages pin each other to one version. Run: node --test npm/test/
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { locate } = require("../opentrain-mcp/lib/run");
const { PLATFORMS, packageName } = require("../opentrain-mcp/lib/platforms");
const { stageMain, stagePlatform } = require("../stage");

// A fake require.resolve: only the listed packages are "installed", under /nm.
function installed(...names) {
  return (request) => {
    const name = request.replace(/\/package\.json$/, "");
    if (names.includes(name)) return path.join("/nm", name, "package.json");
    const e = new Error(`Cannot find module '${request}'`);
    e.code = "MODULE_NOT_FOUND";
    throw e;
  };
}

test("runs the binary from the platform package npm installed", () => {
  const found = locate("opentrain-mcp", "linux", "x64", installed("opentrain-mcp-linux-x64"));
  assert.equal(found, path.join("/nm", "opentrain-mcp-linux-x64", "bin", "opentrain-mcp"));
});

test("adds .exe on Windows", () => {
  const found = locate("opentrain", "win32", "x64", installed("opentrain-mcp-win32-x64"));
  assert.equal(found, path.join("/nm", "opentrain-mcp-win32-x64", "bin", "opentrain.exe"));
});

test("an unsupported platform names the ones built and the source install", () => {
  const found = locate("opentrain-mcp", "freebsd", "x64", installed());
  assert.ok(found instanceof Error);
  assert.match(found.message, /no prebuilt binary for freebsd-x64/);
  assert.match(found.message, /linux-x64/);
  assert.match(found.message, /cargo install --locked/);
});

test("a skipped optional dependency names the missing package", () => {
  const found = locate("opentrain-mcp", "darwin", "arm64", installed("opentrain-mcp-linux-x64"));
  assert.ok(found instanceof Error);
  assert.match(found.message, /opentrain-mcp-darwin-arm64 is not installed/);
});

test("the staged main package depends on every platform package at its own version", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "stage-"));
  const dir = stageMain("1.2.3", out);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  assert.equal(manifest.version, "1.2.3");
  const expected = Object.fromEntries(Object.keys(PLATFORMS).map((k) => [packageName(k), "1.2.3"]));
  assert.deepEqual(manifest.optionalDependencies, expected);
  assert.deepEqual(Object.keys(manifest.bin).sort(), ["opentrain", "opentrain-mcp"]);
  for (const file of Object.values(manifest.bin)) assert.ok(fs.existsSync(path.join(dir, file)), file);
  fs.rmSync(out, { recursive: true, force: true });
});

test("a staged platform package installs only on its OS and CPU and carries both binaries", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "stage-"));
  const bins = path.join(out, "bins");
  fs.mkdirSync(bins);
  for (const f of ["opentrain-mcp.exe", "opentrain.exe"]) fs.writeFileSync(path.join(bins, f), "MZ");
  const dir = stagePlatform("1.2.3", out, "win32-x64", bins);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  assert.equal(manifest.name, "opentrain-mcp-win32-x64");
  assert.deepEqual([manifest.os, manifest.cpu], [["win32"], ["x64"]]);
  assert.ok(fs.existsSync(path.join(dir, "bin", "opentrain-mcp.exe")));
  assert.throws(() => stagePlatform("1.2.3", out, "plan9-x64", bins), /unknown platform plan9-x64/);
  fs.rmSync(out, { recursive: true, force: true });
});

test("the release workflow builds every platform the shim can pick", () => {
  const workflow = fs.readFileSync(path.join(__dirname, "..", "..", ".github", "workflows", "release.yml"), "utf8");
  for (const [key, spec] of Object.entries(PLATFORMS)) {
    assert.ok(workflow.includes(`target: ${spec.target}`), `release.yml has no build for ${key} (${spec.target})`);
    assert.ok(workflow.includes(`npm: ${key}`), `release.yml does not stage ${packageName(key)}`);
  }
});
