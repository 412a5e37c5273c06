//! One test per tool: the text a model reads for a documented example answer (or, where the docs
//! print none, a realistic one built from the spec's schema) names what it must act on next, and
//! shows no secret.
//!
//! The text is taken from `result::ok`, the path every answer goes out through, so the masking
//! applied there is part of what is checked.

use serde_json::{Value, json};

use crate::{handlers, result};
use opentrain::generated::tools::{TOOLS, ToolDef};

/// A documented body from `tests/fixtures/examples` at the repository root.
macro_rules! example {
    ($file:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/examples/",
            $file
        )))
        .expect("the example is JSON")
    };
}

fn tool(name: &str) -> ToolDef {
    if name == handlers::WAIT_FOR_APPROVAL {
        return handlers::wait_for_approval_tool();
    }
    TOOLS.iter().find(|t| t.name == name).cloned().expect("tool in the table")
}

/// The text of the result `name` gives for `body`, as the client receives it.
fn text(name: &str, body: &Value) -> String {
    let r = result::ok(&tool(name), body.clone(), None);
    assert_eq!(r.is_error, Some(false), "{name}");
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

/// Every secret-looking value in `body`: those under a secret key, and any shaped token.
fn secrets_in(body: &Value, found: &mut Vec<String>) {
    match body {
        Value::Object(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) if ["access_token", "claim_token", "secret", "token"].contains(&k.as_str()) => {
                        found.push(s.to_string());
                    }
                    _ => secrets_in(v, found),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| secrets_in(v, found)),
        Value::String(s) => {
            for word in s.split(|c: char| c.is_whitespace() || c == '"' || c == '=' || c == '/') {
                let shaped = ["ot_pat_", "ot_clm_", "whsec_"].iter().any(|p| word.starts_with(p));
                if shaped && !word.contains('*') {
                    found.push(word.to_string());
                }
            }
        }
        _ => {}
    }
}

/// The text contains every needle and none of the body's secrets; the body itself fits the tool's
/// output schema (the top-level shape a client checks structuredContent against).
fn check(name: &str, body: &Value, needles: &[&str]) -> String {
    let schema: Value = serde_json::from_str(tool(name).output_schema).expect("output schema is JSON");
    if let Err(v) = crate::schema::validate(&schema, body) {
        panic!("{name}: the example does not fit the output schema: {v}");
    }
    let t = text(name, body);
    for n in needles {
        assert!(t.contains(n), "{name}: the text lacks {n:?}:\n{t}");
    }
    let mut secrets = Vec::new();
    secrets_in(body, &mut secrets);
    for s in secrets {
        assert!(!t.contains(&s), "{name}: the text shows the secret {s:?}:\n{t}");
    }
    t
}

#[test]
fn auth_status_names_the_user_account_and_token_scopes() {
    // No documented body: built from the AuthMe schema, for an unclaimed agent's token.
    let body = json!({
        "actor": {"userId": "usr_1", "email": "agent@example.com", "fullName": "Claude Code", "userType": "CLIENT"},
        "token": {"id": "tok_1", "label": "agent", "scopes": ["jobs:read", "jobs:write", "proposals:read"]},
        "account": {"kind": "agent", "organizationId": "org_1", "memberRole": "OWNER"}
    });
    check(
        "opentrain_auth_status",
        &body,
        &["Claude Code", "agent@example.com", "usr_1", "org_1", "tok_1", "jobs:write", "opentrain_claim_account"],
    );
}

#[test]
fn capabilities_lists_what_can_be_done_and_the_allowed_values() {
    let body = example!("jobs__GET_job-drafts_capabilities__response.json");
    check(
        "opentrain_capabilities",
        &body,
        &["enabled", "draftCreate", "hiring", "experienceLevel", "INTERMEDIATE", "opentrain_create_job_draft"],
    );
    let mut off = body.clone();
    off["enabled"] = false.into();
    off["capabilities"]["hiring"] = false.into();
    let t = check("opentrain_capabilities", &off, &["NOT enabled", "Cannot: hiring", "public_api_job_drafting"]);
    assert!(!t.contains("opentrain_create_job_draft"), "{t}");
}

