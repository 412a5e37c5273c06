//! Proposals and candidates (list, detail, interview, profiles, invites, hire requests), the
//! pre-hire conversation, messages with unread state and simulated candidate replies, and the team.

use axum::{
    Router,
    extract::{Path, State as AxState},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use super::{
    App,
    events::emit,
    http::{ApiErr, Ctx, Req, limit, offset_cursor, ok, page},
    jobs::own_job,
    market::{self, trainer},
    money,
    state::{Conversation, DAY_MS, Member, Msg, Proposal, State, TeamInvite, iso, parse_iso},
};

const PROPOSAL_STATUSES: [&str; 7] =
    ["UNREVIEWED", "SHORTLISTED", "MAYBE", "HIRED", "DECLINED", "NOT_A_FIT", "RESUME_SENT"];

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/public/v1/jobs/{id}/proposals", get(list_proposals))
        .route("/api/public/v1/jobs/{id}/invites", post(invite))
        .route("/api/public/v1/proposals/{proposal_id}", get(get_proposal))
        .route("/api/public/v1/proposals/{proposal_id}/interview", get(interview))
        .route("/api/public/v1/proposals/{proposal_id}/hire", post(hire))
        .route("/api/public/v1/proposals/{proposal_id}/conversation", post(conversation))
        .route("/api/public/v1/freelancers/{id_or_slug}", get(freelancer))
        .route("/api/public/v1/messages", get(read_messages).post(send_message))
        .route("/api/public/v1/team", get(team))
        .route("/api/public/v1/team/invites", post(invite_member))
}

/// A proposal on one of the caller's jobs: 404 when unknown, 403 when on another account's job.
pub(crate) fn own_proposal<'a>(st: &'a State, cx: &Ctx, id: &str) -> Result<&'a Proposal, ApiErr> {
    let p = st.proposals.get(id).ok_or_else(|| ApiErr::not_found("proposals", "proposalId", id))?;
    let mine = st.jobs.get(&p.job_id).is_some_and(|j| j.account_id.as_deref() == Some(cx.account_id.as_str()));
    if !mine {
        return Err(ApiErr::forbidden("This proposal is on another account's job.", json!({ "proposalId": id })));
    }
    Ok(p)
}

async fn list_proposals(AxState(app): AxState<App>, Path(job_id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("proposals:read")?;
        let job = st.jobs.get(&job_id).ok_or_else(|| ApiErr::not_found("jobs", "jobId", &job_id))?;
        if job.account_id.as_deref() != Some(cx.account_id.as_str()) {
            return Err(ApiErr::forbidden("This job belongs to another account.", json!({ "jobId": job_id })));
        }
        let status = match req.q("status") {
            None => None,
            Some(s) => {
                let norm = s.trim().to_uppercase().replace([' ', '-'], "_");
                if !PROPOSAL_STATUSES.contains(&norm.as_str()) {
                    return Err(ApiErr::bad_request(
                        "Unknown proposal status.",
                        json!({ "field": "status", "supportedStatuses": PROPOSAL_STATUSES }),
                    ));
                }
                Some(norm)
            }
        };
        let limit = limit(&req, 25, 100)?;
        let all: Vec<&Proposal> = st
            .proposals
            .values()
            .rev()
            .filter(|p| p.job_id == job_id && status.as_ref().is_none_or(|s| p.status == *s))
            .collect();
        // The documented cursor is a proposal id: the page starts after it.
        let start = match req.q("cursor") {
            None | Some("") => 0,
            Some(c) => all
                .iter()
                .position(|p| p.id == c)
                .map(|i| i + 1)
                .ok_or_else(|| ApiErr::field("cursor", "`cursor` is not a proposal of this list."))?,
        };
        let page: Vec<&Proposal> = all.iter().skip(start).take(limit).copied().collect();
        let next = if start + page.len() < all.len() { page.last().map(|p| Value::from(p.id.clone())) } else { None };
        let list: Vec<Value> = page.iter().map(|p| market::proposal_summary_json(st, p)).collect();
        Ok(ok(StatusCode::OK, json!({ "proposals": list, "nextCursor": next })))
    })
}

