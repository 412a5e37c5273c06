//! `opentrain-mcp --http ADDR`: the same server over MCP's Streamable HTTP transport, for many
//! users at once, stateless so that any replica behind a load balancer can answer any request.
//!
//! The only credential of a call is its request's own `Authorization: Bearer` token
//! ([`tenant`]); the server's environment token and `cli.json` are never used unless
//! `--single-user` says so. Beside `/mcp` it serves `/healthz`, `/readyz`, Prometheus `/metrics`
//! ([`metrics`]) and the RFC 9728 protected-resource metadata that its 401 answers point to.
//!
//! Which requests get a 401: a `tools/call` of a tool that needs a token, sent without an
//! `Authorization` header, and any request whose `Authorization` header is not a bearer token.
//! `initialize`, `tools/list`, `server/discover`, `ping` and the tokenless tools (register,
//! claim, search) work without one, so a client can discover the server and onboard through it.

pub mod log;
pub mod metrics;
pub mod tenant;

use std::{collections::HashSet, net::SocketAddr, sync::Arc, time::Duration, time::Instant};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
};
use http::{HeaderValue, Method, StatusCode, header};
use rmcp::{
    RoleServer,
    model::CallToolResult,
    service::RequestContext,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
    },
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing::level_filters::LevelFilter;

use crate::{Options, Server, Session, call, filter};
use opentrain::{Client, credentials::Env, generated::tools::ToolDef};

pub use metrics::Metrics;

/// The largest request body accepted unless configured otherwise: the stdio line limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = crate::transport::MAX_LINE_BYTES;

/// The `--http` flags.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct HttpOptions {
    /// Serve MCP over Streamable HTTP at ADDR (e.g. 127.0.0.1:8080), path /mcp, instead of stdio.
    /// Each request's own `Authorization: Bearer` token is its only credential.
    #[arg(long, env = "OPENTRAIN_MCP_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// The URL clients reach this server at, e.g. `https://mcp.example.com` (default `http://ADDR`):
    /// names the resource in the OAuth metadata, and its host and origin are allowed.
    #[arg(long, env = "OPENTRAIN_MCP_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Accepted `Host` values (comma-separated). Default: loopback names when bound to loopback,
    /// else any host (set this when exposing the server).
    #[arg(long, env = "OPENTRAIN_MCP_ALLOWED_HOSTS", value_delimiter = ',', value_name = "HOST,...")]
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call (comma-separated, e.g. `https://app.example.com:443`). A
    /// request with any other `Origin` gets 403. Default: the public URL's origin only.
    #[arg(long, env = "OPENTRAIN_MCP_ALLOWED_ORIGINS", value_delimiter = ',', value_name = "ORIGIN,...")]
    pub allowed_origins: Vec<String>,
    /// Largest request body in bytes (larger ones get 413).
    #[arg(long, env = "OPENTRAIN_MCP_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Most /mcp requests handled at once by this process; more wait their turn.
    #[arg(long, env = "OPENTRAIN_MCP_MAX_CONCURRENT", default_value_t = 256, value_name = "N")]
    pub max_concurrent: usize,
    /// On SIGTERM/SIGINT, how long in-flight calls may take to finish before the process exits.
    #[arg(long, env = "OPENTRAIN_MCP_DRAIN_SECONDS", default_value_t = 30, value_name = "SECONDS")]
    pub drain_seconds: u64,
    /// Log one JSON object per line on stderr instead of text.
    #[arg(long, env = "OPENTRAIN_MCP_LOG_JSON", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub log_json: bool,
    /// Least severe log level written on stderr: off, error, warn, info (the default: one line per
    /// tool call), debug or trace. Below info the per-call line costs nothing at all.
    #[arg(long, env = "OPENTRAIN_MCP_LOG_LEVEL", value_name = "LEVEL")]
    pub log_level: Option<LevelFilter>,
    /// UNSAFE for shared use: serve every HTTP caller with this server's own credentials
    /// (OPENTRAIN_PERSONAL_API_TOKEN or cli.json), as stdio does. Only for one person on loopback.
    #[arg(long, env = "OPENTRAIN_MCP_SINGLE_USER", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub single_user: bool,
}

/// What the HTTP face adds to each tool call: the caller's credentials and the metrics.
#[derive(Debug)]
pub struct Tenancy {
    /// No token; its connection pool and base URL are shared by every caller's client.
    base: Client,
    single_user: bool,
    metrics: Metrics,
}

