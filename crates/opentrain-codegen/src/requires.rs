//! What each operation needs and how it documentedly fails, from `x-requires` and `x-errors`.
//!
//! Every operation carries both extensions (read from the loaded spec, like `x-mcp`):
//!
//! ```yaml
//! x-requires: {token: true, scopes: ["jobs:write"], anyScopes: [], features: [public_api_job_drafting],
//!              claimed: false, paymentMethod: false}
//! x-errors:
//! - {status: 403, code: FORBIDDEN, when: "missing scope", details: [requiredScopes, grantedScopes]}
//! - {status: 403, code: FORBIDDEN, reason: account_claim_required, details: [claimUrl, action]}
//! - {status: 409, code: CONFLICT, reason: payment_method_required, details: [billingUrl]}
//! ```
//!
//! `x-requires` keys:
//! - `token` (bool): a bearer `ot_pat_` token is sent. `false` for tokenless operations,
//!   including the claim-token ones, which also say `claimToken: true` (the `ot_clm_` token goes
//!   in the body, never as a bearer).
//! - `scopes`: every one is needed (all-of); `anyScopes`: at least one of them is needed.
//! - `features`: account feature flags that must be on (`public_api_...`).
//! - `claimed`: the agent account must have been claimed by a human.
//! - `paymentMethod`: a payment method on file (or credits covering the charge) is needed.
//!
//! `x-errors` rows: `status` and `code` (the envelope's `code`, or the OAuth `error` on the
//! `/api/agent` endpoints) are required; `reason` is `details.reason`; `details` lists the other
//! `details` keys documented for the row; `when` says when it happens; `inferred: true` marks rows
//! the docs imply but do not print. An empty list is allowed (nothing documented); a missing
//! extension is not, so a new operation cannot slip in without a decision.
//!
//! The generated `requires.rs` holds one [`Requires`]-shaped row and one error table per
//! operation (in [`crate::operations`] order, like the `OperationId` enum) and the open enums of
//! every documented code and reason.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::operations;

/// One operation's `x-requires`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Requires {
    pub token: bool,
    pub claim_token: bool,
    pub scopes: Vec<String>,
    pub any_scopes: Vec<String>,
    pub features: Vec<String>,
    pub claimed: bool,
    pub payment_method: bool,
}

/// One `x-errors` row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorRow {
    pub status: u16,
    pub code: String,
    pub reason: Option<String>,
    pub details: Vec<String>,
    pub when: Option<String>,
    pub inferred: bool,
}

/// Every operation's id with its requirements and error rows, in spec order.
pub type Table = Vec<(String, Requires, Vec<ErrorRow>)>;

const REQUIRES_KEYS: &[&str] = &["token", "claimToken", "scopes", "anyScopes", "features", "claimed", "paymentMethod"];
const ERROR_KEYS: &[&str] = &["status", "code", "reason", "details", "when", "inferred"];

fn strings(v: &Value, at: &str, key: &str) -> Result<Vec<String>, String> {
    match v.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(String::from).ok_or(format!("{at}: `{key}` must list strings")))
            .collect(),
        Some(_) => Err(format!("{at}: `{key}` must be a list")),
    }
}

fn flag(v: &Value, at: &str, key: &str) -> Result<bool, String> {
    match v.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{at}: `{key}` must be true or false")),
    }
}

fn no_unknown_keys(v: &Value, at: &str, known: &[&str]) -> Result<(), String> {
    let obj = v.as_object().ok_or(format!("{at}: must be a mapping"))?;
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("{at}: unknown key `{k}` (known: {})", known.join(", "))),
        None => Ok(()),
    }
}

fn requires(v: &Value, at: &str) -> Result<Requires, String> {
    let at = format!("{at}: x-requires");
    no_unknown_keys(v, &at, REQUIRES_KEYS)?;
    let token = match v.get("token") {
        Some(Value::Bool(b)) => *b,
        _ => return Err(format!("{at}: `token` (true or false) is required")),
    };
    let r = Requires {
        token,
        claim_token: flag(v, &at, "claimToken")?,
        scopes: strings(v, &at, "scopes")?,
        any_scopes: strings(v, &at, "anyScopes")?,
        features: strings(v, &at, "features")?,
        claimed: flag(v, &at, "claimed")?,
        payment_method: flag(v, &at, "paymentMethod")?,
    };
    if !r.token && (!r.scopes.is_empty() || !r.any_scopes.is_empty() || !r.features.is_empty() || r.claimed) {
        return Err(format!("{at}: scopes, features and a claimed account need `token: true`"));
    }
    Ok(r)
}

