//! `diff OLD NEW`: what a new version of the API spec changes for a client.
//!
//! Operations are matched by `operationId`; fields are compared recursively through `$ref`,
//! `allOf` (merged), `oneOf`/`anyOf` (alternative by alternative), array items and map values.
//! Each change is BREAKING or additive from a client's side: code written against a client
//! generated from OLD (or an old build of it) talking to a server that follows NEW.
//!
//! | change | request side (parameters, body) | response side |
//! |---|---|---|
//! | operation removed, or moved to another method/path | BREAKING | |
//! | operation added | additive | |
//! | parameter or field removed | BREAKING (callers set it) | BREAKING (callers read it) |
//! | parameter or field added | BREAKING if required, else additive | additive |
//! | became required | BREAKING | additive |
//! | became optional | additive | BREAKING (may be absent now) |
//! | type changed (`integer` -> `number` too) | BREAKING | BREAKING |
//! | may now be null | additive | BREAKING |
//! | no longer accepts null | BREAKING | additive |
//! | enum value added | additive | additive (open enums keep unknown values) |
//! | enum value removed | BREAKING | BREAKING (code naming the variant stops compiling) |
//! | `oneOf`/`anyOf` alternatives added or removed | BREAKING | BREAKING |
//! | request body became required / was removed | BREAKING | |
//! | success (2xx) status added | | BREAKING (a client built from OLD calls it undescribed) |
//! | error status added, any status removed | | additive |
//! | response body removed | | BREAKING |
//!
//! Besides the API changes it reports our side: overlay actions whose target no longer matches
//! NEW (the build would fail on them), and operations of NEW that have neither an MCP tool
//! (`x-mcp`) nor an official CLI command (`x-cli`) once the overlay is applied.

use std::collections::BTreeSet;

use opentrain_codegen::{METHODS, overlay};
use serde_json::Value;

/// How a change affects a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Existing callers or an old client can break.
    Breaking,
    /// Nothing that works today stops working.
    Additive,
}

/// One difference between the two specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Breaking or additive.
    pub impact: Impact,
    /// The operation it concerns (`operationId`).
    pub operation: String,
    /// What changed, e.g. "response 200: field `job.budget` removed".
    pub what: String,
}

/// Everything `diff` found.
#[derive(Debug, Default)]
pub struct Report {
    /// API changes, in operation order.
    pub changes: Vec<Change>,
    /// Overlay actions that select nothing in NEW, by name and reason.
    pub dead_actions: Vec<String>,
    /// Operations of NEW with no `x-mcp` and no `x-cli` after the overlay: (id, is new).
    pub homeless: Vec<(String, bool)>,
}

impl Report {
    /// Whether any change is breaking.
    pub fn breaking(&self) -> bool {
        self.changes.iter().any(|c| c.impact == Impact::Breaking)
    }

    /// The report as text, one finding a line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let tag = match c.impact {
                Impact::Breaking => "BREAKING",
                Impact::Additive => "additive",
            };
            out.push_str(&format!("{tag}  {}: {}\n", c.operation, c.what));
        }
        let breaking = self.changes.iter().filter(|c| c.impact == Impact::Breaking).count();
        out.push_str(&format!("{breaking} breaking, {} additive\n", self.changes.len() - breaking));
        if !self.dead_actions.is_empty() {
            out.push_str("overlay actions that no longer match NEW (the build fails on them):\n");
            for d in &self.dead_actions {
                out.push_str(&format!("  {d}\n"));
            }
        }
        if !self.homeless.is_empty() {
            out.push_str("operations of NEW with no MCP tool (x-mcp) and no CLI command (x-cli):\n");
            for (id, new) in &self.homeless {
                out.push_str(&format!("  {id}{}\n", if *new { " (new)" } else { "" }));
            }
        }
        out
    }
}

