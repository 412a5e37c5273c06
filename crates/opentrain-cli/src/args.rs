//! The command tree: every command of the official CLI with its flags, as clap derives.
//!
//! Flags the official docs name are spelled exactly as documented (aliases included); the rest
//! follow the documented pattern, the kebab-case of the API field (`jobId` → `--job-id`). Which
//! operation each command calls lives in [`super::home`]; what it sends, in [`super::run`].

use opentrain::{
    MAX_AMOUNT,
    generated::meta::{OperationId as O, param_values},
};
use std::time::Duration;

/// The choices the spec gives a parameter, so `--help` and validation follow the spec; a
/// parameter renamed or no longer an enum in the spec fails `Cli::command().debug_assert()`.
fn spec_values(op: O, param: &str) -> clap::builder::PossibleValuesParser {
    let values = param_values(op, param);
    debug_assert!(!values.is_empty(), "{} has no enum parameter `{param}`", op.id());
    clap::builder::PossibleValuesParser::new(values)
}

use clap::{ArgGroup, Args, Parser, Subcommand};

/// `opentrain`: the OpenTrain Public API from the shell.
#[derive(Debug, Parser)]
#[command(
    name = "opentrain",
    version,
    about = "Post data-labeling jobs, review candidates, hire, message and pay AI trainers on OpenTrain.",
    long_about = "Post data-labeling jobs, review candidates, hire, message and pay AI trainers on OpenTrain.\n\n\
        No command moves money: hire, milestone fund/approve and contract end record a request that a human \
        co-signs in the app (the command prints the approval link; `opentrain approvals wait` follows it).\n\n\
        Token: OT_API_TOKEN or OPENTRAIN_API_TOKEN, else the saved credentials \
        (${XDG_CONFIG_HOME:-~/.config}/opentrain/cli.json, written by `auth register` and `auth login`).\n\
        Base URL: --base-url, OT_API_BASE_URL or OPENTRAIN_API_BASE_URL, the saved file, https://app.opentrain.ai.",
    arg_required_else_help = true,
    propagate_version = true,
    max_term_width = 110
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: Global,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts (`global`, so they may come before or after the command).
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    /// Same as --format json
    #[arg(long, global = true, overrides_with = "format")]
    pub json: bool,
    /// table: a readable summary (default). json: the exact API response, pretty. ndjson: one
    /// compact JSON value per line; lists print one item per line as pages arrive. With json or
    /// ndjson, a failure also prints its error envelope as one JSON line on stderr
    #[arg(long, global = true, value_enum, value_name = "FORMAT", overrides_with = "json")]
    pub format: Option<Format>,
    /// Filter the JSON output with a jq expression (implies --format json; strings print raw,
    /// as with jq -r), e.g. --jq '.jobs[].id'
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,
    /// Log each HTTP attempt on stderr: method, path, status, attempt number, elapsed time (never
    /// a token or a body). OPENTRAIN_LOG sets the level instead, e.g. OPENTRAIN_LOG=debug
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Bold and color on stdout: auto (a terminal, NO_COLOR unset or CLICOLOR_FORCE set), always, never
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t)]
    pub color: Color,
    /// API origin, e.g. https://app.opentrain.ai (overrides the environment and the saved file)
    #[arg(long, global = true, value_name = "URL", value_parser = base_url, conflicts_with_all = ["sandbox", "sandbox_state"])]
    pub base_url: Option<String>,
    /// Run against an offline sandbox started for this command (sandbox-only credentials, no network)
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Keep the sandbox's state and credentials in DIR across commands (implies --sandbox)
    #[arg(long, global = true, value_name = "DIR")]
    pub sandbox_state: Option<std::path::PathBuf>,
}

/// What stdout carries (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable summary: fields, aligned tables and the next step.
    Table,
    /// The exact API response, pretty-printed (each page in turn with `--all`).
    Json,
    /// One compact JSON value per line; a list's items one per line.
    Ndjson,
}

/// When stdout gets bold and color (`--color`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it on a pipe).
    #[default]
    Auto,
    /// Always, even into a pipe or with NO_COLOR set.
    Always,
    /// Never.
    Never,
}

