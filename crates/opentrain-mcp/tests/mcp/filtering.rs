//! `--read-only`, `--toolsets`, `--tools`, `--exclude-tools` and their environment variables:
//! what is listed is exactly what is callable.

use serde_json::json;

use crate::harness::{World, call_protocol_error};

async fn listed(world: &World) -> Vec<String> {
    let client = world.client().await;
    client.list_all_tools().await.expect("tools/list").into_iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn read_only_lists_and_serves_only_reads() {
    let world = World::with_env_token("ot_pat_env").await.flags(&["--read-only"]);
    let names = listed(&world).await;
    let table = opentrain_mcp::table();
    let reads: Vec<&str> = table.iter().filter(|t| t.read_only).map(|t| t.name).collect();
    assert_eq!(names, reads);
    assert!(names.contains(&"opentrain_wait_for_approval".to_string()));
    let named = World::new().await.flags(&["--read-only", "--tools", "hire_proposal,get_team"]);
    assert_eq!(listed(&named).await, vec!["opentrain_get_team"], "--read-only beats --tools");

    let client = world.client().await;
    let e =
        call_protocol_error(&client, "opentrain_hire_proposal", json!({"proposalId": "p", "milestone": {"amount": 1}}))
            .await;
    assert_eq!(e.code.0, -32602);
    assert!(e.message.contains("disabled"), "{}", e.message);
    assert!(world.requests().is_empty());
}

#[tokio::test]
async fn toolsets_limit_the_families_and_exclude_wins() {
    let world = World::with_env_token("ot_pat_env").await.flags(&[
        "--toolsets",
        "jobs,credits",
        "--tools",
        "opentrain_get_team",
        "--exclude-tools",
        "opentrain_close_job",
    ]);
    let names = listed(&world).await;
    let table = opentrain_mcp::table();
    let want: Vec<&str> = table
        .iter()
        .filter(|t| {
            (["jobs", "credits"].contains(&t.toolset) || t.name == "opentrain_get_team")
                && t.name != "opentrain_close_job"
        })
        .map(|t| t.name)
        .collect();
    assert_eq!(names, want);
    assert!(names.contains(&"opentrain_search_jobs".to_string()));
    assert!(!names.contains(&"opentrain_list_contracts".to_string()));

    let client = world.client().await;
    let e = call_protocol_error(&client, "opentrain_list_contracts", json!({})).await;
    assert_eq!(e.code.0, -32602);
    let e = call_protocol_error(&client, "opentrain_close_job", json!({"jobId": "j"})).await;
    assert_eq!(e.code.0, -32602);
    assert!(world.requests().is_empty());
}

#[tokio::test]
async fn environment_variables_do_the_same() {
    let world = World::new()
        .await
        .var("OPENTRAIN_TOOLSETS", "webhooks")
        .var("OPENTRAIN_EXCLUDE_TOOLS", "delete_webhook")
        .var("OPENTRAIN_READ_ONLY", "1");
    assert_eq!(listed(&world).await, vec!["opentrain_list_webhooks", "opentrain_get_webhook"]);
}

#[tokio::test]
async fn unknown_names_stop_the_server_with_a_message() {
    let world = World::new().await.flags(&["--toolsets", "jobz"]);
    let out = world.command().output().await.expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jobz") && err.contains("jobs"), "{err}");
    assert!(out.stdout.is_empty(), "stdout is for the protocol only");
}

#[tokio::test]
async fn help_documents_the_flags_and_their_variables() {
    let world = World::new().await.flags(&["--help"]);
    let out = world.command().output().await.expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--toolsets",
        "OPENTRAIN_TOOLSETS",
        "--tools",
        "OPENTRAIN_TOOLS",
        "--exclude-tools",
        "OPENTRAIN_EXCLUDE_TOOLS",
        "--read-only",
        "OPENTRAIN_READ_ONLY",
        "OPENTRAIN_PERSONAL_API_TOKEN",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}
