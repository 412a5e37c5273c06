//! Token resolution exactly as the official server: the environment wins outright, else
//! `cli.json`; no token means only the onboarding tools work. Registration and the claim keep
//! `cli.json` current.

use httpmock::{Mock, MockServer};
use opentrain_httpmock::MockServerExt;
use serde_json::json;

use crate::harness::{World, call, is_error, reply, structured, text};

/// `GET /credits` answered only when sent with `token`.
fn credits<'a>(api: &'a MockServer, token: &str) -> Mock<'a> {
    api.get_credits(|when, then| {
        when.into_inner().header("authorization", format!("Bearer {token}"));
        reply(then.into_inner(), 200, &json!({"credits": {"availableCents": 100, "reservedCents": 0}}));
    })
}

#[tokio::test]
async fn env_token_wins_and_the_file_is_not_read() {
    let world = World::with_env_token("ot_pat_env").await;
    // A corrupt file would be an error if it were read.
    std::fs::create_dir_all(world.cli_json().parent().expect("dir")).expect("dir");
    std::fs::write(world.cli_json(), "{not json").expect("write");
    let credits = credits(&world.api, "ot_pat_env");
    let client = world.client().await;
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    credits.assert_calls_async(1).await;
}

#[tokio::test]
async fn file_token_is_used_without_the_env_variable() {
    let world = World::new().await;
    world.write_creds(&json!({"apiToken": "ot_pat_file", "baseUrl": "http://127.0.0.1:9"}));
    let credits = credits(&world.api, "ot_pat_file");
    // OPENTRAIN_API_BASE_URL (the mock) beats the file's baseUrl.
    let client = world.client().await;
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    credits.assert_calls_async(1).await;
}

#[tokio::test]
async fn no_token_is_an_error_that_says_how_to_get_one_and_sends_nothing() {
    let world = World::new().await;
    let client = world.client().await;
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(structured(&r)["code"], "NO_TOKEN");
    let t = text(&r);
    assert!(t.contains("opentrain_register_agent") && t.contains("OPENTRAIN_PERSONAL_API_TOKEN"), "{t}");
    assert!(world.requests().is_empty());
}

#[tokio::test]
async fn a_corrupt_credentials_file_is_reported_not_overwritten() {
    let world = World::new().await;
    std::fs::create_dir_all(world.cli_json().parent().expect("dir")).expect("dir");
    std::fs::write(world.cli_json(), "[1]").expect("write");
    let client = world.client().await;
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("cli.json"), "{}", text(&r));
    assert_eq!(std::fs::read_to_string(world.cli_json()).expect("file"), "[1]");
}

fn registration() -> serde_json::Value {
    json!({
        "identity_type": "anonymous", "registration_id": "reg_1", "access_token": "ot_pat_new",
        "token_type": "bearer", "scopes": ["jobs:read", "jobs:write"], "claim_token": "ot_clm_new",
        "claim_token_expires_at": "2026-06-13T09:00:00.000Z"
    })
}

