//! `auth` and `whoami`: registration, the claim ceremony, login, logout, and where the token and
//! base URL come from.

use std::{os::unix::fs::PermissionsExt, time::Duration};

use httpmock::MockServer;
use opentrain::types;
use opentrain_httpmock::operations as ops;
use serde_json::{Value, json};

use super::*;

fn me() -> Value {
    json!({
        "actor": {"userId": "usr_1", "email": "ada@example.com", "fullName": "Ada Lovelace", "userType": "EMPLOYER"},
        "token": {"id": "tok_1", "label": "laptop", "scopes": ["jobs:read", "jobs:write"]},
        "account": {"kind": "organization", "organizationId": "org_1", "memberRole": "OWNER"}
    })
}

fn registration() -> Value {
    let mut r = fixture("auth__POST_api_agent_identity__response.json");
    r["access_token"] = json!("ot_pat_reg_secret123");
    r["claim_token"] = json!("ot_clm_reg_secret123");
    r
}

#[tokio::test]
async fn register_saves_tokens_0600_and_refuses_to_overwrite_without_force() {
    let t = Cli::start().await;
    let register = t
        .server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/api/agent/identity")
                .json_body(json!({"agent_name": "Claude Code", "organization_name": "Acme"}));
            json(then, 201, &registration());
        })
        .await;
    let base = t.server.base_url();
    let o = ok(t.bare().args(["auth", "register", "--name", "Claude Code", "--org-name", "Acme", "--base-url", &base]));
    let out = stdout(&o);
    assert!(out.contains("Registered agent account <REGISTRATION_ID>."), "{out}");
    assert!(out.contains("opentrain auth claim --email <their address>"), "{out}");
    let saved = t.read_config();
    assert_eq!(saved["apiToken"], "ot_pat_reg_secret123");
    assert_eq!(saved["claimToken"], "ot_clm_reg_secret123");
    assert_eq!(saved["baseUrl"], json!(base));
    let mode = std::fs::metadata(t.config_file()).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(auth_header(&t.only_request()), None, "registration is tokenless");

    let o = fails(t.bare().args(["auth", "register", "--name", "Claude Code", "--org-name", "Acme"]), 1);
    assert!(stderr(&o).contains("pass --force"), "{}", stderr(&o));
    assert_eq!(t.requests().len(), 1, "refused before any request");

    let o = ok(t.bare().args([
        "auth",
        "register",
        "--agent-name",
        "Claude Code",
        "--organization-name",
        "Acme",
        "--force",
        "--json",
    ]));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["access_token"], "ot_pat_[redacted]", "the structured result never shows a token");
    assert_eq!(v["claim_token"], "ot_clm_[redacted]");
    assert_eq!(v["credentialsFile"], json!(t.config_file().display().to_string()));
    register.assert_calls_async(2).await;
}

#[tokio::test]
async fn claim_sends_the_saved_claim_token() {
    let t = Cli::start().await;
    t.write_config(
        &json!({"apiToken": "ot_pat_pre_secret123", "claimToken": "ot_clm_saved_secret123", "baseUrl": t.server.base_url()}),
    );
    t.on("POST", "/api/agent/identity/claim", 200, fixture("auth__POST_api_agent_identity_claim__response.json")).await;
    let o = ok(t.bare().args(["auth", "claim", "--email", "owner@example.com"]));
    let out = stdout(&o);
    assert!(out.contains("owner@example.com") && out.contains("opentrain auth claim-status --wait"), "{out}");
    assert_eq!(
        json_body(&t.only_request()),
        json!({"claim_token": "ot_clm_saved_secret123", "email": "owner@example.com"})
    );
}

