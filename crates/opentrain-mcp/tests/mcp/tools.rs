//! Listing, and calling read, write and co-signed tools: the exact API JSON as structuredContent,
//! a short summary as text, API failures as `isError` results.

use std::num::NonZeroU64;

use opentrain_httpmock::MockServerExt;
use serde_json::{Value, json};

use crate::harness::{World, call, is_error, reply, structured, text};

#[tokio::test]
async fn lists_every_tool_with_titles_annotations_and_schemas() {
    let world = World::with_env_token("ot_pat_env").await;
    let client = world.client().await;
    let info = client.peer_info().expect("initialize result");
    let server = info.server_info.clone().expect("serverInfo");
    assert_eq!(server.name, "opentrain");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));

    let tools = client.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), 42, "the 41 official tools plus opentrain_wait_for_approval");
    let table = opentrain_mcp::table();
    for (tool, def) in tools.iter().zip(&table) {
        assert_eq!(tool.name, def.name, "listed in table order");
        assert_eq!(tool.title.as_deref(), Some(def.title));
        let a = tool.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(def.read_only), "{}", def.name);
        assert_eq!(a.destructive_hint, Some(def.destructive), "{}", def.name);
        assert_eq!(a.idempotent_hint, Some(def.idempotent), "{}", def.name);
        assert_eq!(a.open_world_hint, Some(true));
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")));
        let out = tool.output_schema.as_ref().expect("outputSchema");
        assert_eq!(out.get("type"), Some(&json!("object")));
    }
    assert!(tools.iter().any(|t| t.name == "opentrain_wait_for_approval"));
    assert!(world.requests().is_empty(), "listing sends nothing");
}

#[tokio::test]
async fn read_tool_returns_the_exact_json_and_a_summary() {
    let world = World::new().await;
    let page = json!({
        "jobs": [{"id": "job_1", "title": "Spanish sentiment", "status": "OPEN", "futureField": {"x": 1}}],
        "nextCursor": "c2",
        "generatedAt": "2026-11-25T10:00:00Z",
        "somethingNew": [1, 2, 3]
    });
    let search = world.api.search_jobs(|when, then| {
        when.q("spanish").limit(NonZeroU64::new(5));
        reply(then.into_inner(), 200, &page);
    });
    let client = world.client().await;
    // Tokenless: works with no token at all, and sends no Authorization header.
    let r = call(&client, "opentrain_search_jobs", json!({"q": "spanish", "limit": 5})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r), page, "structuredContent is the API's JSON, unknown fields included");
    let t = text(&r);
    assert!(t.contains("job_1") && t.contains("Spanish sentiment") && t.contains("OPEN"), "{t}");
    assert!(t.contains("cursor \"c2\""), "{t}");
    let reqs = world.requests();
    assert!(reqs[0].headers().get("authorization").is_none());
    search.assert_calls_async(1).await;
}

#[tokio::test]
async fn write_tool_maps_arguments_onto_the_body() {
    let world = World::with_env_token("ot_pat_env").await;
    let answer = json!({
        "ok": true, "jobId": "job_9", "status": "DRAFT", "draftUrl": "https://app/x",
        "validation": {"publishReady": false, "missingFields": ["pricePerLabel"]}
    });
    let draft = world.api.create_job_draft(|when, then| {
        when.into_inner().header("authorization", "Bearer ot_pat_env").json_body(json!({
            "rawJobDescription": "Spanish tweets\n\nLabel 5,000 tweets.",
            "idempotencyKey": "k-1"
        }));
        reply(then.into_inner(), 201, &answer);
    });
    let client = world.client().await;
    let r = call(
        &client,
        "opentrain_create_job_draft",
        json!({"title": "Spanish tweets", "jobDescription": "Label 5,000 tweets.", "idempotencyKey": "k-1"}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r), answer);
    let t = text(&r);
    assert!(t.contains("opentrain_update_job_draft_fields") && t.contains("job_9"), "{t}");
    draft.assert_calls_async(1).await;
}

