//! The shape of every tool result: structuredContent plus a text summary, errors flagged.
//!
//! Success carries the API's JSON object untouched; a failure carries the error envelope with
//! its HTTP status. Both are `Ok` at the protocol level so the model reads them; only protocol
//! problems (an unknown tool) are JSON-RPC errors, and those are raised by the server.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use super::{schema::Violation, summary};
use opentrain::{Error, generated::tools::ToolDef, redact};

/// The largest structuredContent passed on. A bigger answer is no use to a model (it exceeds
/// any context window) and is reported as an error with a snippet instead.
pub const MAX_RESULT_BYTES: usize = 2 * 1024 * 1024;

/// Tools whose answer carries a secret that must reach the user unmasked: the secret at the
/// pointer is restored after masking, and in the text too when the flag says so.
///
/// A webhook's signing secret is shown this once and never again (masking it would lose it
/// for good). A claim's `verification_uri` carries an `ot_cat_` token: it is the page the human
/// must open, and masking it would make the claim impossible.
const REVEALED: &[(&str, &str, bool)] =
    &[("opentrain_create_webhook", "/secret", false), ("opentrain_claim_account", "/verification_uri", true)];

/// What [`finish`] keeps unmasked: a JSON pointer, and whether the text may show it too.
#[derive(Clone, Copy)]
struct Reveal {
    pointer: &'static str,
    in_text: bool,
}

/// Every result goes out through here: secrets masked in the text and in structuredContent
/// ([`opentrain::redact`], [`opentrain::redact_json`]), the one change made to the API's JSON, except
/// what `reveal` names.
fn result(structured: Value, text: String, is_error: bool) -> CallToolResult {
    finish(structured, text, is_error, None)
}

fn finish(mut structured: Value, text: String, is_error: bool, reveal: Option<Reveal>) -> CallToolResult {
    let kept = reveal.and_then(|r| structured.pointer(r.pointer).cloned().map(|v| (r, v)));
    opentrain::redact_json(&mut structured);
    let mut text = redact(&text);
    if let Some((r, secret)) = kept {
        if r.in_text
            && let Some(value) = secret.as_str()
        {
            text = text.replace(&redact(value), value);
        }
        if let Some(slot) = structured.pointer_mut(r.pointer) {
            *slot = secret;
        }
    }
    let mut r = if is_error {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    r.structured_content = Some(structured);
    r
}

/// structuredContent must be an object (older clients drop anything else).
fn as_object(value: Value) -> Value {
    if value.is_object() { value } else { json!({ "result": value }) }
}

/// The JSON size of `value`, counted without building the text.
fn encoded_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serializing a `Value` cannot fail, and `Count` never refuses bytes.
    let _ = serde_json::to_writer(&mut c, value);
    c.0
}

/// A bound on the JSON size of `value` that is never below it, found from the lengths alone: a
/// string's every byte could need a six-byte escape. Most answers are far below the limit, and
/// this spares them the exact count (a full serialisation of the answer).
fn encoded_len_at_most(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(_) => 5,
        Value::Number(n) => encoded_len(&Value::Number(n.clone())),
        Value::String(s) => 2 + 6 * s.len(),
        Value::Array(a) => 2 + a.len() + a.iter().map(encoded_len_at_most).sum::<usize>(),
        Value::Object(m) => 2 + m.iter().map(|(k, v)| 2 + 6 * k.len() + 2 + encoded_len_at_most(v)).sum::<usize>(),
    }
}

/// A successful call: the API's JSON as structuredContent, `text` (or the generic summary).
pub fn ok(tool: &ToolDef, value: Value, text: Option<String>) -> CallToolResult {
    let size = if encoded_len_at_most(&value) > MAX_RESULT_BYTES { encoded_len(&value) } else { 0 };
    if size > MAX_RESULT_BYTES {
        let raw = value.to_string();
        let snippet: String = redact(&raw.chars().take(200).collect::<String>());
        return failure(
            json!({
                "code": "RESPONSE_TOO_LARGE",
                "error": format!("the response is {size} bytes, more than the {MAX_RESULT_BYTES} this server passes on"),
                "details": {"bytes": size, "snippet": snippet},
            }),
            format!(
                "Error: the response is {size} bytes, too large to pass on. Narrow the request (a smaller `limit`, a \
                 filter). It starts: {snippet}"
            ),
        );
    }
    // A success without a body (an operation whose status the docs only infer) has no fields to
    // summarise: a summary would describe an empty object as if the API had sent one.
    let no_body = value.is_null();
    let value = as_object(value);
    let text = text.unwrap_or_else(|| {
        if no_body {
            format!("{}: done. {}", tool.title, opentrain::raw::NO_BODY)
        } else {
            summary::success(tool, &value)
        }
    });
    let reveal = REVEALED
        .iter()
        .find(|(name, _, _)| *name == tool.name)
        .map(|(_, pointer, in_text)| Reveal { pointer, in_text: *in_text });
    finish(value, text, false, reveal)
}

