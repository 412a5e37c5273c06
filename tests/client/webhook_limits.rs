//! The webhook verifier's limits are inclusive: a delivery signed exactly `tolerance` ago is
//! accepted (one second more is stale), and so is a header with exactly `MAX_SIGNATURES` entries.

use opentrain::webhook::{MAX_SIGNATURES, SignatureError, Verifier};

#[test]
fn a_signature_exactly_at_the_tolerance_is_accepted_and_one_second_past_it_is_stale() {
    let v = Verifier::new("whsec_tolerance_test");
    let body = br#"{"type":"proposal.received"}"#;
    let t = 1_700_000_000;
    let header = v.sign(t, body);
    assert_eq!(v.verify_at(&header, body, t + 300), Ok(()));
    assert_eq!(v.verify_at(&header, body, t - 300), Ok(()));
    assert_eq!(v.verify_at(&header, body, t + 301), Err(SignatureError::Stale { age_secs: 301, tolerance_secs: 300 }));
}

#[test]
fn a_header_with_exactly_the_most_signatures_is_checked_and_one_more_is_refused() {
    let v = Verifier::new("whsec_rotation_test");
    let body = b"{}";
    let t = 1_700_000_000;
    let good = v.sign(t, body);
    let bogus = |n: usize| vec![format!("v1={}", "00".repeat(32)); n].join(",");
    // Rotating secrets: the valid signature plus as many other entries as the limit allows.
    let full = format!("{good},{}", bogus(MAX_SIGNATURES - 1));
    assert_eq!(v.verify_at(&full, body, t), Ok(()));
    let over = format!("{good},{}", bogus(MAX_SIGNATURES));
    assert!(matches!(v.verify_at(&over, body, t), Err(SignatureError::Malformed(_))));
}
