//! The transport at its edges: redirects, deadlines, oversized bodies, route-changing path
//! parameters and writes whose outcome is unknown, against fault-injecting local servers.

use std::{sync::atomic::Ordering, time::Duration};

use httpmock::MockServer;
use opentrain::{Client, Error, Run, Token, raw};
use opentrain_httpmock::operations::{GetAuthMeWhen, GetCreditTopUpWhen, PollAgentTokenWhen, SendMessageWhen};
use serde_json::json;

use super::{
    Reply, calls, client,
    fault::{Fault, fault_server},
    strays,
};

const SEND: &str = "/api/public/v1/messages";
const ME: &str = "/api/public/v1/auth/me";

fn message() -> opentrain::types::builder::SendMessageRequest {
    opentrain::types::SendMessageRequest::builder().conversation_id("c_1").content("hi")
}

fn me_body() -> serde_json::Value {
    json!({"actor": {"userId": "u_1"}, "token": {"id": "t_1", "scopes": []}, "account": {"kind": "employer_organization"}})
}

fn client_for(base: &str) -> opentrain::ClientBuilder {
    Client::builder().base_url(base).token(Token::new("ot_pat_edge_secret")).retry(super::fast_policy())
}

// ---- 1. No redirects -------------------------------------------------------------------------

#[tokio::test]
async fn a_redirected_post_is_an_error_and_nothing_reaches_the_target() {
    let target = MockServer::start_async().await;
    let followed = target
        .mock_async(|when, then| {
            when.method("GET");
            then.json(200, json!({}));
        })
        .await;
    let stray = strays(&target).await;
    for status in [301, 302, 303, 307, 308] {
        let server = MockServer::start_async().await;
        let location = format!("{}{SEND}?token=ot_pat_in_location", target.base_url());
        server
            .mock_async(|when, then| {
                SendMessageWhen::new(when);
                then.status(status).header("Location", location.as_str());
            })
            .await;
        let err = client(&server).0.send_message().body(message()).send().run().await.expect_err("a 3xx is no success");
        let shown = err.to_string();
        assert_eq!(err.status(), Some(status), "{shown}");
        assert!(shown.contains(&format!("HTTP {status} redirect to {}", target.base_url())), "{shown}");
        assert!(shown.contains("not followed"), "{shown}");
        assert!(!shown.contains("in_location"), "the Location is redacted: {shown}");
    }
    assert_eq!(calls([&followed, &stray]).await, 0, "no request followed a redirect");
}

#[tokio::test]
async fn a_claim_poll_answered_307_does_not_resend_the_claim_token() {
    let target = MockServer::start_async().await;
    let stolen = strays(&target).await;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            PollAgentTokenWhen::new(when);
            then.status(307).header("Location", format!("{}/steal", target.base_url()));
        })
        .await;
    let claim = Token::new("ot_clm_redirect_me_please");
    let err = opentrain::claim::poll_once(&client(&server).0, &claim).await.expect_err("307");
    assert_eq!(err.status(), Some(307));
    assert!(err.to_string().contains("/steal"), "{err}");
    assert_eq!(stolen.calls_async().await, 0, "the claim token went nowhere else");
}

#[tokio::test]
async fn a_redirected_get_is_an_error_too() {
    let target = MockServer::start_async().await;
    let stolen = strays(&target).await;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.status(301).header("Location", format!("{}{ME}", target.base_url()));
        })
        .await;
    let err = client(&server).0.get_auth_me().send().run().await.expect_err("301");
    assert!(matches!(err, Error::InvalidResponse { status: Some(301), .. }), "{err:?}");
    assert_eq!(stolen.calls_async().await, 0, "the token went nowhere else");
}

// ---- 2. Deadlines ------------------------------------------------------------------------------

#[tokio::test]
async fn a_stalled_read_ends_at_the_calls_deadline() {
    // Before: 3 attempts of 30 s each plus backoff (91.5 s). Now the deadline bounds them all.
    let (base, seen) = fault_server(Fault::Stall).await;
    let c = client_for(&base).deadline(Duration::from_secs(2)).build().expect("client");
    let err = c.get_auth_me().send().run().await.expect_err("stalled");
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
    assert_eq!(seen.load(Ordering::SeqCst), 1, "no retry that could not finish in time");

    // A write cut off by the deadline may have been applied: the error says to check first.
    let err = c.send_message().body(message()).send().run().await.expect_err("stalled");
    assert!(matches!(err, Error::Timeout { outcome_unknown: true, .. }), "{err:?}");
    assert!(err.outcome_unknown());
}

