//! Leniency where the docs leave things open: statuses they only infer, numbers they do not
//! promise to be whole, objects they leave open, and the two bodies a spec guess got wrong (the
//! closed-job 404, the message-mode page), each through the typed client against httpmock.

use httpmock::MockServer;
use opentrain::{Error, Run, Token, types};
use serde_json::{Value, json};

use super::{Reply, client};

fn claim_body() -> types::StartClaimRequest {
    types::StartClaimRequest { claim_token: Token::new("ot_clm_test"), email: "owner@example.com".into() }
}

fn patch() -> types::JobFieldPatch {
    serde_json::from_value(json!({"jobTitle": "Spanish audio"})).expect("patch")
}

/// Calls the operation `op` on `server` and returns its typed answer as JSON: `None` when the
/// typed client said "done, no body" (each of these operations returns `Option<T>`, which the
/// helper's signature checks at compile time).
async fn call(server: &MockServer, op: &str) -> opentrain::Result<Option<Value>> {
    fn v<T: serde::Serialize>(x: Option<T>) -> Option<Value> {
        x.map(|x| serde_json::to_value(x).expect("serializes"))
    }
    let c = client(server).0;
    Ok(match op {
        "start_claim" => v(c.start_claim().body(claim_body()).send().run().await?),
        "revoke_token" => v(c.revoke_token().token_id("tok_1").send().run().await?),
        "update_job_draft" => v(c.update_job_draft().job_id("job_1").body(patch()).send().run().await?),
        "update_published_job" => v(c.update_published_job().id("job_1").body(patch()).send().run().await?),
        "get_oauth_protected_resource" => v(c.get_oauth_protected_resource().send().run().await?),
        "get_oauth_authorization_server" => v(c.get_oauth_authorization_server().send().run().await?),
        "start_proposal_conversation" => v(c.start_proposal_conversation().proposal_id("p_1").send().run().await?),
        "invite_team_member" => v(c
            .invite_team_member()
            .body(types::InviteTeamMemberRequest { email: "a@example.com".into() })
            .send()
            .run()
            .await?),
        other => panic!("no call for {other}"),
    })
}

/// (operation, method, path, a documented-shape body) for every operation whose success status
/// the docs only infer.
fn inferred() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    let token = json!({"id": "tok_1", "name": "ci", "preview": "ot_pat_ab…", "scopes": ["jobs:read"],
        "status": "revoked", "createdAt": "2026-01-01T00:00:00Z", "revokedAt": "2026-01-02T00:00:00Z"});
    // The documented body (its ids are the docs' own).
    let updated: Value =
        serde_json::from_str(include_str!("../fixtures/examples/jobs__PATCH_job-drafts_{jobId}__response.json"))
            .expect("example");
    vec![
        (
            "start_claim",
            "POST",
            "/api/agent/identity/claim",
            json!({"user_code": "439218", "verification_uri": "http://127.0.0.1/claim?token=ot_cat_x", "expires_in": 1800, "interval": 5}),
        ),
        ("revoke_token", "DELETE", "/api/public/v1/tokens/tok_1", json!({"token": token})),
        ("update_job_draft", "PATCH", "/api/public/v1/job-drafts/job_1", updated),
        (
            "update_published_job",
            "PATCH",
            "/api/public/v1/jobs/job_1",
            json!({"ok": true, "jobId": "job_1", "status": "OPEN", "moderation": {"decision": "ALLOW", "reasons": []}}),
        ),
        (
            "get_oauth_protected_resource",
            "GET",
            "/.well-known/oauth-protected-resource",
            json!({"resource": "http://127.0.0.1/api/public/v1"}),
        ),
        (
            "get_oauth_authorization_server",
            "GET",
            "/.well-known/oauth-authorization-server",
            json!({"issuer": "http://127.0.0.1"}),
        ),
        (
            "start_proposal_conversation",
            "POST",
            "/api/public/v1/proposals/p_1/conversation",
            json!({"ok": true, "conversationId": "c_1", "proposalId": "p_1", "jobId": "job_1", "created": true}),
        ),
        (
            "invite_team_member",
            "POST",
            "/api/public/v1/team/invites",
            json!({"ok": true, "status": "invited", "email": "a@example.com", "team": {"id": "t_1", "name": "Acme", "members": [], "invites": []}}),
        ),
    ]
}

#[tokio::test]
async fn an_inferred_success_status_may_be_any_2xx_with_its_body() {
    for (op, method, path, body) in inferred() {
        for status in [200, 201, 202] {
            let server = MockServer::start_async().await;
            let b = body.clone();
            server
                .mock_async(move |when, then| {
                    when.method(method).path(path);
                    then.json(status, b);
                })
                .await;
            let got = call(&server, op)
                .await
                .unwrap_or_else(|e| panic!("{op} answering {status}: {e}"))
                .unwrap_or_else(|| panic!("{op} answering {status} with a body: the body is lost"));
            // Every documented key arrives (the user code of a claim above all).
            for (k, v) in body.as_object().expect("object") {
                // 1800 and 1800.0 are one JSON number (a count the docs call a number is an f64);
                // nested empty lists are written only when non-empty.
                let same = got[k] == *v
                    || (v.is_number() && got[k].as_f64() == v.as_f64())
                    || (v.is_object() && got[k].is_object());
                assert!(same, "{op} answering {status}: `{k}` lost: {} vs {v}", got[k]);
            }
        }
    }
}

