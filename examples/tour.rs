//! A guided tour of the hiring lifecycle against an in-process sandbox, no account and no network:
//! `cargo run --example tour`. Every API call goes through `opentrain::Client`; the steps only a
//! person can take (typing the claim code, minting a full key, paying, pressing Confirm) are played
//! by `opentrain_sandbox::Human`, which signs in with a one-time link and submits the sandbox's
//! own HTML forms as a person would, and are labelled as such.

use std::{
    fmt,
    time::{Duration, Instant},
};

use opentrain::{
    Client, CredentialsFile, Run,
    approvals::{ApprovalWait, wait_for_approval},
    claim::{ClaimWait, RegisterOptions, register, start_claim, wait_for_claim},
    types::{self, EndContractResult},
};
use opentrain_sandbox::{Human, PayWith, Sandbox, SandboxOptions};
use serde_json::Value;

const JOB: &str = "Spanish tweet sentiment\n\
Label 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers.";

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let started = Instant::now();
    // A zero claim interval lets the tour poll at once instead of waiting the real API's 5 s.
    let sandbox = Sandbox::start(SandboxOptions { claim_poll_interval: Duration::ZERO, ..Default::default() })
        .await
        .ctx("start the sandbox")?;
    println!("OpenTrain tour against a private sandbox at {} (127.0.0.1 only)\n", sandbox.base_url());
    let outcome = tour(&sandbox).await;
    sandbox.shutdown().await.ctx("stop the sandbox")?;
    outcome?;
    println!(
        "\nDone in {:.2} s. Nothing left this machine; the sandbox and its temp credentials are gone.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn tour(sandbox: &Sandbox) -> Result<(), Failure> {
    // The person signs in through a one-time link only this process sees; the agent's token
    // cannot open the human pages.
    let human = sandbox.human().await.ctx("sign the human in")?;
    human_did("opened the sandbox's one-time sign-in link: a session only the browser holds");
    // Credentials go to a throwaway directory so the tour never touches the user's cli.json.
    let dir = tempfile::tempdir().ctx("create a temp dir")?;
    let mut store = CredentialsFile::load(dir.path().join("cli.json")).ctx("open the temp credentials file")?;
    let anon = Client::builder().base_url(sandbox.base_url()).build().ctx("build the client")?;

    let reg =
        register(&anon, &mut store, &RegisterOptions { agent_name: Some("Tour agent".into()), ..Default::default() })
            .await
            .ctx("register the agent")?;
    let c = anon.with_token(Some(reg.access_token.clone()));
    step(
        "register",
        format!(
            "agent account created, {} pre-claim scopes; token saved to {}",
            reg.scopes.len(),
            store.path().display()
        ),
    );

    let draft = c
        .create_job_draft()
        .body(types::CreateJobDraftRequest { raw_job_description: Some(JOB.into()), ..Default::default() })
        .send()
        .run()
        .await
        .ctx("draft the job")?;
    let n = draft.normalized_fields.clone().unwrap_or_default();
    step(
        "draft",
        format!(
            "{} \"{}\" read from plain text: {}, {} per label, {} labelers, {}; still missing: {}",
            draft.job_id,
            n.job_title.as_deref().unwrap_or("untitled"),
            n.payment_type.map_or("no pay type".into(), |t| t.to_string()),
            n.price_per_label.map_or("no price".into(), dollars),
            n.headcount.unwrap_or(0.0),
            names(&n.languages),
            names(draft.missing_fields.iter().map(|g| g.field.as_str())),
        ),
    );

    let mut gaps = draft.missing_fields.clone();
    for round in 1.. {
        let patch = fill(&gaps);
        let set = names(patch.iter().map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), String::from))));
        let body: types::JobFieldPatch = serde_json::from_value(Value::Object(patch)).ctx("build the patch")?;
        let updated =
            c.update_job_draft().job_id(&draft.job_id).body(body).send().run().await.ctx("patch the draft")?;
        // `None` is "done, no body": without the validation there is no verdict to go on.
        let v = updated.and_then(|u| u.validation).ok_or("the sandbox sent no validation").ctx("patch the draft")?;
        let verdict = if v.publish_ready {
            "publish-ready".into()
        } else {
            format!("still missing {}", names(&v.missing_fields))
        };
        step("patch", format!("set {set}: {verdict}"));
        if v.publish_ready {
            break;
        }
        // Each round answers exactly what the validation asked; failing to converge means a bug.
        if round == 3 {
            return Err(Failure(format!("the draft is still not publish-ready after {round} patches")));
        }
        gaps.retain(|g| v.missing_fields.contains(&g.field));
    }

    let published = c.publish_job().id(&draft.job_id).send().run().await.ctx("publish the job")?;
    step(
        "publish",
        format!("{} is {} at {}", published.job_id, published.status, published.job_url.as_deref().unwrap_or("-")),
    );

    let proposals = c.list_job_proposals().id(&draft.job_id).send().run().await.ctx("list the proposals")?.proposals;
    let score = |p: &types::JobProposalSummary| p.metrics.as_ref().and_then(|m| m.interview_score).unwrap_or(0.0);
    let best = proposals
        .iter()
        .max_by(|a, b| score(a).total_cmp(&score(b)))
        .ok_or("no proposal arrived")
        .ctx("pick a proposal")?;
    let detail = c.get_proposal().proposal_id(&best.id).send().run().await.ctx("read the proposal")?.proposal;
    let interview =
        c.get_proposal_interview().proposal_id(&best.id).send().run().await.ctx("read the interview")?.interview;
    let who = detail.candidate.as_ref().and_then(|c| c.display_name.clone()).unwrap_or_else(|| "a trainer".into());
    step(
        "proposals",
        format!("{} arrived; best is {} from {who}, AI interview score {}", proposals.len(), best.id, score(best)),
    );
    step(
        "interview",
        format!("{} messages; summary: {}", interview.messages.len(), interview.summary.as_deref().unwrap_or("-")),
    );

    // Money and messages need a claimed account: the agent asks, a person types the code.
    let attempt = start_claim(&anon, &store, "owner@example.com", None).await.ctx("start the claim")?;
    step(
        "claim",
        format!("owner@example.com is asked to open {} and type {}", attempt.verification_uri, attempt.user_code),
    );
    human.claim(&attempt).await.ctx("claim the account")?;
    human_did(format!("opened the claim page, typed {}: \"you own this account now\"", attempt.user_code));
    let claimed =
        wait_for_claim(&anon, &mut store, None, &ClaimWait { interval: Duration::ZERO, ..Default::default() }, |_| {})
            .await
            .ctx("wait for the claim")?;
    let me =
        anon.with_token(Some(claimed.access_token.clone())).get_auth_me().send().run().await.ctx("read auth/me")?;
    let org = me.account.organization_id.ok_or("auth/me names no organization").ctx("read auth/me")?;
    let old = c.get_auth_me().send().run().await.err().and_then(|e| e.status());
    let old = if old == Some(401) { "now gets 401" } else { "still works (unexpected)" };
    step(
        "claimed",
        format!("post-claim token saved to the temp cli.json, the pre-claim one {old}; organization {org}"),
    );

    // payments:write and webhooks:manage only come from a key the owner mints in the app.
    let key = human.mint_full_key(&org).await.ctx("mint a key")?;
    human_did(format!("ticked every scope on the API keys page of {org} and copied the key"));
    let c = anon.with_token(Some(key));
    let scopes: Vec<String> =
        c.get_auth_me().send().run().await.ctx("read auth/me")?.token.scopes.iter().map(|s| s.to_string()).collect();
    let money = ["payments:write", "webhooks:manage"].into_iter().filter(|s| scopes.iter().any(|g| g == s));
    step("full key", format!("auth/me: the agent's new key has {} scopes, including {}", scopes.len(), names(money)));

    let top_up = c
        .create_credit_top_up()
        .body(types::CreateCreditTopUpRequest { amount_usd: 500.0, amount: None })
        .send()
        .run()
        .await
        .ctx("start a top-up")?;
    step("top-up", format!("{} for $500.00 awaits payment at {}", top_up.top_up_id, top_up.checkout_url));
    human.pay(&top_up.checkout_url).await.ctx("pay the top-up")?;
    human_did("pressed Pay on the checkout page with test card 4242");
    let paid = c.get_credit_top_up().top_up_id(&top_up.top_up_id).send().run().await.ctx("read the top-up")?.top_up;
    step("credits", format!("top-up {}; {} available", paid.status, usd(credits(&c).await?.available_cents)));

    let conv = c
        .start_proposal_conversation()
        .proposal_id(&best.id)
        .send()
        .run()
        .await
        .ctx("open a conversation")?
        .ok_or("the sandbox sent no conversation id")
        .ctx("open a conversation")?;
    let hello = "Hi! Can you start this week?";
    c.send_message()
        .body(types::SendMessageRequest { conversation_id: conv.conversation_id.clone(), content: hello.into() })
        .send()
        .run()
        .await
        .ctx("send a message")?;
    let thread = c
        .read_messages()
        .conversation_id(&conv.conversation_id)
        .send()
        .run()
        .await
        .ctx("read the thread")?
        .messages()
        .to_vec();
    let reply = thread.iter().find(|m| m.is_from_viewer == Some(false)).and_then(|m| m.content.as_deref());
    step(
        "message",
        format!("{}: sent \"{hello}\", {who} replied \"{}\"", conv.conversation_id, reply.unwrap_or("(nothing yet)")),
    );

    let hire = c
        .hire_proposal()
        .proposal_id(&best.id)
        .body(types::HireProposalRequest {
            milestone: types::HireProposalMilestone {
                name: Some("First 2,000 labels".into()),
                description: None,
                amount: 100.0,
                due_date: Some("2026-07-01".into()),
            },
            confirm_not_fit_override: None,
        })
        .send()
        .run()
        .await
        .ctx("hire")?;
    let contracts = c.list_contracts().send().run().await.ctx("list contracts")?.contracts;
    step(
        "hire",
        format!(
            "202 pending approval {} ($100.00 first milestone), {}; approvalUrl {}",
            id(&hire.approval),
            if contracts.is_empty() {
                "no contract until a human confirms"
            } else {
                "a contract exists already (unexpected)"
            },
            url(&hire.approval)
        ),
    );
    confirm(&human, &hire.approval).await?;
    let wait = ApprovalWait { initial_interval: Duration::from_millis(10), ..Default::default() };
    let done = wait_for_approval(&c, id(&hire.approval), &wait, |_| {}).await.ctx("wait for the hire approval")?;
    let contract_id =
        done.result.and_then(|r| r.contract_id).ok_or("the confirmed hire names no contract").ctx("hire")?;
    let contract = c.get_contract().contract_id(&contract_id).send().run().await.ctx("read the contract")?.contract;
    let first = contract.milestones.first().ok_or("the contract has no milestone").ctx("read the contract")?;
    step(
        "contract",
        format!(
            "{contract_id} {}: milestone {} {} {}; {} left in credits",
            contract.status,
            first.id,
            dollars(first.amount_usd.unwrap_or(0.0)),
            first.status,
            usd(credits(&c).await?.available_cents)
        ),
    );

    let ms = c
        .create_milestone()
        .contract_id(&contract_id)
        .body(types::CreateMilestoneRequest {
            description: "Next 1,000 labels".into(),
            name: Some("Batch 2".into()),
            volume: Some(1000.0),
            amount_usd: None,
            due_date: None,
        })
        .send()
        .run()
        .await
        .ctx("create a milestone")?
        .milestone;
    step(
        "milestone",
        format!(
            "{} \"Batch 2\": 1,000 labels at the contract rate = {}, {}",
            ms.id,
            dollars(ms.amount_usd.unwrap_or(0.0)),
            ms.status
        ),
    );
    let fund = c.fund_milestone().milestone_id(&ms.id).send().run().await.ctx("fund the milestone")?;
    step("fund", format!("202 pending approval {}; approvalUrl {}", id(&fund.approval), url(&fund.approval)));
    confirm(&human, &fund.approval).await?;
    let approve = c.approve_milestone().milestone_id(&ms.id).send().run().await.ctx("approve the milestone")?;
    step("approve", format!("202 pending approval {}; approvalUrl {}", id(&approve.approval), url(&approve.approval)));
    confirm(&human, &approve.approval).await?;
    let contract = c.get_contract().contract_id(&contract_id).send().run().await.ctx("read the contract")?.contract;
    let state = contract.milestones.iter().find(|m| m.id == ms.id).map_or("gone".into(), |m| m.status.to_string());
    step("paid", format!("{} is {state}: {} released to {who}", ms.id, dollars(ms.amount_usd.unwrap_or(0.0))));

    match c.end_contract().contract_id(&contract_id).send().run().await.ctx("end the contract")? {
        EndContractResult::ApprovalPending(end) => {
            step(
                "end",
                format!(
                    "202 pending approval {} (a milestone is still funded); approvalUrl {}",
                    id(&end.approval),
                    url(&end.approval)
                ),
            );
            confirm(&human, &end.approval).await?;
        }
        EndContractResult::ContractEnded(_) => step("end", "ended at once: nothing was left in escrow"),
    }
    let contract = c.get_contract().contract_id(&contract_id).send().run().await.ctx("read the contract")?.contract;
    let balance = credits(&c).await?;
    step(
        "ended",
        format!(
            "{contract_id} {}; credits {} available, {} held",
            contract.status,
            usd(balance.available_cents),
            usd(balance.reserved_cents)
        ),
    );

    let feed = c.poll_updates().limit(200).send().run().await.ctx("poll the updates feed")?.events;
    step("updates", format!("{} events in the feed; the last ones:", feed.len()));
    for e in feed.iter().rev().take(6).rev() {
        println!("{:16}#{:<6}{:<32}{}", "", e.id, e.type_.to_string(), e.resource_id.as_deref().unwrap_or(""));
    }
    Ok(())
}

