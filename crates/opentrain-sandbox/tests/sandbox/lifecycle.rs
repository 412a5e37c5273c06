//! The whole hiring lifecycle through the library against a live sandbox, every response also
//! checked against openapi.yaml by the recording proxy.

use std::collections::BTreeSet;

use opentrain::{
    CredentialsFile, Run,
    approvals::{ApprovalWait, wait_for_approval},
    claim::{ClaimWait, RegisterOptions, register, start_claim, wait_for_claim},
    types::{self, EndContractResult},
    webhook::{SIGNATURE_HEADER, Verifier},
};
use serde_json::Value;

use super::{PayWith, Recorder, fast, start};
use opentrain_sandbox::Human;

const JOB: &str = "Spanish tweet sentiment\n\
Label 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lifecycle_through_the_library() {
    let sandbox = start(fast()).await;
    let rec = Recorder::start(&sandbox).await;
    // The person's one-time link and session stay between the sandbox and the person: checked
    // against every API response below.
    let link = sandbox.sign_in_link();
    let human = Human::sign_in(&link).await.expect("the human signs in");
    let receiver = httpmock::MockServer::start_async().await;
    let (deliveries, _) = super::respond_in_turn(&receiver, &[200]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = CredentialsFile::load(dir.path().join("cli.json")).expect("credentials file");

    // Register: the library saves the pre-claim token and the claim token.
    let anon = rec.client(None);
    let reg = register(
        &anon,
        &mut store,
        &RegisterOptions { agent_name: Some("Lifecycle test".into()), ..Default::default() },
    )
    .await
    .expect("register");
    let pre_claim = reg.access_token.clone();
    let c = rec.client(Some(pre_claim.clone()));

    // Draft from plain text, then fill every gap the validation asks for until publish-ready.
    let draft = c
        .create_job_draft()
        .body(types::CreateJobDraftRequest { raw_job_description: Some(JOB.into()), ..Default::default() })
        .send()
        .run()
        .await
        .expect("draft");
    let normalized = serde_json::to_value(&draft.normalized_fields).expect("json");
    assert_eq!(normalized["paymentType"], "PAY_PER_LABEL");
    assert_eq!(normalized["pricePerLabel"], 0.05);
    assert_eq!(normalized["headcount"].as_f64(), Some(3.0));
    assert_eq!(normalized["languages"], serde_json::json!(["Spanish"]));
    let mut gaps = draft.missing_fields.clone();
    assert!(!gaps.is_empty(), "the text states no experience level or unit");
    let mut rounds = 0;
    loop {
        let mut patch = serde_json::Map::new();
        for g in &gaps {
            let key = g.update_keys.first().cloned().unwrap_or_else(|| g.field.clone());
            let value = match (g.enum_values.as_ref().and_then(|v| v.first()), g.type_.as_deref()) {
                (Some(first), _) => Value::from(
                    g.example
                        .clone()
                        .filter(|e| g.enum_values.iter().flatten().any(|v| v == e))
                        .unwrap_or(first.clone()),
                ),
                (None, Some("number")) => {
                    Value::from(g.example.as_deref().and_then(|e| e.parse::<f64>().ok()).unwrap_or(1.0))
                }
                _ => Value::from(g.example.clone().unwrap_or_else(|| "Filled in".into())),
            };
            assert!(g.prompt.as_deref().is_some_and(|p| !p.is_empty()), "every gap carries a prompt: {g:?}");
            patch.insert(key, value);
        }
        let body: types::JobFieldPatch = serde_json::from_value(Value::Object(patch)).expect("patch");
        let updated =
            c.update_job_draft().job_id(&draft.job_id).body(body).send().run().await.expect("patch").expect("a body");
        let v = updated.validation.expect("validation");
        if v.publish_ready {
            break;
        }
        rounds += 1;
        assert!(rounds < 3, "patching the asked-for keys must converge: {v:?}");
        gaps.retain(|g| v.missing_fields.contains(&g.field));
    }

    // Publish (pre-claim is allowed) and see proposals arrive, with interviews.
    let published = c.publish_job().id(&draft.job_id).send().run().await.expect("publish");
    assert_eq!(published.status.to_string(), "OPEN");
    let proposals = c.list_job_proposals().id(&draft.job_id).send().run().await.expect("proposals").proposals;
    assert_eq!(proposals.len(), 3);
    let best = proposals
        .iter()
        .max_by(|a, b| {
            let s = |p: &types::JobProposalSummary| p.metrics.as_ref().and_then(|m| m.interview_score).unwrap_or(0.0);
            s(a).total_cmp(&s(b))
        })
        .expect("a proposal");
    let detail = c.get_proposal().proposal_id(&best.id).send().run().await.expect("proposal").proposal;
    assert!(detail.ai_interview.as_ref().is_some_and(|i| i.transcript_available == Some(true)));
    let candidate = detail.candidate.clone().expect("candidate");
    assert!(candidate.display_name.as_deref().is_some_and(|n| n.ends_with('.')), "masked: {candidate:?}");
    let interview = c.get_proposal_interview().proposal_id(&best.id).send().run().await.expect("interview").interview;
    assert!(interview.messages.len() >= 4);

    // Money and messages need a claimed account: the claim ceremony, a human types the code.
    let attempt = start_claim(&anon, &store, "owner@example.com", None).await.expect("start claim");
    assert_eq!(attempt.user_code.len(), 6);
    human.claim(&attempt).await.expect("claim");
    let claimed = wait_for_claim(
        &anon,
        &mut store,
        None,
        &ClaimWait { interval: std::time::Duration::ZERO, ..Default::default() },
        |_| {},
    )
    .await
    .expect("claim completes");
    assert_eq!(store.api_token().as_ref(), Some(&claimed.access_token));
    assert!(store.claim_token().is_none());
    let old = c.get_auth_me().send().run().await.expect_err("pre-claim tokens are revoked on claim");
    assert_eq!(old.status(), Some(401));
    let me = rec.client(Some(claimed.access_token.clone())).get_auth_me().send().run().await.expect("me");
    let org = me.account.organization_id.clone().expect("org");

    // payments:write and webhooks:manage come from a key the human mints in the app.
    let c = rec.client(Some(human.mint_full_key(&org).await.expect("mint a key")));

    let hook = c
        .create_webhook()
        .body(types::CreateWebhookRequest {
            url: receiver.url("/opentrain"),
            event_types: [
                "proposal.received",
                "proposal.status_changed",
                "message.received",
                "contract.created",
                "milestone.status_changed",
                "payment.pending",
                "approval.confirmed",
                "contract.budget_state_changed",
            ]
            .into_iter()
            .map(|t| t.parse().expect("event type"))
            .collect(),
        })
        .send()
        .run()
        .await
        .expect("webhook");
    let verifier = Verifier::new(hook.secret.expose());

    // Credits: the top-up's checkout page completes the payment.
    let top_up = c
        .create_credit_top_up()
        .body(types::CreateCreditTopUpRequest { amount_usd: 500.0, amount: None })
        .send()
        .run()
        .await
        .expect("top-up");
    human.pay(&top_up.checkout_url).await.expect("pay");
    let paid = c.get_credit_top_up().top_up_id(&top_up.top_up_id).send().run().await.expect("top-up status").top_up;
    assert_eq!(paid.status.to_string(), "COMPLETED");

    // Message the candidate before hiring; the reply arrives unread.
    let conv = c
        .start_proposal_conversation()
        .proposal_id(&best.id)
        .send()
        .run()
        .await
        .expect("conversation")
        .expect("a body");
    assert_eq!(conv.created, Some(true));
    c.send_message()
        .body(types::SendMessageRequest {
            conversation_id: conv.conversation_id.clone(),
            content: "Hi! Can you start this week?".into(),
        })
        .send()
        .run()
        .await
        .expect("send");
    let unread = c.read_messages().unread_only(true).send().run().await.expect("unread").conversations().to_vec();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0].unread_count, Some(1));
    let thread = c
        .read_messages()
        .conversation_id(&conv.conversation_id)
        .send()
        .run()
        .await
        .expect("thread")
        .messages()
        .to_vec();
    assert_eq!(thread.len(), 2);
    assert!(
        thread[0].has_unread_flag == Some(true) && thread[0].is_from_viewer == Some(false),
        "newest first, the reply: {thread:?}"
    );
    let unread = c.read_messages().unread_only(true).send().run().await.expect("unread").conversations().to_vec();
    assert!(unread.is_empty(), "reading the thread marks it read");

    // Hire: pending until a human confirms on the approval page (a plain form post).
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
        .expect("hire request");
    assert_eq!(hire.approval.status.as_ref().map(|s| s.to_string()).as_deref(), Some("pending"));
    assert!(
        c.list_contracts().send().run().await.expect("contracts").contracts.is_empty(),
        "nothing happens before the human"
    );
    human.confirm(&hire.approval, PayWith::Credits).await.expect("confirm");
    let wait = ApprovalWait { initial_interval: std::time::Duration::from_millis(10), ..Default::default() };
    let done = wait_for_approval(&c, hire.approval.id.as_deref().expect("id"), &wait, |_| {}).await.expect("approval");
    assert!(done.is_confirmed());
    let contract_id = done.result.as_ref().and_then(|r| r.contract_id.clone()).expect("contract id in the result");

    let contract = c.get_contract().contract_id(&contract_id).send().run().await.expect("contract").contract;
    assert_eq!(contract.milestones.len(), 1);
    assert_eq!(contract.milestones[0].status.to_string(), "ACTIVE_FUNDED");
    assert!(contract.budget.is_some() && contract.job_dm_conversation_id.is_some());

    // A second milestone: create, fund (co-signed), approve (co-signed).
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
        .expect("milestone")
        .milestone;
    assert_eq!(ms.status.to_string(), "NOT_FUNDED");
    assert_eq!(ms.amount_usd, Some(50.0), "rate x volume");
    let fund = c.fund_milestone().milestone_id(&ms.id).send().run().await.expect("fund");
    let pending = c.list_pending_payments().send().run().await.expect("pending").payments;
    assert_eq!(pending.len(), 1, "the funding invoice waits for the human");
    human.confirm(&fund.approval, PayWith::Credits).await.expect("confirm");
    let approve = c.approve_milestone().milestone_id(&ms.id).send().run().await.expect("approve");
    human.confirm(&approve.approval, PayWith::Credits).await.expect("confirm");
    let contract = c.get_contract().contract_id(&contract_id).send().run().await.expect("contract").contract;
    let status_of = |id: &str| contract.milestones.iter().find(|m| m.id == id).map(|m| m.status.to_string());
    assert_eq!(status_of(&ms.id).as_deref(), Some("PAID"));

    // End the contract: the first milestone is still funded, so a human co-signs that too.
    let end = c.end_contract().contract_id(&contract_id).send().run().await.expect("end");
    let EndContractResult::ApprovalPending(end) = end else { panic!("funded milestones need a co-sign: {end:?}") };
    human.confirm(&end.approval, PayWith::Credits).await.expect("confirm");
    let contract = c.get_contract().contract_id(&contract_id).send().run().await.expect("contract").contract;
    assert_eq!(contract.status.to_string(), "ended");

    // Money moved only through the human pages: hold, capture, release, top-up, all in the ledger.
    let ledger = c.list_credit_ledger().send().run().await.expect("ledger").entries;
    let kinds: BTreeSet<String> = ledger.iter().map(|e| e.type_.to_string()).collect();
    assert_eq!(kinds, ["CAPTURE", "HOLD", "HOLD_RELEASE", "TOP_UP"].into_iter().map(String::from).collect());
    let credits = c.get_credits().send().run().await.expect("credits").credits;
    assert_eq!(credits.reserved_cents, 0, "nothing stays held after the contract ended");
    // $500 - hire ($100 + 10% + $9.95) - batch 2 ($50 + 10%) + released first milestone ($119.95).
    assert_eq!(credits.available_cents, 50_000 - 11_995 - 5_500 + 11_995);

    // The updates feed saw every documented event type.
    let events = c.poll_updates().limit(200).send().run().await.expect("updates");
    let seen: BTreeSet<String> = events.events.iter().map(|e| e.type_.to_string()).collect();
    for t in [
        "proposal.received",
        "proposal.status_changed",
        "message.received",
        "contract.created",
        "milestone.status_changed",
        "payment.pending",
        "approval.confirmed",
        "contract.budget_state_changed",
    ] {
        assert!(seen.contains(t), "{t} missing from the feed: {seen:?}");
    }

    // Every event after the subscription reached the webhook, signed with its secret.
    let after: Vec<String> =
        events.events.iter().filter(|e| e.id.parse::<u64>().unwrap_or(0) > 0).map(|e| e.id.clone()).collect();
    let received = deliveries
        .until(|all| {
            let ids: BTreeSet<String> = all
                .iter()
                .filter_map(|r| serde_json::from_slice::<Value>(r.body_ref()).ok())
                .filter_map(|v| v["id"].as_str().map(str::to_string))
                .collect();
            ids.len() >= 15
        })
        .await;
    assert!(received.len() >= 15, "deliveries: {} of {} events", received.len(), after.len());
    for r in &received {
        let headers = r.headers();
        let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).expect("signature header");
        verifier.verify(sig, r.body_ref()).expect("the library's checker accepts the sandbox's signature");
        assert!(headers.get("X-OpenTrain-Delivery").is_some() && headers.get("X-OpenTrain-Event").is_some());
        assert!(Verifier::new("whsec_wrong").verify(sig, r.body_ref()).is_err());
    }

    // No API response ever carried the person's sign-in secret, the way to it, or the session's
    // CSRF token: the agent cannot learn to sign in as its human.
    let secret = link.split("token=").nth(1).expect("the link's secret");
    for x in rec.exchanges() {
        for (what, needle) in [("sign-in secret", secret), ("sign-in path", "/sign-in"), ("CSRF token", human.csrf())] {
            assert!(!x.raw.contains(needle), "{} {} answered with the {what}: {}", x.method, x.path, x.raw);
        }
    }

    // And every response on the way satisfied openapi.yaml.
    let ops = rec.check_all();
    println!("lifecycle: {} operations, {} requests", ops.len(), rec.exchanges().len());
    sandbox.shutdown().await.expect("clean shutdown");
}