/// The raw client's arguments for `op` (path parameters and a body where it takes one).
fn raw_args(op: &str) -> opentrain::raw::Args {
    let a = opentrain::raw::Args::default();
    let body = |v: Value| v.as_object().cloned().expect("object");
    match op {
        "start_claim" => a.body(body(json!({"claim_token": "ot_clm_test", "email": "owner@example.com"}))),
        "revoke_token" => a.param("tokenId", "tok_1"),
        "update_job_draft" => a.param("jobId", "job_1").body(body(json!({"jobTitle": "x"}))),
        "update_published_job" => a.param("id", "job_1").body(body(json!({"jobTitle": "x"}))),
        "start_proposal_conversation" => a.param("proposalId", "p_1"),
        "invite_team_member" => a.body(body(json!({"email": "a@example.com"}))),
        _ => a,
    }
}

#[tokio::test]
async fn an_inferred_success_status_may_come_without_a_body() {
    for (op, method, path, _) in inferred() {
        let server = MockServer::start_async().await;
        server
            .mock_async(move |when, then| {
                when.method(method).path(path);
                then.status(204);
            })
            .await;
        // The raw client (the faces' path) reports it done, with no body.
        let raw = opentrain::raw::Client::from_typed(&client(&server).0);
        let got = raw.call(op, &raw_args(op)).await.unwrap_or_else(|e| panic!("{op} answering 204: {e}"));
        assert_eq!(got, Value::Null, "{op}: 204 is done, with no body");
        // The typed client says the same: done, no body (`None`), never a made-up one.
        let typed = call(&server, op).await.unwrap_or_else(|e| panic!("{op} answering 204 through the SDK: {e}"));
        assert_eq!(typed, None, "{op}: 204 is done, with no body");
    }
}

#[tokio::test]
async fn a_documented_body_may_not_go_missing() {
    // `get_auth_me` documents 200 with a body: an empty answer stays an error, not "no data".
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/public/v1/auth/me");
            then.status(200);
        })
        .await;
    let err = client(&server).0.get_auth_me().send().run().await.expect_err("no body");
    assert!(matches!(err, Error::InvalidResponse { status: Some(200), .. }), "{err:?}");
}

#[tokio::test]
async fn a_documented_body_answering_204_is_still_an_error() {
    // `create_webhook` takes any 2xx but documents its body (the signing secret appears only
    // there), so it is not among the operations that may answer without one: a 204 is an error.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/api/public/v1/webhooks");
            then.status(204);
        })
        .await;
    let body = types::CreateWebhookRequest {
        url: "http://127.0.0.1:9/hook".into(),
        event_types: vec![types::UpdateEventTypeKnown::ContractCreated.into()],
    };
    let err = client(&server).0.create_webhook().body(body).send().run().await.expect_err("no secret");
    assert!(matches!(err, Error::InvalidResponse { status: Some(204), .. }), "{err:?}");
}

#[tokio::test]
async fn a_claim_started_without_a_body_says_there_is_no_user_code() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/api/agent/identity/claim");
            then.status(204);
        })
        .await;
    let c = client(&server).0;
    // The typed call reports what the API said: done, no body.
    assert_eq!(c.start_claim().body(claim_body()).send().run().await.expect("204 is success"), None);
    // The claim flow needs the code the human types, so it ends with an error naming it.
    let err = opentrain::claim::start_claim_with(&c, Token::new("ot_clm_test"), "owner@example.com")
        .await
        .expect_err("no user code to show");
    assert!(
        matches!(&err, Error::InvalidResponse { reason, .. } if reason == opentrain::claim::NO_USER_CODE),
        "{err:?}"
    );
    assert!(err.to_string().contains("no user code"), "{err}");
}

#[tokio::test]
async fn start_claim_keeps_the_user_code_from_a_201() {
    let server = MockServer::start_async().await;
    server.mock_async(|when, then| {
        when.method("POST").path("/api/agent/identity/claim");
        then.json(201, json!({"user_code": "439218", "verification_uri": "http://127.0.0.1/c", "expires_in": 1800.0, "interval": 5.0}));
    }).await;
    let attempt =
        client(&server).0.start_claim().body(claim_body()).send().run().await.expect("started").expect("a body");
    assert_eq!(attempt.user_code, "439218");
    assert_eq!((attempt.expires_in, attempt.interval), (Some(1800.0), Some(5.0)));
}

