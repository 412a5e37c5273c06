//! Doc comments that rustdoc reads as the spec meant them: the spec's descriptions are API text,
//! written for people, and some of it is not valid rustdoc Markdown (a bare URL, `<ID>` taken
//! for an HTML tag). The words stay; only the markup is escaped.

use syn::visit_mut::VisitMut;

/// Rewrites every `#[doc = "..."]` in `file` with [`escape`].
pub fn escape_file(file: &mut syn::File) {
    EscapeDocs { fenced: false }.visit_file_mut(file);
}

/// The generators write one `#[doc]` per line, so a fenced block (typify's JSON schema of each
/// type) spans several attributes: whether one is open carries over from one to the next.
struct EscapeDocs {
    fenced: bool,
}

impl VisitMut for EscapeDocs {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if !attr.path().is_ident("doc") {
            return;
        }
        let syn::Meta::NameValue(nv) = &mut attr.meta else { return };
        let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &mut nv.value else { return };
        let escaped = escape_from(&s.value(), &mut self.fenced);
        if escaped != s.value() {
            *s = syn::LitStr::new(&escaped, s.span());
        }
    }
}

/// One doc line (or several) as rustdoc should see it: outside code spans and fenced blocks, a
/// bare `http(s)://` URL becomes an autolink `<...>` and a `<` that opens neither an autolink nor
/// one of the generators' own HTML tags is escaped. Code keeps its text.
pub fn escape(text: &str) -> String {
    escape_from(text, &mut false)
}

/// [`escape`] starting inside a fenced block when `fenced`, which is left as the text leaves it.
fn escape_from(text: &str, fenced: &mut bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.trim_start().starts_with("```") {
            *fenced = !*fenced;
            out.push_str(line);
            continue;
        }
        if *fenced {
            out.push_str(line);
        } else {
            escape_line(line, &mut out);
        }
    }
    out
}

fn escape_line(line: &str, out: &mut String) {
    // Split on backticks: odd pieces are code spans (an unmatched last backtick is plain text).
    let pieces: Vec<&str> = line.split('`').collect();
    let closed = if pieces.len().is_multiple_of(2) { pieces.len() - 1 } else { pieces.len() };
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && i < closed {
            out.push_str(piece);
        } else {
            escape_prose(piece, out);
        }
    }
}

fn escape_prose(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        // An autolink already: kept whole.
        if let Some(url) = rest.strip_prefix('<').and_then(url_at)
            && rest[1 + url.len()..].starts_with('>')
        {
            let len = url.len() + 2;
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        if let Some(url) = url_at(rest) {
            let inside_link = out.ends_with("](");
            if inside_link {
                out.push_str(url);
            } else {
                out.push('<');
                out.push_str(url);
                out.push('>');
            }
            rest = &rest[url.len()..];
            continue;
        }
        match c {
            '<' if !opens_tag(&rest[1..]) => out.push_str("&lt;"),
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
}

/// The URL starting at `s`, without trailing punctuation that ends the sentence around it.
fn url_at(s: &str) -> Option<&str> {
    if !(s.starts_with("http://") || s.starts_with("https://")) {
        return None;
    }
    let end = s.find(|c: char| c.is_whitespace() || matches!(c, '>' | '"' | '`' | ')' | '<')).unwrap_or(s.len());
    Some(s[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', '\'']))
}

/// HTML the generators write on purpose (typify folds each type's JSON schema in
/// `<details><summary>`); any other `<word>` is prose, such as a placeholder.
const HTML: [&str; 10] = ["details", "summary", "br", "p", "pre", "code", "a", "b", "i", "em"];

/// Whether the text after a `<` continues an HTML tag rustdoc should keep.
fn opens_tag(after: &str) -> bool {
    let name = after.strip_prefix('/').unwrap_or(after);
    let end = name.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(name.len());
    HTML.contains(&&name[..end]) && name[end..].starts_with(['>', ' ', '/'])
}

/// Documents what the generators leave bare, from the spec wherever it says something: a
/// client builder's parameter setters get the parameter's description, a field whose type is a
/// schema gets that schema's description, a type builder's setters the field's description, an
/// enum variant its wire value; the rest (builder constructors, `body`, `body_map`) get one
/// line saying what they are for. Only items without a doc are touched.
pub fn document(file: &mut syn::File, spec: &serde_json::Value) {
    let params = param_docs(spec);
    let schemas = schema_docs(spec);
    for item in &mut file.items {
        let syn::Item::Mod(m) = item else { continue };
        let Some((_, items)) = m.content.as_mut() else { continue };
        match m.ident.to_string().as_str() {
            "types" => document_types(items, &schemas),
            "builder" => document_client_builders(items, &params),
            _ => {}
        }
    }
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

fn doc_text(attrs: &[syn::Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }),
                ..
            }) => Some(s.value()),
            _ => None,
        })
        .collect();
    // The first paragraph: typify appends the JSON schema after a blank line.
    let first: Vec<&str> = lines.iter().map(|l| l.trim()).take_while(|l| !l.is_empty()).collect();
    (!first.is_empty()).then(|| format!(" {}", first.join(" ")))
}

