//! End-to-end tests against a real sandbox server started by each test (127.0.0.1 only): the
//! lifecycle through the library, every operation checked against the spec's own schemas, the
//! documented errors, and the behaviours the sandbox simulates.

mod behaviour;
mod binaries;
mod browser;
mod conformance;
mod errors;
mod human;
mod lifecycle;
mod spec;

use std::time::Duration;

use opentrain::{Client, Run, Token, types};
use opentrain_sandbox::{Sandbox, SandboxOptions};

pub use opentrain_sandbox::PayWith;

/// Options for fast tests: no poll-interval wait, webhook retries in milliseconds.
pub fn fast() -> SandboxOptions {
    SandboxOptions {
        claim_poll_interval: Duration::ZERO,
        webhook_retry_delays: vec![Duration::from_millis(20); 4],
        ..Default::default()
    }
}

pub async fn start(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options).await.expect("sandbox starts on 127.0.0.1")
}

/// A client for the sandbox, with `token` when given.
pub fn client(sandbox: &Sandbox, token: Option<Token>) -> Client {
    let b = Client::builder().base_url(sandbox.base_url()).timeout(Duration::from_secs(10));
    match token {
        Some(t) => b.token(t),
        None => b,
    }
    .build()
    .expect("client")
}

/// A registered and claimed agent with a full-scope key minted by its human, plus the client.
pub struct Agent {
    pub client: Client,
    pub org: String,
    pub token: Token,
}

/// Registers an agent, has a human claim it, and mints a full-scope key.
pub async fn claimed_agent(sandbox: &Sandbox, email: &str) -> Agent {
    let anon = client(sandbox, None);
    let reg = anon.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect("register");
    let claim = reg.claim_token.clone().expect("claim token");
    let attempt = anon
        .start_claim()
        .body(types::StartClaimRequest { claim_token: claim.clone(), email: email.into() })
        .send()
        .run()
        .await
        .expect("start claim")
        .expect("a body");
    let human = sandbox.human().await.expect("the human signs in");
    human.claim(&attempt).await.expect("claim");
    let post = match opentrain::claim::poll_once(&anon, &claim).await.expect("poll") {
        opentrain::claim::Poll::Claimed(t) => t,
        other => panic!("expected the post-claim token, got {other:?}"),
    };
    let me = client(sandbox, Some(post.access_token.clone())).get_auth_me().send().run().await.expect("auth/me");
    let org = me.account.organization_id.clone().expect("organization id");
    let token = human.mint_full_key(&org).await.expect("mint a key");
    Agent { client: client(sandbox, Some(token.clone())), org, token }
}

/// A published job with proposals, owned by `agent`: returns (job id, proposal ids).
pub async fn published_job(agent: &Agent, text: &str) -> (String, Vec<String>) {
    let c = &agent.client;
    let draft = c
        .create_job_draft()
        .body(types::CreateJobDraftRequest { raw_job_description: Some(text.into()), ..Default::default() })
        .send()
        .run()
        .await
        .expect("draft");
    let patch = types::JobFieldPatch {
        experience_level: Some(types::JobExperienceLevelKnown::Intermediate.into()),
        data_volume_unit: Some(types::JobDataVolumeUnitKnown::NumberOfFiles.into()),
        ..Default::default()
    };
    let updated =
        c.update_job_draft().job_id(&draft.job_id).body(patch).send().run().await.expect("patch").expect("a body");
    assert!(updated.validation.as_ref().is_some_and(|v| v.publish_ready), "{updated:?}");
    c.publish_job().id(&draft.job_id).send().run().await.expect("publish");
    let list = c.list_job_proposals().id(&draft.job_id).send().run().await.expect("proposals");
    (draft.job_id, list.proposals.into_iter().map(|p| p.id).collect())
}

/// One API exchange seen by the [`Recorder`].
#[derive(Clone, Debug)]
pub struct Exchange {
    pub op: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub content_type: String,
    pub body: serde_json::Value,
    /// The response as sent: header lines and body text, to scan for what must never appear.
    pub raw: String,
}

