//! The tools that are more than one plain call: registration and the claim ceremony (which keep
//! `cli.json` current), a proposal with its interview, the two modes of reading messages, and the
//! extra `opentrain_wait_for_approval`.

use std::{fmt::Write, time::Duration};

use rmcp::model::{CallToolResult, ProgressNotificationParam};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::{call::Progress, call::request_args, result, session::Clients, session::Session, summary};
use opentrain::{
    ConfigError, CredentialsFile, Error, Token, approvals,
    claim::{self, Poll, RegisterOptions},
    generated::tools::{TOOLS, ToolDef},
    redact,
};

/// The name of the extra tool that waits for a human co-sign.
pub const WAIT_FOR_APPROVAL: &str = "opentrain_wait_for_approval";

/// The longest `opentrain_wait_for_approval` waits in one call.
pub const MAX_WAIT_SECONDS: u64 = 600;

/// How long it waits when not told: under the 60 s request timeout many MCP clients apply.
pub const DEFAULT_WAIT_SECONDS: u64 = 55;

const WAIT_INPUT_SCHEMA: &str = r#"{"type":"object","properties":{"approvalId":{"type":"string","description":"The approval id (approval.id) from a hire, milestone fund/approve or end-contract result."},"timeoutSeconds":{"type":"integer","minimum":1,"maximum":600,"default":55,"description":"How long to wait before returning the still-pending approval, 1-600 seconds (default 55). Call again to keep waiting."}},"required":["approvalId"]}"#;

const WAIT_DESCRIPTION: &str = "Waits for a human to confirm or decline a pending approval (hire, milestone fund or \
approve, contract end), polling it with backoff, and returns the final approval; a confirmed one carries `result` as \
evidence of execution. After `timeoutSeconds` it returns the still-pending approval: call again to keep waiting. \
Sends progress notifications when the request carries a progress token. Nothing can confirm an approval except a \
signed-in human at its `approvalUrl`.";

