//! `extract-overlay`: moves our `x-` keys out of `openapi.yaml` into `openapi.overlay.yaml`.
//!
//! Which keys move: every `x-` key of a mapping in the spec, at any depth, except the ones named
//! with `--keep` (extensions that really are the API's) and keys that are data rather than
//! structure (property names under `properties`, and anything inside `example`, `examples`,
//! `default` or `enum`). Keys of an operation (`paths.P.method...`) become one action per
//! operation targeting `$.paths['P'].method`; keys of a schema (`components.schemas.S...`) one
//! action per schema; any other key one action on its parent.
//!
//! The spec is rewritten by deleting the lines of each moved block, so comments, quoting and line
//! wrapping elsewhere stay exactly as they were. Before anything is written, the rewritten text is
//! parsed back and must equal the old spec minus the moved keys, and the rewritten spec with the
//! new overlay applied must equal the old spec with the old overlay applied: a block the line scanner misjudged fails the command
//! instead of corrupting the spec. Re-running is safe: keys already moved are gone from the spec,
//! and new ones merge into the existing action of their operation or schema (the spec's value wins
//! over an older one in the overlay).

use serde_json::{Map, Value, json};

/// The result of an extraction, not yet written anywhere.
pub struct Extraction {
    /// The spec's new text.
    pub spec_text: String,
    /// The overlay with the moved keys merged in.
    pub overlay: Value,
    /// One line per moved key: `paths./x.get.x-mcp`.
    pub moved: Vec<String>,
}

/// A key to move: the object path of its mapping, its name, its value, where it sits in the text.
struct Found {
    parent: Vec<String>,
    key: String,
    value: Value,
    lines: (usize, usize),
}

/// The empty overlay a first extraction starts from.
pub fn new_overlay() -> Value {
    json!({
        "overlay": "1.0.0",
        "info": {"title": "opentrain metadata for the OpenTrain Public API", "version": "1.0.0"},
        "extends": "openapi.yaml",
        "actions": []
    })
}

/// Moves every `x-` key of `spec_text` (YAML) that is not in `keep` into `overlay`.
pub fn extract(spec_text: &str, overlay: Value, keep: &[String]) -> Result<Extraction, String> {
    if spec_text.trim_start().starts_with('{') {
        return Err("extraction rewrites a YAML spec line by line; this one is JSON".into());
    }
    let spec: Value = serde_norway::from_str(spec_text).map_err(|e| format!("invalid YAML: {e}"))?;
    let lines: Vec<&str> = spec_text.split_inclusive('\n').collect();
    let mut found = Vec::new();
    collect(&spec, &mut Vec::new(), keep, &lines, &mut found)?;
    found.sort_by_key(|f| f.lines.0);

    let mut drop = vec![false; lines.len()];
    let mut expected = spec.clone();
    let old_overlay = overlay;
    opentrain_codegen::overlay::actions(&old_overlay)?;
    let mut overlay = old_overlay.clone();
    let mut moved = Vec::new();
    for f in &found {
        drop[f.lines.0..f.lines.1].iter_mut().for_each(|d| *d = true);
        if let Some(Value::Object(m)) = pointer_mut(&mut expected, &f.parent) {
            m.remove(&f.key);
        }
        let (owner, description) = owner(&spec, &f.parent);
        let mut update = json!({ f.key.clone(): f.value.clone() });
        for seg in f.parent[owner.len()..].iter().rev() {
            update = json!({ seg.clone(): update });
        }
        merge_into_overlay(&mut overlay, &target(&owner), description, update)?;
        moved.push(format!("{}.{}", f.parent.join("."), f.key));
    }
    let spec_text: String = lines.iter().zip(&drop).filter(|(_, d)| !**d).map(|(l, _)| *l).collect();

    let reparsed: Value =
        serde_norway::from_str(&spec_text).map_err(|e| format!("the rewritten spec is not YAML: {e}"))?;
    if reparsed != expected {
        return Err("the rewritten spec is not the old one minus the moved keys; nothing written".into());
    }
    let mut before = spec;
    opentrain_codegen::overlay::apply(&mut before, &old_overlay).map_err(|e| format!("the existing {e}"))?;
    let mut after = reparsed;
    opentrain_codegen::overlay::apply(&mut after, &overlay)?;
    if after != before {
        return Err("the rewritten spec with the new overlay differs from the old one with the old overlay \
                    (a key both in the spec and in the overlay?); nothing written"
            .into());
    }
    Ok(Extraction { spec_text, overlay, moved })
}

/// Keys that hold data (examples, defaults, enum values), not structure: never searched.
const DATA_KEYS: [&str; 4] = ["example", "examples", "default", "enum"];

