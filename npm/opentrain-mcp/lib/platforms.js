// The platforms the npm packages ship, keyed like Node names them (`${process.platform}-${process.arch}`):
// one binary package each (`opentrain-mcp-<key>`), built from the Rust target named here. This table is
// the one list: scripts/dist.sh reads it to fill optionalDependencies and to stage the host's package,
// and the release workflow's matrix is checked against it by test/platforms.test.js.
"use strict";

const PLATFORMS = {
  "linux-x64": { target: "x86_64-unknown-linux-gnu", os: "linux", cpu: "x64", libc: "glibc" },
  "linux-arm64": { target: "aarch64-unknown-linux-gnu", os: "linux", cpu: "arm64", libc: "glibc" },
  "darwin-x64": { target: "x86_64-apple-darwin", os: "darwin", cpu: "x64" },
  "darwin-arm64": { target: "aarch64-apple-darwin", os: "darwin", cpu: "arm64" },
  "win32-x64": { target: "x86_64-pc-windows-msvc", os: "win32", cpu: "x64" },
};

const MAIN_PACKAGE = "opentrain-mcp";

/** The binary package for a platform key, e.g. `opentrain-mcp-linux-x64`. */
function packageName(key) {
  return `${MAIN_PACKAGE}-${key}`;
}

/** The executable's file name on that OS. */
function exeName(command, os) {
  return os === "win32" ? `${command}.exe` : command;
}

module.exports = { PLATFORMS, MAIN_PACKAGE, packageName, exeName };