#[tokio::test]
async fn a_claim_answered_without_a_body_names_the_missing_user_code() {
    let t = Cli::start().await;
    t.write_config(
        &json!({"apiToken": "ot_pat_pre_secret123", "claimToken": "ot_clm_saved_secret123", "baseUrl": t.server.base_url()}),
    );
    t.server
        .mock_async(|when, then| {
            when.method("POST").path("/api/agent/identity/claim");
            then.status(204);
        })
        .await;
    // The human needs the code to claim: an error, not a made-up code or an empty one.
    let o = fails(t.bare().args(["auth", "claim", "--email", "owner@example.com"]), 1);
    assert!(stderr(&o).contains("no user code"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("enter code"), "{}", stdout(&o));
}

/// An OAuth device-flow error answer: `(status, body)`.
fn oauth(error: &str, interval: Option<u64>) -> (u16, Value) {
    let mut body = json!({"error": error, "error_description": format!("state {error}")});
    if let Some(i) = interval {
        body["interval"] = json!(i);
    }
    (400, body)
}

/// The token endpoint gives each answer once, in order (mocks match in the order they are
/// created, and a spent one stops matching).
async fn token_sequence(server: &MockServer, answers: Vec<(u16, Value)>) {
    for (status, body) in answers {
        server
            .mock_async(|when, then| {
                when.method("POST").path("/api/agent/oauth/token");
                json(then, status, &body).up_to_n_times(1);
            })
            .await;
    }
}

#[tokio::test]
async fn claim_status_once_reports_pending() {
    let t = Cli::start().await;
    t.write_config(
        &json!({"apiToken": "ot_pat_pre_secret123", "claimToken": "ot_clm_saved_secret123", "baseUrl": t.server.base_url()}),
    );
    let (status, pending) = oauth("authorization_pending", None);
    t.server
        .mock_async(|when, then| {
            when.method("POST").path("/api/agent/oauth/token");
            json(then, status, &pending);
        })
        .await;
    let o = ok(t.bare().args(["auth", "claim-status"]));
    assert!(stdout(&o).contains("Claim pending"), "{}", stdout(&o));
    let o = ok(t.bare().args(["auth", "claim-status", "--json"]));
    assert_eq!(stdout(&o), "{\n  \"status\": \"pending\"\n}\n");
    let form = t.requests()[0].body_string();
    assert!(form.contains("claim_token=ot_clm_saved_secret123") && form.contains("grant_type=urn"), "{form}");
    assert_eq!(t.read_config()["apiToken"], "ot_pat_pre_secret123", "nothing changes while pending");
}

#[tokio::test]
async fn claim_status_wait_goes_through_pending_and_slow_down_then_upgrades_the_token() {
    let t = Cli::start().await;
    t.write_config(&json!({
        "apiToken": "ot_pat_pre_secret123", "claimToken": "ot_clm_saved_secret123",
        "baseUrl": t.server.base_url(), "custom": "kept"
    }));
    let mut granted = fixture("auth__POST_api_agent_oauth_token__response.json");
    granted["access_token"] = json!("ot_pat_post_secret123");
    token_sequence(&t.server, vec![oauth("authorization_pending", None), oauth("slow_down", Some(1)), (200, granted)])
        .await;
    let started = std::time::Instant::now();
    let o = ok(t.bare().args(["auth", "claim-status", "--wait", "--interval", "0.05", "--timeout", "30"]));
    assert!(started.elapsed() >= Duration::from_secs(1), "the server's slow_down interval was honoured");
    let err = stderr(&o);
    assert!(err.contains("waiting for the account claim: pending"), "{err}");
    assert!(err.contains("server asked to slow down, polling every 1s"), "{err}");
    assert!(stdout(&o).contains("Claimed"), "{}", stdout(&o));
    let saved = t.read_config();
    assert_eq!(saved["apiToken"], "ot_pat_post_secret123", "token upgraded");
    assert_eq!(saved.get("claimToken"), None, "claim token dropped");
    assert_eq!(saved["custom"], "kept");
    assert_eq!(t.requests().len(), 3);
}

#[tokio::test]
async fn verbose_logs_every_poll_of_a_claim_wait_without_the_claim_token() {
    // The polls run inside the SDK's claim flow; the client's attempt hook still sees each one.
    let t = Cli::start().await;
    t.write_config(&json!({
        "apiToken": "ot_pat_pre_secret123", "claimToken": "ot_clm_saved_secret123", "baseUrl": t.server.base_url()
    }));
    let mut granted = fixture("auth__POST_api_agent_oauth_token__response.json");
    granted["access_token"] = json!("ot_pat_post_secret123");
    token_sequence(&t.server, vec![oauth("authorization_pending", None), (200, granted)]).await;
    let o = ok(t.bare().args(["auth", "claim-status", "--wait", "--interval", "0.05", "--timeout", "30", "-v"]));
    let err = stderr(&o);
    let polls: Vec<&str> = err.lines().filter(|l| l.contains("path=/api/agent/oauth/token")).collect();
    assert_eq!(polls.len(), 2, "one line per poll: {err}");
    assert!(polls[0].contains("method=POST") && polls[0].contains("status=400"), "{}", polls[0]);
    assert!(polls[1].contains("status=200"), "{}", polls[1]);
    assert!(!err.contains("secret123"), "no token of any kind: {err}");
}

#[tokio::test]
async fn claim_status_expired_is_an_error_with_the_next_step() {
    let t = Cli::start().await;
    t.write_config(&json!({"claimToken": "ot_clm_saved_secret123", "baseUrl": t.server.base_url()}));
    token_sequence(&t.server, vec![oauth("expired_token", None)]).await;
    let o = fails(t.bare().args(["auth", "claim-status", "--wait", "--interval", "0.01"]), 1);
    let err = stderr(&o);
    assert!(err.contains("Error (HTTP 400 expired_token): state expired_token"), "{err}");
    assert!(err.contains("opentrain auth register --force"), "{err}");
}

#[tokio::test]
async fn login_verifies_then_saves_0600_and_logout_deletes() {
    let t = Cli::start().await;
    t.on("GET", "/api/public/v1/auth/me", 200, me()).await;
    let base = t.server.base_url();
    let o = ok(t.bare().args(["auth", "login", "--api-key", "ot_pat_login_secret123", "--base-url", &base]));
    assert!(stdout(&o).contains("Logged in as Ada Lovelace <ada@example.com>."), "{}", stdout(&o));
    assert_eq!(auth_header(&t.only_request()).as_deref(), Some("Bearer ot_pat_login_secret123"));
    assert_eq!(t.read_config(), json!({"apiToken": "ot_pat_login_secret123", "baseUrl": base}));
    let mode = std::fs::metadata(t.config_file()).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // The saved token and base URL are used from now on.
    let o = ok(t.bare().args(["whoami"]));
    assert!(stdout(&o).contains(&t.config_file().display().to_string()), "says where the token came from");
    assert_eq!(auth_header(&t.requests()[1]).as_deref(), Some("Bearer ot_pat_login_secret123"));

    let o = ok(t.bare().args(["auth", "logout"]));
    assert!(!t.config_file().exists(), "logout deletes the file");
    assert!(stdout(&o).contains("was not revoked"), "{}", stdout(&o));
    let o = ok(t.bare().args(["auth", "logout", "--json"]));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["deleted"], false);
    assert_eq!(v["tokenRevoked"], false);
}

