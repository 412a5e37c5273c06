//! Arguments are checked against the tool's input schema before anything is sent; unknown tools
//! are protocol errors.

use serde_json::{Value, json};

use crate::harness::{World, call, call_protocol_error, is_error, structured, text};

async fn rejected(client: &crate::harness::Client, tool: &str, args: Value, argument: &str, words: &str) {
    let r = call(client, tool, args).await;
    assert!(is_error(&r), "{tool}: {}", text(&r));
    let s = structured(&r);
    assert_eq!(s["code"], "INVALID_ARGUMENT");
    assert_eq!(s["details"]["argument"], argument, "{s}");
    let t = text(&r);
    assert!(t.contains(&format!("`{argument}`")) && t.contains(words), "{t}");
}

#[tokio::test]
async fn bad_arguments_name_the_argument_and_send_nothing() {
    let world = World::with_env_token("ot_pat_env").await;
    let client = world.client().await;
    rejected(&client, "opentrain_get_proposal", json!({}), "proposalId", "required").await;
    rejected(&client, "opentrain_get_proposal", json!({"proposalId": 42}), "proposalId", "must be a string").await;
    rejected(&client, "opentrain_list_jobs", json!({"limit": 500}), "limit", "at most 100").await;
    rejected(&client, "opentrain_list_jobs", json!({"limit": "ten"}), "limit", "integer").await;
    rejected(&client, "opentrain_read_messages", json!({"direction": "sideways"}), "direction", "one of").await;
    rejected(
        &client,
        "opentrain_hire_proposal",
        json!({"proposalId": "p", "milestone": {}}),
        "milestone.amount",
        "required",
    )
    .await;
    rejected(&client, "opentrain_list_jobs", json!({"limt": 5}), "limt", "not an argument").await;
    rejected(&client, "opentrain_publish_job", json!({"jobId": " "}), "jobId", "empty").await;
    rejected(
        &client,
        "opentrain_wait_for_approval",
        json!({"approvalId": "a", "timeoutSeconds": 601}),
        "timeoutSeconds",
        "600",
    )
    .await;
    assert!(world.requests().is_empty(), "no request for bad input");
}

#[tokio::test]
async fn unknown_tool_is_a_protocol_error() {
    let world = World::with_env_token("ot_pat_env").await;
    let client = world.client().await;
    let e = call_protocol_error(&client, "opentrain_make_coffee", json!({})).await;
    assert_eq!(e.code.0, -32602);
    assert!(e.message.contains("opentrain_make_coffee"));
    // The server keeps serving.
    assert_eq!(client.list_all_tools().await.expect("tools/list").len(), 42);
}

#[tokio::test]
async fn negative_or_absurd_amounts_are_invalid_arguments_and_send_nothing() {
    let world = World::with_env_token("ot_pat_env").await;
    let client = world.client().await;
    for bad in [json!(-5), json!(0), json!(1e300), json!(1e12)] {
        let hire = json!({"proposalId": "p", "milestone": {"amount": bad, "name": "m"}});
        rejected(&client, "opentrain_hire_proposal", hire, "milestone.amount", "amount").await;
        rejected(&client, "opentrain_create_credit_top_up", json!({"amountUsd": bad}), "amountUsd", "amount").await;
        let ms = json!({"contractId": "c", "description": "d", "volume": bad});
        rejected(&client, "opentrain_create_milestone", ms, "volume", "").await;
    }
    assert!(world.requests().is_empty(), "nothing was sent");
}
