//! The hand-written tools beyond registration and the claim: a proposal with its interview, the
//! two modes of reading messages, and waiting for a human approval with progress.

use opentrain::types::{MessagesDirection, MessagesDirectionKnown};
use opentrain_httpmock::MockServerExt;
use rmcp::{
    model::{CallToolRequestParams, ClientRequest, Request, ServerResult},
    service::PeerRequestOptions,
};
use serde_json::json;

use crate::harness::{World, call, is_error, reply, structured, text};

/// A transcript as `GET /proposals/{id}/interview` documents it.
fn interview_body() -> serde_json::Value {
    json!({"interview": {"proposalId": "prop_1", "messages": [{"id": "m1", "role": "assistant", "content": "Hi"}]}})
}

#[tokio::test]
async fn get_proposal_with_interview_fetches_both() {
    let world = World::with_env_token("ot_pat_env").await;
    let proposal = world.api.get_proposal(|when, then| {
        when.proposal_id("prop_1");
        reply(
            then.into_inner(),
            200,
            &json!({"proposal": {"id": "prop_1", "status": {"raw": "UNREVIEWED", "label": "Unreviewed"}}}),
        );
    });
    let interview = world.api.get_proposal_interview(|when, then| {
        when.proposal_id("prop_1");
        reply(then.into_inner(), 200, &interview_body());
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_get_proposal", json!({"proposalId": "prop_1", "includeInterview": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["proposal"]["id"], "prop_1");
    assert_eq!(s["interview"], interview_body());

    let r = call(&client, "opentrain_get_proposal", json!({"proposalId": "prop_1"})).await;
    assert!(structured(&r).get("interview").is_none(), "no interview unless asked");
    proposal.assert_calls_async(2).await;
    interview.assert_calls_async(1).await;
}

#[tokio::test]
async fn read_messages_has_a_summary_mode_and_a_conversation_mode() {
    let world = World::with_env_token("ot_pat_env").await;
    let summary = world.api.read_messages(|when, then| {
        when.unread_only(true).direction(None).conversation_id(None);
        let page = json!({
            "conversations": [{"id": "conv_1", "type": "proposal", "unreadCount": 2, "lastMessage": {"content": "Hello!"}}],
            "nextCursor": null
        });
        reply(then.into_inner(), 200, &page);
    });
    let conversation = world.api.read_messages(|when, then| {
        when.conversation_id("conv_1").direction(&MessagesDirection::Known(MessagesDirectionKnown::Newer)).unread_only(None);
        let page = json!({
            "messages": [{"id": "m1", "content": "Hello!", "isFromViewer": false, "senderUserId": "u_9", "createdAt": "2026-06-01"}],
            "nextCursor": "m0"
        });
        reply(then.into_inner(), 200, &page);
    });
    let client = world.client().await;

    let r = call(&client, "opentrain_read_messages", json!({"unreadOnly": true, "direction": "newer"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("conv_1") && t.contains("2 unread") && t.contains("Ignored direction"), "{t}");

    let r = call(
        &client,
        "opentrain_read_messages",
        json!({"conversationId": "conv_1", "direction": "newer", "unreadOnly": true}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("u_9: Hello!") && t.contains("\"m0\"") && t.contains("Ignored unreadOnly"), "{t}");
    summary.assert_calls_async(1).await;
    conversation.assert_calls_async(1).await;
}

fn approval(status: &str) -> serde_json::Value {
    json!({"approval": {
        "id": "appr_1", "type": "proposal_hire", "status": status,
        "approvalUrl": "https://app.opentrain.ai/approvals/appr_1", "expiresAt": "2026-06-15T10:00:00.000Z",
        "result": if status == "confirmed" { json!({"contractId": "ctr_1"}) } else { json!(null) }
    }})
}

#[tokio::test]
async fn wait_for_approval_reports_progress_and_returns_the_final_state() {
    let world = World::with_env_token("ot_pat_env").await;
    // The first poll sees it pending; later ones fall through to the confirmed answer.
    world.api.get_approval(|when, then| {
        when.approval_id("appr_1");
        reply(then.into_inner(), 200, &approval("pending")).up_to_n_times(1);
    });
    world.api.get_approval(|when, then| {
        when.approval_id("appr_1");
        reply(then.into_inner(), 200, &approval("confirmed"));
    });
    let client = world.client().await;
    let args = json!({"approvalId": "appr_1", "timeoutSeconds": 30}).as_object().cloned().unwrap_or_default();
    let handle = client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(
                CallToolRequestParams::new("opentrain_wait_for_approval").with_arguments(args),
            )),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("send");
    let ServerResult::CallToolResult(r) = handle.await_response().await.expect("answer") else {
        panic!("not a tool result")
    };
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["approval"]["status"], "confirmed");
    assert_eq!(structured(&r)["approval"]["result"]["contractId"], "ctr_1");
    assert!(text(&r).contains("confirmed"), "{}", text(&r));
    let progress = client.service().progress.lock().map(|p| p.clone()).unwrap_or_default();
    assert_eq!(progress.len(), 2, "one notification per poll: {progress:?}");
    assert!(progress[0].message.as_deref().unwrap_or_default().contains("pending"));
    assert!(progress[1].progress >= progress[0].progress);
}

#[tokio::test]
async fn wait_for_approval_times_out_with_the_pending_approval() {
    let world = World::with_env_token("ot_pat_env").await;
    world.api.get_approval(|when, then| {
        when.approval_id("appr_1");
        reply(then.into_inner(), 200, &approval("pending"));
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_wait_for_approval", json!({"approvalId": "appr_1", "timeoutSeconds": 1})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["waitTimedOut"], true);
    assert_eq!(s["approval"]["status"], "pending");
    let t = text(&r);
    assert!(
        t.contains("Still pending") && t.contains("https://app.opentrain.ai/approvals/appr_1") && !t.contains("done"),
        "{t}"
    );
}
