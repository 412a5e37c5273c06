//! Checks tool arguments against a tool's input JSON Schema before any request is made.
//!
//! Only the subset `build/tools.rs` emits is understood: `type` (a name or a list such as
//! `["string", "null"]`), `required`, `enum`, `minimum`/`maximum`, `exclusiveMinimum`/
//! `exclusiveMaximum` (JSON Schema numbers), `minLength`/`maxLength`, `minItems`/`maxItems`,
//! `items`, `properties`, `additionalProperties`, `allOf`/`anyOf`/`oneOf`, and `$ref` to a part of
//! the same schema (the output schemas' `#/$defs/X`). `pattern` and
//! `format` are left to the server, which reports them with its own error envelope.

use std::fmt;

use opentrain::MAX_AMOUNT;
use serde_json::{Map, Value};

/// The first problem found in a value, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where the bad value sits: `limit`, `milestone.amount`, `eventTypes[1]`; empty for the
    /// arguments object itself.
    pub path: String,
    /// What is wrong, in words the model can act on.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "`{}` {}", self.path, self.message) }
    }
}

/// Checks tool `arguments` against the tool's input `schema`.
///
/// Besides the schema's own rules, an argument the schema does not list is refused: a misspelt
/// optional argument would otherwise be dropped without a word.
/// (A module private to the binary's crate: its examples are the unit tests below.)
pub fn check_arguments(schema: &Value, arguments: &Value) -> Result<(), Violation> {
    let known = schema.get("properties").and_then(Value::as_object);
    for name in arguments.as_object().into_iter().flat_map(Map::keys) {
        if !known.is_some_and(|k| k.contains_key(name)) {
            let mut names: Vec<&str> = known.into_iter().flatten().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            let expected = if names.is_empty() { "none".to_string() } else { names.join(", ") };
            return Err(Violation {
                path: name.clone(),
                message: format!("is not an argument of this tool (expected: {expected})"),
            });
        }
    }
    validate(schema, arguments)?;
    check_amounts(arguments, &mut String::new())
}

/// Argument fields that carry money or a volume, wherever they sit (`milestone.amount`).
const AMOUNT_FIELDS: &[&str] = &["amount", "amountUsd", "volume"];