/// The extra tool, beside the spec's table: it reads like `opentrain_get_approval` and shares
/// its family and output schema.
pub fn wait_for_approval_tool() -> ToolDef {
    let get = TOOLS.iter().find(|t| t.operation == "get_approval");
    ToolDef {
        name: WAIT_FOR_APPROVAL,
        title: "Wait for a human approval",
        description: WAIT_DESCRIPTION,
        toolset: get.map_or("payments", |t| t.toolset),
        operation: "get_approval",
        also: &[],
        read_only: true,
        destructive: false,
        idempotent: true,
        input_schema: WAIT_INPUT_SCHEMA,
        output_schema: get.map_or(r#"{"type":"object"}"#, |t| t.output_schema),
        args: &[],
        fixed: &[],
    }
}

fn str_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

/// Off the runtime's only thread: a slow disk must not stall every other request.
async fn load_store(clients: &Clients) -> Result<CredentialsFile, Error> {
    CredentialsFile::load_async(clients.credentials.clone()).await
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn env_note(session: &Session) -> &'static str {
    if session.token_from_env() {
        "\nNote: OPENTRAIN_PERSONAL_API_TOKEN is set and wins over the saved token, so calls keep using it; unset it \
         (and restart the server) to use the saved one."
    } else {
        ""
    }
}

/// `opentrain_register_agent`: registers, saves the tokens, refuses to replace saved ones
/// unless `force`.
pub async fn register_agent(
    tool: &ToolDef,
    args: &Map<String, Value>,
    clients: &Clients,
    session: &Session,
) -> CallToolResult {
    let mut store = match load_store(clients).await {
        Ok(s) => s,
        Err(e) => return result::error(&e),
    };
    let options = RegisterOptions {
        agent_name: str_arg(args, "agentName").map(String::from),
        organization_name: str_arg(args, "organizationName").map(String::from),
        force: args.get("force").and_then(Value::as_bool).unwrap_or(false),
    };
    match claim::register(&clients.typed, &mut store, &options).await {
        Ok(reg) => {
            session.invalidate();
            let value = without_secrets(to_json(&reg));
            let text = summary::registered(&reg, store.path(), env_note(session));
            result::ok(tool, value, Some(text))
        }
        Err(Error::Config(ConfigError::CredentialsExist { path })) => {
            let message = format!(
                "credentials are already saved in {}: registering again would create a new account and lose this \
                 machine's access to the saved one",
                path.display()
            );
            result::failure(
                json!({"code": "CREDENTIALS_EXIST", "error": message, "details": {"path": path.display().to_string()}}),
                format!(
                    "Error: {message}. Nothing was sent.\nNext: check the saved account with opentrain_auth_status; \
                     pass force: true only to replace it."
                ),
            )
        }
        Err(e) => result::error(&e),
    }
}

/// `opentrain_claim_account`: starts the claim; the claim token defaults to the saved one.
pub async fn claim_account(tool: &ToolDef, args: &Map<String, Value>, clients: &Clients) -> CallToolResult {
    let store = match load_store(clients).await {
        Ok(s) => s,
        Err(e) => return result::error(&e),
    };
    let email = str_arg(args, "email").unwrap_or_default();
    let explicit = str_arg(args, "claimToken").map(Token::new);
    match claim::start_claim(&clients.typed, &store, email, explicit).await {
        Ok(attempt) => {
            let value = to_json(&attempt);
            let text = summary::claim_started(email, &attempt);
            result::ok(tool, value, Some(text))
        }
        Err(e) => result::error(&e),
    }
}

/// `opentrain_claim_status`: polls once; on success saves the post-claim token in place of the
/// saved one.
pub async fn claim_status(
    tool: &ToolDef,
    args: &Map<String, Value>,
    clients: &Clients,
    session: &Session,
) -> CallToolResult {
    let mut store = match load_store(clients).await {
        Ok(s) => s,
        Err(e) => return result::error(&e),
    };
    let token = match claim::claim_token_or_saved(str_arg(args, "claimToken").map(Token::new), &store) {
        Ok(t) => t,
        Err(e) => return result::error(&e),
    };
    match claim::poll_once(&clients.typed, &token).await {
        Ok(Poll::Claimed(t)) => {
            let value = to_json(&t);
            if let Err(e) = claim::save_claimed(&mut store, &t).await {
                // The post-claim token is delivered exactly once: it stays in the result so it is
                // not lost with the failed write.
                let mut structured = value;
                structured["saveError"] = redact(&e.to_string()).into();
                return result::failure_revealing(
                    structured,
                    format!(
                        "Error: the account is claimed, but saving its new token failed: {}. The token is delivered \
                         only once: it is in this result's structuredContent.access_token; store it now (for \
                         example as OPENTRAIN_PERSONAL_API_TOKEN).",
                        redact(&e.to_string())
                    ),
                    "/access_token",
                );
            }
            session.invalidate();
            let value = without_secrets(value);
            let text = summary::claimed(&t, store.path(), env_note(session));
            result::ok(tool, value, Some(text))
        }
        Ok(Poll::Pending) => result::ok(
            tool,
            json!({"claimed": false, "error": "authorization_pending"}),
            Some(
                "Not claimed yet: the human has not finished (authorization_pending).\nNext: call \
                 opentrain_claim_status again in about 5 s."
                    .into(),
            ),
        ),
        Ok(Poll::SlowDown(interval)) => {
            let secs = interval.map_or(10, |d| d.as_secs());
            result::ok(
                tool,
                json!({"claimed": false, "error": "slow_down", "interval": secs}),
                Some(format!(
                    "Not claimed yet, and the server asks to poll more slowly (slow_down).\nNext: call \
                     opentrain_claim_status again in {secs} s or more."
                )),
            )
        }
        Err(e) => result::error(&e),
    }
}

/// `opentrain_get_proposal`: the proposal, and with `includeInterview` its transcript as
/// `interview` (or why it is unavailable as `interviewError`, without failing the call).
pub async fn get_proposal(tool: &ToolDef, args: &Map<String, Value>, clients: &Clients) -> CallToolResult {
    let request = request_args(tool, args);
    let mut value = match clients.raw.call(tool.operation, &request).await {
        Ok(v) => v,
        Err(e) => return result::error(&e),
    };
    let mut text = summary::success(tool, &value);
    if args.get("includeInterview").and_then(Value::as_bool).unwrap_or(false) {
        for op in tool.also {
            match clients.raw.call(op, &request).await {
                Ok(interview) => {
                    value["interview"] = interview;
                    text.push_str("\nInterview transcript included (structuredContent.interview).");
                }
                Err(e) => {
                    let (structured, headline) = summary::failure(&e);
                    value["interviewError"] = structured;
                    let _ = write!(text, "\nInterview transcript unavailable: {}", headline.replace('\n', " "));
                }
            }
        }
    }
    result::ok(tool, value, Some(text))
}

/// `opentrain_read_messages`: conversation summaries without `conversationId`, that
/// conversation's messages with it. Arguments of the other mode are dropped and named.
pub async fn read_messages(tool: &ToolDef, mut args: Map<String, Value>, clients: &Clients) -> CallToolResult {
    let conversation = str_arg(&args, "conversationId").map(String::from);
    let other_mode: &[&str] = if conversation.is_some() { &["filter", "unreadOnly"] } else { &["direction"] };
    let ignored: Vec<&str> = other_mode.iter().copied().filter(|k| args.remove(*k).is_some()).collect();
    let value = match clients.raw.call(tool.operation, &request_args(tool, &args)).await {
        Ok(v) => v,
        Err(e) => return result::error(&e),
    };
    let text = summary::messages(&value, conversation.as_deref(), &ignored);
    result::ok(tool, value, Some(text))
}

/// `opentrain_wait_for_approval`: waits with the library's helper, reporting each poll as
/// progress; after the timeout it returns the still-pending approval (not an error).
pub async fn wait_for_approval(
    tool: &ToolDef,
    args: &Map<String, Value>,
    clients: &Clients,
    progress: Option<Progress>,
) -> CallToolResult {
    let id = str_arg(args, "approvalId").unwrap_or_default().to_string();
    let secs =
        args.get("timeoutSeconds").and_then(Value::as_u64).unwrap_or(DEFAULT_WAIT_SECONDS).clamp(1, MAX_WAIT_SECONDS);
    let wait = approvals::ApprovalWait { timeout: Duration::from_secs(secs), ..Default::default() };
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let waiting = approvals::wait_for_approval(&clients.typed, &id, &wait, move |a| {
        let _ = tx.send(a.clone());
    });
    let mut last = None;
    // The callback is synchronous; notifications go out from here, while the wait runs.
    let forward = async {
        while let Some(approval) = rx.recv().await {
            if let Some(p) = &progress {
                let status = approval.status.as_ref().map_or_else(|| "unknown".to_string(), |s| s.to_string());
                let param = ProgressNotificationParam::new(p.token.clone(), started.elapsed().as_secs_f64())
                    .with_total(secs as f64)
                    .with_message(format!("approval {id}: {status}"));
                let _ = p.peer.notify_progress(param).await;
            }
            last = Some(approval);
        }
    };
    let (outcome, ()) = tokio::join!(waiting, forward);
    match outcome {
        Ok(approval) => result::ok(tool, json!({ "approval": to_json(&approval) }), None),
        Err(Error::WaitTimedOut { waited, .. }) => {
            let value = json!({
                "approval": last.as_ref().map(to_json).unwrap_or(Value::Null),
                "waitTimedOut": true,
                "waitedSeconds": waited.as_secs(),
            });
            let url = last.as_ref().and_then(|a| a.approval_url.clone());
            let text = format!(
                "Still pending after {} s: the human has not decided yet (nothing was executed).\nNext: {}call \
                 {} again with approvalId {id} to keep waiting; never repeat the action that created it.",
                waited.as_secs(),
                url.map(|u| format!("make sure the human has opened {u}; ")).unwrap_or_default(),
                tool.name
            );
            result::ok(tool, value, Some(text))
        }
        Err(e) => result::error(&e),
    }
}

/// The saved tokens, masked: once they are in cli.json the model has no use for them, and
/// whatever enters its context may be echoed or logged. The one masking policy, applied early.
fn without_secrets(mut v: Value) -> Value {
    opentrain::redact_json(&mut v);
    v
}
