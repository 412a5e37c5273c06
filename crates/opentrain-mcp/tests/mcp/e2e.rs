//! Every tool of the table, end to end: the real `opentrain-mcp` binary driven by rmcp's client
//! against an in-process sandbox on 127.0.0.1, through a realistic hiring flow whose ids feed
//! the next step (the person's part played by the sandbox's `Human`), and at least one
//! documented error per tool (unclaimed account, missing scope, unknown id, payment method
//! required, feature off, ...). The test reads the tool table and fails when a tool was not run
//! in both paths, so a new tool cannot ship without an end-to-end test.

use std::{collections::BTreeSet, process::Stdio, time::Duration};

use opentrain::{CredentialsFile, Token};
use opentrain_sandbox::{PayWith, Sandbox, SandboxOptions};
use rmcp::{ServiceExt, transport::TokioChildProcess};
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use tokio::process::Command;

use crate::harness::{BIN, Client, Recorder, call, is_error, structured, text};

const JOB: &str = "Spanish tweet sentiment\n\
Label 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers.";

/// Every feature flag the sandbox knows, all turned off on the second sandbox.
const FEATURES: [&str; 8] = [
    "public_api_job_drafting",
    "public_api_job_publishing",
    "public_api_hiring",
    "public_api_messaging_writes",
    "public_api_team",
    "public_api_payments_write",
    "public_api_credits",
    "public_api_webhooks",
];

/// Which tools answered a success and which a documented error.
#[derive(Default)]
struct Tally {
    ok: BTreeSet<String>,
    err: BTreeSet<String>,
}

/// One `opentrain-mcp` process with its own HOME, pointed at a sandbox.
struct Agent {
    home: TempDir,
    client: Client,
}

impl Agent {
    /// A server reading credentials from its own (empty) cli.json.
    async fn start(sandbox: &Sandbox) -> Self {
        Self::spawn(sandbox.base_url(), None).await
    }

    /// A server whose token comes from OPENTRAIN_PERSONAL_API_TOKEN.
    async fn with_token(sandbox: &Sandbox, token: &Token) -> Self {
        Self::spawn(sandbox.base_url(), Some(token)).await
    }

    async fn spawn(base_url: &str, token: Option<&Token>) -> Self {
        let home = tempfile::tempdir().expect("temp HOME");
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("OPENTRAIN_API_BASE_URL", base_url)
            .kill_on_drop(true);
        if let Some(t) = token {
            cmd.env("OPENTRAIN_PERSONAL_API_TOKEN", t.expose());
        }
        let (transport, _) =
            TokioChildProcess::builder(cmd).stderr(Stdio::null()).spawn().expect("spawn opentrain-mcp");
        let client = Recorder::default().serve(transport).await.expect("MCP handshake");
        Self { home, client }
    }

    fn store(&self) -> CredentialsFile {
        CredentialsFile::load(self.home.path().join(".config").join("opentrain").join("cli.json")).expect("cli.json")
    }

    /// Calls `name` and expects a success: returns structuredContent and the text.
    async fn ok(&self, tally: &mut Tally, name: &str, args: Value) -> (Value, String) {
        let r = call(&self.client, name, args).await;
        let t = text(&r);
        assert!(!is_error(&r), "{name} failed: {t}");
        assert!(!t.trim().is_empty() && !t.starts_with("Error"), "{name}: the person sees a summary: {t:?}");
        tally.ok.insert(name.to_string());
        (structured(&r), t)
    }

    /// Calls `name` and expects an error result with HTTP `status` (`None`: refused before
    /// anything was sent) whose text a person reads carries `says`.
    async fn err(&self, tally: &mut Tally, name: &str, args: Value, status: Option<u16>, says: &str) -> Value {
        let r = call(&self.client, name, args).await;
        let (s, t) = (structured(&r), text(&r));
        assert!(is_error(&r), "{name} should have failed: {t}");
        assert!(t.starts_with("Error") || t.starts_with("Invalid"), "{name}: {t}");
        assert!(t.contains(says), "{name}: the text should say {says:?}: {t}");
        match status {
            Some(code) => assert_eq!(s["status"], code, "{name}: {s}"),
            None => assert!(s.get("status").is_none(), "{name}: nothing was sent: {s}"),
        }
        tally.err.insert(name.to_string());
        s
    }
}

