//! Waiting for a human co-sign: confirmed, declined, expired, and timing out.

use std::time::Duration;

use httpmock::MockServer;
use opentrain::{
    Error, Run,
    approvals::{ApprovalWait, wait_for_approval},
    types,
};
use opentrain_httpmock::operations::{EndContractThen, EndContractWhen, GetApprovalWhen};
use serde_json::json;

use super::{Answer, Reply, answer, client, sequence, typed};

fn approval(status: &str) -> Answer {
    let result = if status == "confirmed" { json!({"invoiceId": "inv_1"}) } else { json!(null) };
    let body = json!({"approval": {
        "id": "ap_1", "type": "milestone_fund", "status": status, "contractId": "c_1", "milestoneId": "m_1",
        "jobId": "j_1", "approvalUrl": "https://app.opentrain.ai/approvals/ap_1", "expiresAt": "2026-06-15T10:00:00.000Z",
        "resolvedAt": null, "result": result, "createdAt": "2026-06-12T10:00:00.000Z"}});
    answer(move |then| then.json(200, body))
}

fn fast() -> ApprovalWait {
    ApprovalWait {
        timeout: Duration::from_secs(5),
        initial_interval: Duration::from_millis(2),
        max_interval: Duration::from_millis(5),
    }
}

async fn server_answering(statuses: &[&str]) -> MockServer {
    let server = MockServer::start_async().await;
    let poll = |when| GetApprovalWhen::new(when).approval_id("ap_1").into_inner();
    sequence(&server, poll, statuses.iter().map(|s| approval(s)).collect()).await;
    server
}

#[tokio::test]
async fn waits_through_pending_to_each_final_state() {
    for end in ["confirmed", "declined", "expired"] {
        let server = server_answering(&["pending", "pending", end]).await;
        let mut seen = Vec::new();
        let got = wait_for_approval(&client(&server).0, "ap_1", &fast(), |a| {
            seen.push(a.status.as_ref().map(ToString::to_string))
        })
        .await
        .expect("final");
        assert_eq!(got.status.as_ref().map(ToString::to_string).as_deref(), Some(end));
        assert_eq!(seen.len(), 3, "{end}: every poll is reported");
        assert_eq!(got.is_confirmed(), end == "confirmed");
        if end == "confirmed" {
            assert_eq!(got.result.as_ref().and_then(|r| r.invoice_id.as_deref()), Some("inv_1"));
        }
    }
}

#[tokio::test]
async fn gives_up_at_the_timeout_with_the_last_state() {
    let server = server_answering(&["pending"]).await;
    // Long enough for a first answer on a loaded machine (40 ms was not: the wait ended before any
    // poll came back); the mock answers "pending" forever, so the wait still times out.
    let wait = ApprovalWait { timeout: Duration::from_millis(1500), ..fast() };
    let err = wait_for_approval(&client(&server).0, "ap_1", &wait, |_| {}).await.expect_err("still pending");
    match err {
        Error::WaitTimedOut { last_state, .. } => assert_eq!(last_state, "pending"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_five_second_wait_against_a_stalled_api_ends_in_about_five_seconds() {
    // A server that accepts the poll and never answers. Before: 93.5 s (per-attempt timeouts
    // and retries outside the wait's bound).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let c = super::client_at(&base).0;
    let wait = ApprovalWait { timeout: Duration::from_secs(5), ..fast() };
    // The server never answers, so only the wait's own timeout can end this; the outer one only
    // turns a hang into a failure.
    let err = tokio::time::timeout(Duration::from_secs(120), wait_for_approval(&c, "ap_1", &wait, |_| {}))
        .await
        .expect("the wait ends at its own timeout")
        .expect_err("never answered");
    match &err {
        Error::WaitTimedOut { last_state, .. } => assert!(last_state.contains("no poll was answered"), "{err}"),
        other => panic!("expected WaitTimedOut, got {other:?}"),
    }
}

#[tokio::test]
async fn co_signed_calls_come_back_as_typed_pending_approvals() {
    let server = MockServer::start_async().await;
    let pending = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/examples/money__POST_contracts_{contractId}_end__response__202-concept.json"
    ))
    .expect("fixture");
    server
        .mock_async(|when, then| {
            EndContractWhen::new(when).contract_id("c_1");
            then.raw(202, pending, "application/json");
        })
        .await;
    let ended = json!({"ok": true, "contractId": "c_2", "status": "ended"});
    let ended: types::EndContractResult = typed(ended);
    server
        .mock_async(|when, then| {
            EndContractWhen::new(when).contract_id("c_2");
            EndContractThen::new(then).ok(&ended);
        })
        .await;
    let c = client(&server).0;
    let first = c.end_contract().contract_id("c_1").send().run().await.expect("202");
    let p = first.pending_approval().expect("a 202 is a pending approval, not an ended contract");
    assert_eq!(p.approval.type_, types::ApprovalType::Known(types::ApprovalTypeKnown::ContractEnd));
    let second = c.end_contract().contract_id("c_2").send().run().await.expect("200");
    assert!(matches!(second, types::EndContractResult::ContractEnded(_)));
}

/// A poll that times out on the client's own request timeout, long before the wait's deadline,
/// is a network fault reported as such: not "the human did not answer in time".
#[tokio::test]
async fn a_poll_timing_out_before_the_deadline_is_a_timeout_not_an_expired_wait() {
    let (base, seen) = super::fault::fault_server(super::fault::Fault::Stall).await;
    let client = opentrain::Client::builder()
        .base_url(base)
        .token(opentrain::Token::new("ot_pat_test_secret"))
        .retry(opentrain::RetryPolicy::none())
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let wait = ApprovalWait { timeout: Duration::from_secs(60), ..fast() };
    let err = wait_for_approval(&client, "ap_1", &wait, |_| {}).await.expect_err("the poll times out");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1, "one poll, not retried");
}