#[tokio::test]
async fn within_bounds_every_call_inside_it() {
    let (base, _) = fault_server(Fault::Stall).await;
    let c = client_for(&base).build().expect("client");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    let err = opentrain::within(deadline, c.get_auth_me().send().run()).await.expect_err("stalled");
    // One attempt: the client's own policy would have made three before giving up.
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");

    // A deadline already past sends nothing and says so.
    let (base, seen) = fault_server(Fault::Stall).await;
    let c = client_for(&base).build().expect("client");
    let past = tokio::time::Instant::now();
    let err = opentrain::within(past, c.get_auth_me().send().run()).await.expect_err("no time");
    assert!(matches!(err, Error::Timeout { attempts: 0, outcome_unknown: false }), "{err:?}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_returns_the_429_at_once() {
    // Before: the client slept the full Retry-After (60 s, twice).
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.header("Retry-After", "60").json(429, json!({"error": "slow down", "code": "RATE_LIMITED"}));
        })
        .await;
    let stray = strays(&server).await;
    let c = Client::builder()
        .base_url(server.base_url())
        .token(Token::new("ot_pat_x_deadline"))
        .deadline(Duration::from_secs(5))
        .build()
        .expect("client");
    // Sleeping the 60 s would have run into the 5 s deadline: a timeout, not the 429 itself.
    let err = c.get_auth_me().send().run().await.expect_err("429");
    let api = err.as_api().expect("the 429 itself");
    assert_eq!((api.status, api.retry_after), (429, Some(60)));
    assert!(err.to_string().contains("retry after 60 s"), "says when to retry: {err}");
    assert_eq!(calls([&limited, &stray]).await, 1);
}

// ---- 3. Response size cap ------------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_the_cap_is_refused_naming_the_limit() {
    // Announced length: refused before reading.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.raw(200, vec![b' '; 44_000_000], "application/json");
        })
        .await;
    let err = client(&server).0.get_auth_me().send().run().await.expect_err("44 MB");
    assert!(matches!(err, Error::InvalidResponse { status: Some(200), .. }), "{err:?}");
    assert!(err.to_string().contains("16 MiB"), "{err}");

    // Streamed without a length: cut off while reading.
    let (base, _) = fault_server(Fault::Chunked { total: 44_000_000 }).await;
    let c = client_for(&base).build().expect("client");
    let err = c.get_auth_me().send().run().await.expect_err("44 MB chunked");
    assert!(err.to_string().contains("16 MiB"), "{err}");
}

#[tokio::test]
async fn the_cap_is_configurable_and_bodies_under_it_pass() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.json(200, me_body());
        })
        .await;
    let small = Client::builder().base_url(server.base_url()).max_response_bytes(16).build().expect("client");
    let err = small.get_auth_me().send().run().await.expect_err("over 16 bytes");
    assert!(err.to_string().contains("16 bytes"), "{err}");
    let roomy = Client::builder().base_url(server.base_url()).max_response_bytes(4096).build().expect("client");
    assert!(roomy.get_auth_me().send().run().await.is_ok());
}

/// The cap is exact: a body of exactly the cap passes, one byte more is refused, whether its
/// length is announced or it arrives as a single chunk (the first chunk alone can exceed it).
#[tokio::test]
async fn the_cap_is_exact_for_announced_and_chunked_bodies() {
    let body = me_body().to_string();
    let cap = body.len() as u64;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.raw(200, body.clone().into_bytes(), "application/json");
        })
        .await;
    let at = |base: &str, cap: u64| Client::builder().base_url(base).max_response_bytes(cap).build().expect("client");
    at(&server.base_url(), cap).get_auth_me().send().run().await.expect("an announced body of exactly the cap");
    let err = at(&server.base_url(), cap - 1).get_auth_me().send().run().await.expect_err("one byte over");
    assert!(err.to_string().contains(&format!("exceeds the {} bytes limit", cap - 1)), "{err}");

    let (chunked, _) = fault_server(Fault::OneChunk(body.clone())).await;
    at(&chunked, cap).get_auth_me().send().run().await.expect("a chunk of exactly the cap");
    // Valid JSON padded past the cap: only the cap can refuse it.
    let (padded, _) = fault_server(Fault::OneChunk(format!("{body}{}", " ".repeat(body.len())))).await;
    let err = at(&padded, cap).get_auth_me().send().run().await.expect_err("one chunk twice the cap");
    assert!(err.to_string().contains(&format!("exceeds the {cap} bytes limit")), "{err}");
}

