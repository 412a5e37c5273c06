//! What the sandbox simulates beyond the happy path: declined and expired approvals executing
//! nothing, idempotent requests, webhook retries, persistence across restarts, pagination,
//! moderation, the message policy, the claim ceremony's one-time delivery, and loopback-only
//! binding.

use std::{collections::BTreeSet, time::Duration};

use futures::TryStreamExt;
use opentrain::{Error, Run, types};
use serde_json::json;

use super::{Recorder, SandboxOptions, claimed_agent, client, fast, published_job, start};

fn hire_body(amount: f64) -> types::HireProposalRequest {
    types::HireProposalRequest {
        milestone: types::HireProposalMilestone {
            name: Some("Pilot".into()),
            description: None,
            amount,
            due_date: None,
        },
        confirm_not_fit_override: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_and_expired_approvals_execute_nothing() {
    let sandbox = start(fast()).await;
    let rec = Recorder::start(&sandbox).await;
    let human = sandbox.human().await.expect("the human signs in");
    let agent = claimed_agent(&sandbox, "decline@example.com").await;
    human.add_card(&agent.org).await.expect("add a card");
    let c = rec.client(Some(agent.token.clone()));
    let (_, proposals) = published_job(&agent, "Label 1,000 Spanish tweets, $0.05 per label, 2 labelers.").await;

    // Same terms: the same pending approval. Different terms supersede it.
    let first = c.hire_proposal().proposal_id(&proposals[0]).body(hire_body(50.0)).send().run().await.expect("hire");
    let again = c.hire_proposal().proposal_id(&proposals[0]).body(hire_body(50.0)).send().run().await.expect("hire");
    assert_eq!(first.approval.id, again.approval.id);
    let other = c.hire_proposal().proposal_id(&proposals[0]).body(hire_body(75.0)).send().run().await.expect("hire");
    assert_ne!(other.approval.id, first.approval.id);
    let old = c
        .get_approval()
        .approval_id(first.approval.id.as_deref().expect("id"))
        .send()
        .run()
        .await
        .expect("old")
        .approval;
    assert!(old.is_final() && !old.is_confirmed());

    human.decline(&other.approval).await.expect("decline");
    let declined = c
        .get_approval()
        .approval_id(other.approval.id.as_deref().expect("id"))
        .send()
        .run()
        .await
        .expect("declined")
        .approval;
    assert_eq!(declined.status.map(|s| s.to_string()).as_deref(), Some("declined"));
    assert!(c.list_contracts().send().run().await.expect("contracts").contracts.is_empty());
    let page = human.get(other.approval.approval_url.as_deref().expect("url")).await.expect("page");
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html.contains("declined") && !page.html.contains("id=\"confirm\""),
        "a decided approval has no buttons"
    );

    // Left alone past ~72 h, a pending approval expires on its next read and cannot be confirmed.
    let pending = c.hire_proposal().proposal_id(&proposals[1]).body(hire_body(40.0)).send().run().await.expect("hire");
    sandbox.advance_clock(Duration::from_secs(73 * 3600));
    let expired = c
        .get_approval()
        .approval_id(pending.approval.id.as_deref().expect("id"))
        .send()
        .run()
        .await
        .expect("expired")
        .approval;
    assert_eq!(expired.status.map(|s| s.to_string()).as_deref(), Some("expired"));
    let url = pending.approval.approval_url.as_deref().expect("url");
    let page =
        human.post(&format!("{url}/confirm"), &[("csrf", human.csrf()), ("source", "card")]).await.expect("post");
    assert_eq!(page.status, 409, "an expired approval cannot be confirmed");
    assert!(c.list_contracts().send().run().await.expect("contracts").contracts.is_empty());
    let events = c.poll_updates().send().run().await.expect("updates").events;
    let finals: BTreeSet<String> = events
        .iter()
        .filter(|e| e.type_.to_string() == "approval.confirmed")
        .filter_map(|e| e.data.as_ref().and_then(|d| d.status.clone()))
        .collect();
    assert_eq!(
        finals,
        ["declined", "expired"].into_iter().map(String::from).collect(),
        "approval.confirmed fires on any final state"
    );
    rec.check_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_publish_and_close_are_idempotent_and_moderation_bites() {
    let sandbox = start(fast()).await;
    let rec = Recorder::start(&sandbox).await;
    let agent = claimed_agent(&sandbox, "idem@example.com").await;
    let c = rec.client(Some(agent.token.clone()));
    let (job, _) = published_job(&agent, "Label 500 Korean reviews, $0.06 per label, 1 labeler.").await;

    let body = || types::InviteFreelancerRequest { freelancer_id: "usr_fl_kenji".into() };
    let first = c.invite_freelancer().id(&job).body(body()).send().run().await.expect("invite");
    let again = c.invite_freelancer().id(&job).body(body()).send().run().await.expect("invite again");
    assert_eq!((first.already_invited, again.already_invited), (Some(false), Some(true)));
    assert_eq!(first.proposal_id, again.proposal_id);
    let no_interview = c
        .get_proposal_interview()
        .proposal_id(&first.proposal_id)
        .send()
        .run()
        .await
        .expect_err("invited: no interview");
    assert_eq!(no_interview.status(), Some(404));

    let again = c.publish_job().id(&job).send().run().await.expect("publish again");
    assert_eq!(again.already_published, Some(true));

    // An edit asking for off-platform contact is applied, and the job drops back to DRAFT.
    let patch: types::JobFieldPatch =
        serde_json::from_value(json!({ "jobDescription": "Label reviews. Contact me on WhatsApp for details." }))
            .expect("patch");
    let e = c.update_published_job().id(&job).body(patch).send().run().await.expect_err("moderation");
    let api = e.as_api().expect("envelope");
    assert_eq!((api.status, api.reason()), (409, Some("moderation_blocked")));
    let mine = c.list_my_jobs().send().run().await.expect("mine").jobs;
    assert_eq!(
        mine.iter().find(|j| j.id == job).and_then(|j| j.status.clone()).map(|s| s.to_string()).as_deref(),
        Some("DRAFT")
    );

    let closed = c.close_job().id(&job).send().run().await.expect("close");
    let again = c.close_job().id(&job).send().run().await.expect("close again");
    assert_eq!((closed.already_closed, again.already_closed), (Some(false), Some(true)));
    rec.check_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_policy_unread_and_team_invites() {
    let sandbox = start(fast()).await;
    let rec = Recorder::start(&sandbox).await;
    let agent = claimed_agent(&sandbox, "owner@team.example").await;
    let c = rec.client(Some(agent.token.clone()));
    let (_, proposals) = published_job(&agent, "Label 800 Arabic tweets, $0.05 per label, 1 labeler.").await;
    let conv = c
        .start_proposal_conversation()
        .proposal_id(&proposals[0])
        .send()
        .run()
        .await
        .expect("conversation")
        .expect("a body");
    let again =
        c.start_proposal_conversation().proposal_id(&proposals[0]).send().run().await.expect("again").expect("a body");
    assert_eq!((again.created, &again.conversation_id), (Some(false), &conv.conversation_id));

    let send = |content: &str| {
        c.send_message()
            .body(types::SendMessageRequest { conversation_id: conv.conversation_id.clone(), content: content.into() })
            .send()
    };
    let e = send("Email me at someone@example.com").run().await.expect_err("contact details");
    assert_eq!(e.as_api().and_then(|a| a.reason()), Some("message_policy_blocked"));
    send("Hello, are you available?").run().await.expect("send");
    send("Great, see the guidelines.").run().await.expect("send");
    let summary = c
        .read_messages()
        .filter(types::MessagesFilterKnown::Proposal)
        .send()
        .run()
        .await
        .expect("summary")
        .conversations()
        .to_vec();
    assert_eq!(summary[0].unread_count, Some(2));
    assert_eq!(summary[0].needs_reply_count, Some(1));
    // Paging a thread with a cursor, oldest first.
    let page = c
        .read_messages()
        .conversation_id(&conv.conversation_id)
        .direction(types::MessagesDirectionKnown::Newer)
        .limit(std::num::NonZeroU64::new(3).expect("3"))
        .send()
        .run()
        .await
        .expect("page");
    assert_eq!(page.messages().len(), 3);
    let cursor = page.next_cursor().map(str::to_string).expect("more");
    let rest = c
        .read_messages()
        .conversation_id(&conv.conversation_id)
        .direction(types::MessagesDirectionKnown::Newer)
        .cursor(&cursor)
        .send()
        .run()
        .await
        .expect("rest");
    assert_eq!(rest.messages().len(), 1);
    assert!(rest.next_cursor().is_none());

    let invite =
        |email: &str| c.invite_team_member().body(types::InviteTeamMemberRequest { email: email.into() }).send();
    assert_eq!(
        invite("new@team.example").run().await.expect("invite").expect("a body").status.to_string(),
        "invite_created"
    );
    assert_eq!(
        invite("new@team.example").run().await.expect("invite").expect("a body").status.to_string(),
        "invite_created"
    );
    assert_eq!(
        invite("owner@team.example").run().await.expect("owner").expect("a body").status.to_string(),
        "already_member"
    );
    claimed_agent(&sandbox, "other@team.example").await;
    assert_eq!(
        invite("other@team.example").run().await.expect("existing user").expect("a body").status.to_string(),
        "member_added"
    );
    let team = c.get_team().send().run().await.expect("team").team;
    assert_eq!((team.members.len(), team.invites.len()), (2, 1));
    rec.check_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_with_cursors_and_filters() {
    let sandbox = start(fast()).await;
    let anon = client(&sandbox, None);
    let all: Vec<types::PublicJob> = anon
        .search_jobs_stream(|b| b.limit(std::num::NonZeroU64::new(3).expect("3")))
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(all.len(), 8, "the seeded marketplace, page by page");
    let ids: BTreeSet<&String> = all.iter().map(|j| &j.id).collect();
    assert_eq!(ids.len(), 8, "no job twice across pages");
    let hourly =
        anon.search_jobs().pay_type(types::JobPaymentTypeKnown::PayPerHour).send().run().await.expect("hourly").jobs;
    assert!(!hourly.is_empty() && hourly.iter().all(|j| j.pay.as_ref().and_then(|p| p.hourly_rate).is_some()));
    let spanish = anon.search_jobs().language("Spanish").q("intent").send().run().await.expect("q").jobs;
    assert_eq!(spanish.len(), 1);
    let facets = anon.get_job_facets().send().run().await.expect("facets");
    assert_eq!(facets.total_jobs, Some(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claim_token_is_delivered_once_and_an_old_code_page_dies() {
    let sandbox = start(fast()).await;
    let anon = client(&sandbox, None);
    let human = sandbox.human().await.expect("the human signs in");
    let reg = anon.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect("register");
    let claim = reg.claim_token.clone().expect("claim");
    let start_claim = || {
        anon.start_claim()
            .body(types::StartClaimRequest { claim_token: claim.clone(), email: "once@example.com".into() })
            .send()
    };
    let old = start_claim().run().await.expect("first attempt").expect("a body");
    let new = start_claim().run().await.expect("restart with a new code").expect("a body");
    assert_ne!(old.verification_uri, new.verification_uri);
    let page = human.get(&old.verification_uri).await.expect("page");
    assert_eq!(page.status, 404, "a restarted ceremony invalidates the old link");
    // A wrong code is refused on the page; the right one claims.
    let wrong = if new.user_code == "000000" { "111111" } else { "000000" };
    let page = human.submit(&new.verification_uri, "/claim", &[("user_code", wrong)]).await.expect("submit");
    assert!(page.status == 400 && page.html.contains("not right"), "{}", page.html);
    human.claim(&new).await.expect("claim");
    let Ok(opentrain::claim::Poll::Claimed(t)) = opentrain::claim::poll_once(&anon, &claim).await else {
        panic!("claimed")
    };
    let e = opentrain::claim::poll_once(&anon, &claim).await.expect_err("delivered once");
    assert!(matches!(&e, Error::OAuth(o) if o.error == "invalid_grant"), "{e:?}");
    // The post-claim token has the documented scopes and no payments:write.
    let me = client(&sandbox, Some(t.access_token)).get_auth_me().send().run().await.expect("me");
    let scopes: Vec<String> = me.token.scopes.iter().map(|s| s.to_string()).collect();
    assert_eq!(scopes.len(), 9);
    assert!(!scopes.contains(&"payments:write".to_string()));
    // Someone else cannot claim with an email that already owns an account.
    let reg2 = anon.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect("register");
    let e = anon
        .start_claim()
        .body(types::StartClaimRequest {
            claim_token: reg2.claim_token.expect("claim"),
            email: "once@example.com".into(),
        })
        .send()
        .run()
        .await
        .expect_err("taken");
    assert!(matches!(&e, Error::OAuth(o) if o.description.as_deref() == Some("email_already_registered")), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_retry_until_delivered_and_only_to_loopback() {
    let sandbox = start(fast()).await;
    let agent = claimed_agent(&sandbox, "hooks@example.com").await;
    let receiver = httpmock::MockServer::start_async().await;
    let (deliveries, answers) = super::respond_in_turn(&receiver, &[500, 503, 200]).await;
    let hook = agent
        .client
        .create_webhook()
        .body(types::CreateWebhookRequest {
            url: receiver.url("/hook"),
            event_types: vec![types::UpdateEventTypeKnown::ProposalReceived.into()],
        })
        .send()
        .run()
        .await
        .expect("webhook");
    published_job(&agent, "Label 300 Thai product titles, $0.05 per label, 1 labeler.").await;
    let got = deliveries.until(|all| all.len() >= 5).await;
    // Three proposals, three deliveries; the receiver refuses the first two requests (500, 503),
    // so five requests arrive and the retried deliveries reuse their ids.
    let ids: Vec<String> = got
        .iter()
        .filter_map(|r| r.headers().get("X-OpenTrain-Delivery").and_then(|v| v.to_str().ok()).map(String::from))
        .collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (5, 3), "retries happened: {ids:?}");
    // The refusals were each answered once, in order, and the 200 took the rest.
    for (answer, hits) in answers.iter().zip([1, 1, 3]) {
        answer.assert_calls_async(hits).await;
    }
    let verifier = opentrain::webhook::Verifier::new(hook.secret.expose());
    for r in &got {
        let headers = r.headers();
        let sig = headers.get("X-OpenTrain-Signature").and_then(|v| v.to_str().ok()).expect("signed");
        verifier.verify(sig, r.body_ref()).expect("valid signature");
        assert_eq!(headers.get("user-agent").and_then(|v| v.to_str().ok()), Some("OpenTrain-Webhooks/1.0"));
    }
    let status = agent
        .client
        .get_webhook()
        .webhook_id(&hook.webhook.id)
        .send()
        .run()
        .await
        .expect("webhook")
        .webhook
        .status
        .to_string();
    assert_eq!(status, "ACTIVE");
    for url in ["https://example.com/hook", "http://10.0.0.1/hook", "http://169.254.169.254/", "ftp://127.0.0.1/x"] {
        let e = agent
            .client
            .create_webhook()
            .body(types::CreateWebhookRequest {
                url: url.into(),
                event_types: vec![types::UpdateEventTypeKnown::ProposalReceived.into()],
            })
            .send()
            .run()
            .await
            .expect_err("not loopback");
        assert_eq!(e.status(), Some(400), "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_through_the_state_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sandbox.json");
    let options = || SandboxOptions { state_file: Some(path.clone()), ..fast() };
    let sandbox = start(options()).await;
    assert!(sandbox.addr().ip().is_loopback(), "binds 127.0.0.1 only");
    let agent = claimed_agent(&sandbox, "persist@example.com").await;
    let (job, _) = published_job(&agent, "Label 900 Hindi sentences, $0.05 per label, 2 labelers.").await;
    sandbox.shutdown().await.expect("shutdown writes the state");
    let text = std::fs::read_to_string(&path).expect("state file");
    assert!(!text.contains(agent.token.expose()), "only token hashes are stored");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    let again = start(options()).await;
    let c = client(&again, Some(agent.token.clone()));
    let mine = c.list_my_jobs().send().run().await.expect("the old token still works").jobs;
    assert!(mine.iter().any(|j| j.id == job));
    let props = c.list_job_proposals().id(&job).send().run().await.expect("proposals").proposals;
    assert_eq!(props.len(), 3);
    let fresh = c
        .create_job_draft()
        .body(types::CreateJobDraftRequest {
            raw_job_description: Some("Label 10 images.".into()),
            ..Default::default()
        })
        .send()
        .run()
        .await
        .expect("draft");
    assert!(!mine.iter().any(|j| j.id == fresh.job_id), "ids keep counting after a restart");
    // A corrupt state file is an error naming it, never silently replaced.
    again.shutdown().await.expect("shutdown");
    std::fs::write(&path, b"{ not json").expect("corrupt");
    let err = opentrain_sandbox::Sandbox::start(options()).await.expect_err("corrupt state");
    assert!(err.to_string().contains("sandbox.json"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_sandboxes_keep_their_own_credentials() {
    let temp = opentrain_sandbox::Embedded::start(None).await.expect("embedded");
    assert!(temp.base_url().starts_with("http://127.0.0.1:"));
    let dir = temp.credentials_path().parent().and_then(|p| p.parent()).expect("dir").to_path_buf();
    assert!(dir.exists() && dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with("opentrain-sandbox-")));
    let banner = temp.sandbox().banner(std::path::Path::new("/sandbox/home"));
    assert!(banner.contains(&format!("\nOPENTRAIN_API_BASE_URL={}", temp.base_url())), "{banner}");
    assert!(banner.contains("\nXDG_CONFIG_HOME=/sandbox/home"), "{banner}");
    for v in opentrain::Resolver::all_token_vars() {
        assert!(banner.contains(&format!("\n{v}=\n")) || banner.ends_with(&format!("\n{v}=")), "{v} blank: {banner}");
    }
    temp.shutdown().await.expect("shutdown");
    assert!(!dir.exists(), "the temporary home goes with the sandbox");

    let state = tempfile::tempdir().expect("state dir");
    let kept = opentrain_sandbox::Embedded::start(Some(state.path())).await.expect("embedded");
    let c = client(kept.sandbox(), None);
    let mut store = opentrain::CredentialsFile::load(kept.credentials_path()).expect("store");
    opentrain::claim::register(&c, &mut store, &Default::default()).await.expect("register");
    kept.shutdown().await.expect("shutdown");
    assert!(state.path().join("opentrain/cli.json").exists() && state.path().join("sandbox.json").exists());
}

#[tokio::test]
async fn a_login_made_through_embedded_is_seen_by_the_binaries_sandbox_state() {
    // Before, Embedded kept <dir>/cli.json while --sandbox-state read <dir>/opentrain/cli.json.
    let state = tempfile::tempdir().expect("state dir");
    let kept = opentrain_sandbox::Embedded::start(Some(state.path())).await.expect("embedded");
    let c = client(kept.sandbox(), None);
    let mut store = opentrain::CredentialsFile::load(kept.credentials_path()).expect("store");
    let reg = opentrain::claim::register(&c, &mut store, &Default::default()).await.expect("register");
    kept.shutdown().await.expect("shutdown");

    let flag = opentrain_sandbox::SandboxFlag::prepare(Some(state.path())).expect("flag");
    assert_eq!(flag.credentials_path(), opentrain_sandbox::credentials_in(state.path()));
    // What `opentrain --sandbox-state DIR` and `opentrain-mcp --sandbox-state DIR` resolve:
    let seen = opentrain::Resolver::CLI.resolve_in(&flag.env(), None, None).expect("resolves");
    assert_eq!(seen.token.as_ref().map(opentrain::Token::expose), Some(reg.access_token.expose()));
    assert_eq!(seen.base_url, flag.base_url(), "the flag's sandbox, not the one that registered");
}

#[test]
fn the_sandbox_flag_hides_every_real_token_variable_without_touching_the_process() {
    let flag = opentrain_sandbox::SandboxFlag::prepare(None).expect("flag");
    let env = flag.env();
    for v in opentrain::Resolver::all_token_vars() {
        assert_eq!(env.get(v), None, "{v} reads as unset under --sandbox");
    }
    assert_eq!(env.get("OPENTRAIN_API_BASE_URL").as_deref(), Some(flag.base_url()));
    assert_eq!(env.credentials_path().expect("path"), flag.credentials_path());
    assert_ne!(std::env::var("OPENTRAIN_API_BASE_URL").ok().as_deref(), Some(flag.base_url()), "process untouched");
}

#[test]
fn a_state_directory_keeps_its_port_so_printed_links_work_again() {
    // Before, every `--sandbox-state DIR` command served on a new port, so the approval or claim
    // link one command printed was dead by the next (a wait included).
    let state = tempfile::tempdir().expect("state dir");
    let first = opentrain_sandbox::SandboxFlag::prepare(Some(state.path())).expect("flag").base_url().to_string();
    let again = opentrain_sandbox::SandboxFlag::prepare(Some(state.path())).expect("flag").base_url().to_string();
    assert_eq!(first, again, "the same state, the same address");
    // Taken by someone else meanwhile: a new port, remembered from then on.
    let port: u16 = first.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the old port");
    let moved = opentrain_sandbox::SandboxFlag::prepare(Some(state.path())).expect("flag").base_url().to_string();
    assert_ne!(moved, first);
    let remembered = std::fs::read_to_string(state.path().join("port")).expect("port file");
    assert!(moved.ends_with(&format!(":{}", remembered.trim())), "{moved} vs {remembered}");
}