impl Global {
    /// The output format the flags ask for: `--json` and `--format` (the later one wins), and
    /// `--jq` implies JSON, since it filters JSON.
    pub fn output_format(&self) -> Result<Format, String> {
        match (self.json, self.format, &self.jq) {
            (true, _, _) => Ok(Format::Json),
            (false, Some(Format::Table), Some(_)) => {
                Err("--jq filters the JSON output: use it with --format json or ndjson, not table".into())
            }
            (false, Some(f), _) => Ok(f),
            (false, None, Some(_)) => Ok(Format::Json),
            (false, None, None) => Ok(Format::Table),
        }
    }
}

/// Top-level commands: one per namespace, plus `whoami`, `completions` and `version`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the account and token in use (same as `auth status`)
    Whoami,
    /// Register an agent, run the claim ceremony, log in and out
    #[command(subcommand)]
    Auth(Auth),
    /// Draft, publish, search and manage jobs
    #[command(subcommand)]
    Jobs(Jobs),
    /// Review proposals and hire (hiring needs a human co-sign)
    #[command(subcommand)]
    Proposals(Proposals),
    /// Read masked AI trainer profiles
    #[command(subcommand)]
    Freelancers(Freelancers),
    /// List conversations, read and send messages
    #[command(subcommand)]
    Messages(Messages),
    /// Post-hire contracts
    #[command(subcommand)]
    Contracts(Contracts),
    /// Create milestones; request funding and release (human co-sign)
    #[command(subcommand)]
    Milestones(Milestones),
    /// Human co-sign approvals: read one or wait for the decision
    #[command(subcommand)]
    Approvals(Approvals),
    /// Prepaid credit balance, ledger and top-ups
    #[command(subcommand)]
    Credits(Credits),
    /// The account event feed
    #[command(subcommand)]
    Updates(Updates),
    /// Webhook subscriptions
    #[command(subcommand)]
    Webhooks(Webhooks),
    /// Personal API tokens
    #[command(subcommand)]
    Tokens(Tokens),
    /// The employer team
    #[command(subcommand)]
    Team(Team),
    /// Pending payments
    #[command(subcommand)]
    Payments(Payments),
    /// Print a shell completion script (e.g. `opentrain completions bash > ~/.local/share/bash-completion/completions/opentrain`)
    Completions {
        /// The shell to generate for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the version (same as --version)
    #[command(hide = true)]
    Version,
    /// Serve an offline sandbox of the OpenTrain API on 127.0.0.1 until Ctrl-C or SIGTERM, or
    /// play the human on a --sandbox-state sandbox (`opentrain sandbox human --help`)
    #[command(args_conflicts_with_subcommands = true)]
    Sandbox {
        /// Port on 127.0.0.1 (0 picks a free one)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Keep the sandbox state in FILE across runs (written atomically)
        #[arg(long, value_name = "FILE")]
        state: Option<std::path::PathBuf>,
        /// What to do instead of serving
        #[command(subcommand)]
        action: Option<SandboxAction>,
    },
}

/// `opentrain sandbox ...` subcommands.
#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Simulate the human on the sandbox kept in --sandbox-state DIR: the steps a person does in
    /// the browser (claim, confirm or decline, add a card, pay), through the sandbox's own pages
    #[command(subcommand)]
    Human(HumanStep),
}

/// `opentrain --sandbox-state DIR sandbox human ...`: what the person does on the sandbox's pages.
#[derive(Debug, Subcommand)]
pub enum HumanStep {
    /// Open the claim link the agent printed (`auth claim`) and type its code
    Claim {
        /// The claim link (`verificationUri`)
        link: String,
        /// The code the agent showed (`userCode`)
        #[arg(long, value_name = "CODE")]
        code: String,
    },
    /// Open an approval and press Confirm (this carries out the hire, funding, release or end)
    Confirm {
        /// The approval id (apr_...) or the approval link
        approval: String,
        /// How to pay when the action costs money
        #[arg(long, value_enum, value_name = "SOURCE", default_value_t)]
        pay_with: PayWith,
    },
    /// Open an approval and press Decline (nothing is carried out)
    Decline {
        /// The approval id (apr_...) or the approval link
        approval: String,
    },
    /// Add the test card (4242) on the organization's billing page
    AddCard {
        /// The organization id (`opentrain whoami` shows it; `sandbox human claim` prints it)
        #[arg(long, value_name = "ORG")]
        org: String,
    },
    /// Pay a credit top-up on its checkout page with the test card
    Pay {
        /// The checkout link (`checkoutUrl`) `credits top-up` printed
        checkout: String,
    },
}

