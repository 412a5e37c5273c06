//! The MCP tool-table generator (`opentrain_codegen::tools`, which `build.rs` runs) on a small fixture
//! spec: adding an operation with `x-mcp` adds a tool, built from the operation's own parameter
//! and body schemas, with no hand-written Rust.

use opentrain_codegen::tools::{self, Target, Tool};
use serde_json::{Value, json};

fn fixture() -> Value {
    json!({
        "openapi": "3.0.3",
        "paths": {
            "/api/public/v1/widgets": {
                "get": {
                    "operationId": "list_widgets",
                    "tags": ["jobs"],
                    "summary": "List widgets",
                    "description": "Lists widgets. Errors: 400 BAD_REQUEST (bad limit). Then call paint_widget.",
                    "parameters": [{"$ref": "#/components/parameters/Limit"}],
                    "x-mcp": {"tool": "opentrain_list_widgets", "title": "List widgets"},
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["widgets"],
                        "properties": {
                            "widgets": {"type": "array", "items": {"$ref": "#/components/schemas/Widget"}},
                            "best": {"$ref": "#/components/schemas/Widget"},
                            "status": {"type": "string", "enum": ["ok"]}
                        }
                    }}}}}
                }
            }
        },
        "components": {
            "parameters": {"Limit": {"name": "limit", "in": "query", "description": "Page size.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 50}}},
            "schemas": {
                "Widget": {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "string"},
                    "paint": {"$ref": "#/components/schemas/Paint"}
                }},
                "Paint": {"type": "object", "nullable": true, "properties": {
                    "colour": {"type": "string", "enum": ["red"], "maxLength": 9},
                    "coats": {"type": "integer", "nullable": true}
                }}
            }
        }
    })
}

fn paint_operation() -> Value {
    json!({
        "operationId": "paint_widget",
        "tags": ["jobs"],
        "summary": "Paint a widget",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "required": ["color_name"],
            "properties": {
                "color_name": {"type": "string", "enum": ["red", "blue"], "nullable": true},
                "note": {"type": "string", "maxLength": 10},
                "kind": {"type": "string"},
                "internal": {"type": "string"}
            }
        }}}},
        "x-mcp": {
            "tool": "opentrain_paint_widget",
            "title": "Paint a widget",
            "rename": {"widgetId": "id", "color": "color_name"},
            "omit": ["internal"],
            "fixed": {"kind": "paint"},
            "idempotent": true,
            "extra": {
                "label": {"type": "string", "prependTo": "note"},
                "dryRun": {"type": "boolean"}
            }
        },
        "responses": {"202": {"description": "pending", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"error": {"type": "string"}}
        }}}}}
    })
}

fn with_paint() -> Value {
    let mut spec = fixture();
    spec["paths"]["/api/public/v1/widgets/{id}/paint"] = json!({"post": paint_operation()});
    spec
}

fn find<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no tool {name}"))
}

#[test]
fn adding_an_operation_with_x_mcp_adds_a_tool() {
    let before = tools::tools(&fixture()).expect("fixture table");
    assert_eq!(before.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["opentrain_list_widgets"]);

    let after = tools::tools(&with_paint()).expect("table with the new operation");
    assert_eq!(after.len(), 2);
    let paint = find(&after, "opentrain_paint_widget");
    assert_eq!(paint.title, "Paint a widget");
    assert_eq!(paint.operation, "paint_widget");
    assert_eq!(paint.toolset, "jobs");
    assert!(!paint.read_only && !paint.destructive && paint.idempotent);
    assert_eq!(
        paint.input_schema,
        json!({
            "type": "object",
            "properties": {
                "widgetId": {"type": "string"},
                "color": {"type": ["string", "null"], "enum": ["red", "blue", null]},
                "note": {"type": "string", "maxLength": 10},
                "label": {"type": "string"},
                "dryRun": {"type": "boolean"}
            },
            "required": ["widgetId", "color"]
        })
    );
    assert_eq!(
        paint.args,
        vec![
            ("widgetId".to_string(), Target::Path("id".into())),
            ("color".to_string(), Target::BodyField("color_name".into())),
            ("note".to_string(), Target::BodyField("note".into())),
            ("dryRun".to_string(), Target::Extra),
            ("label".to_string(), Target::PrependTo("note".into())),
        ]
    );
    assert_eq!(paint.fixed, vec![("kind".to_string(), json!("paint"))]);

    // The rendered table the crate includes gains the row.
    let rendered = tools::render(&after);
    assert!(rendered.contains("name: \"opentrain_paint_widget\""));
    assert!(rendered.contains("Target::PrependTo(\"note\")"));
    assert_eq!(rendered.matches("ToolDef {").count(), 2);
}

