//! `--sandbox` for the binaries: a sandbox on a port chosen before anything resolves
//! credentials, and an [`Env`] that points credential resolution at it and at a sandbox-only
//! `cli.json`.
//!
//! The binaries resolve credentials through that `Env` exactly as they always do, so a real
//! token or a real `cli.json` can never reach the sandbox: the token variables read as unset and
//! the config directory is the sandbox's. The process environment itself is never modified.

use std::path::{Path, PathBuf};

use opentrain::{Resolver, credentials::Env};

use super::{Sandbox, SandboxError, SandboxOptions};

/// The file in a state directory that remembers the sandbox's port.
const PORT_FILE: &str = "port";

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
    /// Picks a free port on 127.0.0.1 for the sandbox. With `state_dir` the sandbox state and
    /// its credentials live there across runs; without, in a temporary directory.
    pub fn prepare(state_dir: Option<&Path>) -> Result<Self, SandboxError> {
        let (dir, temp) = super::embedded::sandbox_dir(state_dir)?;
        // The port is learned from a throwaway listener so the URL is known before the runtime
        // starts; the sandbox binds it again moments later. A state directory remembers its port,
        // so the approval and claim links one command prints work again whenever a later command
        // (a wait, say) serves the same state.
        let remembered = state_dir.and_then(|_| std::fs::read_to_string(dir.join(PORT_FILE)).ok());
        let remembered = remembered.and_then(|p| p.trim().parse::<u16>().ok()).filter(|p| *p != 0);
        let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).and_then(|l| l.local_addr());
        let port = match remembered.map(free) {
            Some(Ok(addr)) => addr.port(),
            _ => free(0).map_err(|source| SandboxError::Bind { port: 0, source })?.port(),
        };
        if state_dir.is_some() && remembered != Some(port) {
            std::fs::write(dir.join(PORT_FILE), format!("{port}\n"))
                .map_err(|e| SandboxError::State(format!("{}: {e}", dir.join(PORT_FILE).display())))?;
        }
        let base_url = format!("http://127.0.0.1:{port}");
        let state_file = state_dir.map(|d| d.join("sandbox.json"));
        Ok(Self { port, base_url, dir, state_file, _temp: temp })
    }

    /// The environment the binary resolves credentials from: `XDG_CONFIG_HOME` is the sandbox
    /// directory (so `cli.json` is [`credentials_path`](Self::credentials_path)), every base-URL
    /// variable names the sandbox, and every token variable reads as unset.
    pub fn env(&self) -> Env {
        let mut env = Env::process().set("XDG_CONFIG_HOME", self.dir.to_string_lossy());
        for v in Resolver::all_base_url_vars() {
            env = env.set(v, &self.base_url);
        }
        for v in Resolver::all_token_vars() {
            env = env.remove(v);
        }
        env
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
        super::embedded::credentials_in(&self.dir)
    }
}