/// A failed call with its structured description and text.
pub fn failure(structured: Value, text: String) -> CallToolResult {
    result(as_object(structured), text, true)
}

/// A failed call whose structuredContent keeps the secret at `pointer` unmasked: the one-time
/// post-claim token when saving it failed, which would otherwise be lost for good.
pub fn failure_revealing(structured: Value, text: String, pointer: &'static str) -> CallToolResult {
    finish(as_object(structured), text, true, Some(Reveal { pointer, in_text: false }))
}

/// A failed call from the library's error.
pub fn error(err: &Error) -> CallToolResult {
    let (structured, text) = summary::failure(err);
    failure(structured, text)
}

/// A failed call of `tool`: like [`error`], with the hint for a write whose outcome is unknown.
pub fn call_error(tool: &ToolDef, err: &Error) -> CallToolResult {
    let (structured, text) = summary::failure_of(tool, err);
    failure(structured, text)
}

/// Arguments that do not fit the tool's input schema; nothing was sent.
pub fn invalid_argument(tool: &ToolDef, v: &Violation) -> CallToolResult {
    failure(
        json!({"code": "INVALID_ARGUMENT", "error": v.to_string(), "details": {"argument": v.path}}),
        format!("Invalid arguments for {}: {v}. Nothing was sent.", tool.name),
    )
}

/// A tool that needs a token was called without one; nothing was sent.
pub fn no_token(tool: &ToolDef) -> CallToolResult {
    let message = format!(
        "{} needs an OpenTrain API token and this server has none. Either call opentrain_register_agent to create an \
         agent account (its token is saved and used from then on; a human claims it later with \
         opentrain_claim_account), or set OPENTRAIN_PERSONAL_API_TOKEN in this server's environment to a token minted \
         in the OpenTrain app (Settings, API keys) and restart the server.",
        tool.name
    );
    failure(json!({"code": "NO_TOKEN", "error": message}), format!("Error: {message} Nothing was sent."))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use opentrain::generated::tools::TOOLS;

    fn tool() -> &'static ToolDef {
        TOOLS.iter().find(|t| t.name == "opentrain_get_team").expect("tool in the table")
    }

    #[test]
    fn a_huge_answer_becomes_an_error_with_a_snippet() {
        let big = json!({"team": {"notes": "x".repeat(MAX_RESULT_BYTES)}});
        let r = ok(tool(), big, None);
        assert_eq!(r.is_error, Some(true));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["code"], "RESPONSE_TOO_LARGE");
        assert!(s["details"]["snippet"].as_str().is_some_and(|t| t.starts_with("{\"team\"") && t.len() <= 200));
    }

    #[test]
    fn the_size_bound_is_never_below_the_size() {
        let values = [
            json!(null),
            json!(true),
            json!(-1.5e300),
            json!(u64::MAX),
            json!(""),
            json!("\u{1}\"\\\n é"),
            json!([]),
            json!([1, "a", [null]]),
            json!({}),
            json!({"k\u{0}": {"": [false, 0.1]}, "x": "y"}),
            // Where the bound is tightest: an empty key over a one-digit value, a key of escapes.
            json!({"": 1}),
            json!({"\u{1}\u{1}\u{1}": 1}),
        ];
        for v in values {
            assert!(encoded_len_at_most(&v) >= encoded_len(&v), "{v}");
            assert_eq!(encoded_len(&v), v.to_string().len(), "{v}");
        }
    }

    /// The limit is the documented 2 MiB: a 1.5 MB answer still reaches the model.
    #[test]
    fn an_answer_of_one_and_a_half_megabytes_is_passed_on() {
        let r = ok(tool(), json!({"n": "x".repeat(1_500_000)}), Some("t".into()));
        assert_eq!(r.is_error, Some(false));
    }

    #[test]
    fn an_answer_just_over_the_limit_is_refused_and_one_at_it_passed_on() {
        // `{"n":"..."}` is 8 bytes around the string.
        let at_limit = json!({"n": "x".repeat(MAX_RESULT_BYTES - 8)});
        assert_eq!(encoded_len(&at_limit), MAX_RESULT_BYTES);
        assert_eq!(ok(tool(), at_limit, Some("t".into())).is_error, Some(false));
        let over = json!({"n": "x".repeat(MAX_RESULT_BYTES - 7)});
        let r = ok(tool(), over, Some("t".into()));
        assert_eq!(r.is_error, Some(true));
        assert_eq!(r.structured_content.unwrap_or_default()["details"]["bytes"], MAX_RESULT_BYTES + 1);
    }

    #[test]
    fn non_objects_are_wrapped_and_objects_kept() {
        let r = ok(tool(), json!([1, 2]), Some("two".into()));
        assert_eq!(r.structured_content, Some(json!({"result": [1, 2]})));
        assert_eq!(r.is_error, Some(false));
        let r = ok(tool(), json!({"team": {"id": "t1"}, "extra": true}), None);
        assert_eq!(r.structured_content, Some(json!({"team": {"id": "t1"}, "extra": true})));
    }
}
