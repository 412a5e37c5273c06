//! The retry matrix, timeouts, headers: the official CLI's transport policy.

use std::time::{Duration, Instant};

use opentrain::{Client, Error, RetryPolicy, Run, Token};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

use super::{client, client_at, sequence};

const ME: &str = "/api/public/v1/auth/me";
const SEND: &str = "/api/public/v1/messages";

fn me_body() -> serde_json::Value {
    json!({"actor": {"userId": "u_1", "email": "owner@example.com"}, "token": {"id": "t_1", "scopes": []}, "account": {"kind": "employer_organization"}})
}

fn envelope(code: &str) -> serde_json::Value {
    json!({"error": "try later", "code": code, "requestId": "req-1"})
}

async fn requests_to(server: &MockServer, p: &str) -> usize {
    server.received_requests().await.unwrap_or_default().iter().filter(|r| r.url.path() == p).count()
}

#[test]
fn default_policy_is_the_official_clis() {
    let p = RetryPolicy::default();
    assert_eq!(p.max_attempts, 3);
    assert_eq!(p.backoff(2), Duration::from_millis(500));
    assert_eq!(p.backoff(3), Duration::from_secs(1));
    assert_eq!(opentrain::DEFAULT_TIMEOUT, Duration::from_secs(30));
}

#[tokio::test]
async fn get_retries_through_503_502_504_to_success() {
    let server = MockServer::start().await;
    let failing = |status| ResponseTemplate::new(status).set_body_json(envelope("INTERNAL_ERROR"));
    let ok = ResponseTemplate::new(200).set_body_json(me_body());
    sequence(&server, "GET", ME, vec![failing(503), failing(502), ok]).await;
    let (c, events) = client(&server);
    let me = c.get_auth_me().send().run().await.expect("third attempt succeeds");
    assert_eq!(me.actor.email.as_deref(), Some("owner@example.com"));
    assert_eq!(requests_to(&server, ME).await, 3);
    let ev = events.lock().expect("events").clone();
    assert_eq!(ev.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(), ["HTTP 503", "HTTP 502"]);
    assert_eq!(
        ev.iter().map(|e| e.delay).collect::<Vec<_>>(),
        [Duration::from_millis(1), Duration::from_millis(2)],
        "exponential backoff"
    );

    // 504 is retried the same way.
    let server = MockServer::start().await;
    sequence(&server, "GET", ME, vec![ResponseTemplate::new(504), ResponseTemplate::new(200).set_body_json(me_body())])
        .await;
    assert!(client(&server).0.get_auth_me().send().run().await.is_ok());
    assert_eq!(requests_to(&server, ME).await, 2);
}

#[tokio::test]
async fn get_gives_up_after_three_attempts_with_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ME))
        .respond_with(ResponseTemplate::new(503).set_body_json(envelope("INTERNAL_ERROR")))
        .mount(&server)
        .await;
    let err = client(&server).0.get_auth_me().send().run().await.expect_err("always 503");
    assert_eq!(requests_to(&server, ME).await, 3);
    let api = err.as_api().expect("the envelope of the last answer");
    assert_eq!((api.status, api.code.as_str(), api.request_id.as_deref()), (503, "INTERNAL_ERROR", Some("req-1")));
}

#[tokio::test]
async fn post_is_not_retried_on_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(503).set_body_json(envelope("INTERNAL_ERROR")))
        .mount(&server)
        .await;
    let (c, events) = client(&server);
    let body = opentrain::types::SendMessageRequest::builder().conversation_id("c_1").content("hi");
    let err = c.send_message().body(body).send().run().await.expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert_eq!(requests_to(&server, SEND).await, 1, "a write that may have reached the server is never repeated");
    assert!(events.lock().expect("events").is_empty());
}

