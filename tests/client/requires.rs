//! Requirements from the spec's `x-requires`: a 403 says what the operation needs and, when the
//! token's scopes are known, which one it lacks; typed error codes and reasons stay open.

use httpmock::MockServer;
use opentrain::{
    OpenEnum, Run,
    generated::meta::OperationId,
    requires::{ErrorCodeKnown, ErrorReasonKnown},
    types,
};
use opentrain_httpmock::operations::{GetAuthMeWhen, GetCreditsWhen, GetTeamWhen, HireProposalWhen, PublishJobWhen};
use serde_json::json;

use super::{Reply, client};

fn hire_body() -> types::HireProposalRequest {
    types::HireProposalRequest::builder()
        .milestone(types::HireProposalMilestone::builder().amount(100.0))
        .try_into()
        .expect("hire body")
}

#[tokio::test]
async fn a_403_names_the_scope_the_token_lacks_from_the_details() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetTeamWhen::new(when);
            then.json(
                403,
                json!({"error": "Forbidden", "code": "FORBIDDEN", "requestId": "r1",
                "details": {"requiredScopes": ["team:read"], "grantedScopes": ["jobs:read", "jobs:write"]}}),
            );
        })
        .await;
    let err = client(&server).0.get_team().send().run().await.expect_err("403");
    assert_eq!(
        err.to_string(),
        "HTTP 403 FORBIDDEN: Forbidden (request r1); the token lacks team:read (get_team needs team:read + the \
         public_api_team feature)"
    );
    assert_eq!(err.code(), Some(OpenEnum::Known(ErrorCodeKnown::Forbidden)));
}

#[tokio::test]
async fn scopes_from_an_earlier_auth_me_name_the_missing_one_without_another_call() {
    let server = MockServer::start_async().await;
    let me = server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.json(
                200,
                json!({"actor": {"userId": "u1"}, "account": {},
                "token": {"id": "t1", "scopes": ["jobs:read", "jobs:write", "proposals:read"]}}),
            );
        })
        .await;
    let hire = server
        .mock_async(|when, then| {
            HireProposalWhen::new(when).proposal_id("p_1");
            then.json(403, json!({"error": "Forbidden", "code": "FORBIDDEN", "requestId": "r2"}));
        })
        .await;
    let c = client(&server).0;

    // Before auth/me nothing is known: the message says what the hire needs, not what is missing.
    let err = c.hire_proposal().proposal_id("p_1").body(hire_body()).send().run().await.expect_err("403");
    let text = err.to_string();
    assert!(text.ends_with("; hire_proposal needs proposals:write + the public_api_hiring feature + a claimed account + a payment method (or credits covering the charge)"), "{text}");
    assert!(!text.contains("lacks"), "{text}");
    assert_eq!(c.known_scopes(), None);

    c.get_auth_me().send().run().await.expect("auth/me");
    assert_eq!(
        c.known_scopes().as_deref(),
        Some(&["jobs:read".to_string(), "jobs:write".into(), "proposals:read".into()][..])
    );
    let err = c.hire_proposal().proposal_id("p_1").body(hire_body()).send().run().await.expect_err("403");
    assert!(err.to_string().contains("; the token lacks proposals:write (hire_proposal needs"), "{err}");
    assert_eq!(me.calls_async().await, 1, "the error did not look the scopes up again");
    assert_eq!(hire.calls_async().await, 2);

    // Another token, another scope set: nothing is carried over.
    let other = c.with_token(Some(opentrain::Token::new("ot_pat_other_secret")));
    assert_eq!(other.known_scopes(), None);
}

#[tokio::test]
async fn a_feature_or_claim_refusal_names_what_is_off() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetCreditsWhen::new(when);
            then.json(
                403,
                json!({"error": "Feature disabled", "code": "FORBIDDEN",
                "details": {"featureKey": "public_api_credits", "mode": "ALLOWLIST"}}),
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            HireProposalWhen::new(when).proposal_id("p_2");
            then.json(
                403,
                json!({"error": "Claim first", "code": "FORBIDDEN",
                "details": {"reason": "account_claim_required", "claimUrl": "https://app.opentrain.ai/claim"}}),
            );
        })
        .await;
    let c = client(&server).0;
    let err = c.get_credits().send().run().await.expect_err("403");
    assert!(err.to_string().ends_with("; the public_api_credits feature is off for this account (get_credits needs payments:read + the public_api_credits feature)"), "{err}");
    let err = c.hire_proposal().proposal_id("p_2").body(hire_body()).send().run().await.expect_err("403");
    assert!(err.to_string().contains("; the account is not claimed yet (hire_proposal needs"), "{err}");
    assert_eq!(err.reason(), Some(OpenEnum::Known(ErrorReasonKnown::AccountClaimRequired)));
}

#[tokio::test]
async fn a_403_that_is_not_about_requirements_adds_nothing_and_unknown_values_are_kept() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            PublishJobWhen::new(when).id("j_1");
            then.json(
                403,
                json!({"error": "Blocked", "code": "FORBIDDEN_V2",
                "details": {"reason": "moderation_blocked_v2", "reasons": ["spam"]}}),
            );
        })
        .await;
    let err = client(&server).0.publish_job().id("j_1").send().run().await.expect_err("403");
    assert_eq!(
        err.to_string(),
        "HTTP 403 FORBIDDEN_V2: Blocked",
        "a documented-elsewhere reason is not a missing scope"
    );
    assert_eq!(err.code(), Some(OpenEnum::Unknown("FORBIDDEN_V2".into())));
    assert_eq!(err.reason(), Some(OpenEnum::Unknown("moderation_blocked_v2".into())));
    assert_eq!(err.code_str(), "FORBIDDEN_V2", "the faces' vocabulary is unchanged");
    assert_eq!(err.as_api().and_then(|a| a.operation), Some(OperationId::PublishJob));
}

/// A 403 with no reason: the operation's needs are named when it has any, the "lacks" part only
/// when the scopes the server reports leave one out, and an operation that needs nothing gets no
/// made-up explanation.
#[tokio::test]
async fn a_bare_403_names_needs_only_when_there_are_some() {
    async fn forbidden(details: serde_json::Value) -> MockServer {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.any_request();
                then.json(403, json!({"error": "Forbidden", "code": "FORBIDDEN", "details": details}));
            })
            .await;
        server
    }
    let why = |e: opentrain::Error| e.as_api().and_then(|a| a.missing_requirement());

    for details in [json!({}), json!({"grantedScopes": ["jobs:read"]}), json!({"requiredScopes": []})] {
        let server = forbidden(details.clone()).await;
        let err = client(&server).0.list_my_jobs().send().run().await.expect_err("403");
        let said = why(err).unwrap_or_default();
        assert!(said.starts_with("list_my_jobs needs") && said.contains("jobs:read"), "{details}: {said}");
        assert!(!said.contains("lacks"), "nothing is missing from {details}: {said}");
    }
    // Needs one scope of several, and nothing else.
    let server = forbidden(json!({})).await;
    let err = client(&server).0.poll_updates().send().run().await.expect_err("403");
    assert!(why(err).is_some_and(|s| s.starts_with("poll_updates needs")));
    // Needs a feature and nothing else.
    let server = forbidden(json!({})).await;
    let err = client(&server).0.get_job_draft_capabilities().send().run().await.expect_err("403");
    assert!(why(err).is_some_and(|s| s.starts_with("get_job_draft_capabilities needs")));
    // Needs nothing beyond a token.
    let server = forbidden(json!({})).await;
    let err = client(&server).0.get_auth_me().send().run().await.expect_err("403");
    assert_eq!(why(err), None);
}
