//! Error envelopes, OAuth errors, HTML error pages and bodies that are not what the spec says.

use httpmock::MockServer;
use opentrain::{ConfigError, Error, Run, types};
use opentrain_httpmock::operations::{
    FundMilestoneWhen, GetApprovalWhen, GetCreditsWhen, HireProposalWhen, RegisterAgentWhen,
};
use serde_json::{Value, json};

use super::{Reply, client};

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/examples").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("fixture JSON")
}

#[tokio::test]
async fn claim_required_envelope_keeps_every_detail() {
    let server = MockServer::start_async().await;
    let body = fixture("concepts__POST_api_public_v1_proposals_{proposalId}_hire__error_403.json");
    server
        .mock_async(|when, then| {
            HireProposalWhen::new(when).proposal_id("p_1");
            then.json(403, body.clone());
        })
        .await;
    let hire = types::HireProposalRequest::builder().milestone(types::HireProposalMilestone::builder().amount(100.0));
    let err = client(&server).0.hire_proposal().proposal_id("p_1").body(hire).send().run().await.expect_err("403");
    let api = err.as_api().expect("api error");
    assert_eq!(api.status, 403);
    assert_eq!(api.code, "FORBIDDEN");
    assert_eq!(api.reason(), Some("account_claim_required"));
    assert_eq!(api.claim_url(), Some("https://app.opentrain.ai/claim"));
    assert_eq!(api.details.as_ref().and_then(|d| d.get("action")), Some(&json!("hire AI trainers")));
    assert_eq!(api.to_envelope(), body, "the envelope survives exactly");
    assert!(err.to_string().starts_with("HTTP 403 FORBIDDEN: A human must claim"), "{err}");
}

#[tokio::test]
async fn payment_method_required_exposes_billing_url_and_retry_after_seconds() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            FundMilestoneWhen::new(when).milestone_id("m_1");
            then.json(409, json!({
                "error": "Add a payment method", "code": "CONFLICT", "requestId": "r-9",
                "details": {"reason": "payment_method_required", "billingUrl": "https://app.opentrain.ai/billing", "retryAfterSeconds": 30, "extra": [1, 2]}
            }));
        })
        .await;
    let err = client(&server).0.fund_milestone().milestone_id("m_1").send().run().await.expect_err("409");
    let api = err.as_api().expect("api error");
    assert_eq!(api.billing_url(), Some("https://app.opentrain.ai/billing"));
    assert_eq!(api.retry_after_seconds(), Some(30.0));
    assert_eq!(api.details.as_ref().and_then(|d| d.get("extra")), Some(&json!([1, 2])), "unknown detail keys are kept");
}

#[tokio::test]
async fn agent_endpoints_return_oauth_errors() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            RegisterAgentWhen::new(when);
            then.json(403, fixture("auth__POST_api_agent_identity__error_403.json"));
        })
        .await;
    let err = client(&server)
        .0
        .register_agent()
        .body(types::RegisterAgentRequest::default())
        .send()
        .run()
        .await
        .expect_err("403");
    let oauth = err.as_oauth().expect("oauth error");
    assert_eq!(
        (oauth.status, oauth.error.as_str(), oauth.description.as_deref()),
        (403, "anonymous_not_enabled", None)
    );
    // Both code vocabularies carry the OAuth `error`.
    assert_eq!(err.code().map(|c| c.as_str()).as_deref(), Some("anonymous_not_enabled"));
    assert_eq!(err.code_str(), "anonymous_not_enabled");
}

/// A negative `interval` is no interval: a poller must not take it as "poll again at once".
#[tokio::test]
async fn an_oauth_error_with_a_negative_interval_has_none() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            RegisterAgentWhen::new(when);
            then.json(400, json!({"error": "slow_down", "interval": -5}));
        })
        .await;
    let c = client(&server).0;
    let err = c.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect_err("400");
    let oauth = err.as_oauth().expect("oauth error");
    assert_eq!((oauth.error.as_str(), oauth.interval), ("slow_down", None));
}

/// An error envelope without a `code` is still reported under one: `API_ERROR`.
#[tokio::test]
async fn an_envelope_without_a_code_reports_api_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetCreditsWhen::new(when);
            then.json(400, json!({"error": "something went wrong"}));
        })
        .await;
    let err = client(&server).0.get_credits().send().run().await.expect_err("400");
    assert_eq!(err.as_api().map(|a| a.status), Some(400), "{err}");
    assert_eq!(err.code_str(), "API_ERROR");
}

