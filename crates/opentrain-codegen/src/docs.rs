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