fn error_row(v: &Value, at: &str) -> Result<ErrorRow, String> {
    no_unknown_keys(v, at, ERROR_KEYS)?;
    let status = v["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (400..600).contains(s))
        .ok_or(format!("{at}: `status` must be an error status (400-599)"))?;
    let code = v["code"].as_str().filter(|c| !c.is_empty()).ok_or(format!("{at}: `code` is required"))?;
    let text = |k: &str| -> Result<Option<String>, String> {
        match v.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{at}: `{k}` must be a string")),
        }
    };
    Ok(ErrorRow {
        status,
        code: code.to_string(),
        reason: text("reason")?,
        details: strings(v, at, "details")?,
        when: text("when")?,
        inferred: flag(v, at, "inferred")?,
    })
}

/// Reads every operation's `x-requires` and `x-errors`, naming each one that is missing or wrong.
pub fn table(spec: &Value) -> Result<Table, String> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (path, method) in operations(spec) {
        let op = &spec["paths"][&path][&method];
        let id = op["operationId"].as_str().unwrap_or_default().to_string();
        let at = format!("{} {path}", method.to_uppercase());
        let req = match op.get("x-requires") {
            Some(v) => requires(v, &at),
            None => Err(format!(
                "{at}: no x-requires (token, scopes, features, claimed: see opentrain-codegen's requires.rs)"
            )),
        };
        let errors: Result<Vec<ErrorRow>, String> = match op.get("x-errors") {
            Some(Value::Array(list)) => {
                list.iter().enumerate().map(|(i, e)| error_row(e, &format!("{at}: x-errors[{i}]"))).collect()
            }
            Some(_) => Err(format!("{at}: x-errors must be a list")),
            None => Err(format!("{at}: no x-errors (use [] when nothing is documented)")),
        };
        match (req, errors) {
            (Ok(r), Ok(e)) => rows.push((id, r, e)),
            (r, e) => problems.extend(r.err().into_iter().chain(e.err())),
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems.join("\n  ")) }
}

/// `BAD_REQUEST` / `account_claim_required` -> `BadRequest` / `AccountClaimRequired`.
fn variant(value: &str) -> String {
    crate::variant(&value.to_ascii_lowercase())
}

/// An open enum's known half: one variant per value, with `as_str`, `Display` and `FromStr`.
fn known_enum(name: &str, doc: &str, values: &[String]) -> Result<String, String> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut variants = String::new();
    let mut arms = String::new();
    let mut all = String::new();
    for v in values {
        let var = variant(v);
        if var.is_empty()
            || !var.chars().all(|c| c.is_ascii_alphanumeric())
            || var.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(format!("x-errors: `{v}` cannot be an enum variant"));
        }
        if let Some(other) = seen.insert(var.clone(), v) {
            return Err(format!("x-errors: `{v}` and `{other}` would be the same variant {var}"));
        }
        variants.push_str(&format!("    /// `{v}`\n    {var},\n"));
        arms.push_str(&format!("            Self::{var} => {v:?},\n"));
        all.push_str(&format!("Self::{var}, "));
    }
    Ok(format!(
        "/// {doc}\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum {name} {{\n{variants}}}\n\
         impl {name} {{\n    /// Every known value.\n    pub const ALL: &'static [{name}] = &[{all}];\n\
         \x20   /// The wire value.\n    pub fn as_str(self) -> &'static str {{\n        match self {{\n{arms}        }}\n    }}\n}}\n\
         impl ::std::fmt::Display for {name} {{\n    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {{\n        f.write_str(self.as_str())\n    }}\n}}\n\
         impl ::std::str::FromStr for {name} {{\n    type Err = ();\n    fn from_str(s: &str) -> ::std::result::Result<Self, ()> {{\n        Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())\n    }}\n}}\n"
    ))
}

fn str_slice(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", inner.join(", "))
}

