//! The code generator behind `build.rs`: everything spec-derived, written into `OUT_DIR`.
//!
//! From `openapi.yaml` with `openapi.overlay.yaml` applied ([`load_spec`]) it writes the typed client (`codegen.rs`), the operation table
//! (`meta.rs`), the raw client with dispatch by operation id (`raw.rs`, see [`raw`]), the MCP tool
//! table (`tools.rs`, see [`tools`]) and, for `opentrain-httpmock`, typed mocks (`httpmock.rs`).
//!
//! The spec is the single source of truth: edit it, `cargo build`, and everything is regenerated.
//! Before handing the spec to progenitor we adjust what it cannot express:
//! named string enums become "open" enums (an unknown value the server adds later must not fail
//! the whole response), and every operation is checked against the layouts progenitor is known to
//! accept, so a bad edit fails with the operation's method and path instead of a bare panic.
//! Being a library (not a `build.rs` module), all of it is unit-tested like any other code.

#![forbid(unsafe_code)]

use std::{fs, path::Path};

use quote::ToTokens;
use serde_json::Value;

pub mod docs;
pub mod overlay;
pub mod raw;
pub mod requires;
pub mod tools;

/// Reads an OpenAPI or Overlay document from `path`, as JSON when the name ends in `.json` or the
/// text starts with `{` (the served `openapi.json` can replace `openapi.yaml` as is), else as YAML.
pub fn read_spec(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let is_json =
        path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) || text.trim_start().starts_with('{');
    if is_json {
        serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))
    } else {
        serde_norway::from_str(&text).map_err(|e| format!("{}: invalid YAML: {e}", path.display()))
    }
}

/// The spec every generator and every reader of our metadata works from: the API description at
/// `spec_path` (YAML or JSON) with the overlay at `overlay_path` (our `x-mcp`, `x-cli`, `x-rust-*`
/// and other `x-` keys, see [`overlay`]) applied. Fails naming every overlay action whose target
/// no longer matches the spec.
pub fn load_spec(spec_path: &Path, overlay_path: &Path) -> Result<Value, String> {
    let mut spec = read_spec(spec_path)?;
    let layer = read_spec(overlay_path)?;
    overlay::apply(&mut spec, &layer).map_err(|e| format!("{}: {e}", overlay_path.display()))?;
    Ok(spec)
}

/// The spec as the typed client is generated from it, with the names of its open enums.
pub struct Prepared {
    /// The spec after the adjustments (open enums renamed, string limits dropped).
    pub spec: Value,
    /// The spec as written (limits and enums intact), for the tool table and the faces' checks.
    pub written: Value,
    /// Named string enums, each generated as `OpenEnum<NameKnown>`.
    pub open_enums: Vec<String>,
}

/// Checks the spec's operations and applies the adjustments the typed client needs.
pub fn prepare(spec: Value) -> Result<Prepared, String> {
    check_operations(&spec)?;
    let written = spec.clone();
    let mut spec = spec;
    let open_enums = open_enums(&mut spec);
    plain_strings(&mut spec);
    nullable_refs(&mut spec);
    open_objects(&mut spec);
    Ok(Prepared { spec, written, open_enums })
}

