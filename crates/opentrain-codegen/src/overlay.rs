//! OpenAPI Overlay 1.0.0 application: how our metadata (`x-mcp`, `x-cli`, `x-rust-*`, ...) in
//! `openapi.overlay.yaml` is laid over the API's own description before generation.
//!
//! The API description (`openapi.yaml`, or the served `openapi.json`) stays the API's; everything
//! that is ours lives in the overlay, so a new upstream spec can be dropped in as is. An overlay is
//!
//! ```yaml
//! overlay: 1.0.0
//! info: {title: opentrain metadata, version: 1.0.0}
//! extends: openapi.yaml
//! actions:
//! - target: $.paths['/api/public/v1/jobs'].get
//!   description: list_jobs
//!   update: {x-mcp: {tool: opentrain_list_jobs, title: List jobs}}
//! - target: $.components.schemas.Internal
//!   remove: true
//! ```
//!
//! Actions apply in order. `update` merges into every node the target selects, as the Overlay
//! specification says: objects merge key by key (recursively), arrays get the update's items
//! appended (an array target gets the update appended as one item), anything else is replaced.
//! `remove: true` deletes the selected nodes from their parents. An action whose target selects
//! nothing is an error naming the action (index, target, description): it means the API changed
//! under our metadata, and silently losing a tool or a CLI home is worse than a failed build.
//!
//! # JSONPath subset
//!
//! Targets use a small JSONPath subset ([`parse_path`]), enough to name any operation or schema:
//! `$` (the root), `.name`, `['name']` or `["name"]` (any key, e.g. a path with `/` and `{}`),
//! `.*` and `[*]` (every member or item), `[3]` (an array index) and the filter
//! `[?(@.key=='value')]` (the members or items whose `key` equals the string `value`, e.g.
//! `$.paths.*[?(@.operationId=='list_jobs')]`). Anything else is rejected with the position.

use serde_json::Value;

/// One step of a parsed JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A member of an object, by name.
    Key(String),
    /// An item of an array, by position.
    Index(usize),
    /// Every member of an object or item of an array.
    Wildcard,
    /// The members or items that are objects whose `.0` key is the string `.1`.
    Filter(String, String),
}

/// Parses a JSONPath of the supported subset (see the module docs) into steps.
pub fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let chars: Vec<char> = path.chars().collect();
    if chars.first() != Some(&'$') {
        return Err(format!("`{path}`: a target starts with `$`"));
    }
    let mut steps = Vec::new();
    let mut i = 1;
    let bad = |at: usize, what: &str| format!("`{path}` at {at}: {what}");
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                if chars.get(i) == Some(&'*') {
                    steps.push(Step::Wildcard);
                    i += 1;
                    continue;
                }
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || "_-$".contains(chars[i])) {
                    i += 1;
                }
                if start == i {
                    return Err(bad(start, "expected a name after `.`"));
                }
                steps.push(Step::Key(chars[start..i].iter().collect()));
            }
            '[' => {
                i += 1;
                match chars.get(i) {
                    Some('*') => {
                        steps.push(Step::Wildcard);
                        i += 1;
                    }
                    Some(q @ ('\'' | '"')) => {
                        let (name, next) = quoted(&chars, i, *q).ok_or_else(|| bad(i, "unclosed quote"))?;
                        steps.push(Step::Key(name));
                        i = next;
                    }
                    Some(c) if c.is_ascii_digit() => {
                        let start = i;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                        let n: String = chars[start..i].iter().collect();
                        steps.push(Step::Index(n.parse().map_err(|_| bad(start, "index too large"))?));
                    }
                    Some('?') => {
                        // ?(@.key=='value')
                        let filter = |i: usize| bad(i, "a filter is `?(@.key=='value')`");
                        let skip_ws = |mut i: usize| {
                            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                                i += 1;
                            }
                            i
                        };
                        if chars.get(i + 1..i + 4) != Some(&['(', '@', '.'][..]) {
                            return Err(filter(i));
                        }
                        i += 4;
                        let start = i;
                        while i < chars.len() && (chars[i].is_alphanumeric() || "_-$".contains(chars[i])) {
                            i += 1;
                        }
                        let key: String = chars[start..i].iter().collect();
                        i = skip_ws(i);
                        if key.is_empty() || chars.get(i..i + 2) != Some(&['=', '='][..]) {
                            return Err(filter(i));
                        }
                        i = skip_ws(i + 2);
                        let q = match chars.get(i) {
                            Some(q @ ('\'' | '"')) => *q,
                            _ => return Err(filter(i)),
                        };
                        let (value, next) = quoted(&chars, i, q).ok_or_else(|| bad(i, "unclosed quote"))?;
                        i = skip_ws(next);
                        if chars.get(i) != Some(&')') {
                            return Err(filter(i));
                        }
                        i += 1;
                        steps.push(Step::Filter(key, value));
                    }
                    _ => return Err(bad(i, "expected `*`, a quoted name, an index or a filter after `[`")),
                }
                if chars.get(i) != Some(&']') {
                    return Err(bad(i, "expected `]`"));
                }
                i += 1;
            }
            _ => return Err(bad(i, "expected `.` or `[`")),
        }
    }
    Ok(steps)
}

