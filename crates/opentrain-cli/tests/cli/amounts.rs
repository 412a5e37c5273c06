//! Amounts: non-finite, negative or absurd values are usage errors naming the flag, and nothing is sent.

use super::*;

#[tokio::test]
async fn non_finite_negative_or_absurd_amounts_are_usage_errors_naming_the_flag() {
    let t = Cli::start().await;
    let hire = ["proposals", "hire", "--proposal-id", "p1", "--name", "m"];
    for bad in ["NaN", "nan", "inf", "-inf", "1e400", "-5", "0", "1e300"] {
        let o = fails(t.cmd().args(hire).arg(format!("--amount={bad}")), 2);
        assert!(stderr(&o).contains("--amount"), "{bad}: {}", stderr(&o));
    }
    for bad in ["NaN", "inf", "-10", "1e400"] {
        let o = fails(t.cmd().args(["credits", "top-up"]).arg(format!("--amount-usd={bad}")), 2);
        assert!(stderr(&o).contains("--amount-usd"), "{bad}: {}", stderr(&o));
    }
    let milestone = ["milestones", "create", "--contract-id", "c1", "--description", "d"];
    let o = fails(t.cmd().args(milestone).arg("--amount-usd=NaN"), 2);
    assert!(stderr(&o).contains("--amount-usd"), "{}", stderr(&o));
    let o = fails(t.cmd().args(milestone).arg("--volume=inf"), 2);
    assert!(stderr(&o).contains("--volume"), "{}", stderr(&o));
    assert!(t.requests().is_empty(), "nothing was sent");
}
