//! What a well-behaved client never sends: the server answers every bad line and keeps serving.
//! Also the protocol versions rmcp 3.11 negotiates, including the stateless 2026-07-28.

use serde_json::{Value, json};

use crate::harness::{Raw, World};

fn tools_list(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}).to_string()
}

fn tool_count(answer: &Value) -> usize {
    answer["result"]["tools"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn malformed_lines_unknown_methods_and_huge_messages_are_answered() {
    let world = World::with_env_token("ot_pat_env").await;
    let mut raw = Raw::spawn(&world);
    let init = raw.initialize("2025-06-18").await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");

    raw.send("{this is not json").await;
    let e = raw.recv().await;
    assert_eq!(e["error"]["code"], -32700, "{e}");

    raw.send(&tools_list(1)).await;
    let a = raw.recv().await;
    assert_eq!(a["id"], 1);
    assert_eq!(tool_count(&a), 42);

    raw.send(r#"{"jsonrpc":"2.0","id":2,"method":"no/such/method"}"#).await;
    let e = raw.recv().await;
    assert_eq!((e["id"].clone(), e["error"]["code"].clone()), (json!(2), json!(-32601)), "{e}");

    raw.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":7}}"#).await;
    let e = raw.recv().await;
    assert_eq!((e["id"].clone(), e["error"]["code"].clone()), (json!(3), json!(-32602)), "{e}");

    // 5 MiB in one line, over the 4 MiB limit: discarded without being buffered, answered.
    let huge = format!(r#"{{"jsonrpc":"2.0","id":4,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(5 << 20));
    raw.send(&huge).await;
    let e = raw.recv().await;
    assert_eq!(e["error"]["code"], -32600, "{e}");

    raw.send(&tools_list(5)).await;
    let a = raw.recv().await;
    assert_eq!(a["id"], 5);
    assert_eq!(tool_count(&a), 42, "still serving");
    assert!(raw.child.try_wait().expect("status").is_none(), "still running");
}

#[tokio::test]
async fn the_tools_list_answer_stays_under_96_kib() {
    let world = World::new().await;
    let mut raw = Raw::spawn(&world);
    raw.initialize("2025-11-25").await;
    raw.send(&tools_list(1)).await;
    let bytes = raw.recv().await.to_string().len();
    // 64 KiB until each tool gained `_meta["ai.opentrain/requires"]` (about 5 KB for all 42),
    // 72 KiB until outputSchemas described every nested field and array item (87 KB, with shared
    // parts in `$defs`): a model that knows a result's shape is worth that. The bound leaves
    // room for a few new tools and still catches runaway growth (descriptions or inlining).
    assert!(bytes < 96 * 1024, "tools/list is {bytes} bytes");
}

#[tokio::test]
async fn negotiates_2025_06_18_and_2025_11_25() {
    for version in ["2025-06-18", "2025-11-25"] {
        let world = World::new().await;
        let mut raw = Raw::spawn(&world);
        let init = raw.initialize(version).await;
        assert_eq!(init["result"]["protocolVersion"], version);
        assert_eq!(init["result"]["serverInfo"]["name"], "opentrain");
        raw.send(&tools_list(1)).await;
        assert_eq!(tool_count(&raw.recv().await), 42);
    }
}

#[tokio::test]
async fn serves_the_stateless_2026_07_28_protocol_without_initialize() {
    let world = World::new().await;
    let mut raw = Raw::spawn(&world);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
    });
    raw.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}).to_string())
        .await;
    let d = raw.recv().await;
    let versions = d["result"]["supportedVersions"].to_string();
    assert!(versions.contains("2026-07-28") && versions.contains("2025-11-25"), "{d}");
    raw.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta}}).to_string()).await;
    assert_eq!(tool_count(&raw.recv().await), 42);
    raw.send(
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"_meta": meta, "name": "opentrain_get_credits", "arguments": {}}})
        .to_string(),
    )
    .await;
    let r = raw.recv().await;
    assert_eq!(r["result"]["isError"], true, "no token: {r}");
    assert_eq!(r["result"]["structuredContent"]["code"], "NO_TOKEN");
}

#[tokio::test]
async fn requests_with_a_null_fractional_or_huge_id_get_an_invalid_request_reply() {
    let world = World::new().await;
    let mut raw = Raw::spawn(&world);
    raw.initialize("2025-06-18").await;
    for id in ["null", "1.5", "9223372036854775808", "18446744073709551616", "true", "{}"] {
        raw.send(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#)).await;
        let e = raw.recv().await;
        assert_eq!(e["error"]["code"], -32600, "id {id}: {e}");
        assert_eq!(e["id"], Value::Null, "id {id}: {e}");
    }
    raw.send(&tools_list(7)).await;
    assert_eq!(raw.recv().await["id"], 7, "still serving");
}
