//! The retry matrix, timeouts, headers: the official CLI's transport policy.

use std::time::{Duration, Instant};

use httpmock::{Mock, MockServer, When};
use opentrain::{Client, Error, RetryPolicy, Run, Token};
use opentrain_httpmock::operations::{GetApprovalWhen, GetAuthMeWhen, SearchJobsWhen, SendMessageWhen};
use serde_json::json;

use super::{Answer, Reply, answer, calls, client, client_at, sequence};

const ME: &str = "/api/public/v1/auth/me";
const SEND: &str = "/api/public/v1/messages";

fn me_body() -> serde_json::Value {
    json!({"actor": {"userId": "u_1", "email": "owner@example.com"}, "token": {"id": "t_1", "scopes": []}, "account": {"kind": "employer_organization"}})
}

/// `GET /auth/me` answered with [`me_body`] as sent; the spec's type would drop the empty `scopes`.
fn me_ok() -> Answer {
    answer(|then| then.json(200, me_body()))
}

fn at_me(when: When) -> When {
    GetAuthMeWhen::new(when).into_inner()
}

fn envelope(code: &str) -> serde_json::Value {
    json!({"error": "try later", "code": code, "requestId": "req-1"})
}

/// A catch-all for `p` made after the test's mocks there: it answers 404 like an unmocked route,
/// so that the mocks at `p` and it together count every request sent to `p`.
async fn strays_at<'a>(server: &'a MockServer, p: &str) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.path(p);
            then.status(404);
        })
        .await
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
    let server = MockServer::start_async().await;
    let failing = |status| answer(move |then| then.json(status, envelope("INTERNAL_ERROR")));
    let answers = sequence(&server, at_me, vec![failing(503), failing(502), me_ok()]).await;
    let stray = strays_at(&server, ME).await;
    let (c, events) = client(&server);
    let me = c.get_auth_me().send().run().await.expect("third attempt succeeds");
    assert_eq!(me.actor.email.as_deref(), Some("owner@example.com"));
    assert_eq!(calls(answers.iter().chain([&stray])).await, 3);
    let ev = events.lock().expect("events").clone();
    assert_eq!(ev.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(), ["HTTP 503", "HTTP 502"]);
    assert_eq!(
        ev.iter().map(|e| e.delay).collect::<Vec<_>>(),
        [Duration::from_millis(1), Duration::from_millis(2)],
        "exponential backoff"
    );

    // 504 is retried the same way.
    let server = MockServer::start_async().await;
    let answers = sequence(&server, at_me, vec![answer(|then| then.status(504)), me_ok()]).await;
    let stray = strays_at(&server, ME).await;
    assert!(client(&server).0.get_auth_me().send().run().await.is_ok());
    assert_eq!(calls(answers.iter().chain([&stray])).await, 2);
}

#[tokio::test]
async fn get_gives_up_after_three_attempts_with_the_last_error() {
    let server = MockServer::start_async().await;
    let down = server
        .mock_async(|when, then| {
            at_me(when);
            then.json(503, envelope("INTERNAL_ERROR"));
        })
        .await;
    let stray = strays_at(&server, ME).await;
    let err = client(&server).0.get_auth_me().send().run().await.expect_err("always 503");
    assert_eq!(calls([&down, &stray]).await, 3);
    let api = err.as_api().expect("the envelope of the last answer");
    assert_eq!((api.status, api.code.as_str(), api.request_id.as_deref()), (503, "INTERNAL_ERROR", Some("req-1")));
}

#[tokio::test]
async fn post_is_not_retried_on_503() {
    let server = MockServer::start_async().await;
    let down = server
        .mock_async(|when, then| {
            SendMessageWhen::new(when);
            then.json(503, envelope("INTERNAL_ERROR"));
        })
        .await;
    let stray = strays_at(&server, SEND).await;
    let (c, events) = client(&server);
    let body = opentrain::types::SendMessageRequest::builder().conversation_id("c_1").content("hi");
    let err = c.send_message().body(body).send().run().await.expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert_eq!(calls([&down, &stray]).await, 1, "a write that may have reached the server is never repeated");
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
    let server = MockServer::start_async().await;
    let missing = server
        .mock_async(|when, then| {
            GetApprovalWhen::new(when).approval_id("ap_x");
            then.json(404, json!({"error": "No approval", "code": "NOT_FOUND", "requestId": "r", "details": {"resource": "approvals", "approvalId": "ap_x"}}));
        })
        .await;
    let stray = strays_at(&server, "/api/public/v1/approvals/ap_x").await;
    let err = client(&server).0.get_approval().approval_id("ap_x").send().run().await.expect_err("404");
    assert_eq!(calls([&missing, &stray]).await, 1);
    let api = err.as_api().expect("api error");
    assert_eq!(api.details.as_ref().and_then(|d| d.get("resource")), Some(&json!("approvals")));
}