/// The generated `requires.rs`: `REQUIREMENTS`, `ERRORS` (both indexed like `OperationId`) and
/// the known codes and reasons. It names the SDK's `Requires` and `ErrorRow` unqualified: it is
/// included inside the module that defines them.
pub fn render(table: &Table) -> Result<String, String> {
    let mut reqs = String::new();
    let mut errs = String::new();
    let mut codes: Vec<String> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for (id, r, rows) in table {
        reqs.push_str(&format!(
            "    // {id}\n    Requires {{ token: {}, claim_token: {}, scopes: {}, any_scopes: {}, features: {}, claimed: {}, payment_method: {} }},\n",
            r.token,
            r.claim_token,
            str_slice(&r.scopes),
            str_slice(&r.any_scopes),
            str_slice(&r.features),
            r.claimed,
            r.payment_method
        ));
        errs.push_str(&format!("    // {id}\n    &[\n"));
        for e in rows {
            errs.push_str(&format!(
                "        ErrorRow {{ status: {}, code: {:?}, reason: {:?}, details: {}, when: {:?}, inferred: {} }},\n",
                e.status,
                e.code,
                e.reason,
                str_slice(&e.details),
                e.when,
                e.inferred
            ));
            if !codes.contains(&e.code) {
                codes.push(e.code.clone());
            }
            if let Some(reason) = &e.reason
                && !reasons.contains(reason)
            {
                reasons.push(reason.clone());
            }
        }
        errs.push_str("    ],\n");
    }
    Ok(format!(
        "/// Each operation's requirements (`x-requires`), indexed like `OperationId`.\n\
         pub static REQUIREMENTS: &[Requires] = &[\n{reqs}];\n\
         /// Each operation's documented error rows (`x-errors`), indexed like `OperationId`.\n\
         pub static ERRORS: &[&[ErrorRow]] = &[\n{errs}];\n{}{}",
        known_enum(
            "ErrorCodeKnown",
            "Every error `code` the spec documents: the envelope's codes and the agent endpoints' OAuth errors.",
            &codes
        )?,
        known_enum("ErrorReasonKnown", "Every `details.reason` the spec documents.", &reasons)?
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(op: Value) -> Value {
        json!({"paths": {"/widgets": {"post": op}}})
    }

    fn op(requires: Value, errors: Value) -> Value {
        json!({"operationId": "make_widget", "x-requires": requires, "x-errors": errors, "responses": {}})
    }

    #[test]
    fn rows_are_read_with_their_defaults() {
        let t = table(&spec(op(
            json!({"token": true, "scopes": ["widgets:write"], "claimed": true}),
            json!([{"status": 409, "code": "CONFLICT", "reason": "widget_exists", "details": ["widgetId"]}]),
        )))
        .expect("valid");
        let (id, r, e) = &t[0];
        assert_eq!(id, "make_widget");
        assert_eq!(r.scopes, vec!["widgets:write"]);
        assert!(r.claimed && !r.payment_method && r.any_scopes.is_empty());
        assert_eq!(e[0].reason.as_deref(), Some("widget_exists"));
        let code = render(&t).expect("renders");
        assert!(code.contains("scopes: &[\"widgets:write\"]"), "{code}");
        assert!(code.contains("    WidgetExists,"), "{code}");
        assert!(code.contains("Self::Conflict => \"CONFLICT\""), "{code}");
    }

    #[test]
    fn a_missing_or_misspelt_extension_names_the_operation() {
        let mut no_requires = op(json!({}), json!([]));
        no_requires.as_object_mut().map(|o| o.remove("x-requires"));
        let err = table(&spec(no_requires)).expect_err("missing");
        assert!(err.contains("POST /widgets: no x-requires"), "{err}");

        let err = table(&spec(op(json!({"token": true, "scope": ["a"]}), json!([])))).expect_err("typo");
        assert!(err.contains("unknown key `scope`"), "{err}");

        let err = table(&spec(op(json!({"token": true}), json!([{"status": 200, "code": "OK"}])))).expect_err("2xx");
        assert!(err.contains("x-errors[0]: `status` must be an error status"), "{err}");

        let err = table(&spec(op(json!({"token": false, "scopes": ["a:read"]}), json!([])))).expect_err("no token");
        assert!(err.contains("need `token: true`"), "{err}");
    }

    #[test]
    fn two_spellings_of_one_variant_are_refused() {
        let t = table(&spec(op(
            json!({"token": true}),
            json!([{"status": 400, "code": "SLOW_DOWN"}, {"status": 400, "code": "slow_down"}]),
        )))
        .expect("valid rows");
        let err = render(&t).expect_err("clash");
        assert!(err.contains("same variant SlowDown"), "{err}");
    }
}
