//! A write whose outcome is unknown is never answered with "retry": the hint says to check
//! first with a named read tool, and how idempotency keys make a repeat safe.

use std::io::Read;

use serde_json::json;

use crate::harness::{World, call, is_error, text};

/// A server on 127.0.0.1 that reads a request and closes the connection without answering:
/// the request was sent, its outcome is unknown.
fn closes_after_reading() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_write_with_unknown_outcome_says_check_first_never_retry() {
    let world = World::with_env_token("ot_pat_env").await.var("OPENTRAIN_API_BASE_URL", &closes_after_reading());
    let client = world.client().await;
    let r = call(&client, "opentrain_create_job_draft", json!({"jobDescription": "Label 5,000 tweets."})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(!t.to_lowercase().contains("retry"), "{t}");
    assert!(t.contains("opentrain_list_jobs") && t.contains("idempotencyKey"), "{t}");

    let r =
        call(&client, "opentrain_hire_proposal", json!({"proposalId": "p1", "milestone": {"amount": 10, "name": "m"}}))
            .await;
    let t = text(&r);
    assert!(!t.to_lowercase().contains("retry"), "{t}");
    assert!(t.contains("opentrain_get_proposal") && t.contains("opentrain_list_contracts"), "{t}");
}
