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
                            "status": {"type": "string", "enum": ["ok"]}
                        }
                    }}}}}
                }
            }
        },
        "components": {
            "parameters": {"Limit": {"name": "limit", "in": "query", "description": "Page size.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 50}}},
            "schemas": {"Widget": {"type": "object", "properties": {"id": {"type": "string"}}}}
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
fn read_tools_get_limits_and_a_loose_output_schema() {
    let table = tools::tools(&with_paint()).expect("table");
    let list = find(&table, "opentrain_list_widgets");
    assert!(list.read_only && list.idempotent && !list.destructive);
    assert_eq!(
        list.input_schema["properties"]["limit"],
        json!({"type": "integer", "minimum": 1, "maximum": 50, "description": "Page size."})
    );
    assert!(list.input_schema.get("required").is_none());
    // Loose: no required, no enum, nullable; and `status` accepts the error envelope's number.
    assert_eq!(
        list.output_schema,
        json!({"type": "object", "properties": {
            "widgets": {"type": ["array", "null"], "items": {}},
            "status": {}
        }})
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
