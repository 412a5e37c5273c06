//! Runs a parsed command: its operation id, string parameters and JSON body go to the raw
//! client (the one transport and error path), and the response to [`super::output`].
//!
//! Parameter and field names here are the spec's (`id`, `jobId`, `payType`): the raw client
//! matches them to the operation generated from `openapi.yaml`. The flows that are more than one
//! call (register, claim, login, the waits) use the library's `claim` and `approvals` modules.

use std::{future::Future, io::Write, path::Path, time::Duration};

use serde_json::{Map, Value, json};

use super::{
    Failure,
    args::{
        Approvals, Auth, Cli, Command, Contracts, Credits, Draft, Format, Freelancers, Global, HumanStep, Jobs,
        Messages, Milestones, Paging, PayWith, Payments, Proposals, SandboxAction, Team, Tokens, Updates, Webhooks,
    },
    input::{self, SecretFile},
    output::{self, Out, Table},
    progress::Progress,
};
use opentrain::{
    Client, ConfigError, CredentialsFile, Error, Resolver, Token,
    approvals::{self, ApprovalWait},
    claim::{self, ClaimState, ClaimWait, Poll, RegisterOptions},
    credentials::{self, Resolved, Source},
    generated::meta::{OperationId as O, operation},
    raw::{self, Args},
};

/// Runs `cli` to completion, against a sandbox started first when `--sandbox` prepared one.
pub(crate) async fn run(cli: Cli, sandbox: Option<opentrain_sandbox::SandboxFlag>, out: Out) -> Result<(), Failure> {
    let Cli { global, command } = cli;
    let running = match &sandbox {
        Some(flag) => Some(flag.start().await.map_err(|e| Failure::Local(format!("cannot start the sandbox: {e}")))?),
        None => None,
    };
    // With --sandbox, credentials resolve against the sandbox (its config directory, its URL, no
    // token variables); the process environment itself is never touched.
    let env = sandbox.as_ref().map_or_else(credentials::Env::process, opentrain_sandbox::SandboxFlag::env);
    let mut app = App { out, global, env, sandbox: running };
    let outcome = app.dispatch(command).await;
    if let Some(s) = app.sandbox.take() {
        // Writes the state file, so the next `--sandbox-state` command sees this one's effects.
        s.shutdown().await.map_err(|e| Failure::Local(format!("sandbox: {e}")))?;
    }
    outcome
}

struct App {
    global: Global,
    out: Out,
    /// Where credentials are resolved from.
    env: credentials::Env,
    /// The sandbox `--sandbox` started for this command, if any.
    sandbox: Option<opentrain_sandbox::Sandbox>,
}

/// Parameters of a call, by spec name, leaving out the ones not given.
fn params<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<String>)>) -> Args {
    let mut args = Args::default();
    for (name, value) in pairs {
        if let Some(v) = value {
            args.params.insert(name.to_string(), v);
        }
    }
    args
}

/// A JSON body without its null members (flags not given).
fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Map::new(),
    }
}

/// Runs `wait` unless Ctrl-C or SIGTERM comes first, in which case it is dropped (no request stays in flight).
async fn or_interrupt<T>(wait: impl Future<Output = T>, resume: String) -> Result<T, Failure> {
    tokio::select! {
        r = wait => Ok(r),
        () = opentrain_sandbox::stop_signal() => Err(Failure::Interrupted(resume)),
    }
}

fn source_text(s: &Source) -> String {
    match s {
        Source::Explicit => "command line".into(),
        Source::Env(k) => (*k).into(),
        Source::File(p) => p.display().to_string(),
        Source::Default => "default".into(),
    }
}

