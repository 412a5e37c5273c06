//! Generates everything spec-derived from `openapi.yaml` into `OUT_DIR`: the typed client
//! (`codegen.rs`), the operation table (`meta.rs`), the raw client with dispatch by operation id
//! (`raw.rs`, see build/raw.rs) and the MCP tool table (`tools.rs`, see build/tools.rs).
//!
//! The spec is the single source of truth: edit it, `cargo build`, and everything is regenerated.
//! Before handing the spec to progenitor we adjust two things it cannot express:
//! named string enums become "open" enums (an unknown value the server adds later must not fail
//! the whole response), and every operation is checked against the layouts progenitor is known to
//! accept, so a bad edit fails with the operation's method and path instead of a bare panic.

use std::{env, fs, path::Path};

use serde_json::Value;

#[path = "build/raw.rs"]
mod raw;
#[path = "build/tools.rs"]
mod tools;

const SPEC: &str = "openapi.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    if let Err(msg) = run() {
        // A build script reports through its exit status; the message names what to fix.
        eprintln!("error: {SPEC}: {msg}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let text = fs::read_to_string(SPEC).map_err(|e| format!("cannot read: {e}"))?;
    let mut spec: Value = serde_norway::from_str(&text).map_err(|e| format!("invalid YAML: {e}"))?;
    check_operations(&spec)?;
    // The tool table reads the spec as written (limits and enums intact).
    let written = spec.clone();
    let open_enums = open_enums(&mut spec);
    plain_strings(&mut spec);

    let mut settings = base_settings()?;
    settings.with_derive("PartialEq");
    // `x-rust-type-replace` maps a schema onto a hand-written type (secrets onto `Token`, whose
    // Debug never shows the value).
    for (name, path) in replacements(&spec) {
        settings.with_replacement(name, path, std::iter::empty());
    }
    for name in &open_enums {
        settings.with_replacement(
            name,
            format!("crate::generated::types::{name}"),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }

    let mut code = unparse(&settings, &spec)?;
    // Replaced schemas get no item in `types`; an alias keeps `types::JobStatus` nameable.
    let aliases: String = open_enums
        .iter()
        .map(|n| format!("\n    /// `{n}`: known values typed, values added later kept as strings.\n    pub type {n} = crate::OpenEnum<{n}Known>;"))
        .collect();
    let at = code.find("pub mod types {").ok_or("generated code has no `types` module")? + "pub mod types {".len();
    code.insert_str(at, &aliases);
    let out = env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    fs::write(Path::new(&out).join("codegen.rs"), code).map_err(|e| format!("write codegen.rs: {e}"))?;
    let meta_rs = meta(&spec) + &request_fields(&written);
    fs::write(Path::new(&out).join("meta.rs"), meta_rs).map_err(|e| format!("write meta.rs: {e}"))?;

    // The raw client shares the typed client's error types, so both go through one error path.
    let raw_spec = raw::raw_spec(&written);
    let mut raw_settings = base_settings()?;
    for name in ["Error", "ErrorDetails", "OAuthError"] {
        raw_settings.with_replacement(name, format!("crate::generated::types::{name}"), std::iter::empty());
    }
    let raw_code = unparse(&raw_settings, &raw_spec)? + &raw::dispatch(&written);
    fs::write(Path::new(&out).join("raw.rs"), raw_code).map_err(|e| format!("write raw.rs: {e}"))?;

    let table = tools::tools(&written)?;
    fs::write(Path::new(&out).join("tools.rs"), tools::render(&table)).map_err(|e| format!("write tools.rs: {e}"))?;
    Ok(())
}

/// Builder-style methods on one `Client`, carrying our `Inner` for the hooks.
fn base_settings() -> Result<progenitor::GenerationSettings, String> {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote_path("crate::Inner")?);
    Ok(settings)
}

/// Generates and formats the code for `spec`, naming the operations at fault on failure.
fn unparse(settings: &progenitor::GenerationSettings, spec: &Value) -> Result<String, String> {
    let parsed: openapiv3::OpenAPI =
        serde_json::from_value(spec.clone()).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let tokens = generate(settings, &parsed).map_err(|e| locate_failure(settings, spec, &e))?;
    let file = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}

