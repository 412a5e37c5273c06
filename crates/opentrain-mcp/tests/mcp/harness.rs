//! Spawns the built `opentrain-mcp` as a child process with a private HOME and an httpmock API,
//! and drives it with rmcp's client (or with raw lines for the protocol-robustness tests).

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use httpmock::{HttpMockRequest, MockServer, Then};
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam},
    service::{NotificationContext, RunningService},
    transport::TokioChildProcess,
};
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, ChildStdout, Command},
    sync::watch,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_opentrain-mcp");

/// Records progress notifications the server sends.
#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        if let Ok(mut p) = self.progress.lock() {
            p.push(params);
        }
    }
}

pub type Client = RunningService<RoleClient, Recorder>;

/// One test's world: a mock API and a config directory nobody else uses.
pub struct World {
    pub api: MockServer,
    /// Every request the mock API received, matched or not, in arrival order.
    seen: Arc<watch::Sender<Vec<HttpMockRequest>>>,
    pub home: TempDir,
    /// `OPENTRAIN_PERSONAL_API_TOKEN` for the child, if any.
    pub env_token: Option<String>,
    /// Extra environment for the child.
    pub env: Vec<(String, String)>,
    /// Flags for the child.
    pub args: Vec<String>,
}

impl World {
    pub async fn new() -> Self {
        let api = MockServer::start_async().await;
        let seen = Arc::new(watch::Sender::new(Vec::new()));
        // httpmock keeps no server-wide request log that tests can read, yet "nothing was sent"
        // must count requests no mock matched too. httpmock tries mocks in creation order and
        // stops at the first match, so this first mock sees every request; it records it and
        // never matches.
        let log = Arc::clone(&seen);
        api.mock_async(move |when, _then| {
            when.is_true(move |req| {
                log.send_modify(|all| all.push(req.clone()));
                false
            });
        })
        .await;
        Self {
            api,
            seen,
            home: tempfile::tempdir().expect("temp HOME"),
            env_token: None,
            env: Vec::new(),
            args: Vec::new(),
        }
    }

    /// A world whose server has `token` from the environment.
    pub async fn with_env_token(token: &str) -> Self {
        let mut w = Self::new().await;
        w.env_token = Some(token.to_string());
        w
    }

    pub fn cli_json(&self) -> PathBuf {
        self.home.path().join(".config").join("opentrain").join("cli.json")
    }

    pub fn write_creds(&self, creds: &Value) {
        let path = self.cli_json();
        std::fs::create_dir_all(path.parent().expect("parent")).expect("config dir");
        std::fs::write(&path, serde_json::to_vec_pretty(creds).expect("json")).expect("write cli.json");
    }

    pub fn read_creds(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.cli_json()).expect("cli.json exists")).expect("cli.json is JSON")
    }

    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.args = flags.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn var(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The child's command: nothing from the real environment, HOME and XDG_CONFIG_HOME private.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("OPENTRAIN_API_BASE_URL", self.api.base_url())
            .args(&self.args)
            .kill_on_drop(true);
        if let Some(t) = &self.env_token {
            cmd.env("OPENTRAIN_PERSONAL_API_TOKEN", t);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Spawns the server and completes the MCP handshake.
    pub async fn client(&self) -> Client {
        let (transport, _stderr) =
            TokioChildProcess::builder(self.command()).stderr(Stdio::null()).spawn().expect("spawn opentrain-mcp");
        Recorder::default().serve(transport).await.expect("MCP handshake")
    }

    /// Requests the mock API received, matched or not.
    pub fn requests(&self) -> Vec<HttpMockRequest> {
        self.seen.borrow().clone()
    }

    /// Resolves once the mock API has received a request.
    pub async fn first_request(&self) {
        let mut seen = self.seen.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = seen.wait_for(|all| !all.is_empty()).await;
    }
}

/// A JSON answer as the API sends one: `status`, `application/json`, `body`.
pub fn reply(then: Then, status: u16, body: &Value) -> Then {
    then.status(status).header("content-type", "application/json").json_body(body.clone())
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("arguments must be an object, got {other}"),
    }
}

/// Calls a tool and checks the result against the tool's outputSchema, as the official
/// TypeScript client does (error results included).
pub async fn call(client: &Client, name: &str, args: Value) -> CallToolResult {
    let result = client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(object(args)))
        .await
        .unwrap_or_else(|e| panic!("{name}: protocol error {e}"));
    if let Some(structured) = &result.structured_content {
        assert!(structured.is_object(), "{name}: structuredContent must be an object");
        let table = opentrain_mcp::table();
        let def = table.iter().find(|t| t.name == name).expect("tool in the table");
        let schema: Value = serde_json::from_str(def.output_schema).expect("output schema");
        if let Err(v) = opentrain_mcp::validate(&schema, structured) {
            panic!("{name}: structuredContent does not fit outputSchema: {v}\n{structured}");
        }
    }
    result
}

/// A call that must fail at the protocol level; returns the JSON-RPC error.
pub async fn call_protocol_error(client: &Client, name: &str, args: Value) -> rmcp::ErrorData {
    match client.call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(object(args))).await {
        Err(rmcp::ServiceError::McpError(e)) => e,
        other => panic!("{name}: expected a JSON-RPC error, got {other:?}"),
    }
}

pub fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

pub fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

pub fn is_error(r: &CallToolResult) -> bool {
    r.is_error == Some(true)
}

/// The server driven by raw lines, for what a well-behaved client never sends.
pub struct Raw {
    pub child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Raw {
    pub fn spawn(world: &World) -> Self {
        let mut cmd = world.command();
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn opentrain-mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Self { child, stdin, stdout }
    }

    pub async fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).await.expect("write");
        self.stdin.write_all(b"\n").await.expect("write");
        self.stdin.flush().await.expect("flush");
    }

    /// The next line the server writes, as JSON.
    pub async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line())
            .await
            .expect("an answer within 10 s")
            .expect("read stdout")
            .expect("the server is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carried non-JSON {line:?}: {e}"))
    }

    pub async fn initialize(&mut self, version: &str) -> Value {
        self.send(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
            .to_string(),
        )
        .await;
        let answer = self.recv().await;
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        answer
    }
}
