//! Write safety, counted at the server: no write of the spec is ever sent twice once its request
//! reached the server (reset or timed out afterwards), while a read is repeated; a Retry-After
//! above the policy's cap ends the retries at once; and a held token that ends up inside a
//! transport error's text is masked. Raw tokio listeners on 127.0.0.1 do what httpmock cannot:
//! read the request, then reset the connection or never answer.

use std::{sync::atomic::Ordering, time::Duration};

use httpmock::MockServer;
use opentrain::{
    Client, Error, RetryPolicy, Run, Token,
    generated::meta::{OPERATIONS, OperationId},
    raw,
};
use opentrain_httpmock::operations::GetAuthMeWhen;
use serde_json::{Map, json};
use tokio::sync::mpsc;

use super::{
    Reply, calls,
    fault::{Fault, fault_server},
    strays,
};

fn client(base: &str) -> opentrain::ClientBuilder {
    let fast = RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    Client::builder().base_url(base).token(Token::new("ot_pat_writes_secret")).retry(fast)
}

/// Every operation of the spec that is not a read, with made-up path parameters and an empty
/// JSON body: what a write needs to reach the server.
fn writes() -> Vec<(OperationId, raw::Args)> {
    OPERATIONS
        .iter()
        .filter(|o| !o.method.eq_ignore_ascii_case("GET") && !o.method.eq_ignore_ascii_case("HEAD"))
        .map(|o| {
            let mut args = raw::Args::default();
            for seg in o.path.split('/') {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    args = args.param(name, "x1");
                }
            }
            (OperationId::from_id(o.id).expect("operation id"), args.body(Map::new()))
        })
        .collect()
}

#[tokio::test]
async fn no_write_is_sent_twice_when_the_connection_is_reset_after_it_arrived() {
    let (base, seen) = fault_server(Fault::Reset).await;
    let raw = raw::Client::from_typed(&client(&base).build().expect("client"));
    let writes = writes();
    assert!(writes.len() >= 20, "the spec's writes: {}", writes.len());
    for (op, args) in writes {
        let before = seen.load(Ordering::SeqCst);
        let err = raw.call_op(op, &args).await.expect_err("reset");
        assert_eq!(
            seen.load(Ordering::SeqCst) - before,
            1,
            "{}: a write that reached the server is sent once",
            op.id()
        );
        assert!(err.outcome_unknown(), "{}: {err:?}", op.id());
        assert!(matches!(err, Error::Transport { attempts: 1, .. }), "{}: {err:?}", op.id());
    }
}

#[tokio::test]
async fn no_write_is_sent_twice_when_it_times_out_after_it_arrived() {
    let (base, seen) = fault_server(Fault::Stall).await;
    let raw = raw::Client::from_typed(&client(&base).timeout(Duration::from_millis(200)).build().expect("client"));
    for (op, args) in writes() {
        let before = seen.load(Ordering::SeqCst);
        let err = raw.call_op(op, &args).await.expect_err("stalled");
        assert_eq!(seen.load(Ordering::SeqCst) - before, 1, "{}: sent once", op.id());
        assert!(matches!(err, Error::Timeout { attempts: 1, outcome_unknown: true }), "{}: {err:?}", op.id());
    }

    // A read in the same situation is safe to repeat, and is.
    let before = seen.load(Ordering::SeqCst);
    let err = raw.call_op(OperationId::GetAuthMe, &raw::Args::default()).await.expect_err("stalled");
    assert_eq!(seen.load(Ordering::SeqCst) - before, 3, "a read is tried three times");
    assert!(matches!(err, Error::Timeout { attempts: 3, outcome_unknown: false }), "{err:?}");
}

#[tokio::test]
async fn a_read_reset_after_it_arrived_is_retried_and_recovers() {
    let (base, seen) = fault_server(Fault::ResetOnceThenAnswer).await;
    let me = client(&base).build().expect("client").get_auth_me().send().run().await.expect("the retry answers");
    assert_eq!(me.actor.user_id, "u_1");
    assert_eq!(seen.load(Ordering::SeqCst), 2, "reset once, then answered");
}

#[tokio::test]
async fn a_retry_after_above_the_cap_returns_the_429_without_waiting_or_retrying() {
    let server = MockServer::start_async().await;
    let policy = RetryPolicy::default();
    let over = policy.max_retry_after.as_secs() + 1;
    let limited = server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.header("Retry-After", over.to_string())
                .json(429, json!({"error": "slow down", "code": "RATE_LIMITED"}));
        })
        .await;
    let stray = strays(&server).await;
    let (retried, mut retry) = mpsc::unbounded_channel();
    let c = Client::builder()
        .base_url(server.base_url())
        .token(Token::new("ot_pat_writes_secret"))
        .retry(policy)
        // Far beyond the Retry-After: only the cap can stop the wait.
        .deadline(Duration::from_secs(24 * 3600))
        .on_retry(move |e| {
            let _ = retried.send(e.delay);
        })
        .build()
        .expect("client");
    // A retry is announced before its wait: seeing one is the failure, no clock needed.
    let err = tokio::select! {
        res = c.get_auth_me().send().run() => res.expect_err("429"),
        Some(delay) = retry.recv() => panic!("a Retry-After of {over} s above the cap was honoured ({delay:?})"),
    };
    let api = err.as_api().expect("the 429 itself");
    assert_eq!((api.status, api.retry_after), (429, Some(over)));
    assert_eq!(calls([&limited, &stray]).await, 1);

    // At the cap it is honoured: the retry is announced with exactly that wait.
    server.reset_async().await;
    server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.header("Retry-After", (over - 1).to_string())
                .json(429, json!({"error": "slow down", "code": "RATE_LIMITED"}));
        })
        .await;
    tokio::select! {
        res = c.get_auth_me().send().run() => panic!("no retry at the cap: {res:?}"),
        Some(delay) = retry.recv() => assert_eq!(delay, Duration::from_secs(over - 1)),
    }
}

#[tokio::test]
async fn a_held_token_inside_a_transport_error_is_masked() {
    // Pasted by mistake where an id goes: it travels in the URL, which transport errors quote.
    // One shaped like OpenTrain's tokens, one masked only because this process holds it.
    for secret in ["ot_pat_pasted_by_mistake_7781", "plain-pasted-by-mistake-7781"] {
        let held = Token::new(secret);
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let c = client(&format!("http://127.0.0.1:{port}")).token(held).build().expect("client");
        let refused = c.get_proposal().proposal_id(secret).send().run().await.expect_err("refused");
        assert!(matches!(refused, Error::Transport { .. }), "{refused:?}");
        let (base, _) = fault_server(Fault::Reset).await;
        let c = client(&base).build().expect("client");
        let reset = c.get_proposal().proposal_id(secret).send().run().await.expect_err("reset");
        for err in [&refused, &reset] {
            assert!(err.to_string().contains("/api/public/v1/proposals/"), "the URL is quoted: {err}");
        }
        let (stalled, _) = fault_server(Fault::Stall).await;
        let c = client(&stalled).timeout(Duration::from_millis(100)).build().expect("client");
        let timed_out = c.get_proposal().proposal_id(secret).send().run().await.expect_err("stalled");
        for err in [refused, reset, timed_out] {
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains("pasted_by_mistake") && !shown.contains("pasted-by-mistake"), "{shown}");
            }
        }
    }
}