#[test]
fn create_job_draft_names_each_missing_field_with_its_prompt_and_values() {
    // The docs print no full create response; this one follows the documented MissingField
    // entries (guide codes, the `ask: ` prompts of the API reference).
    let body = json!({
        "ok": true, "jobId": "job_7", "status": "DRAFT",
        "draftUrl": "https://app.opentrain.ai/job-post?jobId=job_7",
        "reviewUrl": "https://app.opentrain.ai/jobs/job_7/review",
        "validation": {"publishReady": false, "issueCount": 0, "missingFieldCount": 2,
            "missingFields": ["experienceLevel", "pricePerLabel"], "issues": []},
        "missingFields": [
            {"field": "experienceLevel", "label": "Experience level", "code": "MISSING_EXPERIENCE_LEVEL",
             "prompt": "ask: What experience level do you need?", "type": "enum",
             "enumValues": ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"],
             "updateKeys": ["experienceLevel"], "example": "INTERMEDIATE", "hint": null},
            {"field": "pricePerLabel", "label": "Price per label", "code": "missing_required_field",
             "prompt": "ask: How much will you pay per label (USD)?", "type": "number", "enumValues": null,
             "updateKeys": ["pricePerLabel"], "example": "0.05", "hint": "Set paymentType too."}
        ],
        "normalizedFields": {"jobTitle": "Spanish sentiment", "paymentType": "PAY_PER_LABEL"},
        "warnings": [],
        "unmappedFields": [{"path": "job.bonus", "reason": "unknown key", "valuePreview": "10%"}]
    });
    let t = check(
        "opentrain_create_job_draft",
        &body,
        &[
            "Draft job_7",
            "2 field(s) missing",
            "experienceLevel (Experience level): ask: What experience level do you need?",
            "Allowed values: EXPERT, ENTRY_LEVEL, INTERMEDIATE, ANY_EXPERIENCE_LEVEL",
            "pricePerLabel (Price per label): ask: How much will you pay per label (USD)?",
            "Example: 0.05",
            "Set paymentType too.",
            "job.bonus",
            "https://app.opentrain.ai/jobs/job_7/review",
            "opentrain_update_job_draft_fields with jobId \"job_7\"",
        ],
    );
    assert!(!t.contains("- enum"), "the entry's type is no name for it: {t}");

    // The API reference's conflict: a count, but no names. The text says so and where to look.
    let unnamed = json!({"ok": true, "jobId": "job_8", "status": "DRAFT", "draftUrl": "https://app/d",
        "validation": {"publishReady": false, "missingFieldCount": 2, "missingFields": []}});
    check("opentrain_create_job_draft", &unnamed, &["2 field(s) missing", "did not name", "https://app/d"]);

    // No report at all: the text claims nothing about readiness.
    let bare = json!({"ok": true, "jobId": "job_9", "status": "DRAFT"});
    let t = check("opentrain_create_job_draft", &bare, &["no validation report", "opentrain_publish_job"]);
    assert!(!t.contains("missing,") && !t.contains("publish-ready"), "{t}");
}

#[test]
fn update_job_draft_fields_sends_a_ready_draft_to_publishing() {
    let body = example!("jobs__PATCH_job-drafts_{jobId}__response.json");
    check("opentrain_update_job_draft_fields", &body, &["publish-ready", "opentrain_publish_job", "<JOB_ID>"]);
    // Still missing, named only by `validation.missingFields` (the guide's shape).
    let body = json!({"ok": true, "jobId": "job_9", "status": "DRAFT",
        "validation": {"publishReady": false, "missingFieldCount": 2, "missingFields": ["experienceLevel", "dataVolumeUnit"]}});
    check(
        "opentrain_update_job_draft_fields",
        &body,
        &[
            "- experienceLevel",
            // Named without a description: the allowed values come from the spec's field catalog.
            "Allowed values: EXPERT, ENTRY_LEVEL, INTERMEDIATE, ANY_EXPERIENCE_LEVEL",
            "- dataVolumeUnit",
            "NUMBER_OF_WORDS",
            "patch setting experienceLevel, dataVolumeUnit",
        ],
    );
}

#[test]
fn publish_job_gives_the_link_and_where_candidates_arrive() {
    let body = example!("jobs__POST_jobs_{id}_publish__response.json");
    check(
        "opentrain_publish_job",
        &body,
        &["Job <JOB_ID> is OPEN", "https://app.opentrain.ai/jobs/<JOB_ID>", "opentrain_list_proposals"],
    );
}