fn quote_path(p: &str) -> Result<proc_macro2::TokenStream, String> {
    p.parse().map_err(|e| format!("{p}: {e}"))
}

/// Runs progenitor, turning its panics (it asserts on some legal layouts) into errors.
fn generate(
    settings: &progenitor::GenerationSettings,
    spec: &openapiv3::OpenAPI,
) -> Result<proc_macro2::TokenStream, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| progenitor::Generator::new(settings).generate_tokens(spec));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "progenitor panicked".into())),
    }
}

/// When the whole spec fails, generate each operation alone to name the ones at fault.
fn locate_failure(settings: &progenitor::GenerationSettings, spec: &Value, whole: &str) -> String {
    let mut culprits = Vec::new();
    for (path, method) in operations(spec) {
        let mut one = spec.clone();
        let mut item = serde_json::Map::new();
        item.insert(method.clone(), spec["paths"][&path][&method].clone());
        one["paths"] = Value::Object([(path.clone(), Value::Object(item))].into_iter().collect());
        let ok = serde_json::from_value::<openapiv3::OpenAPI>(one)
            .map_err(|e| e.to_string())
            .and_then(|s| generate(settings, &s).map(|_| ()));
        if let Err(e) = ok {
            culprits.push(format!("{} {path}: {e}", method.to_uppercase()));
        }
    }
    if culprits.is_empty() {
        format!("code generation failed: {whole}")
    } else {
        format!("code generation failed for:\n  {}", culprits.join("\n  "))
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn operations(spec: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    if let Some(paths) = spec["paths"].as_object() {
        for (path, item) in paths {
            for m in METHODS {
                if item.get(m).is_some() {
                    ops.push((path.clone(), m.to_string()));
                }
            }
        }
    }
    ops
}

/// Checks the layout rules progenitor needs, naming the operation that breaks one.
fn check_operations(spec: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    for (path, method) in operations(spec) {
        let op = &spec["paths"][&path][&method];
        let at = format!("{} {path}", method.to_uppercase());
        if op["operationId"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{at}: missing operationId"));
        }
        let Some(responses) = op["responses"].as_object() else {
            problems.push(format!("{at}: no responses"));
            continue;
        };
        let body_schema = |r: &Value| resolve(spec, r)["content"]["application/json"]["schema"].to_string();
        let success: Vec<String> =
            responses.iter().filter(|(code, _)| code.starts_with('2')).map(|(_, r)| body_schema(r)).collect();
        if success.iter().any(|s| *s != success[0]) {
            problems
                .push(format!("{at}: its 2xx responses have different schemas; point them at one named oneOf schema"));
        }
        let errors: Vec<String> =
            responses.iter().filter(|(code, _)| !code.starts_with('2')).map(|(_, r)| body_schema(r)).collect();
        if errors.iter().any(|s| *s != errors[0]) {
            problems.push(format!("{at}: its error responses have different schemas; use one error schema"));
        }
        if let Some(content) = op["requestBody"]["content"].as_object()
            && content.len() != 1
        {
            problems.push(format!("{at}: the request body must have exactly one media type"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n  ")) }
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(pointer) => spec.pointer(&format!("/{pointer}")).unwrap_or(v),
        None => v,
    }
}

/// Emits the operation table the hand-written layer and the faces share.
fn meta(spec: &Value) -> String {
    let mut rows = String::new();
    let mut tokenless = String::new();
    let mut variants = String::new();
    let mut ids = String::new();
    let mut all = String::new();
    for (path, method) in operations(spec) {
        let op = &spec["paths"][&path][&method];
        let id = op["operationId"].as_str().unwrap_or_default();
        let tag = op["tags"][0].as_str().unwrap_or_default();
        // `security: []` on the operation means no token is sent.
        let no_auth = op["security"].as_array().is_some_and(Vec::is_empty);
        let cli = match op["x-cli"]["command"].as_str() {
            Some(c) => format!("Some({c:?})"),
            None => "None".into(),
        };
        let summary = op["summary"].as_str().unwrap_or_default();
        let description = op["description"].as_str().unwrap_or_default();
        rows.push_str(&format!(
            "    Operation {{ id: {id:?}, method: {:?}, path: {path:?}, tag: {tag:?}, tokenless: {no_auth}, \
             cli: {cli}, summary: {summary:?}, description: {description:?} }},\n",
            method.to_uppercase()
        ));
        if no_auth {
            tokenless.push_str(&format!("{id:?}, "));
        }
        let variant: String = id
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect();
        variants.push_str(&format!("    /// `{id}`\n    {variant},\n"));
        ids.push_str(&format!("            OperationId::{variant} => {id:?},\n"));
        all.push_str(&format!("OperationId::{variant}, "));
    }
    format!(
        "/// Every operation in the spec.\npub const OPERATIONS: &[Operation] = &[\n{rows}];\n\
         /// Operations sent without a token.\npub const TOKENLESS_OPERATIONS: &[&str] = &[{tokenless}];\n\
         /// One variant per operation: an exhaustive `match` on it fails to compile when the spec\n\
         /// gains an operation, so every face must decide where the new one lives.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum OperationId {{\n{variants}}}\n\
         impl OperationId {{\n    /// Every operation, in spec order.\n    pub const ALL: &[OperationId] = &[{all}];\n    /// The `operationId`.\n    pub fn id(self) -> &'static str {{\n        match self {{\n{ids}        }}\n    }}\n}}\n"
    )
}

/// Emits the top-level fields of every JSON or form request body with their JSON type, so a face
/// can check user input (the CLI's `--set key=value`) against the spec as written.
fn request_fields(spec: &Value) -> String {
    let mut rows = String::new();
    for (path, method) in operations(spec) {
        let op = &spec["paths"][&path][&method];
        let Some(content) = op["requestBody"]["content"].as_object() else { continue };
        let Some(schema) = content.values().next().map(|m| resolve(spec, &m["schema"])) else { continue };
        let fields: String = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, s)| {
                let s = resolve(spec, s);
                let ty = s["type"].as_str().unwrap_or(if s.get("enum").is_some() { "string" } else { "" });
                format!("({name:?}, {ty:?}), ")
            })
            .collect();
        rows.push_str(&format!("    ({:?}, &[{fields}]),\n", op["operationId"].as_str().unwrap_or_default()));
    }
    format!(
        "/// Top-level request-body fields of each operation that takes a body, as (field, JSON type);\n\
         /// the type is empty where the spec leaves it open.\n\
         pub const REQUEST_FIELDS: &[(&str, &[(&str, &str)])] = &[\n{rows}];\n"
    )
}

fn replacements(spec: &Value) -> Vec<(String, String)> {
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .filter_map(|(n, s)| Some((n.clone(), s.get("x-rust-type-replace")?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Drops length and pattern limits from string schemas before generation. typify would turn each
/// limited string into its own newtype, so `Some("text".into())` stops compiling; the server and
/// the MCP/CLI argument checks (which read the spec as written) still enforce the limits.
fn plain_strings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("type").and_then(Value::as_str) == Some("string") && !m.contains_key("enum") {
                for k in ["maxLength", "minLength", "pattern"] {
                    m.remove(k);
                }
            }
            m.values_mut().for_each(plain_strings);
        }
        Value::Array(a) => a.iter_mut().for_each(plain_strings),
        _ => {}
    }
}

/// Renames each named string enum `X` to `XKnown` and returns the names, so the generated `X` is
/// `OpenEnum<XKnown>`: known values stay typed and unknown ones are kept as strings.
fn open_enums(spec: &mut Value) -> Vec<String> {
    let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    let names: Vec<String> = schemas
        .iter()
        .filter(|(_, s)| s.get("enum").is_some() && s["type"] == "string")
        .map(|(n, _)| n.clone())
        .collect();
    for name in &names {
        let mut known = schemas[name].clone();
        if let Some(obj) = known.as_object_mut() {
            obj.remove("nullable");
        }
        schemas.insert(format!("{name}Known"), known);
    }
    names
}