impl App {
    /// The token variable currently set, if any: it outranks whatever `auth` commands save.
    fn env_token_var(&self) -> Option<&'static str> {
        Resolver::CLI.token_vars.iter().copied().find(|k| self.env.is_set(k))
    }

    fn resolve(&self, token: Option<Token>) -> Result<Resolved, Failure> {
        Ok(Resolver::CLI.resolve_in(&self.env, token, self.global.base_url.as_deref())?)
    }

    /// No token to send. Under `--sandbox` the real token variables and cli.json are ignored on
    /// purpose, so "set OT_API_TOKEN" would send the user the wrong way.
    fn no_token(&self) -> Failure {
        if self.global.sandbox || self.global.sandbox_state.is_some() {
            return Failure::Local(
                "no sandbox token: --sandbox never uses your real OT_API_TOKEN or cli.json (they are ignored, not \
                 changed); register a sandbox agent first: opentrain --sandbox-state DIR auth register"
                    .into(),
            );
        }
        Failure::NoToken
    }

    /// `cli.json` as this command sees it.
    fn credentials_path(&self) -> Result<std::path::PathBuf, Failure> {
        Ok(self.env.credentials_path()?)
    }

    fn client_for(&self, resolved: Resolved) -> Result<Client, Failure> {
        Ok(Client::builder()
            .resolved(resolved)
            .on_retry(crate::log::on_retry)
            .on_attempt(crate::log::on_attempt)
            .build()?)
    }

    fn client(&self) -> Result<Client, Failure> {
        let r = self.resolve(None)?;
        self.client_for(r)
    }

    /// One call through the raw client: the exact response JSON or one failure.
    async fn call(&self, client: &Client, op: O, args: &Args) -> Result<Value, Failure> {
        if operation(op.id()).is_some_and(|m| !m.tokenless) && client.token().is_none() {
            return Err(self.no_token());
        }
        let result = raw::Client::from_typed(client).call(op.id(), args).await;
        result.map_err(|error| Failure::call(op, &args.params, error))
    }

    /// Prints a response: pretty JSON, or the operation's human view.
    fn print(&mut self, op: O, v: &Value) -> Result<(), Failure> {
        if self.out.json {
            self.out.json_value(v)?;
        } else if v.is_null() {
            // A success without a body (an operation whose status the docs only infer): the
            // operation's view would print the fields of a body that never came.
            self.out.line(format!("Done. {}", raw::NO_BODY))?;
        } else {
            output::render(&mut self.out, op, v)?;
        }
        Ok(())
    }

    /// Calls `op` once and prints the response.
    async fn show(&mut self, op: O, args: Args) -> Result<(), Failure> {
        let client = self.client()?;
        let v = self.call(&client, op, &args).await?;
        self.print(op, &v)
    }

    /// Calls a list operation, following `nextCursor` with `--all` and printing each page as it
    /// arrives (`--json`: each page's exact response; a table otherwise).
    async fn list(&mut self, op: O, mut args: Args, paging: &Paging) -> Result<(), Failure> {
        if let Some(c) = &paging.cursor {
            args.params.insert("cursor".into(), c.clone());
        }
        if let Some(l) = paging.limit {
            args.params.insert("limit".into(), l.to_string());
        }
        let client = self.client()?;
        let mut table: Option<Table> = None;
        let mut noun = "items";
        // The one stop rule: a server that sends an earlier cursor again (c1, c2, c1) or never
        // ends is an error, not an endless `--all`.
        let mut cursors = opentrain::paginate::Cursors::starting_at(paging.cursor.clone());
        loop {
            let page = self.call(&client, op, &args).await?;
            let cursor = args.params.get("cursor");
            let next = page
                .get("nextCursor")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty() && Some(*n) != cursor.map(String::as_str))
                .filter(|_| page.get("hasMore") != Some(&Value::Bool(false)))
                .map(str::to_string);
            if self.out.format == Format::Ndjson {
                // One item per line, each page's as it arrives: `| while read` sees the first
                // items before the last page is fetched.
                match output::list_view(op, &page) {
                    Some(view) => {
                        for item in output::items(&view, &page) {
                            self.out.json_value(item)?;
                        }
                    }
                    None => self.out.json_value(&page)?,
                }
            } else if self.out.json {
                self.out.json_value(&page)?;
            } else if let Some(view) = output::list_view(op, &page) {
                noun = view.noun;
                table
                    .get_or_insert_with(|| Table::new(view.columns))
                    .push(&mut self.out, output::items(&view, &page))?;
            }
            let follow = if paging.all {
                let has_more = page.get("hasMore").and_then(Value::as_bool);
                let raw = page.get("nextCursor").and_then(Value::as_str);
                cursors.next(raw, has_more).map_err(|error| Failure::call(op, &args.params, error))?
            } else {
                None
            };
            match follow {
                Some(n) => {
                    args.params.insert("cursor".into(), n);
                }
                None => {
                    if !self.out.json {
                        self.list_footer(op, &page, table.as_ref().map_or(0, |t| t.rows), noun, next, paging)?;
                    }
                    return Ok(());
                }
            }
        }
    }

    fn list_footer(
        &mut self,
        op: O,
        last: &Value,
        rows: usize,
        noun: &str,
        next: Option<String>,
        paging: &Paging,
    ) -> Result<(), Failure> {
        if rows == 0 {
            self.out.line(format!("No {noun}."))?;
        }
        if op == O::PollUpdates {
            // The feed's cursor is where the next poll starts, even when nothing is new.
            if let Some(c) = last.get("nextCursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                self.out.next(&[format!("next poll: opentrain updates poll --cursor {c}")])?;
            }
        } else if let Some(n) = next.filter(|_| !paging.all) {
            self.out.next(&[format!("more results: add --cursor {n} (or --all for everything)")])?;
        }
        Ok(())
    }

    async fn dispatch(&mut self, command: Command) -> Result<(), Failure> {
        match command {
            Command::Whoami | Command::Auth(Auth::Status) => self.status().await,
            Command::Auth(a) => self.auth(a).await,
            Command::Jobs(j) => self.jobs(j).await,
            Command::Proposals(p) => self.proposals(p).await,
            Command::Freelancers(Freelancers::Get { id }) => {
                self.show(O::GetFreelancerProfile, params([("idOrSlug", Some(id))])).await
            }
            Command::Messages(m) => self.messages(m).await,
            Command::Contracts(c) => match c {
                Contracts::List { job_id, status } => {
                    let args = params([("jobId", job_id), ("status", status)]);
                    self.list(O::ListContracts, args, &Paging::default()).await
                }
                Contracts::Get { contract_id } => {
                    self.show(O::GetContract, params([("contractId", Some(contract_id))])).await
                }
                Contracts::End { contract_id } => {
                    self.show(O::EndContract, params([("contractId", Some(contract_id))])).await
                }
            },
            Command::Milestones(m) => match m {
                Milestones::Create { contract_id, description, name, amount_usd, volume, due_date } => {
                    let mut args = params([("contractId", Some(contract_id))]);
                    args.body = Some(body(json!({
                        "description": description,
                        "name": name,
                        "amountUsd": amount_usd.map(input::number),
                        "volume": volume.map(input::number),
                        "dueDate": due_date,
                    })));
                    self.show(O::CreateMilestone, args).await
                }
                Milestones::Fund { milestone_id } => {
                    self.show(O::FundMilestone, params([("milestoneId", Some(milestone_id))])).await
                }
                Milestones::Approve { milestone_id } => {
                    self.show(O::ApproveMilestone, params([("milestoneId", Some(milestone_id))])).await
                }
            },
            Command::Approvals(Approvals::Get { approval_id }) => {
                self.show(O::GetApproval, params([("approvalId", Some(approval_id))])).await
            }
            Command::Approvals(Approvals::Wait { approval_id, timeout, interval }) => {
                self.wait_approval(approval_id, timeout, interval).await
            }
            Command::Credits(c) => match c {
                Credits::Show => self.show(O::GetCredits, Args::default()).await,
                Credits::Ledger { paging } => self.list(O::ListCreditLedger, Args::default(), &paging).await,
                Credits::TopUp { amount_usd } => {
                    let args = Args::default().body(body(json!({"amountUsd": input::number(amount_usd)})));
                    self.show(O::CreateCreditTopUp, args).await
                }
                Credits::TopUpStatus { top_up_id } => {
                    self.show(O::GetCreditTopUp, params([("topUpId", Some(top_up_id))])).await
                }
            },
            Command::Updates(Updates::Poll { paging }) => self.list(O::PollUpdates, Args::default(), &paging).await,
            Command::Webhooks(w) => match w {
                Webhooks::Create { url, event_types, secret_file } => {
                    let args = Args::default().body(body(json!({"url": url, "eventTypes": event_types})));
                    self.create_with_secret(O::CreateWebhook, args, secret_file.as_deref(), "/secret").await
                }
                Webhooks::List => self.list(O::ListWebhooks, Args::default(), &Paging::default()).await,
                Webhooks::Get { webhook_id } => {
                    self.show(O::GetWebhook, params([("webhookId", Some(webhook_id))])).await
                }
                Webhooks::Delete { webhook_id } => {
                    self.show(O::DeleteWebhook, params([("webhookId", Some(webhook_id))])).await
                }
            },
            Command::Tokens(t) => match t {
                Tokens::List => self.list(O::ListTokens, Args::default(), &Paging::default()).await,
                Tokens::Revoke { token_id } => self.show(O::RevokeToken, params([("tokenId", Some(token_id))])).await,
                Tokens::Create { name, scopes, expires_at, secret_file } => {
                    let scopes = (!scopes.is_empty()).then_some(scopes);
                    let args =
                        Args::default().body(body(json!({"name": name, "scopes": scopes, "expiresAt": expires_at})));
                    self.create_with_secret(O::CreateToken, args, secret_file.as_deref(), "/token").await
                }
            },
            Command::Team(Team::Show) => self.show(O::GetTeam, Args::default()).await,
            Command::Team(Team::Invite { email }) => {
                self.show(O::InviteTeamMember, Args::default().body(body(json!({"email": email})))).await
            }
            Command::Payments(Payments::Pending) => {
                self.list(O::ListPendingPayments, Args::default(), &Paging::default()).await
            }
            Command::Completions { shell } => {
                use clap::CommandFactory;
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "opentrain", &mut script);
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&script)?;
                Ok(())
            }
            Command::Version => Ok(self.out.line(format!("opentrain {}", env!("CARGO_PKG_VERSION")))?),
            Command::Sandbox { action: Some(SandboxAction::Human(step)), .. } => self.human(step).await,
            Command::Sandbox { port, state, action: None } => self.serve_sandbox(port, state).await,
        }
    }

    async fn jobs(&mut self, j: Jobs) -> Result<(), Failure> {
        match j {
            Jobs::Draft(Draft::Create { description_file, text, title, idempotency_key, external_id }) => {
                let text = match (description_file, text) {
                    (Some(path), _) => input::read_text(&path)?,
                    (None, Some(t)) => t,
                    (None, None) => return Err(Failure::Usage("give --description-file or --text".into())),
                };
                if text.trim().is_empty() {
                    return Err(Failure::Usage("the job description is empty".into()));
                }
                // The MCP tool's rule for `title`: prepended to the text, with a blank line.
                let description = match title {
                    Some(t) => format!("{t}\n\n{text}"),
                    None => text,
                };
                let args = Args::default().body(body(json!({
                    "rawJobDescription": description,
                    "idempotencyKey": idempotency_key,
                    "externalId": external_id,
                })));
                self.show(O::CreateJobDraft, args).await
            }
            Jobs::Draft(Draft::Update { job_id, fields }) => {
                let patch = input::field_patch(O::UpdateJobDraft, &fields)?;
                self.show(O::UpdateJobDraft, params([("jobId", Some(job_id))]).body(patch)).await
            }
            Jobs::List { status, paging } => self.list(O::ListMyJobs, params([("status", status)]), &paging).await,
            Jobs::Search { q, category, language, country, pay_type, paging } => {
                let args = params([
                    ("q", q),
                    ("category", category),
                    ("language", language),
                    ("country", country),
                    ("payType", pay_type),
                ]);
                self.list(O::SearchJobs, args, &paging).await
            }
            Jobs::Publish { job_id, id } => self.show(O::PublishJob, params([("id", job_id.or(id))])).await,
            Jobs::Invite { job_id, freelancer_id } => {
                let args = params([("id", Some(job_id))]).body(body(json!({"freelancerId": freelancer_id})));
                self.show(O::InviteFreelancer, args).await
            }
            Jobs::Close { job_id } => self.show(O::CloseJob, params([("id", Some(job_id))])).await,
            Jobs::UpdatePublished { job_id, fields } => {
                let patch = input::field_patch(O::UpdatePublishedJob, &fields)?;
                self.show(O::UpdatePublishedJob, params([("id", Some(job_id))]).body(patch)).await
            }
        }
    }

    async fn proposals(&mut self, p: Proposals) -> Result<(), Failure> {
        match p {
            Proposals::List { job_id, status, paging } => {
                let args = params([("id", Some(job_id)), ("status", status.map(|s| s.to_uppercase()))]);
                self.list(O::ListJobProposals, args, &paging).await
            }
            Proposals::Get { proposal_id, include_interview } => {
                let client = self.client()?;
                let args = params([("proposalId", Some(proposal_id))]);
                let mut v = self.call(&client, O::GetProposal, &args).await?;
                if include_interview {
                    // Both responses are objects with distinct keys (`proposal`, `interview`);
                    // one merged object keeps `--json` a single document.
                    let interview = match self.call(&client, O::GetProposalInterview, &args).await {
                        Ok(i) => i.get("interview").cloned().unwrap_or(Value::Null),
                        Err(Failure::Call { error: Error::Api(e), .. }) if e.status == 404 => Value::Null,
                        Err(f) => return Err(f),
                    };
                    if let Value::Object(m) = &mut v {
                        m.insert("interview".into(), interview);
                    }
                }
                self.print(O::GetProposal, &v)
            }
            Proposals::Hire { proposal_id, amount, name, description, due_date, confirm_not_fit } => {
                if name.as_deref().is_none_or(str::is_empty) && description.as_deref().is_none_or(str::is_empty) {
                    return Err(Failure::Usage("the first milestone needs --name or --description".into()));
                }
                let milestone = body(
                    json!({"amount": input::number(amount), "name": name, "description": description, "dueDate": due_date}),
                );
                let mut b = Map::new();
                b.insert("milestone".into(), Value::Object(milestone));
                if confirm_not_fit {
                    b.insert("confirmNotFitOverride".into(), Value::Bool(true));
                }
                self.show(O::HireProposal, params([("proposalId", Some(proposal_id))]).body(b)).await
            }
        }
    }

    async fn messages(&mut self, m: Messages) -> Result<(), Failure> {
        match m {
            Messages::List { filter, paging } => {
                self.list(O::ReadMessages, params([("filter", filter)]), &paging).await
            }
            Messages::Unread { filter, paging } => {
                let args = params([("filter", filter), ("unreadOnly", Some("true".into()))]);
                self.list(O::ReadMessages, args, &paging).await
            }
            Messages::Read { conversation_id, direction, paging } => {
                let args = params([("conversationId", Some(conversation_id)), ("direction", direction)]);
                self.list(O::ReadMessages, args, &paging).await
            }
            Messages::Send { conversation_id, content } => {
                let args = Args::default().body(body(json!({"conversationId": conversation_id, "content": content})));
                self.show(O::SendMessage, args).await
            }
            Messages::StartProposalThread { proposal_id } => {
                self.show(O::StartProposalConversation, params([("proposalId", Some(proposal_id))])).await
            }
        }
    }

    /// Creates something whose secret the API returns once. With `--secret-file` the secret goes
    /// to a new 0600 file made before the request and is masked in everything printed; without
    /// it the secret is shown once, as the official CLI does, so scripts keep working.
    async fn create_with_secret(
        &mut self,
        op: O,
        args: Args,
        path: Option<&Path>,
        secret_at: &str,
    ) -> Result<(), Failure> {
        let client = self.client()?;
        if client.token().is_none() {
            return Err(self.no_token());
        }
        let file = path.map(SecretFile::create).transpose()?;
        let v = self.call(&client, op, &args).await?;
        let secret = v.pointer(secret_at).and_then(Value::as_str);
        let Some(file) = file else {
            // The one place a secret is printed: it was just created and is never shown again.
            if self.out.json {
                self.out.json_revealing(&v, secret_at)?;
            } else {
                self.print(op, &v)?;
                if let Some(secret) = secret {
                    let label = self.out.strong("Secret (shown once, store it now):");
                    self.out.secret_line(&format!("\n{label}"), secret)?;
                }
            }
            return Ok(());
        };
        let Some(secret) = secret else {
            return Err(Failure::Local(format!(
                "the response has no secret at {secret_at}; {} was removed",
                file.path().display()
            )));
        };
        let saved = file.keep(secret)?;
        // Printing masks every secret, the one just saved included.
        self.print(op, &v)?;
        if !self.out.json {
            self.out.line(format!("\nSecret saved to {} (mode 0600); it is not shown again.", saved.display()))?;
        }
        Ok(())
    }

    /// `opentrain sandbox`: serves until Ctrl-C or SIGTERM (either writes the state file), after
    /// printing where and how to point at it, and the person's sign-in link on stderr.
    async fn serve_sandbox(&mut self, port: u16, state: Option<std::path::PathBuf>) -> Result<(), Failure> {
        // Credentials for tools pointed at this sandbox live in a sandbox-only directory, never in
        // the user's cli.json; without --state it is removed when the sandbox stops.
        let (config_dir, _temp) = opentrain_sandbox::config_dir_for(state.as_deref())
            .map_err(|e| Failure::Local(format!("cannot prepare the sandbox's config directory: {e}")))?;
        let options = opentrain_sandbox::SandboxOptions { port, state_file: state, ..Default::default() };
        let sandbox = opentrain_sandbox::Sandbox::start(options)
            .await
            .map_err(|e| Failure::Local(format!("cannot start the sandbox: {e}")))?;
        if self.out.json {
            let env: Map<String, Value> =
                sandbox.env_block(&config_dir).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            self.out.json_value(&json!({"baseUrl": sandbox.base_url(), "env": env}))?;
        } else {
            self.out.line(sandbox.banner(&config_dir))?;
        }
        // The console, not stdout: stdout may be piped to the agent under test.
        eprintln!("{}", sandbox.sign_in_notice());
        sandbox.serve_until_stopped().await.map_err(|e| Failure::Local(format!("sandbox: {e}")))
    }

    /// `opentrain --sandbox-state DIR sandbox human ...`: the person's step, done by the sandbox's
    /// [`Human`](opentrain_sandbox::Human) driver on the sandbox's own pages, so the links an
    /// earlier command printed lead somewhere. Only a persisted sandbox makes sense: a throwaway
    /// one has no claim or approval to act on.
    async fn human(&mut self, step: HumanStep) -> Result<(), Failure> {
        let sandbox = match (&self.sandbox, &self.global.sandbox_state) {
            (Some(s), Some(_)) => s,
            _ => {
                return Err(Failure::Usage(
                    "`sandbox human` acts on a persisted sandbox: give the same --sandbox-state DIR as the agent's \
                     commands, e.g. opentrain --sandbox-state DIR sandbox human confirm apr_..."
                        .into(),
                ));
            }
        };
        // Stderr, so a script reading stdout still gets the result alone.
        eprintln!(
            "[simulating the human] the sandbox plays the person in the browser; against the real OpenTrain only \
             the account owner can do this, in the app"
        );
        let human = sandbox.human().await.map_err(|e| Failure::Local(format!("sign the human in: {e}")))?;
        let approval_page = |a: &str| {
            if a.contains("://") { a.to_string() } else { format!("/approvals/{a}") }
        };
        let failed = |e: opentrain_sandbox::HumanError| Failure::Local(e.to_string());
        let (done, text, extra) = match step {
            HumanStep::Claim { link, code } => {
                let org = human.claim_at(&link, &code).await.map_err(failed)?;
                let next = org.as_deref().map_or_else(String::new, |o| {
                    format!(
                        "; organization {o} (add a card: opentrain --sandbox-state DIR sandbox human add-card --org {o})"
                    )
                });
                let text = format!(
                    "claimed: typed {code} on the claim page; the agent gets its new token on its next poll \
                     (opentrain auth claim-status){next}"
                );
                ("claim", text, json!({"organizationId": org}))
            }
            HumanStep::Confirm { approval, pay_with } => {
                let with = match pay_with {
                    PayWith::Credits => opentrain_sandbox::PayWith::Credits,
                    PayWith::Card => opentrain_sandbox::PayWith::Card,
                };
                human.confirm_at(&approval_page(&approval), with).await.map_err(failed)?;
                let source = if with == opentrain_sandbox::PayWith::Card { "the card" } else { "credits" };
                ("confirm", format!("confirmed {approval} (paying with {source} where it costs money)"), json!({}))
            }
            HumanStep::Decline { approval } => {
                human.decline_at(&approval_page(&approval)).await.map_err(failed)?;
                ("decline", format!("declined {approval}: nothing was carried out"), json!({}))
            }
            HumanStep::AddCard { org } => {
                human.add_card(&org).await.map_err(failed)?;
                ("add-card", format!("added test card 4242 to {org}"), json!({"organizationId": org}))
            }
            HumanStep::Pay { checkout } => {
                human.pay(&checkout).await.map_err(failed)?;
                ("pay", format!("paid {checkout} with test card 4242"), json!({}))
            }
        };
        if self.out.json {
            let mut v = json!({"simulatedHuman": true, "step": done});
            if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
                m.extend(e);
            }
            self.out.json_value(&v)?;
        } else {
            self.out.line(text)?;
        }
        Ok(())
    }

    async fn auth(&mut self, a: Auth) -> Result<(), Failure> {
        match a {
            Auth::Register { agent_name, org_name, force } => self.register(agent_name, org_name, force).await,
            Auth::Claim { email, claim_token } => {
                // Its verification link carries an `ot_cat_` token the human must open.
                self.out.keep_claim_links = true;
                self.start_claim(email, claim_token).await
            }
            Auth::ClaimStatus { wait, timeout, interval, claim_token } => {
                self.claim_status(wait, timeout, interval, claim_token).await
            }
            Auth::Login { api_key } => self.login(api_key).await,
            Auth::Logout => self.logout(),
            Auth::Status => self.status().await,
        }
    }

    async fn register(
        &mut self,
        agent_name: Option<String>,
        org_name: Option<String>,
        force: bool,
    ) -> Result<(), Failure> {
        let mut resolved = self.resolve(None)?;
        // Registration is tokenless and must not carry whatever token is configured.
        resolved.token = None;
        let client = self.client_for(resolved)?;
        let mut store = CredentialsFile::load_async(self.credentials_path()?).await?;
        let options = RegisterOptions { agent_name, organization_name: org_name, force };
        let reg = match claim::register(&client, &mut store, &options).await {
            Ok(r) => r,
            Err(Error::Config(ConfigError::CredentialsExist { path })) => {
                return Err(Failure::Local(format!(
                    "credentials are already saved in {}: registering again would replace them and lose access \
                     to that account from here; pass --force to register anyway",
                    path.display()
                )));
            }
            Err(error) => return Err(Failure::call(O::RegisterAgent, &Default::default(), error)),
        };
        let path = store.path().display().to_string();
        if self.out.json {
            let mut v = serde_json::to_value(&reg).map_err(|e| Failure::Local(e.to_string()))?;
            v["credentialsFile"] = json!(path);
            return Ok(self.out.json_value(&v)?);
        }
        let v = serde_json::to_value(&reg).unwrap_or_default();
        self.out.line(format!("Registered agent account {}.", output::s(&v, "/registration_id")))?;
        self.out.fields(&[
            ("Saved to", format!("{path} (mode 0600)")),
            ("Scopes", output::s(&v, "/scopes")),
            ("Claim by", output::s(&v, "/claim_token_expires_at")),
        ])?;
        if let Some(var) = self.env_token_var() {
            self.out.line(format!("\nNote: {var} is set and is used instead of the saved token."))?;
        }
        self.out.next(&[
            "drafts and reads work now; to hire and pay, a human claims the account:".into(),
            "opentrain auth claim --email <their address>".into(),
        ])?;
        Ok(())
    }

    async fn start_claim(&mut self, email: String, claim_token: Option<String>) -> Result<(), Failure> {
        let client = self.client()?;
        let store = CredentialsFile::load(self.credentials_path()?)?;
        let attempt = match claim::start_claim(&client, &store, &email, claim_token.map(Token::new)).await {
            Ok(a) => a,
            Err(Error::Config(ConfigError::NoClaimToken)) => return Err(no_claim_token()),
            Err(error) => return Err(Failure::call(O::StartClaim, &Default::default(), error)),
        };
        let v = serde_json::to_value(&attempt).map_err(|e| Failure::Local(e.to_string()))?;
        if self.out.json {
            return Ok(self.out.json_value(&v)?);
        }
        let sent = attempt.email_sent != Some(false);
        self.out.line(if sent {
            format!("Claim started: an email is on its way to {email}.")
        } else {
            format!("Claim started for {email} (no email was sent: share the link below).")
        })?;
        self.out.line(format!(
            "\n  Ask them to open {} and enter code {}\n",
            self.out.strong(&output::s(&v, "/verification_uri")),
            self.out.strong(&output::s(&v, "/user_code"))
        ))?;
        let minutes = attempt.expires_in.map(|s| format!("{} minutes", (s / 60.0).round())).unwrap_or_default();
        self.out.fields(&[("Expires in", minutes)])?;
        // The docs call the interval a number; `--interval` takes whole seconds, rounded up so the
        // suggested poll is never faster than asked.
        let wait = match attempt.interval.map(f64::ceil) {
            Some(i) if i != 5.0 && i.is_finite() && i >= 0.0 => {
                format!("opentrain auth claim-status --wait --interval {i}")
            }
            _ => "opentrain auth claim-status --wait".into(),
        };
        self.out.next(&[wait])?;
        Ok(())
    }

    async fn claim_status(
        &mut self,
        wait: bool,
        timeout: Duration,
        interval: Duration,
        claim_token: Option<String>,
    ) -> Result<(), Failure> {
        // Watching SIGINT and SIGTERM from here on replaces their default (exit at once): a poll
        // in flight when the user stops still ends, and the one-time post-claim token it may
        // carry is saved before the process exits.
        let stop = opentrain_sandbox::stop_signal();
        let mut resolved = self.resolve(None)?;
        resolved.token = None;
        let client = self.client_for(resolved)?;
        let mut store = CredentialsFile::load_async(self.credentials_path()?).await?;
        let token = claim_token.map(Token::new);
        if token.is_none() && store.claim_token().is_none() {
            return Err(no_claim_token());
        }
        let granted = if wait {
            let mut progress = Progress::start("the account claim");
            let settings = ClaimWait { timeout, interval, slow_down_step: Duration::from_secs(5) };
            let waiting = claim::wait_for_claim_until(&client, &mut store, token, &settings, stop, |s| {
                progress.state(&match s {
                    ClaimState::Pending { next_poll_in, .. } => {
                        format!("pending, next check in {}s", next_poll_in.as_secs_f64().ceil())
                    }
                    ClaimState::SlowDown { interval, .. } => {
                        format!("server asked to slow down, polling every {}s", interval.as_secs_f64().ceil())
                    }
                    ClaimState::Claimed => "claimed".into(),
                });
            });
            match waiting.await {
                Ok(Some(granted)) => {
                    progress.finish("claimed");
                    granted
                }
                Ok(None) => {
                    return Err(Failure::Interrupted(
                        "stopped waiting; the claim is unchanged and still pending (the human can still finish \
                         it). Resume with `opentrain auth claim-status --wait`"
                            .into(),
                    ));
                }
                Err(error) => return Err(Failure::call(O::PollAgentToken, &Default::default(), error)),
            }
        } else {
            let token = match token.or_else(|| store.claim_token()) {
                Some(t) => t,
                None => return Err(no_claim_token()),
            };
            match claim::poll_once(&client, &token).await {
                Ok(Poll::Claimed(t)) => {
                    claim::save_claimed(&mut store, &t).await?;
                    t
                }
                Ok(Poll::Pending | Poll::SlowDown(_)) => {
                    if self.out.json {
                        return Ok(self.out.json_value(&json!({"status": "pending"}))?);
                    }
                    self.out.line("Claim pending: the human has not finished yet.")?;
                    self.out.next(&["opentrain auth claim-status --wait".into()])?;
                    return Ok(());
                }
                Err(error) => return Err(Failure::call(O::PollAgentToken, &Default::default(), error)),
            }
        };
        let path = store.path().display().to_string();
        let mut v = serde_json::to_value(&granted).map_err(|e| Failure::Local(e.to_string()))?;
        if self.out.json {
            v["status"] = json!("claimed");
            v["credentialsFile"] = json!(path);
            return Ok(self.out.json_value(&v)?);
        }
        self.out.line("Claimed: the account now belongs to its human owner.")?;
        self.out.fields(&[("Saved to", format!("{path} (upgraded token)")), ("Scopes", output::s(&v, "/scopes"))])?;
        if let Some(var) = self.env_token_var() {
            self.out.line(format!("\nNote: {var} is set and is used instead of the saved token."))?;
        }
        self.out.next(&["opentrain whoami".into()])?;
        Ok(())
    }

    async fn login(&mut self, api_key: String) -> Result<(), Failure> {
        let key = if api_key == "-" { input::read_text(Path::new("-"))? } else { api_key };
        let token = Token::new(key);
        if token.expose().is_empty() {
            return Err(Failure::Usage("--api-key is empty".into()));
        }
        let resolved = self.resolve(Some(token.clone()))?;
        let base = (resolved.base_url_source != Source::Default).then(|| resolved.base_url.clone());
        let client = self.client_for(resolved)?;
        // Verify before saving: a mistyped token must not replace working credentials.
        let me = self.call(&client, O::GetAuthMe, &Args::default()).await?;
        let mut store = CredentialsFile::load_async(self.credentials_path()?).await?;
        store.set_api_token(Some(&token));
        if let Some(b) = base {
            store.set_base_url(Some(&b));
        }
        // Re-read under the lock: only these keys change, whatever was saved meanwhile.
        store.save_async().await?;
        let path = store.path().display().to_string();
        if self.out.json {
            let mut v = me;
            v["credentialsFile"] = json!(path);
            return Ok(self.out.json_value(&v)?);
        }
        self.out.line(format!("Logged in as {}.", who(&me)))?;
        self.out.fields(&[("Saved to", format!("{path} (mode 0600)")), ("Scopes", output::s(&me, "/token/scopes"))])?;
        if let Some(var) = self.env_token_var() {
            self.out.line(format!("\nNote: {var} is set and is used instead of the saved token."))?;
        }
        Ok(())
    }

    fn logout(&mut self) -> Result<(), Failure> {
        let path = self.credentials_path()?;
        // Under the lock, so a register or claim save in flight is not undone by this delete.
        // (No directory, no file: nothing to lock, and logout should not create one.)
        let _lock = match path.parent().filter(|d| d.is_dir()) {
            Some(_) => Some(credentials::CredentialsLock::acquire(&path)?),
            None => None,
        };
        // Deleted without parsing it: a corrupt file must be removable too.
        let deleted = match std::fs::remove_file(&path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Failure::Local(format!("cannot delete {}: {e}", path.display()))),
        };
        if self.out.json {
            let v = json!({"deleted": deleted, "credentialsFile": path.display().to_string(), "tokenRevoked": false});
            return Ok(self.out.json_value(&v)?);
        }
        if deleted {
            self.out.line(format!("Deleted {}.", path.display()))?;
            self.out.line(
                "The token was not revoked: it keeps working until it expires or is revoked \
                 (`opentrain tokens revoke --token-id <id>` with another token, or in the app).",
            )?;
        } else {
            self.out.line(format!("No saved credentials at {} (nothing to delete).", path.display()))?;
        }
        if let Some(var) = self.env_token_var() {
            self.out.line(format!("Note: {var} is still set in this environment."))?;
        }
        Ok(())
    }

    async fn status(&mut self) -> Result<(), Failure> {
        let resolved = self.resolve(None)?;
        let (token_source, base, base_source) =
            (resolved.token_source.clone(), resolved.base_url.clone(), resolved.base_url_source.clone());
        let client = self.client_for(resolved)?;
        let me = self.call(&client, O::GetAuthMe, &Args::default()).await?;
        if self.out.json {
            return Ok(self.out.json_value(&me)?);
        }
        self.out.line(format!("Signed in as {}.", who(&me)))?;
        let s = output::s;
        self.out.fields(&[
            ("User", s(&me, "/actor/userId")),
            ("User type", s(&me, "/actor/userType")),
            (
                "Account",
                format!("{} {}", s(&me, "/account/kind"), s(&me, "/account/organizationId")).trim().to_string(),
            ),
            ("Role", s(&me, "/account/memberRole")),
            ("Token", format!("{} {}", s(&me, "/token/id"), s(&me, "/token/label")).trim().to_string()),
            ("Scopes", s(&me, "/token/scopes")),
            ("Token from", token_source.as_ref().map(source_text).unwrap_or_default()),
            ("Base URL", format!("{base} ({})", source_text(&base_source))),
        ])?;
        Ok(())
    }

    async fn wait_approval(&mut self, id: String, timeout: Duration, interval: Duration) -> Result<(), Failure> {
        let client = self.client()?;
        if client.token().is_none() {
            return Err(self.no_token());
        }
        let mut progress = Progress::start(format!("approval {id}"));
        let settings = ApprovalWait { timeout, initial_interval: interval, ..ApprovalWait::default() };
        let waiting = approvals::wait_for_approval(&client, &id, &settings, |a| {
            progress.state(&a.status.as_ref().map(ToString::to_string).unwrap_or_else(|| "unknown".into()));
        });
        let resume = format!(
            "stopped waiting; approval {id} is unchanged. Resume with `opentrain approvals wait --approval-id {id}`"
        );
        let get = params([("approvalId", Some(id.clone()))]);
        let approval =
            or_interrupt(waiting, resume).await?.map_err(|error| Failure::call(O::GetApproval, &get.params, error))?;
        let status = approval.status.as_ref().map(ToString::to_string).unwrap_or_else(|| "unknown".into());
        progress.finish(&format!("approval {id} {status}"));
        // The final state as the API reports it, every field included.
        let v = self.call(&client, O::GetApproval, &get).await?;
        self.print(O::GetApproval, &v)?;
        if approval.is_confirmed() {
            Ok(())
        } else {
            Err(Failure::Unsuccessful(format!("approval {id} is {status}: the action was not carried out")))
        }
    }
}

fn no_claim_token() -> Failure {
    Failure::Local(
        "no claim token: pass --claim-token, or register first with `opentrain auth register` (it saves one)".into(),
    )
}

/// "Ada Lovelace <ada@example.com>", or what there is of it.
fn who(me: &Value) -> String {
    let name = output::s(me, "/actor/fullName");
    let email = output::s(me, "/actor/email");
    match (name.is_empty(), email.is_empty()) {
        (false, false) => format!("{name} <{email}>"),
        (false, true) => name,
        (true, false) => email,
        (true, true) => format!("user {}", output::s(me, "/actor/userId")),
    }
}