/// Compares `old` and `new` (API descriptions without our overlay); with `layer`, also checks
/// the overlay against NEW.
pub fn diff(old: &Value, new: &Value, layer: Option<&Value>) -> Result<Report, String> {
    let mut report = Report::default();
    let old_ops = operations(old);
    let new_ops = operations(new);
    for (id, (path, method)) in &old_ops {
        match new_ops.iter().find(|(n, _)| n == id) {
            None => report.push(Impact::Breaking, id, format!("operation removed ({} {path})", method.to_uppercase())),
            Some((_, (np, nm))) if (np, nm) != (path, method) => report.push(
                Impact::Breaking,
                id,
                format!("operation moved from {} {path} to {} {np}", method.to_uppercase(), nm.to_uppercase()),
            ),
            Some(_) => {}
        }
    }
    for (id, (path, method)) in &new_ops {
        match old_ops.iter().find(|(o, _)| o == id) {
            None => report.push(Impact::Additive, id, format!("operation added ({} {path})", method.to_uppercase())),
            Some((_, (op, om))) => {
                let mut cmp = Compare { old, new, id, changes: Vec::new(), seen: BTreeSet::new() };
                cmp.operation(&old["paths"][op][om], &new["paths"][path][method]);
                report.changes.extend(cmp.changes);
            }
        }
    }
    if let Some(layer) = layer {
        report.dead_actions = overlay::dead_actions(new, layer)?;
        let old_ids: BTreeSet<&String> = old_ops.iter().map(|(id, _)| id).collect();
        let applied = apply_live(new, layer)?;
        for (id, (path, method)) in &new_ops {
            let op = &applied["paths"][path][method];
            if op.get("x-mcp").is_none() && op.get("x-cli").is_none() {
                report.homeless.push((id.clone(), !old_ids.contains(id)));
            }
        }
    }
    Ok(report)
}

/// `spec` with every overlay action that still matches applied.
fn apply_live(spec: &Value, layer: &Value) -> Result<Value, String> {
    let mut spec = spec.clone();
    for action in overlay::actions(layer)? {
        // A dead action is reported on its own; the others still say where operations live.
        let _ = overlay::apply_action(&mut spec, action);
    }
    Ok(spec)
}

impl Report {
    fn push(&mut self, impact: Impact, id: &str, what: String) {
        self.changes.push(Change { impact, operation: id.to_string(), what });
    }
}

/// (operationId, (path, method)) of every operation, in path order; an operation without an id
/// is named `METHOD path`.
fn operations(spec: &Value) -> Vec<(String, (String, String))> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                let id = op["operationId"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| format!("{} {path}", m.to_uppercase()));
                ops.push((id, (path.clone(), m.to_string())));
            }
        }
    }
    ops
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

struct Compare<'a> {
    old: &'a Value,
    new: &'a Value,
    id: &'a str,
    changes: Vec<Change>,
    /// ($ref in OLD, $ref in NEW, is request) pairs being compared: recursive schemas end.
    seen: BTreeSet<(String, String, bool)>,
}

