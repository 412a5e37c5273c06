//! The generated MCP tool table against the official server's reference, and a snapshot of
//! every tool's full schema so any change to a tool shows up in review.

use std::collections::BTreeSet;

use opentrain::generated::{meta::OPERATIONS, tools::TOOLS};
use serde_json::Value;

fn reference() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mcp-tools.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).expect("reference JSON")
}

/// The reference is a docs table flattened to JSON: cells containing `\|` were split, so the
/// optional/required marker may sit in `type` or at the start of `description`.
fn is_required(param: &Value) -> bool {
    let text = format!("{} {}", param["type"].as_str().unwrap_or(""), param["description"].as_str().unwrap_or(""));
    let marker = text.split('|').next().unwrap_or("");
    marker.contains("required")
}

fn endpoint(wrap: &str) -> String {
    let (method, path) = wrap.split_once(' ').expect("METHOD path");
    let full = if path.starts_with("/api/") { path.to_string() } else { format!("/api/public/v1{path}") };
    format!("{method} {full}")
}

#[test]
fn the_table_is_exactly_the_41_official_tools() {
    let reference = reference();
    let ours: BTreeSet<&str> = TOOLS.iter().map(|t| t.name).collect();
    let theirs: BTreeSet<&str> = reference.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(ours, theirs);
    assert_eq!(TOOLS.len(), 41);

    let mut problems = Vec::new();
    for r in &reference {
        let name = r["name"].as_str().unwrap_or_default();
        let Some(tool) = TOOLS.iter().find(|t| t.name == name) else { continue };
        let schema: Value = serde_json::from_str(tool.input_schema).expect("input schema JSON");
        let params: BTreeSet<String> =
            schema["properties"].as_object().into_iter().flatten().map(|(k, _)| k.clone()).collect();
        let want: BTreeSet<String> =
            r["params"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str().map(String::from)).collect();
        if params != want {
            problems.push(format!("{name}: params {params:?}, reference {want:?}"));
        }
        let required: BTreeSet<String> =
            schema["required"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
        let want_required: BTreeSet<String> = r["params"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| is_required(p))
            .filter_map(|p| p["name"].as_str().map(String::from))
            .collect();
        if required != want_required {
            problems.push(format!("{name}: required {required:?}, reference {want_required:?}"));
        }
        let wraps: BTreeSet<String> = std::iter::once(tool.operation)
            .chain(tool.also.iter().copied())
            .filter_map(|id| OPERATIONS.iter().find(|o| o.id == id))
            .map(|o| format!("{} {}", o.method, o.path))
            .collect();
        let want_wraps: BTreeSet<String> =
            r["wraps"].as_array().into_iter().flatten().filter_map(Value::as_str).map(endpoint).collect();
        if wraps != want_wraps {
            problems.push(format!("{name}: wraps {wraps:?}, reference {want_wraps:?}"));
        }
    }
    assert!(problems.is_empty(), "tool table differs from the reference:\n{}", problems.join("\n"));
}

#[test]
fn annotations_follow_the_http_semantics() {
    for t in TOOLS {
        let op = OPERATIONS.iter().find(|o| o.id == t.operation).expect("operation");
        assert_eq!(t.read_only, op.method == "GET", "{}: readOnly exactly for reads", t.name);
        assert!(!t.title.is_empty() && !t.description.is_empty(), "{}", t.name);
    }
    let destructive: BTreeSet<&str> = TOOLS.iter().filter(|t| t.destructive).map(|t| t.name).collect();
    let expected: BTreeSet<&str> =
        ["opentrain_revoke_token", "opentrain_delete_webhook", "opentrain_close_job", "opentrain_end_contract"].into();
    assert_eq!(destructive, expected);
    for name in ["opentrain_invite_freelancer", "opentrain_hire_proposal", "opentrain_close_job"] {
        assert!(TOOLS.iter().any(|t| t.name == name && t.idempotent), "{name} is idempotent per the docs");
    }
}

#[test]
fn every_tool_schema_matches_its_snapshot() {
    for t in TOOLS {
        let snapshot = serde_json::json!({
            "name": t.name,
            "title": t.title,
            "toolset": t.toolset,
            "operation": t.operation,
            "also": t.also,
            "annotations": {"readOnlyHint": t.read_only, "destructiveHint": t.destructive, "idempotentHint": t.idempotent, "openWorldHint": true},
            "description": t.description,
            "inputSchema": serde_json::from_str::<Value>(t.input_schema).expect("input"),
            "outputSchema": serde_json::from_str::<Value>(t.output_schema).expect("output"),
            "args": t.args.iter().map(|a| format!("{} -> {:?}", a.name, a.to)).collect::<Vec<_>>(),
        });
        insta::assert_json_snapshot!(t.name, snapshot);
    }
}
