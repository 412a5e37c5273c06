//! Verifying `X-OpenTrain-Signature` on webhook deliveries.
//!
//! The header is `t=<unix seconds>,v1=<hex>`; `v1` is HMAC-SHA256 keyed with the subscription's
//! `whsec_...` secret over `"<t>.<raw body>"`. Verify the raw bytes as received, before parsing.

use std::{
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::redact::mask;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-OpenTrain-Signature";

/// The most `v1=` entries a header may carry (OpenTrain sends one; a few allow secret rotation).
pub const MAX_SIGNATURES: usize = 8;

/// The default tolerance between the signed timestamp and now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a delivery was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is missing a part or is not `t=...,v1=...`.
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    /// The timestamp is further from now than the tolerance allows.
    #[error("signature timestamp is {age_secs}s away from now (tolerance {tolerance_secs}s)")]
    Stale {
        /// Distance between the signed time and now.
        age_secs: u64,
        /// The tolerance in force.
        tolerance_secs: u64,
    },
    /// No `v1` signature matches the body.
    #[error("signature does not match the body")]
    Mismatch,
}

/// Checks webhook signatures with one subscription secret.
///
/// ```
/// use opentrain::webhook::Verifier;
/// let v = Verifier::new("whsec_test");
/// let body = br#"{"type":"proposal.received"}"#;
/// let header = v.sign(1_700_000_000, body);
/// assert!(v.verify_at(&header, body, 1_700_000_100).is_ok());
/// assert!(v.verify_at(&header, b"{}", 1_700_000_100).is_err());
/// ```
#[derive(Clone)]
pub struct Verifier {
    secret: Vec<u8>,
    tolerance: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secret", &mask(&String::from_utf8_lossy(&self.secret)))
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// A verifier for `secret` (the `whsec_...` value) with the default 300 s tolerance.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Self { secret: secret.as_ref().to_vec(), tolerance: DEFAULT_TOLERANCE }
    }

    /// Changes the tolerance.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The header value OpenTrain would send for `body` at `timestamp` (for tests and sandboxes).
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let t = timestamp.to_string();
        let digest = self.mac(&t, body).finalize().into_bytes();
        format!("t={t},v1={}", hex(&digest))
    }

    /// Verifies `header` for `body` against the system clock.
    pub fn verify(&self, header: &str, body: &[u8]) -> Result<(), SignatureError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        self.verify_at(header, body, now)
    }

    /// Verifies `header` for `body` as if the time were `now` (unix seconds).
    pub fn verify_at(&self, header: &str, body: &[u8], now: u64) -> Result<(), SignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or(SignatureError::Malformed("a part has no `=`"))?;
            match k {
                "t" => timestamp = Some(v),
                "v1" => signatures.push(v),
                _ => {} // other schemes may be added later; they do not invalidate v1
            }
        }
        let t = timestamp.ok_or(SignatureError::Malformed("no `t=` timestamp"))?;
        let t_secs: u64 = t.parse().map_err(|_| SignatureError::Malformed("timestamp is not a number"))?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed("no `v1=` signature"));
        }
        let age = now.abs_diff(t_secs);
        if age > self.tolerance.as_secs() {
            return Err(SignatureError::Stale { age_secs: age, tolerance_secs: self.tolerance.as_secs() });
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(SignatureError::Malformed("more than 8 `v1=` signatures"));
        }
        // One HMAC over the body, however many candidates: a header stuffed with entries must not
        // multiply the work of hashing a large body.
        let expected = self.mac(t, body).finalize().into_bytes();
        let ok = signatures.iter().filter_map(|s| unhex(s)).any(|sig| bool::from(expected.as_slice().ct_eq(&sig)));
        if ok { Ok(()) } else { Err(SignatureError::Mismatch) }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
