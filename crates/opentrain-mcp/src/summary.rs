//! The short text a tool result carries next to its structuredContent: status, key fields and
//! the suggested next step, as the official server writes it.
//!
//! The structured content is the whole answer; this text is what a model (or a human reading
//! the transcript) sees first, so it names ids the next call needs and never shows a secret.

use std::{fmt::Write, path::Path, sync::OnceLock};

use serde_json::{Map, Value};

use opentrain::{Error, generated::tools::ToolDef, redact, types};

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
    one_line(s, MAX_VALUE_CHARS)
}

/// `s` masked, on one line, cut to `max` characters. Masked first: a remembered secret may hold
/// runs of whitespace that joining the words would change, and then no longer match.
fn one_line(s: &str, max: usize) -> String {
    let s = words(&redact(s));
    if s.chars().count() > max { format!("{}...", s.chars().take(max).collect::<String>()) } else { s }
}

/// The words of `s` joined by single spaces: the text on one line. Built in one string, since a
/// list summary does this for every field of every item.
fn words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// [`Value::pointer`] without its allocations: it copies each token to unescape `~0` and `~1`,
/// which the summaries' pointers (constants) never hold, for every field of every listed item.
trait Walk {
    fn walk(&self, pointer: &str) -> Option<&Value>;
}

impl Walk for Value {
    fn walk(&self, pointer: &str) -> Option<&Value> {
        if pointer.contains('~') {
            return self.pointer(pointer);
        }
        if pointer.is_empty() {
            return Some(self);
        }
        pointer.strip_prefix('/')?.split('/').try_fold(self, |target, token| match target {
            Value::Object(map) => map.get(token),
            // As `Value::pointer` reads an index: digits only, no sign, no leading zero.
            Value::Array(list) if !token.starts_with('+') && (token == "0" || !token.starts_with('0')) => {
                token.parse::<usize>().ok().and_then(|i| list.get(i))
            }
            _ => None,
        })
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
        let result = |k: &str| a.walk(&format!("/result/{k}")).and_then(Value::as_str).map(String::from);
        let confirmed = match kind {
            "proposal_hire" => format!(
                "the freelancer is hired{}; add or fund milestones from opentrain_get_contract.",
                result("contractId")
                    .or_else(|| str_at(&a, "contractId").map(String::from))
                    .map(|c| format!(" under contract {c}"))
                    .unwrap_or_default()
            ),
            "milestone_fund" => "the milestone is funded and the freelancer can start; release it with \
                                 opentrain_request_milestone_approval once the work is accepted."
                .into(),
            "milestone_approve" => "the milestone is released and paid to the freelancer.".into(),
            "contract_end" => "the contract is ended.".into(),
            _ => "the action was executed; the result above is the evidence.".into(),
        };
        let next = match status {
            "confirmed" => confirmed.as_str(),
            "declined" => "the human declined; do not repeat the request without asking them.",
            "expired" => "nobody confirmed in time; request it again if it is still wanted.",
            _ => "check again later with opentrain_get_approval.",
        };
        let _ = writeln!(out, "Next: {next}");
    }
}

