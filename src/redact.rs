//! The one masking policy: removes secrets from any text or JSON before it reaches an error, a
//! log, a Debug string, the terminal or an MCP result.
//!
//! Two kinds of secret are masked: anything shaped like an OpenTrain secret (`ot_pat_...`,
//! `ot_clm_...`, `ot_cat_...`, `whsec_...`), and every secret this process holds (each [`Token`]
//! created is remembered), whatever its shape, since a server echoing a token back may have
//! altered its prefix or wrapped it in other text.
//!
//! [`Token`]: crate::Token

use std::sync::{Arc, Mutex, PoisonError};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
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

/// The remembered secrets, oldest first, with one matcher over the prefixes and the secrets that
/// do not start with one.
///
/// Nearly every string of an API answer holds neither a prefix nor a secret; the matcher finds
/// that in one pass over the string, where searching each pattern in turn rebuilt a search per
/// pattern per string. A secret that starts with a prefix needs no pattern of its own (the
/// prefix finds it), so the OpenTrain tokens a multi-tenant server remembers, one per caller,
/// never cost a rebuild; the matcher is rebuilt only when the set of other secrets changes. The
/// whole is shared read-only by every masking pass through an `Arc`.
#[derive(Debug)]
struct Held {
    secrets: Vec<Arc<str>>,
    /// Whether every secret starts with a prefix: then a string without `_` (which every prefix
    /// holds) needs no search at all, and most strings of an answer have none.
    all_prefixed: bool,
    /// `None` only if the matcher could not be built; every string then takes the full scan.
    any: Option<Arc<AhoCorasick>>,
}

/// Whether a text holding `secret` is found by the prefixes alone.
fn prefixed(secret: &str) -> bool {
    PREFIXES.iter().any(|p| secret.starts_with(p))
}

fn matcher<'a>(unshaped: impl Iterator<Item = &'a Arc<str>>) -> Option<Arc<AhoCorasick>> {
    let patterns: Vec<&[u8]> = PREFIXES.iter().map(|p| p.as_bytes()).chain(unshaped.map(|s| s.as_bytes())).collect();
    // Far quicker to build than the DFA with many secrets; the prefilter does most of the search.
    AhoCorasick::builder().kind(Some(AhoCorasickKind::ContiguousNFA)).build(patterns).ok().map(Arc::new)
}

impl Held {
    fn of(secrets: Vec<Arc<str>>) -> Self {
        let any = matcher(secrets.iter().filter(|s| !prefixed(s)));
        let all_prefixed = secrets.iter().all(|s| prefixed(s));
        Self { secrets, all_prefixed, any }
    }

    /// These secrets with `secret` added (the oldest forgotten past the bound), or `None` when it
    /// is already held.
    fn remembering(&self, secret: &str) -> Option<Self> {
        if self.secrets.iter().any(|s| &**s == secret) {
            return None;
        }
        let skip = (self.secrets.len() + 1).saturating_sub(MAX_REMEMBERED);
        let secrets: Vec<Arc<str>> = self.secrets.iter().skip(skip).cloned().chain([Arc::from(secret)]).collect();
        let unshaped = |list: &[Arc<str>]| list.iter().filter(|s| !prefixed(s)).cloned().collect::<Vec<_>>();
        if unshaped(&secrets) == unshaped(&self.secrets) {
            return Some(Self { secrets, all_prefixed: self.all_prefixed, any: self.any.clone() });
        }
        Some(Self::of(secrets))
    }

    /// Whether `text` may need masking: it holds a prefix or a remembered secret.
    fn touches(&self, text: &str) -> bool {
        if self.all_prefixed && !text.contains('_') {
            return false;
        }
        self.any.as_ref().is_none_or(|m| m.is_match(text))
    }
}

static HELD: Mutex<Option<Arc<Held>>> = Mutex::new(None);

/// The secrets held now (the matcher is built on first use).
fn held() -> Arc<Held> {
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    held.get_or_insert_with(|| Arc::new(Held::of(Vec::new()))).clone()
}

/// Remembers `secret` so that [`redact`] masks it wherever it appears, whatever its shape.
///
/// [`Token::new`](crate::Token::new) calls this for every token, so callers rarely need to.
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_REMEMBERED {
        return;
    }
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let now = held.get_or_insert_with(|| Arc::new(Held::of(Vec::new())));
    if let Some(next) = now.remembering(secret) {
        *now = Arc::new(next);
    }
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
    held: Arc<Held>,
    keep: &'a [&'a str],
}

