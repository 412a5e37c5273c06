//! Where every operation of the spec lives in the CLI: its commands, or why it has none.
//!
//! The `match` below is exhaustive over [`OperationId`], which `build.rs` generates from the
//! spec: an operation added to `openapi.yaml` stops the CLI from compiling until someone decides
//! which command calls it (or writes down why none does). `tests/cli/home.rs` checks the table
//! against the spec's `x-cli` and against the clap command tree, in both directions.

use opentrain::generated::meta::OperationId;

/// The CLI home of one operation.
// The reasons of `NotExposed` are read by the tests that check the table against the spec.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// The commands that call it (space-separated paths, as typed after `opentrain`).
    Commands(&'static [&'static str]),
    /// Deliberately not reachable from the CLI, and why.
    NotExposed(&'static str),
}

/// The CLI home of `op`.
pub fn home(op: OperationId) -> Home {
    use Home::{Commands, NotExposed};
    use OperationId as O;
    match op {
        O::RegisterAgent => Commands(&["auth register"]),
        O::StartClaim => Commands(&["auth claim"]),
        O::PollAgentToken => Commands(&["auth claim-status"]),
        O::RevokeAgentToken => NotExposed(
            "RFC 7009 revocation is for OAuth clients; the official CLI revokes with `tokens revoke` (DELETE /tokens/{id})",
        ),
        O::GetOauthProtectedResource | O::GetOauthAuthorizationServer => {
            NotExposed("OAuth discovery metadata for OAuth clients; the official CLI has no command for it")
        }
        O::GetAuthMe => Commands(&["auth status", "whoami", "auth login"]),
        O::ListTokens => Commands(&["tokens list"]),
        O::CreateToken => Commands(&["tokens create"]),
        O::RevokeToken => Commands(&["tokens revoke"]),
        O::GetJobDraftCapabilities => NotExposed(
            "the official CLI has no command for it (the MCP server's opentrain_capabilities reads it); \
             `--set` checks keys against the spec's JobFieldPatch instead",
        ),
        O::CreateJobDraft => Commands(&["jobs draft create"]),
        O::UpdateJobDraft => Commands(&["jobs draft update"]),
        O::PublishJob => Commands(&["jobs publish"]),
        O::GetPublicJob | O::GetJobFacets | O::ListJobChanges => {
            NotExposed("tokenless marketplace read the official CLI has no command for (not in its command table)")
        }
        O::UpdatePublishedJob => Commands(&["jobs update-published"]),
        O::CloseJob => Commands(&["jobs close"]),
        O::ListMyJobs => Commands(&["jobs list"]),
        O::SearchJobs => Commands(&["jobs search"]),
        O::InviteFreelancer => Commands(&["jobs invite"]),
        O::ListJobProposals => Commands(&["proposals list"]),
        O::GetProposal => Commands(&["proposals get"]),
        O::GetProposalInterview => Commands(&["proposals get"]),
        O::HireProposal => Commands(&["proposals hire"]),
        O::StartProposalConversation => Commands(&["messages start-proposal-thread"]),
        O::GetFreelancerProfile => Commands(&["freelancers get"]),
        O::ReadMessages => Commands(&["messages list", "messages unread", "messages read"]),
        O::SendMessage => Commands(&["messages send"]),
        O::GetTeam => Commands(&["team show"]),
        O::InviteTeamMember => Commands(&["team invite"]),
        O::ListContracts => Commands(&["contracts list"]),
        O::GetContract => Commands(&["contracts get"]),
        O::CreateMilestone => Commands(&["milestones create"]),
        O::FundMilestone => Commands(&["milestones fund"]),
        O::ApproveMilestone => Commands(&["milestones approve"]),
        O::EndContract => Commands(&["contracts end"]),
        O::GetApproval => Commands(&["approvals get", "approvals wait"]),
        O::GetCredits => Commands(&["credits show"]),
        O::ListCreditLedger => Commands(&["credits ledger"]),
        O::CreateCreditTopUp => Commands(&["credits top-up"]),
        O::GetCreditTopUp => Commands(&["credits top-up-status"]),
        O::ListPendingPayments => Commands(&["payments pending"]),
        O::PollUpdates => Commands(&["updates poll"]),
        O::CreateWebhook => Commands(&["webhooks create"]),
        O::ListWebhooks => Commands(&["webhooks list"]),
        O::GetWebhook => Commands(&["webhooks get"]),
        O::DeleteWebhook => Commands(&["webhooks delete"]),
    }
}

