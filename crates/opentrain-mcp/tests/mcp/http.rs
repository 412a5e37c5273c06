//! `opentrain-mcp --http`: the built server on a 127.0.0.1 port, driven with plain HTTP as an
//! MCP client (or an attacker) would: per-request credentials, tenant isolation, the 401 and its
//! metadata, Origin/Host checks, limits, operational endpoints and the SIGTERM drain.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use httpmock::Mock;
use opentrain_httpmock::MockServerExt;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Child,
};

use crate::harness::{World, reply};

/// One running HTTP server and a client for it.
struct Served {
    child: Child,
    base: String,
    client: reqwest::Client,
    /// Everything the server wrote on stderr so far.
    log: Arc<Mutex<Vec<String>>>,
    /// Woken at each new stderr line.
    logged: Arc<tokio::sync::Notify>,
}

impl Served {
    async fn start(world: &World, flags: &[&str]) -> Self {
        let mut cmd = world.command();
        cmd.args(["--http", "127.0.0.1:0"]).args(flags).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn opentrain-mcp --http");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = loop {
            let line = lines.next_line().await.expect("read stderr").expect("the server exited before serving");
            log.lock().expect("log").push(line.clone());
            if let Some(url) = line.split("serving MCP over HTTP at ").nth(1) {
                break url.trim().trim_end_matches("/mcp").to_string();
            }
        };
        let (sink, logged) = (log.clone(), Arc::new(tokio::sync::Notify::new()));
        let wake = logged.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().expect("log").push(line);
                wake.notify_waiters();
            }
        });
        let client = opentrain::http_client_builder().expect("tls").build().expect("http");
        Self { child, base, client, log, logged }
    }

    fn post(&self, token: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
        self.post_as("2025-06-18", token, body)
    }

    /// A POST to `/mcp` speaking protocol `version`.
    fn post_as(&self, version: &str, token: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
        let mut r = self
            .client
            .post(format!("{}/mcp", self.base))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", version)
            .body(body.to_string());
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r
    }

    async fn rpc(&self, token: Option<&str>, method: &str, params: Value) -> reqwest::Response {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.post(token, &body).send().await.expect("send")
    }

    /// A tool call's JSON-RPC `result`, from a JSON or an SSE answer.
    async fn call(&self, token: Option<&str>, name: &str, args: Value) -> Value {
        let r = self.rpc(token, "tools/call", json!({"name": name, "arguments": args})).await;
        assert_eq!(r.status(), 200, "{name}");
        let messages = messages(r).await;
        let last = messages.last().cloned().unwrap_or(Value::Null);
        assert!(last.get("result").is_some(), "{name}: no result in {messages:?}");
        last["result"].clone()
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// The log once a line containing `needle` arrived (log lines are written in batches, a few
    /// milliseconds after the call they describe).
    async fn log_after(&self, needle: &str) -> String {
        let wait = async {
            loop {
                let next = self.logged.notified();
                let log = self.log();
                if log.contains(needle) {
                    return log;
                }
                next.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait).await.unwrap_or_else(|_| panic!("no `{needle}` in the log"))
    }
}

/// The JSON-RPC messages of an answer: one JSON body, or each `data:` event of an SSE stream.
async fn messages(r: reqwest::Response) -> Vec<Value> {
    let sse = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let body = r.text().await.expect("body");
    if !sse {
        return vec![serde_json::from_str(&body).expect("JSON body")];
    }
    body.lines().filter_map(|l| l.strip_prefix("data:")).filter_map(|d| serde_json::from_str(d.trim()).ok()).collect()
}

fn credits_for<'a>(world: &'a World, token: &str, owner: &str) -> Mock<'a> {
    world.api.get_credits(|when, then| {
        when.into_inner().header("authorization", format!("Bearer {token}"));
        reply(then.into_inner(), 200, &json!({"credits": {"availableCents": 100, "reservedCents": 0, "owner": owner}}));
    })
}

#[tokio::test]
async fn initialize_and_list_work_without_a_token_and_follow_the_filters() {
    let world = World::new().await;
    let served = Served::start(&world, &["--read-only"]).await;
    let init =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    let r = served.rpc(None, "initialize", init).await;
    assert_eq!(r.status(), 200);
    let m = messages(r).await;
    assert_eq!(m[0]["result"]["serverInfo"]["name"], "opentrain", "{m:?}");
    assert!(m[0]["result"]["protocolVersion"].is_string());

    let r = served.rpc(None, "tools/list", json!({})).await;
    assert_eq!(r.status(), 200);
    let m = messages(r).await;
    let names: Vec<&str> =
        m[0]["result"]["tools"].as_array().expect("tools").iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains(&"opentrain_get_credits"), "{names:?}");
    assert!(!names.contains(&"opentrain_hire_proposal"), "--read-only applies over HTTP too: {names:?}");
    assert!(world.requests().is_empty(), "listing sends nothing upstream");
}

