//! The typed mocks against the real SDK: an expectation built from the spec's own types matches
//! exactly the request the client sends, and a mismatch is seen as a miss.

use opentrain::{Client, Run, Token, types};
use opentrain_httpmock::MockServerExtAsync;

fn example<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/../../tests/fixtures/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn draft() -> types::JobDraftCreated {
    serde_json::from_value(serde_json::json!({"ok": true, "jobId": "job_1", "status": "DRAFT"})).expect("a draft")
}

fn client(server: &httpmock::MockServer) -> Client {
    Client::builder().token(Token::new("ot_pat_mocked")).base_url(server.base_url()).build().expect("client")
}

#[tokio::test]
async fn a_typed_body_expectation_matches_the_documented_request() {
    let server = httpmock::MockServer::start_async().await;
    let request: types::CreateJobDraftRequest = example("jobs__POST_job-drafts__request.json");
    let created = draft();
    let mock = server
        .create_job_draft_async(|when, then| {
            when.body(&request);
            then.created(&created);
        })
        .await;
    let got = client(&server).create_job_draft().body(request.clone()).send().run().await.expect("created");
    assert_eq!(got.job_id, "job_1");
    mock.assert_async().await;
}

#[tokio::test]
async fn an_unexpected_body_is_a_miss_not_a_match() {
    let server = httpmock::MockServer::start_async().await;
    let request: types::CreateJobDraftRequest = example("jobs__POST_job-drafts__request.json");
    let mock = server
        .create_job_draft_async(|when, then| {
            when.body(&request);
            then.created(&draft());
        })
        .await;
    let mut other = request.clone();
    other.idempotency_key = Some("another-key".into());
    let err = client(&server).create_job_draft().body(other).send().run().await.expect_err("no mock matched");
    assert_eq!(err.status(), Some(404), "httpmock answers 404 when nothing matches: {err}");
    assert_eq!(mock.calls_async().await, 0);
}

#[tokio::test]
async fn a_path_id_is_matched_literally_not_as_a_regex() {
    let server = httpmock::MockServer::start_async().await;
    let mock = server
        .get_approval_async(|when, then| {
            when.approval_id("apr.1");
            then.into_inner()
                .status(200)
                .header("content-type", "application/json")
                .body(r#"{"approval": {"id": "apr.1", "type": "proposal_hire", "status": "pending"}}"#);
        })
        .await;
    let c = client(&server);
    let other = c.get_approval().approval_id("aprX1").send().run().await.expect_err("a dot is not a wildcard");
    assert_eq!(other.status(), Some(404), "{other}");
    c.get_approval().approval_id("apr.1").send().run().await.expect("the id itself matches");
    assert_eq!(mock.calls_async().await, 1);
}
