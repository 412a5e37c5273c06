//! Requirements from the spec: each command's `--help` says what it needs, and a 403 names the
//! missing one.

use serde_json::json;

use super::*;

#[tokio::test]
async fn help_shows_what_a_command_needs() {
    let t = Cli::start().await;
    let o = ok(t.bare().args(["proposals", "hire", "--help"]));
    assert!(
        stdout(&o).contains(
            "Requires: proposals:write + the public_api_hiring feature + a claimed account + a payment method (or \
             credits covering the charge)"
        ),
        "{}",
        stdout(&o)
    );
    let o = ok(t.bare().args(["auth", "claim", "--help"]));
    assert!(
        stdout(&o).contains("Requires: the claim token (ot_clm_) from registration, no API token"),
        "{}",
        stdout(&o)
    );
    assert!(t.requests().is_empty());
}

#[tokio::test]
async fn a_403_names_the_scope_the_token_lacks() {
    let t = Cli::start().await;
    let envelope = json!({"error": "Missing scope", "code": "FORBIDDEN", "requestId": "req_7",
        "details": {"requiredScopes": ["team:read"], "grantedScopes": ["jobs:read"]}});
    t.on("GET", "/api/public/v1/team", 403, envelope).await;
    let o = fails(t.cmd().args(["team", "show"]), 1);
    let err = stderr(&o);
    assert!(
        err.contains(
            "\nRequirement: the token lacks team:read (get_team needs team:read + the public_api_team feature)\n"
        ),
        "{err}"
    );
}
