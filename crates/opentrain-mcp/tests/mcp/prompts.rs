//! `prompts/list` and `prompts/get` through a real MCP client: the workflow prompts are offered,
//! filled from their arguments, and hidden when their tools are disabled.

use rmcp::model::GetPromptRequestParams;
use serde_json::json;

use crate::harness::World;

#[tokio::test]
async fn the_workflow_prompts_are_listed_and_filled_in() {
    let world = World::new().await;
    let client = world.client().await;
    let names: Vec<String> =
        client.list_all_prompts().await.expect("prompts/list").into_iter().map(|p| p.name).collect();
    assert_eq!(names, vec!["opentrain_post_job", "opentrain_review_and_hire", "opentrain_follow_approval"]);

    let args = json!({"jobId": "job_42", "budgetUsd": 150}).as_object().cloned().unwrap_or_default();
    let got = client
        .get_prompt(GetPromptRequestParams::new("opentrain_review_and_hire").with_arguments(args))
        .await
        .expect("prompts/get");
    let text = serde_json::to_value(&got.messages).expect("json")[0]["content"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("job job_42") && text.contains("within $150"), "{text}");
    assert!(text.contains("opentrain_wait_for_approval") && text.contains("Only after I agree"), "{text}");

    let missing = client.get_prompt(GetPromptRequestParams::new("opentrain_follow_approval")).await;
    let e = format!("{:?}", missing.expect_err("approvalId is required"));
    assert!(e.contains("`approvalId` is required"), "{e}");
    assert!(world.requests().is_empty(), "prompts never call the API");
}

#[tokio::test]
async fn a_read_only_server_offers_no_workflow_that_writes() {
    let world = World::new().await.flags(&["--read-only"]);
    let client = world.client().await;
    let names: Vec<String> =
        client.list_all_prompts().await.expect("prompts/list").into_iter().map(|p| p.name).collect();
    assert_eq!(names, vec!["opentrain_follow_approval"]);
}