/// The payment source on an approval page (`--pay-with`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PayWith {
    /// The account's credit balance
    #[default]
    Credits,
    /// The card on file (`sandbox human add-card`)
    Card,
}

/// `opentrain auth ...`
#[derive(Debug, Subcommand)]
pub enum Auth {
    /// Create an unclaimed agent account and save its tokens (no token needed)
    Register {
        /// Label the human sees on the claim page, e.g. "Claude Code"
        #[arg(long, visible_alias = "name", value_name = "NAME")]
        agent_name: Option<String>,
        /// Name of the employer organization created with the account
        #[arg(long = "org-name", visible_alias = "organization-name", value_name = "NAME")]
        org_name: Option<String>,
        /// Replace saved credentials (the account they belong to becomes unreachable from here)
        #[arg(long)]
        force: bool,
    },
    /// Email the human owner a link to claim this agent account
    Claim {
        /// The human owner's email (it must not already have an OpenTrain account)
        #[arg(long, value_name = "ADDRESS")]
        email: String,
        /// The claim token (default: the one saved by `auth register`)
        #[arg(long, value_name = "TOKEN")]
        claim_token: Option<String>,
    },
    /// Check whether the human finished the claim; on success the saved token is upgraded
    ClaimStatus {
        /// Keep polling until the claim completes (honours the server's slow_down)
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds
        #[arg(long, value_name = "SECONDS", default_value = "1800", value_parser = seconds)]
        timeout: Duration,
        /// With --wait: seconds between polls, the claim's `interval`
        #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
        interval: Duration,
        /// The claim token (default: the saved one)
        #[arg(long, value_name = "TOKEN")]
        claim_token: Option<String>,
    },
    /// Verify an existing API token, then save it (`-` reads it from stdin)
    Login {
        /// The token, ot_pat_... (`-` reads it from stdin, keeping it out of the shell history)
        #[arg(long, visible_alias = "token", value_name = "TOKEN")]
        api_key: String,
    },
    /// Show the account and token in use
    Status,
    /// Delete the saved credentials file (does not revoke the token)
    Logout,
}

/// `--cursor`, `--limit` and `--all` of the paginated lists.
#[derive(Debug, Clone, Default, Args)]
pub struct Paging {
    /// Start from this cursor (the `nextCursor` of a previous page)
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Page size
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// Follow cursors to the end, printing each page as it arrives
    #[arg(long)]
    pub all: bool,
}