async fn get_proposal(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("proposals:read")?;
        let p = own_proposal(st, cx, &id)?;
        let mut v = market::proposal_summary_json(st, p);
        if let Value::Object(m) = &mut v {
            if let Some(t) = trainer(&p.freelancer_id) {
                m.insert("candidate".into(), t.candidate_json());
            }
            m.insert("metrics".into(), json!({ "interviewScore": p.interview_score, "matchScore": p.match_score }));
            m.insert(
                "aiInterview".into(),
                match &p.interview {
                    Some(i) => json!({ "score": p.interview_score, "summary": i.summary, "transcriptAvailable": true }),
                    None => Value::Null,
                },
            );
            m.insert(
                "verification".into(),
                json!({ "location": { "status": "PASSED", "method": "GPS", "checkedAt": iso(p.created_ms) }, "identity": { "verified": true } }),
            );
            m.insert("openLabel".into(), Value::Null);
            let contract = p.contract_id.as_ref().and_then(|c| st.contracts.get(c)).map(|c| money::contract_json(st, c, true));
            m.insert("contract".into(), contract.unwrap_or(Value::Null));
        }
        Ok(ok(StatusCode::OK, json!({ "proposal": v })))
    })
}

async fn interview(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("proposals:read")?;
        let p = own_proposal(st, cx, &id)?;
        let Some(i) = &p.interview else {
            return Err(ApiErr::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "No AI interview was recorded for this proposal.",
                Some(json!({ "proposalId": id })),
            ));
        };
        let messages: Vec<Value> = i
            .messages
            .iter()
            .enumerate()
            .map(|(n, (role, content, at))| json!({ "id": format!("{}_m{n}", i.id), "role": role, "content": content, "sentAt": iso(*at) }))
            .collect();
        Ok(ok(
            StatusCode::OK,
            json!({ "interview": { "proposalId": p.id, "interviewId": i.id, "score": p.interview_score, "summary": i.summary, "messages": messages } }),
        ))
    })
}

async fn freelancer(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |_, cx| {
        cx.need("proposals:read")?;
        let t = trainer(&id).ok_or_else(|| ApiErr::not_found("freelancers", "idOrSlug", &id))?;
        Ok(ok(StatusCode::OK, json!({ "freelancer": t.profile_json() })))
    })
}

fn hiring(app: &App, st: &State, cx: &Ctx, action: &str) -> Result<(), ApiErr> {
    app.claimed(st, cx, action)?;
    if !(cx.has("proposals:write") || cx.has("jobs:write")) {
        cx.need("proposals:write")?;
    }
    app.feature("public_api_hiring")
}

async fn invite(AxState(app): AxState<App>, Path(job_id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        hiring(&app, st, cx, "invite AI trainers")?;
        let status = own_job(st, cx, &job_id)?.status.clone();
        let body = req.json_object(false)?;
        let Some(fid) = body.get("freelancerId").and_then(Value::as_str).filter(|f| !f.is_empty()) else {
            return Err(ApiErr::bad_request("`freelancerId` is required.", json!({ "field": "freelancerId", "issues": [{ "path": ["freelancerId"], "message": "Required" }] })));
        };
        if st.accounts.values().any(|a| a.owner_user_id == fid) {
            return Err(ApiErr::conflict("not_a_freelancer", "That user is an employer, not an AI trainer.", json!({ "freelancerId": fid })));
        }
        let t = trainer(fid).ok_or_else(|| ApiErr::not_found("users", "freelancerId", fid))?;
        if status != "OPEN" {
            return Err(ApiErr::conflict("job_not_published", "Invite AI trainers to a published job.", json!({ "jobId": job_id, "status": status })));
        }
        if let Some(existing) = st.proposals.values().find(|p| p.job_id == job_id && p.freelancer_id == t.id) {
            return Ok(ok(
                StatusCode::OK,
                json!({ "ok": true, "proposalId": existing.id, "jobId": job_id, "freelancerId": t.id, "alreadyInvited": true }),
            ));
        }
        let id = st.id("prop");
        let now = st.now();
        st.proposals.insert(
            id.clone(),
            Proposal {
                id: id.clone(),
                job_id: job_id.clone(),
                freelancer_id: t.id.to_string(),
                status: "UNREVIEWED".into(),
                created_ms: now,
                updated_ms: now,
                bid_amount_usd: t.hourly,
                bid_unit: "PER_HOUR".into(),
                labeler_hourly_rate_usd: Some(t.hourly),
                interview_score: None,
                match_score: None,
                interview: None,
                invited: true,
                conversation_id: None,
                contract_id: None,
            },
        );
        Ok(ok(StatusCode::CREATED, json!({ "ok": true, "proposalId": id, "jobId": job_id, "freelancerId": t.id, "alreadyInvited": false })))
    })
}

