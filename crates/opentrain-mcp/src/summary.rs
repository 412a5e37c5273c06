//! The short text a tool result carries next to its structuredContent: status, key fields and
//! the suggested next step, as the official server writes it.
//!
//! The structured content is the whole answer; this text is what a model (or a human reading
//! the transcript) sees first, so it names ids the next call needs and never shows a secret.

use std::fmt::Write;

use serde_json::{Map, Value};

use opentrain::{Error, generated::tools::ToolDef, redact};

/// Items listed one per line before the rest is left to structuredContent.
const MAX_ITEMS: usize = 25;
/// Scalar fields shown for one object.
const MAX_FIELDS: usize = 14;
/// Characters of one string value.
const MAX_VALUE_CHARS: usize = 160;

/// Fields that hold secrets; their values never go into the text.
const SECRET_KEYS: &[&str] = &["access_token", "claim_token", "secret", "token", "apiToken", "claimToken"];

/// Fields that name an item, best first.
const LABEL_KEYS: &[&str] = &[
    "title",
    "name",
    "jobTitle",
    "displayName",
    "subject",
    "email",
    "type",
    "eventType",
    "event",
    "url",
    "description",
    "content",
    "text",
    "body",
];

fn short(s: &str) -> String {
    let s = redact(s);
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MAX_VALUE_CHARS {
        format!("{}...", one_line.chars().take(MAX_VALUE_CHARS).collect::<String>())
    } else {
        one_line
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(short(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str().filter(|s| !s.is_empty())
}

fn is_secret(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// `key: value` lines for an object's scalar fields (secrets masked, nulls skipped), and a count
/// for each list.
fn fields(out: &mut String, obj: &Map<String, Value>, indent: &str) {
    let mut shown = 0;
    for (k, v) in obj {
        if shown >= MAX_FIELDS {
            let _ = writeln!(out, "{indent}... (more fields in structuredContent)");
            break;
        }
        let line = match v {
            Value::Null => continue,
            _ if is_secret(k) && v.is_string() => "[secret, not shown; see structuredContent]".to_string(),
            Value::Array(a) => format!("{} item{}", a.len(), if a.len() == 1 { "" } else { "s" }),
            Value::Object(_) => continue,
            other => match scalar(other) {
                Some(s) => s,
                None => continue,
            },
        };
        let _ = writeln!(out, "{indent}{k}: {line}");
        shown += 1;
    }
}

/// The id of an item: `id`, else the first `...Id` field.
fn item_id(item: &Map<String, Value>) -> Option<String> {
    item.get("id")
        .and_then(scalar)
        .or_else(|| item.iter().find(|(k, v)| k.ends_with("Id") && v.is_string()).and_then(|(_, v)| scalar(v)))
}

fn item_label(item: &Map<String, Value>) -> Option<String> {
    let direct = LABEL_KEYS.iter().find_map(|k| item.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()));
    if let Some(s) = direct {
        return Some(short(s));
    }
    // A person or job nested one level down (`candidate.displayName`, `freelancer.displayName`).
    item.values().filter_map(Value::as_object).find_map(|inner| {
        LABEL_KEYS.iter().find_map(|k| inner.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty())).map(short)
    })
}

fn item_line(item: &Value) -> String {
    let Some(obj) = item.as_object() else { return scalar(item).unwrap_or_else(|| item.to_string()) };
    let mut parts = Vec::new();
    if let Some(id) = item_id(obj) {
        parts.push(id);
    }
    if let Some(label) = item_label(obj) {
        parts.push(label);
    }
    for k in ["status", "state", "createdAt", "amountUsd", "unreadCount"] {
        if let Some(v) = obj.get(k).and_then(scalar) {
            parts.push(if k == "status" || k == "state" { v } else { format!("{k} {v}") });
        }
    }
    if parts.is_empty() { short(&item.to_string()) } else { parts.join(" | ") }
}

/// The pending-approval text: what the human must do, where, by when, and how to follow up.
fn approval_text(out: &mut String, approval: &Map<String, Value>, message: Option<&str>) {
    let a = Value::Object(approval.clone());
    let id = str_at(&a, "id");
    let kind = str_at(&a, "type").unwrap_or("action");
    let status = str_at(&a, "status").unwrap_or("pending");
    if status == "pending" {
        let url = str_at(&a, "approvalUrl");
        let _ = writeln!(out, "Waiting for a human: this {kind} does nothing until a signed-in human opens");
        let _ =
            writeln!(out, "  {}", url.unwrap_or("the pending approval in the OpenTrain app (no approvalUrl was sent)"));
        let _ = writeln!(out, "and confirms it. Nothing in this server can confirm it.");
        let expires =
            str_at(&a, "expiresAt").map(|e| format!("expires {e}")).unwrap_or_else(|| "no expiry given".into());
        let _ = writeln!(out, "Approval {}: pending, {expires}.", id.unwrap_or("(no id sent)"));
        if let Some(m) = message {
            let _ = writeln!(out, "{}", short(m));
        }
        let share =
            if url.is_some() { "give the human the link above" } else { "tell the human to confirm it in the app" };
        let _ = match id {
            Some(id) => writeln!(
                out,
                "Next: {share}, then call opentrain_wait_for_approval with approvalId \"{id}\" (or check later with \
                 opentrain_get_approval)."
            ),
            None => writeln!(out, "Next: {share}; watch for approval.confirmed with opentrain_poll_updates."),
        };
    } else {
        let _ = writeln!(out, "Approval {} ({kind}): {status}.", id.unwrap_or("(no id sent)"));
        let mut rest = approval.clone();
        for k in ["id", "type", "status"] {
            rest.remove(k);
        }
        fields(out, &rest, "  ");
        if let Some(result) = approval.get("result").and_then(Value::as_object) {
            let _ = writeln!(out, "  result:");
            fields(out, result, "    ");
        }
        let next = match status {
            "confirmed" => "the action was executed; the result above is the evidence.",
            "declined" => "the human declined; do not repeat the request without asking them.",
            "expired" => "nobody confirmed in time; request it again if it is still wanted.",
            _ => "check again later with opentrain_get_approval.",
        };
        let _ = writeln!(out, "Next: {next}");
    }
}

/// The text for a successful result of `tool`.
pub fn success(tool: &ToolDef, value: &Value) -> String {
    let mut out = String::new();
    let Some(obj) = value.as_object() else {
        let _ = writeln!(out, "{}: done.", tool.title);
        if let Some(s) = scalar(value) {
            let _ = writeln!(out, "{s}");
        }
        return out.trim_end().to_string();
    };

    if let Some(approval) = obj.get("approval").and_then(Value::as_object) {
        approval_text(&mut out, approval, obj.get("message").and_then(Value::as_str));
        let mut rest = obj.clone();
        rest.remove("approval");
        rest.remove("message");
        if !rest.is_empty() {
            fields(&mut out, &rest, "");
        }
        return out.trim_end().to_string();
    }

    let _ = writeln!(out, "{}: done.", tool.title);
    let lists: Vec<(&String, &Vec<Value>)> = obj
        .iter()
        .filter_map(|(k, v)| v.as_array().map(|a| (k, a)))
        .filter(|(_, a)| a.iter().any(Value::is_object))
        .collect();
    let singles: Vec<(&String, &Map<String, Value>)> =
        obj.iter().filter_map(|(k, v)| v.as_object().map(|o| (k, o))).collect();

    let mut top = obj.clone();
    for k in lists.iter().map(|(k, _)| *k).chain(singles.iter().map(|(k, _)| *k)) {
        top.remove(k.as_str());
    }
    top.remove("nextCursor");
    fields(&mut out, &top, "");

    for (key, items) in &lists {
        let _ = writeln!(out, "{key} ({}):", items.len());
        for item in items.iter().take(MAX_ITEMS) {
            let _ = writeln!(out, "- {}", item_line(item));
        }
        if items.len() > MAX_ITEMS {
            let _ = writeln!(out, "... and {} more (all in structuredContent)", items.len() - MAX_ITEMS);
        }
    }
    for (key, inner) in &singles {
        let _ = writeln!(out, "{key}:");
        fields(&mut out, inner, "  ");
    }
    if let Some(next) = next_step(tool, value) {
        let _ = writeln!(out, "Next: {next}");
    }
    out.trim_end().to_string()
}

/// A suggested next call, from the tool and what the answer says.
fn next_step(tool: &ToolDef, v: &Value) -> Option<String> {
    if let Some(cursor) = str_at(v, "nextCursor") {
        return Some(format!("more results: call {} again with cursor \"{cursor}\".", tool.name));
    }
    let job = str_at(v, "jobId").unwrap_or("<jobId>");
    if let Some(ready) = v.pointer("/validation/publishReady").and_then(Value::as_bool) {
        return Some(if ready {
            format!("the draft is publish-ready: call opentrain_publish_job with jobId \"{job}\".")
        } else {
            format!(
                "answer each validation.missingFields[].prompt and send the values with \
                 opentrain_update_job_draft_fields (jobId \"{job}\")."
            )
        });
    }
    if let Some(url) = str_at(v, "checkoutUrl") {
        return Some(format!(
            "a human must pay at {url}; then poll opentrain_get_credit_top_up with topUpId \"{}\".",
            str_at(v, "topUpId").unwrap_or("<topUpId>")
        ));
    }
    let hint = match tool.name {
        "opentrain_publish_job" => {
            format!("share jobUrl; watch candidates with opentrain_list_proposals (jobId \"{job}\").")
        }
        "opentrain_list_proposals" => "read one with opentrain_get_proposal; hire with opentrain_hire_proposal.".into(),
        "opentrain_get_proposal" => "talk first with opentrain_start_proposal_conversation, or hire with \
                                     opentrain_hire_proposal (a human co-signs)."
            .into(),
        "opentrain_start_proposal_conversation" => format!(
            "send a message with opentrain_send_message (conversationId \"{}\").",
            str_at(v, "conversationId").unwrap_or("<conversationId>")
        ),
        "opentrain_create_webhook" => "store the signing secret now (structuredContent.secret): it is shown only \
                                       once."
            .into(),
        "opentrain_auth_status" => "opentrain_capabilities shows which features this account can use.".into(),
        _ => return None,
    };
    Some(hint)
}

/// What one failure means for the model, from its envelope.
fn error_hint(err: &Error) -> Option<String> {
    match err {
        Error::Api(api) => {
            if let Some(url) = api.claim_url() {
                return Some(format!(
                    "a human must claim this agent account first: start the claim with opentrain_claim_account \
                     (their email), or have them open {url}."
                ));
            }
            if let Some(url) = api.billing_url() {
                return Some(format!("a human must add a payment method (or buy credits) at {url}, then retry."));
            }
            match (api.status, api.reason()) {
                (_, Some("not_fit_confirmation_required")) => Some(
                    "you marked this proposal \"Not a fit\"; repeat with confirmNotFitOverride: true only if \
                          hiring is really intended."
                        .into(),
                ),
                (401, _) => Some(
                    "the token is missing, invalid or revoked: set a valid OPENTRAIN_PERSONAL_API_TOKEN, or register \
                     a new agent with opentrain_register_agent."
                        .into(),
                ),
                (429, _) => Some(match api.retry_after_seconds() {
                    Some(s) => format!("rate limited: wait {s} s before retrying."),
                    None => "rate limited: wait before retrying.".into(),
                }),
                (s, _) if s >= 500 => Some("the API failed; retrying later may work (quote the requestId).".into()),
                _ => None,
            }
        }
        Error::OAuth(o) => match o.error.as_str() {
            "expired_token" => Some(
                "the claim window closed: register again with opentrain_register_agent (force: true), then claim."
                    .into(),
            ),
            "invalid_grant" => Some(
                "the claim token is unknown or its post-claim token was already delivered; check \
                 opentrain_auth_status."
                    .into(),
            ),
            "authorization_pending" => Some("the human has not finished; poll again shortly.".into()),
            "slow_down" => Some("poll less often.".into()),
            _ => None,
        },
        // Neutral on purpose: without the tool it is unknown whether this was a write that may
        // have happened (see `failure_of`).
        Error::Transport { .. } | Error::Timeout { .. } => Some(
            "OpenTrain could not be reached or did not answer; check the network or OPENTRAIN_API_BASE_URL. If this \
             was a write, check whether it happened before sending it again."
                .into(),
        ),
        _ => None,
    }
}

/// The check that shows whether a write of `operation` happened, and what makes a repeat safe.
fn check_first(operation: &str) -> (&'static str, &'static str) {
    const NO_KEY: &str = "It has no idempotency key, so sending it twice may do it twice.";
    match operation {
        "create_job_draft" => (
            "opentrain_list_jobs (is the draft there?)",
            "Sending it again with the same idempotencyKey returns the existing draft instead of a second one: give \
             an idempotencyKey (and your own externalId) so a repeat is always safe.",
        ),
        "hire_proposal" => (
            "opentrain_get_proposal and opentrain_list_contracts (a pending approval or a contract means it went \
             through)",
            "The same milestone terms give back the same pending approval, but different terms replace it.",
        ),
        "update_job_draft" | "update_published_job" | "publish_job" | "close_job" | "invite_freelancer" => {
            ("opentrain_list_jobs", NO_KEY)
        }
        "create_milestone" | "fund_milestone" | "approve_milestone" | "end_contract" => {
            ("opentrain_get_contract (its milestones) or opentrain_list_contracts", NO_KEY)
        }
        "send_message" | "start_proposal_conversation" => ("opentrain_read_messages", NO_KEY),
        "create_credit_top_up" => ("opentrain_get_credits", "Each call starts a new top-up: a repeat may start two."),
        "invite_team_member" => ("opentrain_get_team", NO_KEY),
        "revoke_token" => ("opentrain_list_tokens", NO_KEY),
        "create_webhook" | "delete_webhook" => ("opentrain_list_webhooks", NO_KEY),
        _ => ("opentrain_auth_status", NO_KEY),
    }
}

/// The structured content and text of a failed call of `tool`.
///
/// A write that failed in transport after it was sent (connection reset or timeout) may have
/// been carried out ([`Error::outcome_unknown`]): its hint says to check first, never to repeat.
pub fn failure_of(tool: &ToolDef, err: &Error) -> (Value, String) {
    let (mut structured, text) = failure(err);
    if !err.outcome_unknown() {
        return (structured, text);
    }
    let (check, repeat) = check_first(tool.operation);
    structured["outcomeUnknown"] = true.into();
    let headline = text.lines().next().unwrap_or_default();
    let text = format!(
        "{headline}\nThe request was sent but no answer came back: it may or may not have been carried out.\nNext: \
         before sending it again, check whether it happened with {check}. {repeat}"
    );
    (structured, text)
}

/// The structured content and text of a failed call.
pub fn failure(err: &Error) -> (Value, String) {
    let mut m = Map::new();
    let headline = match err {
        Error::Api(api) => {
            m.insert("status".into(), api.status.into());
            if let Value::Object(env) = api.to_envelope() {
                m.extend(env);
            }
            api.to_string()
        }
        Error::OAuth(o) => {
            m.insert("status".into(), o.status.into());
            m.insert("error".into(), o.error.clone().into());
            if let Some(d) = &o.description {
                m.insert("error_description".into(), d.clone().into());
            }
            if let Some(i) = o.interval {
                m.insert("interval".into(), i.into());
            }
            o.to_string()
        }
        Error::InvalidResponse { status, reason, snippet } => {
            if let Some(s) = status {
                m.insert("status".into(), (*s).into());
            }
            m.insert("code".into(), err.code().into());
            m.insert("error".into(), err.to_string().into());
            m.insert("details".into(), serde_json::json!({"reason": reason, "snippet": snippet}));
            err.to_string()
        }
        other => {
            m.insert("code".into(), other.code().into());
            m.insert("error".into(), redact(&other.to_string()).into());
            redact(&other.to_string())
        }
    };
    let mut text = format!("Error: {headline}");
    if let Some(d) = m.get("details").filter(|_| matches!(err, Error::Api(_))) {
        let _ = write!(text, "\nDetails: {}", redact(&d.to_string()));
    }
    if let Some(hint) = error_hint(err) {
        let _ = write!(text, "\nNext: {hint}");
    }
    (Value::Object(m), text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use opentrain::generated::tools::TOOLS;

    fn tool(name: &str) -> &'static ToolDef {
        TOOLS.iter().find(|t| t.name == name).expect("tool in the table")
    }

    #[test]
    fn secrets_never_reach_the_text() {
        let v = json!({"webhook": {"id": "wh_1"}, "secret": "whsec_abc", "note": "token ot_pat_xyz inside"});
        let t = success(tool("opentrain_create_webhook"), &v);
        assert!(!t.contains("whsec_abc") && !t.contains("ot_pat_xyz"), "{t}");
        assert!(t.contains("wh_1") && t.contains("shown only once"), "{t}");
    }

    #[test]
    fn a_final_approval_says_what_happened() {
        let v = json!({"approval": {"id": "a1", "type": "proposal_hire", "status": "declined"}});
        let t = success(tool("opentrain_get_approval"), &v);
        assert!(t.starts_with("Approval a1 (proposal_hire): declined."), "{t}");
        assert!(t.contains("do not repeat"), "{t}");
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let jobs: Vec<_> = (0..30).map(|i| json!({"id": format!("job_{i}"), "title": "T"})).collect();
        let t = success(tool("opentrain_list_jobs"), &json!({"jobs": jobs, "nextCursor": null}));
        assert!(t.contains("jobs (30):") && t.contains("job_24") && !t.contains("job_25"), "{t}");
        assert!(t.contains("and 5 more"), "{t}");
    }

    #[test]
    fn failures_carry_the_envelope_and_a_hint() {
        let err = opentrain::Error::Api(Box::new(opentrain::ApiError {
            status: 409,
            code: "CONFLICT".into(),
            message: "Add a payment method".into(),
            request_id: Some("req_1".into()),
            details: json!({"reason": "payment_method_required", "billingUrl": "https://b"}).as_object().cloned(),
            retry_after: None,
        }));
        let (s, t) = failure(&err);
        assert_eq!(
            s,
            json!({"status": 409, "code": "CONFLICT", "error": "Add a payment method", "requestId": "req_1",
            "details": {"reason": "payment_method_required", "billingUrl": "https://b"}})
        );
        assert!(t.starts_with("Error: HTTP 409 CONFLICT: Add a payment method (request req_1)"), "{t}");
        assert!(t.contains("https://b"), "{t}");
    }
}