#[tokio::test]
async fn retry_after_is_honoured_for_reads_only() {
    let server = MockServer::start_async().await;
    let limited = answer(|then| then.header("Retry-After", "1").json(429, envelope("RATE_LIMITED")));
    sequence(&server, at_me, vec![limited, me_ok()]).await;
    let (c, events) = client(&server);
    let started = Instant::now();
    assert!(c.get_auth_me().send().run().await.is_ok());
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as Retry-After said");
    assert_eq!(events.lock().expect("events")[0].delay, Duration::from_secs(1));

    let send = server
        .mock_async(|when, then| {
            SendMessageWhen::new(when);
            then.header("Retry-After", "1").json(429, envelope("RATE_LIMITED"));
        })
        .await;
    let stray = strays_at(&server, SEND).await;
    let body = opentrain::types::SendMessageRequest::builder().conversation_id("c_1").content("hi");
    let err = c.send_message().body(body).send().run().await.expect_err("429");
    assert_eq!(err.as_api().and_then(|a| a.retry_after_seconds()), Some(1.0));
    assert_eq!(calls([&send, &stray]).await, 1);
}

#[tokio::test]
async fn a_read_that_times_out_is_retried_then_reported_as_a_timeout() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            at_me(when);
            then.status(200).delay(Duration::from_secs(5));
        })
        .await;
    let c = Client::builder()
        .base_url(server.base_url())
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
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            at_me(when)
                .header("authorization", "Bearer ot_pat_test_secret")
                .header("user-agent", opentrain::USER_AGENT);
            me_ok()(then);
        })
        .await;
    // A tokenless operation never carries the token: a search that did would match nothing.
    let search = server
        .mock_async(|when, then| {
            SearchJobsWhen::new(when).into_inner().header_missing("authorization");
            then.json(200, json!({"jobs": [], "nextCursor": null}));
        })
        .await;
    let (c, _) = client(&server);
    c.get_auth_me().send().run().await.expect("authorized call");
    c.search_jobs().send().run().await.expect("tokenless search");
    search.assert_calls_async(1).await;
}

#[tokio::test]
async fn base_url_trailing_slash_and_bad_urls() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            at_me(when);
            me_ok()(then);
        })
        .await;
    let c = Client::builder()
        .base_url(format!("{}/", server.base_url()))
        .token(Token::new("ot_pat_x"))
        .build()
        .expect("client");
    assert!(c.get_auth_me().send().run().await.is_ok(), "a trailing slash does not double the path separator");
    let err = Client::builder().base_url("ftp://example.com").build().expect_err("bad scheme");
    assert!(err.to_string().contains("base URL"), "{err}");
    let err = Client::builder().base_url("not a url").build().expect_err("bad url");
    assert!(err.to_string().contains("base URL"), "{err}");
}

#[tokio::test]
async fn every_attempt_is_reported_with_method_masked_path_status_and_number() {
    let server = MockServer::start_async().await;
    let answers =
        sequence(&server, at_me, vec![answer(|then| then.json(503, envelope("INTERNAL_ERROR"))), me_ok()]).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let c = Client::builder()
        .base_url(server.base_url())
        .token(Token::new("ot_pat_test_secret"))
        .retry(RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() })
        .on_attempt(move |e| log.lock().expect("attempt log").push(e.clone()))
        .build()
        .expect("client");
    c.get_auth_me().send().run().await.expect("the retry succeeds");
    assert_eq!(calls(answers.iter()).await, 2);
    let got = seen.lock().expect("attempts").clone();
    let summary: Vec<_> =
        got.iter().map(|e| (e.operation, e.method.as_str(), e.path.as_str(), e.attempt, e.status)).collect();
    assert_eq!(summary, [("get_auth_me", "GET", ME, 1, Some(503)), ("get_auth_me", "GET", ME, 2, Some(200))]);
    assert!(got.iter().all(|e| e.failure.is_none()), "{got:?}");

    // A token pasted as an id reaches the path; the event masks it. No answer: a failure, no status.
    seen.lock().expect("attempts").clear();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let log = seen.clone();
    let c = Client::builder()
        .base_url(format!("http://{closed}"))
        .retry(RetryPolicy::none())
        .on_attempt(move |e| log.lock().expect("attempt log").push(e.clone()))
        .build()
        .expect("client");
    let err = c.get_approval().approval_id("ot_pat_pasted_by_mistake").send().run().await.expect_err("refused");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let got = seen.lock().expect("attempts").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].status, got[0].failure.as_deref()), (None, Some("connection failed")));
    assert_eq!(got[0].path, "/api/public/v1/approvals/ot_pat_[redacted]");
}