/// Parses the first milestone of a hire: `{name?, description?, amount, dueDate?}`.
fn hire_terms(body: &Map<String, Value>) -> Result<Value, ApiErr> {
    let Some(Value::Object(m)) = body.get("milestone") else {
        return Err(ApiErr::field("milestone", "`milestone` with at least an `amount` is required."));
    };
    let amount = m.get("amount").and_then(Value::as_f64).filter(|a| a.is_finite() && *a > 0.0);
    let Some(amount) = amount else {
        return Err(ApiErr::field("milestone.amount", "`milestone.amount` must be a number greater than 0."));
    };
    if amount > 1_000_000.0 {
        return Err(ApiErr::field("milestone.amount", "`milestone.amount` is above the sandbox's $1,000,000 cap."));
    }
    let text = |k: &str| -> Result<Option<String>, ApiErr> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Some(_) => Err(ApiErr::field(&format!("milestone.{k}"), format!("`milestone.{k}` must be a string."))),
        }
    };
    let (name, description) = (text("name")?, text("description")?);
    if name.is_none() && description.is_none() {
        return Err(ApiErr::field("milestone.name", "Give the milestone a name or a description."));
    }
    let due = match text("dueDate")? {
        None => None,
        Some(d) => Some(
            parse_iso(&d)
                .map(iso)
                .ok_or_else(|| ApiErr::field("milestone.dueDate", "`milestone.dueDate` must be an ISO-8601 date."))?,
        ),
    };
    Ok(json!({ "name": name, "description": description, "amount": amount, "dueDate": due }))
}

async fn hire(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        app.claimed(st, cx, "hire AI trainers")?;
        cx.need("proposals:write")?;
        app.feature("public_api_hiring")?;
        let p = own_proposal(st, cx, &id)?.clone();
        let body = req.json_object(false)?;
        let terms = hire_terms(&body)?;
        let override_not_fit = body.get("confirmNotFitOverride").and_then(Value::as_bool).unwrap_or(false);
        if p.status == "HIRED" {
            return Err(ApiErr::conflict("already_accepted", "This proposal was already hired.", json!({ "proposalId": id, "contractId": p.contract_id })));
        }
        if p.status == "NOT_A_FIT" && !override_not_fit {
            return Err(ApiErr::conflict(
                "not_fit_confirmation_required",
                "You marked this proposal Not a fit; retry with confirmNotFitOverride: true to hire anyway.",
                json!({ "proposalId": id }),
            ));
        }
        let amount = terms["amount"].as_f64().unwrap_or(0.0);
        money::payment_source(&app, st, &cx.account_id, money::hire_charge_cents(amount))?;
        let pending = st
            .approvals
            .values()
            .find(|a| a.kind == "proposal_hire" && a.status == "pending" && a.proposal_id.as_deref() == Some(id.as_str()))
            .map(|a| (a.id.clone(), a.terms.clone()));
        if let Some((aid, old_terms)) = pending {
            if old_terms.as_ref() == Some(&terms) {
                return Ok(money::pending_response(&app, st, &aid, "A hire request with these terms is already waiting for a human."));
            }
            // Different terms supersede the old request: one live hire request per proposal.
            money::resolve(st, &aid, "expired");
        }
        let job_id = p.job_id.clone();
        let aid = money::new_approval(st, &cx.account_id, "proposal_hire", None, None, Some(&job_id), Some(&id), Some(terms), None);
        Ok(money::pending_response(
            &app,
            st,
            &aid,
            "Nothing has happened yet: a human must open approvalUrl and confirm the hire (milestone amount + 10% marketplace fee + $9.95 contract fee).",
        ))
    })
}

fn messaging(app: &App, st: &State, cx: &Ctx, action: &str) -> Result<(), ApiErr> {
    app.claimed(st, cx, action)?;
    if !(cx.has("messages:write") || cx.has("proposals:write")) {
        cx.need("messages:write")?;
    }
    app.feature("public_api_messaging_writes")
}

