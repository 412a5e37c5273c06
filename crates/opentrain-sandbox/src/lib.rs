//! An offline OpenTrain: a stateful local server that behaves like the documented API, so the whole
//! hiring lifecycle can be tried and tested with no account, no money and no network.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use opentrain_sandbox::{Sandbox, SandboxOptions};
//! let sandbox = Sandbox::start(SandboxOptions::default()).await?; // 127.0.0.1, ephemeral port
//! let client = opentrain::Client::builder().base_url(sandbox.base_url()).build()?;
//! // ... register an agent, draft and publish a job, hire ...
//! sandbox.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! What it simulates: agent registration and the claim ceremony (a verification page where a
//! person types the 6-digit code), tokens, job drafts parsed from plain text with validation,
//! publishing with the daily limits, a marketplace of masked AI trainers who send proposals with
//! interviews, conversations whose candidates answer, contracts and milestones, credits, the
//! updates feed and signed webhook deliveries. Every move of money returns 202 with an
//! `approvalUrl` to a page on the sandbox where a person presses Confirm or Decline; nothing in the
//! API can confirm, and those pages serve only a person signed in through a one-time link
//! ([`Sandbox::sign_in_link`]) that no API call returns. It binds 127.0.0.1 only, answers only to
//! its own loopback Host, and delivers webhooks to loopback URLs only.
//!
//! Layout: `state` (the data and its persistence), `http` (errors, parsing, auth gates), one file
//! per API family (`agent`, `jobs`, `extract`, `market`, `hiring`, `money`, `events`), `pages`
//! (the HTML pages a person uses), `session` (who may use them: a signed-in person only),
//! `driver` (the [`Human`] that signs in and submits those pages in-process) and `embedded` /
//! `flag` (what a binary's `--sandbox` flag needs).
#![forbid(unsafe_code)]

mod agent;
mod driver;
mod embedded;
mod events;
mod extract;
mod flag;
mod hiring;
mod http;
mod jobs;
mod market;
mod money;
mod pages;
mod session;
mod state;

use std::{
    net::{Ipv4Addr, SocketAddr},
    ops::Deref,
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{
    Router,
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::json;
use tokio::{
    sync::{Notify, mpsc, oneshot},
    task::JoinHandle,
};

pub use self::driver::{Human, HumanError, Page, PayWith};
pub use self::embedded::{Embedded, config_dir_for, credentials_in};
pub use self::flag::SandboxFlag;
use self::{
    http::{ApiErr, Ctx, OAuthErr, Req, authenticate},
    state::{Delivery, State},
};

/// How to run a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where to keep the state between runs (written atomically after changes); `None` keeps it in
    /// memory only.
    pub state_file: Option<PathBuf>,
    /// The claim poll `interval` handed to agents (the real API's is 5 s). Polling faster than it
    /// answers `slow_down`; zero turns that check off, for fast tests.
    pub claim_poll_interval: Duration,
    /// Delays between webhook delivery attempts (up to five attempts in all). The real API waits
    /// 1, 5, 30 and 120 minutes; the sandbox default is the same sequence in seconds.
    pub webhook_retry_delays: Vec<Duration>,
    /// Feature flags to turn off (e.g. `public_api_hiring`), to see the feature errors.
    pub disabled_features: Vec<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            port: 0,
            state_file: None,
            claim_poll_interval: Duration::from_secs(5),
            webhook_retry_delays: [1, 5, 30, 120].into_iter().map(Duration::from_secs).collect(),
            disabled_features: Vec::new(),
        }
    }
}

/// Why a sandbox could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The port could not be bound on 127.0.0.1.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state file could not be read or written.
    #[error("sandbox state: {0}")]
    State(String),
}

/// A running sandbox. Dropping it stops the server; [`Sandbox::shutdown`] also waits for it and
/// writes the state file one last time.
#[derive(Debug)]
pub struct Sandbox {
    app: App,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox on 127.0.0.1 (never another interface) and returns once it accepts
    /// connections. Loads `state_file` when it exists.
    pub async fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))
            .await
            .map_err(|source| SandboxError::Bind { port: options.port, source })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind { port: options.port, source })?;
        let base_url = format!("http://{addr}");
        let state = match &options.state_file {
            Some(path) => State::load(path).map_err(SandboxError::State)?,
            None => None,
        };
        let mut state = state.unwrap_or_default();
        market::seed(&mut state);
        let (tx, rx) = mpsc::unbounded_channel();
        let app = App(Arc::new(Shared {
            state: Mutex::new(state),
            options,
            base_url,
            port: addr.port(),
            sessions: Mutex::default(),
            dirty: Notify::new(),
            deliveries: tx,
        }));
        let mut workers = vec![tokio::spawn(events::delivery_worker(app.clone(), rx))];
        if app.options.state_file.is_some() {
            workers.push(tokio::spawn(persister(app.clone())));
        }
        let router = router(app.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                eprintln!("opentrain sandbox: server error: {e}");
            }
        });
        Ok(Sandbox { app, addr, stop: Some(stop), server: Some(server), workers })
    }

    /// The origin to use as the API base URL, e.g. `http://127.0.0.1:43117`.
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// The bound address (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Moves the sandbox clock forward, to see approvals, top-ups and claim windows expire
    /// without waiting days.
    pub fn advance_clock(&self, by: Duration) {
        let mut st = self.app.lock();
        st.clock_offset_ms += i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
        drop(st);
        self.app.dirty.notify_one();
    }

    /// Serves until the process gets SIGINT (Ctrl-C) or SIGTERM (what `kill`, systemd and
    /// container runtimes send), then shuts down and writes the state file, so a stop by any of
    /// them keeps the last changes.
    pub async fn serve_until_stopped(self) -> Result<(), SandboxError> {
        self.serve_until(stop_signal()).await
    }

    /// Serves until `signal` completes (Ctrl-C, say), then shuts down.
    pub async fn serve_until(self, signal: impl std::future::Future<Output = ()>) -> Result<(), SandboxError> {
        signal.await;
        self.shutdown().await
    }

    /// Stops accepting requests, lets in-flight ones finish (at most 5 s), stops webhook retries
    /// and writes the state file.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        for w in self.workers.drain(..) {
            w.abort();
        }
        self.app.save()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for w in &self.workers {
            w.abort();
        }
    }
}