#[tokio::test]
async fn login_reads_the_token_from_stdin_and_a_rejected_token_is_not_saved() {
    let t = Cli::start().await;
    let me: types::AuthMe = serde_json::from_value(me()).expect("an AuthMe");
    typed(&t.server, ops::GetAuthMeWhen::new, ops::GetAuthMeThen::new, |when, then| {
        when.into_inner().header("authorization", "Bearer ot_pat_good_secret123");
        then.ok(&me);
    })
    .await;
    let rejected: types::Error =
        serde_json::from_value(json!({"error": "Invalid token", "code": "UNAUTHORIZED"})).expect("an Error");
    typed(&t.server, ops::GetAuthMeWhen::new, ops::GetAuthMeThen::new, |_, then| {
        then.client_error(401, &rejected);
    })
    .await;
    let base = t.server.base_url();
    let o = fails(t.bare().args(["auth", "login", "--token", "ot_pat_bad_secret123", "--base-url", &base]), 1);
    assert!(stderr(&o).starts_with("Error (HTTP 401 UNAUTHORIZED): Invalid token\n"), "{}", stderr(&o));
    assert!(!t.config_file().exists(), "a rejected token is never saved");
    ok(t.bare().args(["auth", "login", "--api-key", "-", "--base-url", &base]).write_stdin("ot_pat_good_secret123\n"));
    assert_eq!(t.read_config()["apiToken"], "ot_pat_good_secret123");
}

#[tokio::test]
async fn env_token_beats_the_file_and_base_url_flag_beats_env_beats_file() {
    let t = Cli::start().await;
    let other = MockServer::start_async().await;
    let third = MockServer::start_async().await;
    let (seen_by_other, seen_by_third) = (Journal::of(&other).await, Journal::of(&third).await);
    for s in [&t.server, &other, &third] {
        s.mock_async(|when, then| {
            when.method("GET").path("/api/public/v1/auth/me");
            json(then, 200, &me());
        })
        .await;
    }
    t.write_config(&json!({"apiToken": "ot_pat_file_secret123", "baseUrl": t.server.base_url()}));

    ok(t.bare().args(["whoami"]));
    assert_eq!(auth_header(&t.only_request()).as_deref(), Some("Bearer ot_pat_file_secret123"));

    ok(t.bare().env("OPENTRAIN_API_TOKEN", "ot_pat_env2_secret123").args(["whoami"]));
    assert_eq!(auth_header(&t.requests()[1]).as_deref(), Some("Bearer ot_pat_env2_secret123"));

    let o = ok(t
        .bare()
        .env("OPENTRAIN_API_TOKEN", "ot_pat_env2_secret123")
        .env("OT_API_TOKEN", "ot_pat_env1_secret123")
        .args(["auth", "status"]));
    assert_eq!(auth_header(&t.requests()[2]).as_deref(), Some("Bearer ot_pat_env1_secret123"));
    assert!(stdout(&o).contains("Token from:  OT_API_TOKEN"), "{}", stdout(&o));

    ok(t.bare().env("OPENTRAIN_API_BASE_URL", other.base_url()).args(["whoami"]));
    assert_eq!(seen_by_other.requests().len(), 1, "env base URL beats the file");
    ok(t.bare().env("OT_API_BASE_URL", other.base_url()).args(["whoami", "--base-url", &third.base_url()]));
    assert_eq!(seen_by_third.requests().len(), 1, "--base-url beats env");
    assert_eq!(t.requests().len(), 3);
}
