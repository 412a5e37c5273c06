//! Every operation of the spec has a CLI home, the homes agree with the spec's `x-cli`, and the
//! homes and the clap command tree match in both directions.

use std::collections::BTreeSet;

use clap::CommandFactory;
use opentrain::generated::meta::{OPERATIONS, OperationId, operation};

use crate::{
    args::Cli,
    home::{Home, LOCAL_COMMANDS, home},
};

/// Every leaf command of the clap tree, as space-separated paths.
fn leaves(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let path = if prefix.is_empty() { sub.get_name().to_string() } else { format!("{prefix} {}", sub.get_name()) };
        if sub.has_subcommands() {
            leaves(sub, &path, out);
        } else {
            out.insert(path);
        }
    }
}

#[test]
fn every_operation_has_a_home_that_agrees_with_the_spec() {
    assert_eq!(OperationId::ALL.len(), OPERATIONS.len(), "the enum and the table come from the same spec");
    for &op in OperationId::ALL {
        let spec = operation(op.id()).expect("the generated id is in the table");
        match (home(op), spec.cli) {
            (Home::Commands(cmds), Some(official)) => assert!(
                cmds.contains(&official),
                "{}: the spec's x-cli says `{official}`, the CLI has {cmds:?}",
                op.id()
            ),
            (Home::Commands(cmds), None) => assert!(!cmds.is_empty(), "{}: an empty home", op.id()),
            (Home::NotExposed(why), None) => assert!(why.len() > 20, "{}: say why it is not exposed", op.id()),
            (Home::NotExposed(_), Some(official)) => {
                panic!("{}: the official CLI runs it as `{official}` but it is marked not exposed", op.id())
            }
        }
    }
}

#[test]
fn homes_and_the_command_tree_match_both_ways() {
    let mut tree = BTreeSet::new();
    leaves(&Cli::command(), "", &mut tree);
    let mut placed: BTreeSet<String> = LOCAL_COMMANDS.iter().map(|(c, _)| c.to_string()).collect();
    for &op in OperationId::ALL {
        if let Home::Commands(cmds) = home(op) {
            for c in cmds {
                assert!(tree.contains(*c), "{} is homed at `{c}`, which is not a command", op.id());
                placed.insert(c.to_string());
            }
        }
    }
    let orphans: Vec<_> = tree.difference(&placed).collect();
    assert!(orphans.is_empty(), "commands that call no operation and are not listed as local: {orphans:?}");
}

#[test]
fn every_command_of_the_official_table_exists() {
    // §6.3 of the CLI reference: 43 commands in 15 namespaces (plus `whoami`).
    let official = [
        "whoami",
        "auth register",
        "auth claim",
        "auth claim-status",
        "auth login",
        "auth status",
        "auth logout",
        "jobs draft create",
        "jobs draft update",
        "jobs list",
        "jobs search",
        "jobs publish",
        "jobs invite",
        "jobs close",
        "jobs update-published",
        "proposals list",
        "proposals get",
        "proposals hire",
        "freelancers get",
        "messages list",
        "messages unread",
        "messages read",
        "messages send",
        "messages start-proposal-thread",
        "contracts list",
        "contracts get",
        "contracts end",
        "milestones create",
        "milestones fund",
        "milestones approve",
        "approvals get",
        "credits show",
        "credits ledger",
        "credits top-up",
        "credits top-up-status",
        "updates poll",
        "webhooks create",
        "webhooks list",
        "webhooks get",
        "webhooks delete",
        "tokens list",
        "tokens revoke",
        "team show",
        "team invite",
        "payments pending",
    ];
    let mut tree = BTreeSet::new();
    leaves(&Cli::command(), "", &mut tree);
    for c in official {
        assert!(tree.contains(c), "missing official command `{c}`");
    }
    for extra in ["tokens create", "approvals wait", "completions"] {
        assert!(tree.contains(extra), "missing `{extra}`");
    }
}

#[test]
fn enumerated_flags_offer_exactly_the_spec_values() {
    use opentrain::generated::tools::TOOLS;
    // The tool table's input schemas carry the spec's enums as written; the CLI's possible values
    // must be the same, so a spec change cannot leave the CLI rejecting a valid value.
    let cases = [
        (&["jobs", "list"][..], "status", "opentrain_list_jobs", "status"),
        (&["jobs", "search"][..], "pay_type", "opentrain_search_jobs", "payType"),
        (&["proposals", "list"][..], "status", "opentrain_list_proposals", "status"),
        (&["messages", "list"][..], "filter", "opentrain_read_messages", "filter"),
        (&["messages", "read"][..], "direction", "opentrain_read_messages", "direction"),
        (&["contracts", "list"][..], "status", "opentrain_list_contracts", "status"),
    ];
    let root = Cli::command();
    for (path, arg, tool, field) in cases {
        let mut cmd = &root;
        for p in path {
            cmd = cmd.find_subcommand(p).expect("subcommand");
        }
        let a = cmd.get_arguments().find(|a| a.get_id() == arg).expect("argument");
        let ours: BTreeSet<String> = a.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        let t = TOOLS.iter().find(|t| t.name == tool).expect("tool");
        let schema: serde_json::Value = serde_json::from_str(t.input_schema).expect("schema");
        let spec: BTreeSet<String> = schema["properties"][field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{tool}.{field} has no enum"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        assert_eq!(ours, spec, "{path:?} --{arg}");
    }
}

/// Every parameter name the CLI passes by string (`params([("jobId", ..)])`, `--cursor`,
/// `--limit`) must be a parameter of an operation in the spec: a parameter renamed in the spec
/// fails here, before any command runs (the raw client also refuses unknown names at call time).
#[test]
fn every_parameter_name_the_cli_sends_is_in_the_spec() {
    let source = include_str!("run.rs");
    let known: BTreeSet<&str> = OPERATIONS.iter().flat_map(|o| o.params.iter().copied()).collect();
    let mut names = BTreeSet::new();
    for call in source.split("params([").skip(1) {
        let list = call.split("])").next().unwrap_or_default();
        // Each pair opens with `("name",`; a value such as `Some("true".into())` does not.
        for item in list.split("(\"").skip(1) {
            if let Some((name, rest)) = item.split_once('"')
                && rest.starts_with(',')
            {
                names.insert(name.to_string());
            }
        }
    }
    for insert in source.split("params.insert(\"").skip(1) {
        if let Some(name) = insert.split('"').next() {
            names.insert(name.to_string());
        }
    }
    assert!(names.len() > 20, "the scan found the CLI's parameters: {names:?}");
    let unknown: Vec<_> = names.iter().filter(|n| !known.contains(n.as_str())).collect();
    assert!(unknown.is_empty(), "parameters the spec does not have: {unknown:?}");
}