fn add_doc(attrs: &mut Vec<syn::Attribute>, text: &str) {
    attrs.insert(0, syn::parse_quote!(#[doc = #text]));
}

/// The type named by `ty`, looking through `Option`, `Vec` and `Box`.
fn named_type(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && ["Option", "Vec", "Box"].contains(&last.ident.to_string().as_str())
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return named_type(inner);
    }
    Some(last.ident.to_string())
}

/// Whether a field carries `#[serde(flatten)]`.
fn is_flattened(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("serde")).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|meta| {
            found |= meta.path.is_ident("flatten");
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        found
    })
}

/// The wire value a variant has (`#[serde(rename = "...")]`).
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().filter(|a| a.path().is_ident("serde")).find_map(|a| {
        let mut found = None;
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let s: syn::LitStr = meta.value()?.parse()?;
                found = Some(s.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        found
    })
}

/// Each schema's description by the Rust type name it has: its own name, or the last segment of
/// its `x-rust-type-replace` (those and the open enums have no item of their own in `types`).
fn schema_docs(spec: &serde_json::Value) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let Some(schemas) = spec.pointer("/components/schemas").and_then(serde_json::Value::as_object) else {
        return out;
    };
    for (name, schema) in schemas {
        let Some(desc) = schema["description"].as_str() else { continue };
        let desc = format!(" {}", desc.split("\n\n").next().unwrap_or(desc).replace('\n', " "));
        if let Some(path) = schema["x-rust-type-replace"].as_str() {
            out.insert(path.rsplit("::").next().unwrap_or(path).to_string(), desc.clone());
        }
        out.insert(name.clone(), desc);
    }
    out
}