#[tokio::test]
async fn a_call_without_a_token_gets_401_pointing_at_the_resource_metadata() {
    let world = World::with_env_token("ot_pat_server_own").await;
    let served = Served::start(&world, &[]).await;
    let r = served.rpc(None, "tools/call", json!({"name": "opentrain_get_credits", "arguments": {}})).await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", served.base);
    assert_eq!(challenge, format!("Bearer resource_metadata=\"{metadata_url}\""));
    let doc: Value = served.client.get(&metadata_url).send().await.expect("metadata").json().await.expect("JSON");
    assert_eq!(doc["resource"], format!("{}/mcp", served.base));
    assert_eq!(doc["authorization_servers"][0], world.api.base_url());
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));

    let r = served
        .client
        .post(format!("{}/mcp", served.base))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401, "a non-bearer Authorization is refused");
    assert!(world.requests().is_empty(), "the server's own token was never used: {:?}", world.requests());
}

#[tokio::test]
async fn tokenless_tools_run_without_a_token_and_register_writes_nothing() {
    let world = World::with_env_token("ot_pat_server_own").await;
    let register = world.api.register_agent(|when, then| {
        when.into_inner().header_missing("authorization");
        let body = json!({
            "identity_type": "anonymous", "registration_id": "reg_1", "access_token": "ot_pat_new",
            "token_type": "bearer", "scopes": ["jobs:read"], "claim_token": "ot_clm_new"
        });
        reply(then.into_inner(), 200, &body);
    });
    let served = Served::start(&world, &[]).await;
    let r = served.call(None, "opentrain_register_agent", json!({"agentName": "Claude Code"})).await;
    assert_ne!(r["isError"], true, "{r}");
    assert_eq!(r["structuredContent"]["access_token"], "ot_pat_new", "the caller gets its token: {r}");
    assert_eq!(r["structuredContent"]["claim_token"], "ot_clm_new");
    let text = r["content"][0]["text"].as_str().unwrap_or_default();
    assert!(!text.contains("ot_pat_new") && text.contains("Authorization: Bearer"), "{text}");
    register.assert_calls_async(1).await;
    assert!(!world.cli_json().exists(), "nothing is saved on the server");

    let r = served.call(None, "opentrain_claim_status", json!({})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(r["structuredContent"]["code"], "NO_CLAIM_TOKEN", "no saved claim token to fall back on: {r}");
    let log = served.log_after("tool=\"opentrain_claim_status\"").await;
    assert!(log.contains("tool=\"opentrain_register_agent\""), "{log}");
    assert!(!log.contains("ot_pat_new") && !log.contains("ot_clm_new"), "tokens never reach the log: {log}");
}

#[tokio::test]
async fn concurrent_tenants_each_reach_the_api_with_their_own_token() {
    let world = World::with_env_token("ot_pat_server_own").await;
    let tenants: Vec<(String, String)> = (0..6).map(|i| (format!("ot_pat_tenant{i}"), format!("tenant-{i}"))).collect();
    let mocks: Vec<Mock> = tenants.iter().map(|(t, o)| credits_for(&world, t, o)).collect();
    let served = Arc::new(Served::start(&world, &[]).await);
    let calls = 8;
    let mut tasks = Vec::new();
    for (token, owner) in tenants.clone() {
        for _ in 0..calls {
            let (served, token, owner) = (served.clone(), token.clone(), owner.clone());
            tasks.push(tokio::spawn(async move {
                let r = served.call(Some(&token), "opentrain_get_credits", json!({})).await;
                assert_eq!(r["structuredContent"]["credits"]["owner"], owner.as_str(), "{r}");
            }));
        }
    }
    for t in tasks {
        t.await.expect("tenant task");
    }
    for m in &mocks {
        m.assert_calls_async(calls).await;
    }
    let all = world.requests();
    assert_eq!(all.len(), tenants.len() * calls, "every call went upstream once");
    assert!(
        all.iter().all(|r| r.headers().iter().all(|(_, v)| !v.to_str().unwrap_or_default().contains("server_own"))),
        "the server's environment token never went out"
    );
    let metrics = served.client.get(format!("{}/metrics", served.base)).send().await.expect("metrics");
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains(&format!(
            "opentrain_mcp_tool_calls_total{{tool=\"opentrain_get_credits\",outcome=\"ok\"}} {}",
            tenants.len() * calls
        )),
        "{text}"
    );
}