#[test]
fn update_published_job_reports_moderation() {
    // No documented body: built from PublishedJobUpdated.
    let body = json!({"ok": true, "jobId": "job_1", "status": "PENDING_APPROVAL",
        "moderation": {"decision": "REVIEW", "reasons": ["external contact details"]}});
    check(
        "opentrain_update_published_job",
        &body,
        &["job_1", "PENDING_APPROVAL", "REVIEW: external contact details", "opentrain_update_published_job"],
    );
}

#[test]
fn close_job_says_it_is_closed() {
    let body = example!("jobs__POST_jobs_{id}_close__response.json");
    check("opentrain_close_job", &body, &["Job <JOB_ID> is closed (ARCHIVED)", "opentrain_list_contracts"]);
}

#[test]
fn list_jobs_points_at_unreviewed_proposals() {
    let body = example!("jobs__GET_jobs_mine__response.json");
    check(
        "opentrain_list_jobs",
        &body,
        &["<JOB_ID>", "Spanish Sentiment Labeling", "OPEN", "12 proposal(s), 5 unreviewed", "opentrain_list_proposals"],
    );
}

#[test]
fn search_jobs_rows_carry_pay_and_link() {
    // No documented body: built from PublicJobList.
    let body = json!({"jobs": [{"id": "pj_1", "title": "Audio transcription", "companyName": "Acme", "status": "OPEN",
        "pay": {"paymentType": "PAY_PER_HOUR", "currency": "USD", "hourlyRate": 18},
        "url": "https://www.opentrain.ai/jobs/audio-transcription"}], "nextCursor": "c2"});
    check(
        "opentrain_search_jobs",
        &body,
        &["pj_1", "Audio transcription", "Acme", "PAY_PER_HOUR $18/h", "opentrain.ai/jobs/audio", "cursor \"c2\""],
    );
}

#[test]
fn list_proposals_rows_are_candidates_with_score_and_rate() {
    // No documented body: built from JobProposalList.
    let body = json!({"proposals": [
        {"id": "prop_1", "jobId": "job_1", "jobTitle": "Spanish sentiment", "status": {"raw": "UNREVIEWED", "label": "New"},
         "bid": {"amountUsd": 0.06, "unit": "PER_LABEL", "labelerHourlyRateUsd": 14},
         "candidate": {"id": "fr_1", "displayName": "Maria G.", "country": "Spain", "profileTitle": "Linguist"},
         "metrics": {"interviewScore": 92, "matchScore": 0.87}},
        {"id": "prop_2", "jobId": "job_1", "jobTitle": "Spanish sentiment", "status": {"raw": "SHORTLISTED"},
         "candidate": {"id": "fr_2", "firstName": "Luis", "lastNameInitial": "P"}}
    ], "nextCursor": null});
    let t = check(
        "opentrain_list_proposals",
        &body,
        &[
            "prop_1 | Maria G. (Spain) | New | interview score 92, match score 0.87 | bid $0.06 per label ($14/h",
            "prop_2 | Luis P. | SHORTLISTED",
            "opentrain_get_proposal",
            "opentrain_hire_proposal",
        ],
    );
    assert_eq!(t.matches("Spanish sentiment").count(), 1, "the job is named once, not per row: {t}");
}

#[test]
fn get_proposal_names_candidate_terms_and_the_next_step() {
    // No documented body: built from GetProposalResponse.
    let body = json!({"proposal": {"id": "prop_1", "jobId": "job_1", "jobTitle": "Spanish sentiment",
        "status": {"raw": "SHORTLISTED", "label": "Shortlisted"},
        "bid": {"amountUsd": 15, "unit": "PER_HOUR"},
        "candidate": {"id": "fr_1", "profileSlug": "maria-g", "displayName": "Maria G.", "country": "Spain"},
        "metrics": {"interviewScore": 92},
        "aiInterview": {"score": 92, "summary": "Strong on sarcasm.", "transcriptAvailable": true},
        "verification": {"location": {"status": "PASSED"}, "identity": {"verified": true}}}});
    check(
        "opentrain_get_proposal",
        &body,
        &[
            "Proposal prop_1 from Maria G. (Spain)",
            "Shortlisted",
            "bid $15 per hour",
            "Strong on sarcasm.",
            "location PASSED, identity verified",
            "idOrSlug \"maria-g\"",
            "includeInterview: true",
            "opentrain_hire_proposal (proposalId \"prop_1\"",
        ],
    );
    let mut not_fit = body.clone();
    not_fit["proposal"]["status"] = json!({"raw": "NOT_A_FIT"});
    check("opentrain_get_proposal", &not_fit, &["confirmNotFitOverride"]);
}