/// The typed client's generation settings: our `Inner`, derives, and type replacements.
fn typed_settings(p: &Prepared) -> Result<progenitor::GenerationSettings, String> {
    let mut settings = base_settings()?;
    settings.with_derive("PartialEq");
    // `x-rust-type-replace` maps a schema onto a hand-written type (secrets onto `Token`, whose
    // Debug never shows the value).
    for (name, path) in replacements(&p.spec) {
        settings.with_replacement(name, path, std::iter::empty());
    }
    for name in &p.open_enums {
        settings.with_replacement(
            name,
            format!("crate::generated::types::{name}"),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    Ok(settings)
}

/// Writes the SDK's generated files into `out`: `codegen.rs`, `meta.rs`, `raw.rs`, `tools.rs`,
/// `requires.rs` (see [`requires`]).
pub fn generate_sdk(spec: Value, out: &Path) -> Result<(), String> {
    let mut p = prepare(spec)?;
    // The typed result is `Option<T>`: a body-less success of such an operation reads as `null`,
    // i.e. `None` ("done, no body"), so a 204 is neither an error nor a made-up body.
    optional_bodies(&mut p.spec, true);
    covered_codes(&mut p.spec);
    let settings = typed_settings(&p)?;
    let mut file = unparse_file(&settings, &p.spec)?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut OpenObjectDefaults, &mut file);
    docs::document(&mut file, &p.spec);
    docs::escape_file(&mut file);
    // Replaced schemas get no item in `types`; an alias keeps `types::JobStatus` nameable.
    add_to_module(&mut file, "types", &open_enum_aliases(&p.open_enums))?;
    write(out, "codegen.rs", prettyplease::unparse(&file))?;
    write(out, "meta.rs", meta(&p.spec) + &request_fields(&p.written) + &body_optional(&p.written))?;

    // The raw client shares the typed client's error types, so both go through one error path.
    let mut raw_spec = raw::raw_spec(&p.written);
    optional_bodies(&mut raw_spec, false);
    covered_codes(&mut raw_spec);
    let mut raw_settings = base_settings()?;
    for name in raw::ERROR_SCHEMAS {
        raw_settings.with_replacement(name, format!("crate::generated::types::{name}"), std::iter::empty());
    }
    let mut raw_file = unparse_file(&raw_settings, &raw_spec)?;
    docs::document(&mut raw_file, &raw_spec);
    docs::escape_file(&mut raw_file);
    let raw_code = prettyplease::unparse(&raw_file) + &raw::dispatch(&p.written);
    write(out, "raw.rs", raw_code)?;

    let table = tools::tools(&p.written)?;
    write(out, "tools.rs", tools::render(&table))?;
    write(out, "requires.rs", requires::render(&requires::table(&p.written)?)?)
}

/// Writes `httpmock.rs` into `out`: progenitor's typed httpmock helpers (a `MockServerExt`
/// method and `When`/`Then` builders per operation) for the crate at `sdk_path` (`opentrain`),
/// whose types they name. Same adjustments as the SDK, so the types match one for one.
pub fn generate_httpmock(spec: Value, sdk_path: &str, out: &Path) -> Result<(), String> {
    let mut p = prepare(spec)?;
    // A mock answers with a body or without one, so its typed answer is the body type itself.
    optional_bodies(&mut p.spec, false);
    array_queries_as_strings(&mut p.spec);
    let mut settings = base_settings()?;
    settings.with_derive("PartialEq");
    // Replacements point into the SDK from outside it.
    for (name, path) in replacements(&p.spec) {
        let path = path.strip_prefix("crate::").map(|rest| format!("::{sdk_path}::{rest}")).unwrap_or(path);
        settings.with_replacement(name, path, std::iter::empty());
    }
    for name in &p.open_enums {
        settings.with_replacement(
            name,
            format!("::{sdk_path}::types::{name}"),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    let parsed: openapiv3::OpenAPI =
        serde_json::from_value(p.spec.clone()).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let tokens = catch_panics(|| progenitor::Generator::new(&settings).httpmock(&parsed, sdk_path))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| format!("generated mocks do not parse: {e}"))?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut EscapePathValues, &mut file);
    docs::escape_file(&mut file);
    let twin = async_twin(&file)?;
    file.items.extend(twin);
    write(out, "httpmock.rs", prettyplease::unparse(&file))
}

/// progenitor's `MockServerExt` only has blocking methods (`server.mock(..)`), which must not run
/// inside an async test. This adds `MockServerExtAsync` with an `_async` twin of each, built from
/// the generated trait's own signatures so the two always agree.
fn async_twin(file: &syn::File) -> Result<Vec<syn::Item>, String> {
    let blocking = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Trait(t) if t.ident == "MockServerExt" => Some(t),
            _ => None,
        })
        .ok_or("generated mocks have no `MockServerExt` trait")?;
    let mut decls = Vec::new();
    let mut impls = Vec::new();
    for item in &blocking.items {
        let syn::TraitItem::Fn(f) = item else { continue };
        let name = syn::Ident::new(&format!("{}_async", f.sig.ident), f.sig.ident.span());
        // `where F: FnOnce(operations::XWhen, operations::XThen)`: the two wrapper types.
        let Some(syn::WherePredicate::Type(pred)) =
            f.sig.generics.where_clause.as_ref().and_then(|w| w.predicates.first())
        else {
            return Err(format!("`{}` has no `F: FnOnce(When, Then)` bound", f.sig.ident));
        };
        let Some(syn::TypeParamBound::Trait(bound)) = pred.bounds.first() else {
            return Err(format!("`{}`: unexpected bound", f.sig.ident));
        };
        let Some(syn::PathArguments::Parenthesized(args)) = bound.path.segments.last().map(|s| &s.arguments) else {
            return Err(format!("`{}`: unexpected bound", f.sig.ident));
        };
        let (Some(when), Some(then)) = (args.inputs.first(), args.inputs.get(1)) else {
            return Err(format!("`{}`: expected (When, Then)", f.sig.ident));
        };
        let doc = format!(" [`MockServerExt::{}`] for async tests.", f.sig.ident);
        decls.push(quote::quote! {
            #[doc = #doc]
            fn #name<F>(&self, config_fn: F) -> impl ::std::future::Future<Output = ::httpmock::Mock<'_>>
            where
                F: FnOnce(#when, #then);
        });
        impls.push(quote::quote! {
            fn #name<F>(&self, config_fn: F) -> impl ::std::future::Future<Output = ::httpmock::Mock<'_>>
            where
                F: FnOnce(#when, #then),
            {
                self.mock_async(move |when, then| config_fn(<#when>::new(when), <#then>::new(then)))
            }
        });
    }
    let tokens = quote::quote! {
        /// [`MockServerExt`] for async tests: `server.create_job_draft_async(|when, then| ..).await`.
        pub trait MockServerExtAsync {
            #(#decls)*
        }
        impl MockServerExtAsync for ::httpmock::MockServer {
            #(#impls)*
        }
    };
    let twin: syn::File = syn::parse2(tokens).map_err(|e| format!("async mocks do not parse: {e}"))?;
    Ok(twin.items)
}

/// Open objects (`additionalProperties: true` beside named properties) get a flattened `extra` map
/// from typify only when the permission is written `{}` ([`open_objects`]); it then also drops
/// `Default` from the struct and makes its builder demand `extra`. This puts both back: the
/// struct derives `Default` when every other field has one, and the builder starts with an empty
/// `extra`. A syntax-tree edit, like [`EscapePathValues`].
struct OpenObjectDefaults;

fn is_flattened_extra(f: &syn::Field) -> bool {
    f.ident.as_ref().is_some_and(|i| i == "extra")
        && f.attrs
            .iter()
            .any(|a| a.path().is_ident("serde") && a.meta.to_token_stream().to_string().contains("flatten"))
}

/// A field `#[derive(Default)]` can fill: an `Option`, a `Vec`, a map, or one serde defaults.
fn defaultable(f: &syn::Field) -> bool {
    let by_serde = f.attrs.iter().any(|a| {
        a.path().is_ident("serde")
            && a.meta.to_token_stream().to_string().split([' ', ',', '(']).any(|w| w == "default")
    });
    let by_type =
        match &f.ty {
            syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
                ["Option", "Vec", "HashMap", "BTreeMap", "Map"].contains(&s.ident.to_string().as_str())
            }),
            _ => false,
        };
    by_serde || by_type
}

impl syn::visit_mut::VisitMut for OpenObjectDefaults {
    fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
        let syn::Fields::Named(fields) = &s.fields else { return };
        if !fields.named.iter().any(is_flattened_extra) || !fields.named.iter().all(defaultable) {
            return;
        }
        for attr in &mut s.attrs {
            if !attr.path().is_ident("derive") {
                continue;
            }
            let Ok(list) =
                attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            else {
                continue;
            };
            if list.iter().any(|p| p.is_ident("Default")) {
                return;
            }
            let paths = list.iter();
            *attr = syn::parse_quote! { #[derive(#(#paths,)* Default)] };
            return;
        }
    }

    fn visit_field_value_mut(&mut self, fv: &mut syn::FieldValue) {
        let is_extra = matches!(&fv.member, syn::Member::Named(i) if i == "extra");
        let missing = fv.expr.to_token_stream().to_string().contains("no value supplied for extra");
        if is_extra && missing {
            fv.expr = syn::parse_quote! { Ok(Default::default()) };
        }
        syn::visit_mut::visit_field_value_mut(self, fv);
    }
}

/// Writes `additionalProperties: true` as `{}` on objects that also name properties, for the
/// generator only: typify ignores unknown keys for `true` but keeps them in a flattened `extra`
/// map for the equivalent `{}`, and objects the docs leave open must not lose keys through the
/// typed client (a patch may send keys beyond the named ones, metadata keeps what it does not
/// know). Pure maps (no properties) are already maps.
pub fn open_objects(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let has_props = m.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty());
            if has_props && m.get("additionalProperties") == Some(&Value::Bool(true)) {
                m.insert("additionalProperties".into(), Value::Object(serde_json::Map::new()));
            }
            m.values_mut().for_each(open_objects);
        }
        Value::Array(a) => a.iter_mut().for_each(open_objects),
        _ => {}
    }
}