/// A sandbox for fast tests: no claim poll interval, webhook retries in milliseconds.
fn fast() -> SandboxOptions {
    SandboxOptions {
        claim_poll_interval: Duration::ZERO,
        webhook_retry_delays: vec![Duration::from_millis(20); 4],
        ..Default::default()
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

fn approval(v: &Value) -> opentrain::types::Approval {
    serde_json::from_value(v["approval"].clone()).unwrap_or_else(|e| panic!("an approval in {v}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_runs_against_the_sandbox_in_its_success_and_error_paths() {
    let options = fast();
    let sandbox = Sandbox::start(options.clone()).await.expect("sandbox");
    let human = sandbox.human().await.expect("the human signs in");
    let receiver = httpmock::MockServer::start_async().await;
    receiver.mock_async(|_, then| drop(then.status(200))).await;
    let mut t = Tally::default();
    let a = Agent::start(&sandbox).await;

    // Anonymous: a tokenless read and registration; a second registration would lose the account.
    let (found, text) = a.ok(&mut t, "opentrain_search_jobs", json!({"limit": 5})).await;
    assert!(found["jobs"].as_array().is_some_and(|j| !j.is_empty()), "the sandbox market lists jobs: {text}");
    a.err(&mut t, "opentrain_search_jobs", json!({"cursor": "not-a-cursor"}), Some(400), "cursor").await;
    let (reg, _) = a.ok(&mut t, "opentrain_register_agent", json!({"agentName": "MCP e2e"})).await;
    let saved = a.store().api_token().expect("the token is saved");
    assert!(!reg.to_string().contains(saved.expose()), "saved, not shown: {reg}");
    a.err(&mut t, "opentrain_register_agent", json!({"agentName": "again"}), None, "already saved").await;

    let (me, text) = a.ok(&mut t, "opentrain_auth_status", json!({})).await;
    assert!(text.contains("\"Agent registration\": scopes jobs:read, jobs:write"), "{text}");
    let scopes = me["token"]["scopes"].to_string();
    assert!(!scopes.contains("proposals:write"), "unclaimed, no hiring scope yet: {scopes}");
    let org = str_at(&me, "/account/organizationId").to_string();
    let (caps, _) = a.ok(&mut t, "opentrain_capabilities", json!({})).await;
    assert!(caps.to_string().contains("hiring"), "{caps}");

    // Draft, fill what validation asks for, publish.
    let (draft, text) = a.ok(&mut t, "opentrain_create_job_draft", json!({"jobDescription": JOB})).await;
    let job = str_at(&draft, "/jobId").to_string();
    assert!(text.contains(&job), "{text}");
    let mut patch = Map::new();
    for gap in draft["missingFields"].as_array().expect("missingFields") {
        patch.insert(str_at(gap, "/updateKeys/0").to_string(), gap["enumValues"][0].clone());
    }
    let (updated, _) = a.ok(&mut t, "opentrain_update_job_draft_fields", json!({"jobId": job, "patch": patch})).await;
    assert_eq!(updated["validation"]["publishReady"], true, "{updated}");
    a.err(
        &mut t,
        "opentrain_update_job_draft_fields",
        json!({"jobId": "job_nope", "patch": {"headcount": 2}}),
        Some(404),
        "job_nope",
    )
    .await;
    a.err(&mut t, "opentrain_publish_job", json!({"jobId": "job_nope"}), Some(404), "job_nope").await;
    let (published, _) = a.ok(&mut t, "opentrain_publish_job", json!({"jobId": job})).await;
    assert_eq!(published["status"], "OPEN", "{published}");
    let (edited, _) =
        a.ok(&mut t, "opentrain_update_published_job", json!({"jobId": job, "patch": {"headcount": 4}})).await;
    assert_eq!(edited["status"], "OPEN", "{edited}");
    a.err(
        &mut t,
        "opentrain_update_published_job",
        json!({"jobId": "job_nope", "patch": {"headcount": 4}}),
        Some(404),
        "job_nope",
    )
    .await;
    let (mine, _) = a.ok(&mut t, "opentrain_list_jobs", json!({"status": "OPEN"})).await;
    assert!(mine["jobs"].as_array().is_some_and(|j| j.iter().any(|x| x["id"] == job.as_str())), "{mine}");

    // The market's proposals, a proposal with its interview, the candidate's masked profile.
    let (list, text) = a.ok(&mut t, "opentrain_list_proposals", json!({"jobId": job})).await;
    let proposals = list["proposals"].as_array().expect("proposals").clone();
    assert_eq!(proposals.len(), 3, "{text}");
    a.err(&mut t, "opentrain_list_proposals", json!({"jobId": "job_nope"}), Some(404), "job_nope").await;
    let proposal = str_at(&proposals[0], "/id").to_string();
    let (detail, _) =
        a.ok(&mut t, "opentrain_get_proposal", json!({"proposalId": proposal, "includeInterview": true})).await;
    assert!(detail["interview"]["interview"]["messages"].as_array().is_some_and(|m| !m.is_empty()), "{detail}");
    a.err(&mut t, "opentrain_get_proposal", json!({"proposalId": "prop_nope"}), Some(404), "prop_nope").await;
    let candidate = str_at(&detail, "/proposal/candidate/id").to_string();
    let (profile, _) = a.ok(&mut t, "opentrain_get_freelancer_profile", json!({"idOrSlug": candidate})).await;
    assert!(profile.to_string().contains(&candidate), "{profile}");
    a.err(&mut t, "opentrain_get_freelancer_profile", json!({"idOrSlug": "nobody"}), Some(404), "nobody").await;
    let other = str_at(&proposals[1], "/candidate/id").to_string();

    // A second, unclaimed agent: every claim-gated write says so.
    let u = Agent::start(&sandbox).await;
    u.ok(&mut t, "opentrain_register_agent", json!({"agentName": "Unclaimed"})).await;
    let unclaimed = "account_claim_required";
    for (name, args) in [
        ("opentrain_invite_freelancer", json!({"jobId": job, "freelancerId": other})),
        ("opentrain_start_proposal_conversation", json!({"proposalId": proposal})),
        ("opentrain_send_message", json!({"conversationId": "conv_x", "content": "Hello"})),
        ("opentrain_create_milestone", json!({"contractId": "ctr_x", "description": "Batch"})),
        ("opentrain_request_milestone_funding", json!({"milestoneId": "ms_x"})),
        ("opentrain_request_milestone_approval", json!({"milestoneId": "ms_x"})),
        ("opentrain_end_contract", json!({"contractId": "ctr_x"})),
        ("opentrain_create_credit_top_up", json!({"amountUsd": 50})),
        ("opentrain_invite_team_member", json!({"email": "teammate@example.com"})),
    ] {
        u.err(&mut t, name, args, Some(403), unclaimed).await;
    }
    // Claim: an unknown claim token is refused, then the real ceremony.
    u.err(
        &mut t,
        "opentrain_claim_account",
        json!({"email": "x@example.com", "claimToken": "ot_ct_nope"}),
        Some(400),
        "invalid",
    )
    .await;
    u.err(&mut t, "opentrain_claim_status", json!({"claimToken": "ot_ct_nope"}), Some(400), "invalid").await;
    drop(u);

    let (attempt, text) = a.ok(&mut t, "opentrain_claim_account", json!({"email": "owner@example.com"})).await;
    assert!(text.contains(str_at(&attempt, "/user_code")), "the person is shown the code: {text}");
    let (pending, _) = a.ok(&mut t, "opentrain_claim_status", json!({})).await;
    assert_eq!(pending["claimed"], false, "{pending}");
    human.claim(&serde_json::from_value(attempt).expect("claim attempt")).await.expect("the human claims");
    let (claimed, _) = a.ok(&mut t, "opentrain_claim_status", json!({})).await;
    let post_claim = a.store().api_token().expect("the post-claim token is saved");
    assert_ne!(post_claim, saved, "the post-claim token replaced the pre-claim one");
    assert!(!claimed.to_string().contains(post_claim.expose()), "saved, not shown: {claimed}");

    // Claimed, but no card and no credits: the hire is refused and says how to pay.
    let hire_args = json!({"proposalId": proposal, "milestone": {"name": "Pilot", "amount": 100}});
    a.err(&mut t, "opentrain_hire_proposal", hire_args.clone(), Some(409), "payment_method_required").await;
    // The post-claim token has no payments:write or webhooks:manage: those come from a key the
    // person mints in the app.
    a.err(
        &mut t,
        "opentrain_create_webhook",
        json!({"url": receiver.url("/hook"), "eventTypes": ["proposal.received"]}),
        Some(403),
        "webhooks:manage",
    )
    .await;

    // A key with one scope: every read of another family is refused, naming the scope.
    let narrow = human.mint_key(&org, "Jobs only", &["jobs:read"]).await.expect("mint a narrow key");
    let n = Agent::with_token(&sandbox, &narrow).await;
    n.err(&mut t, "opentrain_read_messages", json!({}), Some(403), "messages:read").await;
    n.err(&mut t, "opentrain_list_contracts", json!({}), Some(403), "payments:read").await;
    n.err(&mut t, "opentrain_list_pending_payments", json!({}), Some(403), "payments:read").await;
    n.err(&mut t, "opentrain_get_team", json!({}), Some(403), "team:read").await;
    n.err(&mut t, "opentrain_poll_updates", json!({}), Some(403), "messages:read or payments:read").await;
    n.err(&mut t, "opentrain_get_credits", json!({}), Some(403), "payments:read").await;
    n.err(&mut t, "opentrain_list_credit_ledger", json!({}), Some(403), "payments:read").await;
    n.err(&mut t, "opentrain_list_webhooks", json!({}), Some(403), "webhooks:manage").await;
    drop(n);

    // The full key, saved where the server reads it.
    let full = human.mint_full_key(&org).await.expect("mint a full key");
    let mut store = a.store();
    store.set_api_token(Some(&full));
    store.save().expect("save the full key");

    // Webhooks: create (secret shown once), list, read, delete; deleting twice is a 404.
    let (hook, _) = a
        .ok(
            &mut t,
            "opentrain_create_webhook",
            json!({"url": receiver.url("/hook"), "eventTypes": ["proposal.received", "message.received"]}),
        )
        .await;
    let hook_id = str_at(&hook, "/webhook/id").to_string();
    assert!(str_at(&hook, "/secret").starts_with("whsec_"), "the signing secret is returned once: {hook}");
    let (hooks, _) = a.ok(&mut t, "opentrain_list_webhooks", json!({})).await;
    assert!(hooks.to_string().contains(&hook_id), "{hooks}");
    let (one, _) = a.ok(&mut t, "opentrain_get_webhook", json!({"webhookId": hook_id})).await;
    assert!(!one.to_string().contains("whsec_"), "never again: {one}");
    a.err(&mut t, "opentrain_get_webhook", json!({"webhookId": "wh_nope"}), Some(404), "wh_nope").await;
    a.ok(&mut t, "opentrain_delete_webhook", json!({"webhookId": hook_id})).await;
    a.err(&mut t, "opentrain_delete_webhook", json!({"webhookId": hook_id}), Some(404), &hook_id).await;

    // Credits: a top-up the person pays on its checkout page.
    let (top_up, text) = a.ok(&mut t, "opentrain_create_credit_top_up", json!({"amountUsd": 500})).await;
    let checkout = str_at(&top_up, "/checkoutUrl").to_string();
    assert!(text.contains(&checkout), "the person is shown where to pay: {text}");
    human.pay(&checkout).await.expect("the human pays");
    let top_up_id = str_at(&top_up, "/topUpId").to_string();
    let (paid, _) = a.ok(&mut t, "opentrain_get_credit_top_up", json!({"topUpId": top_up_id})).await;
    assert_eq!(paid["topUp"]["status"], "COMPLETED", "{paid}");
    a.err(&mut t, "opentrain_get_credit_top_up", json!({"topUpId": "top_nope"}), Some(404), "top_nope").await;
    let (credits, _) = a.ok(&mut t, "opentrain_get_credits", json!({})).await;
    assert_eq!(credits["credits"]["availableCents"], 50_000, "{credits}");
    let (ledger, _) = a.ok(&mut t, "opentrain_list_credit_ledger", json!({})).await;
    assert_eq!(ledger["entries"][0]["type"], "TOP_UP", "{ledger}");

    // Messages before the hire; invite another trainer.
    let (conv, _) = a.ok(&mut t, "opentrain_start_proposal_conversation", json!({"proposalId": proposal})).await;
    let conv_id = str_at(&conv, "/conversationId").to_string();
    a.ok(&mut t, "opentrain_send_message", json!({"conversationId": conv_id, "content": "Can you start this week?"}))
        .await;
    let (thread, _) = a.ok(&mut t, "opentrain_read_messages", json!({"conversationId": conv_id})).await;
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(2), "my message and the reply: {thread}");
    let (invite, _) = a.ok(&mut t, "opentrain_invite_freelancer", json!({"jobId": job, "freelancerId": other})).await;
    assert!(invite.to_string().contains(&other), "{invite}");

    // Hire: pending until the person confirms; the wait tool sees the decision.
    let (hire, text) = a.ok(&mut t, "opentrain_hire_proposal", hire_args).await;
    let hire_approval = approval(&hire);
    let approval_id = hire_approval.id.clone().expect("approval id");
    assert!(text.contains(hire_approval.approval_url.as_deref().expect("approvalUrl")), "{text}");
    human.confirm(&hire_approval, PayWith::Credits).await.expect("the human confirms");
    let (waited, _) = a.ok(&mut t, "opentrain_wait_for_approval", json!({"approvalId": approval_id})).await;
    assert_eq!(waited["approval"]["status"], "confirmed", "{waited}");
    a.err(&mut t, "opentrain_wait_for_approval", json!({"approvalId": "appr_nope"}), Some(404), "appr_nope").await;
    let (done, _) = a.ok(&mut t, "opentrain_get_approval", json!({"approvalId": approval_id})).await;
    let contract = str_at(&done, "/approval/result/contractId").to_string();
    a.err(&mut t, "opentrain_get_approval", json!({"approvalId": "appr_nope"}), Some(404), "appr_nope").await;
    let (contracts, _) = a.ok(&mut t, "opentrain_list_contracts", json!({"jobId": job})).await;
    assert!(contracts.to_string().contains(&contract), "{contracts}");
    let (c, _) = a.ok(&mut t, "opentrain_get_contract", json!({"contractId": contract})).await;
    assert_eq!(c["contract"]["milestones"][0]["status"], "ACTIVE_FUNDED", "{c}");
    a.err(&mut t, "opentrain_get_contract", json!({"contractId": "ctr_nope"}), Some(404), "ctr_nope").await;

    // A second milestone: create, fund and release, each co-signed by the person.
    let (ms, _) = a
        .ok(
            &mut t,
            "opentrain_create_milestone",
            json!({"contractId": contract, "description": "Batch 2", "volume": 1000}),
        )
        .await;
    let ms_id = str_at(&ms, "/milestone/id").to_string();
    let (fund, _) = a.ok(&mut t, "opentrain_request_milestone_funding", json!({"milestoneId": ms_id})).await;
    let (pending, _) = a.ok(&mut t, "opentrain_list_pending_payments", json!({})).await;
    assert_eq!(pending["payments"].as_array().map(Vec::len), Some(1), "the funding waits for the person: {pending}");
    human.confirm(&approval(&fund), PayWith::Credits).await.expect("confirm funding");
    let (release, _) = a.ok(&mut t, "opentrain_request_milestone_approval", json!({"milestoneId": ms_id})).await;
    human.confirm(&approval(&release), PayWith::Credits).await.expect("confirm release");
    let (end, _) = a.ok(&mut t, "opentrain_end_contract", json!({"contractId": contract})).await;
    human.confirm(&approval(&end), PayWith::Credits).await.expect("confirm the end");
    let (ended, _) = a.ok(&mut t, "opentrain_get_contract", json!({"contractId": contract})).await;
    assert_eq!(ended["contract"]["status"], "ended", "{ended}");
    let (events, _) = a.ok(&mut t, "opentrain_poll_updates", json!({"limit": 200})).await;
    let kinds: BTreeSet<&str> =
        events["events"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(kinds.contains("contract.created") && kinds.contains("approval.confirmed"), "{kinds:?}");

    // Team, then the job is closed.
    let (team, _) = a.ok(&mut t, "opentrain_get_team", json!({})).await;
    assert!(team.to_string().contains("owner@example.com"), "{team}");
    a.ok(&mut t, "opentrain_invite_team_member", json!({"email": "teammate@example.com"})).await;
    let (closed, _) = a.ok(&mut t, "opentrain_close_job", json!({"jobId": job})).await;
    assert_eq!(closed["status"], "ARCHIVED", "{closed}");
    a.err(&mut t, "opentrain_close_job", json!({"jobId": "job_nope"}), Some(404), "job_nope").await;

    // Tokens: list, revoke the post-claim one; a server still holding it is turned away.
    let (tokens, _) = a.ok(&mut t, "opentrain_list_tokens", json!({})).await;
    let post_claim_id = tokens["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|k| k["name"] == "Agent (claimed)")
        .map(|k| str_at(k, "/id").to_string())
        .expect("the post-claim token is listed");
    a.ok(&mut t, "opentrain_revoke_token", json!({"tokenId": post_claim_id})).await;
    a.err(&mut t, "opentrain_revoke_token", json!({"tokenId": "tok_nope"}), Some(404), "tok_nope").await;
    let revoked = Agent::with_token(&sandbox, &post_claim).await;
    revoked.err(&mut t, "opentrain_auth_status", json!({}), Some(401), "revoked").await;
    revoked.err(&mut t, "opentrain_list_tokens", json!({}), Some(401), "revoked").await;
    revoked.err(&mut t, "opentrain_list_jobs", json!({}), Some(401), "revoked").await;

    // A sandbox with every feature flag off: the feature errors name the flag.
    let off = Sandbox::start(SandboxOptions { disabled_features: FEATURES.map(String::from).to_vec(), ..options })
        .await
        .expect("second sandbox");
    let f = Agent::start(&off).await;
    f.ok(&mut t, "opentrain_register_agent", json!({})).await;
    f.err(&mut t, "opentrain_capabilities", json!({}), Some(403), "public_api_job_drafting").await;
    f.err(&mut t, "opentrain_create_job_draft", json!({"jobDescription": JOB}), Some(403), "public_api_job_drafting")
        .await;
    drop(f);

    println!(
        "opentrain-mcp end to end: {} of {} tools succeeded, {} answered a documented error",
        t.ok.len(),
        opentrain_mcp::table().len(),
        t.err.len()
    );
    let all: BTreeSet<String> = opentrain_mcp::table().iter().map(|d| d.name.to_string()).collect();
    let no_success: Vec<&String> = all.difference(&t.ok).collect();
    let no_error: Vec<&String> = all.difference(&t.err).collect();
    assert!(
        no_success.is_empty() && no_error.is_empty(),
        "not run end to end: success {no_success:?}, error {no_error:?}"
    );
    sandbox.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_token_cannot_be_saved_returns_it_once_in_the_result() {
    let sandbox = Sandbox::start(fast()).await.expect("sandbox");
    let human = sandbox.human().await.expect("the human signs in");
    let mut t = Tally::default();
    let a = Agent::start(&sandbox).await;
    a.ok(&mut t, "opentrain_register_agent", json!({"agentName": "Unsaved"})).await;
    let (attempt, _) = a.ok(&mut t, "opentrain_claim_account", json!({"email": "owner@example.com"})).await;
    human.claim(&serde_json::from_value(attempt).expect("claim attempt")).await.expect("the human claims");
    // A directory where the credentials lock goes: the save fails, for root too.
    let cli_json = a.home.path().join(".config").join("opentrain").join("cli.json");
    let lock = cli_json.with_file_name("cli.json.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).expect("block the lock file");

    let r = call(&a.client, "opentrain_claim_status", json!({})).await;
    let (s, shown) = (structured(&r), text(&r));
    assert!(is_error(&r), "the save failed: {shown}");
    let token = str_at(&s, "/access_token").to_string();
    assert!(token.starts_with("ot_pat_"), "the one-time token is returned whole: {s}");
    assert!(s["saveError"].as_str().is_some_and(|e| e.contains("lock")), "{s}");
    assert!(shown.contains("delivered only once") && shown.contains("structuredContent.access_token"), "{shown}");
    assert!(!shown.contains(&token), "the text, which may be logged, never shows it: {shown}");
    // It is the real token: the API accepts it, with the claimed account's scopes.
    use opentrain::Run;
    let c =
        opentrain::Client::builder().base_url(sandbox.base_url()).token(Token::new(&token)).build().expect("client");
    let me = c.get_auth_me().send().run().await.expect("the returned token works");
    let scopes = serde_json::to_value(&me.token.scopes).expect("json").to_string();
    assert!(scopes.contains("proposals:write"), "post-claim scopes: {scopes}");
    // And only this once: the claim token has been spent.
    let again = call(&a.client, "opentrain_claim_status", json!({})).await;
    assert!(is_error(&again) && !structured(&again).to_string().contains(&token), "{}", text(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_inside_a_transport_error_is_masked_in_the_result() {
    let secret = Token::new("ot_pat_mcp_pasted_by_mistake_5521");
    // Nothing listens there: the transport error quotes the URL, which carries the pasted token.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let a = Agent::spawn(&format!("http://127.0.0.1:{port}"), Some(&secret)).await;
    let mut t = Tally::default();
    let s = a.err(&mut t, "opentrain_get_proposal", json!({"proposalId": secret.expose()}), None, "Error").await;
    let r = call(&a.client, "opentrain_get_proposal", json!({"proposalId": secret.expose()})).await;
    for shown in [text(&r), s.to_string(), structured(&r).to_string()] {
        assert!(!shown.contains("pasted_by_mistake"), "{shown}");
    }
    assert_eq!(structured(&r)["code"], "NETWORK_ERROR", "{}", text(&r));
}