#[test]
fn freelancer_profile_leads_to_an_invite() {
    // No documented body: built from GetFreelancerProfileResponse.
    let body = json!({"freelancer": {"id": "fr_1", "displayName": "Maria G.", "title": "Spanish linguist",
        "country": "Spain", "hourlyRateUsd": 14, "identityVerified": true,
        "skills": {"labelTypes": ["sentiment"], "software": ["Label Studio"]},
        "languages": [{"language": "Spanish", "proficiency": "Native"}],
        "stats": {"jobSuccessScore": 98, "reviewCount": 12}}});
    check(
        "opentrain_get_freelancer_profile",
        &body,
        &["Maria G. (fr_1): Spanish linguist", "$14/h", "Spanish (Native)", "sentiment", "freelancerId \"fr_1\""],
    );
}

#[test]
fn invite_freelancer_gives_the_new_proposal() {
    let body = example!("jobs__POST_jobs_{id}_invites__response.json");
    check(
        "opentrain_invite_freelancer",
        &body,
        &["Invited freelancer <FREELANCER_ID> to job <JOB_ID>: proposal <PROPOSAL_ID>", "opentrain_get_proposal"],
    );
}

#[test]
fn hire_proposal_hands_the_approval_link_and_expiry_to_the_human() {
    let body = example!("proposals__POST_proposals_{proposalId}_hire__response.json");
    check(
        "opentrain_hire_proposal",
        &body,
        &[
            "https://app.opentrain.ai/approvals/<APPROVAL_ID>",
            "expires 2026-06-15T10:00:00.000Z",
            "opentrain_wait_for_approval with approvalId \"<APPROVAL_ID>\"",
        ],
    );
}

#[test]
fn send_message_names_the_conversation_to_read() {
    let body = example!("messages__POST_messages__response.json");
    check(
        "opentrain_send_message",
        &body,
        &["Sent message <MESSAGE_ID> in conversation <CONVERSATION_ID>", "opentrain_read_messages"],
    );
}

#[test]
fn start_proposal_conversation_gives_the_conversation_id() {
    let body = example!("proposals__POST_proposals_{proposalId}_conversation__response.json");
    check(
        "opentrain_start_proposal_conversation",
        &body,
        &["Started conversation <CONVERSATION_ID>", "opentrain_send_message (conversationId \"<CONVERSATION_ID>\")"],
    );
}

#[test]
fn list_contracts_shows_freelancer_and_milestones() {
    let body = example!("money__GET_contracts__response.json");
    check(
        "opentrain_list_contracts",
        &body,
        &["<CONTRACT_ID>", "with Maria G. (Spain)", "FIXED_PRICE at $300", "\"First labeling batch\" | ACTIVE_FUNDED"],
    );
}

#[test]
fn get_contract_says_which_milestone_to_fund() {
    // No documented body: the documented contract with a budget and a second, unfunded milestone.
    let mut body = json!({"contract": example!("money__GET_contracts__response.json")["contracts"][0].clone()});
    body["contract"]["budget"] = json!({"state": "LOW", "fundedAmountUsd": 300, "remainingVolume": 400});
    body["contract"]["milestones"]
        .as_array_mut()
        .expect("milestones")
        .push(json!({"id": "ms_2", "name": "Second batch", "status": "NOT_FUNDED", "amountUsd": 300}));
    check(
        "opentrain_get_contract",
        &body,
        &["Budget: LOW | funded $300", "ms_2", "opentrain_request_milestone_funding (milestoneId \"ms_2\""],
    );
}

#[test]
fn create_milestone_asks_for_funding() {
    let body = example!("money__POST_contracts_{contractId}_milestones__response.json");
    check(
        "opentrain_create_milestone",
        &body,
        &["\"Second labeling batch\"", "NOT_FUNDED", "$300", "opentrain_request_milestone_funding (milestoneId"],
    );
}

#[test]
fn request_milestone_funding_hands_the_approval_to_the_human() {
    let body = example!("money__POST_milestones_{milestoneId}_fund__response.json");
    check(
        "opentrain_request_milestone_funding",
        &body,
        &[
            "milestone_fund",
            "https://app.opentrain.ai/approvals/<APPROVAL_ID>",
            "expires 2026-06-15",
            "opentrain_wait_for_approval",
        ],
    );
}

