//! No secret is ever printed: a server that echoes the token in use (and the claim token) in an
//! error's `code`, `requestId`, `details`, message or OAuth `error` sees it masked on stdout
//! and stderr, for every kind of command, with and without `--json`.

use serde_json::{Value, json};

use super::*;

/// A token of no known shape: only the "secrets the process holds" rule can mask it.
const UNSHAPED: &str = "sk-test-unshaped-12345";
const CLAIM: &str = "ot_clm_echoed_claim_98765";

fn echo(secret: &str) -> Value {
    json!({
        "error": format!("bad credential {secret}"),
        "code": format!("E_{secret}"),
        "requestId": format!("req-{secret}"),
        "details": {"seen": secret, "nested": [format!("x{secret}y")]},
        "error_description": format!("echo {secret}"),
    })
}

/// Every command kind: reads, lists (`--all`), writes, waits, secret-returning creates, auth.
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["whoami"],
        vec!["jobs", "list"],
        vec!["jobs", "list", "--all"],
        vec!["jobs", "search", "--q", "x"],
        vec!["jobs", "draft", "create", "--text", "Label tweets"],
        vec!["jobs", "publish", "--job-id", "j1"],
        vec!["proposals", "hire", "--proposal-id", "p1", "--amount", "10", "--name", "m"],
        vec!["proposals", "get", "--proposal-id", "p1", "--include-interview"],
        vec!["credits", "top-up", "--amount-usd", "10"],
        vec!["credits", "ledger", "--all"],
        vec!["approvals", "get", "--approval-id", "a1"],
        vec!["approvals", "wait", "--approval-id", "a1", "--timeout", "5"],
        vec!["webhooks", "create", "--url", "https://example.com/h", "--event-types", "message.received"],
        vec!["tokens", "create", "--name", "n"],
        vec!["messages", "send", "--conversation-id", "c1", "--content", "hi"],
        vec!["contracts", "list"],
        vec!["updates", "poll"],
        vec!["auth", "status"],
        vec!["auth", "login", "--api-key", UNSHAPED],
        vec!["auth", "claim-status", "--claim-token", CLAIM],
        vec!["auth", "claim", "--email", "h@example.com", "--claim-token", CLAIM],
    ]
}

#[tokio::test]
async fn echoed_tokens_are_masked_in_every_output_of_every_command() {
    let t = Cli::start().await;
    // Whatever is asked, the answer echoes both secrets (the API's envelope and OAuth's shape).
    let mut body = echo(UNSHAPED);
    body["details"]["claim"] = json!(CLAIM);
    body["error_description"] = json!(format!("echo {CLAIM} {UNSHAPED}"));
    t.server
        .mock_async(|_, then| {
            json(then, 400, &body);
        })
        .await;
    let mut runs = 0;
    for argv in commands() {
        for json_flag in [false, true] {
            let mut cmd = t.bare();
            cmd.env("OT_API_TOKEN", UNSHAPED).env("OT_API_BASE_URL", t.server.base_url()).args(&argv);
            if json_flag {
                cmd.arg("--json");
            }
            let o = cmd.output().expect("runs");
            let (out, err) = (stdout(&o), stderr(&o));
            assert_eq!(o.status.code(), Some(1), "{argv:?} --json={json_flag}\n{out}\n{err}");
            for text in [&out, &err] {
                assert!(
                    !text.contains(UNSHAPED) && !text.contains("echoed_claim"),
                    "{argv:?} --json={json_flag} printed a secret:\n{text}"
                );
            }
            assert!(err.contains("[redacted]"), "{argv:?}: the echoed error is still reported:\n{err}");
            runs += 1;
        }
    }
    assert_eq!(runs, 42);

    // The documented exception: a token just created is shown once, and nothing else with it.
    let t = Cli::start().await;
    let created = "ot_pat_brand_new_secret_777";
    let record = json!({"token": created, "tokenRecord": {"id": "tok_1", "note": UNSHAPED}});
    t.on("POST", "/api/public/v1/tokens", 201, record).await;
    let o = t
        .bare()
        .env("OT_API_TOKEN", UNSHAPED)
        .env("OT_API_BASE_URL", t.server.base_url())
        .args(["tokens", "create", "--name", "n", "--json"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["token"], created, "the one-time secret is printed with --json");
    assert_eq!(v["tokenRecord"]["note"], "[redacted]");
    let o = t
        .bare()
        .env("OT_API_TOKEN", UNSHAPED)
        .env("OT_API_BASE_URL", t.server.base_url())
        .args(["tokens", "create", "--name", "n"])
        .output()
        .expect("runs");
    assert!(stdout(&o).contains(&format!("store it now): {created}")), "{}", stdout(&o));
}

#[tokio::test]
async fn the_claim_link_the_human_opens_is_shown_whole() {
    let t = Cli::start().await;
    let link = "https://app.opentrain.ai/claim?token=ot_cat_1f2e3d4c5b6a";
    let mut attempt = fixture("auth__POST_api_agent_identity_claim__response.json");
    attempt["verification_uri"] = json!(link);
    t.on("POST", "/api/agent/identity/claim", 200, attempt).await;
    for json_flag in [false, true] {
        let mut cmd = t.bare();
        cmd.env("OT_API_BASE_URL", t.server.base_url()).args(["auth", "claim", "--email", "h@example.com"]);
        cmd.args(["--claim-token", CLAIM]);
        if json_flag {
            cmd.arg("--json");
        }
        let o = cmd.output().expect("runs");
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains(link), "--json={json_flag}: {}", stdout(&o));
        assert!(!stdout(&o).contains("echoed_claim"), "{}", stdout(&o));
    }
}
