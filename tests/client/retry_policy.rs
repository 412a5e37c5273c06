//! The retry policy's knobs do what their names say: no retries means one attempt, and a
//! `Retry-After` longer than the policy allows ends the retries.

use std::time::Duration;

use httpmock::MockServer;
use opentrain::{Client, RetryPolicy, Run, Token};
use opentrain_httpmock::operations::GetAuthMeWhen;
use serde_json::json;

use super::{Reply, calls, strays};

fn limited_client(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(Token::new("ot_pat_policy_secret"))
        .retry(policy)
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_policy_without_retries_sends_a_failing_read_once() {
    let server = MockServer::start_async().await;
    let down = server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.json(503, json!({"error": "try later", "code": "INTERNAL_ERROR"}));
        })
        .await;
    let stray = strays(&server).await;
    let policy = RetryPolicy::none();
    assert_eq!(policy.max_attempts, 1);
    let err = limited_client(&server, policy).get_auth_me().send().run().await.expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert_eq!(calls([&down, &stray]).await, 1, "a read the policy may not retry is sent once");
}

#[tokio::test]
async fn a_retry_after_over_the_cap_returns_the_429_without_waiting() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.header("Retry-After", "3").json(429, json!({"error": "slow down", "code": "RATE_LIMITED"}));
        })
        .await;
    let stray = strays(&server).await;
    // A cap below the server's ask: waiting 3 s is refused, so the 429 comes back after one
    // attempt, carrying the server's number for the caller to act on.
    let policy = RetryPolicy { max_retry_after: Duration::from_secs(2), ..super::fast_policy() };
    let err = limited_client(&server, policy).get_auth_me().send().run().await.expect_err("429");
    let api = err.as_api().expect("the API's 429");
    assert_eq!((api.status, api.retry_after), (429, Some(3)));
    assert_eq!(calls([&limited, &stray]).await, 1);
}
