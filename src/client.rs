//! Building a [`Client`]: credentials, base URL, timeout and deadline, size cap, User-Agent and
//! retry policy.

use std::{fmt, sync::Arc, time::Duration};

use crate::{
    Client,
    call::{AttemptEvent, RetryEvent, RetryPolicy},
    credentials::{Resolved, Resolver, Token, normalize_base_url},
    error::{ConfigError, Result},
};

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("opentrain-rust/", env!("CARGO_PKG_VERSION"));

/// The request timeout unless configured otherwise (the official CLI's).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one call may take in all, retries and `Retry-After` waits included, unless
/// configured otherwise: two stalled attempts, then the call ends.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// The largest response body read unless configured otherwise. No OpenTrain answer comes near
/// it; the cap exists so a broken or hostile server cannot exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// Observer of retry decisions.
pub type RetryObserver = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// Observer of every HTTP attempt.
pub type AttemptObserver = Arc<dyn Fn(&AttemptEvent) + Send + Sync>;

/// What the generated client carries besides its `reqwest::Client`: the token and the policy.
#[derive(Clone)]
pub struct Inner {
    pub(crate) token: Option<Token>,
    pub(crate) retry: RetryPolicy,
    pub(crate) on_retry: Option<RetryObserver>,
    pub(crate) on_attempt: Option<AttemptObserver>,
    /// Per attempt; the hooks set it on each request (reqwest's client-wide one would not know
    /// the call's deadline).
    pub(crate) timeout: Duration,
    pub(crate) deadline: Duration,
    pub(crate) max_response_bytes: u64,
    /// The token's scopes as the last successful `auth/me` through this client reported them,
    /// so a 403 can name the scope the token lacks without an extra call. Shared by clones.
    pub(crate) scopes: Arc<std::sync::Mutex<Option<Vec<String>>>>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            token: None,
            retry: RetryPolicy::default(),
            on_retry: None,
            on_attempt: None,
            timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            scopes: Arc::default(),
        }
    }
}

impl Inner {
    pub(crate) fn known_scopes(&self) -> Option<Vec<String>> {
        self.scopes.lock().ok().and_then(|s| s.clone())
    }

    /// Remembers `token.scopes` from a successful `auth/me` body; anything else is ignored.
    pub(crate) fn note_auth_me(&self, body: &[u8]) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return };
        let Some(list) = v.pointer("/token/scopes").and_then(serde_json::Value::as_array) else { return };
        let scopes = list.iter().filter_map(|s| s.as_str().map(String::from)).collect();
        if let Ok(mut held) = self.scopes.lock() {
            *held = Some(scopes);
        }
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("token", &self.token)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// Configures and builds a [`Client`].
///
/// ```no_run
/// # fn f() -> opentrain::Result<()> {
/// // Token and base URL from OPENTRAIN_PERSONAL_API_TOKEN / OPENTRAIN_API_BASE_URL or cli.json:
/// let client = opentrain::Client::builder().resolve()?.build()?;
/// // Or fully explicit:
/// let client = opentrain::Client::builder()
///     .token(opentrain::Token::new("ot_pat_..."))
///     .base_url("http://127.0.0.1:3000")
///     .timeout(std::time::Duration::from_secs(10))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    token: Option<Token>,
    base_url: Option<String>,
    timeout: Duration,
    inner: Inner,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self { token: None, base_url: None, timeout: DEFAULT_TIMEOUT, inner: Inner::default() }
    }
}

