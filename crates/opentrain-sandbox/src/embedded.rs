//! What a binary's `--sandbox` flag needs: a sandbox started in-process on an ephemeral port and
//! a sandbox-only `cli.json`, so credentials from a sandbox session never touch the user's real
//! file (and a real token never reaches the sandbox).

use std::path::{Path, PathBuf};

use super::{Sandbox, SandboxError, SandboxOptions};

/// A sandbox started for `--sandbox`, with its own credentials file.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let embedded = opentrain_sandbox::Embedded::start(None).await?; // temp dir, gone on drop
/// let store = opentrain::CredentialsFile::load(embedded.credentials_path())?;
/// let mut builder = opentrain::Client::builder().base_url(embedded.base_url());
/// if let Some(token) = store.api_token() {
///     builder = builder.token(token);
/// }
/// let client = builder.build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Embedded {
    sandbox: Sandbox,
    credentials: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Embedded {
    /// Starts a sandbox on 127.0.0.1 with an ephemeral port. With `state_dir`, the sandbox state
    /// (`sandbox.json`) and the credentials (`opentrain/cli.json`, the layout `--sandbox-state`
    /// uses too) live there and survive the process;
    /// without, both live in a temporary directory removed when this value drops.
    pub async fn start(state_dir: Option<&Path>) -> Result<Embedded, SandboxError> {
        let (dir, temp) = sandbox_dir(state_dir)?;
        let state_file = state_dir.map(|d| d.join("sandbox.json"));
        let sandbox = Sandbox::start(SandboxOptions { state_file, ..Default::default() }).await?;
        Ok(Embedded { sandbox, credentials: credentials_in(&dir), _temp: temp })
    }

    /// The sandbox's base URL, to use instead of every configured one.
    pub fn base_url(&self) -> &str {
        self.sandbox.base_url()
    }

    /// The sandbox-only credentials file (`cli.json`), to use instead of the user's.
    pub fn credentials_path(&self) -> &Path {
        &self.credentials
    }

    /// The running sandbox.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Stops the sandbox gracefully and writes its state (when it has a state directory).
    pub async fn shutdown(self) -> Result<(), SandboxError> {
        self.sandbox.shutdown().await
    }
}

/// The sandbox's `cli.json` inside its directory, laid out as a config directory
/// (`<dir>/opentrain/cli.json`), so [`Embedded`] and the binaries' `--sandbox-state` share one
/// login: the flag points `XDG_CONFIG_HOME` at `<dir>`.
pub fn credentials_in(dir: &Path) -> PathBuf {
    dir.join("opentrain").join("cli.json")
}

/// `state_dir` created if missing, or a fresh temporary directory removed when the guard drops.
pub(super) fn sandbox_dir(state_dir: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>), SandboxError> {
    match state_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| SandboxError::State(format!("{}: {e}", d.display())))?;
            Ok((d.to_path_buf(), None))
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("opentrain-sandbox-")
                .tempdir()
                .map_err(|e| SandboxError::State(format!("temporary directory: {e}")))?;
            Ok((t.path().to_path_buf(), Some(t)))
        }
    }
}

impl Sandbox {
    /// The lines `opentrain sandbox` prints once it listens: the base URL and a ready-to-paste
    /// `OPENTRAIN_API_BASE_URL=...` line.
    pub fn banner(&self) -> String {
        format!(
            "OpenTrain sandbox listening on {0} (127.0.0.1 only; Ctrl-C stops it)\nOPENTRAIN_API_BASE_URL={0}",
            self.base_url()
        )
    }
}
