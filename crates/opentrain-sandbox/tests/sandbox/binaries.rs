//! The sandbox through the shipped binaries: `opentrain-mcp` driven by an MCP client through the
//! hiring lifecycle and a shorter run of the `opentrain` CLI (both pointed at a sandbox the test
//! starts), then the binaries' own `--sandbox`, `--sandbox-state` and `opentrain sandbox`, where
//! the person signs in through the one-time link the binary prints on stderr, and a real SIGTERM
//! stops `opentrain sandbox` with its state written.
//! Skipped when the binaries were not built (they need the `mcp` and `cli` features, as in
//! `cargo test --all-features`).

use std::{path::Path, process::Stdio, sync::LazyLock};

use opentrain::{CredentialsFile, Run};
use opentrain_sandbox::Human;
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::TokioChildProcess,
};
use serde_json::{Map, Value, json};

use super::{PayWith, client, fast, start};

static MCP: LazyLock<Option<String>> = LazyLock::new(|| built("opentrain-mcp"));
static CLI: LazyLock<Option<String>> = LazyLock::new(|| built("opentrain"));

/// A binary of the workspace, built beside this test (`target/<profile>/`) by the README's
/// `cargo test --workspace`. Under CI a missing one fails the test instead of skipping it.
fn built(name: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join(name);
    if path.is_file() {
        return path.to_str().map(str::to_string);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{name} is not built: run `cargo test --workspace` (it builds every binary)"
    );
    None
}

const JOB: &str = "Spanish tweet sentiment\nLabel 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers.";

type Mcp = RunningService<rmcp::RoleClient, ()>;

async fn tool(mcp: &Mcp, name: &str, args: Value) -> Value {
    let Value::Object(args) = args else { panic!("arguments must be an object") };
    let result: CallToolResult = mcp
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_ne!(result.is_error, Some(true), "{name} failed: {result:?}");
    result.structured_content.clone().unwrap_or(Value::Null)
}

fn home_command(bin: &str, home: &Path, base_url: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("OPENTRAIN_API_BASE_URL", base_url)
        .kill_on_drop(true);
    cmd
}