/// The text for a successful result of `tool`.
///
/// Tools whose answer the spec describes get a text written for them ([`specific`]): it names
/// what the model acts on next (missing fields with their questions, candidates, links to hand
/// to a human) rather than the first fields of the JSON. Anything else gets the generic listing.
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

    if let Some(text) = specific(tool, value) {
        return text;
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

/// A suggested next call for the generic listing: the next page, when there is one.
fn next_step(tool: &ToolDef, v: &Value) -> Option<String> {
    str_at(v, "nextCursor").map(|cursor| format!("more results: call {} again with cursor \"{cursor}\".", tool.name))
}

/// The text being written for one result: lines, then the `Next:` steps.
#[derive(Default)]
struct Text {
    out: String,
    next: Vec<String>,
}

impl Text {
    fn line(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    fn next(&mut self, s: impl Into<String>) {
        self.next.push(s.into());
    }

    /// One `- ` line per item, cut at [`MAX_ITEMS`] with a count of the rest.
    fn rows(&mut self, heading: &str, items: &[Value], row: impl Fn(&Value) -> String) {
        self.line(format!("{heading} ({}):", items.len()));
        for item in items.iter().take(MAX_ITEMS) {
            self.line(format!("- {}", row(item)));
        }
        if items.len() > MAX_ITEMS {
            self.line(format!("... and {} more (all in structuredContent)", items.len() - MAX_ITEMS));
        }
    }

    fn finish(self) -> String {
        let mut out = self.out;
        match self.next.len() {
            0 => {}
            1 => {
                let _ = writeln!(out, "Next: {}", self.next[0]);
            }
            _ => {
                let _ = writeln!(out, "Next:");
                for n in &self.next {
                    let _ = writeln!(out, "- {n}");
                }
            }
        }
        out.trim_end().to_string()
    }
}

/// The string at a JSON pointer, shortened and masked; empty strings count as absent.
fn at(v: &Value, pointer: &str) -> Option<String> {
    v.walk(pointer).filter(|x| !matches!(x, Value::String(s) if s.is_empty())).and_then(scalar)
}

/// The raw string at a JSON pointer, for ids quoted in a next step.
fn id_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.walk(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn list_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.walk(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn flag(v: &Value, pointer: &str) -> bool {
    v.walk(pointer).and_then(Value::as_bool).unwrap_or(false)
}

/// The strings of an array, joined; `None` when there are none.
fn joined(v: &Value, pointer: &str) -> Option<String> {
    let items: Vec<String> = list_at(v, pointer).iter().filter_map(scalar).filter(|s| !s.is_empty()).collect();
    (!items.is_empty()).then(|| items.join(", "))
}

/// Dollars as the API states them (`amountUsd`): `$300`, `$12.5`.
fn usd(v: &Value, pointer: &str) -> Option<String> {
    v.walk(pointer).and_then(Value::as_f64).map(|n| format!("${n}"))
}

/// Cents as dollars with two decimals, signed: `-$25.00`.
fn cents(v: &Value, pointer: &str) -> Option<String> {
    let c = v.walk(pointer).and_then(Value::as_i64)?;
    let sign = if c < 0 { "-" } else { "" };
    let c = c.unsigned_abs();
    Some(format!("{sign}${}.{:02}", c / 100, c % 100))
}

/// Non-empty parts joined with ` | `.
fn parts(items: impl IntoIterator<Item = Option<String>>) -> String {
    items.into_iter().flatten().collect::<Vec<_>>().join(" | ")
}

/// The text written for `tool`'s answer, or `None` to use the generic listing.
fn specific(tool: &ToolDef, v: &Value) -> Option<String> {
    let mut t = Text::default();
    match tool.operation {
        "get_auth_me" => auth_me(&mut t, v),
        "get_job_draft_capabilities" => capabilities(&mut t, v),
        "create_job_draft" | "update_job_draft" => draft(&mut t, v),
        "publish_job" => published(&mut t, v),
        "update_published_job" => job_updated(&mut t, v),
        "close_job" => job_closed(&mut t, v),
        "list_my_jobs" => my_jobs(&mut t, v),
        "search_jobs" => public_jobs(&mut t, v),
        "invite_freelancer" => invited(&mut t, v),
        "list_job_proposals" => proposals(&mut t, v),
        "get_proposal" => proposal(&mut t, v),
        "start_proposal_conversation" => conversation_started(&mut t, v),
        "get_freelancer_profile" => freelancer(&mut t, v),
        "send_message" => message_sent(&mut t, v),
        "get_team" => team(&mut t, v, "/team"),
        "invite_team_member" => team_invite(&mut t, v),
        "list_contracts" => contracts(&mut t, v),
        "get_contract" => contract(&mut t, v),
        "create_milestone" => milestone_created(&mut t, v),
        "end_contract" => contract_ended(&mut t, v),
        "get_credits" => credits(&mut t, v),
        "list_credit_ledger" => ledger(&mut t, v),
        "create_credit_top_up" => top_up_created(&mut t, v),
        "get_credit_top_up" => top_up(&mut t, v),
        "list_pending_payments" => pending_payments(&mut t, v),
        "poll_updates" => updates(&mut t, v),
        "create_webhook" | "get_webhook" | "delete_webhook" => webhook(&mut t, tool, v),
        "list_webhooks" => webhooks(&mut t, v),
        "list_tokens" => tokens(&mut t, v),
        "revoke_token" => token_revoked(&mut t, v),
        _ => return None,
    }
    // The events feed words its own cursor step: it is a position to keep, not a page.
    if let Some(cursor) = id_at(v, "/nextCursor").filter(|_| tool.operation != "poll_updates") {
        t.next(format!("more results: call {} again with cursor \"{cursor}\".", tool.name));
    }
    Some(t.finish())
}

fn auth_me(t: &mut Text, v: &Value) {
    let who = at(v, "/actor/fullName")
        .or_else(|| {
            let name = [at(v, "/actor/firstName"), at(v, "/actor/lastName")].into_iter().flatten().collect::<Vec<_>>();
            (!name.is_empty()).then(|| name.join(" "))
        })
        .unwrap_or_else(|| "an unnamed user".into());
    let email = at(v, "/actor/email").map(|e| format!(" <{e}>")).unwrap_or_default();
    t.line(format!(
        "Signed in as {who}{email} ({}).",
        parts([at(v, "/actor/userId").map(|u| format!("user {u}")), at(v, "/actor/userType")]).replace(" | ", ", ")
    ));
    t.line(format!(
        "Account: {}.",
        parts([
            at(v, "/account/kind"),
            at(v, "/account/organizationId").map(|o| format!("organization {o}")),
            at(v, "/account/memberRole").map(|r| format!("role {r}")),
        ])
    ));
    t.line(format!(
        "Token {}{}: scopes {}.",
        at(v, "/token/id").unwrap_or_else(|| "(no id)".into()),
        at(v, "/token/label").map(|l| format!(" \"{l}\"")).unwrap_or_default(),
        joined(v, "/token/scopes").unwrap_or_else(|| "none listed".into())
    ));
    let scopes: Vec<&str> = list_at(v, "/token/scopes").iter().filter_map(Value::as_str).collect();
    if !scopes.is_empty() && !scopes.contains(&"proposals:write") {
        t.next(
            "this token cannot hire or message (no proposals:write): if it is an agent's pre-claim token, a human \
             must claim the account first (opentrain_claim_account).",
        );
    }
    t.next("opentrain_capabilities shows which features this account can use.");
}

fn capabilities(t: &mut Text, v: &Value) {
    let enabled = flag(v, "/enabled");
    t.line(format!(
        "Public API for job drafts: {}{}.",
        if enabled { "enabled" } else { "NOT enabled" },
        at(v, "/rolloutMode").map(|m| format!(" (rollout {m})")).unwrap_or_default()
    ));
    let caps = v.walk("/capabilities").and_then(Value::as_object);
    let flags = || caps.into_iter().flatten().filter_map(|(k, x)| x.as_bool().map(|b| (k, b)));
    let on: Vec<&String> = flags().filter(|(_, b)| *b).map(|(k, _)| k).collect();
    let off: Vec<&String> = flags().filter(|(_, b)| !*b).map(|(k, _)| k).collect();
    let names = |l: &[&String]| l.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if !on.is_empty() {
        t.line(format!("Can: {}.", names(&on)));
    }
    if !off.is_empty() {
        t.line(format!("Cannot: {}.", names(&off)));
    }
    if let Some(f) = joined(v, "/draft/importFormats") {
        t.line(format!("Draft import formats: {f}."));
    }
    if let Some(k) = joined(v, "/draft/updateKeys") {
        t.line(format!("Draft fields (patch keys): {k}."));
    }
    if let Some(enums) = v.walk("/draft/enums").and_then(Value::as_object) {
        for key in enums.keys() {
            if let Some(values) = joined(enums.get(key).unwrap_or(&Value::Null), "") {
                t.line(format!("Allowed {key}: {values}."));
            }
        }
    }
    if enabled {
        t.next("post a job with opentrain_create_job_draft (a plain-text jobDescription is enough).");
    } else {
        t.next(format!(
            "this account cannot draft jobs through the API yet (feature {} is off for it); the drafting tools will \
             refuse until OpenTrain turns it on.",
            at(v, "/featureKey").unwrap_or_else(|| "public_api_job_drafting".into())
        ));
    }
}

/// A missing field's name, from the documented shapes (`field`) or the older `key`/`name`.
fn gap_name(gap: &Value) -> Option<String> {
    match gap {
        Value::String(s) => Some(short(s)),
        _ => ["/field", "/key", "/name"].iter().find_map(|p| at(gap, p)),
    }
}

/// The spec's schema of one draft field, from the patch argument of the update tool: what a
/// missing field takes when the API's answer names it without describing it.
fn draft_field_schema(name: &str) -> Option<&'static Value> {
    static PATCH: OnceLock<Option<Value>> = OnceLock::new();
    PATCH
        .get_or_init(|| {
            let tool = opentrain::generated::tools::TOOLS.iter().find(|t| t.operation == "update_job_draft")?;
            let schema: Value = serde_json::from_str(tool.input_schema).ok()?;
            schema.walk("/properties/patch/properties").cloned()
        })
        .as_ref()?
        .get(name)
}

/// One missing field: its name and label, the question to ask, the values it takes, how to send it.
/// What the answer leaves out is taken from the spec's field catalog.
fn gap_line(gap: &Value) -> String {
    let name = gap_name(gap).unwrap_or_else(|| "(unnamed field)".into());
    let spec = draft_field_schema(&name).unwrap_or(&Value::Null);
    let mut line = name.clone();
    if let Some(label) = at(gap, "/label").filter(|l| *l != name) {
        let _ = write!(line, " ({label})");
    }
    if let Some(q) = at(gap, "/prompt").or_else(|| at(gap, "/message")).or_else(|| at(spec, "/description")) {
        let _ = write!(line, ": {q}");
    }
    if let Some(values) = joined(gap, "/enumValues").or_else(|| joined(spec, "/enum")) {
        let _ = write!(line, " Allowed values: {values}.");
    } else if let Some(kind) = at(gap, "/type").or_else(|| at(spec, "/type")) {
        let _ = write!(line, " Type: {kind}.");
    }
    if let Some(e) = at(gap, "/example") {
        let _ = write!(line, " Example: {e}.");
    }
    if let Some(keys) = joined(gap, "/updateKeys").filter(|k| *k != name) {
        let _ = write!(line, " Send as: {keys}.");
    }
    if let Some(h) = at(gap, "/hint") {
        let _ = write!(line, " Hint: {h}");
    }
    line
}

fn draft(t: &mut Text, v: &Value) {
    let job = id_at(v, "/jobId").unwrap_or("<jobId>");
    if v.get("validation").is_none_or(Value::is_null) && list_at(v, "/missingFields").is_empty() {
        t.line(format!(
            "Draft {job} ({}): no validation report was sent.",
            at(v, "/status").unwrap_or_else(|| "DRAFT".into())
        ));
        t.next(format!(
            "call opentrain_publish_job with jobId \"{job}\": if fields are missing it refuses and names them."
        ));
        return;
    }
    let ready = flag(v, "/validation/publishReady");
    // The described list wins; `validation.missingFields` may only name them (or be empty while
    // `missingFieldCount` is not, as one documented example shows).
    let described = list_at(v, "/missingFields");
    let gaps = if described.is_empty() { list_at(v, "/validation/missingFields") } else { described };
    let count = v.walk("/validation/missingFieldCount").and_then(Value::as_u64).unwrap_or(0).max(gaps.len() as u64);
    t.line(format!(
        "Draft {job} ({}): {}.",
        at(v, "/status").unwrap_or_else(|| "DRAFT".into()),
        if ready { "publish-ready".to_string() } else { format!("not publish-ready, {count} field(s) missing") }
    ));
    if let Some(u) = at(v, "/draftUrl") {
        t.line(format!("Draft editor: {u}"));
    }
    if let Some(u) = at(v, "/reviewUrl") {
        t.line(format!("Human review page: {u}"));
    }
    if !gaps.is_empty() {
        t.rows("Missing fields", gaps, gap_line);
    }
    if let Some(n) = v.walk("/validation/issueCount").and_then(Value::as_u64).filter(|n| *n > 0) {
        t.line(format!("{n} validation issue(s), in structuredContent.validation.issues."));
    }
    if let Some(w) = joined(v, "/warnings") {
        t.line(format!("Warnings: {w}"));
    }
    let unmapped = list_at(v, "/unmappedFields");
    if !unmapped.is_empty() {
        t.rows("Not mapped to a field", unmapped, |u| {
            parts([at(u, "/path"), at(u, "/reason"), at(u, "/valuePreview").map(|p| format!("\"{p}\""))])
        });
    }
    if ready {
        t.next(format!("the draft is publish-ready: call opentrain_publish_job with jobId \"{job}\"."));
        return;
    }
    let names: Vec<String> = gaps.iter().filter_map(gap_name).collect();
    if names.is_empty() {
        t.next(format!(
            "the API did not name the missing fields: open the draft editor above, or call opentrain_capabilities \
             for the field list, then send values with opentrain_update_job_draft_fields (jobId \"{job}\")."
        ));
    } else {
        let asks = if gaps.iter().any(|g| g.walk("/prompt").is_some()) {
            "answer each question above (ask the human when the job description does not say)"
        } else {
            "find a value for each missing field (ask the human when the job description does not say)"
        };
        t.next(format!(
            "{asks}, then call opentrain_update_job_draft_fields with jobId \"{job}\" and a patch setting {}; \
             repeat until the draft is publish-ready.",
            names.join(", ")
        ));
    }
}

fn published(t: &mut Text, v: &Value) {
    let job = id_at(v, "/jobId").unwrap_or("<jobId>");
    let status = at(v, "/status").unwrap_or_else(|| "OPEN".into());
    t.line(format!(
        "Job {job} is {status}{}{}.",
        if flag(v, "/alreadyPublished") { " (it was already published; nothing changed)" } else { "" },
        at(v, "/jobUrl").map(|u| format!(": {u}")).unwrap_or_default()
    ));
    if let Some(w) = joined(v, "/warnings") {
        t.line(format!("Warnings: {w}"));
    }
    if status == "PENDING_APPROVAL" {
        t.next(format!(
            "the listing waits for moderation; check it later with opentrain_list_jobs, then watch proposals with \
             opentrain_list_proposals (jobId \"{job}\")."
        ));
    } else {
        t.next(format!(
            "share the job link; candidates arrive as proposal.received (opentrain_poll_updates) and are listed by \
             opentrain_list_proposals (jobId \"{job}\")."
        ));
    }
}

fn job_updated(t: &mut Text, v: &Value) {
    let job = id_at(v, "/jobId").unwrap_or("<jobId>");
    t.line(format!("Job {job} updated; it is {}.", at(v, "/status").unwrap_or_else(|| "unchanged".into())));
    if let Some(d) = at(v, "/moderation/decision") {
        let reasons = joined(v, "/moderation/reasons").map(|r| format!(": {r}")).unwrap_or_default();
        t.line(format!("Moderation: {d}{reasons}."));
        if !d.eq_ignore_ascii_case("allow") {
            t.next(format!(
                "moderation did not simply allow the change: fix what the reasons name and patch again with \
                 opentrain_update_published_job (jobId \"{job}\")."
            ));
        }
    }
}

fn job_closed(t: &mut Text, v: &Value) {
    let job = id_at(v, "/jobId").unwrap_or("<jobId>");
    t.line(format!(
        "Job {job} is closed ({}){}: it takes no new proposals.",
        at(v, "/status").unwrap_or_else(|| "ARCHIVED".into()),
        if flag(v, "/alreadyClosed") { ", it already was" } else { "" }
    ));
    t.next("contracts already running go on: see them with opentrain_list_contracts.");
}

fn my_jobs(t: &mut Text, v: &Value) {
    let jobs = list_at(v, "/jobs");
    t.rows("Your jobs", jobs, |j| {
        parts([
            at(j, "/id"),
            at(j, "/title").map(|s| format!("\"{s}\"")),
            at(j, "/status"),
            v_counts(j),
            at(j, "/jobUrl"),
        ])
    });
    if let Some(j) = jobs.iter().find(|j| j.walk("/proposalCounts/unreviewed").and_then(Value::as_u64) > Some(0)) {
        t.next(format!(
            "review the new proposals with opentrain_list_proposals (jobId \"{}\").",
            id_at(j, "/id").unwrap_or("<jobId>")
        ));
    }
    if let Some(j) = jobs.iter().find(|j| id_at(j, "/status") == Some("DRAFT")) {
        t.next(format!(
            "finish the draft {} with opentrain_update_job_draft_fields, then opentrain_publish_job.",
            id_at(j, "/id").unwrap_or("<jobId>")
        ));
    }
    if jobs.is_empty() {
        t.next("post one with opentrain_create_job_draft.");
    }
}

fn v_counts(j: &Value) -> Option<String> {
    let total = j.walk("/proposalCounts/total").and_then(Value::as_u64)?;
    let new = j.walk("/proposalCounts/unreviewed").and_then(Value::as_u64).unwrap_or(0);
    Some(format!("{total} proposal(s), {new} unreviewed"))
}

fn pay(j: &Value) -> Option<String> {
    let kind = at(j, "/pay/paymentType")?;
    let rate = usd(j, "/pay/hourlyRate")
        .map(|r| format!("{r}/h"))
        .or_else(|| match (usd(j, "/pay/hourlyMin"), usd(j, "/pay/hourlyMax")) {
            (Some(a), Some(b)) => Some(format!("{a}-{b}/h")),
            _ => None,
        })
        .or_else(|| usd(j, "/pay/perLabelRate").map(|r| format!("{r}/label")))
        .or_else(|| usd(j, "/pay/fixedPrice").map(|r| format!("{r} fixed")));
    Some(match rate {
        Some(r) => format!("{kind} {r}"),
        None => kind,
    })
}

fn public_jobs(t: &mut Text, v: &Value) {
    t.rows("Jobs", list_at(v, "/jobs"), |j| {
        parts([
            at(j, "/id"),
            at(j, "/title").map(|s| format!("\"{s}\"")),
            at(j, "/companyName"),
            at(j, "/status"),
            pay(j),
            at(j, "/url").or_else(|| at(j, "/applyUrl")),
        ])
    });
}

fn invited(t: &mut Text, v: &Value) {
    let proposal = id_at(v, "/proposalId").unwrap_or("<proposalId>");
    t.line(format!(
        "{} freelancer {} to job {}: proposal {proposal}.",
        if flag(v, "/alreadyInvited") { "Already invited (nothing new sent):" } else { "Invited" },
        at(v, "/freelancerId").unwrap_or_else(|| "?".into()),
        at(v, "/jobId").unwrap_or_else(|| "?".into()),
    ));
    t.next(format!(
        "follow it with opentrain_get_proposal (proposalId \"{proposal}\"), or write to them with \
         opentrain_start_proposal_conversation."
    ));
}

/// The candidate of a proposal by name, falling back to first name and initial, then the id.
fn candidate_name(p: &Value) -> String {
    at(p, "/candidate/displayName")
        .or_else(|| {
            let first = at(p, "/candidate/firstName")?;
            Some(match at(p, "/candidate/lastNameInitial") {
                Some(i) => format!("{first} {i}."),
                None => first,
            })
        })
        .or_else(|| at(p, "/candidate/id").map(|id| format!("candidate {id}")))
        .unwrap_or_else(|| "an unnamed candidate".into())
}

fn bid(p: &Value) -> Option<String> {
    let amount = usd(p, "/bid/amountUsd")?;
    let mut s = match at(p, "/bid/unit") {
        Some(u) => format!("bid {amount} per {}", u.to_lowercase().trim_start_matches("per_").replace('_', " ")),
        None => format!("bid {amount}"),
    };
    if let Some(r) = usd(p, "/bid/labelerHourlyRateUsd") {
        let _ = write!(s, " ({r}/h to the trainer)");
    }
    Some(s)
}

fn scores(p: &Value) -> Option<String> {
    let s: Vec<String> = [("interview", "/metrics/interviewScore"), ("match", "/metrics/matchScore")]
        .iter()
        .filter_map(|(name, ptr)| p.walk(ptr).and_then(Value::as_f64).map(|n| format!("{name} score {n}")))
        .collect();
    (!s.is_empty()).then(|| s.join(", "))
}

fn proposal_status(p: &Value) -> Option<String> {
    at(p, "/status/label").or_else(|| at(p, "/status/raw")).or_else(|| at(p, "/status"))
}

fn proposals(t: &mut Text, v: &Value) {
    let list = list_at(v, "/proposals");
    let job = list.first().map(|p| {
        format!(
            " for {}{}",
            at(p, "/jobTitle").map(|s| format!("\"{s}\" ")).unwrap_or_default(),
            at(p, "/jobId").map(|s| format!("(job {s})")).unwrap_or_default()
        )
    });
    t.rows(&format!("Proposals{}", job.unwrap_or_default().trim_end()), list, |p| {
        let who = match at(p, "/candidate/country") {
            Some(c) => format!("{} ({c})", candidate_name(p)),
            None => candidate_name(p),
        };
        parts([at(p, "/id"), Some(who), proposal_status(p), scores(p), bid(p), at(p, "/candidate/profileTitle")])
    });
    match list.first().and_then(|p| id_at(p, "/id")) {
        Some(first) => t.next(format!(
            "read one in full with opentrain_get_proposal (proposalId, e.g. \"{first}\"; includeInterview: true adds \
             the AI interview); talk first with opentrain_start_proposal_conversation; hire with \
             opentrain_hire_proposal (a human co-signs)."
        )),
        None => t.next(
            "no proposals yet: invite freelancers with opentrain_invite_freelancer, or wait for proposal.received \
             (opentrain_poll_updates).",
        ),
    }
}

fn proposal(t: &mut Text, v: &Value) {
    let p = v.get("proposal").unwrap_or(v);
    let id = id_at(p, "/id").unwrap_or("<proposalId>");
    let from =
        [at(p, "/candidate/country"), at(p, "/candidate/profileTitle")].into_iter().flatten().collect::<Vec<_>>();
    t.line(format!(
        "Proposal {id} from {}{} for {}{}: {}.",
        candidate_name(p),
        if from.is_empty() { String::new() } else { format!(" ({})", from.join(", ")) },
        at(p, "/jobTitle").map(|s| format!("\"{s}\" ")).unwrap_or_default(),
        at(p, "/jobId").map(|s| format!("(job {s})")).unwrap_or_else(|| "a job".into()),
        proposal_status(p).unwrap_or_else(|| "status not given".into())
    ));
    let terms = parts([bid(p), scores(p)]);
    if !terms.is_empty() {
        t.line(format!("Terms: {terms}."));
    }
    if let Some(score) = p.walk("/aiInterview/score").and_then(Value::as_f64) {
        t.line(format!("AI interview: score {score}."));
    }
    if let Some(s) = at(p, "/aiInterview/summary") {
        t.line(format!("Interview summary: {s}"));
    }
    let mut checks = Vec::new();
    if let Some(s) = at(p, "/verification/location/status") {
        checks.push(format!("location {s}"));
    }
    if let Some(b) = p.walk("/verification/identity/verified").and_then(Value::as_bool) {
        checks.push(format!("identity {}", if b { "verified" } else { "not verified" }));
    }
    if !checks.is_empty() {
        t.line(format!("Verification: {}.", checks.join(", ")));
    }
    if let Some(profile) = id_at(p, "/candidate/profileSlug").or_else(|| id_at(p, "/candidate/id")) {
        t.line(format!("Profile: opentrain_get_freelancer_profile with idOrSlug \"{profile}\"."));
    }
    if flag(p, "/aiInterview/transcriptAvailable") && v.get("interview").is_none() {
        t.line("The interview transcript is available: call again with includeInterview: true.");
    }
    let raw = id_at(p, "/status/raw").unwrap_or_default();
    match raw {
        "HIRED" => t.next("already hired: the contract is in opentrain_list_contracts."),
        "DECLINED" | "NOT_A_FIT" => t.next(format!(
            "this proposal is marked {raw}; hiring it anyway needs confirmNotFitOverride: true on \
             opentrain_hire_proposal, so ask the human first."
        )),
        _ => t.next(format!(
            "talk first with opentrain_start_proposal_conversation (proposalId \"{id}\"), or hire with \
             opentrain_hire_proposal (proposalId \"{id}\" and a first milestone; a human co-signs)."
        )),
    }
}

fn conversation_started(t: &mut Text, v: &Value) {
    let conversation = id_at(v, "/conversationId").unwrap_or("<conversationId>");
    t.line(format!(
        "{} conversation {conversation}{}{}.",
        if v.get("created").and_then(Value::as_bool) == Some(false) { "Reopened the existing" } else { "Started" },
        at(v, "/proposalId").map(|p| format!(" for proposal {p}")).unwrap_or_default(),
        at(v, "/jobId").map(|j| format!(" (job {j})")).unwrap_or_default(),
    ));
    t.next(format!("send a message with opentrain_send_message (conversationId \"{conversation}\")."));
}

fn freelancer(t: &mut Text, v: &Value) {
    let f = v.get("freelancer").unwrap_or(v);
    let id = id_at(f, "/id").unwrap_or("<freelancerId>");
    let name = at(f, "/displayName").unwrap_or_else(|| "An unnamed freelancer".into());
    t.line(format!("{name} ({id}){}.", at(f, "/title").map(|s| format!(": {s}")).unwrap_or_default()));
    let place = [at(f, "/city"), at(f, "/country")].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let facts = parts([
        (!place.is_empty()).then_some(place),
        usd(f, "/hourlyRateUsd").map(|r| format!("{r}/h")),
        at(f, "/availability").map(|a| format!("availability {a}")),
        at(f, "/expertiseLevel"),
        at(f, "/englishLevel").map(|e| format!("English {e}")),
        f.walk("/identityVerified")
            .and_then(Value::as_bool)
            .map(|b| if b { "identity verified".to_string() } else { "identity not verified".to_string() }),
    ]);
    if !facts.is_empty() {
        t.line(facts);
    }
    let stats = parts([
        f.walk("/stats/jobSuccessScore").and_then(Value::as_f64).map(|n| format!("job success {n}")),
        f.walk("/stats/averageRating").and_then(Value::as_f64).map(|n| format!("rating {n}")),
        f.walk("/stats/reviewCount").and_then(Value::as_u64).map(|n| format!("{n} review(s)")),
        usd(f, "/stats/totalEarnedUsd").map(|e| format!("earned {e}")),
    ]);
    if !stats.is_empty() {
        t.line(format!("Record: {stats}"));
    }
    for (label, ptr) in [
        ("Label types", "/skills/labelTypes"),
        ("Data types", "/skills/dataTypes"),
        ("Software", "/skills/software"),
        ("Subject matter", "/skills/subjectMatter"),
    ] {
        if let Some(s) = joined(f, ptr) {
            t.line(format!("{label}: {s}"));
        }
    }
    let languages: Vec<String> = list_at(f, "/languages")
        .iter()
        .filter_map(|l| {
            at(l, "/language").map(|n| match at(l, "/proficiency") {
                Some(p) => format!("{n} ({p})"),
                None => n,
            })
        })
        .collect();
    if !languages.is_empty() {
        t.line(format!("Languages: {}", languages.join(", ")));
    }
    t.next(format!("invite them to one of your jobs with opentrain_invite_freelancer (freelancerId \"{id}\")."));
}

fn message_sent(t: &mut Text, v: &Value) {
    let conversation = id_at(v, "/message/conversationId").unwrap_or("<conversationId>");
    t.line(format!(
        "Sent message {} in conversation {conversation}{}.",
        at(v, "/message/id").unwrap_or_else(|| "(no id)".into()),
        at(v, "/message/createdAt").map(|c| format!(" at {c}")).unwrap_or_default()
    ));
    t.next(format!(
        "replies arrive as message.received (opentrain_poll_updates); read them with opentrain_read_messages \
         (conversationId \"{conversation}\")."
    ));
}

fn team(t: &mut Text, v: &Value, base: &str) {
    let team = v.walk(base).unwrap_or(&Value::Null);
    if let Some(name) = at(team, "/organization/name") {
        t.line(format!(
            "Team {name}{}{}.",
            at(team, "/organization/id").map(|i| format!(" ({i})")).unwrap_or_default(),
            at(team, "/organization/ownerName").map(|o| format!(", owned by {o}")).unwrap_or_default()
        ));
    }
    t.rows("Members", list_at(team, "/members"), |m| {
        parts([at(m, "/name"), at(m, "/email"), at(m, "/role"), at(m, "/joinedAt").map(|j| format!("joined {j}"))])
    });
    let invites = list_at(team, "/invites");
    if !invites.is_empty() {
        t.rows("Pending invites", invites, |i| {
            parts([at(i, "/email"), at(i, "/id"), at(i, "/expiresAt").map(|e| format!("expires {e}"))])
        });
    }
}

fn team_invite(t: &mut Text, v: &Value) {
    let email = at(v, "/email").unwrap_or_else(|| "the address".into());
    let status = id_at(v, "/status").unwrap_or_default();
    let expires = list_at(v, "/team/invites")
        .iter()
        .find(|i| at(i, "/email").as_deref() == Some(email.as_str()))
        .and_then(|i| at(i, "/expiresAt"));
    t.line(match status {
        "invite_created" => format!(
            "Invited {email}: they join the team once they accept the emailed invite{}.",
            expires.map(|e| format!(" (it expires {e})")).unwrap_or_default()
        ),
        "member_added" => format!("{email} already had an OpenTrain account and is now a team member."),
        "already_member" => format!("{email} is already a team member; nothing changed."),
        other => format!("Invite for {email}: {other}."),
    });
    team(t, v, "/team");
    if status == "invite_created" {
        t.next("tell the human at that address to accept the invite; opentrain_get_team shows when they joined.");
    }
}

fn milestone_line(m: &Value) -> String {
    let mut flags = Vec::new();
    if flag(m, "/pendingApproval") {
        flags.push("a human approval is pending".to_string());
    }
    if flag(m, "/needsReview") {
        flags.push("work submitted, needs review".to_string());
    }
    parts([
        at(m, "/id"),
        m.walk("/milestoneNumber").and_then(Value::as_u64).map(|n| format!("#{n}")),
        at(m, "/name").map(|n| format!("\"{n}\"")),
        at(m, "/status"),
        usd(m, "/amountUsd"),
        at(m, "/dueDate").map(|d| format!("due {d}")),
        (!flags.is_empty()).then(|| flags.join(", ")),
    ])
}

/// What to do about each milestone, by its state; at most a few steps so the text stays short.
fn milestone_steps(t: &mut Text, contract: &Value) {
    let mut steps = 0;
    for m in list_at(contract, "/milestones") {
        let id = id_at(m, "/id").unwrap_or("<milestoneId>");
        let step = if flag(m, "/pendingApproval") {
            Some(format!(
                "milestone {id} waits for a human to confirm its pending approval in the OpenTrain app \
                 (opentrain_list_pending_payments, opentrain_get_approval)."
            ))
        } else {
            match id_at(m, "/status") {
                Some("NOT_FUNDED") => Some(format!(
                    "fund milestone {id} with opentrain_request_milestone_funding (milestoneId \"{id}\"; a human \
                     co-signs) before work starts."
                )),
                Some("ACTIVE_FUNDED") if flag(m, "/needsReview") => Some(format!(
                    "review the submitted work, then release milestone {id} with opentrain_request_milestone_approval \
                     (milestoneId \"{id}\"; a human co-signs)."
                )),
                _ => None,
            }
        };
        if let Some(s) = step {
            if steps < 3 {
                t.next(s);
            }
            steps += 1;
        }
    }
    let active = id_at(contract, "/status") == Some("active");
    let all_paid = list_at(contract, "/milestones").iter().all(|m| id_at(m, "/status") == Some("PAID"));
    if steps == 0 && active && all_paid {
        let id = id_at(contract, "/id").unwrap_or("<contractId>");
        t.next(format!(
            "every milestone of contract {id} is paid: add the next with opentrain_create_milestone (contractId \
             \"{id}\"), or end it with opentrain_end_contract."
        ));
    }
}

fn contract_head(c: &Value) -> String {
    let with = match at(c, "/freelancer/displayName") {
        Some(n) => format!(" with {n}{}", at(c, "/freelancer/country").map(|x| format!(" ({x})")).unwrap_or_default()),
        None => String::new(),
    };
    let rate = match (at(c, "/paymentType"), usd(c, "/rateUsd")) {
        (Some(k), Some(r)) => Some(format!("{k} at {r}")),
        (k, r) => k.or(r),
    };
    format!(
        "Contract {}{}{}: {}.",
        at(c, "/id").unwrap_or_else(|| "(no id)".into()),
        at(c, "/title").map(|s| format!(" \"{s}\"")).unwrap_or_default(),
        with,
        parts([
            at(c, "/status"),
            rate,
            usd(c, "/estimatedTotalUsd").map(|e| format!("estimated total {e}")),
            at(c, "/jobId").map(|j| format!("job {j}"))
        ])
    )
}

fn contracts(t: &mut Text, v: &Value) {
    let list = list_at(v, "/contracts");
    t.line(format!("Contracts ({}):", list.len()));
    for c in list.iter().take(MAX_ITEMS) {
        t.line(format!("- {}", contract_head(c)));
        for m in list_at(c, "/milestones").iter().take(MAX_ITEMS) {
            t.line(format!("  - milestone {}", milestone_line(m)));
        }
    }
    if list.len() > MAX_ITEMS {
        t.line(format!("... and {} more (all in structuredContent)", list.len() - MAX_ITEMS));
    }
    for c in list.iter().take(MAX_ITEMS) {
        milestone_steps(t, c);
    }
    if list.is_empty() {
        t.next("contracts start when a human confirms a hire (opentrain_hire_proposal).");
    }
}

fn contract(t: &mut Text, v: &Value) {
    let c = v.get("contract").unwrap_or(v);
    t.line(contract_head(c));
    if let Some(state) = at(c, "/budget/state") {
        t.line(format!(
            "Budget: {}.",
            parts([
                Some(state),
                usd(c, "/budget/fundedAmountUsd").map(|f| format!("funded {f}")),
                c.walk("/budget/remainingVolume").and_then(Value::as_f64).map(|r| format!("remaining volume {r}")),
            ])
        ));
    }
    let milestones = list_at(c, "/milestones");
    t.rows("Milestones", milestones, milestone_line);
    if let Some(conversation) = at(c, "/jobDmConversationId") {
        t.line(format!("Conversation with the freelancer: {conversation}."));
    }
    milestone_steps(t, c);
    if milestones.is_empty() && id_at(c, "/status") == Some("active") {
        t.next(format!(
            "add a milestone with opentrain_create_milestone (contractId \"{}\").",
            id_at(c, "/id").unwrap_or("<contractId>")
        ));
    }
}

fn milestone_created(t: &mut Text, v: &Value) {
    let m = v.get("milestone").unwrap_or(v);
    t.line(format!("Milestone created: {}.", milestone_line(m)));
    if let Some(d) = at(m, "/description") {
        t.line(format!("Description: {d}"));
    }
    if id_at(m, "/status") == Some("NOT_FUNDED") {
        let id = id_at(m, "/id").unwrap_or("<milestoneId>");
        t.next(format!(
            "it is not funded: request funding with opentrain_request_milestone_funding (milestoneId \"{id}\"; a \
             human co-signs) before the freelancer starts."
        ));
    }
}

fn contract_ended(t: &mut Text, v: &Value) {
    t.line(format!(
        "Contract {} is {}.",
        at(v, "/contractId").unwrap_or_else(|| "(no id)".into()),
        at(v, "/status").unwrap_or_else(|| "ended".into())
    ));
    t.next("nothing more is paid under it; open invoices are in opentrain_list_pending_payments.");
}

fn ledger_line(e: &Value) -> String {
    let related = [
        ("contract", "/contractId"),
        ("milestone", "/milestoneId"),
        ("proposal", "/jobofferId"),
        ("top-up", "/topUpId"),
    ]
    .iter()
    .filter_map(|(name, ptr)| at(e, ptr).map(|x| format!("{name} {x}")))
    .collect::<Vec<_>>();
    parts([
        at(e, "/id"),
        at(e, "/type"),
        cents(e, "/amountCents"),
        at(e, "/createdAt"),
        (!related.is_empty()).then(|| related.join(", ")),
        at(e, "/note"),
    ])
}

fn credits(t: &mut Text, v: &Value) {
    let available = v.walk("/credits/availableCents").and_then(Value::as_i64).unwrap_or(0);
    t.line(format!(
        "Credits: {} available, {} reserved for funded work{}.",
        cents(v, "/credits/availableCents").unwrap_or_else(|| "$0.00".into()),
        cents(v, "/credits/reservedCents").unwrap_or_else(|| "$0.00".into()),
        at(v, "/credits/currency").map(|c| format!(" ({})", c.to_uppercase())).unwrap_or_default()
    ));
    let recent = list_at(v, "/credits/recentEntries");
    if !recent.is_empty() {
        t.rows("Recent entries", recent, ledger_line);
    }
    if available <= 0 {
        t.next("no credits to fund milestones: start a top-up with opentrain_create_credit_top_up (a human pays).");
    } else {
        t.next("the full history is in opentrain_list_credit_ledger.");
    }
}

fn ledger(t: &mut Text, v: &Value) {
    t.rows("Ledger entries", list_at(v, "/entries"), ledger_line);
}

fn top_up_created(t: &mut Text, v: &Value) {
    let id = id_at(v, "/topUpId").or_else(|| id_at(v, "/topUp/id")).unwrap_or("<topUpId>");
    t.line(format!(
        "Top-up {id} for {}: {}.",
        cents(v, "/topUp/amountCents").unwrap_or_else(|| "the amount asked".into()),
        at(v, "/topUp/status").unwrap_or_else(|| "PENDING".into())
    ));
    t.line(format!(
        "A human must pay at {}{}. Nothing is credited until they do.",
        at(v, "/checkoutUrl").unwrap_or_else(|| "the checkout link (none was sent)".into()),
        at(v, "/expiresAt").map(|e| format!(" before {e}")).unwrap_or_default()
    ));
    t.next(format!(
        "give the human the checkout link, then poll opentrain_get_credit_top_up with topUpId \"{id}\" until it is \
         COMPLETED."
    ));
}

fn top_up(t: &mut Text, v: &Value) {
    let id = id_at(v, "/topUp/id").unwrap_or("<topUpId>");
    let status = id_at(v, "/topUp/status").unwrap_or("unknown");
    t.line(format!(
        "Top-up {id}: {status}, {}.",
        parts([
            cents(v, "/topUp/amountCents"),
            at(v, "/topUp/createdAt").map(|c| format!("created {c}")),
            at(v, "/topUp/completedAt").map(|c| format!("completed {c}")),
            at(v, "/topUp/expiresAt").map(|c| format!("expires {c}")),
        ])
    ));
    t.next(match status {
        "PENDING" => format!(
            "the human has not paid yet: they must finish the checkout link from opentrain_create_credit_top_up; \
             poll opentrain_get_credit_top_up (topUpId \"{id}\") again later."
        ),
        "COMPLETED" => "the credits are in: opentrain_get_credits shows the balance.".into(),
        _ => "this top-up will not complete: start a new one with opentrain_create_credit_top_up if credits are \
              still needed."
            .into(),
    });
}

fn pending_payments(t: &mut Text, v: &Value) {
    let list = list_at(v, "/payments");
    t.rows("Pending payments", list, |p| {
        parts([
            at(p, "/id"),
            at(p, "/status"),
            usd(p, "/amountUsd"),
            at(p, "/job/title").map(|j| format!("job \"{j}\"")),
            match (at(p, "/milestone/name"), at(p, "/milestone/id")) {
                (Some(n), Some(i)) => Some(format!("milestone \"{n}\" ({i})")),
                (n, i) => n.or(i).map(|m| format!("milestone {m}")),
            },
            p.walk("/invoiceNumber").and_then(Value::as_u64).map(|n| format!("invoice #{n}")),
        ])
    });
    for p in list.iter().take(3) {
        let m = id_at(p, "/milestone/id").unwrap_or("<milestoneId>");
        match id_at(p, "/status") {
            Some("PENDING_FUNDING") => t.next(format!(
                "milestone {m} waits for funding: opentrain_request_milestone_funding (milestoneId \"{m}\"), then a \
                 human confirms."
            )),
            Some("PENDING_PAYOUT") => t.next(format!(
                "milestone {m} waits for release: once the work is accepted, opentrain_request_milestone_approval \
                 (milestoneId \"{m}\"), then a human confirms."
            )),
            _ => {}
        }
    }
}

/// The next call an update event asks for.
fn event_step(e: &Value) -> Option<String> {
    let data = |k: &str| id_at(e, &format!("/data/{k}"));
    Some(match id_at(e, "/type")? {
        "proposal.received" | "proposal.status_changed" => {
            format!("opentrain_get_proposal (proposalId \"{}\")", data("proposalId")?)
        }
        "message.received" => format!("opentrain_read_messages (conversationId \"{}\")", data("conversationId")?),
        "approval.confirmed" => format!("opentrain_get_approval (approvalId \"{}\")", data("approvalId")?),
        "contract.created" | "milestone.status_changed" | "contract.budget_state_changed" | "payment.pending" => {
            format!("opentrain_get_contract (contractId \"{}\")", data("contractId")?)
        }
        _ => return None,
    })
}

fn updates(t: &mut Text, v: &Value) {
    let events = list_at(v, "/events");
    t.rows("Events", events, |e| {
        let ids: Vec<String> = e
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.ends_with("Id"))
            .filter_map(|(k, x)| scalar(x).map(|x| format!("{} {x}", k.trim_end_matches("Id"))))
            .collect();
        let state = match (at(e, "/data/previousState"), at(e, "/data/state").or_else(|| at(e, "/data/status"))) {
            (Some(a), Some(b)) => Some(format!("{a} -> {b}")),
            (_, b) => b,
        };
        parts([at(e, "/id"), at(e, "/type"), at(e, "/createdAt"), state, (!ids.is_empty()).then(|| ids.join(", "))])
    });
    let mut steps: Vec<String> = Vec::new();
    for s in events.iter().filter_map(event_step) {
        if !steps.contains(&s) {
            steps.push(s);
        }
    }
    if !steps.is_empty() {
        let more = if steps.len() > 5 { format!(" and {} more", steps.len() - 5) } else { String::new() };
        t.next(format!("act on the events: {}{more}.", steps.into_iter().take(5).collect::<Vec<_>>().join("; ")));
    }
    if let Some(cursor) = id_at(v, "/nextCursor") {
        t.next(if flag(v, "/hasMore") {
            format!("more events are waiting: call opentrain_poll_updates again now with cursor \"{cursor}\".")
        } else {
            format!("keep cursor \"{cursor}\": the next opentrain_poll_updates with it returns only newer events.")
        });
    }
}

fn webhook_line(w: &Value) -> String {
    parts([
        at(w, "/id"),
        at(w, "/url"),
        at(w, "/status"),
        joined(w, "/eventTypes").map(|e| format!("events {e}")),
        at(w, "/disabledReason").map(|r| format!("disabled: {r}")),
    ])
}

fn webhook(t: &mut Text, tool: &ToolDef, v: &Value) {
    let w = v.get("webhook").unwrap_or(&Value::Null);
    let id = id_at(w, "/id").unwrap_or("<webhookId>");
    match tool.operation {
        "delete_webhook" => {
            t.line(format!(
                "Webhook {id} {}: {}.",
                if flag(v, "/deleted") { "deleted" } else { "was NOT deleted" },
                at(w, "/url").unwrap_or_default()
            ));
            return;
        }
        "create_webhook" => t.line(format!("Webhook created: {}.", webhook_line(w))),
        _ => t.line(format!("Webhook {}.", webhook_line(w))),
    }
    if id_at(w, "/status") == Some("DISABLED") {
        t.next(format!(
            "deliveries are off{}; fix the endpoint, then create a new webhook (delete {id} with \
             opentrain_delete_webhook).",
            at(w, "/disabledReason").map(|r| format!(" ({r})")).unwrap_or_default()
        ));
    }
    if v.get("secret").is_some() {
        t.next(
            "store the signing secret now (structuredContent.secret): it is shown only once, and it verifies the \
             X-OpenTrain-Signature header of each delivery.",
        );
    }
}

fn webhooks(t: &mut Text, v: &Value) {
    let list = list_at(v, "/webhooks");
    t.rows("Webhooks", list, webhook_line);
    if list.is_empty() {
        t.next("subscribe to events with opentrain_create_webhook, or poll them with opentrain_poll_updates.");
    }
}

fn token_line(k: &Value) -> String {
    parts([
        at(k, "/id"),
        at(k, "/name").map(|n| format!("\"{n}\"")),
        at(k, "/preview"),
        at(k, "/status"),
        joined(k, "/scopes").map(|s| format!("scopes {s}")),
        at(k, "/lastUsedAt").map(|l| format!("last used {l}")),
        at(k, "/expiresAt").map(|e| format!("expires {e}")),
    ])
}

fn tokens(t: &mut Text, v: &Value) {
    t.rows("Tokens", list_at(v, "/tokens"), token_line);
    if list_at(v, "/tokens").iter().any(|k| id_at(k, "/status") == Some("active")) {
        t.next("revoke one that is no longer used with opentrain_revoke_token (tokenId).");
    }
}

fn token_revoked(t: &mut Text, v: &Value) {
    let k = v.get("token").unwrap_or(&Value::Null);
    t.line(format!(
        "Token {}{} is {}{}: nothing can use it any more.",
        at(k, "/id").unwrap_or_else(|| "(no id)".into()),
        at(k, "/name").map(|n| format!(" \"{n}\"")).unwrap_or_default(),
        at(k, "/status").unwrap_or_else(|| "revoked".into()),
        at(k, "/revokedAt").map(|r| format!(" since {r}")).unwrap_or_default()
    ));
}

/// `opentrain_register_agent`: where the new account's tokens went, and the claim to start.
pub fn registered(reg: &types::AgentRegistration, saved_to: &Path, env_note: &str) -> String {
    let mut text = format!(
        "Registered a new agent account{}.\nIts pre-claim token and claim token were saved to {} (mode 0600); this \
         server uses them from now on.{env_note}",
        reg.registration_id.as_deref().map(|r| format!(" (registration {r})")).unwrap_or_default(),
        saved_to.display(),
    );
    if !reg.scopes.is_empty() {
        let scopes: Vec<String> = reg.scopes.iter().map(|s| s.to_string()).collect();
        let _ = write!(text, "\nScopes: {}.", scopes.join(", "));
    }
    if let Some(exp) = &reg.claim_token_expires_at {
        let _ = write!(text, "\nThe claim token expires {exp}: the human must claim the account before then.");
    }
    text.push_str(
        "\nNext: ask the human for their email and call opentrain_claim_account with it; hiring, paying and most \
         writes need the claimed account.",
    );
    text
}

/// `opentrain_claim_account`: the link and code to show the human, and how to follow the claim.
pub fn claim_started(email: &str, attempt: &types::ClaimAttempt) -> String {
    let mut text = format!("Claim started for {email}.");
    if attempt.email_sent == Some(true) {
        text.push_str(" OpenTrain emailed a verification link (it may land in spam).");
    }
    let _ =
        write!(text, "\nShow the human: open {} and enter the code {}.", attempt.verification_uri, attempt.user_code);
    if let Some(exp) = attempt.expires_in {
        let _ = write!(text, "\nThe code expires in {exp} s.");
    }
    let _ = write!(
        text,
        "\nNext: call opentrain_claim_status every {} s until it reports the account claimed.",
        attempt.interval.unwrap_or(5.0)
    );
    text
}

/// `opentrain_claim_status` once claimed: the new token is saved, never shown.
pub fn claimed(token: &types::AgentTokenResponse, saved_to: &Path, env_note: &str) -> String {
    let scopes: Vec<String> = token.scopes.iter().map(|s| s.to_string()).collect();
    format!(
        "Claimed: a human now owns this account. The post-claim token{} was saved to {} in place of the pre-claim \
         one (which no longer works), and this server uses it from now on.{env_note}\nNext: hiring, messaging and \
         payments are open to this account; opentrain_auth_status shows who owns it.",
        if scopes.is_empty() { String::new() } else { format!(" (scopes {})", scopes.join(", ")) },
        saved_to.display(),
    )
}

/// `opentrain_read_messages`: one conversation's messages (`conversation`), or the
/// conversation summaries with what needs a reply; `ignored` names arguments of the other mode.
pub fn messages(value: &Value, conversation: Option<&str>, ignored: &[&str]) -> String {
    let mut text = String::new();
    match conversation {
        Some(id) => {
            let messages = list_at(value, "/messages");
            let _ = writeln!(text, "{} message(s) in conversation {id}:", messages.len());
            for m in messages.iter().take(30) {
                let who = if m.get("isFromViewer").and_then(Value::as_bool) == Some(true) {
                    "you".to_string()
                } else {
                    m.get("senderUserId").and_then(Value::as_str).unwrap_or("them").to_string()
                };
                let when = m.get("createdAt").and_then(Value::as_str).unwrap_or("");
                let content = m.get("content").and_then(Value::as_str).unwrap_or("");
                let _ = writeln!(text, "- [{when}] {who}: {}", one_line(content, 300));
            }
            if messages.len() > 30 {
                let _ = writeln!(text, "... and {} more (all in structuredContent)", messages.len() - 30);
            }
        }
        None => {
            let list = list_at(value, "/conversations");
            let _ = writeln!(text, "{} conversation(s):", list.len());
            for c in list.iter().take(30) {
                let mut parts = vec![c.get("id").and_then(Value::as_str).unwrap_or("?").to_string()];
                for k in ["type", "channelName"] {
                    if let Some(s) = c.get(k).and_then(Value::as_str) {
                        parts.push(s.to_string());
                    }
                }
                if let Some(n) = c.get("unreadCount").and_then(Value::as_u64).filter(|n| *n > 0) {
                    parts.push(format!("{n} unread"));
                }
                if let Some(n) = c.get("needsReplyCount").and_then(Value::as_u64).filter(|n| *n > 0) {
                    parts.push(format!("{n} awaiting your reply"));
                }
                if let Some(p) = c.get("proposalId").and_then(Value::as_str) {
                    parts.push(format!("proposal {p}"));
                }
                if let Some(last) = c.walk("/lastMessage/content").and_then(Value::as_str) {
                    parts.push(format!("last: {}", one_line(last, 120)));
                }
                let _ = writeln!(text, "- {}", parts.join(" | "));
            }
            if list.len() > 30 {
                let _ = writeln!(text, "... and {} more (all in structuredContent)", list.len() - 30);
            }
        }
    }
    if !ignored.is_empty() {
        let mode = if conversation.is_some() { "only without conversationId" } else { "only with conversationId" };
        let _ = writeln!(text, "Ignored {}: it applies {mode}.", ignored.join(", "));
    }
    let waiting = list_at(value, "/conversations")
        .iter()
        .find(|c| c.get("needsReplyCount").and_then(Value::as_u64) > Some(0))
        .and_then(|c| c.get("id").and_then(Value::as_str));
    match (value.get("nextCursor").and_then(Value::as_str), conversation) {
        (Some(c), _) => {
            let _ = writeln!(text, "Next: more results with cursor \"{c}\".");
        }
        (None, None) => match waiting {
            Some(id) => {
                let _ = writeln!(
                    text,
                    "Next: conversation {id} awaits your reply: read it with opentrain_read_messages (conversationId \
                     \"{id}\"), then answer with opentrain_send_message."
                );
            }
            None => text.push_str("Next: read one with opentrain_read_messages and its conversationId."),
        },
        (None, Some(id)) => {
            let _ = writeln!(text, "Next: reply with opentrain_send_message (conversationId \"{id}\").");
        }
    }
    text.trim_end().to_string()
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
            m.insert("code".into(), err.code_str().into());
            m.insert("error".into(), err.to_string().into());
            m.insert("details".into(), serde_json::json!({"reason": reason, "snippet": snippet}));
            err.to_string()
        }
        other => {
            m.insert("code".into(), other.code_str().into());
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
    fn walk_finds_what_value_pointer_finds() {
        let v = json!({"a": {"b": [10, {"c": "x"}], "": 1, "d/e": 2, "f~g": 3, "01": 4}, "n": null});
        let pointers = [
            "",
            "/",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1/c",
            "/a/b/2",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/-1",
            "/a/b/x",
            "/a/",
            "/a/d~1e",
            "/a/f~0g",
            "/a/01",
            "/n",
            "/n/x",
            "a",
            "/missing/deeper",
            "/a/b/1/c/z",
        ];
        for p in pointers {
            assert_eq!(v.walk(p), v.pointer(p), "{p:?}");
        }
    }

    /// Masking comes before joining the words: a remembered secret with a run of spaces in it
    /// would not be found once the run is squeezed to one space.
    #[test]
    fn a_secret_with_a_run_of_spaces_is_masked_in_one_line_text() {
        opentrain::redact::remember("Kq9  spaced  secret");
        for shown in [one_line("said Kq9  spaced  secret here", 300), short("said Kq9  spaced  secret here")] {
            assert_eq!(shown, "said [redacted] here");
        }
    }

    #[test]
    fn words_puts_text_on_one_line() {
        for s in ["", "  ", "one", " a  b\n\tc ", "x\r\ny"] {
            assert_eq!(words(s), s.split_whitespace().collect::<Vec<_>>().join(" "), "{s:?}");
        }
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
            operation: None,
            granted_scopes: None,
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

#[cfg(test)]
#[path = "summary_examples.rs"]
mod examples;