#[test]
fn request_milestone_approval_hands_the_approval_to_the_human() {
    let body = example!("money__POST_milestones_{milestoneId}_approve__response.json");
    check(
        "opentrain_request_milestone_approval",
        &body,
        &["milestone_approve", "https://app.opentrain.ai/approvals/<APPROVAL_ID>", "opentrain_wait_for_approval"],
    );
}

#[test]
fn get_approval_shows_the_result_of_a_confirmed_one() {
    // No documented body: built from GetApprovalResponse, confirmed with its evidence.
    let body = json!({"approval": {"id": "appr_1", "type": "proposal_hire", "status": "confirmed",
        "resolvedAt": "2026-06-13T08:00:00.000Z", "result": {"hired": true, "contractId": "ct_1"}}});
    check(
        "opentrain_get_approval",
        &body,
        &["Approval appr_1 (proposal_hire): confirmed", "hired under contract ct_1", "opentrain_get_contract"],
    );
}

#[test]
fn end_contract_covers_both_answers() {
    // The concept page's body has no id or link: the text says so instead of inventing one.
    let body = example!("money__POST_contracts_{contractId}_end__response__202-concept.json");
    check("opentrain_end_contract", &body, &["contract_end", "funded milestones", "no approvalUrl"]);
    let ended = json!({"ok": true, "contractId": "ct_1", "status": "ended"});
    check("opentrain_end_contract", &ended, &["Contract ct_1 is ended"]);
}

#[test]
fn get_credits_shows_the_balance_in_dollars() {
    let body = example!("money__GET_credits__response.json");
    check(
        "opentrain_get_credits",
        &body,
        &["$50.00 available", "$25.00 reserved", "HOLD | -$25.00", "milestone <MILESTONE_ID>"],
    );
    let empty = json!({"credits": {"availableCents": 0, "reservedCents": 0}});
    check("opentrain_get_credits", &empty, &["opentrain_create_credit_top_up"]);
}

#[test]
fn list_credit_ledger_rows_and_next_page() {
    // No documented body: built from ListCreditLedgerResponse.
    let body = json!({"entries": [{"id": "le_1", "type": "TOP_UP", "amountCents": 10000, "topUpId": "tu_1",
        "createdAt": "2026-06-12T10:00:00.000Z"}], "nextCursor": "c9"});
    check("opentrain_list_credit_ledger", &body, &["le_1 | TOP_UP | $100.00", "top-up tu_1", "cursor \"c9\""]);
}

#[test]
fn create_credit_top_up_sends_the_human_to_checkout() {
    let body = example!("money__POST_credits_top-ups__response.json");
    check(
        "opentrain_create_credit_top_up",
        &body,
        &[
            "$100.00",
            "https://checkout.stripe.com/c/pay/",
            "before 2026-06-13T10:00:00.000Z",
            "topUpId \"<TOP_UP_ID>\"",
        ],
    );
}

#[test]
fn get_credit_top_up_says_whether_it_was_paid() {
    // No documented body: built from GetCreditTopUpResponse.
    let pending = json!({"topUp": {"id": "tu_1", "status": "PENDING", "amountCents": 10000}});
    check("opentrain_get_credit_top_up", &pending, &["Top-up tu_1: PENDING", "has not paid", "topUpId \"tu_1\""]);
    let done = json!({"topUp": {"id": "tu_1", "status": "COMPLETED", "amountCents": 10000}});
    check("opentrain_get_credit_top_up", &done, &["COMPLETED", "opentrain_get_credits"]);
}

#[test]
fn list_pending_payments_says_what_each_waits_for() {
    // No documented body: built from ListPendingPaymentsResponse.
    let body = json!({"payments": [{"id": "inv_1", "status": "PENDING_FUNDING", "amountUsd": 300, "invoiceNumber": 7,
        "job": {"id": "job_1", "title": "Spanish sentiment"}, "milestone": {"id": "ms_2", "name": "Second batch"}}]});
    check(
        "opentrain_list_pending_payments",
        &body,
        &[
            "inv_1 | PENDING_FUNDING | $300",
            "milestone \"Second batch\" (ms_2)",
            "opentrain_request_milestone_funding (milestoneId \"ms_2\")",
        ],
    );
}