impl Tenancy {
    /// A per-request session for the call in `context`, or `None` to use the server's own
    /// (`--single-user`). Without an HTTP request or bearer token, the session has no token.
    pub fn session(&self, context: &RequestContext<RoleServer>) -> Option<Session> {
        if self.single_user {
            return None;
        }
        let empty = http::HeaderMap::new();
        let headers = context.extensions.get::<http::request::Parts>().map_or(&empty, |p| &p.headers);
        Some(Session::per_request(tenant::clients_for(&self.base, headers)))
    }

    /// Counts a call as in flight until the guard drops.
    pub fn start(&self) -> metrics::InFlight<'_> {
        self.metrics.start()
    }

    /// Records and logs one finished call (never its arguments or credentials).
    pub fn observe(&self, tool: &str, result: &CallToolResult, started: Instant) {
        let elapsed = started.elapsed();
        self.metrics.observe(tool, result, elapsed);
        log_call(tool, result.is_error == Some(true), elapsed);
    }
}

/// The one log line of a tool call: its tool, whether it failed and how long it took. The
/// fields are computed only when info is enabled.
fn log_call(tool: &str, error: bool, elapsed: Duration) {
    tracing::info!(tool, error, micros = elapsed.as_micros() as u64, "tool call");
}

fn loopback_hosts() -> Vec<String> {
    ["localhost", "127.0.0.1", "::1"].into_iter().map(String::from).collect()
}

/// The origin (with its port, as rmcp's origin check wants) and the host name of an absolute
/// http(s) URL.
fn url_origin(url: &str) -> Option<(String, String)> {
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let port = authority.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
    let host = authority.host();
    Some((format!("{scheme}://{host}:{port}"), host.trim_matches(['[', ']']).to_string()))
}

/// The gate in front of `/mcp`: answers 401 with the metadata pointer when a call needs a
/// token the request does not carry, before anything reaches the MCP layer.
#[derive(Debug)]
struct Gate {
    needs_token: HashSet<&'static str>,
    metadata_url: String,
    max_body: usize,
    single_user: bool,
}

impl Gate {
    fn unauthorized(&self, error: Option<&str>, message: &str) -> Response {
        let mut challenge = format!("Bearer resource_metadata=\"{}\"", self.metadata_url);
        if let Some(e) = error {
            challenge.push_str(&format!(", error=\"{e}\""));
        }
        let body = json!({"error": error.unwrap_or("unauthorized"), "error_description": message});
        let mut r = (StatusCode::UNAUTHORIZED, json_body(&body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    }

    /// The name of the first tool in `body` called with `tools/call` that needs a token.
    fn token_needing_call<'a>(&self, body: &'a Value) -> Option<&'a str> {
        let messages: Vec<&Value> = match body {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        messages.into_iter().find_map(|m| {
            if m.get("method").and_then(Value::as_str) != Some("tools/call") {
                return None;
            }
            let name = m.get("params")?.get("name")?.as_str()?;
            self.needs_token.contains(name).then_some(name)
        })
    }
}

fn json_body(v: &Value) -> String {
    v.to_string()
}

async fn gate(State(g): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    if g.single_user || request.method() != Method::POST {
        return next.run(request).await;
    }
    match tenant::bearer(request.headers()) {
        tenant::Bearer::Token(_) => next.run(request).await,
        tenant::Bearer::Malformed => {
            g.unauthorized(Some("invalid_token"), "the Authorization header must be `Bearer <OpenTrain token>`")
        }
        tenant::Bearer::Absent => {
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, g.max_body).await else {
                return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
            };
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes)
                && let Some(tool) = g.token_needing_call(&v)
            {
                return g.unauthorized(
                    None,
                    &format!("{tool} needs an OpenTrain API token: send `Authorization: Bearer <token>`"),
                );
            }
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
    }
}

/// The base URL of the upstream API in HTTP mode: `OPENTRAIN_API_BASE_URL` or the default,
/// never `cli.json` (whose owner is not the caller).
fn base_url(env: &Env) -> String {
    opentrain::Resolver::MCP
        .base_url_vars
        .iter()
        .find_map(|k| env.get(k).filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| opentrain::DEFAULT_BASE_URL.to_string())
}

/// Everything `serve` needs, built before binding so a bad flag fails fast.
pub struct Prepared {
    app: Router,
    listener: tokio::net::TcpListener,
    cancel: CancellationToken,
    draining: CancellationToken,
    drain: Duration,
}

