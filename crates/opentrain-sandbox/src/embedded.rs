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
    /// The lines `opentrain sandbox` prints once it listens: where it listens, then an environment
    /// block (`KEY=value` lines) that points every OpenTrain tool at it *and* at `config_dir` for
    /// credentials, with every token variable blank, so a shell that exports the block can never
    /// write sandbox credentials over the user's real `cli.json` or send a real token here.
    pub fn banner(&self, config_dir: &Path) -> String {
        let mut out = format!("OpenTrain sandbox listening on {} (127.0.0.1 only; Ctrl-C stops it)", self.base_url());
        for (k, v) in self.env_block(config_dir) {
            out.push_str(&format!("\n{k}={v}"));
        }
        out
    }

    /// The environment block of [`banner`](Self::banner) as (variable, value) pairs: the config
    /// directory first, then every base-URL variable, then every token variable, blank.
    pub fn env_block(&self, config_dir: &Path) -> Vec<(String, String)> {
        let mut block = vec![("XDG_CONFIG_HOME".to_string(), config_dir.display().to_string())];
        let mut urls: Vec<&str> = opentrain::Resolver::all_base_url_vars().collect();
        urls.sort_unstable();
        urls.dedup();
        block.extend(urls.into_iter().map(|v| (v.to_string(), self.base_url().to_string())));
        block.extend(opentrain::Resolver::all_token_vars().map(|v| (v.to_string(), String::new())));
        block
    }
}

/// The sandbox-only config directory `opentrain sandbox` advertises: beside the state file
/// (`<state>.home/`) so it lasts as long as that state, else a temporary directory that goes with
/// the returned guard, so credentials never outlive the sandbox they belong to.
pub fn config_dir_for(state_file: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>), SandboxError> {
    let dir = state_file.map(|f| {
        let mut name = f.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".home");
        f.with_file_name(name)
    });
    sandbox_dir(dir.as_deref())
}
