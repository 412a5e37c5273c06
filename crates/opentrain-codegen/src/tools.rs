//! The MCP tool table, derived from the `x-mcp` extension of each operation in the spec.
//!
//! An operation with `x-mcp: {tool, title}` becomes a tool: its input schema is built from the
//! operation's own path, query and body schemas (renamed where the official tool names differ),
//! its output schema from the success response: every nested field described, shared parts in `$defs`.
//! Shared by `build.rs` and the generator's unit tests.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::operations;

/// Where one tool argument goes in the HTTP request.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Path(String),
    Query(String),
    BodyField(String),
    /// The whole request body (`rename: {patch: $body}`).
    Body,
    /// Prepended, with a blank line, to a string body field (`prependTo` in `extra`).
    PrependTo(String),
    /// Handled by a hand-written handler (`force`, `includeInterview`).
    Extra,
}

#[derive(Clone, Debug)]
pub struct Tool {
    pub name: String,
    pub title: String,
    pub description: String,
    pub toolset: String,
    pub operation: String,
    pub also: Vec<String>,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub input_schema: Value,
    pub output_schema: Value,
    pub args: Vec<(String, Target)>,
    /// Body fields with a constant value the tool never asks for (the claim grant type).
    pub fixed: Vec<(String, Value)>,
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(ptr) => v = spec.pointer(ptr).unwrap_or(&Value::Null),
            None => break,
        }
    }
    v
}

/// Converts an OpenAPI 3.0 schema to JSON Schema, inlining `$ref`s up to a depth.
pub fn json_schema(spec: &Value, schema: &Value, depth: usize) -> Value {
    // "X or null" (`oneOf: [X, <null branch>]`) reads as a nullable X.
    let mut s = resolve(spec, schema).clone();
    crate::nullable_refs(&mut s);
    let Some(obj) = s.as_object() else { return json!({}) };
    let mut out = Map::new();
    if let Some(d) = schema.get("description").or(obj.get("description")) {
        out.insert("description".into(), d.clone());
    }
    if depth == 0 {
        return Value::Object(out);
    }
    let sub = |v: &Value| json_schema(spec, v, depth - 1);
    for (k, v) in obj {
        match k.as_str() {
            "type" | "format" | "default" => {
                out.insert(k.clone(), v.clone());
            }
            "enum" | "minimum" | "maximum" | "minLength" | "maxLength" | "pattern" | "minItems" | "maxItems"
            | "uniqueItems" => {
                out.insert(k.clone(), v.clone());
            }
            "required" => {
                out.insert(k.clone(), v.clone());
            }
            "exclusiveMinimum" | "exclusiveMaximum" => {
                // 3.0 flags the bound as exclusive; JSON Schema puts the bound itself here.
                let bound = if k == "exclusiveMinimum" { "minimum" } else { "maximum" };
                if v == &Value::Bool(true)
                    && let Some(b) = obj.get(bound)
                {
                    out.insert(k.clone(), b.clone());
                    out.remove(bound);
                }
            }
            "items" => {
                out.insert(k.clone(), sub(v));
            }
            "properties" => {
                let props: Map<String, Value> =
                    v.as_object().into_iter().flatten().map(|(n, p)| (n.clone(), sub(p))).collect();
                out.insert(k.clone(), Value::Object(props));
            }
            "additionalProperties" => {
                out.insert(k.clone(), if v.is_object() { sub(v) } else { v.clone() });
            }
            "allOf" | "oneOf" | "anyOf" => {
                let parts: Vec<Value> = v.as_array().into_iter().flatten().map(sub).collect();
                if k == "allOf" && parts.len() == 1 {
                    // `allOf: [$ref]` is how 3.0 attaches nullable to a reference: inline it.
                    if let Some(inner) = parts[0].as_object() {
                        for (ik, iv) in inner {
                            out.entry(ik.clone()).or_insert_with(|| iv.clone());
                        }
                    }
                } else {
                    out.insert(k.clone(), Value::Array(parts));
                }
            }
            _ => {}
        }
    }
    if obj.get("nullable") == Some(&Value::Bool(true))
        && let Some(Value::String(t)) = out.get("type").cloned()
    {
        out.insert("type".into(), json!([t, "null"]));
        if let Some(Value::Array(e)) = out.get_mut("enum") {
            e.push(Value::Null);
        }
    }
    Value::Object(out)
}