fn collect(
    node: &Value,
    at: &mut Vec<String>,
    keep: &[String],
    lines: &[&str],
    found: &mut Vec<Found>,
) -> Result<(), String> {
    match node {
        Value::Object(m) => {
            let names_fields = at.last().is_some_and(|k| k == "properties");
            for (k, v) in m {
                if k.starts_with("x-") && !names_fields {
                    if keep.contains(k) {
                        continue;
                    }
                    let mut full = at.clone();
                    full.push(k.clone());
                    let lines = locate(lines, &full).ok_or_else(|| {
                        format!(
                            "cannot find the lines of `{}` (a flow mapping or a list?); move it by hand",
                            full.join(".")
                        )
                    })?;
                    found.push(Found { parent: at.clone(), key: k.clone(), value: v.clone(), lines });
                } else if !DATA_KEYS.contains(&k.as_str()) {
                    at.push(k.clone());
                    collect(v, at, keep, lines, found)?;
                    at.pop();
                }
            }
        }
        Value::Array(items) if items.iter().any(has_extension) => {
            return Err(format!("`{}` holds an `x-` key inside a list; move it by hand", at.join(".")));
        }
        _ => {}
    }
    Ok(())
}

fn has_extension(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.starts_with("x-") || has_extension(v)),
        Value::Array(a) => a.iter().any(has_extension),
        _ => false,
    }
}

fn pointer_mut<'a>(doc: &'a mut Value, at: &[String]) -> Option<&'a mut Value> {
    at.iter().try_fold(doc, |node, k| node.get_mut(k.as_str()))
}

/// The object an extracted key's action targets: its operation, its schema, else its parent.
fn owner(spec: &Value, parent: &[String]) -> (Vec<String>, Option<String>) {
    match parent {
        [p, path, method, ..] if p == "paths" && opentrain_codegen::METHODS.contains(&method.as_str()) => {
            let id = spec["paths"][path][method]["operationId"].as_str().map(String::from);
            (parent[..3].to_vec(), id.or_else(|| Some(format!("{} {path}", method.to_uppercase()))))
        }
        [c, s, name, ..] if c == "components" && s == "schemas" => {
            (parent[..3].to_vec(), Some(format!("schema {name}")))
        }
        _ => (parent.to_vec(), None),
    }
}

/// The JSONPath of an object path: `.name` where the name allows it, else `['name']`.
pub fn target(at: &[String]) -> String {
    let mut t = String::from("$");
    for k in at {
        let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if plain {
            t.push('.');
            t.push_str(k);
        } else {
            t.push_str(&format!("['{}']", k.replace('\\', "\\\\").replace('\'', "\\'")));
        }
    }
    t
}

/// Merges `update` into the action on `target` (one per operation or schema), or appends one.
fn merge_into_overlay(
    overlay: &mut Value,
    target: &str,
    description: Option<String>,
    update: Value,
) -> Result<(), String> {
    let actions = overlay["actions"].as_array_mut().ok_or("the overlay has no `actions` list")?;
    let existing =
        actions.iter_mut().find(|a| a["target"] == target && a.get("remove").is_none() && a["update"].is_object());
    match existing {
        Some(action) => replace_merge(&mut action["update"], update),
        None => {
            let mut action = Map::new();
            action.insert("target".into(), Value::String(target.into()));
            if let Some(d) = description {
                action.insert("description".into(), Value::String(d));
            }
            action.insert("update".into(), update);
            actions.push(Value::Object(action));
        }
    }
    Ok(())
}

/// Objects merge key by key; anything else (arrays too) takes the newer value, so re-running an
/// extraction never duplicates list items.
fn replace_merge(old: &mut Value, new: Value) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, v) in n {
                match o.get_mut(&k) {
                    Some(existing) => replace_merge(existing, v),
                    None => {
                        o.insert(k, v);
                    }
                }
            }
        }
        (o, n) => *o = n,
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn is_item(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    t.starts_with("- ") || t.trim_end() == "-"
}

/// The key of a block-mapping line (`  name: ...`, `'200':`, `"a b":`), unquoted.
fn key_of(line: &str) -> Option<String> {
    let t = line.trim_start_matches(' ');
    if is_item(t) {
        return None;
    }
    let (key, rest) = match t.chars().next()? {
        '\'' => {
            // In single quotes `''` is one quote.
            let mut key = String::new();
            let mut chars = t.char_indices().skip(1).peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                        chars.next();
                        key.push('\'');
                        continue;
                    }
                    end = Some(i + 1);
                    break;
                }
                key.push(c);
            }
            (key, &t[end?..])
        }
        '"' => {
            let end = t[1..].find('"')?;
            (t[1..1 + end].to_string(), &t[end + 2..])
        }
        _ => {
            let end = t.find(": ").or_else(|| t.trim_end().strip_suffix(':').map(str::len))?;
            (t[..end].to_string(), &t[end..])
        }
    };
    rest.starts_with(':').then_some(key)
}

