//! The `opentrain` binary end to end: assert_cmd against wiremock on 127.0.0.1, with HOME and
//! XDG_CONFIG_HOME in a temp dir (never the developer's config) and none of the developer's
//! OT_/OPENTRAIN_ variables.

mod amounts;
mod auth;
mod errors;
mod inputs;
mod jobs;
mod money;
mod outcome;
mod paging;
mod people;
mod platform;
mod processes;
mod secrets;
mod signals;

use std::{
    path::PathBuf,
    process::Output,
    time::{Duration, Instant},
};

use serde_json::Value;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

/// The token the tests configure; no output may ever contain its secret part.
pub const TOKEN: &str = "ot_pat_test_secret";
pub const V1: &str = "/api/public/v1";

/// A mock API and a private config directory.
pub struct Cli {
    pub server: MockServer,
    pub dir: tempfile::TempDir,
}

impl Cli {
    pub async fn start() -> Self {
        Self { server: MockServer::start().await, dir: tempfile::tempdir().expect("temp dir") }
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
            if k.starts_with("OT_") || k.starts_with("OPENTRAIN_") || k == "COLUMNS" || k == "NO_COLOR" {
                c.env_remove(k.as_ref());
            }
        }
        c.env("HOME", self.dir.path()).env("XDG_CONFIG_HOME", self.dir.path().join("config"));
        c
    }

    /// [`bare`](Self::bare) pointed at the mock with [`TOKEN`] in `OT_API_TOKEN`.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.bare();
        c.env("OT_API_TOKEN", TOKEN).env("OT_API_BASE_URL", self.server.uri());
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
    pub async fn on(&self, m: &str, p: &str, status: u16, body: Value) {
        Mock::given(method(m))
            .and(path(p))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
    }

    /// Every request the mock received, in order.
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The single request the mock received.
    pub async fn only_request(&self) -> wiremock::Request {
        let mut r = self.requests().await;
        assert_eq!(
            r.len(),
            1,
            "expected exactly one request, got {:?}",
            r.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
        );
        r.remove(0)
    }

    /// Waits until the mock has seen `n` requests (for tests that act while the CLI runs).
    pub async fn wait_for_requests(&self, n: usize) {
        let start = Instant::now();
        while self.requests().await.len() < n {
            assert!(start.elapsed() < Duration::from_secs(20), "the CLI never made {n} requests");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
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
pub fn json_body(r: &wiremock::Request) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

/// A request's query parameters, sorted by name (the order on the wire is the client's business).
pub fn query(r: &wiremock::Request) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = r.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    q.sort();
    q
}

pub fn auth_header(r: &wiremock::Request) -> Option<String> {
    r.headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string)
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
