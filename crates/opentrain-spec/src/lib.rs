//! Spec maintenance for opentrain (the `opentrain-spec` tool, not published).
//!
//! - [`extract`]: `extract-overlay` moves our `x-` metadata out of `openapi.yaml` into
//!   `openapi.overlay.yaml`, leaving the API description pure.
//! - [`diff`]: `diff OLD NEW` says what a new upstream spec changes for a client, breaking or
//!   additive, which overlay actions it leaves dead and which operations it leaves without an MCP
//!   tool or a CLI home.
//!
//! The overlay itself is applied by `opentrain_codegen::load_spec`, the one loader every build
//! script and tool uses.

#![forbid(unsafe_code)]

pub mod diff;
pub mod extract;

use serde_json::Value;

/// Renders an overlay as YAML, each action's `target` and `description` first so the file reads
/// as a list of "where: what" entries. The tool rewrites the whole file, so notes belong in an
/// action's `description`, not in comments.
pub fn render_overlay(overlay: &Value) -> Result<String, String> {
    let yaml = |v: &Value| serde_norway::to_string(v).map_err(|e| format!("cannot render YAML: {e}"));
    let mut out = String::from(
        "# Our metadata over the API's own description (OpenAPI Overlay 1.0.0): MCP tools (x-mcp),\n\
         # CLI homes (x-cli), Rust type hints (x-rust-*) and any other x- key that is not the API's.\n\
         # Applied by opentrain_codegen::load_spec before generation; an action whose target matches\n\
         # nothing fails the build. `cargo run -p opentrain-spec -- extract-overlay` moves new x- keys\n\
         # from openapi.yaml into this file (and rewrites it: keep notes in `description`).\n",
    );
    let Value::Object(top) = overlay else { return Err("an overlay is a mapping".into()) };
    let head = ["overlay", "info", "extends"];
    let rest = top.keys().filter(|k| !head.contains(&k.as_str()) && *k != "actions").map(String::as_str);
    for k in head.into_iter().filter(|k| top.contains_key(*k)).chain(rest) {
        let mut one = serde_json::Map::new();
        one.insert(k.to_string(), top[k].clone());
        out.push_str(&yaml(&Value::Object(one))?);
    }
    out.push_str("actions:\n");
    for action in overlay["actions"].as_array().into_iter().flatten() {
        let Value::Object(fields) = action else { return Err("an action is a mapping".into()) };
        let mut first = true;
        let order = ["target", "description"];
        let rest = fields.keys().filter(|k| !order.contains(&k.as_str())).map(String::as_str);
        for key in order.into_iter().filter(|k| fields.contains_key(*k)).chain(rest) {
            let mut one = serde_json::Map::new();
            one.insert(key.to_string(), fields[key].clone());
            for line in yaml(&Value::Object(one))?.lines() {
                out.push_str(if first { "- " } else { "  " });
                out.push_str(line);
                out.push('\n');
                first = false;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_rendered_overlay_reads_back_the_same() {
        let overlay = json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "extends": "openapi.yaml",
            "actions": [{"update": {"x-mcp": {"tool": "a", "omit": ["b"]}}, "target": "$.paths['/a: b'].get", "description": "a"},
                        {"target": "$.components.schemas.X", "remove": true}]});
        let text = render_overlay(&overlay).expect("renders");
        assert!(text.contains("\noverlay: 1.0.0\ninfo:"), "the envelope first: {text}");
        assert!(text.contains("- target: '$.paths[''/a: b''].get'\n  description: a\n  update:\n"), "{text}");
        let back: Value = serde_norway::from_str(&text).expect("YAML");
        assert_eq!(back, overlay);
    }
}