#[tokio::test]
async fn register_saves_credentials_and_refuses_to_overwrite_without_force() {
    let world = World::new().await;
    let register = world.api.register_agent(|_when, then| {
        reply(then.into_inner(), 200, &registration());
    });
    credits(&world.api, "ot_pat_new");
    let client = world.client().await;

    let r = call(&client, "opentrain_register_agent", json!({"agentName": "Claude Code"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["registration_id"], "reg_1");
    assert_eq!(structured(&r)["access_token"], "ot_pat_[redacted]", "saved, so not handed to the model");
    assert_eq!(structured(&r)["claim_token"], "ot_clm_[redacted]");
    let t = text(&r);
    assert!(t.contains("opentrain_claim_account") && t.contains("cli.json"), "{t}");
    assert!(!t.contains("ot_pat_new") && !t.contains("ot_clm_new"), "no secret in the text: {t}");
    let saved = world.read_creds();
    assert_eq!(saved["apiToken"], "ot_pat_new");
    assert_eq!(saved["claimToken"], "ot_clm_new");
    assert_eq!(saved["baseUrl"], world.api.base_url());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.cli_json()).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The server picks the saved token up for the next call.
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));

    let before = world.requests().len();
    let r = call(&client, "opentrain_register_agent", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(structured(&r)["code"], "CREDENTIALS_EXIST");
    assert!(text(&r).contains("force"), "{}", text(&r));
    assert_eq!(world.requests().len(), before, "refused before any request");

    let r = call(&client, "opentrain_register_agent", json!({"force": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    register.assert_calls_async(2).await;
}

#[tokio::test]
async fn claim_account_defaults_to_the_saved_claim_token() {
    let world = World::new().await;
    world.write_creds(&json!({"apiToken": "ot_pat_pre", "claimToken": "ot_clm_saved"}));
    let claim = world.api.start_claim(|when, then| {
        when.into_inner().body_includes("ot_clm_saved").body_includes("human@example.com");
        let attempt = json!({
            "user_code": "439218", "verification_uri": "https://app.opentrain.ai/claim?token=abc",
            "expires_in": 1800, "interval": 5, "email_sent": true
        });
        reply(then.into_inner(), 200, &attempt);
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_claim_account", json!({"email": "human@example.com"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("439218") && t.contains("https://app.opentrain.ai/claim?token=abc"), "{t}");
    assert!(t.contains("opentrain_claim_status"), "{t}");
    claim.assert_calls_async(1).await;
}

#[tokio::test]
async fn claim_status_pending_then_claimed_replaces_the_saved_token() {
    let world = World::new().await;
    world.write_creds(&json!({"apiToken": "ot_pat_pre", "claimToken": "ot_clm_saved", "other": "kept"}));
    // The first poll is pending; later ones fall through to the second mock.
    world.api.poll_agent_token(|when, then| {
        when.into_inner().body_includes("ot_clm_saved");
        reply(then.into_inner(), 400, &json!({"error": "authorization_pending"})).up_to_n_times(1);
    });
    world.api.poll_agent_token(|_when, then| {
        let token = json!({
            "access_token": "ot_pat_post", "token_type": "bearer", "scopes": ["jobs:read", "proposals:write"]
        });
        reply(then.into_inner(), 200, &token);
    });
    let credits = credits(&world.api, "ot_pat_post");
    let client = world.client().await;

    let r = call(&client, "opentrain_claim_status", json!({})).await;
    assert!(!is_error(&r), "pending is not a failure: {}", text(&r));
    assert_eq!(structured(&r)["claimed"], false);
    assert!(text(&r).contains("opentrain_claim_status"));
    assert_eq!(world.read_creds()["apiToken"], "ot_pat_pre");

    let r = call(&client, "opentrain_claim_status", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(!text(&r).contains("ot_pat_post"), "no secret in the text");
    assert_eq!(structured(&r)["access_token"], "ot_pat_[redacted]", "saved, so not handed to the model");
    let saved = world.read_creds();
    assert_eq!(saved["apiToken"], "ot_pat_post");
    assert!(saved.get("claimToken").is_none(), "the claim token is dropped");
    assert_eq!(saved["other"], "kept", "unknown keys survive");
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(!is_error(&r), "the next call uses the post-claim token: {}", text(&r));
    credits.assert_calls_async(1).await;
}

#[tokio::test]
async fn claim_errors_are_oauth_shaped() {
    let world = World::new().await;
    world.write_creds(&json!({"claimToken": "ot_clm_old"}));
    world.api.poll_agent_token(|_when, then| {
        let expired = json!({"error": "expired_token", "error_description": "The claim window has closed."});
        reply(then.into_inner(), 400, &expired);
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_claim_status", json!({})).await;
    assert!(is_error(&r));
    let s = structured(&r);
    assert_eq!(s["status"], 400);
    assert_eq!(s["error"], "expired_token");
    assert_eq!(s["error_description"], "The claim window has closed.");
    assert!(text(&r).contains("opentrain_register_agent"), "{}", text(&r));
}