/// Money is checked beyond the spec, which leaves the hire amount unbounded: an amount or volume
/// must be above 0 and at most [`MAX_AMOUNT`].
fn check_amounts(value: &Value, path: &mut String) -> Result<(), Violation> {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if AMOUNT_FIELDS.contains(&k.as_str())
                    && let Some(n) = v.as_f64()
                    && !(n > 0.0 && n <= MAX_AMOUNT)
                {
                    return fail(
                        path,
                        format!("must be an amount above 0 and at most {} (got {})", num(MAX_AMOUNT), show(v)),
                    );
                }
                check_amounts(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_amounts(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks `value` against `schema`; the first violation found is returned.
pub fn validate(schema: &Value, value: &Value) -> Result<(), Violation> {
    check(schema, schema, value, &mut String::new())
}

fn fail(path: &str, message: String) -> Result<(), Violation> {
    Err(Violation { path: path.to_string(), message })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        // JSON Schema counts 5.0 as an integer.
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0),
        // A type this validator does not know cannot be held against the value.
        _ => true,
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 { format!("{}...", s.chars().take(40).collect::<String>()) } else { s }
}

/// `root` is the whole schema, against which `$ref`s (`#/$defs/X`) resolve.
fn check(root: &Value, schema: &Value, value: &Value, path: &mut String) -> Result<(), Violation> {
    let Some(s) = schema.as_object() else { return Ok(()) };
    if let Some(target) = s.get("$ref").and_then(Value::as_str) {
        // Only references inside this schema are emitted; any other cannot be held against the value.
        if let Some(referred) = target.strip_prefix('#').and_then(|p| root.pointer(p)) {
            check(root, referred, value, path)?;
        }
    }

    if let Some(t) = s.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|t| has_type(value, t)) {
            let want = allowed.iter().filter(|t| **t != "null").copied().collect::<Vec<_>>().join(" or ");
            let article = if want.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
            let want = if want.is_empty() { "null".to_string() } else { format!("{article} {want}") };
            return fail(path, format!("must be {want}, got {} {}", type_name(value), show(value)));
        }
    }
    if value.is_null() {
        // Every keyword below constrains a non-null value; `null` passed the type check.
        return Ok(());
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.contains(value)
    {
        let list: Vec<String> = options
            .iter()
            .filter(|o| !o.is_null())
            .map(|o| o.as_str().map_or_else(|| o.to_string(), String::from))
            .collect();
        return fail(path, format!("must be one of {} (got {})", list.join(", "), show(value)));
    }
    if let Some(n) = value.as_f64() {
        let bound = |k: &str| s.get(k).and_then(Value::as_f64);
        if let Some(min) = bound("minimum")
            && n < min
        {
            return fail(path, format!("must be at least {} (got {})", num(min), show(value)));
        }
        if let Some(max) = bound("maximum")
            && n > max
        {
            return fail(path, format!("must be at most {} (got {})", num(max), show(value)));
        }
        if let Some(min) = bound("exclusiveMinimum")
            && n <= min
        {
            return fail(path, format!("must be greater than {} (got {})", num(min), show(value)));
        }
        if let Some(max) = bound("exclusiveMaximum")
            && n >= max
        {
            return fail(path, format!("must be less than {} (got {})", num(max), show(value)));
        }
    }
    if let Some(text) = value.as_str() {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            return fail(path, format!("must be at least {min} characters long (got {len})"));
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            return fail(path, format!("must be at most {max} characters long (got {len})"));
        }
    }
    if let Some(items) = value.as_array() {
        let len = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Value::as_u64)
            && len < min
        {
            return fail(path, format!("must have at least {min} items (got {len})"));
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
            && len > max
        {
            return fail(path, format!("must have at most {max} items (got {len})"));
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check(root, item_schema, item, path)?;
                path.truncate(len);
            }
        }
    }
    if let Some(object) = value.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for r in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(r) {
                let at = join(path, r);
                let what = if path.is_empty() { "argument" } else { "field" };
                return Err(Violation { path: at, message: format!("is a required {what} and is missing") });
            }
        }
        for (k, v) in object {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            match props.and_then(|p| p.get(k)) {
                Some(prop) => check(root, prop, v, path)?,
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => return fail(path, "is not an allowed field".into()),
                    Some(extra @ Value::Object(_)) => check(root, extra, v, path)?,
                    _ => {}
                },
            }
            path.truncate(len);
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(root, part, value, path)?;
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            // `oneOf` is checked like `anyOf`: overlapping alternatives in the spec must not make a
            // valid argument fail here; the server has the last word.
            let mut first = None;
            for alt in alts {
                match check(root, alt, value, &mut path.clone()) {
                    Ok(()) => {
                        first = None;
                        break;
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first {
                return Err(e);
            }
        }
    }
    Ok(())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_limit_violation_names_the_argument_and_the_bound() {
        let schema = serde_json::json!({"type": "object", "required": ["jobId"],
            "properties": {"jobId": {"type": "string"}, "limit": {"type": "integer", "maximum": 100}}});
        let args = serde_json::json!({"jobId": "j1", "limit": 500});
        let bad = super::check_arguments(&schema, &args).expect_err("over the maximum");
        assert_eq!(bad.path, "limit");
        assert_eq!(bad.to_string(), "`limit` must be at most 100 (got 500)");
    }

    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["jobId"],
            "properties": {
                "jobId": {"type": "string", "minLength": 1},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "score": {"type": "number", "exclusiveMinimum": 0},
                "status": {"type": ["string", "null"], "enum": ["OPEN", "CLOSED", null]},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 3}},
                "milestone": {"type": "object", "required": ["amount"], "additionalProperties": false,
                    "properties": {"amount": {"type": "number"}, "name": {"type": "string"}}},
                "patch": {"type": "object", "additionalProperties": true}
            }
        })
    }

    fn err(v: Value) -> String {
        match check_arguments(&schema(), &v) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_valid_arguments() {
        assert_eq!(err(json!({"jobId": "j", "limit": 100, "status": null, "tags": ["a"], "patch": {"x": 1}})), "ok");
        assert_eq!(err(json!({"jobId": "j", "limit": 5.0, "milestone": {"amount": 1.5}})), "ok");
    }

    #[test]
    fn names_the_argument_at_fault() {
        assert_eq!(err(json!({})), "`jobId` is a required argument and is missing");
        assert_eq!(err(json!({"jobId": 5})), "`jobId` must be a string, got integer 5");
        assert_eq!(err(json!({"jobId": ""})), "`jobId` must be at least 1 characters long (got 0)");
        assert_eq!(err(json!({"jobId": "j", "limit": 0})), "`limit` must be at least 1 (got 0)");
        assert_eq!(err(json!({"jobId": "j", "limit": 2.5})), "`limit` must be an integer, got number 2.5");
        assert_eq!(err(json!({"jobId": "j", "limit": "5"})), "`limit` must be an integer, got string \"5\"");
        assert_eq!(err(json!({"jobId": "j", "score": 0})), "`score` must be greater than 0 (got 0)");
        assert_eq!(err(json!({"jobId": "j", "status": "DONE"})), "`status` must be one of OPEN, CLOSED (got \"DONE\")");
        assert_eq!(err(json!({"jobId": "j", "tags": ["abcd"]})), "`tags[0]` must be at most 3 characters long (got 4)");
        assert_eq!(err(json!({"jobId": "j", "tags": ["a", "b", "c"]})), "`tags` must have at most 2 items (got 3)");
        assert_eq!(
            err(json!({"jobId": "j", "milestone": {}})),
            "`milestone.amount` is a required field and is missing"
        );
        assert_eq!(
            err(json!({"jobId": "j", "milestone": {"amount": 1, "x": 1}})),
            "`milestone.x` is not an allowed field"
        );
        assert_eq!(
            err(json!({"jobId": "j", "limt": 5})),
            "`limt` is not an argument of this tool (expected: jobId, limit, milestone, patch, score, status, tags)"
        );
    }

    #[test]
    fn amounts_must_be_positive_and_bounded_wherever_they_are() {
        let s = json!({"type": "object"});
        let bad = check_arguments(
            &json!({"type": "object", "properties": {"milestone": {}}}),
            &json!({"milestone": {"amount": -1}}),
        );
        assert_eq!(bad.map_err(|v| v.path), Err("milestone.amount".to_string()));
        assert!(check_arguments(&s, &json!({})).is_ok());
        assert!(validate(&s, &json!({"amount": 1e300})).is_ok(), "validate is the schema alone");
    }

    #[test]
    fn alternatives_pass_when_one_matches() {
        let s = json!({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 3}]});
        assert!(validate(&s, &json!("x")).is_ok());
        assert!(validate(&s, &json!(4)).is_ok());
        assert_eq!(validate(&s, &json!(1)).map_err(|e| e.message), Err("must be a string, got integer 1".into()));
    }

    #[test]
    fn references_resolve_within_the_schema_even_when_recursive() {
        let s = json!({
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}}
        });
        assert!(validate(&s, &json!({"root": {"id": "a", "children": [{"id": "b", "children": []}]}})).is_ok());
        let bad = validate(&s, &json!({"root": {"id": "a", "children": [{"children": []}]}}));
        assert_eq!(bad.map_err(|v| v.path), Err("root.children[0].id".to_string()));
        let bad = validate(&s, &json!({"root": {"id": 7}}));
        assert_eq!(bad.map_err(|v| v.message), Err("must be a string, got integer 7".to_string()));
    }
}