#[test]
fn read_tools_get_limits_and_a_full_output_schema() {
    let table = tools::tools(&with_paint()).expect("table");
    let list = find(&table, "opentrain_list_widgets");
    assert!(list.read_only && list.idempotent && !list.destructive);
    assert_eq!(
        list.input_schema["properties"]["limit"],
        json!({"type": "integer", "minimum": 1, "maximum": 50, "description": "Page size."})
    );
    assert!(list.input_schema.get("required").is_none());
    // Every nested field described; a schema used twice once in `$defs`, one used once inline;
    // `required` and null exactly where the spec has them, but no top-level `required` (the error
    // envelope has none of those fields), no enum or bound a real answer could exceed, and `status`
    // accepts the error envelope's number.
    assert_eq!(
        list.output_schema,
        json!({"type": "object", "properties": {
            "widgets": {"type": "array", "items": {"$ref": "#/$defs/Widget"}},
            "best": {"$ref": "#/$defs/Widget"},
            "status": {}
        }, "$defs": {"Widget": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"},
            "paint": {"type": ["object", "null"], "properties": {
                "colour": {"type": "string"},
                "coats": {"type": ["integer", "null"]}
            }}
        }}}})
    );
    let paint = find(&table, "opentrain_paint_widget");
    assert_eq!(paint.output_schema["properties"]["error"], json!({}), "an error field must accept the envelope");
}

#[test]
fn descriptions_drop_the_errors_sentence_and_name_tools() {
    let table = tools::tools(&with_paint()).expect("table");
    assert_eq!(find(&table, "opentrain_list_widgets").description, "Lists widgets. Then call opentrain_paint_widget.");
    assert_eq!(find(&table, "opentrain_paint_widget").description, "Paint a widget", "the summary when no description");
}