impl ClientBuilder {
    /// Sets the token (highest precedence).
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// Sets the API origin, e.g. `https://app.opentrain.ai` (highest precedence).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Timeout of one attempt, connecting and reading the body included (default 30 s). An
    /// attempt never outlives the call's [`deadline`](Self::deadline) either.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Wall-clock bound of one call, every attempt, backoff and `Retry-After` wait included
    /// (default 60 s). A retry that could not finish in time is not made; the last answer or a
    /// timeout is returned instead. Bounded waits tighten it with [`within`](crate::within).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.inner.deadline = deadline;
        self
    }

    /// The largest response body read (default 16 MiB). A longer body is abandoned while
    /// streaming, before anything parses it, and the call fails naming the limit.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.inner.max_response_bytes = limit;
        self
    }

    /// Replaces the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.inner.retry = policy;
        self
    }

    /// Calls `observer` before every retry (for logs, progress or tests).
    pub fn on_retry(mut self, observer: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.inner.on_retry = Some(Arc::new(observer));
        self
    }

    /// Calls `observer` after every HTTP attempt, retries included, with its method, masked path,
    /// status and duration: what a request log needs (the CLI's `--verbose` is one). It sees
    /// every call this client (and the raw client made from it) makes, those inside the
    /// [`claim`](crate::claim) and [`approvals`](crate::approvals) flows too. It runs on the
    /// request's task: keep it quick.
    pub fn on_attempt(mut self, observer: impl Fn(&AttemptEvent) + Send + Sync + 'static) -> Self {
        self.inner.on_attempt = Some(Arc::new(observer));
        self
    }

    /// Fills the token and base URL not set explicitly from the environment and `cli.json`,
    /// with the library's (= the MCP server's) precedence. See [`Resolver`].
    pub fn resolve(self) -> Result<Self> {
        self.resolve_by(&Resolver::MCP)
    }

    /// Like [`resolve`](Self::resolve), with other rules (the CLI's, say).
    pub fn resolve_by(self, resolver: &Resolver) -> Result<Self> {
        let r = resolver.resolve(self.token.clone(), self.base_url.as_deref())?;
        Ok(self.resolved(r))
    }

    /// Uses an already resolved token and base URL.
    pub fn resolved(mut self, r: Resolved) -> Self {
        self.token = r.token;
        self.base_url = Some(r.base_url);
        self
    }

    /// Builds the client. Without a token, only tokenless operations will succeed.
    pub fn build(mut self) -> Result<Client> {
        let base = normalize_base_url(self.base_url.as_deref().unwrap_or(crate::DEFAULT_BASE_URL))?;
        // Never follow a redirect: reqwest would turn a POST into a GET that "succeeds", or re-send
        // a body holding a claim token to whatever host `Location` names. A 3xx becomes an error.
        let http = http_client_builder()?
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| ConfigError::Invalid { what: "HTTP client", reason: e.to_string() })?;
        self.inner.token = self.token;
        self.inner.timeout = self.timeout;
        Ok(Client::new_with_client(&base, http, self.inner))
    }
}

/// A `reqwest` client builder with this crate's TLS backend already in place: the one way to
/// build any other `reqwest::Client` in a program that uses this crate with its default features.
///
/// With the default `rustls` feature reqwest is built without a crypto provider of its own (so
/// aws-lc is not compiled), and `reqwest::Client::new()` or `Client::builder().build()` anywhere
/// in the same program would panic for want of one. This builder carries rustls on ring, handed
/// over preconfigured, so nothing process-wide is installed. With another TLS feature it is
/// reqwest's plain builder.
///
/// ```
/// let http = opentrain::http_client_builder()?.build()?;
/// # drop(http);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder> {
    // The one place a reqwest builder is made (clippy.toml refuses it everywhere else).
    #[allow(clippy::disallowed_methods)]
    let builder = reqwest::Client::builder();
    tls(builder)
}

/// With only the `rustls` feature, reqwest has no crypto provider of its own and would panic
/// unless one is installed process-wide; hand it a TLS config on ring instead, so a library never
/// installs global state and a failure is an error, not a panic. Verification is the OS's
/// verifier, as reqwest's own rustls setup does. No ALPN `h2`: this client speaks HTTP/1.1 only.
#[cfg(all(feature = "rustls", not(feature = "rustls-aws-lc"), not(feature = "native-tls")))]
fn tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
    let invalid = |e: rustls::Error| ConfigError::Invalid { what: "TLS (rustls on ring)", reason: e.to_string() };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(invalid)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(builder.tls_backend_preconfigured(config))
}

/// Any other backend (native-tls, rustls on aws-lc, or none: http:// only) is reqwest's own.
#[cfg(not(all(feature = "rustls", not(feature = "rustls-aws-lc"), not(feature = "native-tls"))))]
fn tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
    Ok(builder)
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client resolved from the environment and `cli.json` (library precedence).
    pub fn from_env() -> Result<Client> {
        Self::builder().resolve()?.build()
    }

    /// The token this client sends, if any.
    pub fn token(&self) -> Option<&Token> {
        self.inner.token.as_ref()
    }

    /// The same client (connection pool included) sending another token.
    pub fn with_token(&self, token: Option<Token>) -> Client {
        let mut inner = self.inner.clone();
        inner.token = token;
        // What auth/me said about the old token says nothing about the new one.
        inner.scopes = Arc::default();
        Client::new_with_client(&self.baseurl, self.client.clone(), inner)
    }

    /// The token's scopes, when a successful `auth/me` (`get_auth_me`) through this client (or a
    /// clone) has reported them; `None` before that. No call is made to find out.
    pub fn known_scopes(&self) -> Option<Vec<String>> {
        self.inner.known_scopes()
    }

    /// Fails with a message saying how to get a token when this client has none.
    pub fn require_token(&self) -> Result<&Token> {
        self.token().ok_or_else(|| ConfigError::NoToken.into())
    }
}
