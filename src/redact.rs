//! The one masking policy: removes secrets from any text or JSON before it reaches an error, a
//! log, a Debug string, the terminal or an MCP result.
//!
//! Two kinds of secret are masked: anything shaped like an OpenTrain secret (`ot_pat_...`,
//! `ot_clm_...`, `ot_cat_...`, `whsec_...`), and every secret this process holds (each [`Token`]
//! created is remembered), whatever its shape, since a server echoing a token back may have
//! altered its prefix or wrapped it in other text.
//!
//! [`Token`]: crate::Token

use std::sync::{Mutex, PoisonError};

use serde_json::Value;

/// Token prefixes OpenTrain issues; everything after one of them up to a delimiter is secret.
pub(crate) const PREFIXES: [&str; 4] = ["ot_pat_", "ot_clm_", "ot_cat_", "whsec_"];

/// Secrets shorter than this are not remembered: masking every "abc" in a text hides nothing
/// worth hiding and garbles the rest.
const MIN_REMEMBERED: usize = 8;

/// How many held secrets are remembered; the oldest is forgotten first. A process holds a
/// handful (token in use, claim token, a post-claim token); the bound keeps a long-lived server
/// that sees many tokens from growing without limit.
const MAX_REMEMBERED: usize = 64;

static HELD: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers `secret` so that [`redact`] masks it wherever it appears, whatever its shape.
///
/// [`Token::new`](crate::Token::new) calls this for every token, so callers rarely need to.
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_REMEMBERED {
        return;
    }
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    if held.iter().any(|s| s == secret) {
        return;
    }
    if held.len() >= MAX_REMEMBERED {
        held.remove(0);
    }
    held.push(secret.to_string());
}

/// Replaces every secret in `text`: remembered secrets by `[redacted]` (with their prefix when
/// they have one), prefix-shaped tokens by their prefix followed by `[redacted]`.
///
/// A value followed by `*` is an already masked preview (`ot_pat_8f2a****91cd`) and is kept.
///
/// ```
/// assert_eq!(opentrain::redact("bad ot_pat_abc_123 here"), "bad ot_pat_[redacted] here");
/// assert_eq!(opentrain::redact("preview ot_pat_8f2a****91cd"), "preview ot_pat_8f2a****91cd");
/// ```
pub fn redact(text: &str) -> String {
    Masker::new(&[]).text(text)
}

/// [`redact`], except secrets starting with one of `keep`: for the one place a secret must reach
/// the user, such as the claim link (`ot_cat_...`) a human has to open.
///
/// ```
/// let t = "open https://x/claim?token=ot_cat_ab12 with ot_pat_zz";
/// let shown = opentrain::redact::redact_keeping(t, &["ot_cat_"]);
/// assert_eq!(shown, "open https://x/claim?token=ot_cat_ab12 with ot_pat_[redacted]");
/// ```
pub fn redact_keeping(text: &str, keep: &[&str]) -> String {
    Masker::new(keep).text(text)
}

/// Applies [`redact`] to every string of a JSON value (object keys included), in place.
///
/// ```
/// let mut v = serde_json::json!({"token": "ot_pat_abc", "n": 1, "list": ["see ot_clm_x9"]});
/// opentrain::redact_json(&mut v);
/// assert_eq!(v, serde_json::json!({"token": "ot_pat_[redacted]", "n": 1, "list": ["see ot_clm_[redacted]"]}));
/// ```
pub fn redact_json(v: &mut Value) {
    Masker::new(&[]).json(v);
}

/// [`redact_json`] with [`redact_keeping`]'s exception.
pub fn redact_json_keeping(v: &mut Value, keep: &[&str]) {
    Masker::new(keep).json(v);
}

/// One masking pass: the held secrets are read once for the whole text or JSON value, not once
/// per string (a large API response has thousands).
struct Masker<'a> {
    held: Vec<String>,
    keep: &'a [&'a str],
}

impl<'a> Masker<'a> {
    fn new(keep: &'a [&'a str]) -> Self {
        let held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        let held = held.iter().filter(|s| !keep.iter().any(|k| s.starts_with(k))).cloned().collect();
        Self { held, keep }
    }

    fn text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.held {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), &mask(secret));
            }
        }
        self.shaped(&text)
    }

    fn shaped(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((at, prefix)) = PREFIXES.iter().filter_map(|p| rest.find(p).map(|i| (i, *p))).min() {
            out.push_str(&rest[..at + prefix.len()]);
            let tail = &rest[at + prefix.len()..];
            let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(tail.len());
            let preview = tail[end..].starts_with('*');
            let already = tail.starts_with("[redacted]");
            let kept = self.keep.contains(&prefix);
            if end > 0 && !preview && !already && !kept {
                out.push_str("[redacted]");
            } else {
                out.push_str(&tail[..end]);
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    fn json(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                let r = self.text(s);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            Value::Object(m) => {
                let keys: Vec<(String, String)> =
                    m.keys().map(|k| (k.clone(), self.text(k))).filter(|(k, r)| k != r).collect();
                if keys.is_empty() {
                    m.values_mut().for_each(|x| self.json(x));
                } else {
                    let old = std::mem::take(m);
                    for (k, mut v) in old {
                        self.json(&mut v);
                        let key = keys.iter().find(|(old, _)| *old == k).map_or(k, |(_, r)| r.clone());
                        m.insert(key, v);
                    }
                }
            }
            _ => {}
        }
    }
}

/// How a secret shows in Debug and Display output: its kind, never its value.
pub(crate) fn mask(secret: &str) -> String {
    let prefix = PREFIXES.iter().find(|p| secret.starts_with(*p)).copied().unwrap_or("");
    format!("{prefix}[redacted]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_kind_and_keeps_the_rest() {
        let s = "t=ot_pat_AbC_9x, c=ot_clm_zz; url ?token=ot_cat_q1 secret whsec_k-2.";
        assert_eq!(
            redact(s),
            "t=ot_pat_[redacted], c=ot_clm_[redacted]; url ?token=ot_cat_[redacted] secret whsec_[redacted]."
        );
        assert_eq!(redact("no secrets"), "no secrets");
        assert_eq!(mask("ot_pat_abc"), "ot_pat_[redacted]");
        assert_eq!(mask("plain"), "[redacted]");
    }

    #[test]
    fn masks_a_remembered_secret_of_any_shape_and_is_idempotent() {
        remember("sk-live-unshaped-9f8e7d");
        let once = redact("code=Xsk-live-unshaped-9f8e7dY and ot_pat_q");
        assert_eq!(once, "code=X[redacted]Y and ot_pat_[redacted]");
        assert_eq!(redact(&once), once);
        // Short values are not remembered: they would garble ordinary text.
        remember("abc");
        assert_eq!(redact("abc"), "abc");
    }

    #[test]
    fn keeps_masked_previews() {
        assert_eq!(redact("ot_pat_8f2a****91cd"), "ot_pat_8f2a****91cd");
        assert_eq!(redact("ends with ot_pat_"), "ends with ot_pat_");
    }

    #[test]
    fn json_keys_and_values() {
        let mut v = serde_json::json!({"ot_pat_key1": ["whsec_abc", 2]});
        redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"ot_pat_[redacted]": ["whsec_[redacted]", 2]}));
    }
}