#[test]
fn a_broken_x_mcp_block_names_the_operation() {
    let mut spec = with_paint();
    spec["paths"]["/api/public/v1/widgets/{id}/paint"]["post"]["x-mcp"]["title"] = Value::Null;
    let e = tools::tools(&spec).err().unwrap_or_default();
    assert!(e.contains("POST /api/public/v1/widgets/{id}/paint") && e.contains("title"), "{e}");

    let mut spec = with_paint();
    spec["paths"]["/api/public/v1/widgets/{id}/paint"]["post"]["x-mcp"]["required"] = json!(["nope"]);
    let e = tools::tools(&spec).err().unwrap_or_default();
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn a_second_operation_of_a_tool_becomes_an_also() {
    let mut spec = with_paint();
    spec["paths"]["/api/public/v1/widgets/{id}/paint/history"] = json!({"get": {
        "operationId": "widget_history", "tags": ["jobs"], "summary": "History",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "x-mcp": {"tool": "opentrain_paint_widget", "title": "ignored"},
        "responses": {"200": {"description": "ok"}}
    }});
    let table = tools::tools(&spec).expect("table");
    assert_eq!(table.len(), 2);
    assert_eq!(find(&table, "opentrain_paint_widget").also, vec!["widget_history".to_string()]);
}

/// The spec's schema a `$ref` points to, with "X or null" read as a nullable X and `allOf: [X]`
/// as X itself, plus the component name when it was a reference.
fn spec_schema(spec: &Value, s: &Value) -> (Value, Option<String>) {
    let name = s["$ref"].as_str().map(|r| r.trim_start_matches("#/components/schemas/").to_string());
    let mut v = match s["$ref"].as_str() {
        Some(r) => spec.pointer(r.trim_start_matches('#')).cloned().unwrap_or(Value::Null),
        None => s.clone(),
    };
    opentrain_codegen::nullable_refs(&mut v);
    if let Some([one]) = v["allOf"].as_array().map(Vec::as_slice) {
        let (inner, inner_name) = spec_schema(spec, one);
        return (inner, inner_name.or(name));
    }
    (v, name)
}

/// Whether the spec says anything about a value's shape (`{}` in the spec is "anything").
fn describes(s: &Value) -> bool {
    ["type", "properties", "items", "allOf", "oneOf", "anyOf"].iter().any(|k| s.get(k).is_some())
        || s["additionalProperties"].is_object()
}

/// Walks a spec schema and the output schema built from it side by side and records every place
/// where the spec describes a value and the output schema says nothing (`{}`) or leaves it out.
fn gaps(
    spec: &Value,
    s: &Value,
    out: &Value,
    root: &Value,
    path: &str,
    seen: &mut Vec<String>,
    found: &mut Vec<String>,
) {
    let (s, name) = spec_schema(spec, s);
    if let Some(n) = &name {
        if seen.contains(n) {
            return; // A recursive schema was walked once on this branch.
        }
        seen.push(n.clone());
    }
    let mut out = out.clone();
    while let Some(r) = out["$ref"].as_str().map(String::from) {
        let target = root.pointer(r.trim_start_matches('#')).cloned().unwrap_or(Value::Null);
        out.as_object_mut().map(|o| o.remove("$ref"));
        for (k, v) in target.as_object().into_iter().flatten() {
            out.as_object_mut().map(|o| o.entry(k.clone()).or_insert_with(|| v.clone()));
        }
    }
    // A nullable reference to a shared schema: `anyOf: [{$ref}, {type: null}]`.
    if let Some([x, null]) = out["anyOf"].as_array().map(Vec::as_slice)
        && null == &json!({"type": "null"})
        && s.get("anyOf").is_none()
        && s.get("oneOf").is_none()
    {
        let x = x.clone();
        gaps(spec, &s, &x, root, path, &mut seen.clone(), found);
        return;
    }
    if describes(&s) && out.as_object().is_none_or(|o| o.is_empty()) {
        found.push(format!("{path}: the spec describes it, the output schema is {{}}"));
    }
    for (field, fs) in s["properties"].as_object().into_iter().flatten() {
        match out["properties"].get(field) {
            Some(o) => gaps(spec, fs, o, root, &format!("{path}.{field}"), &mut seen.clone(), found),
            None => found.push(format!("{path}.{field}: missing from the output schema")),
        }
    }
    if let Some(items) = s.get("items") {
        gaps(spec, items, &out["items"], root, &format!("{path}[]"), &mut seen.clone(), found);
    }
    if let Some(extra) = s.get("additionalProperties").filter(|v| v.is_object()) {
        gaps(spec, extra, &out["additionalProperties"], root, &format!("{path}{{*}}"), &mut seen.clone(), found);
    }
    for key in ["oneOf", "anyOf"] {
        for (i, alt) in s[key].as_array().into_iter().flatten().enumerate() {
            gaps(spec, alt, &out["anyOf"][i], root, &format!("{path}<{i}>"), &mut seen.clone(), found);
        }
    }
}

#[test]
fn every_nested_field_and_array_item_the_spec_describes_is_described() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = opentrain_codegen::load_spec(&root.join("openapi.yaml"), &root.join("openapi.overlay.yaml"))
        .expect("the spec loads");
    let table = tools::tools(&spec).expect("table");
    let mut found = Vec::new();
    for tool in &table {
        let op = spec["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
            .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()))
            .find(|op| op["operationId"] == tool.operation.as_str())
            .expect("the tool's operation");
        let success = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(code, _)| code.starts_with('2'))
            .map(|(_, r)| spec_schema(&spec, r).0)
            .find_map(|r| r.pointer("/content/application~1json/schema").cloned())
            .unwrap_or(Value::Null);
        let (body, _) = spec_schema(&spec, &success);
        let out = &tool.output_schema;
        // The top level: a union's members all become one object's fields, and the error
        // envelope's field names accept anything (they are `{}` by design).
        let members: Vec<Value> = match body["oneOf"].as_array().or(body["anyOf"].as_array()) {
            Some(alts) => alts.iter().map(|a| spec_schema(&spec, a).0).collect(),
            None => vec![body.clone()],
        };
        for member in members {
            for (field, fs) in member["properties"].as_object().into_iter().flatten() {
                if tools::ERROR_KEYS.contains(&field.as_str()) {
                    continue;
                }
                let path = format!("{}: {field}", tool.name);
                match out["properties"].get(field) {
                    Some(o) => gaps(&spec, fs, o, out, &path, &mut Vec::new(), &mut found),
                    None => found.push(format!("{path}: missing from the output schema")),
                }
            }
        }
    }
    assert!(found.is_empty(), "{} undescribed places:\n{}", found.len(), found.join("\n"));
}