impl Prepared {
    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Binds `options.http.http` and builds the router: `/mcp` behind the gate, body limit and
/// concurrency limit, and the operational endpoints.
pub async fn prepare(
    options: &Options,
    enabled: &[ToolDef],
    server: Server,
    env: &Env,
) -> Result<Prepared, Box<dyn std::error::Error + Send + Sync>> {
    let http = &options.http;
    let addr = http.http.ok_or("--http ADDR is required")?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let public = http.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
    let public = public.trim_end_matches('/').to_string();
    let (public_origin, public_host) = url_origin(&public).ok_or_else(|| format!("invalid --public-url {public}"))?;

    let base = base_url(env);
    let tenancy = Arc::new(Tenancy {
        base: Client::builder().base_url(base.clone()).build()?,
        single_user: http.single_user,
        metrics: Metrics::new(),
    });
    let server = server.with_tenancy(tenancy.clone());

    let mut allowed_hosts = http.allowed_hosts.clone();
    if allowed_hosts.is_empty() && local.ip().is_loopback() {
        allowed_hosts = loopback_hosts();
        allowed_hosts.push(public_host);
    }
    let mut origins = http.allowed_origins.clone();
    if origins.is_empty() {
        origins.push(public_origin);
    }
    let cancel = CancellationToken::new();
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(http.max_body_bytes)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_cancellation_token(cancel.clone());
    config = if allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(allowed_hosts)
    };
    let mcp = StreamableHttpService::new(move || Ok(server.clone()), Arc::new(NeverSessionManager::default()), config);

    let metadata_url = format!("{public}/.well-known/oauth-protected-resource/mcp");
    let gate_state = Arc::new(Gate {
        needs_token: enabled.iter().filter(|t| !call::tokenless(t)).map(|t| t.name).collect(),
        metadata_url,
        max_body: http.max_body_bytes,
        single_user: http.single_user,
    });
    let resource = json!({
        "resource": format!("{public}/mcp"),
        "authorization_servers": [base],
        "bearer_methods_supported": ["header"],
        "resource_name": "OpenTrain MCP server",
    })
    .to_string();

    let draining = CancellationToken::new();
    let ready = draining.clone();
    let metrics_state = tenancy.clone();
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp)
        .layer(middleware::from_fn_with_state(gate_state, gate))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(http.max_concurrent.max(1)))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(http.max_body_bytes));
    let metadata = move || {
        let doc = resource.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], doc) }
    };
    let app =
        Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route(
                "/readyz",
                get(move || {
                    let draining = ready.is_cancelled();
                    async move {
                        if draining {
                            (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
                        } else {
                            (StatusCode::OK, "ready\n")
                        }
                    }
                }),
            )
            .route(
                "/metrics",
                get(move || {
                    let text = metrics_state.metrics.render();
                    async move {
                        ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
                    }
                }),
            )
            .route("/.well-known/oauth-protected-resource", get(metadata.clone()))
            .route("/.well-known/oauth-protected-resource/mcp", get(metadata))
            .merge(mcp_routes);
    Ok(Prepared { app, listener, cancel, draining, drain: Duration::from_secs(http.drain_seconds) })
}

/// Serves until SIGTERM/SIGINT, then stops accepting, lets in-flight calls finish (for at most
/// the drain time) and returns.
pub async fn serve(prepared: Prepared) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Prepared { app, listener, cancel, draining, drain } = prepared;
    let local = listener.local_addr()?;
    // Installed now, so a signal during startup is not lost.
    let signal = opentrain_sandbox::stop_signal();
    // The one line scripts and tests wait for (stderr: never a token).
    eprintln!("opentrain-mcp: serving MCP over HTTP at http://{local}/mcp");
    // Without TCP_NODELAY every SSE answer waits ~40 ms for delayed ACKs.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let stopping = draining.clone();
    let served = axum::serve(listener, app).with_graceful_shutdown(async move {
        signal.await;
        tracing::info!("stop signal: draining in-flight calls");
        stopping.cancel();
    });
    tokio::select! {
        r = served => r?,
        () = async { draining.cancelled().await; tokio::time::sleep(drain).await } => {
            tracing::warn!(seconds = drain.as_secs(), "drain time over: ending the calls still running");
        }
    }
    cancel.cancel();
    Ok(())
}

/// The HTTP face's log on `writer`: text, or one JSON object per line, at `level` (info when
/// `None`).
fn logger<W>(json: bool, level: Option<LevelFilter>, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_writer(writer).with_max_level(level.unwrap_or(LevelFilter::INFO));
    if json { Box::new(builder.json().finish()) } else { Box::new(builder.finish()) }
}

/// Sets up stderr logging for the HTTP face (text, or JSON with `--log-json`) at `level` (info
/// when `None`, see `--log-level`). Lines are written in batches ([`log`]); keep the returned
/// guard until the process is done logging, since dropping it writes what is left.
pub fn init_logging(json: bool, level: Option<LevelFilter>) -> Option<log::Flush> {
    let Ok((writer, flush)) = log::batched(std::io::stderr()) else {
        // No thread to spare: every line is its own write, as before batching.
        let _ = tracing::subscriber::set_global_default(logger(json, level, std::io::stderr));
        return None;
    };
    // A second initialisation (tests in one process) keeps the first.
    let _ = tracing::subscriber::set_global_default(logger(json, level, move || writer.clone()));
    Some(flush)
}

