//! SIGTERM and SIGINT drain the call in flight: its answer is written before the server exits.

use std::{process::Command, time::Duration};

use opentrain_httpmock::MockServerExt;
use serde_json::{Value, json};

use crate::harness::{Raw, World, reply};

/// Starts a slow `opentrain_get_credits` call, sends `signal` once the API has the request,
/// and returns the answer the server still writes and its exit status.
async fn answer_after(signal: &str) -> (Value, std::process::ExitStatus) {
    let world = World::with_env_token("ot_pat_env").await;
    world.api.get_credits(|_when, then| {
        reply(then.into_inner(), 200, &json!({"credits": {"availableCents": 5, "reservedCents": 0}}))
            .delay(Duration::from_millis(1500));
    });
    let mut raw = Raw::spawn(&world);
    raw.initialize("2025-06-18").await;
    raw.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "opentrain_get_credits", "arguments": {}}})
        .to_string(),
    )
    .await;
    world.first_request().await;
    let pid = raw.child.id().expect("running").to_string();
    assert!(Command::new("kill").args([signal, &pid]).status().expect("kill").success());
    let answer = raw.recv().await;
    let status = tokio::time::timeout(Duration::from_secs(20), raw.child.wait())
        .await
        .expect("exits after draining")
        .expect("status");
    (answer, status)
}

#[tokio::test]
async fn sigterm_drains_the_call_in_flight_then_exits_cleanly() {
    let (answer, status) = answer_after("-TERM").await;
    assert_eq!(answer["id"], 1, "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["credits"]["availableCents"], 5, "{answer}");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigint_drains_too() {
    let (answer, status) = answer_after("-INT").await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(status.success(), "{status:?}");
}