impl<'a> Masker<'a> {
    fn new(keep: &'a [&'a str]) -> Self {
        Self { held: held(), keep }
    }

    fn text(&self, text: &str) -> String {
        if self.held.touches(text) { self.scan(text) } else { text.to_string() }
    }

    /// The full masking of a string that holds a prefix or a secret.
    fn scan(&self, text: &str) -> String {
        let mut text = text.to_string();
        let shown = self.held.secrets.iter().filter(|s| !self.keep.iter().any(|k| s.starts_with(k)));
        for secret in shown {
            if text.contains(&**secret) {
                text = text.replace(&**secret, &mask(secret));
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
            Value::String(s) if self.held.touches(s) => {
                let r = self.scan(s);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            Value::Object(m) => {
                // Keys are only copied when one of them needs masking (rebuilding the map).
                if !m.keys().any(|k| self.held.touches(k)) {
                    m.values_mut().for_each(|x| self.json(x));
                    return;
                }
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

    /// The masking as it was before the one-pass matcher: every held secret searched in turn,
    /// then the prefixes. The matcher must only make this faster, never change what it masks.
    fn sequential(text: &str, held: &[Arc<str>], keep: &[&str]) -> String {
        let mut text = text.to_string();
        for secret in held.iter().filter(|s| !keep.iter().any(|k| s.starts_with(k))) {
            if text.contains(&**secret) {
                text = text.replace(&**secret, &mask(secret));
            }
        }
        Masker { held: Arc::new(Held::of(Vec::new())), keep }.shaped(&text)
    }

    #[test]
    fn the_one_pass_matcher_masks_exactly_as_the_sequential_scan() {
        let secrets =
            ["q7-unshaped-secret-A1", "ot_pat_heldtoken77", "ot_cat_heldclaimlink9", "x9-overlap-q7-unshaped"];
        secrets.iter().for_each(|s| remember(s));
        let held = held();
        let texts = [
            "plain text, no secret at all",
            "",
            "key=q7-unshaped-secret-A1;",
            "twice q7-unshaped-secret-A1 and q7-unshaped-secret-A1.",
            "Bearer ot_pat_heldtoken77",
            "ot_pat_heldtoken77X (longer than held) and ot_clm_zz",
            "open https://x/claim?token=ot_cat_heldclaimlink9 now",
            "link ot_cat_other_1 and preview ot_pat_8f2a****91cd",
            "x9-overlap-q7-unshaped-secret-A1",
            "already ot_pat_[redacted] and bare ot_pat_ and whsec_",
            "whsec_k-2. t=ot_pat_AbC_9x, ünïcode ot_clm_ñ",
        ];
        for keep in [&[][..], &["ot_cat_"][..], &["ot_pat_", "whsec_"][..]] {
            for t in texts {
                assert_eq!(redact_keeping(t, keep), sequential(t, &held.secrets, keep), "{t:?} keeping {keep:?}");
                let mut v = serde_json::json!({t: [t, {"k": t}], "n": 1});
                redact_json_keeping(&mut v, keep);
                let r = sequential(t, &held.secrets, keep);
                assert_eq!(v, serde_json::json!({r.clone(): [r.clone(), {"k": r}], "n": 1}), "{t:?} keeping {keep:?}");
            }
        }
    }

    #[test]
    fn a_secret_remembered_after_a_pass_is_masked_by_the_next() {
        let text = "echo: Zq-late-remembered-77 end";
        assert_eq!(redact(text), text);
        remember("Zq-late-remembered-77");
        assert_eq!(redact(text), "echo: [redacted] end");
        let mut v = serde_json::json!({"Zq-late-remembered-77": text});
        redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"[redacted]": "echo: [redacted] end"}));
    }

    #[test]
    fn the_oldest_secret_is_forgotten_and_no_longer_matched() {
        // A local set, not the process's: forgetting must not race the other tests.
        let mut held = Held::of(vec![Arc::from("first-secret-0")]);
        assert!(held.remembering("first-secret-0").is_none(), "a held secret is not added twice");
        for i in 1..MAX_REMEMBERED {
            held = held.remembering(&format!("later-secret-{i:02}")).unwrap_or_else(|| panic!("{i} is new"));
        }
        assert!(held.touches("xx first-secret-0 xx"));
        held = held.remembering("one-too-many").unwrap_or_else(|| panic!("new"));
        assert_eq!(held.secrets.len(), MAX_REMEMBERED);
        assert!(!held.touches("xx first-secret-0 xx"), "forgotten");
        assert!(held.touches("xx later-secret-01 xx") && held.touches("one-too-many") && held.touches("ot_pat_"));
        assert!(!held.touches("nothing here"));
    }

    #[test]
    fn every_prefix_holds_the_underscore_the_quick_check_looks_for() {
        assert!(PREFIXES.iter().all(|p| p.contains('_')));
        let held = Held::of(Vec::new());
        assert!(!held.touches("PAY-PER-LABEL job-001") && held.touches("PAY_PER_LABEL whsec_1"));
        let odd = held.remembering("no-underscore-secret").unwrap_or_else(|| panic!("new"));
        assert!(odd.touches("see no-underscore-secret"), "an other-shaped secret is searched for everywhere");
    }

    #[test]
    fn prefixed_secrets_share_the_matcher_and_others_get_their_own() {
        let held = Held::of(vec![Arc::from("odd-shaped-secret-1")]);
        let same = |a: &Held, b: &Held| match (&a.any, &b.any) {
            (Some(x), Some(y)) => Arc::ptr_eq(x, y),
            _ => false,
        };
        let tenant = held.remembering("ot_pat_tenant_token_1").unwrap_or_else(|| panic!("new"));
        assert!(same(&held, &tenant), "a prefixed token is found by its prefix: no rebuild");
        assert!(tenant.touches("echo ot_pat_tenant_token_1") && tenant.touches("odd-shaped-secret-1"));
        let odd = tenant.remembering("another-odd-secret").unwrap_or_else(|| panic!("new"));
        assert!(!same(&tenant, &odd) && odd.touches("x another-odd-secret x"));
        assert_eq!(odd.secrets.len(), 3);
    }
}
