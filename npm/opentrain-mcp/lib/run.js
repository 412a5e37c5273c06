// Finds the native binary in the platform package npm installed beside this one and runs it with
// this process's arguments, standard streams and exit status, so `npx -y opentrain-mcp` is the
// Rust server itself: stdin/stdout stay the MCP transport, untouched by Node.
"use strict";

const path = require("node:path");
const { spawn } = require("node:child_process");
const { PLATFORMS, packageName, exeName } = require("./platforms");

/**
 * The absolute path of `command` for this platform, or an Error saying what is missing and what
 * to do instead. `resolve` is require.resolve (a parameter so the tests can fake an installation).
 */
function locate(command, platform, arch, resolve) {
  const key = `${platform}-${arch}`;
  const spec = PLATFORMS[key];
  if (!spec) {
    const known = Object.keys(PLATFORMS).join(", ");
    return new Error(
      `opentrain-mcp: no prebuilt binary for ${key} (built for: ${known}). ` +
        "Install from source instead: cargo install --locked opentrain-cli opentrain-mcp"
    );
  }
  const pkg = packageName(key);
  try {
    const manifest = resolve(`${pkg}/package.json`);
    return path.join(path.dirname(manifest), "bin", exeName(command, spec.os));
  } catch (e) {
    if (e && e.code !== "MODULE_NOT_FOUND") throw e;
    return new Error(
      `opentrain-mcp: the platform package ${pkg} is not installed. npm skips optional ` +
        "dependencies with --omit=optional or --no-optional: reinstall without it " +
        `(npm install ${pkg} also works).`
    );
  }
}

/** Runs `command` and mirrors its exit: same code, or the same signal. */
function run(command) {
  const found = locate(command, process.platform, process.arch, require.resolve);
  if (found instanceof Error) {
    process.stderr.write(`${found.message}\n`);
    process.exit(1);
  }
  const child = spawn(found, process.argv.slice(2), { stdio: "inherit", windowsHide: true });
  // A client stopping the server signals this process: pass it on so the server drains its calls.
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => forward(signal));
  child.on("error", (e) => {
    process.stderr.write(`opentrain-mcp: cannot start ${found}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code === null ? 1 : code);
    }
  });
}

module.exports = { locate, run };