fn output_schema(spec: &Value, op: &Value) -> Value {
    let success = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .find(|(c, r)| c.starts_with('2') && resolve(spec, r).get("content").is_some())
        .map(|(_, r)| resolve(spec, r)["content"]["application/json"]["schema"].clone())
        .unwrap_or(Value::Null);
    let mut defs = BTreeMap::new();
    let mut out = output_part(spec, &success, &mut defs);
    // The root must be an object schema, not a reference to one.
    out = deref_def(&out, &defs);
    // structuredContent must be an object; a union of objects becomes one object of all fields.
    if let Some(alts) = out.get("anyOf").and_then(Value::as_array).cloned() {
        let mut props = Map::new();
        for a in &alts {
            if let Some(p) = deref_def(a, &defs).get("properties").and_then(Value::as_object) {
                props.extend(p.clone());
            }
        }
        out = json!({"properties": props});
    }
    // A failed call carries the error envelope as structuredContent, and clients (the official
    // TypeScript SDK) check it against outputSchema too: a field of that name must accept it.
    if let Some(props) = out.get_mut("properties").and_then(Value::as_object_mut) {
        for key in ERROR_KEYS {
            if let Some(p) = props.get_mut(*key) {
                *p = json!({});
            }
        }
    }
    // Nor can it require a top-level field: the envelope has none of the success fields.
    if let Some(o) = out.as_object_mut() {
        o.remove("required");
        o.insert("type".into(), json!("object"));
    }
    inline_unshared(&mut out, &mut defs);
    if !defs.is_empty()
        && let Some(o) = out.as_object_mut()
    {
        o.insert("$defs".into(), Value::Object(defs.into_iter().collect()));
    }
    out
}

/// The name of a `#/components/schemas/X` reference.
fn component_name(schema: &Value) -> Option<&str> {
    schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// The schema a `#/$defs/X` reference points to (the value itself when it is no reference).
fn deref_def(v: &Value, defs: &BTreeMap<String, Value>) -> Value {
    match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => defs.get(name).cloned().unwrap_or_else(|| json!({})),
        None => v.clone(),
    }
}

/// One response schema as output JSON Schema: every nested field and array item described, each
/// named component once in `defs` (recursive ones included), `required` exactly where the spec
/// has it, null only where the spec allows it. What a real answer may legitimately exceed is left
/// out: `enum` (the API adds values; the SDK keeps unknown ones), bounds, patterns, and
/// `additionalProperties: false` (unknown keys are kept and passed on). Descriptions too: the
/// tool description explains the result, and every schema goes into one tools/list answer.
fn output_part(spec: &Value, schema: &Value, defs: &mut BTreeMap<String, Value>) -> Value {
    if let Some(name) = component_name(schema) {
        if !defs.contains_key(name) {
            // Placeholder first: a schema that refers to itself stops here.
            defs.insert(name.to_string(), json!({}));
            let body = output_part(spec, resolve(spec, schema), defs);
            defs.insert(name.to_string(), body);
        }
        return json!({"$ref": format!("#/$defs/{name}")});
    }
    let mut s = schema.clone();
    crate::nullable_refs(&mut s);
    let Some(obj) = s.as_object() else { return json!({}) };
    let mut out = Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "type" | "format" | "required" => {
                out.insert(k.clone(), v.clone());
            }
            "items" => {
                out.insert(k.clone(), output_part(spec, v, defs));
            }
            "properties" => {
                let props: Map<String, Value> =
                    v.as_object().into_iter().flatten().map(|(n, p)| (n.clone(), output_part(spec, p, defs))).collect();
                out.insert(k.clone(), Value::Object(props));
            }
            // A map's values; `true` is JSON Schema's default and `false` would refuse new keys.
            "additionalProperties" if v.is_object() => {
                out.insert(k.clone(), output_part(spec, v, defs));
            }
            "allOf" | "oneOf" | "anyOf" => {
                let parts: Vec<Value> =
                    v.as_array().into_iter().flatten().map(|p| output_part(spec, p, defs)).collect();
                if k == "allOf" && parts.len() == 1 {
                    // `allOf: [X]` is how 3.0 attaches nullable to X: X's own keywords stand here.
                    for (ik, iv) in parts[0].as_object().into_iter().flatten() {
                        out.entry(ik.clone()).or_insert_with(|| iv.clone());
                    }
                } else {
                    // Overlapping alternatives must not fail an answer that fits more than one.
                    out.insert(if k == "oneOf" { "anyOf".into() } else { k.clone() }, Value::Array(parts));
                }
            }
            _ => {}
        }
    }
    if obj.get("nullable") == Some(&Value::Bool(true)) {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            _ => return json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
        }
    }
    Value::Object(out)
}