/// Resolves at the first SIGINT or (on Unix) SIGTERM after this call; never when neither can be
/// watched. The one signal rule of the sandbox and both binaries: SIGTERM (what `kill`, service
/// managers and container runtimes send) stops things the same clean way as Ctrl-C.
///
/// The handlers are installed when this is called, not when the future is first polled, so a
/// signal that arrives while a claim poll is in flight is held until the poll and its save are
/// done instead of killing the process.
pub fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        async move {
            let int = async {
                match int.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            let term = async {
                match term.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = int => {}
                () = term => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The shared application handle every route gets.
#[derive(Clone)]
pub(crate) struct App(Arc<Shared>);

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) options: SandboxOptions,
    pub(crate) base_url: String,
    /// The bound port: the Host and Origin checks accept only this sandbox's own address.
    pub(crate) port: u16,
    sessions: Mutex<session::Sessions>,
    dirty: Notify,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

impl Deref for App {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl App {
    /// The state; a handler that panicked mid-change cannot make the sandbox unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs an authenticated API handler under the lock, then sends the webhook deliveries it
    /// produced and schedules a save.
    pub(crate) fn api(&self, req: &Req, f: impl FnOnce(&mut State, &Ctx) -> Result<Response, ApiErr>) -> Response {
        let mut st = self.lock();
        let res = authenticate(&mut st, &req.headers).and_then(|cx| f(&mut st, &cx));
        self.finish(st);
        res.unwrap_or_else(IntoResponse::into_response)
    }

    /// Runs `f` under the lock (for the human pages), then finishes like an API call.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.lock();
        let out = f(&mut st);
        self.finish(st);
        out
    }

    /// Runs a tokenless handler under the lock.
    pub(crate) fn open<E: IntoResponse>(&self, f: impl FnOnce(&mut State) -> Result<Response, E>) -> Response {
        let mut st = self.lock();
        let res = f(&mut st);
        self.finish(st);
        res.unwrap_or_else(IntoResponse::into_response)
    }

    fn finish(&self, mut st: MutexGuard<'_, State>) {
        let out = std::mem::take(&mut st.outbox);
        drop(st);
        for d in out {
            let _ = self.deliveries.send(d);
        }
        self.touch();
    }

    /// Schedules a state-file write (when there is a state file).
    pub(crate) fn touch(&self) {
        if self.options.state_file.is_some() {
            self.dirty.notify_one();
        }
    }

    fn save(&self) -> Result<(), SandboxError> {
        let Some(path) = &self.options.state_file else { return Ok(()) };
        let st = self.lock();
        st.save(path).map_err(SandboxError::State)
    }
}

/// Writes the state file shortly after changes, so a burst of requests costs one write.
async fn persister(app: App) {
    loop {
        app.dirty.notified().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let a = app.clone();
        match tokio::task::spawn_blocking(move || a.save()).await {
            Ok(Err(e)) => eprintln!("opentrain sandbox: {e}"),
            Err(e) => eprintln!("opentrain sandbox: state writer failed: {e}"),
            Ok(Ok(())) => {}
        }
    }
}

fn router(app: App) -> Router {
    Router::new()
        .merge(agent::routes())
        .merge(jobs::routes())
        .merge(hiring::routes())
        .merge(money::routes())
        .merge(events::routes())
        .merge(pages::routes(&app))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost: a request naming another host is DNS rebinding; nothing below may see it.
        .layer(axum::middleware::from_fn_with_state(app.clone(), session::host_gate))
        .with_state(app)
}

async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/agent") {
        OAuthErr { status: StatusCode::NOT_FOUND, ..OAuthErr::new("invalid_request", "No such endpoint.") }
            .into_response()
    } else if path.starts_with("/api/") {
        ApiErr::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("No route for {path}."), Some(json!({ "path": path })))
            .into_response()
    } else {
        pages::not_found_page().into_response()
    }
}

async fn method_not_allowed(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/agent") {
        OAuthErr { status: StatusCode::METHOD_NOT_ALLOWED, ..OAuthErr::new("invalid_request", "Method not allowed.") }
            .into_response()
    } else {
        ApiErr::new(StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", format!("Method not allowed on {path}."), None)
            .into_response()
    }
}
