//! Webhook signature vectors computed independently (Python's hmac module).

use opentrain::webhook::{SignatureError, Verifier};

const SECRET: &str = "whsec_test_secret";
const BODY: &[u8] = br#"{"id":"1043","type":"proposal.received","data":{"proposalId":"p_1","jobId":"j_1"}}"#;
const T: u64 = 1_750_000_000;
// python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_test_secret', b'1750000000.' + BODY, hashlib.sha256).hexdigest())"
const SIG: &str = "c9f2a6b5904f6b11d744eb8b8b1195d7db67f5c0a3cca5f1635a3fcfadd02463";

fn header() -> String {
    format!("t={T},v1={SIG}")
}

#[test]
fn valid_signature_is_accepted_and_matches_the_reference() {
    let v = Verifier::new(SECRET);
    assert_eq!(v.verify_at(&header(), BODY, T + 10), Ok(()));
    assert_eq!(v.sign(T, BODY), header(), "our signer agrees with the reference HMAC");
}

#[test]
fn tampered_body_or_wrong_secret_is_rejected() {
    let tampered = String::from_utf8_lossy(BODY).replace("p_1", "p_2");
    assert_eq!(Verifier::new(SECRET).verify_at(&header(), tampered.as_bytes(), T), Err(SignatureError::Mismatch));
    assert_eq!(Verifier::new("whsec_other").verify_at(&header(), BODY, T), Err(SignatureError::Mismatch));
    let other_t = format!("t={},v1={SIG}", T + 1);
    assert_eq!(Verifier::new(SECRET).verify_at(&other_t, BODY, T), Err(SignatureError::Mismatch));
}

#[test]
fn stale_and_future_timestamps_are_rejected_beyond_the_tolerance() {
    let v = Verifier::new(SECRET);
    assert_eq!(v.verify_at(&header(), BODY, T + 300), Ok(()), "exactly at the 300 s default is still fine");
    assert_eq!(
        v.verify_at(&header(), BODY, T + 301),
        Err(SignatureError::Stale { age_secs: 301, tolerance_secs: 300 })
    );
    assert_eq!(
        v.verify_at(&header(), BODY, T - 301),
        Err(SignatureError::Stale { age_secs: 301, tolerance_secs: 300 })
    );
    let strict = Verifier::new(SECRET).tolerance(std::time::Duration::from_secs(5));
    assert!(matches!(strict.verify_at(&header(), BODY, T + 6), Err(SignatureError::Stale { .. })));
}

#[test]
fn malformed_headers_are_named() {
    let v = Verifier::new(SECRET);
    for bad in ["", "garbage", &format!("v1={SIG}"), &format!("t={T}"), &format!("t=soon,v1={SIG}")] {
        assert!(matches!(v.verify_at(bad, BODY, T), Err(SignatureError::Malformed(_))), "{bad:?} should be malformed");
    }
    // A non-hex signature is a mismatch, not a panic.
    assert_eq!(v.verify_at(&format!("t={T},v1=zz"), BODY, T), Err(SignatureError::Mismatch));
}

#[test]
fn any_matching_v1_among_several_is_enough() {
    let v = Verifier::new(SECRET);
    let rotated = format!("t={T},v1={},v1={SIG}", "0".repeat(64));
    assert_eq!(v.verify_at(&rotated, BODY, T), Ok(()));
}

#[test]
fn debug_never_shows_the_secret() {
    let shown = format!("{:?}", Verifier::new(SECRET));
    assert!(!shown.contains("test_secret"), "{shown}");
    assert!(shown.starts_with("Verifier") && shown.contains("whsec_[redacted]"), "it still says what it is: {shown}");
}

/// `verify` checks against the system clock: a signature made now passes, and a tampered body
/// or an hour-old signature does not.
#[test]
fn verify_against_the_clock_accepts_a_fresh_signature_only() {
    let v = Verifier::new(SECRET);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    assert_eq!(v.verify(&v.sign(now, BODY), BODY), Ok(()));
    assert_eq!(v.verify(&v.sign(now, BODY), b"{}"), Err(SignatureError::Mismatch));
    assert!(v.verify(&v.sign(now - 3600, BODY), BODY).is_err(), "an hour old is past the 300 s tolerance");
}

#[test]
fn a_header_stuffed_with_signatures_is_refused_before_any_hashing() {
    let v = Verifier::new(SECRET);
    let stuffed = format!("t={T},{}v1={SIG}", "v1=00,".repeat(8));
    assert_eq!(v.verify_at(&stuffed, BODY, T), Err(SignatureError::Malformed("more than 8 `v1=` signatures")));
    // A rotated secret's second entry still verifies.
    let two = format!("t={T},v1={},v1={SIG}", "ab".repeat(32));
    assert_eq!(v.verify_at(&two, BODY, T), Ok(()));
}
