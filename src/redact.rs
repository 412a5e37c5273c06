//! Removes token values from any text before it reaches an error, a log or a Debug string.

/// Token prefixes OpenTrain issues; everything after one of them up to a delimiter is secret.
const PREFIXES: [&str; 4] = ["ot_pat_", "ot_clm_", "ot_cat_", "whsec_"];

/// Replaces every token in `text` by its prefix followed by `[redacted]`.
///
/// ```
/// assert_eq!(opentrain::redact("bad ot_pat_abc_123 here"), "bad ot_pat_[redacted] here");
/// ```
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, prefix)) = PREFIXES.iter().filter_map(|p| rest.find(p).map(|i| (i, *p))).min() {
        out.push_str(&rest[..at + prefix.len()]);
        let tail = &rest[at + prefix.len()..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(tail.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
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
}
