//! `--sandbox` for the binaries: a sandbox on a port chosen before any thread starts, and the
//! process environment pointed at it and at a sandbox-only `cli.json`.
//!
//! Pointing the environment (rather than every code path) at the sandbox means the CLI and the
//! MCP server resolve credentials exactly as they always do, and a real token or a real
//! `cli.json` can never reach the sandbox: both are replaced before anything reads them.

use std::path::{Path, PathBuf};

use super::{Sandbox, SandboxError, SandboxOptions};

/// Token variables of every front end; cleared so a real token never reaches the sandbox.
const TOKEN_VARS: [&str; 3] = ["OPENTRAIN_PERSONAL_API_TOKEN", "OT_API_TOKEN", "OPENTRAIN_API_TOKEN"];
/// Base-URL variables of every front end; all set to the sandbox.
const BASE_URL_VARS: [&str; 2] = ["OPENTRAIN_API_BASE_URL", "OT_API_BASE_URL"];

/// A sandbox prepared for this process; [`start`](Self::start) it inside the runtime.
#[derive(Debug)]
pub struct SandboxFlag {
    port: u16,
    base_url: String,
    dir: PathBuf,
    state_file: Option<PathBuf>,
    _temp: Option<tempfile::TempDir>,
}

impl SandboxFlag {
    /// Picks a free port on 127.0.0.1 and points this process at it: `XDG_CONFIG_HOME` becomes the
    /// sandbox directory (so `cli.json` is `<dir>/opentrain/cli.json`), the base-URL variables
    /// name the sandbox, and the token variables are removed. With `state_dir` the sandbox state
    /// and its credentials live there across runs; without, in a temporary directory.
    ///
    /// Call it from a binary's `main` before any runtime or thread exists: it edits the process
    /// environment, which is only sound while nothing else can be reading it.
    pub fn prepare(state_dir: Option<&Path>) -> Result<Self, SandboxError> {
        let (dir, temp) = super::embedded::sandbox_dir(state_dir)?;
        // The port is learned from a throwaway listener so the URL can go into the environment
        // before the runtime starts; the sandbox binds it again moments later.
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map_err(|source| SandboxError::Bind { port: 0, source })?
            .port();
        let base_url = format!("http://127.0.0.1:{port}");
        // SAFETY: the binaries call this from `main` before building their runtime, while the
        // process has a single thread, so no other code can read the environment concurrently.
        unsafe {
            std::env::set_var("XDG_CONFIG_HOME", &dir);
            for v in BASE_URL_VARS {
                std::env::set_var(v, &base_url);
            }
            for v in TOKEN_VARS {
                std::env::remove_var(v);
            }
        }
        let state_file = state_dir.map(|d| d.join("sandbox.json"));
        Ok(Self { port, base_url, dir, state_file, _temp: temp })
    }

    /// Starts the sandbox on the prepared port and prints the person's one-time sign-in link on
    /// stderr (the binary's console; stdout belongs to the command's output or the MCP protocol,
    /// which the agent under test reads).
    pub async fn start(&self) -> Result<Sandbox, SandboxError> {
        let sandbox = Sandbox::start(SandboxOptions {
            port: self.port,
            state_file: self.state_file.clone(),
            ..Default::default()
        })
        .await?;
        eprintln!("{}", sandbox.sign_in_notice());
        Ok(sandbox)
    }

    /// The sandbox's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The sandbox-only credentials file.
    pub fn credentials_path(&self) -> PathBuf {
        self.dir.join("opentrain").join("cli.json")
    }
}