#[tokio::test]
async fn an_html_error_page_keeps_its_status_and_only_a_snippet() {
    let server = MockServer::start_async().await;
    let page = format!("<html><body><h1>502 Bad Gateway</h1>{}</body></html>", "x".repeat(5000));
    server
        .mock_async(|when, then| {
            GetCreditsWhen::new(when);
            then.raw(502, &page, "text/html");
        })
        .await;
    let err = client(&server).0.get_credits().send().run().await.expect_err("502 page");
    match &err {
        Error::InvalidResponse { status, snippet, .. } => {
            assert_eq!(*status, Some(502));
            assert!(snippet.starts_with("<html><body><h1>502 Bad Gateway"), "{snippet}");
            assert!(snippet.len() <= 200, "a snippet, never the whole body");
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    assert!(err.to_string().contains("HTTP 502"), "{err}");
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_an_invalid_response() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetApprovalWhen::new(when).approval_id("ap_1");
            then.raw(200, "not json at all, token ot_pat_leak_123", "text/plain");
        })
        .await;
    let err = client(&server).0.get_approval().approval_id("ap_1").send().run().await.expect_err("not JSON");
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, Error::InvalidResponse { status: Some(200), .. }), "{shown}");
    assert!(!shown.contains("leak_123"), "tokens in bodies are redacted: {shown}");
}

#[tokio::test]
async fn unknown_enum_values_and_fields_do_not_break_a_response() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetApprovalWhen::new(when).approval_id("ap_1");
            then.json(
                200,
                json!({
                    "approval": {"id": "ap_1", "type": "invoice_void", "status": "paused", "brandNewField": true},
                    "alsoNew": 1
                }),
            );
        })
        .await;
    let got = client(&server).0.get_approval().approval_id("ap_1").send().run().await.expect("lenient");
    assert_eq!(got.approval.type_.to_string(), "invoice_void");
    assert_eq!(got.approval.status.as_ref().map(ToString::to_string).as_deref(), Some("paused"));
    assert!(got.approval.is_final(), "an unknown state ends a wait instead of spinning forever");
}

#[test]
fn no_token_says_how_to_get_one_and_secrets_never_show() {
    let c = opentrain::Client::builder().build().expect("client");
    let err = c.require_token().expect_err("no token");
    assert!(matches!(err, Error::Config(ConfigError::NoToken)));
    let msg = err.to_string();
    assert!(msg.contains("auth register") && msg.contains("OPENTRAIN_PERSONAL_API_TOKEN"), "{msg}");

    let with = c.with_token(Some(opentrain::Token::new("ot_pat_abc_supersecret")));
    let shown = format!("{with:?} {:?} {}", with.token(), with.token().map(ToString::to_string).unwrap_or_default());
    assert!(!shown.contains("supersecret"), "{shown}");
}

#[tokio::test]
async fn server_text_echoing_a_held_secret_is_masked_everywhere() {
    // One token shaped like OpenTrain's and one that is not: Token::new remembers both.
    let _held = opentrain::Token::new("plain-unshaped-secret-4242");
    let server = MockServer::start_async().await;
    let echo = "ot_pat_test_secret plain-unshaped-secret-4242";
    server
        .mock_async(|when, then| {
            GetCreditsWhen::new(when);
            then.json(
                400,
                json!({
                    "error": format!("bad {echo}"), "code": format!("C_{echo}"), "requestId": format!("r-{echo}"),
                    "details": {"nested": {"list": [echo]}, "field": echo, echo: 1}
                }),
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            RegisterAgentWhen::new(when);
            then.json(400, json!({"error": format!("e_{echo}"), "error_description": format!("d {echo}")}));
        })
        .await;
    let (c, _) = client(&server);
    let api = c.get_credits().send().run().await.expect_err("400");
    let oauth =
        c.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect_err("oauth 400");
    let envelope = api.as_api().map(|a| a.to_envelope().to_string()).unwrap_or_default();
    assert!(envelope.contains("requestId"), "{envelope}");
    for shown in [format!("{api}"), format!("{api:?}"), envelope, format!("{oauth}"), format!("{oauth:?}")] {
        assert!(!shown.contains("test_secret"), "{shown}");
        assert!(!shown.contains("unshaped-secret"), "{shown}");
    }
}

/// An answer that is not the JSON the operation documents is an error quoting how the body
/// starts (so the reader sees what came back), and says nothing of a body when there was none.
#[tokio::test]
async fn an_invalid_answer_quotes_the_start_of_its_body() {
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            opentrain_httpmock::operations::GetAuthMeWhen::new(when);
            then.status(200).header("content-type", "application/json").body("<html>not json</html>");
        })
        .await;
    let err = super::client(&server).0.get_auth_me().send().run().await.expect_err("not JSON");
    let shown = err.to_string();
    assert!(matches!(err, opentrain::Error::InvalidResponse { .. }), "{err:?}");
    assert!(shown.contains("body starts: \"<html>not json</html>\""), "{shown}");

    let empty = httpmock::MockServer::start_async().await;
    empty
        .mock_async(|when, then| {
            opentrain_httpmock::operations::GetAuthMeWhen::new(when);
            then.status(200).header("content-type", "application/json");
        })
        .await;
    let err = super::client(&empty).0.get_auth_me().send().run().await.expect_err("no body");
    assert!(!err.to_string().contains("body starts"), "{err}");
}
