//! `contracts`, `milestones`, `approvals` (including `wait`), `credits` and `payments`.

use opentrain::types;
use opentrain_httpmock::operations as ops;
use serde_json::{Value, json};

use super::*;

fn approval(status: &str) -> Value {
    let mut a = fixture("money__POST_milestones_{milestoneId}_fund__response.json")["approval"].clone();
    a["status"] = json!(status);
    a["id"] = json!("apr_1");
    if status == "confirmed" {
        a["result"] = json!({"invoiceId": "inv_1"});
        a["resolvedAt"] = json!("2026-06-12T11:00:00.000Z");
    }
    json!({"approval": a})
}

#[tokio::test]
async fn contracts_list_get_and_end_both_ways() {
    let t = Cli::start().await;
    let list = fixture("money__GET_contracts__response.json");
    let one = json!({"contract": list["contracts"][0]});
    t.server
        .mock_async(|when, then| {
            when.method("GET").path("/api/public/v1/contracts").query_param("status", "active");
            json(then, 200, &list);
        })
        .await;
    t.on("GET", "/api/public/v1/contracts/c_1", 200, one).await;
    t.on("POST", "/api/public/v1/contracts/c_1/end", 200, json!({"ok": true, "contractId": "c_1", "status": "ended"}))
        .await;
    let mut pending = fixture("money__POST_milestones_{milestoneId}_fund__response.json");
    pending["approval"]["type"] = json!("contract_end");
    t.on("POST", "/api/public/v1/contracts/c_2/end", 202, pending).await;

    let o = ok(t.cmd().args(["contracts", "list", "--status", "active", "--job-id", "job_1"]));
    let out = stdout(&o);
    assert!(out.contains("<CONTRACT_ID>") && out.contains("Maria G.") && out.contains("$300.00 fixed"), "{out}");
    let o = ok(t.cmd().args(["contracts", "get", "--contract-id", "c_1"]));
    assert!(stdout(&o).contains("Milestones (1):") && stdout(&o).contains("ACTIVE_FUNDED"), "{}", stdout(&o));
    let o = ok(t.cmd().args(["contracts", "end", "--contract-id", "c_1"]));
    assert!(stdout(&o).starts_with("Contract c_1 ended."), "{}", stdout(&o));
    let o = ok(t.cmd().args(["contracts", "end", "--contract-id", "c_2"]));
    let out = stdout(&o);
    assert!(out.starts_with("Contract end requested: a human must approve it"), "{out}");
    assert!(out.contains("Approve at: https://app.opentrain.ai/approvals/<APPROVAL_ID>"), "{out}");
    assert_eq!(query(&t.requests()[0]), [("jobId".into(), "job_1".into()), ("status".into(), "active".into())]);
}

#[tokio::test]
async fn milestones_create_fund_approve() {
    let t = Cli::start().await;
    t.on(
        "POST",
        "/api/public/v1/contracts/c_1/milestones",
        201,
        fixture("money__POST_contracts_{contractId}_milestones__response.json"),
    )
    .await;
    t.on(
        "POST",
        "/api/public/v1/milestones/m_1/fund",
        202,
        fixture("money__POST_milestones_{milestoneId}_fund__response.json"),
    )
    .await;
    t.on(
        "POST",
        "/api/public/v1/milestones/m_1/approve",
        202,
        fixture("money__POST_milestones_{milestoneId}_approve__response.json"),
    )
    .await;
    let o = ok(t.cmd().args([
        "milestones",
        "create",
        "--contract-id",
        "c_1",
        "--description",
        "Next 5,000 posts",
        "--amount-usd",
        "300",
        "--due-date",
        "2026-07-15",
    ]));
    assert!(stdout(&o).contains("opentrain milestones fund --milestone-id <MILESTONE_ID>"), "{}", stdout(&o));
    for verb in ["fund", "approve"] {
        let o = ok(t.cmd().args(["milestones", verb, "--milestone-id", "m_1"]));
        let out = stdout(&o);
        assert!(out.contains("Approve at: https://app.opentrain.ai/approvals/"), "{out}");
        assert!(out.contains("opentrain approvals wait --approval-id"), "{out}");
    }
    assert_eq!(
        json_body(&t.requests()[0]),
        json!({"description": "Next 5,000 posts", "amountUsd": 300, "dueDate": "2026-07-15"})
    );
}

