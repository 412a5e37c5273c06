//! The command-line face: the official CLI's commands over the spec-generated raw client.
//!
//! - `args`: the clap command tree (every command of the official CLI, plus `tokens create`,
//!   `approvals wait` and `completions`);
//! - `home`: which command calls each operation of the spec, checked exhaustively;
//! - `run`: command → operation id + string parameters + JSON body → [`opentrain::raw::Client::call`],
//!   and the flows that are more than one call (register, claim, login, waits);
//! - `output`: `--format json|ndjson` (filtered by `--jq`, see `jq`) or the human summary;
//! - `log`: `--verbose` / OPENTRAIN_LOG request logging on stderr; `input`: `--set`, files, secret files;
//!   `progress`: spinners and plain progress lines for long waits.
//!
//! Exit codes: 0 success, 1 API, network or local failure, 2 usage error, 130 interrupted.
//! A closed stdout (`| head`) ends the process quietly with 0.
#![forbid(unsafe_code)]

use std::{collections::BTreeMap, ffi::OsString, io::Write, process::ExitCode};

use serde_json::{Value, json};

use opentrain::{Error, generated::meta::OperationId};

mod args;
mod home;
#[cfg(test)]
mod home_tests;
mod input;
mod jq;
mod log;
mod output;
mod progress;
mod run;

/// Why a command did not succeed; [`report`] turns it into stderr text and an exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// A call of `op` failed; `path` is the request path with its parameters filled in, and
    /// `params` those parameters by spec name (the next step may need an id).
    Call { op: OperationId, path: String, params: BTreeMap<String, String>, error: Error },
    /// A library step that is not one API call failed (credentials file, a wait, ...).
    Lib(Error),
    /// The operation needs a token and none is configured.
    NoToken,
    /// Something local failed (exit 1).
    Local(String),
    /// The final state is not the one asked for (a declined approval).
    Unsuccessful(String),
    /// Ctrl-C or SIGTERM during a wait; the message says how to resume (exit 130).
    Interrupted(String),
    /// stdout was closed by the reader: stop quietly.
    BrokenPipe,
}

impl Failure {
    /// A failed call of `op` with these path parameters (none for the agent endpoints).
    fn call(op: OperationId, params: &BTreeMap<String, String>, error: Error) -> Self {
        let (_, path) = request_line(op, params);
        Failure::Call { op, path, params: params.clone(), error }
    }
}

/// The method and the request path of `op` with its path parameters filled in (no query).
pub(crate) fn request_line(op: OperationId, params: &BTreeMap<String, String>) -> (&'static str, String) {
    let meta = opentrain::generated::meta::operation(op.id());
    let mut path = meta.map(|m| m.path).unwrap_or_default().to_string();
    for (name, value) in params {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    (meta.map_or("", |m| m.method), path)
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else if let Some(jq) = e.get_ref().and_then(|i| i.downcast_ref::<output::JqFailed>()) {
            Failure::Local(jq.0.clone())
        } else {
            Failure::Local(format!("cannot write the output: {e}"))
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

/// Runs the CLI with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // Known before parsing, so even a usage error honours --format json and --color.
    let json = machine_output(&argv);
    let color = flag_value(&argv, "--color").map_or(args::Color::Auto, |v| match v.as_str() {
        "always" => args::Color::Always,
        "never" => args::Color::Never,
        _ => args::Color::Auto,
    });
    let cli = match parse(&argv, color) {
        Ok(cli) => cli,
        Err(e) => return clap_failure(&e, json, argv.len()),
    };
    let json = cli.global.output_format().map_or(json, |f| f != args::Format::Table);
    // Compiled before anything runs: a typo in the filter costs no request.
    let out = match prepare_output(&cli.global) {
        Ok(out) => out,
        Err(f) => return report(f, json),
    };
    if let Err(f) = log::init(cli.global.verbose, std::env::var_os("OPENTRAIN_LOG")) {
        return report(f, json);
    }
    // The sandbox flag picks its port and directory; credentials then resolve through its `Env`.
    let sandbox = if cli.global.sandbox || cli.global.sandbox_state.is_some() {
        match opentrain_sandbox::SandboxFlag::prepare(cli.global.sandbox_state.as_deref()) {
            Ok(s) => Some(s),
            Err(e) => return report(Failure::Local(format!("cannot prepare the sandbox: {e}")), json),
        }
    } else {
        None
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return report(Failure::Local(format!("cannot start the async runtime: {e}")), json),
    };
    match runtime.block_on(run::run(cli, sandbox, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => report(f, json),
    }
}

/// The command line parsed with clap's own help and errors colored as `--color` says.
fn parse(argv: &[OsString], color: args::Color) -> Result<args::Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let choice = match color {
        args::Color::Auto => clap::ColorChoice::Auto,
        args::Color::Always => clap::ColorChoice::Always,
        args::Color::Never => clap::ColorChoice::Never,
    };
    let matches = home::with_requirements(args::Cli::command()).color(choice).try_get_matches_from(argv)?;
    args::Cli::from_arg_matches(&matches)
}

/// stdout as the flags ask: the format and the compiled `--jq` filter.
fn prepare_output(global: &args::Global) -> Result<output::Out, Failure> {
    let format = global.output_format().map_err(Failure::Usage)?;
    let jq = global.jq.as_deref().map(jq::Jq::compile).transpose().map_err(Failure::Usage)?;
    Ok(output::Out::new(format, jq, global.color))
}

/// The value of `--name V` or `--name=V` (the last one given), read before clap parses.
fn flag_value(argv: &[OsString], name: &str) -> Option<String> {
    let mut found = None;
    let mut args = argv.iter().map(|a| a.to_string_lossy());
    while let Some(a) = args.next() {
        if a == name {
            found = args.next().map(|v| v.into_owned());
        } else if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            found = Some(v.to_string());
        }
    }
    found
}

/// Whether the command line asks for machine output (`--json`, `--format json|ndjson`, `--jq`),
/// so that a usage error is reported as a JSON envelope too.
fn machine_output(argv: &[OsString]) -> bool {
    argv.iter().any(|a| a == "--json" || a == "--jq" || a.to_string_lossy().starts_with("--jq="))
        || flag_value(argv, "--format").is_some_and(|f| f == "json" || f == "ndjson")
}

/// Help and version go to stdout with exit 0; everything else clap rejects is a usage error.
fn clap_failure(e: &clap::Error, json: bool, argc: usize) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        // Bare `opentrain` shows the help, as the official CLI does.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand if argc <= 1 => {
            let _ = write!(std::io::stdout(), "{}", e.render());
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            report(Failure::Usage(format!("a subcommand is needed\n\n{}", e.render())), json)
        }
        _ => {
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            report(Failure::Usage(text.to_string()), json)
        }
    }
}