/// The line range `[start, end)` of the block of key path `at` (mappings only), trailing blank
/// lines and comments excluded.
fn locate(lines: &[&str], at: &[String]) -> Option<(usize, usize)> {
    let (mut from, mut to) = (0, lines.len());
    let mut block = None;
    for key in at {
        let child = (from..to).find(|&i| is_content(lines[i]))?;
        let ci = indent(lines[child]);
        let start = (child..to).find(|&i| {
            is_content(lines[i]) && indent(lines[i]) == ci && key_of(lines[i]).as_deref() == Some(key.as_str())
        })?;
        let mut end = start + 1;
        while end < to {
            let l = lines[end];
            if is_content(l) && (indent(l) < ci || (indent(l) == ci && !is_item(l))) {
                break;
            }
            end += 1;
        }
        while end > start + 1 && !is_content(lines[end - 1]) {
            end -= 1;
        }
        block = Some((start, end));
        (from, to) = (start + 1, end);
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "\
openapi: 3.0.3
# a comment that stays
paths:
  /jobs/{id}:
    get:
      operationId: get_job
      x-mcp:
        tool: opentrain_get_job
        omit:
        - internal
      summary: 'Get a job: by id'
      x-requires: {token: true, scopes: [jobs:read]}
      x-errors:
      - {status: 404, code: not_found}

      responses:
        '200':
          description: ok
components:
  schemas:
    Secret:
      type: string
      x-rust-type-replace: crate::Token
    Open:
      type: object
      properties:
        x-field:
          type: string
      x-api-owned: true
";

    #[test]
    fn moves_blocks_line_by_line_and_keeps_the_rest_byte_for_byte() {
        let e = extract(SPEC, new_overlay(), &["x-api-owned".to_string()]).expect("extracts");
        let want = SPEC
            .lines()
            .filter(|l| {
                !["x-mcp", "tool: opentrain", "omit:", "- internal", "x-requires", "x-errors", "- {status", "x-rust"]
                    .iter()
                    .any(|p| l.trim_start().starts_with(p))
            })
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        assert_eq!(e.spec_text, want);
        let actions = e.overlay["actions"].as_array().expect("actions");
        assert_eq!(actions.len(), 2, "one per operation, one per schema: {actions:?}");
        assert_eq!(actions[0]["target"], "$.paths['/jobs/{id}'].get");
        assert_eq!(actions[0]["description"], "get_job");
        assert_eq!(actions[0]["update"]["x-errors"][0]["code"], "not_found");
        assert_eq!(actions[1]["target"], "$.components.schemas.Secret");
        assert!(e.spec_text.contains("x-field:"), "a property named x-field is the API's");
        assert!(e.spec_text.contains("x-api-owned"), "--keep leaves a key");
    }

    #[test]
    fn re_running_is_a_no_op_and_new_keys_merge_into_the_operations_action() {
        let first = extract(SPEC, new_overlay(), &[]).expect("extracts");
        let again = extract(&first.spec_text, first.overlay.clone(), &[]).expect("extracts again");
        assert_eq!(again.spec_text, first.spec_text);
        assert_eq!(again.overlay, first.overlay);
        assert!(again.moved.is_empty());

        let added = first.spec_text.replace("      responses:", "      x-new: {a: 1}\n      responses:");
        let third = extract(&added, first.overlay.clone(), &[]).expect("extracts the new key");
        assert_eq!(third.spec_text, first.spec_text);
        let actions = third.overlay["actions"].as_array().expect("actions");
        assert_eq!(actions.len(), first.overlay["actions"].as_array().expect("actions").len());
        assert_eq!(actions[0]["update"]["x-new"]["a"], 1);
        assert_eq!(actions[0]["update"]["x-mcp"]["tool"], "opentrain_get_job", "the old keys stay");
    }

    #[test]
    fn an_extension_inside_a_list_is_refused_not_mangled() {
        let spec = "paths:\n  /a:\n    get:\n      parameters:\n      - name: a\n        x-p: 1\n";
        let err = extract(spec, new_overlay(), &[]).err().expect("refused");
        assert!(err.contains("paths./a.get.parameters"), "{err}");
    }

    #[test]
    fn targets_quote_what_is_not_a_plain_name() {
        let at = ["paths", "/a/{b}", "get"].map(String::from);
        assert_eq!(target(&at), "$.paths['/a/{b}'].get");
        assert_eq!(target(&["x'y".to_string()]), "$['x\\'y']");
    }

    #[test]
    fn keys_are_read_plain_or_quoted() {
        assert_eq!(key_of("  '200':").as_deref(), Some("200"));
        assert_eq!(key_of("  \"a b\": 1").as_deref(), Some("a b"));
        assert_eq!(key_of("    x-mcp:\n").as_deref(), Some("x-mcp"));
        assert_eq!(key_of("  - name: a"), None);
        assert_eq!(key_of("  'it''s': 1").as_deref(), Some("it's"));
    }
}
