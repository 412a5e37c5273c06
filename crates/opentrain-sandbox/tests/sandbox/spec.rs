//! A small validator for the OpenAPI 3.0 schema subset `openapi.yaml` uses, so sandbox responses
//! are checked against the spec itself (types, required, enums, nullable, allOf/oneOf, bounds)
//! rather than against what the Rust types happen to tolerate.

use std::sync::OnceLock;

use serde_json::Value;

pub struct Spec {
    doc: Value,
}

pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml")).expect("openapi.yaml");
        Spec { doc: serde_norway::from_str(&text).expect("openapi.yaml parses") }
    })
}

impl Spec {
    /// (method, path template, operation object) of an operation id.
    pub fn operation(&self, id: &str) -> (String, String, &Value) {
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if op.get("operationId").and_then(Value::as_str) == Some(id) {
                    return (method.to_uppercase(), path.clone(), op);
                }
            }
        }
        panic!("no operation {id}")
    }

    /// The response schema for `status` of an operation: the exact code, else the `4XX`/`5XX`
    /// range. None when the status is not documented at all.
    pub fn response_schema(&self, id: &str, status: u16) -> Option<&Value> {
        let (_, _, op) = self.operation(id);
        let responses = op["responses"].as_object()?;
        let range = format!("{}XX", status / 100);
        let r = responses.get(&status.to_string()).or_else(|| responses.get(&range))?;
        let r = self.resolve(r);
        r.get("content")?.get("application/json")?.get("schema")
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let mut cur = &self.doc;
                for part in r.trim_start_matches("#/").split('/') {
                    cur = &cur[part];
                }
                self.resolve(cur)
            }
            None => v,
        }
    }

    /// Every way `v` violates `schema`, with JSON paths.
    pub fn violations(&self, schema: &Value, v: &Value) -> Vec<String> {
        let mut errs = Vec::new();
        self.check(schema, v, "$", &mut errs);
        errs
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
        let s = self.resolve(schema);
        if v.is_null() {
            if s.get("nullable") == Some(&Value::Bool(true))
                || s.as_object()
                    .is_some_and(|o| o.get("type").is_none() && o.get("allOf").is_none() && o.get("oneOf").is_none())
            {
                return;
            }
            if s.get("allOf").is_some() && s.get("nullable") == Some(&Value::Bool(true)) {
                return;
            }
            // "X or null" is `oneOf: [X, {nullable: true, enum: [null]}]`.
            if s.get("oneOf")
                .and_then(Value::as_array)
                .is_some_and(|alts| alts.iter().any(|a| self.violations(a, v).is_empty()))
            {
                return;
            }
            errs.push(format!("{at}: null where the schema is not nullable"));
            return;
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, v, at, errs);
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let matching = one.iter().filter(|sub| self.violations(sub, v).is_empty()).count();
            if matching != 1 {
                errs.push(format!("{at}: matches {matching} of the oneOf schemas, not exactly one"));
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array).filter(|e| !e.contains(v)) {
            errs.push(format!("{at}: {v} is not one of {}", Value::Array(e.clone())));
        }
        match s.get("type").and_then(Value::as_str) {
            Some("object") => {
                let Some(obj) = v.as_object() else {
                    errs.push(format!("{at}: expected an object, got {v}"));
                    return;
                };
                for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(k) = r.as_str().filter(|k| !obj.contains_key(*k)) {
                        errs.push(format!("{at}: required `{k}` is missing"));
                    }
                }
                let props = s.get("properties").and_then(Value::as_object);
                for (k, val) in obj {
                    match props.and_then(|p| p.get(k)) {
                        Some(ps) => self.check(ps, val, &format!("{at}.{k}"), errs),
                        None => match s.get("additionalProperties") {
                            Some(Value::Bool(false)) => errs.push(format!("{at}: `{k}` is not allowed")),
                            Some(extra @ Value::Object(_)) => self.check(extra, val, &format!("{at}.{k}"), errs),
                            _ => {}
                        },
                    }
                }
            }
            Some("array") => {
                let Some(items) = v.as_array() else {
                    errs.push(format!("{at}: expected an array, got {v}"));
                    return;
                };
                if let Some(min) = s.get("minItems").and_then(Value::as_u64).filter(|m| (items.len() as u64) < *m) {
                    errs.push(format!("{at}: fewer than {min} items"));
                }
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{at}[{i}]"), errs);
                    }
                }
            }
            Some("string") => match v.as_str() {
                None => errs.push(format!("{at}: expected a string, got {v}")),
                Some(text) => {
                    let n = text.chars().count() as u64;
                    if s.get("minLength").and_then(Value::as_u64).is_some_and(|m| n < m) {
                        errs.push(format!("{at}: shorter than minLength"));
                    }
                    if s.get("maxLength").and_then(Value::as_u64).is_some_and(|m| n > m) {
                        errs.push(format!("{at}: longer than maxLength"));
                    }
                }
            },
            Some("integer") => {
                if !(v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)) {
                    errs.push(format!("{at}: expected an integer, got {v}"));
                }
                self.bounds(s, v, at, errs);
            }
            Some("number") => {
                if !v.is_number() {
                    errs.push(format!("{at}: expected a number, got {v}"));
                }
                self.bounds(s, v, at, errs);
            }
            Some("boolean") if !v.is_boolean() => errs.push(format!("{at}: expected a boolean, got {v}")),
            _ => {}
        }
    }

    fn bounds(&self, s: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
        let Some(n) = v.as_f64() else { return };
        let exclusive = s.get("exclusiveMinimum") == Some(&Value::Bool(true));
        if let Some(min) = s.get("minimum").and_then(Value::as_f64).filter(|m| n < *m || (exclusive && n == *m)) {
            errs.push(format!("{at}: {n} is below the minimum {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64).filter(|m| n > *m) {
            errs.push(format!("{at}: {n} is above the maximum {max}"));
        }
    }

    /// Panics with every violation when `body` is not what the spec says `id` answers with
    /// `status`.
    pub fn assert_response(&self, id: &str, status: u16, body: &Value) {
        let schema =
            self.response_schema(id, status).unwrap_or_else(|| panic!("{id}: status {status} is not documented"));
        let errs = self.violations(schema, body);
        assert!(errs.is_empty(), "{id} {status} violates the spec:\n  {}\nbody: {body:#}", errs.join("\n  "));
    }
}

#[test]
fn the_validator_catches_what_it_should() {
    let s = spec();
    let schema = s.response_schema("get_approval", 200).expect("documented");
    assert!(s.violations(schema, &serde_json::json!({ "approval": { "type": "proposal_hire" } })).is_empty());
    for bad in [
        serde_json::json!({}),
        serde_json::json!({ "approval": { "type": "moving_money" } }),
        serde_json::json!({ "approval": { "type": "proposal_hire", "contractId": 7 } }),
        serde_json::json!({ "approval": { "type": "proposal_hire", "approvalUrl": null } }),
    ] {
        assert!(!s.violations(schema, &bad).is_empty(), "{bad}");
    }
    let end = s.response_schema("end_contract", 200).expect("documented");
    assert!(s.violations(end, &serde_json::json!({ "ok": true, "contractId": "c", "status": "ended" })).is_empty());
    assert!(!s.violations(end, &serde_json::json!({ "ok": true })).is_empty());
}
