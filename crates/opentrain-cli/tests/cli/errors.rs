//! Failure output and exit codes: API errors, usage errors, transport errors, a missing token,
//! a closed pipe and Ctrl-C.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use opentrain_httpmock::operations as ops;
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn api_error_prints_status_code_message_and_details_and_exits_1() {
    let t = Cli::start().await;
    let mut envelope = fixture("concepts__POST_api_public_v1_proposals_{proposalId}_hire__error_403.json");
    envelope["requestId"] = json!("req_42");
    t.on("POST", "/api/public/v1/proposals/p_1/hire", 403, envelope.clone()).await;
    let args = ["proposals", "hire", "--proposal-id", "p_1", "--amount", "10", "--name", "x"];
    let o = fails(t.cmd().args(args), 1);
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        "Error (HTTP 403 FORBIDDEN): A human must claim this agent account before it can hire AI trainers.\n\
         Details: {\"action\":\"hire AI trainers\",\"claimUrl\":\"https://app.opentrain.ai/claim\",\"reason\":\"account_claim_required\"}\n\
         Request ID: req_42\n\
         Next: a human must claim this account first: opentrain auth claim --email <their address>\n"
    );

    // With --json the envelope follows, exactly as the API sent it, as the last line.
    let o = fails(t.cmd().args(args).arg("--json"), 1);
    assert_eq!(stdout(&o), "");
    let last = stderr(&o).lines().last().map(str::to_string).unwrap_or_default();
    assert_eq!(serde_json::from_str::<Value>(&last).expect("envelope JSON"), envelope);
}

#[tokio::test]
async fn usage_errors_exit_2_and_send_nothing() {
    let t = Cli::start().await;
    let o = fails(t.cmd().args(["jobs", "list", "--limit", "0"]), 2);
    assert!(stderr(&o).starts_with("Usage error: invalid value '0' for '--limit <N>'"), "{}", stderr(&o));
    let o = fails(t.cmd().args(["jobs", "list", "--status", "OPENED"]), 2);
    assert!(stderr(&o).starts_with("Usage error: invalid value 'OPENED' for '--status <STATUS>'"), "{}", stderr(&o));
    let o = fails(t.cmd().args(["jobs", "frobnicate"]), 2);
    assert!(stderr(&o).starts_with("Usage error: unrecognized subcommand 'frobnicate'"), "{}", stderr(&o));
    let o = fails(t.cmd().args(["messages", "send", "--conversation-id", "c", "--json"]), 2);
    let last = stderr(&o).lines().last().map(str::to_string).unwrap_or_default();
    assert_eq!(serde_json::from_str::<Value>(&last).expect("envelope")["code"], "USAGE_ERROR");
    fails(t.cmd().arg("proposals"), 2);
    assert!(t.requests().is_empty());
}

#[tokio::test]
async fn transport_errors_say_what_failed_and_after_how_many_attempts() {
    let t = Cli::start().await;
    // A port nothing listens on: connection refused, retried like every connect failure.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let o = fails(t.cmd().args(["jobs", "list", "--base-url", &format!("http://127.0.0.1:{port}")]), 1);
    let err = stderr(&o);
    assert!(err.starts_with("Error: GET /api/public/v1/jobs/mine: request failed after 3 attempts: "), "{err}");
    assert!(err.contains("Connection refused") || err.contains("connect"), "{err}");

    // A 503 page that is not JSON is retried (a GET), then reported with its status.
    let down = t
        .server
        .mock_async(|when, then| {
            when.method("GET").path("/api/public/v1/credits");
            then.status(503).header("content-type", "text/plain").body("<html>down</html>");
        })
        .await;
    let o = fails(t.cmd().args(["credits", "show"]), 1);
    assert!(stderr(&o).starts_with("Error: GET /api/public/v1/credits: invalid response (HTTP 503)"), "{}", stderr(&o));
    down.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_missing_token_or_a_corrupt_file_is_explained() {
    let t = Cli::start().await;
    let o = fails(t.bare().args(["jobs", "list", "--base-url", &t.server.base_url()]), 1);
    assert!(stderr(&o).contains("set OT_API_TOKEN"), "{}", stderr(&o));
    std::fs::create_dir_all(t.config_file().parent().expect("dir")).expect("mkdir");
    std::fs::write(t.config_file(), "{not json").expect("write");
    let o = fails(t.bare().args(["jobs", "list"]), 1);
    assert!(stderr(&o).contains("is unusable: not valid JSON"), "{}", stderr(&o));
    ok(t.bare().args(["auth", "logout"]));
    assert!(!t.config_file().exists(), "logout removes even a corrupt file");
    assert!(t.requests().is_empty());
}

/// `opentrain jobs search --all | head -1`: the reader goes away mid-stream.
#[tokio::test]
async fn a_closed_pipe_ends_the_process_quietly() {
    let t = Cli::start().await;
    let jobs: Vec<Value> = (0..2000).map(|i| json!({"id": format!("j{i}"), "title": "x".repeat(80)})).collect();
    typed(&t.server, ops::SearchJobsWhen::new, ops::SearchJobsThen::new, |when, then| {
        when.cursor(None);
        json(then.into_inner(), 200, &json!({"jobs": jobs[..5], "nextCursor": "c2"}));
    })
    .await;
    typed(&t.server, ops::SearchJobsWhen::new, ops::SearchJobsThen::new, |when, then| {
        when.cursor("c2");
        json(then.into_inner(), 200, &json!({"jobs": jobs, "nextCursor": null})).delay(Duration::from_millis(300));
    })
    .await;
    let mut child = t
        .process()
        .args(["jobs", "search", "--all", "--base-url", &t.server.base_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a line");
    // The reader is dropped here, closing the pipe before the second page arrives.
    assert!(first.starts_with("ID"), "{first}");
    let out = child.wait_with_output().expect("exits");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no panic, no error text");
}

#[tokio::test]
async fn ctrl_c_stops_a_wait_cleanly() {
    let t = Cli::start().await;
    let config = json!({"claimToken": "ot_clm_saved_secret123", "baseUrl": t.server.base_url()});
    t.write_config(&config);
    t.on("POST", "/api/agent/oauth/token", 400, json!({"error": "authorization_pending"})).await;
    let child = t
        .process()
        .args(["auth", "claim-status", "--wait", "--interval", "0.05"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    t.wait_for_requests(2).await;
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("exits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("Interrupted: stopped waiting; the claim is unchanged"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(t.read_config(), config, "nothing saved");
}

#[tokio::test]
async fn a_malformed_base_url_is_a_usage_error() {
    let t = Cli::start().await;
    for bad in ["not a url", "ftp://example.com"] {
        let o = fails(t.bare().args(["jobs", "search", "--base-url", bad]), 2);
        assert!(stderr(&o).starts_with("Usage error:") && stderr(&o).contains("base URL"), "{}", stderr(&o));
    }
    assert!(t.requests().is_empty());
}
