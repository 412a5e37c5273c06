//! The raw client: the same operations as the typed client, returning the exact response JSON.
//!
//! The MCP server must hand agents the API's response untouched (fields the spec does not know
//! included) and the CLI prints it with `--json`; both dispatch by operation id from JSON
//! arguments. A second progenitor run over a copy of the spec whose success bodies are `{}`
//! (any JSON), whose parameters are strings (the wire form) and whose request bodies are free
//! JSON objects gives exactly that, while still going through the same hooks and error types.

use serde_json::{Value, json};

use crate::{METHODS, operations};

/// The schemas of error bodies: the raw client shares the typed client's types for them, so both
/// go through one error conversion.
pub const ERROR_SCHEMAS: &[&str] = &["Error", "ErrorDetails", "OAuthError", "PublicJobError", "PublicJobClosed"];

/// The spec as the raw client sees it.
pub fn raw_spec(spec: &Value) -> Value {
    let mut raw = spec.clone();
    // Only the error schemas stay typed: they are replaced by the typed client's own types.
    let schemas = &spec["components"]["schemas"];
    raw["components"]["schemas"] =
        ERROR_SCHEMAS.iter().map(|name| (name.to_string(), schemas[*name].clone())).collect();
    if let Some(paths) = raw["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for m in METHODS {
                let Some(op) = item.get_mut(m) else { continue };
                if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    for p in params {
                        p["schema"] = json!({"type": "string"});
                    }
                }
                if let Some(content) = op.pointer_mut("/requestBody/content").and_then(Value::as_object_mut) {
                    for media in content.values_mut() {
                        media["schema"] = json!({"type": "object", "additionalProperties": true});
                    }
                }
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for (code, r) in responses.iter_mut() {
                        if code.starts_with('2')
                            && let Some(media) = r.pointer_mut("/content/application~1json")
                        {
                            media["schema"] = json!({});
                        }
                    }
                }
            }
        }
    }
    raw
}

/// progenitor's name for a parameter's builder setter.
pub fn setter(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    match out.as_str() {
        "type" | "ref" | "fn" | "use" | "mod" | "self" | "match" => format!("{out}_"),
        _ => out,
    }
}

/// `impl raw::Client { pub async fn call_op(...) }`: an exhaustive match over the generated
/// `OperationId`, so a new operation in the spec is callable with no hand-written code, and a
/// parameter name the operation does not have is an error instead of being dropped.
pub fn dispatch(spec: &Value) -> String {
    let mut arms = String::new();
    for (path, method) in operations(spec) {
        let op = &spec["paths"][&path][&method];
        let id = op["operationId"].as_str().unwrap_or_default();
        let mut body = format!("let mut b = self.{id}();\n");
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or_default();
            body.push_str(&format!(
                "if let Some(v) = args.params.get({name:?}) {{ b = b.{}(v.as_str()); }}\n",
                setter(name)
            ));
        }
        if op.get("requestBody").is_some() {
            body.push_str("b = b.body(args.body.clone().unwrap_or_default());\n");
        }
        body.push_str("b.send().run().await");
        arms.push_str(&format!("O::{} => {{ {body} }}\n", crate::variant(id)));
    }
    format!(
        "impl Client {{
    /// Calls `op` with string parameters and an optional JSON body, returning the response body
    /// exactly as sent. A parameter `op` does not have is an `InvalidRequest` naming it.
    #[allow(unused_mut)]
    pub async fn call_op(&self, op: crate::generated::meta::OperationId, args: &crate::raw::Args) -> crate::Result<::serde_json::Value> {{
        use crate::Run;
        use crate::generated::meta::OperationId as O;
        args.check(op)?;
        match op {{
{arms}        }}
    }}
}}
"
    )
}