/// A pass-through proxy in front of a sandbox that records every API response, so tests driving
/// the typed client can also check the exact JSON against the spec.
pub struct Recorder {
    pub base_url: String,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Forward {
    target: String,
    http: reqwest::Client,
    log: std::sync::Arc<std::sync::Mutex<Vec<Exchange>>>,
}

async fn forward(
    axum::extract::State(f): axum::extract::State<Forward>,
    req: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 24).await.unwrap_or_default();
    let pq = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let mut rb = f.http.request(parts.method.clone(), format!("{}{pq}", f.target)).body(bytes);
    for (k, v) in &parts.headers {
        if k != axum::http::header::HOST && k != axum::http::header::CONTENT_LENGTH {
            rb = rb.header(k, v);
        }
    }
    let res = match rb.send().await {
        Ok(r) => r,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = res.status();
    let headers = res.headers().clone();
    let data = res.bytes().await.unwrap_or_default();
    let path = parts.uri.path().to_string();
    let op = operation_of(parts.method.as_str(), &path).unwrap_or("?").to_string();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = serde_json::from_slice(&data).unwrap_or(serde_json::Value::Null);
    let mut raw: String =
        headers.iter().map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes()))).collect();
    raw.push_str(&String::from_utf8_lossy(&data));
    if let Ok(mut log) = f.log.lock() {
        log.push(Exchange {
            op,
            method: parts.method.to_string(),
            path,
            status: status.as_u16(),
            content_type,
            body,
            raw,
        });
    }
    let mut out = (status, data).into_response();
    for (k, v) in &headers {
        if k != axum::http::header::CONTENT_LENGTH && k != axum::http::header::TRANSFER_ENCODING {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// The operation id of `method path`, preferring the template with the most literal segments.
pub fn operation_of(method: &str, path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    opentrain::generated::meta::OPERATIONS
        .iter()
        .filter(|o| o.method.eq_ignore_ascii_case(method))
        .filter_map(|o| {
            let t: Vec<&str> = o.path.split('/').collect();
            if t.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in t.iter().zip(&segs) {
                if a.starts_with('{') {
                    if b.is_empty() {
                        return None;
                    }
                } else if a == b {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, o.id))
        })
        .max_by_key(|(l, _)| *l)
        .map(|(_, id)| id)
}

impl Recorder {
    pub async fn start(sandbox: &Sandbox) -> Recorder {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let fwd = Forward {
            target: sandbox.base_url().to_string(),
            http: opentrain::http_client_builder().expect("tls").no_proxy().build().expect("http"),
            log: log.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(fwd);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind recorder");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { base_url, log, task }
    }

    /// A client that talks to the sandbox through this recorder.
    pub fn client(&self, token: Option<Token>) -> Client {
        let b = Client::builder().base_url(&self.base_url).timeout(Duration::from_secs(10));
        match token {
            Some(t) => b.token(t),
            None => b,
        }
        .build()
        .expect("client")
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Checks every recorded response against the spec (status documented, JSON, schema) and
    /// returns the operations that answered with a 2xx.
    pub fn check_all(&self) -> std::collections::BTreeSet<String> {
        let mut ok = std::collections::BTreeSet::new();
        let mut failures = Vec::new();
        for x in self.exchanges() {
            if x.op == "?" {
                failures.push(format!("{} {} is not an operation of the spec", x.method, x.path));
                continue;
            }
            if !x.content_type.starts_with("application/json") {
                failures.push(format!(
                    "{} {} answered {} with content-type {:?}",
                    x.method, x.path, x.status, x.content_type
                ));
                continue;
            }
            match spec::spec().response_schema(&x.op, x.status) {
                None => {
                    failures.push(format!("{} ({} {}): status {} is not documented", x.op, x.method, x.path, x.status))
                }
                Some(schema) => {
                    let errs = spec::spec().violations(schema, &x.body);
                    if !errs.is_empty() {
                        failures.push(format!("{} {}: {}\n    body: {}", x.op, x.status, errs.join("; "), x.body));
                    }
                }
            }
            if (200..300).contains(&x.status) {
                ok.insert(x.op.clone());
            }
        }
        assert!(failures.is_empty(), "responses that break openapi.yaml:\n{}", failures.join("\n"));
        ok
    }
}

/// Every request a webhook receiver was sent, in arrival order, with a signal on each arrival so
/// that a test waits for the deliveries it expects instead of polling.
#[derive(Clone)]
pub struct Deliveries(tokio::sync::watch::Sender<Vec<httpmock::HttpMockRequest>>);

impl Deliveries {
    fn new() -> Self {
        Self(tokio::sync::watch::channel(Vec::new()).0)
    }

    /// A responder that keeps the request and answers `status`.
    fn recorder(&self, status: u16) -> impl Fn(&httpmock::HttpMockRequest) -> httpmock::HttpMockResponse + use<> {
        let log = self.0.clone();
        move |req| {
            log.send_modify(|all| all.push(req.clone()));
            httpmock::HttpMockResponse::builder().status(status).build()
        }
    }

    /// Waits (10 s at most, far beyond the sandbox's millisecond retries) until what arrived
    /// satisfies `enough`, then returns everything that arrived; the caller's assertions say
    /// what was missing when the wait ran out.
    pub async fn until(
        &self,
        enough: impl FnMut(&Vec<httpmock::HttpMockRequest>) -> bool,
    ) -> Vec<httpmock::HttpMockRequest> {
        let mut rx = self.0.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(enough)).await;
        self.0.borrow().clone()
    }
}

/// Makes `server` answer POSTs with `statuses` in turn, the last one for every further request,
/// and anything else with 404; every request it receives, answered or not, is kept in the
/// returned [`Deliveries`]. The mocks come back in the order of `statuses`, for hit counts.
pub async fn respond_in_turn<'a>(
    server: &'a httpmock::MockServer,
    statuses: &[u16],
) -> (Deliveries, Vec<httpmock::Mock<'a>>) {
    let deliveries = Deliveries::new();
    let last = statuses.len().saturating_sub(1);
    let mut mocks = Vec::new();
    // httpmock serves a request with the earliest-created mock that matches and is not used up.
    for (i, status) in statuses.iter().enumerate() {
        let respond = deliveries.recorder(*status);
        let mock = server
            .mock_async(|when, then| {
                when.method(httpmock::Method::POST);
                let then = then.respond_with(respond);
                if i < last {
                    then.up_to_n_times(1);
                }
            })
            .await;
        mocks.push(mock);
    }
    let unmatched = deliveries.recorder(404);
    server
        .mock_async(|_when, then| {
            then.respond_with(unmatched);
        })
        .await;
    (deliveries, mocks)
}