#[test]
fn poll_updates_turns_events_into_calls() {
    // No documented body: built from PollUpdatesResponse.
    let body = json!({"events": [
        {"id": "1042", "type": "proposal.received", "createdAt": "2026-06-12T10:00:00Z", "data": {"proposalId": "prop_1", "jobId": "job_1"}},
        {"id": "1043", "type": "message.received", "data": {"conversationId": "conv_1", "messageId": "m_1"}},
        {"id": "1044", "type": "approval.confirmed", "data": {"approvalId": "appr_1", "contractId": "ct_1"}}
    ], "nextCursor": "1044", "hasMore": false});
    check(
        "opentrain_poll_updates",
        &body,
        &[
            "1042 | proposal.received",
            "opentrain_get_proposal (proposalId \"prop_1\")",
            "opentrain_read_messages (conversationId \"conv_1\")",
            "opentrain_get_approval (approvalId \"appr_1\")",
            "keep cursor \"1044\"",
        ],
    );
}

#[test]
fn create_webhook_says_to_store_the_secret_without_showing_it() {
    let body = example!("money__POST_webhooks__response.json");
    check(
        "opentrain_create_webhook",
        &body,
        &["<WEBHOOK_ID>", "https://example.com/hooks/opentrain", "approval.confirmed", "shown only once"],
    );
}

#[test]
fn list_webhooks_flags_a_disabled_one() {
    // No documented body: built from ListWebhooksResponse.
    let body = json!({"webhooks": [{"id": "wh_1", "url": "https://example.com/h", "eventTypes": ["message.received"],
        "status": "DISABLED", "disabledReason": "too many failures"}]});
    check(
        "opentrain_list_webhooks",
        &body,
        &["wh_1 | https://example.com/h | DISABLED", "disabled: too many failures"],
    );
}

#[test]
fn get_webhook_shows_url_and_events() {
    let body = example!("money__GET_webhooks_{webhookId}__response.json");
    check("opentrain_get_webhook", &body, &["<WEBHOOK_ID>", "ACTIVE", "events proposal.received, message.received"]);
}

#[test]
fn delete_webhook_says_it_is_gone() {
    let body = example!("money__DELETE_webhooks_{webhookId}__response.json");
    check("opentrain_delete_webhook", &body, &["Webhook <WEBHOOK_ID> deleted"]);
}

#[test]
fn list_tokens_rows_show_previews_not_secrets() {
    // No documented body for the list: the documented token record, active, and a secret-shaped
    // name that must still be masked.
    let mut record = example!("auth__DELETE_api_public_v1_tokens_{tokenId}__response.json")["token"].clone();
    record["status"] = "active".into();
    record["name"] = "CI ot_pat_leakedvalue123".into();
    let body = json!({"tokens": [record]});
    check(
        "opentrain_list_tokens",
        &body,
        &["<TOKEN_ID>", "ot_pat_91ab********77e2", "active", "opentrain_revoke_token"],
    );
}

#[test]
fn revoke_token_says_it_no_longer_works() {
    let body = example!("auth__DELETE_api_public_v1_tokens_{tokenId}__response.json");
    check(
        "opentrain_revoke_token",
        &body,
        &["Token <TOKEN_ID> \"Old CI token\" is revoked", "2026-06-12T10:00:00.000Z"],
    );
}

#[test]
fn get_team_lists_members_and_invites() {
    // No documented body for the team read: the team from the documented invite answer.
    let body = json!({"team": example!("team__POST_team_invites__response.json")["team"].clone()});
    check(
        "opentrain_get_team",
        &body,
        &["Team Acme Research", "Dana Owner | dana@example.com | OWNER", "newhire@example.com", "expires 2026-06-19"],
    );
}

#[test]
fn invite_team_member_says_the_human_must_accept() {
    let body = example!("team__POST_team_invites__response.json");
    check(
        "opentrain_invite_team_member",
        &body,
        &["Invited newhire@example.com", "expires 2026-06-19T10:00:00.000Z", "accept"],
    );
}

#[test]
fn wait_for_approval_reports_the_final_state() {
    // No documented body: a declined approval, as the wait tool returns it.
    let body = json!({"approval": {"id": "appr_1", "type": "milestone_fund", "status": "declined"}});
    check(handlers::WAIT_FOR_APPROVAL, &body, &["Approval appr_1 (milestone_fund): declined", "do not repeat"]);
}