fn cli_json(home: &Path) -> std::path::PathBuf {
    home.join(".config").join("opentrain").join("cli.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_through_opentrain_mcp() {
    let Some(bin) = MCP.as_deref() else {
        eprintln!(
            "SKIPPED the_lifecycle_through_opentrain_mcp: opentrain-mcp not built (run `cargo test --workspace`)"
        );
        return;
    };
    let sandbox = start(fast()).await;
    let human = sandbox.human().await.expect("the human signs in");
    let home = tempfile::tempdir().expect("home");
    let (transport, _) = TokioChildProcess::builder(home_command(bin, home.path(), sandbox.base_url()))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn opentrain-mcp");
    let mcp: Mcp = ().serve(transport).await.expect("MCP handshake");

    tool(&mcp, "opentrain_register_agent", json!({ "agentName": "MCP e2e" })).await;
    let draft = tool(&mcp, "opentrain_create_job_draft", json!({ "jobDescription": JOB })).await;
    let job = draft["jobId"].as_str().expect("jobId").to_string();
    let mut patch = Map::new();
    for gap in draft["missingFields"].as_array().expect("missingFields") {
        let key = gap["updateKeys"][0].as_str().expect("update key").to_string();
        patch.insert(key, gap["enumValues"][0].clone());
    }
    let updated = tool(&mcp, "opentrain_update_job_draft_fields", json!({ "jobId": job, "patch": patch })).await;
    assert_eq!(updated["validation"]["publishReady"], true, "{updated}");
    tool(&mcp, "opentrain_publish_job", json!({ "jobId": job })).await;
    let proposals = tool(&mcp, "opentrain_list_proposals", json!({ "jobId": job })).await;
    let proposal = proposals["proposals"][0]["id"].as_str().expect("a proposal").to_string();
    tool(&mcp, "opentrain_get_proposal", json!({ "proposalId": proposal, "includeInterview": true })).await;

    // The claim: the tool hands out the page and code; a person types it; the status tool saves
    // the post-claim token into the (private) cli.json the server reads.
    let attempt = tool(&mcp, "opentrain_claim_account", json!({ "email": "mcp@example.com" })).await;
    let attempt: opentrain::types::ClaimAttempt = serde_json::from_value(attempt).expect("claim attempt");
    human.claim(&attempt).await.expect("claim");
    tool(&mcp, "opentrain_claim_status", json!({})).await;
    let mut store = CredentialsFile::load(cli_json(home.path())).expect("cli.json");
    let token = store.api_token().expect("post-claim token saved");
    let me = client(&sandbox, Some(token)).get_auth_me().send().run().await.expect("me");
    let org = me.account.organization_id.expect("org");
    human.add_card(&org).await.expect("add a card");

    let conv = tool(&mcp, "opentrain_start_proposal_conversation", json!({ "proposalId": proposal })).await;
    let conv_id = conv["conversationId"].as_str().expect("conversation").to_string();
    tool(
        &mcp,
        "opentrain_send_message",
        json!({ "conversationId": conv_id, "content": "Hi! Can you start this week?" }),
    )
    .await;

    let hire = tool(
        &mcp,
        "opentrain_hire_proposal",
        json!({ "proposalId": proposal, "milestone": { "name": "Pilot", "amount": 100 } }),
    )
    .await;
    let approval: opentrain::types::Approval = serde_json::from_value(hire["approval"].clone()).expect("approval");
    human.confirm(&approval, PayWith::Card).await.expect("confirm");
    let done = tool(&mcp, "opentrain_get_approval", json!({ "approvalId": approval.id })).await;
    assert_eq!(done["approval"]["status"], "confirmed");
    let contract = done["approval"]["result"]["contractId"].as_str().expect("contract").to_string();

    // Milestones need payments:write: the person mints a full key and the agent logs in with it.
    store.set_api_token(Some(&human.mint_full_key(&org).await.expect("mint a key")));
    store.save().expect("save");
    let ms = tool(
        &mcp,
        "opentrain_create_milestone",
        json!({ "contractId": contract, "description": "Batch 2", "volume": 1000 }),
    )
    .await;
    let ms_id = ms["milestone"]["id"].as_str().expect("milestone").to_string();
    let fund = tool(&mcp, "opentrain_request_milestone_funding", json!({ "milestoneId": ms_id })).await;
    human
        .confirm(&serde_json::from_value(fund["approval"].clone()).expect("approval"), PayWith::Card)
        .await
        .expect("confirm");
    let release = tool(&mcp, "opentrain_request_milestone_approval", json!({ "milestoneId": ms_id })).await;
    human
        .confirm(&serde_json::from_value(release["approval"].clone()).expect("approval"), PayWith::Card)
        .await
        .expect("confirm");
    let end = tool(&mcp, "opentrain_end_contract", json!({ "contractId": contract })).await;
    human
        .confirm(&serde_json::from_value(end["approval"].clone()).expect("approval"), PayWith::Card)
        .await
        .expect("confirm");
    let ended = tool(&mcp, "opentrain_get_contract", json!({ "contractId": contract })).await;
    assert_eq!(ended["contract"]["status"], "ended");
    let updates = tool(&mcp, "opentrain_poll_updates", json!({ "limit": 200 })).await;
    let kinds: std::collections::BTreeSet<&str> =
        updates["events"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(kinds.len() >= 7, "{kinds:?}");
    let _ = mcp.cancel().await;
}

/// Runs the CLI and returns its stdout, failing the test on a non-zero exit.
async fn opentrain_cli(bin: &str, home: &Path, base_url: &str, args: Vec<String>) -> String {
    let mut cmd = home_command(bin, home, base_url);
    cmd.args(&args).stdin(Stdio::null());
    let out = cmd.output().await.expect("run opentrain");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "opentrain {args:?} failed: {}{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_of_the_opentrain_cli() {
    let Some(bin) = CLI.as_deref() else {
        eprintln!("SKIPPED a_short_run_of_the_opentrain_cli: opentrain not built (run `cargo test --workspace`)");
        return;
    };
    let sandbox = start(fast()).await;
    let home = tempfile::tempdir().expect("home");
    let (home, base) = (home.path(), sandbox.base_url());
    let run = |args: &[&str]| opentrain_cli(bin, home, base, args.iter().map(|a| a.to_string()).collect());
    run(&["auth", "register", "--agent-name", "CLI e2e"]).await;
    assert!(cli_json(home).exists(), "register saves the sandbox-only credentials");
    let draft: Value =
        serde_json::from_str(&run(&["jobs", "draft", "create", "--text", JOB, "--json"]).await).expect("json");
    let job = draft["jobId"].as_str().expect("jobId").to_string();
    run(&[
        "jobs",
        "draft",
        "update",
        "--job-id",
        &job,
        "--set",
        "experienceLevel=INTERMEDIATE",
        "--set",
        "dataVolumeUnit=NUMBER_OF_FILES",
    ])
    .await;
    let published: Value =
        serde_json::from_str(&run(&["jobs", "publish", "--job-id", &job, "--json"]).await).expect("json");
    assert_eq!(published["status"], "OPEN");
    let list: Value =
        serde_json::from_str(&run(&["proposals", "list", "--job-id", &job, "--json"]).await).expect("json");
    assert_eq!(list["proposals"].as_array().map(Vec::len), Some(3));
    let search = run(&["jobs", "search", "--q", "spanish"]).await;
    assert!(search.contains("Spanish tweet sentiment"), "{search}");
}

/// A process environment that would leak a real account into the sandbox if `--sandbox` did not
/// replace it: a real-looking token variable and a user `cli.json` with its own token.
fn real_user(bin: &str, home: &Path) -> tokio::process::Command {
    let config = home.join(".config").join("opentrain");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("cli.json"), r#"{"apiToken":"ot_pat_real_user","baseUrl":"http://127.0.0.1:9"}"#)
        .expect("user cli.json");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("OPENTRAIN_PERSONAL_API_TOKEN", "ot_pat_real_env")
        .env("OT_API_TOKEN", "ot_pat_real_env")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sandbox_flag_keeps_state_in_its_dir_and_never_touches_the_user_config() {
    let Some(bin) = CLI.as_deref() else {
        eprintln!("SKIPPED the_cli_sandbox_flag: opentrain not built (run `cargo test --workspace`)");
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let state = tempfile::tempdir().expect("state");
    let run = |args: &[&str]| {
        let mut cmd = real_user(bin, home.path());
        cmd.arg("--sandbox-state").arg(state.path()).args(args);
        async move {
            let out = cmd.output().await.expect("run opentrain");
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(out.status.success(), "{}{stdout}", String::from_utf8_lossy(&out.stderr));
            stdout
        }
    };
    run(&["auth", "register", "--agent-name", "flag e2e"]).await;
    let draft: Value =
        serde_json::from_str(&run(&["jobs", "draft", "create", "--text", JOB, "--json"]).await).expect("json");
    let job = draft["jobId"].as_str().expect("a draft in the sandbox");
    // A second process sees the first one's draft: state and credentials persist in the dir.
    let mine: Value = serde_json::from_str(&run(&["jobs", "list", "--json"]).await).expect("json");
    assert!(mine["jobs"].as_array().is_some_and(|j| j.iter().any(|x| x["id"] == job)), "{mine}");
    let sandbox_creds = CredentialsFile::load(state.path().join("opentrain").join("cli.json")).expect("creds");
    assert!(sandbox_creds.api_token().is_some(), "register saved into the sandbox dir");
    let user = std::fs::read_to_string(home.path().join(".config/opentrain/cli.json")).expect("user file");
    assert_eq!(user, r#"{"apiToken":"ot_pat_real_user","baseUrl":"http://127.0.0.1:9"}"#, "untouched");

    // --base-url and --sandbox contradict each other: a usage error, nothing started.
    let out = real_user(bin, home.path()).args(["--sandbox", "--base-url", "http://x", "jobs", "list"]).output().await;
    assert_eq!(out.expect("runs").status.code(), Some(2));
}

/// Reads `stderr` until the sandbox's one-time sign-in link and returns it, draining the rest in
/// the background so the binary never writes into a closed pipe.
async fn sign_in_link(stderr: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> String {
    use tokio::io::AsyncBufReadExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let (Some(at), true) = (line.find("http://127.0.0.1:"), line.contains("/sign-in?token="))
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(line[at..].trim().to_string());
            }
        }
    });
    rx.await.expect("the binary printed a sign-in link on stderr")
}

/// Starts `opentrain sandbox --port 0 EXTRA...` as a real user would and reads the environment
/// block its banner prints on stdout (`KEY=value` lines, the last token variable last).
async fn serve_sandbox(
    bin: &str,
    home: &Path,
    extra: &[&std::ffi::OsStr],
) -> (tokio::process::Child, Vec<(String, String)>) {
    use tokio::io::AsyncBufReadExt;
    let mut child = real_user(bin, home)
        .args(["sandbox", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let last = opentrain::Resolver::all_token_vars().last().expect("token variables");
    let mut block = Vec::new();
    // The block is printed at once; a banner without it would leave this waiting for more lines.
    let read = async {
        while let Some(line) = lines.next_line().await.expect("read") {
            if let Some((k, v)) = line.split_once('=') {
                block.push((k.to_string(), v.to_string()));
                if k == last {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read).await.expect("the whole environment block");
    // Keep stdout open (and drained) until the process ends, as a terminal would.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, block)
}

/// The value of `name` in a printed environment block.
fn var(block: &[(String, String)], name: &str) -> String {
    block.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {name} line"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentrain_sandbox_serves_until_stopped_and_prints_its_url() {
    let Some(bin) = CLI.as_deref() else {
        eprintln!("SKIPPED opentrain_sandbox_serves: opentrain not built (run `cargo test --workspace`)");
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let (mut child, block) = serve_sandbox(bin, home.path(), &[]).await;
    let base = var(&block, "OPENTRAIN_API_BASE_URL");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let jobs = opentrain::http_client_builder()
        .expect("tls")
        .build()
        .expect("http")
        .get(format!("{base}/api/public/v1/jobs"))
        .send()
        .await
        .expect("GET")
        .status();
    assert_eq!(jobs.as_u16(), 200, "the tokenless search answers");
    // The person's way in is on stderr, not on the stdout an agent may be reading.
    let link = sign_in_link(child.stderr.take().expect("stderr")).await;
    assert!(link.starts_with(&format!("{base}/sign-in?token=")), "{link}");
    let human = Human::sign_in(&link).await.expect("the printed link signs the person in");
    assert_eq!(human.get("/account").await.expect("account").status, 200);
    child.kill().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_the_printed_environment_keeps_the_real_cli_json_untouched() {
    let Some(bin) = CLI.as_deref() else {
        eprintln!("SKIPPED exporting_the_printed_environment: opentrain not built (run `cargo test --workspace`)");
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let (mut child, block) = serve_sandbox(bin, home.path(), &[]).await;
    let config = var(&block, "XDG_CONFIG_HOME");
    assert!(!config.starts_with(&home.path().display().to_string()), "a sandbox-only directory: {config}");
    // A user who pastes the block into a shell that still has their real token and cli.json:
    let mut register = real_user(bin, home.path());
    for (k, v) in &block {
        register.env(k, v);
    }
    let out = register.args(["auth", "register", "--agent-name", "pasted"]).output().await.expect("register");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let real = std::fs::read_to_string(home.path().join(".config/opentrain/cli.json")).expect("real cli.json");
    assert_eq!(real, r#"{"apiToken":"ot_pat_real_user","baseUrl":"http://127.0.0.1:9"}"#, "the real file is untouched");
    assert!(
        std::path::Path::new(&config).join("opentrain/cli.json").is_file(),
        "sandbox credentials in the sandbox dir"
    );
    child.kill().await.expect("stop");
    let _ = child.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_without_a_sandbox_token_says_the_real_one_is_ignored() {
    let Some(bin) = CLI.as_deref() else {
        eprintln!("SKIPPED sandbox_without_a_sandbox_token: opentrain not built (run `cargo test --workspace`)");
        return;
    };
    let home = tempfile::tempdir().expect("home");
    // real_user sets OT_API_TOKEN and a real cli.json; --sandbox must neither use them nor ask for them.
    let out = real_user(bin, home.path()).args(["--sandbox", "jobs", "list"]).output().await.expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ignored") && err.contains("--sandbox-state DIR auth register"), "{err}");
    assert!(!err.contains("set OT_API_TOKEN"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentrain_sandbox_writes_its_state_on_sigterm() {
    let Some(bin) = CLI.as_deref() else {
        eprintln!(
            "SKIPPED opentrain_sandbox_writes_its_state_on_sigterm: opentrain not built (enable the `cli` feature)"
        );
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let state = home.path().join("sandbox.json");
    let (mut child, block) = serve_sandbox(bin, home.path(), &["--state".as_ref(), state.as_os_str()]).await;
    let base = var(&block, "OPENTRAIN_API_BASE_URL");
    let stderr = child.stderr.take().expect("stderr");
    let anon = opentrain::Client::builder().base_url(&base).build().expect("client");
    let reg = anon
        .register_agent()
        .body(opentrain::types::RegisterAgentRequest {
            agent_name: Some("Written on SIGTERM".into()),
            ..Default::default()
        })
        .send()
        .run()
        .await
        .expect("register");
    // The person claims through the link the binary printed, as they would from that console.
    let attempt = anon
        .start_claim()
        .body(opentrain::types::StartClaimRequest {
            claim_token: reg.claim_token.clone().expect("claim token"),
            email: "term@example.com".into(),
        })
        .send()
        .run()
        .await
        .expect("start claim")
        .expect("a body");
    let human = Human::sign_in(&sign_in_link(stderr).await).await.expect("sign in");
    human.claim(&attempt).await.expect("claim");
    // The last change lands right before the signal, inside the writer's 100 ms debounce.
    anon.register_agent()
        .body(opentrain::types::RegisterAgentRequest { agent_name: Some("Last change".into()), ..Default::default() })
        .send()
        .run()
        .await
        .expect("register");
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().await.expect("wait");
    assert!(status.success(), "SIGTERM stops the sandbox cleanly, like Ctrl-C: {status:?}");
    let saved = std::fs::read_to_string(&state).expect("the state file");
    assert!(saved.contains("Written on SIGTERM") && saved.contains("Last change"), "{saved}");
    let saved: Value = serde_json::from_str(&saved).expect("json");
    let claimed = saved["accounts"].as_object().expect("accounts").values().filter(|a| a["claimed"] == true).count();
    assert_eq!(claimed, 1, "the person's claim was written too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentrain_mcp_sandbox_flag_serves_tools_against_a_private_sandbox() {
    let Some(bin) = MCP.as_deref() else {
        eprintln!("SKIPPED opentrain_mcp_sandbox_flag: opentrain-mcp not built (run `cargo test --workspace`)");
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let mut cmd = real_user(bin, home.path());
    cmd.arg("--sandbox");
    let (transport, stderr) =
        TokioChildProcess::builder(cmd).stderr(Stdio::piped()).spawn().expect("spawn opentrain-mcp");
    let mcp: Mcp = ().serve(transport).await.expect("MCP handshake");
    tool(&mcp, "opentrain_register_agent", json!({ "agentName": "MCP flag" })).await;
    let draft = tool(&mcp, "opentrain_create_job_draft", json!({ "jobDescription": JOB })).await;
    assert!(draft["jobId"].is_string(), "{draft}");
    // The agent hands out the claim page; the person, signed in with the link the server
    // printed on stderr (never in a tool result), types the code.
    let attempt = tool(&mcp, "opentrain_claim_account", json!({ "email": "flag@example.com" })).await;
    assert!(!attempt.to_string().contains("/sign-in"), "{attempt}");
    let attempt: opentrain::types::ClaimAttempt = serde_json::from_value(attempt).expect("claim attempt");
    let human = Human::sign_in(&sign_in_link(stderr.expect("stderr")).await).await.expect("sign in");
    human.claim(&attempt).await.expect("claim");
    let status = tool(&mcp, "opentrain_claim_status", json!({})).await;
    assert!(!status.to_string().contains("/sign-in"), "{status}");
    let user = std::fs::read_to_string(home.path().join(".config/opentrain/cli.json")).expect("user file");
    assert!(user.contains("ot_pat_real_user"), "the user's credentials are untouched");
    mcp.cancel().await.expect("close");
}