/// Runs the HTTP face for `options` on a multi-threaded runtime: one process serves many
/// users at once. Returns the exit code.
pub fn run(options: &Options, env: Env, sandbox: Option<opentrain_sandbox::SandboxFlag>) -> std::process::ExitCode {
    let _flush_log_at_exit = init_logging(options.http.log_json, options.http.log_level);
    let all = crate::table();
    let enabled = match filter::select(&all, options) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("opentrain-mcp: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let server = Server::new(&enabled, &all, Session::with_env(env.clone()));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opentrain-mcp: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let running = match sandbox {
            Some(flag) => {
                let running = flag.start().await?;
                eprintln!("opentrain-mcp: serving against the sandbox at {}", running.base_url());
                Some(running)
            }
            None => None,
        };
        let prepared = prepare(options, &enabled, server, &env).await;
        let served = match prepared {
            Ok(p) => serve(p).await,
            Err(e) => Err(e),
        };
        if let Some(running) = running {
            running.shutdown().await?;
        }
        served
    });
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opentrain-mcp: {}", opentrain::redact(&e.to_string()));
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_give_their_origin_and_host() {
        assert_eq!(url_origin("http://127.0.0.1:8080"), Some(("http://127.0.0.1:8080".into(), "127.0.0.1".into())));
        assert_eq!(
            url_origin("https://mcp.example.com"),
            Some(("https://mcp.example.com:443".into(), "mcp.example.com".into()))
        );
        assert_eq!(url_origin("not a url"), None);
    }

    /// Collects what a logger writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(json: bool, level: Option<LevelFilter>) -> String {
        let out = Captured::default();
        let sink = out.clone();
        let logger = logger(json, level, move || sink.clone());
        tracing::subscriber::with_default(logger, || {
            log_call("opentrain_search_jobs", false, Duration::from_micros(1234));
        });
        let bytes = out.0.lock().expect("log buffer").clone();
        String::from_utf8(bytes).expect("utf-8 log")
    }

    #[test]
    fn each_call_is_one_log_line_at_info_and_none_below() {
        let text = logged(false, None);
        assert!(text.contains("tool call") && text.contains("tool=\"opentrain_search_jobs\""), "{text}");
        assert!(text.contains("error=false") && text.contains("micros=1234"), "{text}");
        let line: Value = serde_json::from_str(logged(true, Some(LevelFilter::INFO)).trim()).expect("one JSON line");
        assert_eq!(line["fields"]["tool"], "opentrain_search_jobs", "{line}");
        assert_eq!(line["fields"]["micros"], 1234, "{line}");
        assert_eq!(line["level"], "INFO", "{line}");
        for quiet in [LevelFilter::WARN, LevelFilter::OFF] {
            assert_eq!(logged(false, Some(quiet)), "", "{quiet}");
            assert_eq!(logged(true, Some(quiet)), "", "{quiet}");
        }
    }

    #[test]
    fn the_log_level_flag_takes_the_usual_names() {
        use clap::Parser;
        let level = |s: &str| {
            crate::Options::try_parse_from(["opentrain-mcp", "--http", "127.0.0.1:0", "--log-level", s])
                .map(|o| o.http.log_level)
                .ok()
        };
        assert_eq!(level("warn"), Some(Some(LevelFilter::WARN)));
        assert_eq!(level("off"), Some(Some(LevelFilter::OFF)));
        assert_eq!(level("loud"), None, "an unknown level is refused");
        let default =
            crate::Options::try_parse_from(["opentrain-mcp", "--http", "127.0.0.1:0"]).map(|o| o.http.log_level);
        assert_eq!(default.ok(), Some(None), "info unless told");
    }

    #[test]
    fn only_calls_of_token_needing_tools_are_gated() {
        let g = Gate {
            needs_token: ["opentrain_get_team"].into_iter().collect(),
            metadata_url: String::new(),
            max_body: 1,
            single_user: false,
        };
        let call = |name: &str| json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}});
        assert_eq!(g.token_needing_call(&call("opentrain_get_team")), Some("opentrain_get_team"));
        assert_eq!(g.token_needing_call(&call("opentrain_search_jobs")), None);
        assert_eq!(g.token_needing_call(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})), None);
        assert_eq!(g.token_needing_call(&json!([call("opentrain_get_team")])), Some("opentrain_get_team"));
    }
}