/// Picks a value for every field the validation asks for: an enum's example or first value, a
/// number's example, otherwise the example text.
fn fill(gaps: &[types::MissingField]) -> serde_json::Map<String, Value> {
    gaps.iter()
        .map(|g| {
            let key = g.update_keys.first().cloned().unwrap_or_else(|| g.field.clone());
            let value = match (&g.enum_values, g.type_.as_deref()) {
                (Some(values), _) if !values.is_empty() => {
                    Value::from(g.example.clone().filter(|e| values.contains(e)).unwrap_or_else(|| values[0].clone()))
                }
                (_, Some("number")) => {
                    Value::from(g.example.as_deref().and_then(|e| e.parse::<f64>().ok()).unwrap_or(1.0))
                }
                _ => Value::from(g.example.clone().unwrap_or_else(|| "Filled in".into())),
            };
            (key, value)
        })
        .collect()
}

async fn credits(c: &Client) -> Result<types::CreditBalance, Failure> {
    Ok(c.get_credits().send().run().await.ctx("read the credit balance")?.credits)
}

fn step(what: &str, detail: impl fmt::Display) {
    println!("{what:>14}  {detail}");
}

fn human_did(detail: impl fmt::Display) {
    println!("{:>14}  [simulating the human] {detail}", "");
}

fn id(a: &types::Approval) -> &str {
    a.id.as_deref().unwrap_or("?")
}

fn url(a: &types::Approval) -> &str {
    a.approval_url.as_deref().unwrap_or("(none)")
}

fn dollars(amount: f64) -> String {
    format!("${amount:.2}")
}

fn usd(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, (cents % 100).abs())
}

fn names<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    if v.is_empty() { "nothing".into() } else { v.join(", ") }
}

/// Presses Confirm on the approval page, paying from the credit balance.
async fn confirm(human: &Human, approval: &types::Approval) -> Result<(), Failure> {
    human.confirm(approval, PayWith::Credits).await.ctx("confirm the approval")?;
    human_did(format!("read approval {} and pressed Confirm (pay with credits)", id(approval)));
    Ok(())
}

/// A step that failed, with what the tour was doing; `main` prints it as `Error: <message>`.
struct Failure(String);

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names the step that failed, so an error reads "publish the job: HTTP 400 ..." rather than a bare cause.
trait Ctx<T> {
    fn ctx(self, what: &str) -> Result<T, Failure>;
}

impl<T, E: fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, Failure> {
        self.map_err(|e| Failure(format!("{what}: {e}")))
    }
}