/// Prints a failure on stderr (and its envelope as one JSON line with `--json`); the exit code.
fn report(failure: Failure, json: bool) -> ExitCode {
    let (lines, envelope, code): (Vec<String>, Value, u8) = match failure {
        Failure::BrokenPipe => return ExitCode::SUCCESS,
        Failure::Usage(msg) => {
            (vec![format!("Usage error: {msg}")], json!({"error": first_line(&msg), "code": "USAGE_ERROR"}), 2)
        }
        Failure::NoToken => {
            let msg = "no OpenTrain API token: set OT_API_TOKEN (or OPENTRAIN_API_TOKEN), log in with \
                       `opentrain auth login --api-key <token>`, or register an agent with `opentrain auth register`";
            (vec![format!("Error: {msg}")], json!({"error": msg, "code": "NO_TOKEN"}), 1)
        }
        Failure::Local(msg) => (vec![format!("Error: {msg}")], json!({"error": msg, "code": "LOCAL_ERROR"}), 1),
        Failure::Unsuccessful(msg) => {
            (vec![format!("Error: {msg}")], json!({"error": msg, "code": "NOT_CONFIRMED"}), 1)
        }
        Failure::Interrupted(msg) => {
            (vec![format!("Interrupted: {msg}")], json!({"error": msg, "code": "INTERRUPTED"}), 130)
        }
        Failure::Call { op, path, params, error } => {
            let (mut lines, mut envelope, code) = describe(Some((op, path)), &error);
            if let Some(next) = unknown_outcome(op, &params, &error) {
                lines.extend(next);
                envelope["details"]["outcomeUnknown"] = json!(true);
            }
            (lines, envelope, code)
        }
        Failure::Lib(error) => describe(None, &error),
    };
    // Server-supplied text (code, requestId, details, an OAuth `error`) may echo a secret.
    let mut err = std::io::stderr().lock();
    for line in lines {
        let _ = writeln!(err, "{}", opentrain::redact(&line));
    }
    if json {
        let mut envelope = envelope;
        opentrain::redact_json(&mut envelope);
        let _ = writeln!(err, "{envelope}");
    }
    ExitCode::from(code)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The stderr lines and envelope of a library error.
fn describe(call: Option<(OperationId, String)>, error: &Error) -> (Vec<String>, Value, u8) {
    let call = call
        .and_then(|(o, path)| opentrain::generated::meta::operation(o.id()).map(|m| format!("{} {path}", m.method)));
    let at = |msg: String| match &call {
        Some(c) => format!("{c}: {msg}"),
        None => msg,
    };
    match error {
        Error::Api(e) => {
            let head = if e.code.is_empty() { String::new() } else { format!(" {}", e.code) };
            let mut lines = vec![format!("Error (HTTP {}{head}): {}", e.status, e.message)];
            if let Some(d) = &e.details {
                let d = Value::Object(d.clone());
                lines.push(format!("Details: {d}"));
            }
            if let Some(id) = &e.request_id {
                lines.push(format!("Request ID: {id}"));
            }
            // An unclaimed account already gets its own `Next:` line below.
            if let Some(why) = e.missing_requirement().filter(|_| e.reason() != Some("account_claim_required")) {
                lines.push(format!("Requirement: {why}"));
            }
            lines.extend(api_hint(e));
            (lines, e.to_envelope(), 1)
        }
        Error::OAuth(e) => {
            let msg = e.description.clone().unwrap_or_else(|| e.error.clone());
            let mut lines = vec![format!("Error (HTTP {} {}): {msg}", e.status, e.error)];
            let hint = match e.error.as_str() {
                "expired_token" => {
                    Some("the claim window closed: register a new agent with `opentrain auth register --force`")
                }
                "access_denied" => Some("the human declined the claim"),
                "invalid_grant" => {
                    Some("the claim token is unknown or its token was already delivered: check `opentrain auth status`")
                }
                _ => None,
            };
            lines.extend(hint.map(|h| format!("Next: {h}")));
            let mut env = json!({"error": e.error});
            if let Some(d) = &e.description {
                env["error_description"] = json!(d);
            }
            (lines, env, 1)
        }
        Error::Transport { attempts, .. } | Error::Timeout { attempts, .. } => {
            let msg = at(error.to_string());
            (
                vec![format!("Error: {msg}")],
                json!({"error": msg, "code": error.code_str(), "details": {"attempts": attempts}}),
                1,
            )
        }
        Error::InvalidResponse { status, .. } => {
            let msg = at(error.to_string());
            (
                vec![format!("Error: {msg}")],
                json!({"error": msg, "code": error.code_str(), "details": {"status": status}}),
                1,
            )
        }
        Error::WaitTimedOut { .. } => {
            let msg = error.to_string();
            (vec![format!("Error: {msg}")], json!({"error": msg, "code": error.code_str()}), 1)
        }
        other => {
            let msg = at(other.to_string());
            (vec![format!("Error: {msg}")], json!({"error": msg, "code": other.code_str()}), 1)
        }
    }
}

/// What to do after a write whose outcome is unknown: the request may have been carried out
/// though no answer came back, so repeating it blindly can hire or draft twice. The lines name
/// the command that shows whether it happened and what makes a repeat safe; `None` for reads
/// and for errors with a known outcome.
///
/// Decided here until the SDK can tell "never sent" from "sent, no answer": a transport error
/// or timeout on anything but a GET counts as unknown.
fn unknown_outcome(op: OperationId, params: &BTreeMap<String, String>, error: &Error) -> Option<Vec<String>> {
    if !error.outcome_unknown() {
        return None;
    }
    let param = |name: &str| params.get(name).map_or_else(|| "<id>".to_string(), String::clone);
    let (check, repeat) = match op.id() {
        "create_job_draft" => (
            "`opentrain jobs list` (is the draft there?)".to_string(),
            "sending it again with the same --idempotency-key returns the existing draft instead of a second one; \
             give --idempotency-key (and --external-id for your own id) so a repeat is always safe",
        ),
        "hire_proposal" => (
            format!(
                "`opentrain proposals get --proposal-id {}` and `opentrain contracts list` (a pending approval or a \
                 contract means it went through)",
                param("proposalId")
            ),
            "the same milestone terms give back the same pending approval, but different terms replace it",
        ),
        "update_job_draft" | "update_published_job" | "publish_job" | "close_job" | "invite_freelancer" => {
            ("`opentrain jobs list`".to_string(), "it has no idempotency key")
        }
        "create_milestone" | "end_contract" => {
            (format!("`opentrain contracts get --contract-id {}`", param("contractId")), "it has no idempotency key")
        }
        "fund_milestone" | "approve_milestone" => {
            ("`opentrain contracts list`".to_string(), "it has no idempotency key")
        }
        "send_message" | "start_proposal_conversation" => {
            ("`opentrain messages list`".to_string(), "it has no idempotency key: a repeat may post twice")
        }
        "create_credit_top_up" => {
            ("`opentrain credits show`".to_string(), "each call starts a new top-up: a repeat may start two")
        }
        "invite_team_member" => ("`opentrain team show`".to_string(), "it has no idempotency key"),
        "create_token" | "revoke_token" => ("`opentrain tokens list`".to_string(), "it has no idempotency key"),
        "create_webhook" | "delete_webhook" => ("`opentrain webhooks list`".to_string(), "it has no idempotency key"),
        _ => ("`opentrain auth status`".to_string(), "it has no idempotency key"),
    };
    Some(vec![
        "The request was sent but no answer came back: it may or may not have been carried out.".into(),
        format!("Next: before sending it again, check whether it happened with {check}; {repeat}."),
    ])
}

/// The next step for API errors whose cure is known.
fn api_hint(e: &opentrain::ApiError) -> Option<String> {
    if e.reason() == Some("account_claim_required") {
        return Some(
            "Next: a human must claim this account first: opentrain auth claim --email <their address>".into(),
        );
    }
    if e.reason() == Some("not_fit_confirmation_required") {
        return Some("Next: to hire anyway, run the command again with --confirm-not-fit".into());
    }
    if let Some(url) = e.billing_url() {
        return Some(format!("Next: a human adds a payment method at {url}"));
    }
    match e.status {
        401 => Some(
            "Next: check the token with `opentrain auth status`, or log in again with `opentrain auth login`".into(),
        ),
        _ => None,
    }
}