#[tokio::test]
async fn post_is_retried_when_the_connection_is_refused() {
    // Bind then drop a listener: the port is closed, so every connect is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let (c, events) = client_at(&format!("http://127.0.0.1:{port}"));
    let body = opentrain::types::SendMessageRequest::builder().conversation_id("c_1").content("hi");
    let err = c.send_message().body(body).send().run().await.expect_err("nothing listens");
    match &err {
        Error::Transport { attempts, message, .. } => {
            assert_eq!(*attempts, 3);
            assert!(!message.is_empty());
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    assert_eq!(events.lock().expect("events").iter().filter(|e| e.reason == "connection failed").count(), 2);
}

#[tokio::test]
async fn not_found_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/public/v1/approvals/ap_x"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "No approval", "code": "NOT_FOUND", "requestId": "r", "details": {"resource": "approvals", "approvalId": "ap_x"}})))
        .mount(&server)
        .await;
    let err = client(&server).0.get_approval().approval_id("ap_x").send().run().await.expect_err("404");
    assert_eq!(requests_to(&server, "/api/public/v1/approvals/ap_x").await, 1);
    let api = err.as_api().expect("api error");
    assert_eq!(api.details.as_ref().and_then(|d| d.get("resource")), Some(&json!("approvals")));
}

#[tokio::test]
async fn retry_after_is_honoured_for_reads_only() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(envelope("RATE_LIMITED"));
    sequence(&server, "GET", ME, vec![limited, ResponseTemplate::new(200).set_body_json(me_body())]).await;
    let (c, events) = client(&server);
    let started = Instant::now();
    assert!(c.get_auth_me().send().run().await.is_ok());
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as Retry-After said");
    assert_eq!(events.lock().expect("events")[0].delay, Duration::from_secs(1));

    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(
            ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(envelope("RATE_LIMITED")),
        )
        .mount(&server)
        .await;
    let body = opentrain::types::SendMessageRequest::builder().conversation_id("c_1").content("hi");
    let err = c.send_message().body(body).send().run().await.expect_err("429");
    assert_eq!(err.as_api().and_then(|a| a.retry_after_seconds()), Some(1.0));
    assert_eq!(requests_to(&server, SEND).await, 1);
}

#[tokio::test]
async fn a_read_that_times_out_is_retried_then_reported_as_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ME))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let c = Client::builder()
        .base_url(server.uri())
        .token(Token::new("ot_pat_x"))
        .retry(super::fast_policy())
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    let err = c.get_auth_me().send().run().await.expect_err("too slow");
    assert!(matches!(err, Error::Timeout { attempts: 3, outcome_unknown: false }), "{err:?}");
}

#[tokio::test]
async fn token_user_agent_and_tokenless_operations() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ME))
        .and(header("authorization", "Bearer ot_pat_test_secret"))
        .and(header("user-agent", opentrain::USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(me_body()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/public/v1/jobs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jobs": [], "nextCursor": null})))
        .mount(&server)
        .await;
    let (c, _) = client(&server);
    c.get_auth_me().send().run().await.expect("authorized call");
    c.search_jobs().send().run().await.expect("tokenless search");
    let reqs = server.received_requests().await.unwrap_or_default();
    let search = reqs.iter().find(|r| r.url.path() == "/api/public/v1/jobs").expect("search sent");
    assert!(!search.headers.contains_key("authorization"), "a tokenless operation never carries the token");
}

#[tokio::test]
async fn base_url_trailing_slash_and_bad_urls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ME))
        .respond_with(ResponseTemplate::new(200).set_body_json(me_body()))
        .mount(&server)
        .await;
    let c =
        Client::builder().base_url(format!("{}/", server.uri())).token(Token::new("ot_pat_x")).build().expect("client");
    assert!(c.get_auth_me().send().run().await.is_ok(), "a trailing slash does not double the path separator");
    let err = Client::builder().base_url("ftp://example.com").build().expect_err("bad scheme");
    assert!(err.to_string().contains("base URL"), "{err}");
    let err = Client::builder().base_url("not a url").build().expect_err("bad url");
    assert!(err.to_string().contains("base URL"), "{err}");
}
