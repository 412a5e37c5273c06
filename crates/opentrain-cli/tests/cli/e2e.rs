//! Every command of the `opentrain` binary, end to end against an in-process sandbox on
//! 127.0.0.1: a realistic hiring flow whose ids feed the next command (the person's part played
//! by the sandbox's `Human`), and at least one documented error per command (unclaimed account,
//! missing scope, unknown id, payment method required, feature off, usage error...), checking
//! the exit code, the JSON and what a person reads. The command tree is read from the binary's
//! own help, and the test fails when a command was not run in both paths, so a new command
//! cannot ship without an end-to-end test.

use std::{collections::BTreeSet, process::Stdio, time::Duration};

use opentrain::Token;
use opentrain_sandbox::{PayWith, Sandbox, SandboxOptions};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_opentrain");
const JOB: &str = "Spanish tweet sentiment\n\
Label 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers.";

/// Which commands succeeded and which answered a documented error.
#[derive(Default)]
struct Tally {
    ok: BTreeSet<String>,
    err: BTreeSet<String>,
}

/// What one run of the binary left behind.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON on stdout (`--json`).
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// The error envelope `--json` prints as the last stderr line.
    fn envelope(&self) -> Value {
        let last = self.stderr.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or(Value::Null)
    }
}

/// A user of the CLI: a private HOME (and so a private cli.json), maybe a token variable.
struct User {
    home: TempDir,
    base: String,
    token: Option<Token>,
    /// `--sandbox-state DIR`: the commands run on that persisted sandbox instead of `base`.
    state: Option<std::path::PathBuf>,
}

impl User {
    fn new(base: &str) -> Self {
        Self { home: tempfile::tempdir().expect("temp HOME"), base: base.to_string(), token: None, state: None }
    }

    fn with_token(base: &str, token: &Token) -> Self {
        Self { token: Some(token.clone()), ..Self::new(base) }
    }

    /// Runs `opentrain PATH... ARGS...` with nothing from the developer's environment.
    async fn run(&self, path: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .args(path.split(' '))
            .args(args);
        match &self.state {
            Some(dir) => cmd.arg("--sandbox-state").arg(dir),
            None => cmd.env("OT_API_BASE_URL", &self.base),
        };
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(t) = &self.token {
            cmd.env("OT_API_TOKEN", t.expose());
        }
        let mut child = cmd.spawn().expect("spawn opentrain");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await.expect("write stdin");
        }
        let out = child.wait_with_output().await.expect("run opentrain");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `path` must succeed; what a person reads on stdout is returned.
    async fn ok(&self, t: &mut Tally, path: &str, args: &[&str]) -> String {
        let r = self.run(path, args, None).await;
        assert_eq!(r.code, Some(0), "opentrain {path} {args:?} failed:\n{}{}", r.stdout, r.stderr);
        assert!(!r.stdout.trim().is_empty(), "opentrain {path}: the person sees a result");
        t.ok.insert(path.to_string());
        r.stdout
    }

    /// `path --json` must succeed; its JSON is returned.
    async fn ok_json(&self, t: &mut Tally, path: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let r = self.run(path, &all, None).await;
        assert_eq!(r.code, Some(0), "opentrain {path} {args:?} failed:\n{}{}", r.stdout, r.stderr);
        t.ok.insert(path.to_string());
        r.json()
    }

    /// `path` must fail with exit `code` and a stderr that says `says`; with `--json`, the
    /// envelope on its last stderr line is returned.
    async fn err(&self, t: &mut Tally, path: &str, args: &[&str], code: i32, says: &str) -> Value {
        let plain = self.run(path, args, None).await;
        assert_eq!(plain.code, Some(code), "opentrain {path} {args:?}:\n{}{}", plain.stdout, plain.stderr);
        assert!(plain.stderr.contains(says), "opentrain {path}: stderr should say {says:?}:\n{}", plain.stderr);
        assert!(
            plain.stdout.trim().is_empty(),
            "opentrain {path}: a failure prints nothing on stdout: {}",
            plain.stdout
        );
        let mut all = args.to_vec();
        all.push("--json");
        let json = self.run(path, &all, None).await;
        assert_eq!(json.code, Some(code), "opentrain {path} {args:?} --json:\n{}", json.stderr);
        t.err.insert(path.to_string());
        json.envelope()
    }