/// Puts back inline every `$defs` entry that is not worth sharing: used once, or so small that
/// its copies take less room than the references and the entry would (`{"type": "string"}`).
/// Only a schema that refers to itself must stay. An inlined nullable reference to an object
/// becomes `type: [X, "null"]`.
fn inline_unshared(root: &mut Value, defs: &mut BTreeMap<String, Value>) {
    loop {
        let mut uses: BTreeMap<String, usize> = defs.keys().map(|k| (k.clone(), 0)).collect();
        count_refs(root, &mut uses);
        defs.values().for_each(|d| count_refs(d, &mut uses));
        let unused: Vec<String> = uses.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k.clone()).collect();
        if !unused.is_empty() {
            // Their own references no longer count: count again without them.
            unused.iter().for_each(|k| {
                defs.remove(k);
            });
            continue;
        }
        let inline = uses.iter().find(|(name, n)| {
            let Some(body) = defs.get(name.as_str()) else { return false };
            let mut own = BTreeMap::from([((*name).clone(), 0)]);
            count_refs(body, &mut own);
            let (body, reference) = (body.to_string().len(), name.len() + r##"{"$ref":"#/$defs/"}"##.len());
            own[name.as_str()] == 0 && **n * body <= **n * reference + name.len() + body + 4
        });
        let Some(name) = inline.map(|(name, _)| name.clone()) else { break };
        let Some(body) = defs.remove(&name) else { break };
        let target = format!("#/$defs/{name}");
        replace_ref(root, &target, &body);
        defs.values_mut().for_each(|d| replace_ref(d, &target, &body));
    }
}

fn count_refs(v: &Value, uses: &mut BTreeMap<String, usize>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"))
                && let Some(n) = uses.get_mut(name)
            {
                *n += 1;
            }
            m.values().for_each(|x| count_refs(x, uses));
        }
        Value::Array(a) => a.iter().for_each(|x| count_refs(x, uses)),
        _ => {}
    }
}

fn replace_ref(v: &mut Value, target: &str, body: &Value) {
    match v {
        Value::Object(m) => {
            if m.get("$ref").and_then(Value::as_str) == Some(target) {
                m.remove("$ref");
                for (k, b) in body.as_object().into_iter().flatten() {
                    m.entry(k.clone()).or_insert_with(|| b.clone());
                }
                return;
            }
            m.values_mut().for_each(|x| replace_ref(x, target, body));
            // `anyOf: [X, null]` with X now inline and of one type reads as `type: [X, "null"]`.
            if m.len() == 1
                && let Some(Value::Array(alts)) = m.get("anyOf")
                && alts.len() == 2
                && alts[1] == json!({"type": "null"})
                && alts[0].get("type").is_some_and(Value::is_string)
            {
                let mut x = alts[0].clone();
                x["type"] = json!([x["type"].clone(), "null"]);
                *v = x;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_ref(x, target, body)),
        _ => {}
    }
}

/// The top-level fields of a failed call's structuredContent (the API error envelope plus the
/// HTTP status).
pub const ERROR_KEYS: &[&str] = &["status", "code", "error", "requestId", "details"];

/// The tool description: the operation's description (its summary only when there is none).
///
/// The `Errors: ...` sentence is dropped: every failure reaches the model as a result carrying its
/// code and details, and all descriptions go into one tools/list answer that must stay small.
/// Operation ids that have a tool are rewritten to the tool name the model can actually call.
fn describe(summary: &str, details: &str, tool_of: &BTreeMap<String, String>) -> String {
    let text = if details.trim().is_empty() { summary } else { details };
    let mut out = drop_error_sentences(text);
    for (id, tool) in tool_of {
        out = replace_word(&out, id, tool);
    }
    out
}

/// Removes each sentence starting with `Errors`, up to the first `. ` outside parentheses.
fn drop_error_sentences(text: &str) -> String {
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(at) = out[from..].find("Errors").map(|i| i + from) {
        let starts_sentence = out[..at].trim_end().is_empty() || out[..at].trim_end().ends_with('.');
        if !starts_sentence {
            from = at + "Errors".len();
            continue;
        }
        let mut depth = 0i32;
        let mut end = out.len();
        let bytes = out.as_bytes();
        for (i, b) in bytes.iter().enumerate().skip(at) {
            match b {
                b'(' => depth += 1,
                b')' => depth -= 1,
                b'.' if depth <= 0 && bytes.get(i + 1).is_none_or(|n| *n == b' ') => {
                    end = (i + 2).min(bytes.len());
                    break;
                }
                _ => {}
            }
        }
        out.replace_range(at..end, "");
        from = at;
    }
    out.trim_end().to_string()
}

/// Replaces `word` where it stands alone (not inside a longer identifier).
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
}