/// `opentrain jobs ...`
#[derive(Debug, Subcommand)]
pub enum Jobs {
    /// Create or update job drafts
    #[command(subcommand)]
    Draft(Draft),
    /// List your jobs, newest first
    List {
        /// Only jobs in this status
        #[arg(long, value_parser = spec_values(O::ListMyJobs, "status"))]
        status: Option<String>,
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// Search public jobs (no token needed)
    Search {
        /// Free text matched against titles and descriptions
        #[arg(long, value_name = "TEXT")]
        q: Option<String>,
        /// Category display value, e.g. "Audio Annotation"
        #[arg(long)]
        category: Option<String>,
        /// Required language by name, e.g. Spanish
        #[arg(long)]
        language: Option<String>,
        /// Allowed country as an ISO code, e.g. US
        #[arg(long)]
        country: Option<String>,
        /// Payment type
        #[arg(long, value_parser = spec_values(O::SearchJobs, "payType"))]
        pay_type: Option<String>,
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// Publish a draft (`opentrain jobs publish <jobId>` also works)
    #[command(group(ArgGroup::new("job").required(true).args(["job_id", "id"])))]
    Publish {
        /// The draft's job id
        #[arg(long, value_name = "ID")]
        job_id: Option<String>,
        /// The draft's job id, positionally
        #[arg(value_name = "JOB_ID", conflicts_with = "job_id")]
        id: Option<String>,
    },
    /// Invite an AI trainer to apply to your published job
    Invite {
        /// Your published job's id
        #[arg(long, value_name = "ID")]
        job_id: String,
        /// The AI trainer's user id (e.g. a proposal's candidate.id)
        #[arg(long, value_name = "ID")]
        freelancer_id: String,
    },
    /// Close a job to new applicants
    Close {
        /// The job id
        #[arg(long, value_name = "ID")]
        job_id: String,
    },
    /// Change fields of a published job (re-moderated)
    UpdatePublished {
        /// The live job's id
        #[arg(long, value_name = "ID")]
        job_id: String,
        /// --set and --description-file
        #[command(flatten)]
        fields: FieldEdits,
    },
}

/// `--set field=value` edits, with `--description-file` for the long text.
#[derive(Debug, Clone, Default, Args)]
#[group(required = true, multiple = true)]
pub struct FieldEdits {
    /// Set a draft field, e.g. --set headcount=3 --set 'languages=["Spanish"]' (repeatable)
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Set jobDescription from a file (`-` reads stdin)
    #[arg(long, value_name = "PATH")]
    pub description_file: Option<std::path::PathBuf>,
}

/// `opentrain jobs draft ...`
#[derive(Debug, Subcommand)]
pub enum Draft {
    /// Create a draft from a plain-text description (no token scope beyond jobs:write)
    #[command(group(ArgGroup::new("input").required(true).args(["description_file", "text"])))]
    Create {
        /// Read the description from a file (`-` reads stdin)
        #[arg(long, value_name = "PATH")]
        description_file: Option<std::path::PathBuf>,
        /// The description text
        #[arg(long, value_name = "DESCRIPTION")]
        text: Option<String>,
        /// Title, prepended to the description
        #[arg(long)]
        title: Option<String>,
        /// Retrying with the same key returns the existing draft instead of a duplicate
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Your own id for the job, for audit and idempotency
        #[arg(long, value_name = "ID")]
        external_id: Option<String>,
    },
    /// Change draft fields
    Update {
        /// The draft's job id
        #[arg(long, value_name = "ID")]
        job_id: String,
        /// --set and --description-file
        #[command(flatten)]
        fields: FieldEdits,
    },
}

/// `opentrain proposals ...`
#[derive(Debug, Subcommand)]
pub enum Proposals {
    /// List the proposals on your job
    List {
        /// Your job's id
        #[arg(long, value_name = "ID")]
        job_id: String,
        /// Only proposals in this status
        #[arg(long, ignore_case = true, value_parser = spec_values(O::ListJobProposals, "status"))]
        status: Option<String>,
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// Read one proposal
    Get {
        /// The proposal id
        #[arg(long, value_name = "ID")]
        proposal_id: String,
        /// Also fetch the AI-interview transcript
        #[arg(long)]
        include_interview: bool,
    },
    /// Request a hire with its first milestone; a human must approve it in the app
    Hire {
        /// The proposal to hire from
        #[arg(long, value_name = "ID")]
        proposal_id: String,
        /// First milestone amount in USD
        #[arg(long, value_name = "USD", value_parser = amount)]
        amount: f64,
        /// First milestone name (this or --description is required)
        #[arg(long)]
        name: Option<String>,
        /// What the first milestone covers
        #[arg(long)]
        description: Option<String>,
        /// First milestone due date, e.g. 2026-07-01
        #[arg(long, value_name = "DATE")]
        due_date: Option<String>,
        /// Hire a proposal you marked "Not a fit" (after a 409 not_fit_confirmation_required)
        #[arg(long, visible_alias = "confirm-not-fit-override")]
        confirm_not_fit: bool,
    },
}

/// `opentrain freelancers ...`
#[derive(Debug, Subcommand)]
pub enum Freelancers {
    /// Read a masked AI trainer profile
    Get {
        /// A user id (such as a proposal's candidate.id) or a profile slug
        #[arg(long, visible_alias = "freelancer-id", value_name = "ID_OR_SLUG")]
        id: String,
    },
}

/// `opentrain messages ...`
#[derive(Debug, Subcommand)]
pub enum Messages {
    /// List conversations
    List {
        /// Which conversations
        #[arg(long, value_parser = spec_values(O::ReadMessages, "filter"))]
        filter: Option<String>,
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// List conversations with unread messages
    Unread {
        /// Which conversations
        #[arg(long, value_parser = spec_values(O::ReadMessages, "filter"))]
        filter: Option<String>,
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// Read the messages of one conversation
    Read {
        /// The conversation
        #[arg(long, value_name = "ID")]
        conversation_id: String,
        /// Page back in time (older, the default) or forward (newer)
        #[arg(long, value_parser = spec_values(O::ReadMessages, "direction"))]
        direction: Option<String>,
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// Send a message to a conversation you belong to
    Send {
        /// The conversation
        #[arg(long, value_name = "ID")]
        conversation_id: String,
        /// Plain text, 1-10,000 characters
        #[arg(long, value_name = "TEXT")]
        content: String,
    },
    /// Open (or reuse) the pre-hire conversation of a proposal
    StartProposalThread {
        /// The proposal
        #[arg(long, value_name = "ID")]
        proposal_id: String,
    },
}

/// `opentrain contracts ...`
#[derive(Debug, Subcommand)]
pub enum Contracts {
    /// List contracts
    List {
        /// Only contracts on this job
        #[arg(long, value_name = "ID")]
        job_id: Option<String>,
        /// Only contracts in this state
        #[arg(long, value_parser = spec_values(O::ListContracts, "status"))]
        status: Option<String>,
    },
    /// Read one contract with its milestones
    Get {
        /// The contract
        #[arg(long, value_name = "ID")]
        contract_id: String,
    },
    /// End a contract (a human must approve when funded milestones exist)
    End {
        /// The active contract to end
        #[arg(long, value_name = "ID")]
        contract_id: String,
    },
}

/// `opentrain milestones ...`
#[derive(Debug, Subcommand)]
pub enum Milestones {
    /// Add an unfunded milestone to a contract
    Create {
        /// The contract
        #[arg(long, value_name = "ID")]
        contract_id: String,
        /// The work to be delivered
        #[arg(long)]
        description: String,
        /// Short milestone name
        #[arg(long)]
        name: Option<String>,
        /// Amount in USD (required on FIXED_PRICE contracts)
        #[arg(long, value_name = "USD", value_parser = amount)]
        amount_usd: Option<f64>,
        /// Hours or labels (required on PAY_PER_HOUR and PAY_PER_LABEL contracts)
        #[arg(long, value_name = "N", value_parser = amount)]
        volume: Option<f64>,
        /// Due date, e.g. 2026-07-15
        #[arg(long, value_name = "DATE")]
        due_date: Option<String>,
    },
    /// Request funding of a milestone; a human must approve it in the app
    Fund {
        /// The NOT_FUNDED milestone
        #[arg(long, value_name = "ID")]
        milestone_id: String,
    },
    /// Request release of a funded milestone; a human must approve it in the app
    Approve {
        /// The ACTIVE_FUNDED milestone
        #[arg(long, value_name = "ID")]
        milestone_id: String,
    },
}

/// `opentrain approvals ...`
#[derive(Debug, Subcommand)]
pub enum Approvals {
    /// Read an approval's status
    Get {
        /// The approval id printed by hire, fund, approve or contract end
        #[arg(long, value_name = "ID")]
        approval_id: String,
    },
    /// Wait until a human confirms or declines an approval (exit 0 only when confirmed)
    Wait {
        /// The approval id printed by hire, fund, approve or contract end
        #[arg(long, value_name = "ID")]
        approval_id: String,
        /// Give up after this many seconds
        #[arg(long, value_name = "SECONDS", default_value = "1800", value_parser = seconds)]
        timeout: Duration,
        /// Seconds before the second poll; the delay grows by half each poll, up to 30 s
        #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = seconds)]
        interval: Duration,
    },
}

/// `opentrain credits ...`
#[derive(Debug, Subcommand)]
pub enum Credits {
    /// Show the credit balance
    Show,
    /// List ledger entries, newest first
    Ledger {
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
    /// Start a top-up; a human pays at the printed checkout link
    TopUp {
        /// Amount in USD, 10 to 10000
        #[arg(long, visible_alias = "amount", value_name = "USD", value_parser = amount)]
        amount_usd: f64,
    },
    /// Check a top-up
    TopUpStatus {
        /// The top-up id
        #[arg(long, value_name = "ID")]
        top_up_id: String,
    },
}

/// `opentrain updates ...`
#[derive(Debug, Subcommand)]
pub enum Updates {
    /// Read account events after a cursor, oldest first
    Poll {
        /// --cursor, --limit, --all
        #[command(flatten)]
        paging: Paging,
    },
}

/// `opentrain webhooks ...`
#[derive(Debug, Subcommand)]
pub enum Webhooks {
    /// Subscribe a URL to event types; the signing secret is shown once, or written to --secret-file
    Create {
        /// Absolute https URL
        #[arg(long)]
        url: String,
        /// Event types, comma-separated or repeated, e.g. proposal.received,message.received
        #[arg(long, visible_alias = "event-type", value_name = "TYPE", value_delimiter = ',', required = true)]
        event_types: Vec<String>,
        /// New file (mode 0600) that receives the signing secret instead of the screen
        #[arg(long, value_name = "PATH")]
        secret_file: Option<std::path::PathBuf>,
    },
    /// List webhook subscriptions
    List,
    /// Read one webhook subscription
    Get {
        /// The subscription
        #[arg(long, value_name = "ID")]
        webhook_id: String,
    },
    /// Delete a webhook subscription
    Delete {
        /// The subscription
        #[arg(long, value_name = "ID")]
        webhook_id: String,
    },
}

/// `opentrain tokens ...`
#[derive(Debug, Subcommand)]
pub enum Tokens {
    /// List the account's API tokens (never their secrets)
    List,
    /// Revoke a token by id (not the secret)
    Revoke {
        /// The token id from `tokens list`
        #[arg(long, value_name = "ID")]
        token_id: String,
    },
    /// Mint a token; its secret is shown once, or written to --secret-file
    Create {
        /// Label (default "API token")
        #[arg(long)]
        name: Option<String>,
        /// Scopes, comma-separated or repeated (default: the calling token's)
        #[arg(long, visible_alias = "scope", value_name = "SCOPE", value_delimiter = ',')]
        scopes: Vec<String>,
        /// ISO-8601 UTC expiry (default: none)
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
        /// New file (mode 0600) that receives the token instead of the screen
        #[arg(long, value_name = "PATH")]
        secret_file: Option<std::path::PathBuf>,
    },
}

/// `opentrain team ...`
#[derive(Debug, Subcommand)]
pub enum Team {
    /// Show the organization, members and pending invites
    Show,
    /// Invite a human teammate by email
    Invite {
        /// Their email
        #[arg(long, value_name = "ADDRESS")]
        email: String,
    },
}

/// `opentrain payments ...`
#[derive(Debug, Subcommand)]
pub enum Payments {
    /// List payments awaiting action
    Pending,
}

/// Parses a non-negative number of seconds, fractions allowed (`0.5`).
fn seconds(s: &str) -> Result<Duration, String> {
    let n: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(n).map_err(|_| format!("`{s}` is not a non-negative number of seconds"))
}

/// Parses an amount or volume: a finite number above 0 and at most [`MAX_AMOUNT`]. `NaN`,
/// `inf` or `1e400` would otherwise reach the request as a missing amount.
fn amount(s: &str) -> Result<f64, String> {
    let n: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
    if !n.is_finite() {
        return Err(format!("`{s}` is not a finite number"));
    }
    if n <= 0.0 || n > MAX_AMOUNT {
        return Err(format!("`{s}` is out of range: give more than 0 and at most {MAX_AMOUNT}"));
    }
    Ok(n)
}

/// A bad `--base-url` is a usage error (exit 2), caught before anything runs.
fn base_url(s: &str) -> Result<String, String> {
    opentrain::credentials::normalize_base_url(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_accept_fractions_and_refuse_negatives() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(seconds("-1").is_err());
        assert!(seconds("soon").is_err());
    }

    #[test]
    fn amounts_are_finite_positive_and_bounded() {
        assert_eq!(amount("12.5"), Ok(12.5));
        for bad in ["NaN", "inf", "-inf", "1e400", "0", "-3", "1e10", "ten"] {
            assert!(amount(bad).is_err(), "{bad}");
        }
    }
}