/// progenitor's mocks match a path parameter by formatting its value into a regex unescaped, so
/// an id like `tu.1` also matches `tuX1`. This rewrites every `format!("^/...", v, ...)` (the
/// path regexes) to format `regex::escape(&v)` instead: a syntax-tree edit, not text splicing.
struct EscapePathValues;

impl syn::visit_mut::VisitMut for EscapePathValues {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let Ok(args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else { return };
        let mut args = args.into_iter();
        let Some(template) = args.next() else { return };
        let is_path_regex = matches!(&template, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if s.value().starts_with("^/"));
        if !is_path_regex {
            return;
        }
        let values = args.map(|v| quote::quote! { regex::escape(&(#v)) });
        mac.tokens = quote::quote! { #template #(, #values)* };
    }
}

/// progenitor's httpmock output calls `to_string()` on each query value, which a `Vec` lacks, so
/// an array query parameter does not compile. For the mocks only, such a parameter is described
/// by its wire form, one comma-separated string (how the SDK's raw client sends arrays).
pub fn array_queries_as_strings(spec: &mut Value) {
    let snapshot = spec.clone();
    let is_array = |schema: &Value| resolve(&snapshot, schema)["type"] == "array";
    for (path, method) in operations(&snapshot) {
        let Some(list) = spec["paths"][&path][&method].get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for param in list.iter_mut() {
            let resolved = resolve(&snapshot, param).clone();
            if resolved["in"] == "query" && is_array(&resolved["schema"]) {
                let mut inline = resolved;
                inline["schema"] = serde_json::json!({"type": "string"});
                *param = inline;
            }
        }
    }
}

fn write(out: &Path, name: &str, code: String) -> Result<(), String> {
    fs::write(out.join(name), code).map_err(|e| format!("write {name}: {e}"))
}

/// `pub type X = crate::OpenEnum<XKnown>;` for each open enum, as items.
fn open_enum_aliases(names: &[String]) -> Vec<syn::Item> {
    names
        .iter()
        .filter_map(|n| {
            let doc = format!(" `{n}`: known values typed, values added later kept as strings.");
            let ident = syn::Ident::new(n, proc_macro2::Span::call_site());
            let known = syn::Ident::new(&format!("{n}Known"), proc_macro2::Span::call_site());
            syn::parse2(quote::quote! { #[doc = #doc] pub type #ident = crate::OpenEnum<#known>; }).ok()
        })
        .collect()
}

/// Appends `items` to the inline module `name` of `file`: a structural edit, so a change in how
/// progenitor formats its output cannot break it.
fn add_to_module(file: &mut syn::File, name: &str, items: &[syn::Item]) -> Result<(), String> {
    let module = file
        .items
        .iter_mut()
        .find_map(|i| match i {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| format!("generated code has no inline `{name}` module"))?;
    module.1.extend(items.iter().cloned());
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

/// Generates the code for `spec` as a syntax tree, naming the operations at fault on failure.
fn unparse_file(settings: &progenitor::GenerationSettings, spec: &Value) -> Result<syn::File, String> {
    let parsed: openapiv3::OpenAPI =
        serde_json::from_value(spec.clone()).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let tokens = generate(settings, &parsed).map_err(|e| locate_failure(settings, spec, &e))?;
    syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))
}

fn quote_path(p: &str) -> Result<proc_macro2::TokenStream, String> {
    p.parse().map_err(|e| format!("{p}: {e}"))
}

/// Runs progenitor, turning its panics (it asserts on some legal layouts) into errors.
fn generate(
    settings: &progenitor::GenerationSettings,
    spec: &openapiv3::OpenAPI,
) -> Result<proc_macro2::TokenStream, String> {
    catch_panics(|| progenitor::Generator::new(settings).generate_tokens(spec))
}

fn catch_panics(
    f: impl FnOnce() -> Result<proc_macro2::TokenStream, progenitor::Error> + std::panic::UnwindSafe,
) -> Result<proc_macro2::TokenStream, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(f);
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

/// The HTTP methods the spec uses, in the order operations are listed.
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every (path, method) of the spec, paths in key order.
pub fn operations(spec: &Value) -> Vec<(String, String)> {
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
pub fn check_operations(spec: &Value) -> Result<(), String> {
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
        // A body-less 2xx beside typed ones is the "body may be absent" layout (`optional_bodies`).
        let success: Vec<String> = responses
            .iter()
            .filter(|(code, r)| code.starts_with('2') && resolve(spec, r).get("content").is_some())
            .map(|(_, r)| body_schema(r))
            .collect();
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

/// The `OperationId` variant of an `operationId`: `create_job_draft` -> `CreateJobDraft`.
pub fn variant(id: &str) -> String {
    id.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// Emits the operation table the hand-written layer and the faces share.
pub fn meta(spec: &Value) -> String {
    let mut rows = String::new();
    let mut tokenless = String::new();
    let mut variants = String::new();
    let mut ids = String::new();
    let mut all = String::new();
    let mut param_enums = String::new();
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
        let params: String = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| format!("{:?}, ", resolve(spec, p)["name"].as_str().unwrap_or_default()))
            .collect();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = resolve(spec, p);
            let values: String = resolve(spec, &p["schema"])["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|v| format!("{v:?}, "))
                .collect();
            if !values.is_empty() {
                param_enums.push_str(&format!(
                    "    ({:?}, {:?}, &[{values}]),\n",
                    op["operationId"].as_str().unwrap_or_default(),
                    p["name"].as_str().unwrap_or_default()
                ));
            }
        }
        rows.push_str(&format!(
            "    Operation {{ id: {id:?}, method: {:?}, path: {path:?}, tag: {tag:?}, tokenless: {no_auth}, \
             cli: {cli}, params: &[{params}], summary: {summary:?}, description: {description:?} }},\n",
            method.to_uppercase()
        ));
        if no_auth {
            tokenless.push_str(&format!("{id:?}, "));
        }
        let variant = variant(id);
        variants.push_str(&format!("    /// `{id}`\n    {variant},\n"));
        ids.push_str(&format!("            OperationId::{variant} => {id:?},\n"));
        all.push_str(&format!("OperationId::{variant}, "));
    }
    let tags: String = spec["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "({:?}, {:?}), ",
                t["name"].as_str().unwrap_or_default(),
                t["description"].as_str().unwrap_or_default()
            )
        })
        .collect();
    format!(
        "/// The spec's tags (name, description): the operation families, which are also the MCP\n\
         /// server's toolsets.\npub const TAGS: &[(&str, &str)] = &[{tags}];\n\
         /// The allowed values of every enum-typed parameter: (operationId, parameter, values).\n\
         pub const PARAM_ENUMS: &[(&str, &str, &[&str])] = &[\n{param_enums}];\n\
         /// Every operation in the spec.\npub const OPERATIONS: &[Operation] = &[\n{rows}];\n\
         /// Operations sent without a token.\npub const TOKENLESS_OPERATIONS: &[&str] = &[{tokenless}];\n\
         /// One variant per operation: an exhaustive `match` on it fails to compile when the spec\n\
         /// gains an operation, so every face must decide where the new one lives.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum OperationId {{\n{variants}}}\n\
         impl OperationId {{\n    /// Every operation, in spec order.\n    pub const ALL: &[OperationId] = &[{all}];\n    /// The `operationId`.\n    pub fn id(self) -> &'static str {{\n        match self {{\n{ids}        }}\n    }}\n\
             /// The operation with this `operationId`.\n    pub fn from_id(id: &str) -> Option<OperationId> {{\n        Self::ALL.iter().copied().find(|o| o.id() == id)\n    }}\n\
             /// Its row of [`OPERATIONS`] (same order as [`ALL`](Self::ALL)).\n    pub fn meta(self) -> &'static Operation {{\n        &OPERATIONS[self as usize]\n    }}\n}}\n"
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
pub fn plain_strings(v: &mut Value) {
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

/// The operations whose success body may be absent: a 2xx response without content beside 2xx
/// responses with a body (`'204'` next to `'200'`/`2XX`, where the docs only infer the status).
pub fn body_optional_operations(spec: &Value) -> Vec<String> {
    operations(spec)
        .into_iter()
        .filter(|(path, method)| {
            let responses = spec["paths"][path][method]["responses"].as_object();
            let success: Vec<bool> = responses
                .into_iter()
                .flatten()
                .filter(|(code, _)| code.starts_with('2'))
                .map(|(_, r)| resolve(spec, r).get("content").is_some())
                .collect();
            success.contains(&true) && success.contains(&false)
        })
        .filter_map(|(path, method)| spec["paths"][&path][&method]["operationId"].as_str().map(String::from))
        .collect()
}

/// progenitor gives an operation one success type, so "a body, or none" cannot be two responses.
/// For each [`body_optional_operations`] entry this drops the body-less 2xx responses and, when
/// `nullable`, makes the body schema "X or null" (`Option<X>`); the transport reads an empty
/// success body of these operations as `null` (`BODY_OPTIONAL`).
pub fn optional_bodies(spec: &mut Value, nullable: bool) {
    let ids = body_optional_operations(spec);
    for (path, method) in operations(spec) {
        let op = &mut spec["paths"][&path][&method];
        if !op["operationId"].as_str().is_some_and(|id| ids.iter().any(|i| i == id)) {
            continue;
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
        responses.retain(|code, r| !code.starts_with('2') || r.get("content").is_some() || r.get("$ref").is_some());
        for (code, r) in responses.iter_mut() {
            if !nullable || !code.starts_with('2') {
                continue;
            }
            if let Some(schema) = r.pointer_mut("/content/application~1json/schema") {
                let inner = schema.take();
                *schema = serde_json::json!({"allOf": [inner], "nullable": true});
            }
        }
    }
}

/// Drops a response code (`'201'`, `'404'`) that its range (`2XX`, `4XX`) already describes with
/// the same body: progenitor matches the range first, so the code would be an unreachable arm.
pub fn covered_codes(spec: &mut Value) {
    let snapshot = spec.clone();
    let body = |r: &Value| resolve(&snapshot, r).get("content").cloned();
    for (path, method) in operations(&snapshot) {
        let Some(responses) = snapshot["paths"][&path][&method]["responses"].as_object() else { continue };
        let covered: Vec<&String> = responses
            .iter()
            .filter(|(code, r)| {
                code.len() == 3
                    && code.chars().all(|c| c.is_ascii_digit())
                    && responses.get(&format!("{}XX", &code[..1])).is_some_and(|range| body(range) == body(r))
            })
            .map(|(code, _)| code)
            .collect();
        if let Some(live) = spec["paths"][&path][&method].get_mut("responses").and_then(Value::as_object_mut) {
            for code in covered {
                live.remove(code);
            }
        }
    }
}

/// `BODY_OPTIONAL`: the operations whose success body may be absent, for the transport.
fn body_optional(spec: &Value) -> String {
    let ids: String = body_optional_operations(spec).iter().map(|id| format!("{id:?}, ")).collect();
    format!(
        "/// Operations whose success body may be absent (the docs only infer their status): an empty\n\
         /// 2xx body reads as `null`: the raw client passes it on, the typed client returns `None`.\n\
         pub const BODY_OPTIONAL: &[&str] = &[{ids}];\n"
    )
}

/// Whether `v` is the spec's null branch: `{type: object, nullable: true, enum: [null]}`, the
/// OpenAPI 3.0.3 schema that accepts only null.
pub fn is_null_branch(v: &Value) -> bool {
    v.get("enum").and_then(Value::as_array).is_some_and(|e| e.len() == 1 && e[0].is_null())
        && v.get("nullable") == Some(&Value::Bool(true))
}

/// Rewrites "X or null", written `oneOf: [X, <null branch>]` (valid OpenAPI 3.0.3, so a strict
/// validator accepts `null`), into `allOf: [X], nullable: true`: the idiom progenitor turns into
/// `Option<X>`. The 3.0.3 rules make `nullable` beside `allOf` without `type` invalid, so the
/// spec cannot say it that way itself.
pub fn nullable_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let alternatives = ["oneOf", "anyOf"].into_iter().find_map(|k| {
                let alts = m.get(k)?.as_array()?;
                (alts.len() == 2 && alts.iter().filter(|a| is_null_branch(a)).count() == 1).then(|| k.to_string())
            });
            if let Some(k) = alternatives
                && let Some(Value::Array(alts)) = m.remove(&k)
            {
                let other: Vec<Value> = alts.into_iter().filter(|a| !is_null_branch(a)).collect();
                m.insert("allOf".into(), Value::Array(other));
                m.insert("nullable".into(), Value::Bool(true));
            }
            m.values_mut().for_each(nullable_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(nullable_refs),
        _ => {}
    }
}

/// Renames each named string enum `X` to `XKnown` and returns the names, so the generated `X` is
/// `OpenEnum<XKnown>`: known values stay typed and unknown ones are kept as strings.
pub fn open_enums(spec: &mut Value) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec_with(op: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/widgets": {"get": op}},
            "components": {"schemas": {
                "Color": {"type": "string", "enum": ["red", "blue"]},
                "Widget": {"type": "object", "properties": {
                    "name": {"type": "string", "maxLength": 10},
                    "color": {"$ref": "#/components/schemas/Color"}
                }}
            }}
        })
    }

    fn list_widgets() -> Value {
        json!({
            "operationId": "list_widgets",
            "parameters": [{"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Widget"}}}}}
        })
    }

    #[test]
    fn generated_items_get_their_docs_from_the_spec() {
        let mut spec = spec_with(list_widgets());
        spec["paths"]["/widgets"]["get"]["parameters"][0]["description"] = json!("Only widgets with every tag.");
        spec["components"]["schemas"]["Widget"]["properties"]["name"]["description"] = json!("Shown on the label.");
        spec["components"]["schemas"]["Widget"]["properties"]["maker"] = json!({"$ref": "#/components/schemas/Maker"});
        spec["components"]["schemas"]["Maker"] =
            json!({"type": "object", "description": "Who built it.", "properties": {"n": {"type": "integer"}}});
        let p = prepare(spec).expect("prepares");
        let mut file = unparse_file(&typed_settings(&p).expect("settings"), &p.spec).expect("generates");
        let bare = prettyplease::unparse(&file);
        docs::document(&mut file, &p.spec);
        let code = prettyplease::unparse(&file);
        let doc_before = |item: &str| {
            let at = code.find(item).unwrap_or_else(|| panic!("no {item} in {code}"));
            // The doc line right above the item, past its attributes.
            let above = code[..at].trim_end().lines().rev().map(str::trim).find(|l| !l.starts_with("#["));
            above.unwrap_or_default().to_string()
        };
        assert!(!bare.contains("///Only widgets with every tag."), "progenitor leaves parameters bare");
        assert_eq!(doc_before("pub fn tags<V>"), "/// Only widgets with every tag.");
        assert_eq!(doc_before("pub maker: "), "/// Who built it.");
        assert!(
            doc_before("pub fn name<T>").starts_with("/// Shown on the label."),
            "{}",
            doc_before("pub fn name<T>")
        );
        assert!(doc_before("pub fn builder() -> builder::Widget").contains("[`builder::Widget`]"));
        assert!(doc_before("pub fn new(client").contains("[`Client::list_widgets`]"));
    }

    #[test]
    fn named_string_enums_become_open_and_keep_a_known_twin() {
        let mut spec = spec_with(list_widgets());
        assert_eq!(open_enums(&mut spec), vec!["Color".to_string()]);
        assert_eq!(spec["components"]["schemas"]["ColorKnown"]["enum"], json!(["red", "blue"]));
    }

    #[test]
    fn string_limits_are_dropped_for_the_rust_types_only() {
        let p = prepare(spec_with(list_widgets())).expect("prepares");
        assert!(p.spec["components"]["schemas"]["Widget"]["properties"]["name"].get("maxLength").is_none());
        assert_eq!(p.written["components"]["schemas"]["Widget"]["properties"]["name"]["maxLength"], 10);
    }

    #[test]
    fn x_or_null_becomes_the_nullable_all_of_the_generator_reads() {
        let mut v = json!({"properties": {"result": {"oneOf": [
            {"$ref": "#/components/schemas/Color"},
            {"type": "object", "nullable": true, "enum": [null]}
        ], "description": "d"}}});
        nullable_refs(&mut v);
        assert_eq!(
            v["properties"]["result"],
            json!({"allOf": [{"$ref": "#/components/schemas/Color"}], "nullable": true, "description": "d"})
        );
        let mut two = json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
        nullable_refs(&mut two);
        assert_eq!(two, json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}), "other unions untouched");
    }

    #[test]
    fn a_broken_layout_names_the_operation() {
        let mut op = list_widgets();
        op.as_object_mut().map(|o| o.remove("operationId"));
        let err = check_operations(&spec_with(op)).expect_err("no operationId");
        assert!(err.contains("GET /widgets: missing operationId"), "{err}");
    }

    #[test]
    fn array_query_parameters_are_strings_for_the_mocks() {
        let mut spec = spec_with(list_widgets());
        array_queries_as_strings(&mut spec);
        assert_eq!(spec["paths"]["/widgets"]["get"]["parameters"][0]["schema"], json!({"type": "string"}));
    }

    #[test]
    fn the_typed_client_and_the_mocks_generate_with_aliases_inside_types() {
        let out = std::env::temp_dir().join(format!("opentrain-codegen-test-{}", std::process::id()));
        std::fs::create_dir_all(&out).expect("out dir");
        generate_httpmock(spec_with(list_widgets()), "opentrain", &out).expect("mocks generate");
        let mocks = std::fs::read_to_string(out.join("httpmock.rs")).expect("mocks written");
        assert!(mocks.contains("fn list_widgets"), "one method per operation");

        let mut by_id = spec_with(list_widgets());
        by_id["paths"]["/widgets/{id}"] = json!({"get": {
            "operationId": "get_widget",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}
        }});
        generate_httpmock(by_id, "opentrain", &out).expect("mocks generate");
        let mocks = std::fs::read_to_string(out.join("httpmock.rs")).expect("mocks written");
        assert!(mocks.contains("regex::escape("), "path values escaped: {mocks}");
        assert!(mocks.contains("fn get_widget_async"), "an async twin per operation");

        let p = prepare(spec_with(list_widgets())).expect("prepares");
        let mut file = unparse_file(&typed_settings(&p).expect("settings"), &p.spec).expect("generates");
        add_to_module(&mut file, "types", &open_enum_aliases(&p.open_enums)).expect("types module");
        let code = prettyplease::unparse(&file);
        assert!(code.contains("pub type Color = crate::OpenEnum<ColorKnown>;"), "alias inside `types`");
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn meta_lists_every_operation_with_its_method_and_path() {
        let m = meta(&spec_with(list_widgets()));
        assert!(m.contains(r#"id: "list_widgets", method: "GET", path: "/widgets""#), "{m}");
        assert!(m.contains("ListWidgets"), "an enum variant per operation");
    }
}