/// An announced length over the cap is refused from the headers: nothing waits for a body that
/// may never come. The limit is named in the unit it was set in (bytes unless whole MiB).
#[tokio::test]
async fn an_announced_oversize_body_is_refused_without_waiting_for_it() {
    let (base, _) = fault_server(Fault::Announce { length: 2_000_000 }).await;
    let c = Client::builder()
        .base_url(base)
        .max_response_bytes(1_572_864)
        .timeout(Duration::from_secs(5))
        .retry(opentrain::RetryPolicy::none())
        .build()
        .expect("client");
    let err = c.get_auth_me().send().run().await.expect_err("over the cap");
    assert!(matches!(err, Error::InvalidResponse { status: Some(200), .. }), "not a timeout: {err:?}");
    assert!(err.to_string().contains("exceeds the 1572864 bytes limit"), "1.5 MiB is not a whole MiB: {err}");
}

/// An answer that stops before its announced length is logged as cut short, not as some other
/// network failure.
#[tokio::test]
async fn an_answer_cut_short_is_named_so_in_the_attempt_log() {
    let (base, _) = fault_server(Fault::CutShort).await;
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    let c = Client::builder()
        .base_url(base)
        .retry(opentrain::RetryPolicy::none())
        .on_attempt(move |e| seen.lock().expect("attempt log").push(e.clone()))
        .build()
        .expect("client");
    c.get_auth_me().send().run().await.expect_err("cut short");
    let events = log.lock().expect("attempt log").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].failure.as_deref(), Some("answer cut short"), "{events:?}");
}

// ---- 4. Path parameters --------------------------------------------------------------------------

#[tokio::test]
async fn dot_and_empty_path_parameters_are_refused_by_every_client() {
    let server = MockServer::start_async().await;
    let top_up = json!({"balance": {}, "topUp": {"id": "tu_1"}});
    // The id is matched as written: the typed helper would read its dots as regex wildcards.
    let dotted = server
        .mock_async(|when, then| {
            GetCreditTopUpWhen::new(when).into_inner().path("/api/public/v1/credits/top-ups/tu.1..x");
            then.json(200, top_up.clone());
        })
        .await;
    let any_get = server
        .mock_async(|when, then| {
            when.method("GET");
            then.json(200, top_up.clone());
        })
        .await;
    let stray = strays(&server).await;
    let (typed, _) = client(&server);
    let raw = raw::Client::from_typed(&typed);
    for bad in ["..", ".", ""] {
        let err = typed.get_credit_top_up().top_up_id(bad).send().run().await.expect_err("refused");
        assert!(matches!(err, Error::InvalidRequest(_)), "{bad:?}: {err:?}");
        assert!(err.to_string().contains("`topUpId`"), "{bad:?}: {err}");
        let args = raw::Args::default().param("topUpId", bad);
        let err = raw.call("get_credit_top_up", &args).await.expect_err("refused");
        assert!(err.to_string().contains("`topUpId`"), "{bad:?}: {err}");
        // In the middle of a path, `..` would reach another resource.
        let err = raw.call("get_approval", &raw::Args::default().param("approvalId", bad)).await.expect_err("refused");
        assert!(err.to_string().contains("`approvalId`"), "{bad:?}: {err}");
    }
    assert_eq!(calls([&dotted, &any_get, &stray]).await, 0, "nothing was sent");
    // Ordinary values, dots inside included, still go through.
    raw.call("get_credit_top_up", &raw::Args::default().param("topUpId", "tu.1..x")).await.expect("sent");
    assert_eq!(
        (dotted.calls_async().await, calls([&any_get, &stray]).await),
        (1, 0),
        "the one request went to /api/public/v1/credits/top-ups/tu.1..x"
    );
}

// ---- 6. Writes whose outcome is unknown ------------------------------------------------------------

#[tokio::test]
async fn a_post_reset_after_sending_is_sent_once_and_reported_outcome_unknown() {
    let (base, seen) = fault_server(Fault::Reset).await;
    let c = client_for(&base).build().expect("client");
    let err = c.send_message().body(message()).send().run().await.expect_err("reset");
    assert_eq!(seen.load(Ordering::SeqCst), 1, "a write that reached the server is never repeated");
    assert!(err.outcome_unknown(), "{err:?}");
    assert!(err.to_string().contains("check whether it took effect"), "{err}");

    // A read is safe to repeat: it is retried and never outcome-unknown.
    let (base, seen) = fault_server(Fault::Reset).await;
    let err = client_for(&base).build().expect("client").get_auth_me().send().run().await.expect_err("reset");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert!(!err.outcome_unknown(), "{err:?}");
}

#[tokio::test]
async fn a_refused_connection_is_not_outcome_unknown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let c = client_for(&format!("http://127.0.0.1:{port}")).build().expect("client");
    let err = c.send_message().body(message()).send().run().await.expect_err("refused");
    assert!(!err.outcome_unknown(), "nothing was sent: {err:?}");
}
