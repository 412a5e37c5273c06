//! What each operation needs (token, scopes, feature flags, a claimed account, a payment method)
//! and how it documentedly fails, generated from the spec's `x-requires` and `x-errors`.
//!
//! ```
//! use opentrain::generated::meta::OperationId;
//!
//! let hire = OperationId::HireProposal.requires();
//! assert_eq!(hire.scopes, ["proposals:write"]);
//! assert!(hire.claimed && hire.payment_method);
//! // `:write` covers `:read`, so a token with proposals:write can read proposals too.
//! assert!(OperationId::GetProposal.requires().missing_scopes(&["proposals:write"]).is_empty());
//! assert_eq!(hire.missing_scopes(&["proposals:read"]), ["proposals:write"]);
//! // The documented error rows, e.g. the 409 reasons a hire can answer with:
//! let reasons: Vec<_> = OperationId::HireProposal.errors().iter().filter_map(|e| e.reason).collect();
//! assert!(reasons.contains(&"payment_method_required"));
//! ```

use serde_json::{Value, json};

use crate::{OpenEnum, generated::meta::OperationId};

/// What one operation needs before the API will carry it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requires {
    /// A bearer token (`ot_pat_`) is sent. False for tokenless operations.
    pub token: bool,
    /// It takes the claim token (`ot_clm_`) from registration in its body, never as a bearer.
    pub claim_token: bool,
    /// Scopes the token must all hold (`:write` covers the matching `:read`).
    pub scopes: &'static [&'static str],
    /// Scopes of which the token must hold at least one (empty: no such condition).
    pub any_scopes: &'static [&'static str],
    /// Account feature flags that must be on (`public_api_...`).
    pub features: &'static [&'static str],
    /// The agent account must have been claimed by a human.
    pub claimed: bool,
    /// A payment method on file (or credits covering the charge) is needed.
    pub payment_method: bool,
}

/// One documented error answer of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRow {
    /// HTTP status.
    pub status: u16,
    /// The envelope's `code` (the OAuth `error` on the `/api/agent` endpoints).
    pub code: &'static str,
    /// `details.reason`, when the row has one.
    pub reason: Option<&'static str>,
    /// Other `details` keys documented for it.
    pub details: &'static [&'static str],
    /// When it happens.
    pub when: Option<&'static str>,
    /// The docs imply the row without printing it.
    pub inferred: bool,
}

include!(concat!(env!("OUT_DIR"), "/requires.rs"));

/// An error `code`: the documented ones typed, any other kept as the server sent it.
pub type ErrorCode = OpenEnum<ErrorCodeKnown>;

/// A `details.reason`: the documented ones typed, any other kept as the server sent it.
pub type ErrorReason = OpenEnum<ErrorReasonKnown>;

impl OperationId {
    /// What this operation needs (its `x-requires`).
    pub fn requires(self) -> &'static Requires {
        &REQUIREMENTS[self as usize]
    }

    /// Its documented error rows (its `x-errors`).
    pub fn errors(self) -> &'static [ErrorRow] {
        ERRORS[self as usize]
    }
}

/// Whether the granted scopes cover `scope`: held as is, or through the matching `:write`.
pub fn covers<S: AsRef<str>>(granted: &[S], scope: &str) -> bool {
    let write = scope.strip_suffix(":read").map(|r| format!("{r}:write"));
    granted.iter().any(|g| g.as_ref() == scope || Some(g.as_ref()) == write.as_deref())
}

