//! No secret is ever returned: with a server that echoes the token in use (and the claim token)
//! in every error field, every one of the 42 tools masks it in its text and structuredContent.

use opentrain_httpmock::MockServerExt;
use serde_json::{Map, Value, json};

use crate::harness::{World, call, reply, structured, text};

/// A token of no known shape: only the "secrets the process holds" rule can mask it.
const UNSHAPED: &str = "sk-test-unshaped-12345";
const CLAIM: &str = "ot_clm_echoed_claim_98765";

/// The smallest value `schema` accepts, built from its type, enum and required fields.
fn sample(schema: &Value) -> Value {
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        _ => "string",
    };
    match ty {
        "integer" | "number" => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(0).max(1)),
        "boolean" => json!(false),
        "array" => json!([sample(schema.get("items").unwrap_or(&Value::Null))]),
        "object" => {
            let mut m = Map::new();
            for r in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                m.insert(r.to_string(), sample(&schema["properties"][r]));
            }
            Value::Object(m)
        }
        _ => json!("x1"),
    }
}

#[tokio::test]
async fn every_tool_masks_echoed_secrets_in_text_and_structured_content() {
    let world = World::with_env_token(UNSHAPED).await;
    let body = json!({
        "error": format!("bad credential {UNSHAPED} {CLAIM}"),
        "code": format!("E_{UNSHAPED}"),
        "requestId": format!("req-{UNSHAPED}"),
        "details": {"seen": UNSHAPED, "claim": CLAIM, "nested": [format!("x{UNSHAPED}y")]},
        "error_description": format!("echo {CLAIM} {UNSHAPED}"),
    });
    world
        .api
        .mock_async(|when, then| {
            when.any_request();
            reply(then, 400, &body);
        })
        .await;
    let client = world.client().await;
    let mut checked = 0;
    for tool in opentrain_mcp::table() {
        let schema: Value = serde_json::from_str(tool.input_schema).expect("input schema");
        let mut args = sample(&schema);
        if schema["properties"].get("claimToken").is_some() {
            args["claimToken"] = json!(CLAIM);
        }
        if schema["properties"].get("timeoutSeconds").is_some() {
            args["timeoutSeconds"] = json!(2);
        }
        let r = call(&client, tool.name, args).await;
        let shown = format!("{}\n{}", text(&r), structured(&r));
        assert!(
            !shown.contains(UNSHAPED) && !shown.contains("echoed_claim"),
            "{} returned a secret:\n{shown}",
            tool.name
        );
        assert!(shown.contains("[redacted]"), "{}: the echoed error is still reported:\n{shown}", tool.name);
        checked += 1;
    }
    assert_eq!(checked, 42);
}

#[tokio::test]
async fn a_new_webhook_secret_is_still_returned_once() {
    let world = World::with_env_token(UNSHAPED).await;
    let secret = "whsec_brand_new_signing_key";
    world.api.create_webhook(|_when, then| {
        reply(then.into_inner(), 201, &json!({
            "webhook": {"id": "wh_1", "url": "https://example.com/h", "eventTypes": ["message.received"], "status": "ACTIVE"},
            "secret": secret,
            "note": UNSHAPED
        }));
    });
    let client = world.client().await;
    let r = call(
        &client,
        "opentrain_create_webhook",
        json!({"url": "https://example.com/h", "eventTypes": ["message.received"]}),
    )
    .await;
    let s = structured(&r);
    assert_eq!(s["secret"], secret, "shown once, as the tool promises");
    assert_eq!(s["note"], "[redacted]");
    assert!(!text(&r).contains(secret), "{}", text(&r));
}

#[tokio::test]
async fn the_claim_link_the_human_opens_is_returned_whole() {
    let world = World::new().await;
    let link = "https://app.opentrain.ai/claim?token=ot_cat_1f2e3d4c5b6a";
    world.api.start_claim(|_when, then| {
        let attempt = json!({
            "verification_uri": link, "user_code": "123456", "expires_in": 900, "interval": 5, "email_sent": true
        });
        reply(then.into_inner(), 200, &attempt);
    });
    let client = world.client().await;
    let r = call(&client, "opentrain_claim_account", json!({"email": "h@example.com", "claimToken": CLAIM})).await;
    assert_eq!(structured(&r)["verification_uri"], link);
    assert!(text(&r).contains(link), "{}", text(&r));
    assert!(!text(&r).contains("echoed_claim"), "{}", text(&r));
}
