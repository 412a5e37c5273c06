//! The `opentrain` binary end to end: assert_cmd against httpmock on 127.0.0.1, with HOME and
//! XDG_CONFIG_HOME in a temp dir (never the developer's config) and none of the developer's
//! OT_/OPENTRAIN_ variables.

mod amounts;
mod auth;
mod e2e;
mod errors;
mod inputs;
mod jobs;
mod money;
mod outcome;
mod paging;
mod people;
mod platform;
mod processes;
mod requires;
mod sandbox;
mod scripting;
mod secrets;
mod signals;

use std::{path::PathBuf, process::Output, sync::Arc, time::Duration};

use httpmock::{HttpMockRequest, Mock, MockServer, Then, When};
use serde_json::Value;
use tokio::sync::watch;

/// The token the tests configure; no output may ever contain its secret part.
pub const TOKEN: &str = "ot_pat_test_secret";
pub const V1: &str = "/api/public/v1";

/// Every request a mock server received, in arrival order, whether a mock answered it or not.
///
/// httpmock keeps its request history to itself. Mocks are tried in the order they were
/// created, so a first mock whose only condition records the request and then declines sees
/// every request exactly once and never answers one.
#[derive(Clone, Default)]
pub struct Journal(Arc<watch::Sender<Vec<HttpMockRequest>>>);

impl Journal {
    /// A journal of every request `server` receives from now on.
    pub async fn of(server: &MockServer) -> Self {
        let journal = Self::default();
        journal.tap(server).await;
        journal
    }

    async fn tap(&self, server: &MockServer) {
        let log = self.0.clone();
        server
            .mock_async(move |when, _| {
                when.is_true(move |req| {
                    log.send_modify(|seen| seen.push(req.clone()));
                    false
                });
            })
            .await;
    }

    pub fn requests(&self) -> Vec<HttpMockRequest> {
        self.0.borrow().clone()
    }

    /// Waits until `n` requests have arrived (for tests that act while a binary runs).
    pub async fn wait_for(&self, n: usize) {
        let mut seen = self.0.subscribe();
        // Only a backstop: the journal signals each request as it arrives.
        let arrived = tokio::time::timeout(Duration::from_secs(20), seen.wait_for(|r| r.len() >= n)).await;
        assert!(matches!(arrived, Ok(Ok(_))), "the binary never made {n} requests");
    }
}

/// A mock API and a private config directory.
pub struct Cli {
    pub server: MockServer,
    pub dir: tempfile::TempDir,
    journal: Journal,
}

impl Cli {
    pub async fn start() -> Self {
        let server = MockServer::start_async().await;
        let journal = Journal::of(&server).await;
        Self { server, dir: tempfile::tempdir().expect("temp dir"), journal }
    }

    /// Forgets every mock and every request seen so far.
    pub async fn reset(&self) {
        self.server.reset_async().await;
        self.journal.0.send_modify(Vec::clear);
        self.journal.tap(&self.server).await;
    }

    /// The binary with a clean environment: config in the temp dir, nothing else configured.
    pub fn bare(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::from_std(self.process());
        c.timeout(Duration::from_secs(60));
        c
    }

    /// [`bare`](Self::bare) as a plain process, for tests that talk to it while it runs.
    pub fn process(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_opentrain"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("OT_")
                || k.starts_with("OPENTRAIN_")
                || ["COLUMNS", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"].contains(&k.as_ref())
            {
                c.env_remove(k.as_ref());
            }
        }
        c.env("HOME", self.dir.path()).env("XDG_CONFIG_HOME", self.dir.path().join("config"));
        c
    }

    /// [`bare`](Self::bare) pointed at the mock with [`TOKEN`] in `OT_API_TOKEN`.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.bare();
        c.env("OT_API_TOKEN", TOKEN).env("OT_API_BASE_URL", self.server.base_url());
        c
    }

    /// The shared credentials file under the temp config dir.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config").join("opentrain").join("cli.json")
    }

    pub fn write_config(&self, body: &Value) {
        let p = self.config_file();
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, serde_json::to_vec_pretty(body).expect("json")).expect("write config");
    }

    pub fn read_config(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.config_file()).expect("config exists")).expect("config JSON")
    }

    /// Answers `METHOD path` with `status` and a JSON body.
    pub async fn on(&self, m: &str, p: &str, status: u16, body: Value) -> Mock<'_> {
        self.server
            .mock_async(|when, then| {
                when.method(m).path(p);
                json(then, status, &body);
            })
            .await
    }

    /// Every request the mock received, in order.
    pub fn requests(&self) -> Vec<HttpMockRequest> {
        self.journal.requests()
    }

    /// The single request the mock received.
    pub fn only_request(&self) -> HttpMockRequest {
        let mut r = self.requests();
        assert_eq!(
            r.len(),
            1,
            "expected exactly one request, got {:?}",
            r.iter().map(|r| r.uri().to_string()).collect::<Vec<_>>()
        );
        r.remove(0)
    }

    /// Waits until the mock has seen `n` requests (for tests that act while the CLI runs).
    pub async fn wait_for_requests(&self, n: usize) {
        self.journal.wait_for(n).await;
    }
}

/// `status` with `body` as JSON, labelled as JSON the way the API labels it.
pub fn json(then: Then, status: u16, body: &Value) -> Then {
    then.status(status).header("content-type", "application/json").json_body(body.clone())
}

/// One operation's typed expectation from `opentrain-httpmock`, so a spec change that renames
/// the operation, a parameter or a body type breaks the test at compile time. Built with
/// httpmock's async API (the generated `MockServerExt` methods block), e.g.
/// `typed(&server, ops::GetAuthMeWhen::new, ops::GetAuthMeThen::new, |when, then| ..)`.
pub async fn typed<'a, W, T>(
    server: &'a MockServer,
    when: fn(When) -> W,
    then: fn(Then) -> T,
    spec: impl FnOnce(W, T),
) -> Mock<'a> {
    server.mock_async(|w, t| spec(when(w), then(t))).await
}

/// A documented example body from `tests/fixtures/examples`.
pub fn fixture(name: &str) -> Value {
    let p = format!("{}/../../tests/fixtures/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("fixture JSON")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A request's JSON body.
pub fn json_body(r: &HttpMockRequest) -> Value {
    serde_json::from_slice(r.body_ref()).expect("JSON body")
}

/// A request's query parameters, sorted by name (the order on the wire is the client's business).
pub fn query(r: &HttpMockRequest) -> Vec<(String, String)> {
    let mut q = r.query_params();
    q.sort();
    q
}

pub fn auth_header(r: &HttpMockRequest) -> Option<String> {
    r.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Runs `cmd`, expecting success, and checks that no token secret leaked into its output.
pub fn ok(cmd: &mut assert_cmd::Command) -> Output {
    let o = cmd.output().expect("runs");
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), stdout(&o), stderr(&o));
    no_secret(&o);
    o
}

/// Runs `cmd`, expecting exit code `code`.
pub fn fails(cmd: &mut assert_cmd::Command, code: i32) -> Output {
    let o = cmd.output().expect("runs");
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(&o), stderr(&o));
    no_secret(&o);
    o
}

fn no_secret(o: &Output) {
    for text in [stdout(o), stderr(o)] {
        assert!(!text.contains("test_secret") && !text.contains("secret123"), "a token leaked:\n{text}");
    }
}