/// Creates a conversation between the account and an AI trainer.
pub(crate) fn new_conversation(
    st: &mut State,
    account_id: &str,
    bucket: &str,
    proposal_id: Option<&str>,
    job_id: &str,
    freelancer_id: &str,
) -> String {
    let id = st.id("conv");
    let now = st.now();
    st.conversations.insert(
        id.clone(),
        Conversation {
            id: id.clone(),
            account_id: account_id.into(),
            bucket: bucket.into(),
            proposal_id: proposal_id.map(str::to_string),
            job_id: job_id.into(),
            freelancer_id: freelancer_id.into(),
            created_ms: now,
            updated_ms: now,
            messages: Vec::new(),
        },
    );
    id
}

async fn conversation(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        messaging(&app, st, cx, "start conversations with AI trainers")?;
        let p = own_proposal(st, cx, &id)?.clone();
        if let Some(c) = &p.conversation_id {
            return Ok(ok(
                StatusCode::OK,
                json!({ "ok": true, "conversationId": c, "proposalId": id, "jobId": p.job_id, "created": false }),
            ));
        }
        let conv = new_conversation(st, &cx.account_id, "proposal", Some(&id), &p.job_id, &p.freelancer_id);
        if let Some(pm) = st.proposals.get_mut(&id) {
            pm.conversation_id = Some(conv.clone());
        }
        Ok(ok(
            StatusCode::CREATED,
            json!({ "ok": true, "conversationId": conv, "proposalId": id, "jobId": p.job_id, "created": true }),
        ))
    })
}

fn message_json(st: &State, c: &Conversation, m: &Msg) -> Value {
    let owner = st.accounts.get(&c.account_id).map(|a| a.owner_user_id.clone());
    json!({
        "id": m.id,
        "createdAt": iso(m.created_ms),
        "updatedAt": iso(m.created_ms),
        "conversationId": c.id,
        "jobId": if c.bucket == "job" { Some(c.job_id.clone()) } else { None },
        "senderUserId": if m.system { None } else if m.from_employer { owner } else { Some(c.freelancer_id.clone()) },
        "isFromViewer": m.from_employer,
        "content": m.content,
        "messageType": if m.system { "SYSTEM" } else { "TEXT" },
        "system": m.system,
        "hasUnreadFlag": m.unread,
        "attachmentCount": 0,
        "hasAudio": false,
        "editedAt": Value::Null,
        "reactionCount": 0,
    })
}

fn summary_json(st: &State, c: &Conversation) -> Value {
    let owner = st.accounts.get(&c.account_id).map(|a| a.owner_user_id.clone());
    let last = c.messages.last().map(|m| {
        json!({
            "id": m.id,
            "content": m.content,
            "senderUserId": if m.from_employer { owner.clone() } else { Some(c.freelancer_id.clone()) },
            "isFromViewer": m.from_employer,
            "createdAt": iso(m.created_ms),
        })
    });
    let needs_reply = c.messages.iter().rev().take_while(|m| !m.from_employer && !m.system).count();
    json!({
        "id": c.id,
        "type": "DIRECT_MESSAGE",
        "bucket": c.bucket,
        "jobId": c.job_id,
        "proposalId": c.proposal_id,
        "channelName": Value::Null,
        "updatedAt": iso(c.updated_ms),
        "lastMessage": last,
        "unreadCount": c.messages.iter().filter(|m| m.unread).count(),
        "needsReplyCount": needs_reply,
    })
}

