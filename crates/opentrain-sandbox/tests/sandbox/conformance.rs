//! Every operation of openapi.yaml, driven through the typed client (whose generated types reject
//! wrong shapes) via the recording proxy (which checks each JSON body against the spec's own
//! schema): the sandbox cannot drift from the spec without this test failing.

use std::collections::BTreeSet;

use opentrain::{Run, types};
use serde_json::json;

use super::{PayWith, Recorder, fast, published_job, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_the_spec_says() {
    let sandbox = start(fast()).await;
    let rec = Recorder::start(&sandbox).await;
    let human = sandbox.human().await.expect("the human signs in");
    let anon = rec.client(None);

    // auth
    anon.get_oauth_protected_resource().send().run().await.expect("protected resource");
    let meta = anon.get_oauth_authorization_server().send().run().await.expect("authorization server").expect("a body");
    assert!(meta.agent_auth.is_some());
    let reg = anon.register_agent().body(types::RegisterAgentRequest::default()).send().run().await.expect("register");
    let claim = reg.claim_token.clone().expect("claim token");
    let attempt = anon
        .start_claim()
        .body(types::StartClaimRequest { claim_token: claim.clone(), email: "conformance@example.com".into() })
        .send()
        .run()
        .await
        .expect("claim")
        .expect("a body");
    human.claim(&attempt).await.expect("claim");
    let post = anon
        .poll_agent_token()
        .body(types::AgentTokenRequest {
            grant_type: types::AgentGrantTypeKnown::UrnOpentrainAgentAuthGrantTypeClaim.into(),
            claim_token: claim,
        })
        .send()
        .run()
        .await
        .expect("post-claim token");
    let me = rec.client(Some(post.access_token.clone())).get_auth_me().send().run().await.expect("me");
    let org = me.account.organization_id.expect("org");
    let token = human.mint_full_key(&org).await.expect("mint a key");
    let c = rec.client(Some(token.clone()));
    let agent = super::Agent { client: c.clone(), org: org.clone(), token: token.clone() };

    // tokens
    let created = c
        .create_token()
        .body(types::CreateTokenRequest {
            name: "sub-agent".into(),
            scopes: vec![types::ScopeKnown::JobsRead.into()],
            expires_at: None,
        })
        .send()
        .run()
        .await
        .expect("create token");
    assert_eq!(c.list_tokens().send().run().await.expect("tokens").tokens.len(), 4);
    c.revoke_token().token_id(&created.metadata.id).send().run().await.expect("revoke by id");
    anon.revoke_agent_token()
        .body(types::AgentRevokeRequest { token: created.token.clone() })
        .send()
        .run()
        .await
        .expect("revoke by value");

    // jobs
    c.get_job_draft_capabilities().send().run().await.expect("capabilities");
    let (job, proposals) =
        published_job(&agent, "Transcribe 20 hours of audio in French, $20/hr, 2 transcribers.").await;
    let since = c.get_public_job().id(&job).send().run().await.expect("public job").date_posted.expect("datePosted");
    let patch: types::JobFieldPatch = serde_json::from_value(json!({ "headcount": 3 })).expect("patch");
    c.update_published_job().id(&job).body(patch).send().run().await.expect("update live job");
    let search = anon
        .search_jobs()
        .language("French")
        .limit(std::num::NonZeroU64::new(5).expect("5"))
        .send()
        .run()
        .await
        .expect("search");
    assert!(search.jobs.iter().any(|j| j.id == job));
    anon.get_job_facets().send().run().await.expect("facets");
    let changes = anon.list_job_changes().since(&since).send().run().await.expect("changes");
    assert!(changes.changes.iter().any(|ch| ch.job_id.as_deref() == Some(job.as_str())));
    c.list_my_jobs().send().run().await.expect("mine");
    let invite = c
        .invite_freelancer()
        .id(&job)
        .body(types::InviteFreelancerRequest { freelancer_id: "usr_fl_aisha".into() })
        .send()
        .run()
        .await
        .expect("invite");
    assert_eq!(invite.already_invited, Some(false));

    // proposals
    c.list_job_proposals().id(&job).send().run().await.expect("proposals");
    let detail = c.get_proposal().proposal_id(&proposals[0]).send().run().await.expect("proposal").proposal;
    c.get_proposal_interview().proposal_id(&proposals[0]).send().run().await.expect("interview");
    let who = detail.candidate.and_then(|cd| cd.profile_slug).expect("slug");
    c.get_freelancer_profile().id_or_slug(&who).send().run().await.expect("profile");
    let conv = c
        .start_proposal_conversation()
        .proposal_id(&proposals[0])
        .send()
        .run()
        .await
        .expect("conversation")
        .expect("a body");

    // messages and team
    c.send_message()
        .body(types::SendMessageRequest { conversation_id: conv.conversation_id.clone(), content: "Hello!".into() })
        .send()
        .run()
        .await
        .expect("send");
    c.read_messages().send().run().await.expect("summaries");
    c.read_messages()
        .conversation_id(&conv.conversation_id)
        .direction(types::MessagesDirectionKnown::Newer)
        .send()
        .run()
        .await
        .expect("thread");
    c.get_team().send().run().await.expect("team");
    let invited = c
        .invite_team_member()
        .body(types::InviteTeamMemberRequest { email: "teammate@example.com".into() })
        .send()
        .run()
        .await
        .expect("team invite")
        .expect("a body");
    assert_eq!(invited.status.to_string(), "invite_created");

    // credits
    let top_up = c
        .create_credit_top_up()
        .body(types::CreateCreditTopUpRequest { amount_usd: 300.0, amount: None })
        .send()
        .run()
        .await
        .expect("top-up");
    human.pay(&top_up.checkout_url).await.expect("pay");
    c.get_credit_top_up().top_up_id(&top_up.top_up_id).send().run().await.expect("top-up status");
    c.get_credits().send().run().await.expect("credits");

    // contracts, milestones, approvals
    let hire = c
        .hire_proposal()
        .proposal_id(&proposals[0])
        .body(types::HireProposalRequest {
            milestone: types::HireProposalMilestone {
                name: Some("Pilot".into()),
                description: None,
                amount: 60.0,
                due_date: None,
            },
            confirm_not_fit_override: None,
        })
        .send()
        .run()
        .await
        .expect("hire");
    human.confirm(&hire.approval, PayWith::Credits).await.expect("confirm");
    let done = c
        .get_approval()
        .approval_id(hire.approval.id.as_deref().expect("id"))
        .send()
        .run()
        .await
        .expect("approval")
        .approval;
    let contract = done.result.and_then(|r| r.contract_id).expect("contract");
    c.list_contracts().status(types::ContractStatusKnown::Active).send().run().await.expect("contracts");
    let ms = c
        .create_milestone()
        .contract_id(&contract)
        .body(types::CreateMilestoneRequest {
            description: "Second batch".into(),
            name: None,
            amount_usd: None,
            volume: Some(2.0),
            due_date: Some("2026-08-01".into()),
        })
        .send()
        .run()
        .await
        .expect("milestone")
        .milestone;
    let fund = c.fund_milestone().milestone_id(&ms.id).send().run().await.expect("fund");
    c.list_pending_payments().send().run().await.expect("pending payments");
    human.confirm(&fund.approval, PayWith::Credits).await.expect("confirm");
    for m in c.get_contract().contract_id(&contract).send().run().await.expect("contract").contract.milestones {
        let approve = c.approve_milestone().milestone_id(&m.id).send().run().await.expect("approve");
        human.confirm(&approve.approval, PayWith::Credits).await.expect("confirm");
    }
    // Nothing funded any more: the contract ends at once (200), the other branch of the oneOf.
    let ended = c.end_contract().contract_id(&contract).send().run().await.expect("end");
    assert!(ended.pending_approval().is_none());
    c.list_credit_ledger().send().run().await.expect("ledger");

    // updates and webhooks
    c.poll_updates().send().run().await.expect("updates");
    let hook = c
        .create_webhook()
        .body(types::CreateWebhookRequest {
            url: "http://127.0.0.1:9/hook".into(),
            event_types: vec![types::UpdateEventTypeKnown::ContractCreated.into()],
        })
        .send()
        .run()
        .await
        .expect("webhook");
    c.list_webhooks().send().run().await.expect("webhooks");
    c.get_webhook().webhook_id(&hook.webhook.id).send().run().await.expect("webhook");
    c.delete_webhook().webhook_id(&hook.webhook.id).send().run().await.expect("delete webhook");
    c.close_job().id(&job).send().run().await.expect("close");

    let answered = rec.check_all();
    let all: BTreeSet<String> = opentrain::generated::meta::OPERATIONS.iter().map(|o| o.id.to_string()).collect();
    let missing: Vec<&String> = all.difference(&answered).collect();
    assert!(missing.is_empty(), "operations never answered 2xx: {missing:?}");
    assert_eq!(all.len(), 49);
}