#[tokio::test]
async fn co_signed_tool_shows_the_approval_url_expiry_and_next_step() {
    let world = World::with_env_token("ot_pat_env").await;
    let pending = json!({
        "approval": {
            "id": "appr_1", "type": "proposal_hire", "status": "pending",
            "approvalUrl": "https://app.opentrain.ai/approvals/appr_1",
            "expiresAt": "2026-06-15T10:00:00.000Z", "proposalId": "prop_1"
        },
        "message": "Hire request recorded. A signed-in human must confirm this approval."
    });
    let hire = world.api.hire_proposal(|when, then| {
        when.proposal_id("prop_1").into_inner().json_body(json!({"milestone": {"amount": 300, "name": "Batch 1"}}));
        reply(then.into_inner(), 202, &pending);
    });
    let client = world.client().await;
    let r = call(
        &client,
        "opentrain_hire_proposal",
        json!({"proposalId": "prop_1", "milestone": {"amount": 300, "name": "Batch 1"}}),
    )
    .await;
    assert!(!is_error(&r), "a pending approval is not a failure");
    assert_eq!(structured(&r), pending);
    let t = text(&r);
    assert!(t.contains("https://app.opentrain.ai/approvals/appr_1"), "{t}");
    assert!(t.contains("2026-06-15T10:00:00.000Z"), "{t}");
    assert!(t.contains("opentrain_wait_for_approval") && t.contains("appr_1"), "{t}");
    hire.assert_calls_async(1).await;
}

#[tokio::test]
async fn api_error_envelope_is_an_error_result_with_its_details() {
    let world = World::with_env_token("ot_pat_env").await;
    let envelope = json!({
        "error": "A human must claim this agent account before it can hire AI trainers.",
        "code": "FORBIDDEN",
        "requestId": "req_42",
        "details": {"reason": "account_claim_required", "claimUrl": "https://app.opentrain.ai/claim"}
    });
    world.api.hire_proposal(|when, then| {
        when.proposal_id("prop_1");
        reply(then.into_inner(), 403, &envelope);
    });
    world.api.create_credit_top_up(|_when, then| {
        let conflict = json!({
            "error": "Add a payment method first.", "code": "CONFLICT",
            "details": {"reason": "payment_method_required", "billingUrl": "https://app.opentrain.ai/billing"}
        });
        reply(then.into_inner(), 409, &conflict);
    });
    let client = world.client().await;

    let r = call(&client, "opentrain_hire_proposal", json!({"proposalId": "prop_1", "milestone": {"amount": 1}})).await;
    assert!(is_error(&r));
    let s = structured(&r);
    assert_eq!(s["status"], 403);
    assert_eq!(s["code"], "FORBIDDEN");
    assert_eq!(s["error"], envelope["error"]);
    assert_eq!(s["requestId"], "req_42");
    assert_eq!(s["details"]["claimUrl"], "https://app.opentrain.ai/claim");
    let t = text(&r);
    for needle in ["403", "FORBIDDEN", "req_42", "account_claim_required", "https://app.opentrain.ai/claim"] {
        assert!(t.contains(needle), "text lacks {needle}: {t}");
    }

    let r = call(&client, "opentrain_create_credit_top_up", json!({"amountUsd": 50})).await;
    assert!(is_error(&r));
    assert_eq!(structured(&r)["details"]["billingUrl"], "https://app.opentrain.ai/billing");
    assert!(text(&r).contains("https://app.opentrain.ai/billing"));
}

#[tokio::test]
async fn reads_are_retried_on_503() {
    let world = World::with_env_token("ot_pat_env").await;
    // One 503, then the second mock answers.
    world.api.get_credits(|_when, then| {
        then.into_inner().status(503).up_to_n_times(1);
    });
    world.api.get_credits(|_when, then| {
        reply(then.into_inner(), 200, &json!({"credits": {"availableCents": 1250, "reservedCents": 0}}));
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_get_credits", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r), json!({"credits": {"availableCents": 1250, "reservedCents": 0}}));
    assert_eq!(world.requests().len(), 2, "one 503, one retry");
}

#[tokio::test]
async fn writes_are_not_retried_and_non_json_answers_are_reported_with_a_snippet() {
    let world = World::with_env_token("ot_pat_env").await;
    world.api.close_job(|when, then| {
        when.id("job_1");
        then.into_inner().status(503);
    });
    world.api.get_team(|_when, then| {
        then.into_inner().status(200).header("content-type", "text/plain").body("<html>maintenance page</html>");
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_close_job", json!({"jobId": "job_1"})).await;
    assert!(is_error(&r));
    assert_eq!(structured(&r)["status"], 503);
    assert_eq!(world.requests().len(), 1, "a write is sent once");

    let r = call(&client, "opentrain_get_team", json!({})).await;
    assert!(is_error(&r));
    let s = structured(&r);
    assert_eq!(s["code"], "INVALID_RESPONSE");
    assert!(s["details"]["snippet"].as_str().unwrap_or_default().contains("maintenance page"), "{s}");
}

#[tokio::test]
async fn non_object_answers_are_wrapped() {
    let world = World::with_env_token("ot_pat_env").await;
    world.api.list_webhooks(|_when, then| {
        reply(then.into_inner(), 200, &json!([{"id": "wh_1"}]));
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_list_webhooks", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r), json!({"result": [{"id": "wh_1"}]}));
    let _: Value = structured(&r);
}