/// Commands that call no operation, and why (they still count as placed in the tree).
#[cfg(test)]
pub const LOCAL_COMMANDS: &[(&str, &str)] = &[
    ("auth logout", "deletes the local credentials file"),
    ("completions", "prints a shell completion script"),
    ("version", "prints the version"),
    ("sandbox", "serves the offline sandbox on 127.0.0.1"),
    ("sandbox human claim", "the person's claim on the sandbox's own page, not an API call"),
    ("sandbox human confirm", "the person's Confirm on the sandbox's approval page"),
    ("sandbox human decline", "the person's Decline on the sandbox's approval page"),
    ("sandbox human add-card", "the person's test card on the sandbox's billing page"),
    ("sandbox human pay", "the person's payment on the sandbox's checkout page"),
];

/// What running `command` (as typed after `opentrain`) needs, one line from the spec's
/// `x-requires` of the operations it calls; `None` for commands that call none.
pub fn requirements(command: &str) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    for &op in OperationId::ALL {
        let Home::Commands(commands) = home(op) else { continue };
        if commands.contains(&command) {
            let line = op.requires().summary();
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// Adds a `Requires: ...` line to the help of every command that calls the API, so a user sees
/// the scope, feature flag, claim or payment method a command needs before running it.
pub fn with_requirements(cmd: clap::Command) -> clap::Command {
    fn walk(cmd: clap::Command, path: &str) -> clap::Command {
        let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        let mut cmd = match requirements(path) {
            Some(line) => cmd.after_help(format!("Requires: {line}")),
            None => cmd,
        };
        for name in names {
            let sub_path = if path.is_empty() { name.clone() } else { format!("{path} {name}") };
            cmd = cmd.mut_subcommand(&name, |sub| walk(sub, &sub_path));
        }
        cmd
    }
    walk(cmd, "")
}

#[cfg(test)]
mod requirement_tests {
    use clap::CommandFactory;

    use super::*;
    use crate::args::Cli;

    /// Every leaf command with the `Requires:` line its help shows (or none).
    fn help_lines(cmd: &mut clap::Command, path: &str, out: &mut Vec<String>) {
        let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        if names.is_empty() || names == ["help"] {
            let help = cmd.render_help().to_string();
            let line = help.lines().find(|l| l.starts_with("Requires: ")).unwrap_or("(no Requires line)");
            out.push(format!("{path}: {line}"));
            return;
        }
        for name in names.into_iter().filter(|n| n != "help") {
            let sub_path = if path.is_empty() { name.clone() } else { format!("{path} {name}") };
            if let Some(sub) = cmd.find_subcommand_mut(&name) {
                help_lines(sub, &sub_path, out);
            }
        }
    }

    #[test]
    fn every_command_that_calls_the_api_says_what_it_needs() {
        let mut root = with_requirements(Cli::command());
        root.build();
        let mut lines = Vec::new();
        help_lines(&mut root, "", &mut lines);
        for line in &lines {
            let (path, _) = line.split_once(": ").unwrap_or_default();
            let local = LOCAL_COMMANDS.iter().any(|(c, _)| *c == path);
            assert_eq!(line.ends_with("(no Requires line)"), local, "{line}");
        }
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn a_command_calling_two_operations_lists_both_needs_once_each() {
        // `proposals get` reads the proposal and, with --include-interview, the interview:
        // both need proposals:read, so one line.
        assert_eq!(requirements("proposals get").as_deref(), Some("proposals:read"));
        assert_eq!(requirements("auth logout"), None);
        assert_eq!(requirements("jobs search").as_deref(), Some("nothing (tokenless)"));
    }
}