#[tokio::test]
async fn approvals_get_and_wait_until_confirmed() {
    let t = Cli::start().await;
    // Each answer in turn: mocks match in the order they are created and a spent one stops.
    for (status, times) in [("pending", 1), ("pending", 1), ("confirmed", 10)] {
        let answer: types::GetApprovalResponse = serde_json::from_value(approval(status)).expect("an approval");
        typed(&t.server, ops::GetApprovalWhen::new, ops::GetApprovalThen::new, |when, then| {
            when.approval_id("apr_1");
            then.ok(&answer).into_inner().up_to_n_times(times);
        })
        .await;
    }
    let o = ok(t.cmd().args(["approvals", "get", "--approval-id", "apr_1"]));
    assert!(stdout(&o).contains("Approval apr_1 (milestone_fund): pending"), "{}", stdout(&o));
    let o = ok(t.cmd().args(["approvals", "wait", "--approval-id", "apr_1", "--interval", "0.05", "--json"]));
    assert_eq!(stdout(&o), serde_json::to_string_pretty(&approval("confirmed")).expect("json") + "\n");
    let err = stderr(&o);
    assert!(err.contains("waiting for approval apr_1: pending") && err.contains("approval apr_1 confirmed"), "{err}");
}

#[tokio::test]
async fn approvals_wait_exits_1_when_declined() {
    let t = Cli::start().await;
    t.on("GET", "/api/public/v1/approvals/apr_1", 200, approval("declined")).await;
    let o = fails(t.cmd().args(["approvals", "wait", "--approval-id", "apr_1"]), 1);
    assert!(stdout(&o).contains("Approval apr_1 (milestone_fund): declined"), "{}", stdout(&o));
    assert!(stderr(&o).contains("Error: approval apr_1 is declined: the action was not carried out"), "{}", stderr(&o));
}

#[tokio::test]
async fn credits_show_ledger_top_up_and_status() {
    let t = Cli::start().await;
    t.on("GET", "/api/public/v1/credits", 200, fixture("money__GET_credits__response.json")).await;
    let entries = fixture("money__GET_credits__response.json")["credits"]["recentEntries"].clone();
    t.on("GET", "/api/public/v1/credits/ledger", 200, json!({"entries": entries, "nextCursor": null})).await;
    t.on("POST", "/api/public/v1/credits/top-ups", 201, fixture("money__POST_credits_top-ups__response.json")).await;
    let top_up = fixture("money__POST_credits_top-ups__response.json")["topUp"].clone();
    t.on("GET", "/api/public/v1/credits/top-ups/tu_1", 200, json!({"topUp": top_up})).await;

    let o = ok(t.cmd().args(["credits", "show"]));
    let out = stdout(&o);
    assert!(out.contains("Available:  $50.00") && out.contains("-$25.00"), "{out}");
    let o = ok(t.cmd().args(["credits", "ledger", "--limit", "10"]));
    assert!(stdout(&o).contains("HOLD"), "{}", stdout(&o));
    let o = ok(t.cmd().args(["credits", "top-up", "--amount", "100"]));
    assert!(stdout(&o).contains("https://checkout.stripe.com/c/pay/"), "{}", stdout(&o));
    let o = ok(t.cmd().args(["credits", "top-up-status", "--top-up-id", "tu_1"]));
    assert!(stdout(&o).contains("PENDING") && stdout(&o).contains("$100.00"), "{}", stdout(&o));
    assert_eq!(json_body(&t.requests()[2]), json!({"amountUsd": 100}));
}

#[tokio::test]
async fn payments_pending() {
    let t = Cli::start().await;
    let body = json!({"payments": [{
        "id": "inv_1", "status": "PENDING_FUNDING", "amountUsd": 300, "createdAt": "2026-06-12T10:00:00.000Z",
        "job": {"id": "job_1", "title": "Spanish sentiment"}, "milestone": {"id": "m_1", "name": "First batch"}
    }]});
    t.on("GET", "/api/public/v1/payments/pending", 200, body).await;
    let o = ok(t.cmd().args(["payments", "pending"]));
    assert!(stdout(&o).contains("PENDING_FUNDING") && stdout(&o).contains("First batch"), "{}", stdout(&o));
    t.reset().await;
    t.on("GET", "/api/public/v1/payments/pending", 200, json!({"payments": []})).await;
    let o = ok(t.cmd().args(["payments", "pending"]));
    assert_eq!(stdout(&o), "No pending payments.\n");
}
