//! The credential promises end to end, with the real binaries: two `opentrain auth register`
//! processes racing on one cli.json, a real SIGTERM during a claim poll, the too-open warning on
//! stderr, and an `opentrain-mcp` that keeps answering with a FIFO at its cli.json.

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use httpmock::MockServer;
use serde_json::{Value, json};

use super::{Journal, json};

/// `opentrain-mcp`, built beside `opentrain` by the README's `cargo test --workspace`.
fn mcp_bin() -> String {
    let p = Path::new(env!("CARGO_BIN_EXE_opentrain")).with_file_name("opentrain-mcp");
    assert!(p.is_file(), "{} is not built: run `cargo test --workspace`", p.display());
    p.to_string_lossy().into_owned()
}

/// A private HOME and config directory, so nothing touches the developer's own cli.json.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn cli_json(&self) -> PathBuf {
        self.dir.path().join("config").join("opentrain").join("cli.json")
    }

    fn write(&self, body: &Value) {
        let p = self.cli_json();
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, serde_json::to_vec_pretty(body).expect("json")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    fn read(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.cli_json()).expect("cli.json")).expect("JSON")
    }

    /// `bin` with this home and none of the developer's OpenTrain variables.
    fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("OT_") || k.starts_with("OPENTRAIN_") {
                c.env_remove(k.as_ref());
            }
        }
        c.env("HOME", self.dir.path()).env("XDG_CONFIG_HOME", self.dir.path().join("config"));
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    fn cli(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_opentrain"))
    }
}

fn registration() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/examples/auth__POST_api_agent_identity__response.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("fixture JSON")
}

#[tokio::test]
async fn two_concurrent_cli_registrations_create_exactly_one_account() {
    let server = MockServer::start_async().await;
    let seen = Journal::of(&server).await;
    let body = registration();
    server
        .mock_async(|when, then| {
            when.method("POST").path("/api/agent/identity");
            json(then, 200, &body).delay(Duration::from_millis(500));
        })
        .await;
    let home = Home::new();
    let spawn =
        || home.cli().args(["auth", "register", "--base-url", &server.base_url()]).spawn().expect("spawn opentrain");
    let (a, b) = (spawn(), spawn());
    let outputs = tokio::task::spawn_blocking(move || {
        [a.wait_with_output().expect("first exits"), b.wait_with_output().expect("second exits")]
    })
    .await
    .expect("join");

    let accounts = seen.requests().len();
    assert_eq!(accounts, 1, "exactly one account created by two concurrent registrations");
    let ok: Vec<_> = outputs.iter().filter(|o| o.status.success()).collect();
    let refused: Vec<_> = outputs.iter().filter(|o| !o.status.success()).collect();
    assert_eq!((ok.len(), refused.len()), (1, 1));
    let said = String::from_utf8_lossy(&refused[0].stderr);
    assert!(said.contains("already saved"), "the second one says why it refused: {said}");
    assert_eq!(home.read()["apiToken"], body["access_token"], "the saved token is the created account's");
}

#[tokio::test]
async fn sigterm_during_a_successful_claim_poll_still_saves_the_post_claim_token() {
    let server = MockServer::start_async().await;
    let seen = Journal::of(&server).await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/api/agent/oauth/token");
            let granted = json!({"access_token": "ot_pat_post_claim_secret", "token_type": "bearer"});
            json(then, 200, &granted).delay(Duration::from_millis(1500));
        })
        .await;
    let home = Home::new();
    home.write(
        &json!({"apiToken": "ot_pat_pre_secret", "claimToken": "ot_clm_saved_secret", "baseUrl": server.base_url()}),
    );
    let child = home.cli().args(["auth", "claim-status", "--wait", "--interval", "1"]).spawn().expect("spawn");

    // The poll is in flight (the server holds its answer for 1.5 s): the user stops now.
    seen.wait_for(1).await;
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join").expect("exits");

    let saved = home.read();
    assert_eq!(saved["apiToken"], "ot_pat_post_claim_secret", "the one-time token was saved before exiting");
    assert!(saved.get("claimToken").is_none(), "{saved}");
    assert!(out.status.success(), "the claim completed: {}", String::from_utf8_lossy(&out.stderr));
    let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(shown.contains("Claimed") && !shown.contains("unchanged"), "{shown}");
}

#[tokio::test]
async fn sigterm_between_claim_polls_says_the_claim_is_still_pending() {
    let server = MockServer::start_async().await;
    let seen = Journal::of(&server).await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/api/agent/oauth/token");
            json(then, 400, &json!({"error": "authorization_pending"}));
        })
        .await;
    let home = Home::new();
    let creds =
        json!({"apiToken": "ot_pat_pre_secret", "claimToken": "ot_clm_saved_secret", "baseUrl": server.base_url()});
    home.write(&creds);
    let child = home.cli().args(["auth", "claim-status", "--wait", "--interval", "600"]).spawn().expect("spawn");
    seen.wait_for(1).await;
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join").expect("exits");

    assert_eq!(out.status.code(), Some(130), "an interruption, not a kill by the signal");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("still pending") && said.contains("claim-status --wait"), "{said}");
    assert_eq!(home.read(), creds, "nothing was lost: the claim token is there to resume");
}

#[test]
fn a_cli_json_others_can_read_is_warned_about_once_like_ssh() {
    let home = Home::new();
    home.write(&json!({"apiToken": "ot_pat_saved_secret", "baseUrl": "http://127.0.0.1:9"}));
    std::fs::set_permissions(home.cli_json(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    // Refused locally (credentials exist), after reading the file more than once.
    let out = home.cli().args(["auth", "register"]).output().expect("runs");
    let said = String::from_utf8_lossy(&out.stderr);
    let warning = format!("Permissions 0644 for '{}' are too open", home.cli_json().display());
    assert_eq!(said.matches(&warning).count(), 1, "{said}");
    assert!(!said.contains("saved_secret"), "{said}");
    assert!(said.contains("already saved"), "it still works, it only warns: {said}");
}

fn make_fifo(at: &Path) {
    std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
    assert!(Command::new("mkfifo").arg(at).status().expect("mkfifo runs").success());
}

#[test]
fn a_fifo_at_cli_json_does_not_freeze_the_mcp_server() {
    let home = Home::new();
    make_fifo(&home.cli_json());
    let mut child = home.command(&mcp_bin()).stdin(Stdio::piped()).spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && tx.send(v).is_err()
            {
                break;
            }
        }
    });
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let lines = [
        init,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "opentrain_get_credits", "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    ];
    for l in lines {
        writeln!(stdin, "{l}").expect("write");
    }
    stdin.flush().expect("flush");

    let mut replies = std::collections::HashMap::new();
    while !(replies.contains_key(&2) && replies.contains_key(&3)) {
        // The old server blocked forever reading the FIFO; 20 s is only a backstop.
        let Ok(v) = rx.recv_timeout(Duration::from_secs(20)) else { break };
        if let Some(id) = v.get("id").and_then(Value::as_i64) {
            replies.insert(id, v);
        }
    }
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();

    assert!(replies.contains_key(&3), "ping was answered: {replies:?}");
    let call = &replies.get(&2).expect("the tool call was answered")["result"];
    assert_eq!(call["isError"], true, "{call}");
    let text = call.to_string();
    assert!(text.contains("cli.json") && text.contains("not a regular file"), "{text}");
}