#[tokio::test]
async fn counts_and_durations_written_as_fractions_are_read() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/.well-known/oauth-authorization-server");
            then.json(200, json!({"issuer": "http://127.0.0.1", "agent_auth": {"interval": 5.0}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/api/public/v1/freelancers/maria");
            then.json(200, json!({"freelancer": {"id": "u_1", "stats": {"reviewCount": 12.0}}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/api/agent/oauth/token");
            then.json(400, json!({"error": "slow_down", "interval": 10.0}));
        })
        .await;
    let c = client(&server).0;
    let meta = c.get_oauth_authorization_server().send().run().await.expect("metadata").expect("a body");
    assert_eq!(meta.agent_auth.and_then(|a| a.interval), Some(5.0));
    let profile = c.get_freelancer_profile().id_or_slug("maria").send().run().await.expect("profile");
    let stats = serde_json::to_value(&profile).expect("json")["freelancer"]["stats"]["reviewCount"].clone();
    assert_eq!(stats.as_f64(), Some(12.0));
    // The slow_down interval the claim poll waits for.
    let poll = opentrain::claim::poll_once(&c, &Token::new("ot_clm_test")).await.expect("a poll outcome");
    assert!(matches!(poll, opentrain::claim::Poll::SlowDown(Some(d)) if d.as_secs() == 10), "{poll:?}");
    // A patch may say `headcount: 5.0` (the docs call it a number).
    let p: types::JobFieldPatch = serde_json::from_value(json!({"headcount": 5.0})).expect("a number headcount");
    assert_eq!(p.headcount, Some(5.0));
}

#[tokio::test]
async fn open_objects_keep_keys_the_spec_does_not_name() {
    let server = MockServer::start_async().await;
    let doc = json!({"issuer": "http://127.0.0.1", "registration_endpoint": "http://127.0.0.1/reg",
        "agent_auth": {"claim_endpoint": "http://127.0.0.1/claim", "device_flow": {"v": 2}}});
    let d = doc.clone();
    server
        .mock_async(move |when, then| {
            when.path("/.well-known/oauth-authorization-server");
            then.json(200, d);
        })
        .await;
    let c = client(&server).0;
    let meta = c.get_oauth_authorization_server().send().run().await.expect("metadata").expect("a body");
    assert_eq!(serde_json::to_value(&meta).expect("json"), doc, "unknown keys kept, nested ones too");

    // A patch sends keys beyond the 26 the spec names: the docs say the list is open.
    let sent = json!({"jobTitle": "Spanish audio", "screeningQuestions": ["Native speaker?"]});
    let s = sent.clone();
    let m = server
        .mock_async(move |when, then| {
            when.method("PATCH").path("/api/public/v1/job-drafts/job_1").json_body(s);
            then.json(200, json!({"ok": true, "jobId": "job_1", "status": "DRAFT"}));
        })
        .await;
    let patch: types::JobFieldPatch = serde_json::from_value(sent).expect("open patch");
    c.update_job_draft().job_id("job_1").body(patch).send().run().await.expect("patched");
    m.assert_async().await;
}

#[tokio::test]
async fn a_job_that_is_no_longer_listed_is_a_404_that_says_so() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/public/v1/jobs/job_old");
            then.json(404, json!({"id": "job_old", "status": "closed"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/api/public/v1/jobs/job_none");
            then.json(404, json!({"error": "Job not found", "code": "NOT_FOUND", "requestId": "r1"}));
        })
        .await;
    let c = client(&server).0;
    let Error::Api(closed) = c.get_public_job().id("job_old").send().run().await.expect_err("closed") else {
        panic!("a closed job is an API answer, not a malformed one")
    };
    assert_eq!(closed.status, 404);
    assert_eq!(closed.details.as_ref().and_then(|d| d.get("status")), Some(&json!("closed")));
    assert!(closed.message.contains("job_old") && closed.message.contains("no longer listed"), "{}", closed.message);
    let Error::Api(unknown) = c.get_public_job().id("job_none").send().run().await.expect_err("unknown") else {
        panic!("the envelope is an API error")
    };
    assert_eq!((unknown.status, unknown.code.as_str()), (404, "NOT_FOUND"));
}

#[tokio::test]
async fn a_message_page_without_its_key_is_an_error_not_an_empty_page() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/public/v1/messages").query_param("conversationId", "c_1");
            then.json(200, json!({"messages": [{"id": "m_1", "content": "hi"}], "nextCursor": null}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/api/public/v1/messages").query_param("conversationId", "c_2");
            then.json(200, json!({"items": [{"id": "m_1", "content": "hi"}], "nextCursor": null}));
        })
        .await;
    let c = client(&server).0;
    let page = c.read_messages().conversation_id("c_1").send().run().await.expect("messages");
    assert_eq!(page.messages().len(), 1);
    let err = c.read_messages().conversation_id("c_2").send().run().await.expect_err("no known key");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
}

#[tokio::test]
async fn documented_defaults_are_declared() {
    let spec = opentrain::generated::meta::PARAM_ENUMS;
    assert!(!spec.is_empty());
    assert_eq!(types::CreateTokenRequest::default().name, "API token");
    assert_eq!(types::MessagesDirection::default().to_string(), "older");
    assert_eq!(types::MessagesFilter::default().to_string(), "all");
    assert_eq!(types::AgentIdentityType::default().to_string(), "anonymous");
}
