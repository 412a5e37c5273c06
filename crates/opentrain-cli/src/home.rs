//! Where every operation of the spec lives in the CLI: its commands, or why it has none.
//!
//! The `match` below is exhaustive over [`OperationId`], which `build.rs` generates from the
//! spec: an operation added to `openapi.yaml` stops the CLI from compiling until someone decides
//! which command calls it (or writes down why none does). `tests/cli/home.rs` checks the table
//! against the spec's `x-cli` and against the clap command tree, in both directions.

use opentrain::generated::meta::OperationId;

/// The CLI home of one operation.
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
