//! Credentials per HTTP request: every call runs with a client built for the caller's own
//! `Authorization: Bearer` token, and the onboarding tools hand their tokens back instead of
//! saving them, because a shared server must hold nobody's secrets.

use http::{HeaderMap, header::AUTHORIZATION};
use rmcp::model::CallToolResult;
use serde_json::{Map, Value, json};

use crate::{result, session::Clients, summary};
use opentrain::{
    Client, Run, Token, claim,
    generated::{meta::OperationId as O, tools::ToolDef},
    types,
};

/// What an `Authorization` header says.
#[derive(Debug, PartialEq, Eq)]
pub enum Bearer {
    /// No header: only the tokenless tools can run.
    Absent,
    /// `Bearer <token>`.
    Token(String),
    /// A header that is not a usable bearer token (another scheme, empty, not ASCII).
    Malformed,
}

/// Reads the caller's bearer token (the scheme is case-insensitive, RFC 7235).
pub fn bearer(headers: &HeaderMap) -> Bearer {
    let Some(value) = headers.get(AUTHORIZATION) else { return Bearer::Absent };
    let Ok(text) = value.to_str() else { return Bearer::Malformed };
    let mut words = text.trim().splitn(2, ' ');
    match (words.next(), words.next().map(str::trim)) {
        (Some(scheme), Some(token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ') =>
        {
            Bearer::Token(token.to_string())
        }
        _ => Bearer::Malformed,
    }
}

/// The clients for one request: `base`'s connection pool and base URL with the caller's token
/// (or none). Nothing from the server's environment or `cli.json` takes part.
pub fn clients_for(base: &Client, headers: &HeaderMap) -> Clients {
    let token = match bearer(headers) {
        Bearer::Token(t) => Some(Token::new(t)),
        Bearer::Absent | Bearer::Malformed => None,
    };
    let typed = base.with_token(token);
    Clients { raw: opentrain::raw::Client::from_typed(&typed), typed, credentials: std::path::PathBuf::new() }
}

/// A tool that needs a token was called over HTTP without one; nothing was sent.
pub fn no_token(tool: &ToolDef) -> CallToolResult {
    let message = format!(
        "{} needs an OpenTrain API token and this request carried none. Send your token in the HTTP header \
         `Authorization: Bearer <token>` (a token minted in the OpenTrain app under Settings, API keys, or the \
         access_token opentrain_register_agent returned). This server never uses a token of its own.",
        tool.name
    );
    result::failure(json!({"code": "NO_TOKEN", "error": message}), format!("Error: {message} Nothing was sent."))
}

/// Whether `tool` is one of the onboarding tools that would write `cli.json` over stdio.
pub fn is_onboarding(tool: &ToolDef) -> bool {
    matches!(O::from_id(tool.operation), Some(O::RegisterAgent | O::StartClaim | O::PollAgentToken))
}

fn str_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `result::ok`, with the secrets at `pointers` put back after masking: they are the caller's
/// own new credentials, delivered this once and kept nowhere on the server. The text stays
/// masked, since clients show it and models repeat it.
fn ok_revealing(tool: &ToolDef, value: Value, text: String, pointers: &[&str]) -> CallToolResult {
    let kept: Vec<(&str, Value)> = pointers.iter().filter_map(|p| value.pointer(p).cloned().map(|v| (*p, v))).collect();
    let mut out = result::ok(tool, value, Some(text));
    if out.is_error != Some(true)
        && let Some(structured) = out.structured_content.as_mut()
    {
        for (pointer, secret) in kept {
            if let Some(slot) = structured.pointer_mut(pointer) {
                *slot = secret;
            }
        }
    }
    out
}

fn no_claim_token(tool: &ToolDef) -> CallToolResult {
    let message = "claimToken is required over HTTP: this server saves no credentials, so pass the claim_token \
                   opentrain_register_agent returned";
    result::failure(
        json!({"code": "NO_CLAIM_TOKEN", "error": message, "details": {"argument": "claimToken"}}),
        format!("Error: {message}. Nothing was sent ({}).", tool.name),
    )
}

/// Register, claim and claim status over HTTP: the same API calls as over stdio, through the
/// SDK client, but the tokens go back to the caller and nothing is written on the server.
pub async fn onboarding(tool: &ToolDef, args: &Map<String, Value>, clients: &Clients) -> CallToolResult {
    match O::from_id(tool.operation) {
        Some(O::RegisterAgent) => {
            let body = types::RegisterAgentRequest {
                agent_name: str_arg(args, "agentName").map(String::from),
                organization_name: str_arg(args, "organizationName").map(String::from),
                identity_type: None,
            };
            match clients.typed.register_agent().body(body).send().run().await {
                Ok(reg) => {
                    let text = "Registered a new agent account. This server keeps no credentials: its access token \
                                and claim token are in this result's structuredContent (access_token, claim_token), \
                                shown this once. Store them now and send `Authorization: Bearer <access_token>` with \
                                every later request.\nNext: have a human claim the account with \
                                opentrain_claim_account (email and claimToken), then poll opentrain_claim_status \
                                with the same claimToken."
                        .to_string();
                    ok_revealing(tool, to_json(&reg), text, &["/access_token", "/claim_token"])
                }
                Err(e) => result::error(&e),
            }
        }
        Some(O::StartClaim) => {
            let Some(token) = str_arg(args, "claimToken") else { return no_claim_token(tool) };
            let email = str_arg(args, "email").unwrap_or_default().to_string();
            match claim::start_claim_with(&clients.typed, Token::new(token), &email).await {
                Ok(attempt) => {
                    let text = summary::claim_started(&email, &attempt);
                    result::ok(tool, to_json(&attempt), Some(text))
                }
                Err(e) => result::error(&e),
            }
        }
        Some(O::PollAgentToken) => {
            let Some(token) = str_arg(args, "claimToken") else { return no_claim_token(tool) };
            match claim::poll_once(&clients.typed, &Token::new(token)).await {
                Ok(claim::Poll::Claimed(t)) => {
                    let text = "Claimed: a human now owns this account. Its post-claim token is in this result's \
                                structuredContent.access_token, shown this once (the pre-claim tokens stopped \
                                working). Send it as `Authorization: Bearer <access_token>` from now on."
                        .to_string();
                    let mut value = to_json(&t);
                    value["claimed"] = true.into();
                    ok_revealing(tool, value, text, &["/access_token"])
                }
                Ok(claim::Poll::Pending) => result::ok(
                    tool,
                    json!({"claimed": false, "error": "authorization_pending"}),
                    Some("Not claimed yet (authorization_pending).\nNext: call opentrain_claim_status again in about 5 s.".into()),
                ),
                Ok(claim::Poll::SlowDown(interval)) => {
                    let secs = interval.map_or(10, |d| d.as_secs());
                    result::ok(
                        tool,
                        json!({"claimed": false, "error": "slow_down", "interval": secs}),
                        Some(format!("Not claimed yet (slow_down).\nNext: call opentrain_claim_status again in {secs} s or more.")),
                    )
                }
                Err(e) => result::error(&e),
            }
        }
        _ => result::error(&opentrain::Error::InvalidRequest(format!("{} is not an onboarding tool", tool.name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().expect("header value"));
        h
    }

    #[test]
    fn bearer_tokens_are_read_and_other_schemes_refused() {
        assert_eq!(bearer(&HeaderMap::new()), Bearer::Absent);
        assert_eq!(bearer(&headers("Bearer ot_pat_a")), Bearer::Token("ot_pat_a".into()));
        assert_eq!(bearer(&headers("bearer   ot_pat_b ")), Bearer::Token("ot_pat_b".into()));
        assert_eq!(bearer(&headers("Basic dXNlcjpwYXNz")), Bearer::Malformed);
        assert_eq!(bearer(&headers("Bearer")), Bearer::Malformed);
        assert_eq!(bearer(&headers("Bearer a b")), Bearer::Malformed);
    }
}
