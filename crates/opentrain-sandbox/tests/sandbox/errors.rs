//! The documented errors: the envelope with requestId, claim and billing hand-offs, scope and
//! feature refusals, 404s, validation, limits, and OAuth-shaped errors on /api/agent. Every body is
//! checked against the spec's 4XX schema by the recorder.

use std::time::Duration;

use opentrain::{Error, Run, Token, types};
use serde_json::{Value, json};

use super::{Recorder, claimed_agent, fast, published_job, spec::spec, start};

fn api(e: Error) -> opentrain::ApiError {
    match e {
        Error::Api(a) => *a,
        other => panic!("expected an API error envelope, got {other:?}"),
    }
}

fn oauth(e: Error) -> opentrain::OAuthError {
    match e {
        Error::OAuth(o) => *o,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_api_errors_are_the_documented_envelope() {
    let sandbox = start(fast()).await;
    let rec = Recorder::start(&sandbox).await;
    let anon = rec.client(None);

    let e = api(anon.get_auth_me().send().run().await.expect_err("no token"));
    assert_eq!((e.status, e.code.as_str()), (401, "UNAUTHORIZED"));
    assert!(e.request_id.as_deref().is_some_and(|r| r.starts_with("req_")));
    let e =
        api(rec.client(Some(Token::new("ot_pat_nope_nope"))).list_tokens().send().run().await.expect_err("bad token"));
    assert_eq!(e.status, 401);

    // Pre-claim: drafting works, hiring and money do not.
    let reg = anon.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect("register");
    let pre = rec.client(Some(reg.access_token.clone()));
    let e = api(pre.list_webhooks().send().run().await.expect_err("no webhooks:manage"));
    assert_eq!((e.status, e.code.as_str()), (403, "FORBIDDEN"));
    let details = e.details.clone().expect("details");
    assert_eq!(details["requiredScopes"], json!(["webhooks:manage"]));
    assert!(details["grantedScopes"].as_array().is_some_and(|g| g.len() == 6));

    let e = api(pre.get_proposal().proposal_id("prop_nope").send().run().await.expect_err("unknown"));
    assert_eq!((e.status, e.code.as_str()), (404, "NOT_FOUND"));
    assert_eq!(e.details.as_ref().and_then(|d| d.get("resource")), Some(&json!("proposals")));

    // Validation: unknown PATCH keys are listed, publish names what is missing with prompts.
    let draft = pre
        .create_job_draft()
        .body(types::CreateJobDraftRequest {
            raw_job_description: Some("Label 300 images of cats.".into()),
            ..Default::default()
        })
        .send()
        .run()
        .await
        .expect("draft");
    // The typed patch cannot even carry unknown keys; the raw client sends the body as given.
    let raw = opentrain::raw::Client::from_typed(&pre);
    let bad = json!({ "jobTitle": "Cats", "colour": "blue", "shoeSize": 9 }).as_object().cloned().expect("object");
    let args = opentrain::raw::Args::default().param("jobId", &draft.job_id).body(bad);
    let e = api(raw.call("update_job_draft", &args).await.expect_err("unknown keys"));
    assert_eq!((e.status, e.code.as_str()), (400, "BAD_REQUEST"));
    assert_eq!(e.details.as_ref().expect("details")["unknownKeys"], json!(["colour", "shoeSize"]));
    let e = api(pre.publish_job().id(&draft.job_id).send().run().await.expect_err("not ready"));
    assert_eq!(e.status, 400);
    let gaps = e.details.as_ref().expect("details")["validation"]["missingFields"].as_array().cloned().expect("gaps");
    assert!(
        !gaps.is_empty()
            && gaps
                .iter()
                .all(|g| g["prompt"].is_string() && g["updateKeys"].is_array() && g.get("enumValues").is_some())
    );

    // Publish limits: 3 a day before the account is claimed.
    let agent_pre = super::Agent { client: pre.clone(), org: String::new(), token: reg.access_token.clone() };
    for _ in 0..3 {
        published_job(&agent_pre, "Label 2,000 German reviews, $0.04 per label, 2 annotators.").await;
    }
    let d = pre
        .create_job_draft()
        .body(types::CreateJobDraftRequest {
            raw_job_description: Some("Label 2,000 German reviews, $0.04 per label.".into()),
            ..Default::default()
        })
        .send()
        .run()
        .await
        .expect("draft");
    let fill: types::JobFieldPatch =
        serde_json::from_value(json!({ "experienceLevel": "EXPERT", "dataVolumeUnit": "NUMBER_OF_FILES" }))
            .expect("patch");
    pre.update_job_draft().job_id(&d.job_id).body(fill).send().run().await.expect("patch");
    let e = api(pre.publish_job().id(&d.job_id).send().run().await.expect_err("limit"));
    assert_eq!((e.status, e.code.as_str()), (429, "RATE_LIMITED"));
    assert_eq!(e.details.as_ref().expect("details")["limit"], 3);
    assert!(e.retry_after_seconds().is_some_and(|s| s > 0.0));

    // Claim-gated: the 403 carries claimUrl; money needs a payment source: 409 with billingUrl.
    let jobs = pre.list_my_jobs().status(types::JobStatusKnown::Open).send().run().await.expect("mine").jobs;
    let props = pre.list_job_proposals().id(&jobs[0].id).send().run().await.expect("proposals").proposals;
    let hire = types::HireProposalRequest {
        milestone: types::HireProposalMilestone {
            name: Some("Pilot".into()),
            description: None,
            amount: 40.0,
            due_date: None,
        },
        confirm_not_fit_override: None,
    };
    let e = api(pre
        .hire_proposal()
        .proposal_id(&props[0].id)
        .body(hire.clone())
        .send()
        .run()
        .await
        .expect_err("unclaimed"));
    assert_eq!((e.status, e.reason()), (403, Some("account_claim_required")));
    assert_eq!(e.claim_url(), Some(format!("{}/claim", sandbox.base_url()).as_str()));

    let agent = claimed_agent(&sandbox, "errors@example.com").await;
    let c = rec.client(Some(agent.token.clone()));
    let (_, pids) = published_job(&agent, "Label 1,000 French tweets, $0.05 per label, 1 labeler.").await;
    let e =
        api(c.hire_proposal().proposal_id(&pids[0]).body(hire).send().run().await.expect_err("no card, no credits"));
    assert_eq!((e.status, e.reason()), (409, Some("payment_method_required")));
    assert!(e.billing_url().is_some_and(|u| u.starts_with(sandbox.base_url())));
    let e = api(pre.get_proposal().proposal_id(&pids[0]).send().run().await.expect_err("another account's"));
    assert_eq!(e.status, 403);

    // Malformed input the typed client would refuse to send, sent through the recorder raw.
    let http = opentrain::http_client_builder().expect("tls").no_proxy().build().expect("http");
    let bearer = format!("Bearer {}", agent.token.expose());
    for (method, path, body) in [
        ("GET", "/api/public/v1/credits/ledger?limit=0", None),
        ("GET", "/api/public/v1/jobs?payType=BARTER", None),
        ("GET", "/api/public/v1/jobs/mine?status=SOMEDAY", None),
        ("GET", "/api/public/v1/jobs/changes", None),
        ("POST", "/api/public/v1/job-drafts", Some("{not json")),
        ("POST", "/api/public/v1/credits/top-ups", Some(r#"{"amountUsd": 5}"#)),
        ("POST", "/api/public/v1/messages", Some(r#"{"conversationId": "", "content": ""}"#)),
        (
            "POST",
            "/api/public/v1/webhooks",
            Some(r#"{"url": "https://example.com/hook", "eventTypes": ["proposal.received"]}"#),
        ),
    ] {
        let req = http
            .request(method.parse().expect("method"), format!("{}{path}", rec.base_url))
            .header("authorization", &bearer);
        let req = match body {
            Some(b) => req.header("content-type", "application/json").body(b),
            None => req,
        };
        let status = req.send().await.expect("sent").status().as_u16();
        assert_eq!(status, 400, "{method} {path}");
    }
    rec.check_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_flags_off_answer_403_with_the_feature_key() {
    let sandbox = start(super::SandboxOptions { disabled_features: vec!["public_api_credits".into()], ..fast() }).await;
    let rec = Recorder::start(&sandbox).await;
    let agent = claimed_agent(&sandbox, "flags@example.com").await;
    let c = rec.client(Some(agent.token.clone()));
    let e = api(c.get_credits().send().run().await.expect_err("credits off"));
    assert_eq!((e.status, e.code.as_str()), (403, "FORBIDDEN"));
    assert_eq!(e.details.as_ref().expect("details")["featureKey"], "public_api_credits");
    let caps = c.get_job_draft_capabilities().send().run().await.expect("capabilities");
    assert_eq!(caps.capabilities.credits, Some(false));
    assert_eq!(caps.capabilities.hiring, Some(true));
    rec.check_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_endpoints_answer_in_oauth_shape() {
    let sandbox = start(super::SandboxOptions { claim_poll_interval: Duration::from_secs(5), ..fast() }).await;
    let rec = Recorder::start(&sandbox).await;
    let anon = rec.client(None);
    let http = opentrain::http_client_builder().expect("tls").no_proxy().build().expect("http");
    let form = |body: &'static str, path: &'static str| {
        http.post(format!("{}{path}", sandbox.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };

    let e = oauth(
        anon.register_agent()
            .body(types::RegisterAgentRequest {
                identity_type: Some("named".parse().expect("enum")),
                ..Default::default()
            })
            .send()
            .run()
            .await
            .expect_err("only anonymous"),
    );
    assert_eq!((e.status, e.error.as_str()), (400, "unsupported_identity_type"));

    let reg = anon.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect("register");
    let claim = reg.claim_token.clone().expect("claim token");
    let e = oauth(
        anon.start_claim()
            .body(types::StartClaimRequest { claim_token: claim.clone(), email: "not-an-email".into() })
            .send()
            .run()
            .await
            .expect_err("bad email"),
    );
    assert_eq!(e.error, "invalid_request");

    let res = form("grant_type=password&claim_token=x", "/api/agent/oauth/token").send().await.expect("sent");
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
    spec().assert_response("poll_agent_token", 400, &body);
    let res = form("grant_type=urn%3Aopentrain%3Aagent-auth%3Agrant-type%3Aclaim", "/api/agent/oauth/token")
        .send()
        .await
        .expect("sent");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    let res = form("", "/api/agent/oauth/revoke").send().await.expect("sent");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    spec().assert_response("revoke_agent_token", 400, &body);

    let e = oauth(opentrain::claim::poll_once(&anon, &Token::new("ot_clm_unknown")).await.expect_err("unknown"));
    assert_eq!(e.error, "invalid_grant");
    // First poll: pending. Polling again at once is faster than the 5 s interval: slow_down.
    assert!(matches!(opentrain::claim::poll_once(&anon, &claim).await, Ok(opentrain::claim::Poll::Pending)));
    match opentrain::claim::poll_once(&anon, &claim).await {
        Ok(opentrain::claim::Poll::SlowDown(Some(i))) => assert_eq!(i, Duration::from_secs(10)),
        other => panic!("expected slow_down with a longer interval, got {other:?}"),
    }
    // Past the ~24 h claim window: expired_token, start over.
    sandbox.advance_clock(Duration::from_secs(25 * 3600));
    let e = oauth(opentrain::claim::poll_once(&anon, &claim).await.expect_err("expired"));
    assert_eq!(e.error, "expired_token");
    rec.check_all();
}
