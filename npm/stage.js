#!/usr/bin/env node
// Stages the npm packages for publishing or `npm pack`: the main package (bin shims, with its version
// and one optionalDependency per platform package, all from lib/platforms.js) and, when given built
// binaries, the binary package of one platform. Called by scripts/dist.sh; nothing here is published.
//
//   node npm/stage.js --version 0.1.0 --out dist/npm [--platform linux-x64 --bins target/release]
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { PLATFORMS, MAIN_PACKAGE, packageName, exeName } = require("./opentrain-mcp/lib/platforms");

const COMMANDS = ["opentrain-mcp", "opentrain"];
const ROOT = path.join(__dirname, "..");
// What every package carries besides its own files: the user-facing README and the licences.
const DOCS = [path.join(ROOT, "crates", "opentrain-bins", "README.md"), path.join(ROOT, "LICENSE-MIT"), path.join(ROOT, "LICENSE-APACHE")];

function copyDocs(dir) {
  for (const file of DOCS) fs.copyFileSync(file, path.join(dir, path.basename(file)));
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes `out/opentrain-mcp/` and returns its directory. */
function stageMain(version, out) {
  const src = path.join(__dirname, "opentrain-mcp");
  const dir = path.join(out, MAIN_PACKAGE);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const sub of ["bin", "lib"]) fs.cpSync(path.join(src, sub), path.join(dir, sub), { recursive: true });
  copyDocs(dir);
  const manifest = readJson(path.join(src, "package.json"));
  manifest.version = version;
  // Exactly this version: a shim must never run another release's binary.
  manifest.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((k) => [packageName(k), version]));
  writeJson(path.join(dir, "package.json"), manifest);
  return dir;
}

/** Writes `out/opentrain-mcp-<key>/` with the binaries from `bins` and returns its directory. */
function stagePlatform(version, out, key, bins) {
  const spec = PLATFORMS[key];
  if (!spec) throw new Error(`unknown platform ${key}; known: ${Object.keys(PLATFORMS).join(", ")}`);
  const dir = path.join(out, packageName(key));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  for (const command of COMMANDS) {
    const file = exeName(command, spec.os);
    fs.copyFileSync(path.join(bins, file), path.join(dir, "bin", file));
    fs.chmodSync(path.join(dir, "bin", file), 0o755);
  }
  copyDocs(dir);
  const manifest = readJson(path.join(__dirname, "platform", "package.json"));
  manifest.name = packageName(key);
  manifest.version = version;
  // npm installs only the package whose os/cpu (and libc, where npm knows it) match the machine.
  manifest.os = [spec.os];
  manifest.cpu = [spec.cpu];
  if (spec.libc) manifest.libc = [spec.libc];
  writeJson(path.join(dir, "package.json"), manifest);
  return dir;
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (!["--version", "--out", "--platform", "--bins"].includes(flag) || i + 1 >= argv.length) {
      throw new Error(`usage: stage.js --version V --out DIR [--platform KEY --bins DIR] (bad: ${flag})`);
    }
    args[flag.slice(2)] = argv[i + 1];
  }
  if (!args.version || !args.out) throw new Error("--version and --out are required");
  if (Boolean(args.platform) !== Boolean(args.bins)) throw new Error("--platform and --bins go together");
  return args;
}

if (require.main === module) {
  try {
    const args = parseArgs(process.argv.slice(2));
    console.log(stageMain(args.version, args.out));
    if (args.platform) console.log(stagePlatform(args.version, args.out, args.platform, args.bins));
  } catch (e) {
    process.stderr.write(`stage.js: ${e.message}\n`);
    process.exit(2);
  }
}

module.exports = { stageMain, stagePlatform, COMMANDS };
