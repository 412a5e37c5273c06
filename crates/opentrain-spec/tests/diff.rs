//! `opentrain-spec diff` on fixture pairs: every kind of change with its impact, dead overlay
//! actions, operations without a home, the exit status, and a realistic change to the real spec.

use std::{path::Path, process::Command};

use opentrain_codegen::{overlay, read_spec};
use opentrain_spec::diff::{Impact, diff};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    read_spec(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).expect("fixture")
}

fn lines(old: &str, new: &str) -> (String, opentrain_spec::diff::Report) {
    let report = diff(&fixture(old), &fixture(new), Some(&fixture("widgets.overlay.yaml"))).expect("diffs");
    (report.render(), report)
}

#[test]
fn every_kind_of_change_is_reported_with_its_impact() {
    let (text, report) = lines("widgets-old.yaml", "widgets-new.yaml");
    let expected = [
        "BREAKING  delete_widget: operation removed (DELETE /widgets/{id})",
        "additive  paint_widget: operation added (POST /widgets/{id}/paint)",
        "BREAKING  list_widgets: query parameter `legacy` removed",
        "BREAKING  list_widgets: query parameter `limit` became required",
        "BREAKING  list_widgets: query parameter `page` retyped from string to integer",
        "additive  list_widgets: query parameter `sort` added, optional",
        "BREAKING  list_widgets: header parameter `tenant` added, required",
        "BREAKING  list_widgets: query parameter `color`: enum value `blue` removed",
        "additive  list_widgets: query parameter `color`: enum value `purple` added",
        "additive  list_widgets: response 410 removed",
        "additive  list_widgets: response 404 added",
        "BREAKING  list_widgets: response 200: field `widgets[].name` became optional",
        "BREAKING  list_widgets: response 200: field `widgets[].weight` retyped from integer to number",
        "additive  list_widgets: response 200: field `widgets[].createdAt` added",
        "additive  list_widgets: response 200: field `widgets[].color`: enum value `purple` added",
        "BREAKING  list_widgets: response 200: field `widgets[].owner.email` removed",
        "BREAKING  create_widget: request body: field `note` removed",
        "BREAKING  create_widget: request body: field `shape` added, required",
        "additive  create_widget: request body: field `tag` added",
        "BREAKING  create_widget: request body: field `color`: enum value `blue` removed",
        "BREAKING  create_widget: response 201 added",
        "BREAKING  create_widget: response 200: field `owner.email` removed",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|l| !text.lines().any(|t| t == *l)).collect();
    assert!(missing.is_empty(), "missing {missing:#?}\nin:\n{text}");
    assert!(report.breaking());
    assert!(!text.contains("parent"), "a recursive schema is walked once per place: {text}");
}

#[test]
fn dead_overlay_actions_and_operations_without_a_home_are_listed() {
    let (text, report) = lines("widgets-old.yaml", "widgets-new.yaml");
    assert_eq!(report.dead_actions.len(), 1, "{text}");
    assert!(
        report.dead_actions[0].starts_with(r#"action 2 ($.paths['/widgets/{id}'].delete, "delete_widget")"#),
        "{text}"
    );
    assert_eq!(report.homeless, vec![("paint_widget".to_string(), true)]);
}

#[test]
fn an_unchanged_spec_has_nothing_to_report() {
    let (text, report) = lines("widgets-old.yaml", "widgets-old.yaml");
    assert!(report.changes.is_empty() && report.dead_actions.is_empty(), "{text}");
    assert_eq!(report.homeless, vec![], "every old operation has a home in the fixture overlay");
}

#[test]
fn additive_changes_alone_are_not_breaking() {
    let old = fixture("widgets-old.yaml");
    let mut new = old.clone();
    new["components"]["schemas"]["Widget"]["properties"]["shiny"] = serde_json::json!({"type": "boolean"});
    new["paths"]["/widgets"]["get"]["responses"]["500"] = serde_json::json!({"description": "oops"});
    let report = diff(&old, &new, None).expect("diffs");
    assert!(!report.breaking(), "{}", report.render());
    assert!(report.changes.iter().all(|c| c.impact == Impact::Additive));
    assert_eq!(report.changes.len(), 3, "the new field in both responses, the new status: {}", report.render());
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_opentrain-spec"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
        .args(args)
        .output()
        .expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_exit_status_says_whether_something_breaks() {
    let overlay = ["--overlay", "widgets.overlay.yaml"];
    let (code, out) = run(&[&["diff", "widgets-old.yaml", "widgets-new.yaml"][..], &overlay].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BREAKING  delete_widget"), "{out}");
    let (code, _) = run(&[&["diff", "widgets-old.yaml", "widgets-new.yaml", "--exit-zero"][..], &overlay].concat());
    assert_eq!(code, 0);
    let (code, out) = run(&[&["diff", "widgets-old.yaml", "widgets-old.yaml"][..], &overlay].concat());
    assert_eq!((code, out.trim()), (0, "0 breaking, 0 additive"));
    let (code, _) = run(&["diff", "widgets-old.yaml"]);
    assert_eq!(code, 2, "a usage error");
}

#[test]
fn a_realistic_change_to_the_real_spec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let old = read_spec(&root.join("openapi.yaml")).expect("the real spec");
    let mut new = old.clone();
    overlay::apply(&mut new, &fixture("real-change.overlay.yaml")).expect("the change applies");
    let ours = read_spec(&root.join("openapi.overlay.yaml")).expect("the real overlay");
    let report = diff(&old, &new, Some(&ours)).expect("diffs");
    let text = report.render();
    println!("{text}");
    for line in [
        "additive  list_approvals: operation added (GET /api/public/v1/approvals)",
        "BREAKING  get_approval: response 200: field `approval.resolvedAt` removed",
        "additive  get_approval: response 200: field `approval.status`: enum value `cancelled` added",
        "  list_approvals (new)",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }
    assert!(report.dead_actions.is_empty(), "{text}");
}