impl Requires {
    /// The scopes a token holding `granted` lacks for this operation: each missing all-of scope,
    /// and the whole any-of list when it holds none of them.
    pub fn missing_scopes<S: AsRef<str>>(&self, granted: &[S]) -> Vec<&'static str> {
        let mut missing: Vec<&'static str> = self.scopes.iter().copied().filter(|s| !covers(granted, s)).collect();
        if !self.any_scopes.is_empty() && !self.any_scopes.iter().any(|s| covers(granted, s)) {
            missing.extend(self.any_scopes);
        }
        missing
    }

    /// Whether a token holding `granted` has every scope this operation needs.
    pub fn scopes_satisfied<S: AsRef<str>>(&self, granted: &[S]) -> bool {
        self.missing_scopes(granted).is_empty()
    }

    /// One line for people: `proposals:write + the public_api_hiring feature + a claimed account`.
    pub fn summary(&self) -> String {
        if !self.token {
            return if self.claim_token {
                "the claim token (ot_clm_) from registration, no API token".into()
            } else {
                "nothing (tokenless)".into()
            };
        }
        let mut parts: Vec<String> = self.scopes.iter().map(|s| s.to_string()).collect();
        if !self.any_scopes.is_empty() {
            parts.push(format!("at least one of {}", self.any_scopes.join(", ")));
        }
        parts.extend(self.features.iter().map(|f| format!("the {f} feature")));
        if self.claimed {
            parts.push("a claimed account".into());
        }
        if self.payment_method {
            parts.push("a payment method (or credits covering the charge)".into());
        }
        if parts.is_empty() { "any valid token".into() } else { parts.join(" + ") }
    }

    /// The JSON form the MCP server puts in each tool's `_meta["ai.opentrain/requires"]`:
    /// `token`, `scopes`, `anyScopes`, `features`, `claimed` always, `paymentMethod` and
    /// `claimToken` when true.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "token": self.token,
            "scopes": self.scopes,
            "anyScopes": self.any_scopes,
            "features": self.features,
            "claimed": self.claimed,
        });
        if self.payment_method {
            v["paymentMethod"] = true.into();
        }
        if self.claim_token {
            v["claimToken"] = true.into();
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_own_row() {
        assert_eq!(REQUIREMENTS.len(), OperationId::ALL.len());
        assert_eq!(ERRORS.len(), OperationId::ALL.len());
        // Indexing by the enum must land on the operation's own row: tokenless ones agree with
        // the spec's `security: []`.
        for &op in OperationId::ALL {
            assert_eq!(!op.requires().token, op.meta().tokenless, "{}", op.id());
        }
    }

    #[test]
    fn write_covers_read_but_not_the_reverse() {
        assert!(covers(&["jobs:write"], "jobs:read"));
        assert!(!covers(&["jobs:read"], "jobs:write"));
        assert!(!covers(&["payments:write"], "jobs:read"));
    }

    #[test]
    fn any_of_needs_only_one() {
        let updates = OperationId::PollUpdates.requires();
        assert!(updates.scopes_satisfied(&["messages:read"]));
        assert_eq!(updates.missing_scopes(&["jobs:read"]), ["proposals:read", "messages:read", "payments:read"]);
        assert_eq!(updates.summary(), "at least one of proposals:read, messages:read, payments:read");
    }

    #[test]
    fn summaries_read_like_the_docs() {
        assert_eq!(
            OperationId::HireProposal.requires().summary(),
            "proposals:write + the public_api_hiring feature + a claimed account + a payment method (or credits \
             covering the charge)"
        );
        assert_eq!(OperationId::ListTokens.requires().summary(), "any valid token");
        assert_eq!(OperationId::SearchJobs.requires().summary(), "nothing (tokenless)");
        assert!(OperationId::StartClaim.requires().summary().contains("claim token"));
    }

    #[test]
    fn codes_and_reasons_parse_open() {
        let code: ErrorCode = "FORBIDDEN".parse().unwrap_or(OpenEnum::Unknown(String::new()));
        assert_eq!(code, OpenEnum::Known(ErrorCodeKnown::Forbidden));
        let new: ErrorReason = "brand_new_reason".parse().unwrap_or(OpenEnum::Unknown(String::new()));
        assert_eq!(new.as_str(), "brand_new_reason");
        assert_eq!(ErrorReasonKnown::AccountClaimRequired.to_string(), "account_claim_required");
    }
}
