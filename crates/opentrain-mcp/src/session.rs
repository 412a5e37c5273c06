//! The server's credentials and clients, resolved like the official MCP server and kept current.
//!
//! `OPENTRAIN_PERSONAL_API_TOKEN` wins outright (the file is not read); otherwise the token and
//! base URL come from `cli.json`, which the register and claim tools (or the CLI in another
//! terminal) may rewrite while the server runs. The file is therefore checked on every call, by
//! its size and modification time, and the clients are rebuilt only when it changed.

use std::{
    fs,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::SystemTime,
};

use opentrain::{Client, Resolver, Result, credentials::Env, raw};

/// The clients one call uses, sharing one connection pool, token and base URL.
#[derive(Clone, Debug)]
pub struct Clients {
    /// The typed client (register, claim and approval helpers).
    pub typed: Client,
    /// The raw client: exact response JSON for the generic tools.
    pub raw: raw::Client,
    /// The credentials file the register and claim tools write.
    pub credentials: PathBuf,
}

impl Clients {
    /// Whether these clients have a token to send.
    pub fn has_token(&self) -> bool {
        self.typed.token().is_some()
    }
}

fn env_token_set(env: &Env) -> bool {
    Resolver::MCP.token_vars.iter().any(|k| env.is_set(k))
}

fn stamp(env: &Env) -> Result<Stamp> {
    if env_token_set(env) {
        return Ok(Stamp::Env);
    }
    Ok(match fs::metadata(env.credentials_path()?) {
        Ok(m) => Stamp::Seen(m.len(), m.modified().ok()),
        Err(_) => Stamp::Missing,
    })
}

fn build(env: &Env, timeout: Option<std::time::Duration>) -> Result<Clients> {
    let resolved = Resolver::MCP.resolve_in(env, None, None)?;
    let mut builder = Client::builder().resolved(resolved);
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    let typed = builder.build()?;
    Ok(Clients { raw: raw::Client::from_typed(&typed), typed, credentials: env.credentials_path()? })
}

async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(opentrain::ConfigError::Invalid { what: "credentials", reason: format!("reading them failed: {e}") }.into())
    })
}

/// What a credentials file looked like when the clients were built.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stamp {
    /// The environment decides; the file is never read.
    Env,
    /// The file did not exist.
    Missing,
    /// Its size and modification time.
    Seen(u64, Option<SystemTime>),
}

/// Resolves credentials on demand and caches the clients until `cli.json` changes.
#[derive(Debug)]
pub struct Session {
    cached: Mutex<Option<(Stamp, Arc<Clients>)>>,
    timeout: Option<std::time::Duration>,
    /// Where credentials are resolved from (the process's, or the sandbox's with `--sandbox`).
    env: Env,
    /// Clients fixed for one HTTP request (its own token); the environment and file are unused.
    fixed: Option<Arc<Clients>>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session resolving from the process environment, with the default request timeout.
    pub fn new() -> Self {
        Self::with_env(Env::process())
    }

    /// A session resolving from `env`.
    pub fn with_env(env: Env) -> Self {
        Self { cached: Mutex::new(None), timeout: None, env, fixed: None }
    }

    /// A session whose requests time out after `timeout`.
    pub fn with_timeout(timeout: std::time::Duration) -> Self {
        Self { timeout: Some(timeout), ..Self::new() }
    }

    /// A session for one HTTP request: every call uses `clients` (built for that request's own
    /// token), and no environment variable or credentials file is ever read or written.
    pub fn per_request(clients: Clients) -> Self {
        Self { fixed: Some(Arc::new(clients)), ..Self::with_env(Env::default()) }
    }

    /// Whether this session serves one HTTP request (see [`per_request`](Self::per_request)).
    pub fn is_per_request(&self) -> bool {
        self.fixed.is_some()
    }

    fn env_token_set(&self) -> bool {
        self.fixed.is_none() && env_token_set(&self.env)
    }

    /// The credentials file the register and claim tools write.
    pub fn credentials_path(&self) -> Result<PathBuf> {
        self.env.credentials_path()
    }

    /// The clients for the next call, rebuilt when the credentials file changed since the last.
    ///
    /// The file is looked at on the blocking pool, never on the runtime's only thread: a slow
    /// disk or a network home must not stall every other request (or `ping`).
    /// A corrupt file or an invalid base URL is an error naming the file, never showing a token.
    pub async fn clients(&self) -> Result<Arc<Clients>> {
        if let Some(fixed) = &self.fixed {
            return Ok(fixed.clone());
        }
        let env = self.env.clone();
        let stamp = off_runtime(move || stamp(&env)).await?;
        if let Ok(guard) = self.cached.lock()
            && let Some((seen, clients)) = guard.as_ref()
            && *seen == stamp
        {
            return Ok(clients.clone());
        }
        let (env, timeout) = (self.env.clone(), self.timeout);
        let clients = Arc::new(off_runtime(move || build(&env, timeout)).await?);
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some((stamp, clients.clone()));
        }
        Ok(clients)
    }

    /// Forgets the cached clients, after this process wrote the credentials file.
    ///
    /// The stamp check alone could miss a rewrite within the file system's timestamp
    /// granularity that kept the size.
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.cached.lock() {
            *guard = None;
        }
    }

    /// Whether `OPENTRAIN_PERSONAL_API_TOKEN` is set, so a saved token is not the one used.
    pub fn token_from_env(&self) -> bool {
        self.env_token_set()
    }
}