async fn read_messages(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("messages:read")?;
        let limit = limit(&req, 20, 100)?;
        let Some(conv_id) = req.q("conversationId").map(str::to_string) else {
            let filter = req.q("filter").unwrap_or("all");
            if !["all", "job", "proposal"].contains(&filter) {
                return Err(ApiErr::field("filter", "`filter` must be all, job or proposal."));
            }
            let unread_only = super::http::flag(&req, "unreadOnly")?;
            let offset = offset_cursor(&req)?;
            let mut convs: Vec<&Conversation> = st
                .conversations
                .values()
                .filter(|c| c.account_id == cx.account_id && (filter == "all" || c.bucket == filter))
                .filter(|c| !unread_only || c.messages.iter().any(|m| m.unread))
                .collect();
            convs.sort_by_key(|c| std::cmp::Reverse((c.updated_ms, c.id.clone())));
            let (convs, next) = page(convs, offset, limit);
            let list: Vec<Value> = convs.into_iter().map(|c| summary_json(st, c)).collect();
            return Ok(ok(StatusCode::OK, json!({ "conversations": list, "nextCursor": next })));
        };
        let newer = match req.q("direction") {
            None | Some("older") => false,
            Some("newer") => true,
            Some(_) => return Err(ApiErr::field("direction", "`direction` must be older or newer.")),
        };
        let c = st
            .conversations
            .get(&conv_id)
            .ok_or_else(|| ApiErr::not_found("conversations", "conversationId", &conv_id))?;
        if c.account_id != cx.account_id {
            return Err(ApiErr::forbidden(
                "You are not a participant of this conversation.",
                json!({ "conversationId": conv_id }),
            ));
        }
        let mut order: Vec<&Msg> = c.messages.iter().collect();
        if !newer {
            order.reverse();
        }
        let start = match req.q("cursor") {
            None | Some("") => 0,
            Some(cur) => order
                .iter()
                .position(|m| m.id == cur)
                .map(|i| i + 1)
                .ok_or_else(|| ApiErr::field("cursor", "`cursor` is not a message of this conversation."))?,
        };
        let slice: Vec<&Msg> = order.iter().skip(start).take(limit).copied().collect();
        let next =
            if start + slice.len() < order.len() { slice.last().map(|m| Value::from(m.id.clone())) } else { None };
        let list: Vec<Value> = slice.iter().map(|m| message_json(st, c, m)).collect();
        let read: Vec<String> = slice.iter().map(|m| m.id.clone()).collect();
        // Reading a page marks its messages read (the docs leave this open; the app does so).
        if let Some(c) = st.conversations.get_mut(&conv_id) {
            for m in c.messages.iter_mut().filter(|m| read.contains(&m.id)) {
                m.unread = false;
            }
        }
        Ok(ok(StatusCode::OK, json!({ "messages": list, "nextCursor": next })))
    })
}

/// Whether a message shares contact details, which the content policy blocks.
fn contact_details(text: &str) -> bool {
    let email = text.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        w.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
    });
    let digits_run = text
        .split(|c: char| !(c.is_ascii_digit() || c == ' ' || c == '-' || c == '+' || c == '(' || c == ')'))
        .any(|chunk| chunk.chars().filter(char::is_ascii_digit).count() >= 9);
    email || digits_run
}

const REPLIES: [&str; 4] = [
    "Thanks for reaching out! Happy to help with \"{job}\". Do you have labeling guidelines I can read first?",
    "Sounds good. I can start with a small pilot batch so you can check quality.",
    "Understood, I'll follow that. Anything else before I begin?",
    "Got it, thank you!",
];

async fn send_message(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        app.claimed(st, cx, "send messages")?;
        cx.need("messages:write")?;
        app.feature("public_api_messaging_writes")?;
        let body = req.json_object(false)?;
        let mut issues = Vec::new();
        let conv_id = body.get("conversationId").and_then(Value::as_str).unwrap_or("");
        if conv_id.is_empty() {
            issues.push(json!({ "path": ["conversationId"], "message": "Required" }));
        }
        let content = body.get("content").and_then(Value::as_str).unwrap_or("");
        let len = content.chars().count();
        if !(1..=10_000).contains(&len) || content.trim().is_empty() {
            issues.push(json!({ "path": ["content"], "message": "content must be 1 to 10,000 characters" }));
        }
        if !issues.is_empty() {
            return Err(ApiErr::bad_request("Invalid message.", json!({ "issues": issues })));
        }
        let c = st
            .conversations
            .get(conv_id)
            .ok_or_else(|| ApiErr::not_found("conversations", "conversationId", conv_id))?;
        if c.account_id != cx.account_id {
            return Err(ApiErr::forbidden(
                "You are not a participant of this conversation.",
                json!({ "conversationId": conv_id }),
            ));
        }
        if contact_details(content) {
            return Err(ApiErr::forbidden(
                "Messages may not share emails or phone numbers; keep contact on OpenTrain.",
                json!({ "reason": "message_policy_blocked", "policy": "no_off_platform_contact" }),
            ));
        }
        let job_title = st.jobs.get(&c.job_id).map(market::title_of).unwrap_or_default();
        let (job_id, account) = (c.job_id.clone(), c.account_id.clone());
        let now = st.now();
        let sent_id = st.id("msg");
        let reply_id = st.id("msg");
        let Some(c) = st.conversations.get_mut(conv_id) else {
            return Err(ApiErr::not_found("conversations", "conversationId", conv_id));
        };
        let replies = c.messages.iter().filter(|m| !m.from_employer && !m.system).count();
        c.messages.push(Msg {
            id: sent_id.clone(),
            created_ms: now,
            from_employer: true,
            content: content.to_string(),
            unread: false,
            system: false,
        });
        // The simulated AI trainer answers right away, so unread state and message.received show.
        let reply = REPLIES[replies.min(REPLIES.len() - 1)].replace("{job}", &job_title);
        c.messages.push(Msg {
            id: reply_id.clone(),
            created_ms: now + 1,
            from_employer: false,
            content: reply,
            unread: true,
            system: false,
        });
        c.updated_ms = now + 1;
        let snapshot = c.clone();
        let sent = snapshot
            .messages
            .iter()
            .find(|m| m.id == sent_id)
            .map(|m| message_json(st, &snapshot, m))
            .unwrap_or(Value::Null);
        emit(
            st,
            &account,
            "message.received",
            &reply_id,
            Some(&job_id),
            json!({ "conversationId": conv_id, "messageId": reply_id }),
        );
        Ok(ok(StatusCode::CREATED, json!({ "ok": true, "message": sent })))
    })
}