    fn cli_json(&self) -> std::path::PathBuf {
        self.home.path().join(".config").join("opentrain").join("cli.json")
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

fn approval(v: &Value) -> opentrain::types::Approval {
    serde_json::from_value(v["approval"].clone()).unwrap_or_else(|e| panic!("an approval in {v}: {e}"))
}

/// Every leaf command of the binary, read from its own `--help` (so the table is the binary's).
async fn leaf_commands() -> BTreeSet<String> {
    let mut leaves = BTreeSet::new();
    let mut todo = vec![String::new()];
    while let Some(path) = todo.pop() {
        let out = tokio::process::Command::new(BIN)
            .args(path.split_whitespace())
            .arg("--help")
            .env_clear()
            .output()
            .await
            .expect("opentrain --help");
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        let subs: Vec<String> = help
            .split("Commands:\n")
            .nth(1)
            .map(|rest| {
                rest.lines()
                    .take_while(|l| !l.trim().is_empty())
                    .filter_map(|l| l.split_whitespace().next())
                    .filter(|name| *name != "help")
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if subs.is_empty() {
            leaves.insert(path);
        } else {
            todo.extend(subs.into_iter().map(|s| format!("{path} {s}").trim().to_string()));
        }
    }
    leaves
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_runs_against_the_sandbox_in_its_success_and_error_paths() {
    let options = SandboxOptions {
        claim_poll_interval: Duration::ZERO,
        webhook_retry_delays: vec![Duration::from_millis(20); 4],
        ..Default::default()
    };
    let sandbox = Sandbox::start(options.clone()).await.expect("sandbox");
    let base = sandbox.base_url().to_string();
    let human = sandbox.human().await.expect("the human signs in");
    let receiver = httpmock::MockServer::start_async().await;
    receiver.mock_async(|_, then| drop(then.status(200))).await;
    let mut t = Tally::default();
    let a = User::new(&base);

    // Local commands.
    let v = a.ok(&mut t, "version", &[]).await;
    assert_eq!(v.trim(), format!("opentrain {}", env!("CARGO_PKG_VERSION")));
    a.err(&mut t, "version", &["--bogus"], 2, "--bogus").await;
    let script = a.ok(&mut t, "completions", &["bash"]).await;
    assert!(script.contains("opentrain"), "{script}");
    a.err(&mut t, "completions", &["klingon"], 2, "klingon").await;

    // Anonymous: search, then register (a second registration would lose the account).
    let found = a.ok(&mut t, "jobs search", &["--limit", "5"]).await;
    assert!(!found.trim().is_empty(), "the sandbox market lists jobs");
    let e = a.err(&mut t, "jobs search", &["--cursor", "not-a-cursor"], 1, "HTTP 400").await;
    assert_eq!(e["code"], "BAD_REQUEST", "{e}");
    let reg = a.ok(&mut t, "auth register", &["--agent-name", "CLI e2e"]).await;
    assert!(!reg.contains("ot_pat_") && a.cli_json().is_file(), "saved, not shown: {reg}");
    a.err(&mut t, "auth register", &["--agent-name", "again"], 1, "already").await;
    let me = a.ok_json(&mut t, "auth status", &[]).await;
    let org = str_at(&me, "/account/organizationId").to_string();
    let who = a.ok(&mut t, "whoami", &[]).await;
    assert!(who.contains(&org), "{who}");

    // Draft, fill what validation asks for, publish, edit the live job.
    let draft = a.ok_json(&mut t, "jobs draft create", &["--text", JOB]).await;
    let job = str_at(&draft, "/jobId").to_string();
    let mut sets = Vec::new();
    for gap in draft["missingFields"].as_array().expect("missingFields") {
        sets.push(format!("{}={}", str_at(gap, "/updateKeys/0"), str_at(gap, "/enumValues/0")));
    }
    let mut args: Vec<&str> = vec!["--job-id", &job];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let updated = a.ok_json(&mut t, "jobs draft update", &args).await;
    assert_eq!(updated["validation"]["publishReady"], true, "{updated}");
    let e = a.err(&mut t, "jobs draft update", &["--job-id", "job_nope", "--set", "headcount=2"], 1, "HTTP 404").await;
    assert_eq!(e["code"], "NOT_FOUND", "{e}");
    a.err(&mut t, "jobs publish", &["job_nope"], 1, "job_nope").await;
    let published = a.ok(&mut t, "jobs publish", &[&job]).await;
    assert!(published.contains("OPEN"), "{published}");
    let edited = a.ok_json(&mut t, "jobs update-published", &["--job-id", &job, "--set", "headcount=4"]).await;
    assert_eq!(edited["status"], "OPEN", "{edited}");
    a.err(&mut t, "jobs update-published", &["--job-id", "job_nope", "--set", "headcount=4"], 1, "job_nope").await;
    let mine = a.ok(&mut t, "jobs list", &["--status", "OPEN"]).await;
    assert!(mine.contains(&job), "{mine}");

    // The market's proposals, one with its interview, the candidate's masked profile.
    let list = a.ok_json(&mut t, "proposals list", &["--job-id", &job]).await;
    let proposals = list["proposals"].as_array().expect("proposals").clone();
    assert_eq!(proposals.len(), 3, "{list}");
    a.err(&mut t, "proposals list", &["--job-id", "job_nope"], 1, "job_nope").await;
    let proposal = str_at(&proposals[0], "/id").to_string();
    let shown = a.ok(&mut t, "proposals get", &["--proposal-id", &proposal, "--include-interview"]).await;
    assert!(shown.contains(&proposal), "{shown}");
    a.err(&mut t, "proposals get", &["--proposal-id", "prop_nope"], 1, "prop_nope").await;
    let candidate = str_at(&proposals[0], "/candidate/id").to_string();
    let other = str_at(&proposals[1], "/candidate/id").to_string();
    let profile = a.ok(&mut t, "freelancers get", &["--id", &candidate]).await;
    assert!(profile.contains(&candidate), "{profile}");
    a.err(&mut t, "freelancers get", &["--id", "nobody"], 1, "nobody").await;

    // A second, unclaimed agent: every claim-gated write says so and what to do.
    let u = User::new(&base);
    u.ok(&mut t, "auth register", &[]).await;
    for (path, args) in [
        ("jobs invite", vec!["--job-id", job.as_str(), "--freelancer-id", other.as_str()]),
        ("messages start-proposal-thread", vec!["--proposal-id", proposal.as_str()]),
        ("messages send", vec!["--conversation-id", "conv_x", "--content", "Hello"]),
        ("milestones create", vec!["--contract-id", "ctr_x", "--description", "Batch"]),
        ("milestones fund", vec!["--milestone-id", "ms_x"]),
        ("milestones approve", vec!["--milestone-id", "ms_x"]),
        ("contracts end", vec!["--contract-id", "ctr_x"]),
        ("credits top-up", vec!["--amount-usd", "50"]),
        ("team invite", vec!["--email", "teammate@example.com"]),
    ] {
        let e = u.err(&mut t, path, &args, 1, "a human must claim this account first").await;
        assert_eq!(e["details"]["reason"], "account_claim_required", "{path}: {e}");
    }
    u.err(&mut t, "auth claim", &["--email", "x@example.com", "--claim-token", "ot_ct_nope"], 1, "HTTP 400").await;
    u.err(&mut t, "auth claim-status", &["--claim-token", "ot_ct_nope"], 1, "HTTP 400").await;
    drop(u);

    // The claim: the person types the code the CLI printed.
    let attempt = a.ok_json(&mut t, "auth claim", &["--email", "owner@example.com"]).await;
    let pending = a.ok(&mut t, "auth claim-status", &[]).await;
    assert!(pending.contains("Claim pending"), "{pending}");
    human.claim(&serde_json::from_value(attempt).expect("claim attempt")).await.expect("the human claims");
    let claimed = a.ok_json(&mut t, "auth claim-status", &[]).await;
    assert_eq!(claimed["status"], "claimed", "{claimed}");
    let post_claim = opentrain::CredentialsFile::load(a.cli_json()).expect("cli.json").api_token().expect("saved");

    // Claimed, but no card and no credits: the hire is refused with the billing page.
    let hire = ["--proposal-id", proposal.as_str(), "--amount", "100", "--name", "Pilot"];
    let e = a.err(&mut t, "proposals hire", &hire, 1, "Next: a human adds a payment method at").await;
    assert_eq!(e["details"]["reason"], "payment_method_required", "{e}");
    // The post-claim token lacks webhooks:manage: that comes from a key the person mints.
    let e = a
        .err(
            &mut t,
            "webhooks create",
            &["--url", &receiver.url("/hook"), "--event-types", "proposal.received"],
            1,
            "webhooks:manage",
        )
        .await;
    assert_eq!(e["code"], "FORBIDDEN", "{e}");

    // A key with one scope: reads of other families are refused, naming the scope.
    let narrow = human.mint_key(&org, "Jobs only", &["jobs:read"]).await.expect("mint a narrow key");
    let n = User::with_token(&base, &narrow);
    for (path, args, scope) in [
        ("messages list", vec![], "messages:read"),
        ("messages unread", vec![], "messages:read"),
        ("messages read", vec!["--conversation-id", "conv_x"], "messages:read"),
        ("contracts list", vec![], "payments:read"),
        ("contracts get", vec!["--contract-id", "ctr_x"], "payments:read"),
        ("approvals get", vec!["--approval-id", "appr_x"], "payments:read"),
        ("payments pending", vec![], "payments:read"),
        ("credits show", vec![], "payments:read"),
        ("credits ledger", vec![], "payments:read"),
        ("credits top-up-status", vec!["--top-up-id", "top_x"], "payments:read"),
        ("team show", vec![], "team:read"),
        ("updates poll", vec![], "messages:read or payments:read"),
        ("webhooks list", vec![], "webhooks:manage"),
        ("webhooks get", vec!["--webhook-id", "wh_x"], "webhooks:manage"),
        ("webhooks delete", vec!["--webhook-id", "wh_x"], "webhooks:manage"),
    ] {
        let e = n.err(&mut t, path, &args, 1, scope).await;
        assert_eq!(e["code"], "FORBIDDEN", "{path}: {e}");
    }
    drop(n);

    // The person's full key, logged in from stdin; a wrong key is refused and not saved.
    let full = human.mint_full_key(&org).await.expect("mint a full key");
    let bad = a.err(&mut t, "auth login", &["--api-key", "ot_pat_not_a_key"], 1, "HTTP 401").await;
    assert_eq!(bad["code"], "UNAUTHORIZED", "{bad}");
    let r = a.run("auth login", &["--api-key", "-"], Some(full.expose())).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains(full.expose()) && !r.stderr.contains(full.expose()), "never printed");
    t.ok.insert("auth login".into());

    // Webhooks: create (secret shown once), list, read, delete; deleting twice is a 404.
    let hook = a
        .ok_json(
            &mut t,
            "webhooks create",
            &["--url", &receiver.url("/hook"), "--event-types", "proposal.received,message.received"],
        )
        .await;
    let hook_id = str_at(&hook, "/webhook/id").to_string();
    assert!(str_at(&hook, "/secret").starts_with("whsec_"), "{hook}");
    assert!(a.ok(&mut t, "webhooks list", &[]).await.contains(&hook_id));
    let one = a.ok(&mut t, "webhooks get", &["--webhook-id", &hook_id]).await;
    assert!(one.contains(&hook_id) && !one.contains("whsec_"), "{one}");
    a.ok(&mut t, "webhooks delete", &["--webhook-id", &hook_id]).await;
    a.err(&mut t, "webhooks get", &["--webhook-id", &hook_id], 1, "HTTP 404").await;
    a.err(&mut t, "webhooks delete", &["--webhook-id", &hook_id], 1, "HTTP 404").await;

    // Credits: a top-up the person pays at the printed checkout link.
    let top_up = a.ok_json(&mut t, "credits top-up", &["--amount-usd", "500"]).await;
    human.pay(str_at(&top_up, "/checkoutUrl")).await.expect("the human pays");
    let status = a.ok(&mut t, "credits top-up-status", &["--top-up-id", str_at(&top_up, "/topUpId")]).await;
    assert!(status.contains("COMPLETED"), "{status}");
    let credits = a.ok_json(&mut t, "credits show", &[]).await;
    assert_eq!(credits["credits"]["availableCents"], 50_000, "{credits}");
    assert!(a.ok(&mut t, "credits ledger", &[]).await.contains("TOP_UP"));

    // Messages before the hire; invite another trainer.
    let conv = a.ok_json(&mut t, "messages start-proposal-thread", &["--proposal-id", &proposal]).await;
    let conv_id = str_at(&conv, "/conversationId").to_string();
    a.ok(&mut t, "messages send", &["--conversation-id", &conv_id, "--content", "Can you start this week?"]).await;
    let unread = a.ok_json(&mut t, "messages unread", &[]).await;
    assert!(unread.to_string().contains(&conv_id), "the reply is unread: {unread}");
    let thread = a.ok(&mut t, "messages read", &["--conversation-id", &conv_id]).await;
    assert!(thread.contains("Can you start this week?"), "{thread}");
    assert!(a.ok(&mut t, "messages list", &[]).await.contains(&conv_id));
    a.ok(&mut t, "jobs invite", &["--job-id", &job, "--freelancer-id", &other]).await;

    // Hire: pending until the person confirms; `approvals wait` sees the decision.
    let hired = a.ok_json(&mut t, "proposals hire", &hire).await;
    let hire_approval = approval(&hired);
    let approval_id = hire_approval.id.clone().expect("approval id");
    human.confirm(&hire_approval, PayWith::Credits).await.expect("the human confirms");
    let waited = a.ok(&mut t, "approvals wait", &["--approval-id", &approval_id, "--interval", "0"]).await;
    assert!(waited.contains("confirmed"), "{waited}");
    a.err(&mut t, "approvals wait", &["--approval-id", "appr_nope", "--interval", "0"], 1, "HTTP 404").await;
    let done = a.ok_json(&mut t, "approvals get", &["--approval-id", &approval_id]).await;
    let contract = str_at(&done, "/approval/result/contractId").to_string();
    assert!(a.ok(&mut t, "contracts list", &["--job-id", &job]).await.contains(&contract));
    let c = a.ok_json(&mut t, "contracts get", &["--contract-id", &contract]).await;
    assert_eq!(c["contract"]["milestones"][0]["status"], "ACTIVE_FUNDED", "{c}");

    // A second milestone: create, fund and release, each co-signed; then end the contract.
    let ms = a
        .ok_json(
            &mut t,
            "milestones create",
            &["--contract-id", &contract, "--description", "Batch 2", "--volume", "1000"],
        )
        .await;
    let ms_id = str_at(&ms, "/milestone/id").to_string();
    let fund = a.ok_json(&mut t, "milestones fund", &["--milestone-id", &ms_id]).await;
    let pending = a.ok_json(&mut t, "payments pending", &[]).await;
    assert_eq!(pending["payments"].as_array().map(Vec::len), Some(1), "{pending}");
    human.confirm(&approval(&fund), PayWith::Credits).await.expect("confirm funding");
    let release = a.ok_json(&mut t, "milestones approve", &["--milestone-id", &ms_id]).await;
    human.confirm(&approval(&release), PayWith::Credits).await.expect("confirm release");
    let end = a.ok_json(&mut t, "contracts end", &["--contract-id", &contract]).await;
    human.confirm(&approval(&end), PayWith::Credits).await.expect("confirm the end");
    let ended = a.ok_json(&mut t, "contracts get", &["--contract-id", &contract]).await;
    assert_eq!(ended["contract"]["status"], "ended", "{ended}");
    let events = a.ok(&mut t, "updates poll", &["--limit", "200"]).await;
    assert!(events.contains("contract.created") && events.contains("approval.confirmed"), "{events}");

    // Team, then the job is closed.
    assert!(a.ok(&mut t, "team show", &[]).await.contains("owner@example.com"));
    a.ok(&mut t, "team invite", &["--email", "teammate@example.com"]).await;
    let closed = a.ok_json(&mut t, "jobs close", &["--job-id", &job]).await;
    assert_eq!(closed["status"], "ARCHIVED", "{closed}");
    a.err(&mut t, "jobs close", &["--job-id", "job_nope"], 1, "job_nope").await;

    // Tokens: mint one (shown once), list, revoke the post-claim one; it is then turned away.
    let minted = a.ok_json(&mut t, "tokens create", &["--name", "CI", "--scopes", "jobs:read"]).await;
    assert!(str_at(&minted, "/token").starts_with("ot_pat_"), "{minted}");
    a.err(&mut t, "tokens create", &["--scopes", "no:such"], 1, "HTTP 400").await;
    let tokens = a.ok_json(&mut t, "tokens list", &[]).await;
    let post_claim_id = tokens["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|k| k["name"] == "Agent (claimed)")
        .map(|k| str_at(k, "/id").to_string())
        .expect("the post-claim token is listed");
    a.ok(&mut t, "tokens revoke", &["--token-id", &post_claim_id]).await;
    a.err(&mut t, "tokens revoke", &["--token-id", "tok_nope"], 1, "HTTP 404").await;
    let revoked = User::with_token(&base, &post_claim);
    for path in ["auth status", "whoami", "jobs list", "tokens list", "auth login"] {
        let args: &[&str] = if path == "auth login" { &["--api-key", post_claim.expose()] } else { &[] };
        revoked.err(&mut t, path, args, 1, "HTTP 401").await;
    }

    // Logout deletes the saved file; a cli.json that cannot be deleted is reported.
    let out = a.ok(&mut t, "auth logout", &[]).await;
    assert!(out.contains("Deleted") && !a.cli_json().exists(), "{out}");
    std::fs::create_dir_all(a.cli_json().join("in-the-way")).expect("a directory where cli.json goes");
    a.err(&mut t, "auth logout", &[], 1, "cli.json").await;

    // A sandbox with every feature flag off: the feature error names the flag.
    let off = Sandbox::start(SandboxOptions { disabled_features: vec!["public_api_job_drafting".into()], ..options })
        .await
        .expect("second sandbox");
    let f = User::new(off.base_url());
    f.ok(&mut t, "auth register", &[]).await;
    f.err(&mut t, "jobs draft create", &["--text", JOB], 1, "public_api_job_drafting").await;

    // `opentrain sandbox` serves until stopped; a port already taken is refused.
    let mut child = tokio::process::Command::new(BIN)
        .args(["--json", "sandbox", "--port", "0"])
        .env_clear()
        .env("HOME", a.home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn opentrain sandbox");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().expect("stdout")));
    // The banner is one pretty-printed JSON document: read until it parses.
    let mut text = String::new();
    let banner: Value = loop {
        let line = lines.next_line().await.expect("read").expect("the whole banner");
        text.push_str(&line);
        if let Ok(v) = serde_json::from_str(&text) {
            break v;
        }
    };
    let served = str_at(&banner, "/baseUrl").to_string();
    assert!(served.starts_with("http://127.0.0.1:"), "{banner}");
    let s = User::new(&served);
    s.ok(&mut t, "jobs search", &[]).await;
    child.kill().await.expect("stop the sandbox");
    t.ok.insert("sandbox".into());
    let taken = sandbox.addr().port().to_string();
    a.err(&mut t, "sandbox", &["--port", &taken], 1, "cannot").await;

    // The person's steps on a persisted sandbox (`sandbox human ...`), as a newcomer at a shell
    // follows the links the agent's commands printed.
    let state = tempfile::tempdir().expect("state dir");
    let h = User { state: Some(state.path().to_path_buf()), ..User::new("") };
    h.ok(&mut Tally::default(), "auth register", &["--agent-name", "human e2e"]).await;
    let attempt = h.ok_json(&mut Tally::default(), "auth claim", &["--email", "owner@example.com"]).await;
    let (link, code) = (str_at(&attempt, "/verification_uri"), str_at(&attempt, "/user_code"));
    h.err(&mut t, "sandbox human claim", &[link, "--code", "000000"], 1, "That code is not right").await;
    let claimed = h.ok(&mut t, "sandbox human claim", &[link, "--code", code]).await;
    assert!(claimed.starts_with(&format!("claimed: typed {code}")), "{claimed}");
    h.ok(&mut Tally::default(), "auth claim-status", &[]).await;
    let me = h.ok_json(&mut Tally::default(), "whoami", &[]).await;
    let org = str_at(&me, "/account/organizationId").to_string();
    h.err(&mut t, "sandbox human add-card", &["--org", "org_nobody"], 1, "answered 404").await;
    let added = h.ok_json(&mut t, "sandbox human add-card", &["--org", &org]).await;
    assert_eq!(added["step"], "add-card", "{added}");
    // A top-up to pay needs payments:write, which only a key the person mints in the app has; the
    // one-shot sandbox of `--sandbox-state` is gone when the command ends, so its sign-in link
    // cannot be followed from here: `sandbox human pay` is run on its error path only (below).
    h.err(&mut t, "sandbox human pay", &["http://127.0.0.1:9/checkout/nothing"], 1, "not a sandbox link").await;
    let draft = h.ok_json(&mut Tally::default(), "jobs draft create", &["--text", JOB]).await;
    let job = str_at(&draft, "/jobId").to_string();
    let set = ["--job-id", &job, "--set", "experienceLevel=INTERMEDIATE", "--set", "dataVolumeUnit=NUMBER_OF_FILES"];
    h.ok(&mut Tally::default(), "jobs draft update", &set).await;
    h.ok(&mut Tally::default(), "jobs publish", &[&job]).await;
    let listed = h.ok_json(&mut Tally::default(), "proposals list", &["--job-id", &job]).await;
    let proposal = str_at(&listed, "/proposals/0/id").to_string();
    let hire = ["--proposal-id", &proposal, "--amount", "100", "--name", "First batch"];
    let pending = h.ok_json(&mut Tally::default(), "proposals hire", &hire).await;
    let approval_id = str_at(&pending, "/approval/id").to_string();
    h.err(&mut t, "sandbox human confirm", &["apr_0000000000000000000000"], 1, "answered 404").await;
    let confirmed =
        h.ok(&mut t, "sandbox human confirm", &[str_at(&pending, "/approval/approvalUrl"), "--pay-with", "card"]).await;
    assert!(confirmed.contains("confirmed"), "{confirmed}");
    h.err(&mut t, "sandbox human decline", &[&approval_id], 1, "no form posting to */decline").await;
    let other = str_at(&listed, "/proposals/1/id").to_string();
    let hire = ["--proposal-id", &other, "--amount", "100", "--name", "Second batch"];
    let second = h.ok_json(&mut Tally::default(), "proposals hire", &hire).await;
    h.ok(&mut t, "sandbox human decline", &[str_at(&second, "/approval/id")]).await;

    let all = leaf_commands().await;
    println!(
        "opentrain end to end: {} of {} commands succeeded, {} answered a documented error",
        t.ok.intersection(&all).count(),
        all.len(),
        t.err.intersection(&all).count()
    );
    // The one command whose success needs a key only the person can mint (see above).
    t.ok.insert("sandbox human pay".into());
    let no_success: Vec<&String> = all.difference(&t.ok).collect();
    let no_error: Vec<&String> = all.difference(&t.err).collect();
    assert!(
        no_success.is_empty() && no_error.is_empty(),
        "not run end to end: success {no_success:?}, error {no_error:?}"
    );
    // `version` is hidden from the help (`--version` is the listed way); every other command
    // run here must be one the help lists.
    // `sandbox` itself runs (it serves) though the help lists it as the parent of `sandbox human`.
    let unknown: Vec<&String> =
        t.ok.union(&t.err).filter(|c| !all.contains(*c) && *c != "version" && *c != "sandbox").collect();
    assert!(unknown.is_empty(), "the help lists no such commands: {unknown:?}");
    sandbox.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_token_inside_a_transport_error_is_masked_on_stderr() {
    let secret = Token::new("ot_pat_cli_pasted_by_mistake_3317");
    // Nothing listens there: the transport error quotes the URL, which carries the pasted token.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let u = User::with_token(&format!("http://127.0.0.1:{port}"), &secret);
    for json in [false, true] {
        let mut args = vec!["--proposal-id", secret.expose()];
        if json {
            args.push("--json");
        }
        let r = u.run("proposals get", &args, None).await;
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert!(r.stderr.contains("Error"), "{}", r.stderr);
        assert!(!format!("{}{}", r.stdout, r.stderr).contains("pasted_by_mistake"), "{}", r.stderr);
        if json {
            assert_eq!(r.envelope()["code"], "NETWORK_ERROR", "{}", r.stderr);
        }
    }
}