/// The string quoted by `q` starting at `chars[at]` (backslash escapes the next character), and
/// the position after the closing quote.
fn quoted(chars: &[char], at: usize, q: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut i = at + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                out.push(*chars.get(i + 1)?);
                i += 2;
            }
            c if c == q => return Some((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

/// A concrete location in a document: object keys and array indexes from the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array item.
    Index(usize),
}

/// Every location in `doc` the steps select, in document order.
pub fn select(doc: &Value, steps: &[Step]) -> Vec<Vec<Seg>> {
    let mut found = Vec::new();
    walk(doc, steps, &mut Vec::new(), &mut found);
    found
}

fn walk(node: &Value, steps: &[Step], at: &mut Vec<Seg>, found: &mut Vec<Vec<Seg>>) {
    let Some((step, rest)) = steps.split_first() else {
        found.push(at.clone());
        return;
    };
    let mut visit = |seg: Seg, child: &Value, at: &mut Vec<Seg>| {
        at.push(seg);
        walk(child, rest, at, found);
        at.pop();
    };
    let matches = |child: &Value, step: &Step| match step {
        Step::Filter(k, v) => child.get(k).and_then(Value::as_str) == Some(v.as_str()),
        _ => true,
    };
    match (step, node) {
        (Step::Key(k), Value::Object(m)) => {
            if let Some(child) = m.get(k) {
                visit(Seg::Key(k.clone()), child, at);
            }
        }
        (Step::Index(n), Value::Array(a)) => {
            if let Some(child) = a.get(*n) {
                visit(Seg::Index(*n), child, at);
            }
        }
        (Step::Wildcard | Step::Filter(..), Value::Object(m)) => {
            for (k, child) in m.iter().filter(|(_, c)| matches(c, step)) {
                visit(Seg::Key(k.clone()), child, at);
            }
        }
        (Step::Wildcard | Step::Filter(..), Value::Array(a)) => {
            for (n, child) in a.iter().enumerate().filter(|(_, c)| matches(c, step)) {
                visit(Seg::Index(n), child, at);
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(doc: &'a mut Value, at: &[Seg]) -> Option<&'a mut Value> {
    at.iter().try_fold(doc, |node, seg| match seg {
        Seg::Key(k) => node.get_mut(k.as_str()),
        Seg::Index(n) => node.get_mut(*n),
    })
}

/// Merges `update` into `target` the Overlay way: objects key by key (recursively), arrays by
/// appending the update's items, anything else replaced.
pub fn merge(target: &mut Value, update: &Value) {
    match (target, update) {
        (Value::Object(t), Value::Object(u)) => {
            for (k, v) in u {
                match t.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(u)) => t.extend(u.iter().cloned()),
        (t, u) => *t = u.clone(),
    }
}

/// How an action is named in errors: `action 3 ($.paths['/x'].get, "list_x")`.
pub fn action_name(index: usize, action: &Value) -> String {
    let target = action["target"].as_str().unwrap_or("<no target>");
    match action["description"].as_str() {
        Some(d) => format!("action {index} ({target}, {d:?})"),
        None => format!("action {index} ({target})"),
    }
}

/// Checks the overlay's envelope and returns its actions.
pub fn actions(overlay: &Value) -> Result<&[Value], String> {
    match overlay["overlay"].as_str() {
        Some(v) if v.starts_with("1.") => {}
        _ => return Err("not an Overlay 1.x document (`overlay: 1.0.0` missing)".into()),
    }
    overlay["actions"].as_array().map(Vec::as_slice).ok_or_else(|| "the overlay has no `actions` list".into())
}

/// Applies every action of `overlay` to `spec` in order. Fails naming each action whose target
/// is malformed or selects nothing (all of them, so one build shows every dead action).
pub fn apply(spec: &mut Value, overlay: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    for (index, action) in actions(overlay)?.iter().enumerate() {
        if let Err(e) = apply_action(spec, action) {
            problems.push(format!("{}: {e}", action_name(index, action)));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("overlay: {}", problems.join("\n  "))) }
}

/// Applies one action; the error says why it could not (without naming the action).
pub fn apply_action(spec: &mut Value, action: &Value) -> Result<(), String> {
    let target = action["target"].as_str().ok_or("no `target`")?;
    let steps = parse_path(target)?;
    let mut found = select(spec, &steps);
    if found.is_empty() {
        return Err("the target matches nothing in the spec".into());
    }
    if action["remove"] == Value::Bool(true) {
        // Later array items first, so earlier indexes stay valid.
        found.reverse();
        for at in found {
            let Some((last, parent)) = at.split_last() else {
                return Err("cannot remove the whole document".into());
            };
            match (get_mut(spec, parent), last) {
                (Some(Value::Object(m)), Seg::Key(k)) => {
                    m.remove(k);
                }
                (Some(Value::Array(a)), Seg::Index(n)) if *n < a.len() => {
                    a.remove(*n);
                }
                _ => {}
            }
        }
        return Ok(());
    }
    let update = action.get("update").ok_or("neither `update` nor `remove: true`")?;
    for at in found {
        let Some(node) = get_mut(spec, &at) else { continue };
        match node {
            Value::Array(a) => a.push(update.clone()),
            Value::Object(_) => merge(node, update),
            _ => return Err("the target selects a value that is neither an object nor an array".into()),
        }
    }
    Ok(())
}

/// The actions of `overlay` that select nothing in `spec` when applied in order, by name: what a
/// new upstream spec breaks in our metadata.
pub fn dead_actions(spec: &Value, overlay: &Value) -> Result<Vec<String>, String> {
    let mut spec = spec.clone();
    let mut dead = Vec::new();
    for (index, action) in actions(overlay)?.iter().enumerate() {
        if let Err(e) = apply_action(&mut spec, action) {
            dead.push(format!("{}: {e}", action_name(index, action)));
        }
    }
    Ok(dead)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> Value {
        json!({
            "paths": {
                "/jobs/{id}": {"get": {"operationId": "get_job", "tags": ["jobs"]},
                               "delete": {"operationId": "close_job"}},
                "/jobs": {"get": {"operationId": "list_jobs"}}
            },
            "components": {"schemas": {"Secret": {"type": "string"}, "Old": {"type": "object"}}}
        })
    }

    fn overlay(actions: Value) -> Value {
        json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions})
    }

    #[test]
    fn the_subset_parses_names_quoted_keys_wildcards_indexes_and_filters() {
        assert_eq!(
            parse_path("$.paths['/jobs/{id}'].get").expect("parses"),
            vec![Step::Key("paths".into()), Step::Key("/jobs/{id}".into()), Step::Key("get".into())]
        );
        assert_eq!(
            parse_path(r#"$["a'b"][*].*[2]"#).expect("parses"),
            vec![Step::Key("a'b".into()), Step::Wildcard, Step::Wildcard, Step::Index(2)]
        );
        assert_eq!(
            parse_path("$.paths.*[?(@.operationId == 'list_jobs')]").expect("parses"),
            vec![Step::Key("paths".into()), Step::Wildcard, Step::Filter("operationId".into(), "list_jobs".into())]
        );
        assert_eq!(parse_path("$").expect("the root"), vec![]);
        for bad in ["paths", "$.", "$['x'", "$[?(@.a>1)]", "$..a", "$[x]"] {
            assert!(parse_path(bad).is_err(), "{bad} is outside the subset");
        }
    }

    #[test]
    fn update_merges_objects_appends_arrays_and_replaces_scalars() {
        let mut s = spec();
        let o = overlay(json!([
            {"target": "$.paths['/jobs/{id}'].get", "update": {"x-cli": {"command": "jobs get"}, "tags": ["more"], "operationId": "get_job2"}},
            {"target": "$.paths['/jobs/{id}'].get", "update": {"x-cli": {"extra": true}}},
            {"target": "$.paths['/jobs/{id}'].get.tags", "update": "last"},
        ]));
        apply(&mut s, &o).expect("applies");
        let op = &s["paths"]["/jobs/{id}"]["get"];
        assert_eq!(op["x-cli"], json!({"command": "jobs get", "extra": true}));
        assert_eq!(op["tags"], json!(["jobs", "more", "last"]));
        assert_eq!(op["operationId"], "get_job2");
    }

    #[test]
    fn a_filter_targets_an_operation_by_id_wherever_its_path_is() {
        let mut s = spec();
        let o = overlay(
            json!([{"target": "$.paths.*[?(@.operationId=='close_job')]", "update": {"x-mcp": {"tool": "t"}}}]),
        );
        apply(&mut s, &o).expect("applies");
        assert_eq!(s["paths"]["/jobs/{id}"]["delete"]["x-mcp"]["tool"], "t");
        assert!(s["paths"]["/jobs/{id}"]["get"].get("x-mcp").is_none());
    }

    #[test]
    fn remove_deletes_members_and_items() {
        let mut s = spec();
        let o = overlay(json!([
            {"target": "$.components.schemas.Old", "remove": true},
            {"target": "$.paths.*.*.tags[0]", "remove": true},
        ]));
        apply(&mut s, &o).expect("applies");
        assert!(s["components"]["schemas"].get("Old").is_none());
        assert_eq!(s["paths"]["/jobs/{id}"]["get"]["tags"], json!([]));
    }

    #[test]
    fn an_action_that_matches_nothing_fails_naming_index_target_and_description() {
        let mut s = spec();
        let o = overlay(json!([
            {"target": "$.paths['/jobs'].get", "update": {"x-cli": {"command": "jobs list"}}},
            {"target": "$.paths['/gone'].post", "description": "create_gone", "update": {"x-mcp": {}}},
            {"target": "$.components.schemas.Missing", "remove": true},
        ]));
        let err = apply(&mut s, &o).expect_err("dead actions");
        assert!(
            err.contains(r#"action 1 ($.paths['/gone'].post, "create_gone"): the target matches nothing"#),
            "{err}"
        );
        assert!(err.contains("action 2 ($.components.schemas.Missing)"), "{err}");
        assert!(!err.contains("action 0"), "{err}");
        assert_eq!(dead_actions(&spec(), &o).expect("an overlay").len(), 2);
    }

    #[test]
    fn a_document_that_is_not_an_overlay_is_refused() {
        let err = apply(&mut spec(), &json!({"actions": []})).expect_err("no version");
        assert!(err.contains("overlay: 1.0.0"), "{err}");
    }
}
