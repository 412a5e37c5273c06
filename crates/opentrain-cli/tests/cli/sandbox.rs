//! `opentrain --sandbox-state DIR sandbox human ...`: the person's steps done on a persisted
//! sandbox, so the claim and approval links the agent's commands print can be followed from the
//! shell, each labelled on stderr as a simulation.

use std::path::Path;

use serde_json::Value;

use super::*;

const JOB: &str = "Spanish tweet sentiment\nLabel 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers.";
const BANNER: &str = "[simulating the human]";

/// `opentrain --sandbox-state state ARGS`, which must succeed; its stdout and stderr.
fn run(t: &Cli, state: &Path, args: &[&str]) -> (String, String) {
    let o = ok(t.bare().arg("--sandbox-state").arg(state).args(args));
    (stdout(&o), stderr(&o))
}

/// The same with `--json`, its stdout parsed.
fn run_json(t: &Cli, state: &Path, args: &[&str]) -> Value {
    let (out, _) = run(t, state, &[args, &["--json"]].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no {pointer} in {v}"))
}

#[tokio::test]
async fn the_human_claims_adds_a_card_and_confirms_a_hire_from_the_shell() {
    let t = Cli::start().await;
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path();
    run(&t, dir, &["auth", "register", "--agent-name", "human e2e"]);
    let attempt = run_json(&t, dir, &["auth", "claim", "--email", "owner@example.com"]);
    let (link, code) = (text(&attempt, "/verification_uri"), text(&attempt, "/user_code"));

    // A wrong code is refused the way the page refuses it, and says so.
    let o = fails(
        t.bare().arg("--sandbox-state").arg(dir).args(["sandbox", "human", "claim", link, "--code", "000000"]),
        1,
    );
    assert!(stderr(&o).contains("That code is not right"), "{}", stderr(&o));

    let (out, err) = run(&t, dir, &["sandbox", "human", "claim", link, "--code", code]);
    assert!(err.contains(BANNER), "labelled as a simulation on stderr: {err}");
    assert!(!out.contains(BANNER), "stdout carries the result alone: {out}");
    assert!(out.starts_with(&format!("claimed: typed {code}")), "{out}");
    let status = run_json(&t, dir, &["auth", "claim-status"]);
    assert!(status.to_string().contains("claimed") || status.get("access_token").is_some(), "{status}");
    let me = run_json(&t, dir, &["whoami"]);
    let org = text(&me, "/account/organizationId").to_string();
    assert!(out.contains(&format!("organization {org}")), "the claim names the organization: {out}");

    // A job with proposals; hiring needs a way to pay, which only the person can add.
    let draft = run_json(&t, dir, &["jobs", "draft", "create", "--text", JOB]);
    let job = text(&draft, "/jobId").to_string();
    run(
        &t,
        dir,
        &[
            "jobs",
            "draft",
            "update",
            "--job-id",
            &job,
            "--set",
            "experienceLevel=INTERMEDIATE",
            "--set",
            "dataVolumeUnit=NUMBER_OF_FILES",
        ],
    );
    run(&t, dir, &["jobs", "publish", &job]);
    let proposals = run_json(&t, dir, &["proposals", "list", "--job-id", &job]);
    let proposal = text(&proposals, "/proposals/0/id").to_string();
    let hire = ["proposals", "hire", "--proposal-id", &proposal, "--amount", "100", "--name", "First batch"];
    let refused = fails(t.bare().arg("--sandbox-state").arg(dir).args(hire), 1);
    assert!(stderr(&refused).to_lowercase().contains("payment"), "no way to pay yet: {}", stderr(&refused));

    let added = run_json(&t, dir, &["sandbox", "human", "add-card", "--org", &org]);
    assert_eq!((added["simulatedHuman"].as_bool(), added["step"].as_str()), (Some(true), Some("add-card")), "{added}");
    let pending = run_json(&t, dir, &hire);
    let approval = text(&pending, "/approval/id").to_string();
    let url = text(&pending, "/approval/approvalUrl").to_string();
    // The link one command printed works in the next: the state directory kept the port.
    let (out, err) = run(&t, dir, &["sandbox", "human", "confirm", &url, "--pay-with", "card"]);
    assert!(err.contains(BANNER) && out.contains("confirmed"), "{err}{out}");
    let after = run_json(&t, dir, &["approvals", "get", "--approval-id", &approval]);
    assert_eq!(text(&after, "/approval/status").to_lowercase(), "confirmed", "{after}");

    // Decline by id: nothing is carried out, and a second decision is refused.
    fails(t.bare().arg("--sandbox-state").arg(dir).args(["sandbox", "human", "decline", &approval]), 1);
}

#[tokio::test]
async fn sandbox_human_without_a_persisted_sandbox_is_a_usage_error() {
    let t = Cli::start().await;
    for global in [&[][..], &["--sandbox"][..]] {
        let o = fails(t.bare().args(global).args(["sandbox", "human", "decline", "apr_1"]), 2);
        assert!(stderr(&o).contains("--sandbox-state DIR"), "{}", stderr(&o));
    }
}