#[test]
fn register_agent_says_where_the_tokens_went_and_to_start_the_claim() {
    let body = example!("auth__POST_api_agent_identity__response.json");
    let reg: opentrain::types::AgentRegistration = serde_json::from_value(body.clone()).expect("documented body");
    let t = super::registered(&reg, std::path::Path::new("/home/u/.config/opentrain/cli.json"), "");
    for needle in ["<REGISTRATION_ID>", "cli.json", "2026-06-13T09:00:00.000Z", "opentrain_claim_account", "jobs:write"]
    {
        assert!(t.contains(needle), "lacks {needle}: {t}");
    }
    assert!(!t.contains("ot_pat_") && !t.contains("ot_clm_"), "{t}");
}

#[test]
fn claim_account_shows_the_link_and_code_for_the_human() {
    let body = example!("auth__POST_api_agent_identity_claim__response.json");
    let attempt: opentrain::types::ClaimAttempt = serde_json::from_value(body).expect("documented body");
    let t = super::claim_started("human@example.com", &attempt);
    for needle in ["human@example.com", "https://app.opentrain.ai/claim?token=", "439218", "1800 s", "every 5 s"] {
        assert!(t.contains(needle), "lacks {needle}: {t}");
    }
    assert!(t.contains("opentrain_claim_status"), "{t}");
}

#[test]
fn claim_status_reports_the_claim_without_the_new_token() {
    let body = example!("auth__POST_api_agent_oauth_token__response.json");
    let token: opentrain::types::AgentTokenResponse = serde_json::from_value(body).expect("documented body");
    let t = super::claimed(&token, std::path::Path::new("/tmp/cli.json"), "");
    for needle in ["Claimed", "proposals:write", "/tmp/cli.json", "opentrain_auth_status"] {
        assert!(t.contains(needle), "lacks {needle}: {t}");
    }
    assert!(!t.contains("ot_pat_"), "{t}");
}

#[test]
fn read_messages_names_the_conversation_awaiting_a_reply() {
    // No documented body: built from MessagesPage, in both modes.
    let page = json!({"conversations": [
        {"id": "conv_1", "type": "PROPOSAL", "proposalId": "prop_1", "unreadCount": 2, "needsReplyCount": 1,
         "lastMessage": {"content": "When can I start? token ot_pat_leak123"}}
    ]});
    let t = super::messages(&page, None, &[]);
    for needle in ["conv_1", "2 unread", "1 awaiting your reply", "proposal prop_1", "conversationId \"conv_1\""] {
        assert!(t.contains(needle), "lacks {needle}: {t}");
    }
    assert!(!t.contains("ot_pat_leak123"), "{t}");
    let thread =
        json!({"messages": [{"id": "m1", "senderUserId": "u_9", "content": "Hello!", "createdAt": "2026-06-12"}]});
    let t = super::messages(&thread, Some("conv_1"), &["unreadOnly"]);
    for needle in ["u_9: Hello!", "Ignored unreadOnly", "opentrain_send_message (conversationId \"conv_1\")"] {
        assert!(t.contains(needle), "lacks {needle}: {t}");
    }
}

#[test]
fn every_tool_has_a_test_here() {
    let source = include_str!("summary_examples.rs");
    for t in crate::table() {
        let named = if t.name == handlers::WAIT_FOR_APPROVAL {
            "handlers::WAIT_FOR_APPROVAL,".to_string()
        } else {
            format!("\"{}\",", t.name)
        };
        let covered = source.contains(&format!("check(\n        {named}"))
            || source.contains(&format!("check({named}"))
            || HANDLER_TEXT.iter().any(|(tool, test)| *tool == t.name && source.contains(&format!("fn {test}()")));
        assert!(covered, "{} has no summary test", t.name);
    }
}

/// Tools whose success text `handlers` writes with the functions above, and their tests.
const HANDLER_TEXT: &[(&str, &str)] = &[
    ("opentrain_register_agent", "register_agent_says_where_the_tokens_went_and_to_start_the_claim"),
    ("opentrain_claim_account", "claim_account_shows_the_link_and_code_for_the_human"),
    ("opentrain_claim_status", "claim_status_reports_the_claim_without_the_new_token"),
    ("opentrain_read_messages", "read_messages_names_the_conversation_awaiting_a_reply"),
];