fn team_json(st: &State, account_id: &str) -> Value {
    let Some(a) = st.accounts.get(account_id) else { return json!({}) };
    let mut members = vec![
        json!({ "userId": a.owner_user_id, "role": "OWNER", "name": a.agent_name, "email": a.email, "joinedAt": iso(a.created_ms) }),
    ];
    members.extend(a.members.iter().map(|m| json!({ "userId": m.user_id, "role": "MEMBER", "name": Value::Null, "email": m.email, "joinedAt": iso(m.joined_ms) })));
    let invites: Vec<Value> = st
        .team_invites
        .iter()
        .filter(|i| i.account_id == account_id)
        .map(
            |i| json!({ "id": i.id, "email": i.email, "createdAt": iso(i.created_ms), "expiresAt": iso(i.expires_ms) }),
        )
        .collect();
    json!({
        "organization": { "id": a.id, "name": a.org_name, "ownerUserId": a.owner_user_id, "ownerName": a.agent_name },
        "members": members,
        "invites": invites,
    })
}

async fn team(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("team:read")?;
        app.feature("public_api_team")?;
        Ok(ok(StatusCode::OK, json!({ "team": team_json(st, &cx.account_id) })))
    })
}

async fn invite_member(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        app.claimed(st, cx, "invite team members")?;
        cx.need("team:write")?;
        app.feature("public_api_team")?;
        let body = req.json_object(false)?;
        let email = body.get("email").and_then(Value::as_str).map(str::trim).unwrap_or("").to_string();
        let valid = email.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.ends_with('.'))
            && !email.contains(char::is_whitespace);
        if !valid {
            return Err(ApiErr::bad_request(
                "A valid email is required.",
                json!({ "issues": [{ "path": ["email"], "message": "Invalid email" }] }),
            ));
        }
        let now = st.now();
        let acct = st.accounts.get(&cx.account_id).ok_or_else(|| ApiErr::unauthorized("Account not found."))?;
        let same = |e: &str| e.eq_ignore_ascii_case(&email);
        let status = if acct.email.as_deref().is_some_and(same) || acct.members.iter().any(|m| same(&m.email)) {
            "already_member"
        } else if let Some(other) =
            st.accounts.values().find(|a| a.id != cx.account_id && a.email.as_deref().is_some_and(same))
        {
            // An email that already has a (sandbox) OpenTrain account joins directly.
            let member = Member { user_id: other.owner_user_id.clone(), email: email.clone(), joined_ms: now };
            if let Some(a) = st.accounts.get_mut(&cx.account_id) {
                a.members.push(member);
            }
            "member_added"
        } else {
            if !st.team_invites.iter().any(|i| i.account_id == cx.account_id && same(&i.email)) {
                let id = st.id("tinv");
                st.team_invites.push(TeamInvite {
                    id,
                    account_id: cx.account_id.clone(),
                    email: email.clone(),
                    created_ms: now,
                    expires_ms: now + 7 * DAY_MS,
                });
            }
            "invite_created"
        };
        Ok(ok(
            StatusCode::OK,
            json!({ "ok": true, "status": status, "email": email, "team": team_json(st, &cx.account_id) }),
        ))
    })
}
