//! Every listed tool says what it needs in `_meta["ai.opentrain/requires"]`, and for the 41
//! official tools that agrees with the `Requires:` prose of the official tool reference.

use serde_json::{Value, json};

use crate::harness::{World, call, is_error, reply, structured, text};

/// The official reference (`docs/developers/mcp/tools`), flattened to JSON.
fn reference() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/mcp-tools.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).expect("reference JSON")
}

/// The backticked words of the prose.
fn ticked(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(String::from).collect()
}

/// Reads a reference `requires` sentence into the `_meta` shape, independently of the spec:
/// "nothing" is tokenless, a claim token is not a bearer, backticked `x:y` words are scopes
/// ("at least one of" makes them any-of), backticked `public_api_*` words are feature flags,
/// "**claimed**" needs a claimed account and "payment method" a payment method.
fn parse(requires: &str) -> Value {
    let claim_token = requires.contains("claim token");
    let token = !(requires.starts_with("nothing") || claim_token);
    let words = ticked(requires);
    let scopes: Vec<&String> = words.iter().filter(|w| w.contains(':')).collect();
    let features: Vec<&String> = words.iter().filter(|w| w.starts_with("public_api_")).collect();
    let any = requires.contains("at least one of");
    let mut v = json!({
        "token": token,
        "scopes": if any { vec![] } else { scopes.clone() },
        "anyScopes": if any { scopes } else { vec![] },
        "features": features,
        "claimed": requires.contains("**claimed**"),
    });
    if requires.contains("payment method") {
        v["paymentMethod"] = true.into();
    }
    if claim_token {
        v["claimToken"] = true.into();
    }
    v
}

#[tokio::test]
async fn every_tool_carries_its_requirements_matching_the_official_reference() {
    let world = World::with_env_token("ot_pat_env").await;
    let client = world.client().await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let meta = |name: &str| -> Value {
        let tool = tools.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name} listed"));
        let meta = tool.meta.as_ref().unwrap_or_else(|| panic!("{name} has _meta"));
        meta.0.get("ai.opentrain/requires").cloned().unwrap_or_else(|| panic!("{name}: no requires"))
    };
    let reference = reference();
    assert_eq!(reference.len(), 41);
    let mut wrong = Vec::new();
    for r in &reference {
        let name = r["name"].as_str().expect("name");
        let want = parse(r["requires"].as_str().expect("requires"));
        let got = meta(name);
        if got != want {
            wrong.push(format!("{name}: listed {got}, reference {want} ({})", r["requires"]));
        }
    }
    assert!(wrong.is_empty(), "{} of 41 disagree:\n{}", wrong.len(), wrong.join("\n"));

    // The extra tool reads an approval, so it needs what get_approval needs.
    assert_eq!(
        meta("opentrain_wait_for_approval"),
        json!({"token": true, "scopes": ["payments:read"], "anyScopes": [], "features": [], "claimed": false})
    );
}

#[test]
fn the_prose_reader_reads_the_hard_cases() {
    assert_eq!(parse("at least one of `a:read`, `b:read`.")["anyScopes"], json!(["a:read", "b:read"]));
    assert_eq!(parse("nothing — anonymous and tokenless.")["token"], json!(false));
    let hire = parse("`p:write` + the `public_api_hiring` feature + a **claimed** account + a payment method.");
    assert_eq!(hire["features"], json!(["public_api_hiring"]));
    assert_eq!((hire["claimed"].clone(), hire["paymentMethod"].clone()), (json!(true), json!(true)));
}

#[tokio::test]
async fn after_auth_status_a_403_names_the_scope_the_token_lacks() {
    let world = World::with_env_token("ot_pat_env").await;
    world
        .api
        .mock_async(|when, then| {
            when.method("GET").path("/api/public/v1/auth/me");
            reply(
                then,
                200,
                &json!({"actor": {"userId": "u1"}, "account": {},
                "token": {"id": "t1", "scopes": ["jobs:read", "jobs:write"]}}),
            );
        })
        .await;
    world
        .api
        .mock_async(|when, then| {
            when.method("GET").path("/api/public/v1/team");
            reply(then, 403, &json!({"error": "Forbidden", "code": "FORBIDDEN", "requestId": "r1"}));
        })
        .await;
    let client = world.client().await;

    let r = call(&client, "opentrain_get_team", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("get_team needs team:read + the public_api_team feature"), "{}", text(&r));
    assert!(!text(&r).contains("lacks"), "scopes not known yet: {}", text(&r));

    let r = call(&client, "opentrain_auth_status", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = call(&client, "opentrain_get_team", json!({})).await;
    assert!(text(&r).contains("the token lacks team:read (get_team needs"), "{}", text(&r));
    assert_eq!(structured(&r)["code"], "FORBIDDEN", "the envelope itself is unchanged");
}