/// Every tool of the spec, in path order, or what is wrong with an `x-mcp` block.
pub fn tools(spec: &Value) -> Result<Vec<Tool>, String> {
    let mut by_name: BTreeMap<String, Tool> = BTreeMap::new();
    let mut order = Vec::new();
    // Descriptions name operations; the model can only call tools.
    let tool_of: BTreeMap<String, String> = operations(spec)
        .iter()
        .filter_map(|(path, method)| {
            let op = &spec["paths"][path][method];
            Some((op["operationId"].as_str()?.to_string(), op["x-mcp"]["tool"].as_str()?.to_string()))
        })
        .collect();
    for (path, method) in operations(spec) {
        let op = &spec["paths"][&path][&method];
        let Some(x) = op.get("x-mcp") else { continue };
        let at = format!("{} {path}", method.to_uppercase());
        let id = op["operationId"].as_str().unwrap_or_default().to_string();
        let name = x["tool"].as_str().ok_or(format!("{at}: x-mcp needs `tool`"))?.to_string();
        if let Some(t) = by_name.get_mut(&name) {
            // A second operation of the same tool (the interview of `opentrain_get_proposal`).
            t.also.push(id);
            continue;
        }
        let title = x["title"].as_str().ok_or(format!("{at}: x-mcp needs `title`"))?.to_string();
        let rename: BTreeMap<String, String> = x["rename"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(mcp, spec_name)| Some((spec_name.as_str()?.to_string(), mcp.clone())))
            .collect();
        let mcp_name = |spec_name: &str| rename.get(spec_name).cloned().unwrap_or_else(|| spec_name.to_string());
        let omit = str_list(&x["omit"]);
        let fixed: Vec<(String, Value)> =
            x["fixed"].as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();

        let mut props = Map::new();
        let mut required = Vec::new();
        let mut args = Vec::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = resolve(spec, p);
            let pname = p["name"].as_str().unwrap_or_default();
            let n = mcp_name(pname);
            let mut s = json_schema(spec, &p["schema"], 6);
            if let (Some(d), Some(o)) = (p.get("description"), s.as_object_mut()) {
                o.insert("description".into(), d.clone());
            }
            props.insert(n.clone(), s);
            if p["required"] == Value::Bool(true) {
                required.push(n.clone());
            }
            let t = match p["in"].as_str() {
                Some("path") => Target::Path(pname.into()),
                Some("query") => Target::Query(pname.into()),
                other => return Err(format!("{at}: parameter {pname} in {other:?} cannot be a tool argument")),
            };
            args.push((n, t));
        }
        if let Some(rb) = op.get("requestBody") {
            let rb = resolve(spec, rb);
            let body_required = rb["required"] == Value::Bool(true);
            let schema = rb["content"].as_object().and_then(|c| c.values().next()).map(|m| &m["schema"]);
            let schema = schema.cloned().unwrap_or(Value::Null);
            if let Some(whole) = rename.get("$body") {
                props.insert(whole.clone(), json_schema(spec, &schema, 6));
                if body_required {
                    required.push(whole.clone());
                }
                args.push((whole.clone(), Target::Body));
            } else {
                let body = resolve(spec, &schema);
                let body_req = str_list(&body["required"]);
                for (field, fs) in body["properties"].as_object().into_iter().flatten() {
                    if omit.contains(field) || fixed.iter().any(|(f, _)| f == field) {
                        continue;
                    }
                    let n = mcp_name(field);
                    props.insert(n.clone(), json_schema(spec, fs, 6));
                    if body_required && body_req.contains(field) {
                        required.push(n.clone());
                    }
                    args.push((n, Target::BodyField(field.clone())));
                }
            }
        }
        for (n, s) in x["extra"].as_object().into_iter().flatten() {
            let mut s = s.clone();
            let target = match s.as_object_mut().and_then(|o| o.remove("prependTo")) {
                Some(Value::String(f)) => Target::PrependTo(f),
                _ => Target::Extra,
            };
            props.insert(n.clone(), s);
            args.push((n.clone(), target));
        }
        let optional = str_list(&x["optional"]);
        required.retain(|r| !optional.contains(r));
        for r in str_list(&x["required"]) {
            if !required.contains(&r) {
                required.push(r);
            }
        }
        for r in &required {
            if !props.contains_key(r) {
                return Err(format!("{at}: required tool argument {r} has no schema"));
            }
        }
        let mut input = json!({"type": "object", "properties": props});
        if !required.is_empty() {
            input["required"] = json!(required);
        }
        let read_only = method == "get";
        let summary = op["summary"].as_str().unwrap_or_default();
        let details = op["description"].as_str().unwrap_or_default();
        let tool = Tool {
            name: name.clone(),
            title,
            description: describe(summary, details, &tool_of),
            toolset: op["tags"][0].as_str().unwrap_or("misc").to_string(),
            operation: id,
            also: Vec::new(),
            read_only,
            destructive: x["destructive"].as_bool().unwrap_or(method == "delete"),
            idempotent: x["idempotent"].as_bool().unwrap_or(read_only || method == "delete"),
            input_schema: input,
            output_schema: output_schema(spec, op),
            args,
            fixed,
        };
        order.push(name.clone());
        by_name.insert(name, tool);
    }
    Ok(order.into_iter().filter_map(|n| by_name.remove(&n)).collect())
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// Rust source for the table: `pub static TOOLS: &[ToolDef]`.
pub fn render(tools: &[Tool]) -> String {
    let mut out =
        String::from("/// Every MCP tool derived from `x-mcp` in the spec.\npub static TOOLS: &[ToolDef] = &[\n");
    for t in tools {
        let args: String = t
            .args
            .iter()
            .map(|(n, target)| {
                let to = match target {
                    Target::Path(p) => format!("Target::Path({})", lit(p)),
                    Target::Query(p) => format!("Target::Query({})", lit(p)),
                    Target::BodyField(p) => format!("Target::BodyField({})", lit(p)),
                    Target::Body => "Target::Body".into(),
                    Target::PrependTo(p) => format!("Target::PrependTo({})", lit(p)),
                    Target::Extra => "Target::Extra".into(),
                };
                format!("Arg {{ name: {}, to: {to} }}, ", lit(n))
            })
            .collect();
        let also: String = t.also.iter().map(|a| format!("{}, ", lit(a))).collect();
        let fixed: String = t.fixed.iter().map(|(k, v)| format!("({}, {}), ", lit(k), lit(&v.to_string()))).collect();
        out.push_str(&format!(
            "    ToolDef {{ name: {}, title: {}, description: {}, toolset: {}, operation: {}, also: &[{also}], \
             read_only: {}, destructive: {}, idempotent: {}, input_schema: {}, output_schema: {}, args: &[{args}], \
             fixed: &[{fixed}] }},\n",
            lit(&t.name),
            lit(&t.title),
            lit(&t.description),
            lit(&t.toolset),
            lit(&t.operation),
            t.read_only,
            t.destructive,
            t.idempotent,
            lit(&t.input_schema.to_string()),
            lit(&t.output_schema.to_string()),
        ));
    }
    out.push_str("];\n");
    out
}