fn resolve<'v>(spec: &'v Value, v: &'v Value) -> &'v Value {
    let mut v = v;
    for _ in 0..16 {
        match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match spec.pointer(pointer) {
                Some(target) => v = target,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

fn strs(v: &Value) -> BTreeSet<String> {
    v.as_array().into_iter().flatten().map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string())).collect()
}

impl Compare<'_> {
    fn push(&mut self, impact: Impact, what: String) {
        self.changes.push(Change { impact, operation: self.id.to_string(), what });
    }

    fn operation(&mut self, o: &Value, n: &Value) {
        self.parameters(o, n);
        self.request_body(o, n);
        self.responses(o, n);
    }

    fn params(&self, spec: &Value, op: &Value) -> Vec<(String, Value)> {
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(spec, p).clone())
            .map(|p| {
                (format!("{} parameter `{}`", p["in"].as_str().unwrap_or("?"), p["name"].as_str().unwrap_or("?")), p)
            })
            .collect()
    }

    fn parameters(&mut self, o: &Value, n: &Value) {
        let (old, new) = (self.params(self.old, o), self.params(self.new, n));
        for (name, _) in &old {
            if !new.iter().any(|(k, _)| k == name) {
                self.push(Impact::Breaking, format!("{name} removed"));
            }
        }
        for (name, np) in &new {
            let required = np["required"] == Value::Bool(true);
            match old.iter().find(|(k, _)| k == name) {
                None if required => self.push(Impact::Breaking, format!("{name} added, required")),
                None => self.push(Impact::Additive, format!("{name} added, optional")),
                Some((_, op)) => {
                    let was = op["required"] == Value::Bool(true);
                    if was != required {
                        let (impact, now) =
                            if required { (Impact::Breaking, "required") } else { (Impact::Additive, "optional") };
                        self.push(impact, format!("{name} became {now}"));
                    }
                    self.schema(&name.clone(), &op["schema"], &np["schema"], Side::Request);
                }
            }
        }
    }

    fn body<'v>(spec: &'v Value, op: &'v Value) -> Option<(&'v Value, &'v Value)> {
        let rb = resolve(spec, op.get("requestBody")?);
        let media = rb["content"].get("application/json").or_else(|| rb["content"].as_object()?.values().next())?;
        Some((rb, &media["schema"]))
    }

    fn request_body(&mut self, o: &Value, n: &Value) {
        match (Self::body(self.old, o), Self::body(self.new, n)) {
            (Some(_), None) => self.push(Impact::Breaking, "request body removed".into()),
            (None, Some((rb, _))) => {
                let impact = if rb["required"] == Value::Bool(true) { Impact::Breaking } else { Impact::Additive };
                self.push(impact, "request body added".into());
            }
            (Some((orb, os)), Some((nrb, ns))) => {
                if orb["required"] != Value::Bool(true) && nrb["required"] == Value::Bool(true) {
                    self.push(Impact::Breaking, "request body became required".into());
                }
                self.schema("request body", os, ns, Side::Request);
            }
            (None, None) => {}
        }
    }

    fn responses(&mut self, o: &Value, n: &Value) {
        let empty = serde_json::Map::new();
        let or = o["responses"].as_object().unwrap_or(&empty);
        let nr = n["responses"].as_object().unwrap_or(&empty);
        for status in or.keys().filter(|s| !nr.contains_key(*s)) {
            self.push(Impact::Additive, format!("response {status} removed"));
        }
        for (status, nresp) in nr {
            let Some(oresp) = or.get(status) else {
                let impact = if status.starts_with('2') { Impact::Breaking } else { Impact::Additive };
                self.push(impact, format!("response {status} added"));
                continue;
            };
            let schema = |spec: &Value, r: &Value| -> Option<Value> {
                let r = resolve(spec, r);
                let media =
                    r["content"].get("application/json").or_else(|| r["content"].as_object()?.values().next())?;
                Some(media["schema"].clone())
            };
            match (schema(self.old, oresp), schema(self.new, nresp)) {
                (Some(_), None) => self.push(Impact::Breaking, format!("response {status}: body removed")),
                (None, Some(_)) => self.push(Impact::Additive, format!("response {status}: body added")),
                (Some(os), Some(ns)) => self.schema(&format!("response {status}"), &os, &ns, Side::Response),
                (None, None) => {}
            }
        }
    }

    /// Compares two schemas at `at` ("response 200", "request body", "query parameter `x`"),
    /// field paths inside named like `job.milestones[].amount`.
    fn schema(&mut self, at: &str, o: &Value, n: &Value, side: Side) {
        self.walk(at, "", o, n, side);
    }

    fn walk(&mut self, at: &str, field: &str, o: &Value, n: &Value, side: Side) {
        // Only the schemas being compared further up stop the walk (recursion), so a shared
        // schema's change shows at every place it is used.
        let pair = match (o["$ref"].as_str(), n["$ref"].as_str()) {
            (Some(or), Some(nr)) => Some((or.to_string(), nr.to_string(), side == Side::Request)),
            _ => None,
        };
        if let Some(pair) = &pair
            && !self.seen.insert(pair.clone())
        {
            return;
        }
        self.compare(at, field, o, n, side);
        if let Some(pair) = &pair {
            self.seen.remove(pair);
        }
    }

    fn compare(&mut self, at: &str, field: &str, o: &Value, n: &Value, side: Side) {
        let (o, n) = (flatten(self.old, o), flatten(self.new, n));
        let place = if field.is_empty() { at.to_string() } else { format!("{at}: field `{field}`") };
        let req = side == Side::Request;

        let (ot, nt) = (kind(&o), kind(&n));
        if !ot.is_empty() && !nt.is_empty() && ot != nt {
            self.push(Impact::Breaking, format!("{place} retyped from {ot} to {nt}"));
            return;
        }
        let (on, nn) = (o["nullable"] == Value::Bool(true), n["nullable"] == Value::Bool(true));
        if !on && nn {
            let impact = if req { Impact::Additive } else { Impact::Breaking };
            self.push(impact, format!("{place} may now be null"));
        } else if on && !nn {
            let impact = if req { Impact::Breaking } else { Impact::Additive };
            self.push(impact, format!("{place} no longer accepts null"));
        }

        let (oe, ne) = (strs(&o["enum"]), strs(&n["enum"]));
        if o.get("enum").is_some() && n.get("enum").is_some() {
            for v in oe.difference(&ne) {
                self.push(Impact::Breaking, format!("{place}: enum value `{v}` removed"));
            }
            for v in ne.difference(&oe) {
                self.push(Impact::Additive, format!("{place}: enum value `{v}` added"));
            }
        }

        let empty = serde_json::Map::new();
        let op = o["properties"].as_object().unwrap_or(&empty);
        let np = n["properties"].as_object().unwrap_or(&empty);
        let (oreq, nreq) = (strs(&o["required"]), strs(&n["required"]));
        let sub = |name: &str| if field.is_empty() { name.to_string() } else { format!("{field}.{name}") };
        for name in op.keys().filter(|k| !np.contains_key(*k)) {
            self.push(Impact::Breaking, format!("{at}: field `{}` removed", sub(name)));
        }
        for (name, ns) in np {
            let f = sub(name);
            let required = nreq.contains(name);
            let Some(os) = op.get(name) else {
                let impact = if req && required { Impact::Breaking } else { Impact::Additive };
                let what = if required { "added, required" } else { "added" };
                self.push(impact, format!("{at}: field `{f}` {what}"));
                continue;
            };
            let was = oreq.contains(name);
            if was != required {
                let breaking = if req { required } else { !required };
                let impact = if breaking { Impact::Breaking } else { Impact::Additive };
                let now = if required { "required" } else { "optional" };
                self.push(impact, format!("{at}: field `{f}` became {now}"));
            }
            self.walk(at, &f, os, ns, side);
        }

        if o.get("items").is_some() && n.get("items").is_some() {
            self.walk(at, &format!("{field}[]"), &o["items"], &n["items"], side);
        }
        if o["additionalProperties"].is_object() && n["additionalProperties"].is_object() {
            self.walk(at, &format!("{field}{{*}}"), &o["additionalProperties"], &n["additionalProperties"], side);
        }
        for key in ["oneOf", "anyOf"] {
            let (oa, na) = (o[key].as_array(), n[key].as_array());
            match (oa, na) {
                (Some(oa), Some(na)) if oa.len() == na.len() => {
                    for (i, (ov, nv)) in oa.iter().zip(na).enumerate() {
                        self.walk(at, &format!("{field}<{key} {i}>"), ov, nv, side);
                    }
                }
                (None, None) => {}
                (oa, na) => self.push(
                    Impact::Breaking,
                    format!(
                        "{place}: {key} alternatives changed ({} -> {})",
                        oa.map_or(0, Vec::len),
                        na.map_or(0, Vec::len)
                    ),
                ),
            }
        }
    }
}

/// The schema with `$ref`s followed and `allOf` members merged into one object schema.
fn flatten(spec: &Value, schema: &Value) -> Value {
    let s = resolve(spec, schema);
    let Some(all) = s["allOf"].as_array() else { return s.clone() };
    let mut merged = s.clone();
    if let Some(m) = merged.as_object_mut() {
        m.remove("allOf");
    }
    for member in all {
        let member = flatten(spec, member);
        for (k, v) in member.as_object().into_iter().flatten() {
            match (k.as_str(), merged.get_mut(k)) {
                ("properties", Some(Value::Object(p))) => {
                    p.extend(v.as_object().into_iter().flatten().map(|(a, b)| (a.clone(), b.clone())))
                }
                ("required", Some(Value::Array(r))) => r.extend(v.as_array().into_iter().flatten().cloned()),
                (_, Some(_)) => {}
                (_, None) => {
                    merged[k] = v.clone();
                }
            }
        }
    }
    merged
}

/// The JSON type a schema describes: its `type`, `object` when it only lists properties, else
/// empty (open).
fn kind(s: &Value) -> String {
    match s["type"].as_str() {
        Some(t) => t.to_string(),
        None if s.get("properties").is_some() => "object".into(),
        None => String::new(),
    }
}
