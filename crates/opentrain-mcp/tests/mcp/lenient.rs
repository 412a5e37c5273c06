//! Leniency through the tools: operations whose success status the docs only infer succeed on any
//! 2xx, with or without a body, and every result still fits the tool's outputSchema (the harness
//! checks each one).

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use crate::harness::{World, call, is_error, reply, structured, text};

/// A documented body from `tests/fixtures/examples`.
fn example(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/examples").join(name);
    serde_json::from_slice(&std::fs::read(path).expect("example")).expect("JSON")
}

/// (tool, arguments, method, path, a documented-shape body) for the tools over those operations.
fn inferred() -> Vec<(&'static str, Value, &'static str, &'static str, Value)> {
    vec![
        (
            "opentrain_claim_account",
            json!({"email": "owner@example.com", "claimToken": "ot_clm_test"}),
            "POST",
            "/api/agent/identity/claim",
            json!({"user_code": "439218", "verification_uri": "http://127.0.0.1/claim", "expires_in": 1800, "interval": 5}),
        ),
        (
            "opentrain_revoke_token",
            json!({"tokenId": "tok_1"}),
            "DELETE",
            "/api/public/v1/tokens/tok_1",
            example("auth__DELETE_api_public_v1_tokens_{tokenId}__response.json"),
        ),
        (
            "opentrain_update_job_draft_fields",
            json!({"jobId": "job_1", "patch": {"jobTitle": "Spanish audio"}}),
            "PATCH",
            "/api/public/v1/job-drafts/job_1",
            example("jobs__PATCH_job-drafts_{jobId}__response.json"),
        ),
        (
            "opentrain_update_published_job",
            json!({"jobId": "job_1", "patch": {"jobTitle": "Spanish audio"}}),
            "PATCH",
            "/api/public/v1/jobs/job_1",
            json!({"ok": true, "jobId": "job_1", "status": "OPEN"}),
        ),
        (
            "opentrain_start_proposal_conversation",
            json!({"proposalId": "p_1"}),
            "POST",
            "/api/public/v1/proposals/p_1/conversation",
            example("proposals__POST_proposals_{proposalId}_conversation__response.json"),
        ),
        (
            "opentrain_invite_team_member",
            json!({"email": "a@example.com"}),
            "POST",
            "/api/public/v1/team/invites",
            example("team__POST_team_invites__response.json"),
        ),
    ]
}

/// Calls `tool` against an API that answers its operation 204, with no body.
async fn call_answered_204(tool: &str, args: Value, method: &'static str, path: &'static str) -> CallToolResult {
    let world = World::with_env_token("ot_pat_env").await;
    world
        .api
        .mock_async(move |when, then| {
            when.method(method).path(path);
            then.status(204);
        })
        .await;
    let client = world.client().await;
    call(&client, tool, args).await
}

#[tokio::test]
async fn an_inferred_status_answering_201_gives_the_body() {
    for (tool, args, method, path, body) in inferred() {
        let world = World::with_env_token("ot_pat_env").await;
        let b = body.clone();
        world
            .api
            .mock_async(move |when, then| {
                when.method(method).path(path);
                reply(then, 201, &b);
            })
            .await;
        let client = world.client().await;
        let r = call(&client, tool, args).await;
        assert!(!is_error(&r), "{tool}: {}", text(&r));
        let got = structured(&r);
        for (k, v) in body.as_object().expect("object") {
            // 1800 and 1800.0 are one JSON number (a count the docs call a number is an f64).
            let same = got[k] == *v
                || (v.is_number() && got[k].as_f64() == v.as_f64())
                || (v.is_object() && got[k].is_object());
            assert!(same, "{tool}: `{k}` lost: {} vs {v}", got[k]);
        }
        if tool == "opentrain_claim_account" {
            assert!(text(&r).contains("439218"), "the user code reaches the human: {}", text(&r));
        }
    }
}

#[tokio::test]
async fn an_inferred_status_answering_204_is_done_without_a_body() {
    for (tool, args, method, path, _) in inferred().into_iter().filter(|t| t.0 != "opentrain_claim_account") {
        let r = call_answered_204(tool, args, method, path).await;
        assert!(!is_error(&r), "{tool}: 204 is success: {}", text(&r));
        assert!(structured(&r).is_object(), "{tool}: structuredContent stays an object");
        // Done, and nothing more: no field of a body that never came is summarised.
        assert!(text(&r).contains(&format!("done. {}", opentrain::raw::NO_BODY)), "{tool}: {}", text(&r));
        assert_eq!(structured(&r), json!({"result": null}), "{tool}");
    }
}

#[tokio::test]
async fn a_claim_started_without_a_body_says_there_is_no_user_code() {
    let (tool, args, method, path, _) =
        inferred().into_iter().find(|t| t.0 == "opentrain_claim_account").expect("claim");
    let r = call_answered_204(tool, args, method, path).await;
    // The human needs the code to claim: no code is made up and none is promised.
    assert!(is_error(&r), "{tool}: a claim with no user code cannot go on: {}", text(&r));
    assert!(text(&r).contains("no user code"), "{}", text(&r));
}