fn document_types(items: &mut [syn::Item], schemas: &std::collections::HashMap<String, String>) {
    use std::collections::HashMap;
    // Each type's own description, and each struct field's, for the fields and builders below.
    let mut type_docs: HashMap<String, String> = schemas.clone();
    let mut field_docs: HashMap<(String, String), String> = HashMap::new();
    for item in items.iter() {
        match item {
            syn::Item::Struct(s) => {
                if let Some(d) = doc_text(&s.attrs) {
                    type_docs.insert(s.ident.to_string(), d);
                }
                for f in &s.fields {
                    if let (Some(name), Some(d)) = (&f.ident, doc_text(&f.attrs)) {
                        field_docs.insert((s.ident.to_string(), name.to_string()), d);
                    }
                }
            }
            syn::Item::Enum(e) => {
                if let Some(d) = doc_text(&e.attrs) {
                    type_docs.insert(e.ident.to_string(), d);
                }
            }
            _ => {}
        }
    }
    for item in items.iter_mut() {
        match item {
            syn::Item::Struct(s) => {
                for f in s.fields.iter_mut().filter(|f| !has_doc(&f.attrs)) {
                    if let Some(d) = named_type(&f.ty).and_then(|t| type_docs.get(&t)) {
                        add_doc(&mut f.attrs, d);
                    } else if is_flattened(&f.attrs) {
                        // typify's home for `additionalProperties` next to named properties.
                        add_doc(
                            &mut f.attrs,
                            " Further keys beside the named ones (the schema's `additionalProperties`).",
                        );
                    }
                }
            }
            syn::Item::Enum(e) => {
                for v in e.variants.iter_mut().filter(|v| !has_doc(&v.attrs)) {
                    let doc = match (serde_rename(&v.attrs), &v.fields) {
                        (Some(wire), syn::Fields::Unit) => Some(format!(" `{wire}`")),
                        (_, syn::Fields::Unnamed(f)) => {
                            f.unnamed.first().and_then(|f| named_type(&f.ty)).and_then(|t| type_docs.get(&t).cloned())
                        }
                        _ => None,
                    };
                    if let Some(d) = doc {
                        add_doc(&mut v.attrs, &d);
                    }
                }
            }
            syn::Item::Impl(i) if i.trait_.is_none() => {
                let Some(ty) = named_type(&i.self_ty) else { continue };
                for f in &mut i.items {
                    if let syn::ImplItem::Fn(f) = f
                        && f.sig.ident == "builder"
                        && !has_doc(&f.attrs)
                    {
                        let doc = format!(
                            " A [`builder::{ty}`] for this type: one setter per field, then `try_into()` checks it."
                        );
                        add_doc(&mut f.attrs, &doc);
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                let Some((_, inner)) = m.content.as_mut() else { continue };
                for item in inner.iter_mut() {
                    match item {
                        syn::Item::Struct(s) if !has_doc(&s.attrs) => {
                            let doc = format!(" Builder for [`{0}`](super::{0}).", s.ident);
                            add_doc(&mut s.attrs, &doc);
                        }
                        syn::Item::Impl(i) if i.trait_.is_none() => {
                            let Some(ty) = named_type(&i.self_ty) else { continue };
                            for f in &mut i.items {
                                let syn::ImplItem::Fn(f) = f else { continue };
                                if has_doc(&f.attrs) {
                                    continue;
                                }
                                let field = f.sig.ident.to_string();
                                let doc = field_docs
                                    .get(&(ty.clone(), field.clone()))
                                    .cloned()
                                    .unwrap_or_else(|| format!(" Sets [`{ty}::{field}`](super::{ty}::{field})."));
                                add_doc(&mut f.attrs, &doc);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// (operation builder, setter) → the parameter's description, from the spec.
fn param_docs(spec: &serde_json::Value) -> std::collections::HashMap<(String, String), String> {
    let mut out = std::collections::HashMap::new();
    for (path, method) in crate::operations(spec) {
        let op = &spec["paths"][&path][&method];
        let Some(id) = op["operationId"].as_str() else { continue };
        let params = op["parameters"].as_array().into_iter().flatten();
        let shared = spec["paths"][&path]["parameters"].as_array().into_iter().flatten();
        for p in params.chain(shared) {
            let p = crate::resolve(spec, p);
            let (Some(name), Some(desc)) = (p["name"].as_str(), p["description"].as_str()) else { continue };
            let desc = desc.split("\n\n").next().unwrap_or(desc).replace('\n', " ");
            out.entry((pascal(id), snake(name))).or_insert(format!(" {desc}"));
        }
    }
    out
}

fn pascal(id: &str) -> String {
    id.split(['_', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out.replace('-', "_")
}

fn document_client_builders(items: &mut [syn::Item], params: &std::collections::HashMap<(String, String), String>) {
    for item in items.iter_mut() {
        let syn::Item::Impl(i) = item else { continue };
        if i.trait_.is_some() {
            continue;
        }
        let Some(ty) = named_type(&i.self_ty) else { continue };
        let method = snake(&ty);
        for f in &mut i.items {
            let syn::ImplItem::Fn(f) = f else { continue };
            if has_doc(&f.attrs) {
                continue;
            }
            let name = f.sig.ident.to_string();
            let doc = match name.as_str() {
                "new" => format!(
                    " This request on `client`; [`Client::{method}`](super::Client::{method}) is the usual way in."
                ),
                "body" => " The request body: the body type, or its builder.".to_string(),
                "body_map" => " Edits the request body through its builder.".to_string(),
                _ => match params.get(&(ty.clone(), name.clone())) {
                    Some(d) => d.clone(),
                    None => continue,
                },
            };
            add_doc(&mut f.attrs, &doc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn bare_urls_become_autolinks_and_links_stay() {
        assert_eq!(escape("Open https://app.opentrain.ai/claim."), "Open <https://app.opentrain.ai/claim>.");
        assert_eq!(escape("see <https://x.y/z>"), "see <https://x.y/z>");
        assert_eq!(escape("[docs](https://x.y/z) here"), "[docs](https://x.y/z) here");
    }

    #[test]
    fn tags_are_escaped_outside_code_only() {
        assert_eq!(escape("GET /jobs/<ID> or <b>"), "GET /jobs/&lt;ID> or <b>");
        assert_eq!(escape("<details><summary>JSON</summary>"), "<details><summary>JSON</summary>");
        assert_eq!(escape("`<ID>` and `https://a.b`"), "`<ID>` and `https://a.b`");
        assert_eq!(escape("```json\n[1, <2>]\n```\n<3>"), "```json\n[1, <2>]\n```\n&lt;3>");
        assert_eq!(escape("a ` alone <ID>"), "a ` alone &lt;ID>");
    }

    #[test]
    fn a_block_spread_over_several_doc_attributes_stays_code() {
        let mut file: syn::File = syn::parse_quote! {
            #[doc = " <details><summary>JSON schema</summary>"]
            #[doc = " ```json"]
            #[doc = " {\"description\": \"GET /x/<ID> at https://x.y\"}"]
            #[doc = " ```"]
            #[doc = " </details>"]
            #[doc = " Open https://x.y/<ID>"]
            pub struct A;
        };
        super::escape_file(&mut file);
        let docs: Vec<String> = match &file.items[0] {
            syn::Item::Struct(s) => s
                .attrs
                .iter()
                .filter_map(|a| match &a.meta {
                    syn::Meta::NameValue(syn::MetaNameValue {
                        value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        assert_eq!(docs[2], " {\"description\": \"GET /x/<ID> at https://x.y\"}");
        assert_eq!(docs[4], " </details>");
        assert_eq!(docs[5], " Open <https://x.y/>&lt;ID>");
    }

    #[test]
    fn text_without_markup_is_unchanged() {
        let plain = " Lifetime of this claim attempt in seconds (1800).";
        assert_eq!(escape(plain), plain);
    }
}
