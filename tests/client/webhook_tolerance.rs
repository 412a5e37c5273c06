//! The webhook tolerance is inclusive: a delivery signed exactly `tolerance` ago is accepted,
//! one second more is stale.

use opentrain::webhook::{SignatureError, Verifier};

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