/// The stateless 2026-07-28 protocol over HTTP: no `initialize`, the version and client details
/// ride in each request's `_meta` and header, and a call still uses that request's own token.
#[tokio::test]
async fn the_stateless_2026_07_28_protocol_works_over_http_without_initialize() {
    let world = World::new().await;
    let credits = credits_for(&world, "ot_pat_tenant_stateless", "stateless");
    let served = Served::start(&world, &[]).await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
    });
    // This protocol's clients also name the method (and the tool) in headers, which rmcp checks
    // against the body: a load balancer can route on them without parsing JSON.
    let send = |id: u64, method: &str, params: Value, token: Option<&str>| {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut r = served.post_as("2026-07-28", token, &body).header("mcp-method", method);
        if let Some(name) = params["name"].as_str() {
            r = r.header("mcp-name", name);
        }
        r.send()
    };
    let r = send(1, "server/discover", json!({"_meta": meta}), None).await.expect("discover");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let d = messages(r).await;
    let versions = d[0]["result"]["supportedVersions"].to_string();
    assert!(versions.contains("2026-07-28"), "{d:?}");

    let call = json!({"_meta": meta, "name": "opentrain_get_credits", "arguments": {}});
    let r = send(2, "tools/call", call, Some("ot_pat_tenant_stateless")).await.expect("call");
    assert_eq!(r.status(), 200);
    let m = messages(r).await;
    let result = &m.last().expect("an answer")["result"];
    assert_eq!(result["isError"], false, "{m:?}");
    assert_eq!(result["structuredContent"]["credits"]["owner"], "stateless", "{m:?}");
    credits.assert_calls_async(1).await;
}

#[tokio::test]
async fn single_user_mode_serves_with_the_server_token() {
    let world = World::with_env_token("ot_pat_server_own").await;
    let own = credits_for(&world, "ot_pat_server_own", "me");
    let served = Served::start(&world, &["--single-user"]).await;
    let r = served.call(None, "opentrain_get_credits", json!({})).await;
    assert_eq!(r["structuredContent"]["credits"]["owner"], "me", "{r}");
    own.assert_calls_async(1).await;
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused_and_bodies_are_capped() {
    let world = World::new().await;
    let served = Served::start(&world, &["--max-body-bytes", "4000"]).await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let r = served.post(None, &list).header("origin", "http://evil.example").send().await.expect("send");
    assert_eq!(r.status(), 403, "DNS rebinding: a foreign Origin");
    let r = served.post(None, &list).header("origin", served.base.as_str()).send().await.expect("send");
    assert_eq!(r.status(), 200, "the server's own origin");
    let r = served.post(None, &list).header("host", "evil.example").send().await.expect("send");
    assert_eq!(r.status(), 403, "bound to loopback: a foreign Host");
    let huge = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "x".repeat(5000)}});
    let r = served.post(None, &huge).send().await.expect("send");
    assert_eq!(r.status(), 413, "body over the cap");
}

#[tokio::test]
async fn health_readiness_and_metrics_are_served() {
    let world = World::new().await;
    let served = Served::start(&world, &[]).await;
    for path in ["/healthz", "/readyz"] {
        let r = served.client.get(format!("{}{path}", served.base)).send().await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
    }
    let r = served.client.get(format!("{}/metrics", served.base)).send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("text").contains("opentrain_mcp_tool_calls_in_flight"));
}

#[tokio::test]
async fn wait_for_approval_streams_progress_over_sse() {
    let world = World::new().await;
    world.api.get_approval(|when, then| {
        when.approval_id("appr_1").into_inner().header("authorization", "Bearer ot_pat_a");
        let body = json!({"approval": {"id": "appr_1", "type": "proposal_hire", "status": "confirmed",
            "approvalUrl": "https://app.opentrain.ai/approvals/appr_1", "result": {"contractId": "ctr_1"}}});
        reply(then.into_inner(), 200, &body);
    });
    let served = Served::start(&world, &[]).await;
    let params = json!({"name": "opentrain_wait_for_approval", "arguments": {"approvalId": "appr_1"},
        "_meta": {"progressToken": "p1"}});
    let r = served.rpc(Some("ot_pat_a"), "tools/call", params).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/event-stream"));
    let m = messages(r).await;
    assert_eq!(m[0]["method"], "notifications/progress", "{m:?}");
    assert_eq!(m[0]["params"]["progressToken"], "p1");
    assert_eq!(
        m.last().map(|l| l["result"]["structuredContent"]["approval"]["status"].clone()),
        Some(json!("confirmed"))
    );
}

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish() {
    let world = World::new().await;
    world.api.get_credits(|when, then| {
        when.into_inner().header("authorization", "Bearer ot_pat_a");
        reply(then.into_inner(), 200, &json!({"credits": {"availableCents": 700, "reservedCents": 0}}))
            .delay(Duration::from_millis(800));
    });
    let mut served = Served::start(&world, &[]).await;
    let base = served.base.clone();
    let client = served.client.clone();
    let in_flight = tokio::spawn(async move {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "opentrain_get_credits", "arguments": {}}});
        client
            .post(format!("{base}/mcp"))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("authorization", "Bearer ot_pat_a")
            .body(body.to_string())
            .send()
            .await
    });
    world.first_request().await;
    let pid = served.child.id().expect("pid").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let r = in_flight.await.expect("task").expect("the call in flight is answered");
    assert_eq!(r.status(), 200);
    let m = messages(r).await;
    assert_eq!(m[0]["result"]["structuredContent"]["credits"]["availableCents"], 700, "{m:?}");
    let status = served.child.wait().await.expect("exit");
    assert!(status.success(), "a drained stop exits 0: {status:?}");
    let after = served.client.get(format!("{}/healthz", served.base)).send().await;
    assert!(after.is_err(), "nothing listens after the drain");
}
