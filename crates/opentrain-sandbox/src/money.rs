//! Contracts, milestones, co-sign approvals (requests through the API; execution only from the
//! human approval page), credits with their ledger, top-ups, and pending payments.

use axum::{
    Router,
    extract::{Path, State as AxState},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{
    App,
    events::emit,
    hiring::new_conversation,
    http::{ApiErr, Ctx, Req, cents, limit, offset_cursor, ok, opt_num, opt_str, page},
    market::{self, trainer},
    state::{
        Approval, Contract, DAY_MS, HOUR_MS, Invoice, LedgerEntry, Milestone, Msg, State, TopUp, iso, parse_iso,
        random_hex,
    },
};

/// The marketplace fee on every funding and the one-off contract fee of a hire.
const FEE_RATE: f64 = 0.10;
const CONTRACT_FEE_CENTS: i64 = 995;
/// Share of a newly funded milestone the simulated AI trainer reports as used right away.
const SIMULATED_USAGE: f64 = 0.9;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/public/v1/contracts", get(list_contracts))
        .route("/api/public/v1/contracts/{contract_id}", get(get_contract))
        .route("/api/public/v1/contracts/{contract_id}/milestones", post(create_milestone))
        .route("/api/public/v1/contracts/{contract_id}/end", post(end_contract))
        .route("/api/public/v1/milestones/{milestone_id}/fund", post(fund))
        .route("/api/public/v1/milestones/{milestone_id}/approve", post(approve))
        .route("/api/public/v1/approvals/{approval_id}", get(get_approval))
        .route("/api/public/v1/credits", get(credits))
        .route("/api/public/v1/credits/ledger", get(ledger))
        .route("/api/public/v1/credits/top-ups", post(create_top_up))
        .route("/api/public/v1/credits/top-ups/{top_up_id}", get(get_top_up))
        .route("/api/public/v1/payments/pending", get(pending_payments))
}

/// What a hire charges: the milestone, the marketplace fee and the contract fee, in cents.
pub(crate) fn hire_charge_cents(amount_usd: f64) -> i64 {
    cents(amount_usd * (1.0 + FEE_RATE)) + CONTRACT_FEE_CENTS
}

/// What funding a milestone charges, in cents.
pub(crate) fn fund_charge_cents(amount_usd: f64) -> i64 {
    cents(amount_usd * (1.0 + FEE_RATE))
}

/// 409 `payment_method_required` unless a card is on file or the credits cover `charge`.
pub(crate) fn payment_source(app: &App, st: &State, account_id: &str, charge: i64) -> Result<(), ApiErr> {
    let covered = st.accounts.get(account_id).is_some_and(|a| a.has_card || a.available_cents >= charge);
    if covered {
        return Ok(());
    }
    Err(ApiErr::conflict(
        "payment_method_required",
        "Add a payment method or top up credits to cover this charge.",
        json!({ "billingUrl": format!("{}/employer-settings?tab=billing&org={account_id}", app.base_url), "requiredCents": charge }),
    ))
}

pub(crate) fn milestone_json(m: &Milestone) -> Value {
    json!({
        "id": m.id,
        "name": m.name,
        "description": m.description,
        "status": m.status,
        "amountUsd": m.amount_usd,
        "volume": m.volume,
        "milestoneNumber": m.number,
        "dueDate": m.due_date,
        "pendingApproval": m.pending_approval,
        "needsReview": false,
        "invoiceId": m.invoice_id,
        "createdAt": iso(m.created_ms),
    })
}

fn timeline<'a>(st: &'a State, contract_id: &str) -> Vec<&'a Milestone> {
    st.milestones.values().filter(|m| m.contract_id == contract_id && !m.refunded).collect()
}

fn funded(m: &Milestone) -> bool {
    m.status == "ACTIVE_FUNDED" || m.status == "PAID"
}

/// (fundedVolume, fundedAmountUsd, consumedFraction, state) of a contract's budget.
fn budget_numbers(st: &State, c: &Contract) -> (f64, f64, f64, &'static str) {
    let ms = timeline(st, &c.id);
    let volume: f64 = ms.iter().filter(|m| funded(m)).filter_map(|m| m.volume).sum();
    let amount: f64 = ms.iter().filter(|m| funded(m)).map(|m| m.amount_usd).sum();
    let fraction = if volume > 0.0 { c.consumed_volume / volume } else { 0.0 };
    let state = if c.payment_type == "FIXED_PRICE" || fraction < 0.8 {
        "OK"
    } else if fraction < 1.0 {
        "LOW"
    } else {
        "DEPLETED"
    };
    (volume, amount, fraction, state)
}

pub(crate) fn contract_json(st: &State, c: &Contract, full: bool) -> Value {
    let ms = timeline(st, &c.id);
    let t = trainer(&c.freelancer_id);
    let estimated_total = match (c.payment_type.as_str(), c.estimated_volume) {
        ("FIXED_PRICE", _) => Some(c.rate_usd),
        (_, Some(v)) => Some(((c.rate_usd * v) * 100.0).round() / 100.0),
        _ => None,
    };
    let mut v = json!({
        "id": c.id,
        "status": c.status,
        "title": c.title,
        "jobId": c.job_id,
        "proposalId": c.proposal_id,
        "paymentType": c.payment_type,
        "rateUsd": c.rate_usd,
        "estimatedTotalUsd": estimated_total,
        "estimatedVolume": c.estimated_volume,
        "hasActiveMilestone": ms.iter().any(|m| m.status == "ACTIVE_FUNDED"),
        "startDate": iso(c.start_ms),
        "endDate": c.end_ms.map(iso),
        "createdAt": iso(c.created_ms),
        "updatedAt": iso(c.updated_ms),
        "freelancer": {
            "userId": c.freelancer_id,
            "displayName": t.map(|t| t.display_name()).unwrap_or_else(|| "Freelancer".into()),
            "country": t.map(|t| t.country).unwrap_or(""),
            "profilePath": t.map(|t| format!("/profile/{}", t.slug)).unwrap_or_default(),
        },
        "milestones": ms.iter().map(|m| milestone_json(m)).collect::<Vec<_>>(),
    });
    if full {
        let (volume, amount, fraction, state) = budget_numbers(st, c);
        let active = ms.iter().find(|m| m.status == "ACTIVE_FUNDED").map(|m| {
            json!({ "id": m.id, "name": m.name, "amountUsd": m.amount_usd, "volume": m.volume, "status": m.status })
        });
        let consumed = c.consumed_volume;
        let (seconds, hours, labels) = match c.payment_type.as_str() {
            "PAY_PER_HOUR" => (consumed * 3600.0, consumed, 0.0),
            "PAY_PER_LABEL" => (0.0, 0.0, consumed),
            _ => (0.0, 0.0, 0.0),
        };
        if let Value::Object(m) = &mut v {
            m.insert("jobDmConversationId".into(), c.dm_conversation_id.clone().into());
            m.insert(
                "budget".into(),
                json!({
                    "contractId": c.id,
                    "paymentType": c.payment_type,
                    "state": state,
                    "fundedVolume": volume,
                    "fundedAmountUsd": amount,
                    "consumed": { "seconds": seconds, "hours": hours, "labels": labels, "tasks": labels },
                    "consumedVolume": consumed,
                    "remainingVolume": (volume - consumed).max(0.0),
                    "consumedFraction": fraction,
                    "activeMilestone": active,
                    "lastUsageAt": c.last_usage_ms.map(iso),
                }),
            );
        }
    }
    v
}

fn own_contract<'a>(st: &'a State, cx: &Ctx, id: &str) -> Result<&'a Contract, ApiErr> {
    st.contracts
        .get(id)
        .filter(|c| c.account_id == cx.account_id)
        .ok_or_else(|| ApiErr::not_found("contracts", "contractId", id))
}

async fn list_contracts(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("payments:read")?;
        let status = match req.q("status") {
            None => None,
            Some(s @ ("active" | "ended")) => Some(s.to_string()),
            Some(_) => return Err(ApiErr::field("status", "`status` must be active or ended.")),
        };
        if let Some(j) = req.q("jobId") {
            let job = st.jobs.get(j).ok_or_else(|| ApiErr::not_found("jobs", "jobId", j))?;
            if job.account_id.as_deref() != Some(cx.account_id.as_str()) {
                return Err(ApiErr::forbidden("This job belongs to another account.", json!({ "jobId": j })));
            }
        }
        let list: Vec<Value> = st
            .contracts
            .values()
            .rev()
            .filter(|c| c.account_id == cx.account_id)
            .filter(|c| req.q("jobId").is_none_or(|j| c.job_id == j))
            .filter(|c| status.as_ref().is_none_or(|s| c.status == *s))
            .map(|c| contract_json(st, c, false))
            .collect();
        Ok(ok(StatusCode::OK, json!({ "contracts": list })))
    })
}

async fn get_contract(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("payments:read")?;
        let c = own_contract(st, cx, &id)?;
        Ok(ok(StatusCode::OK, json!({ "contract": contract_json(st, c, true) })))
    })
}

fn paying(app: &App, st: &State, cx: &Ctx, action: &str) -> Result<(), ApiErr> {
    app.claimed(st, cx, action)?;
    cx.need("payments:write")?;
    app.feature("public_api_payments_write")
}

async fn create_milestone(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        paying(&app, st, cx, "create milestones")?;
        let c = own_contract(st, cx, &id)?.clone();
        if c.status != "active" {
            return Err(ApiErr::conflict("contract_ended", "The contract has ended.", json!({ "contractId": id })));
        }
        let body = req.json_object(false)?;
        let description = opt_str(&body, "description")?.filter(|d| !d.trim().is_empty());
        let Some(description) = description else {
            return Err(ApiErr::field("description", "`description` is required and must not be empty."));
        };
        let name = opt_str(&body, "name")?;
        let amount = opt_num(&body, "amountUsd")?;
        let volume = opt_num(&body, "volume")?;
        if amount.is_some_and(|a| a <= 0.0) {
            return Err(ApiErr::field("amountUsd", "`amountUsd` must be greater than 0."));
        }
        if volume.is_some_and(|v| v <= 0.0) {
            return Err(ApiErr::field("volume", "`volume` must be greater than 0."));
        }
        let (amount, volume) = match (c.payment_type.as_str(), amount, volume) {
            ("FIXED_PRICE", None, _) => {
                return Err(ApiErr::field("amountUsd", "`amountUsd` is required on fixed-price contracts."));
            }
            ("FIXED_PRICE", Some(a), _) => (a, None),
            (_, _, None) => {
                return Err(ApiErr::field("volume", "`volume` is required on hourly and per-label contracts."));
            }
            (_, Some(a), Some(v)) if (a - c.rate_usd * v).abs() > 0.01 => {
                return Err(ApiErr::bad_request(
                    format!("`amountUsd` must equal the contract rate x volume ({:.2}).", c.rate_usd * v),
                    json!({ "field": "amountUsd" }),
                ));
            }
            (_, _, Some(v)) => (((c.rate_usd * v) * 100.0).round() / 100.0, Some(v)),
        };
        if amount > 1_000_000.0 {
            return Err(ApiErr::field("amountUsd", "The sandbox caps milestones at $1,000,000."));
        }
        let due = match opt_str(&body, "dueDate")? {
            None => None,
            Some(d) => Some(
                parse_iso(&d)
                    .map(iso)
                    .ok_or_else(|| ApiErr::field("dueDate", "`dueDate` must be an ISO-8601 date."))?,
            ),
        };
        let number = st.milestones.values().filter(|m| m.contract_id == id).count() as u32 + 1;
        let mid = st.id("ms");
        let now = st.now();
        let m = Milestone {
            id: mid.clone(),
            contract_id: id.clone(),
            name,
            description,
            status: "NOT_FUNDED".into(),
            amount_usd: amount,
            volume,
            number,
            due_date: due,
            pending_approval: false,
            invoice_id: None,
            created_ms: now,
            refunded: false,
            held_cents: 0,
            hold_entry_id: None,
        };
        let out = milestone_json(&m);
        st.milestones.insert(mid.clone(), m);
        emit(
            st,
            &cx.account_id,
            "milestone.status_changed",
            &mid,
            Some(&c.job_id),
            json!({ "milestoneId": mid, "contractId": id, "status": "NOT_FUNDED" }),
        );
        Ok(ok(StatusCode::CREATED, json!({ "milestone": out })))
    })
}

fn own_milestone(st: &State, cx: &Ctx, id: &str) -> Result<(Milestone, Contract), ApiErr> {
    let m = st
        .milestones
        .get(id)
        .filter(|m| !m.refunded)
        .ok_or_else(|| ApiErr::not_found("milestones", "milestoneId", id))?;
    let c = st
        .contracts
        .get(&m.contract_id)
        .filter(|c| c.account_id == cx.account_id)
        .ok_or_else(|| ApiErr::not_found("milestones", "milestoneId", id))?;
    Ok((m.clone(), c.clone()))
}

fn pending_for(st: &State, kind: &str, milestone: Option<&str>, contract: Option<&str>) -> Option<String> {
    st.approvals
        .values()
        .find(|a| {
            a.kind == kind
                && a.status == "pending"
                && (milestone.is_none() || a.milestone_id.as_deref() == milestone)
                && (contract.is_none() || a.contract_id.as_deref() == contract)
        })
        .map(|a| a.id.clone())
}

async fn fund(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        paying(&app, st, cx, "fund milestones")?;
        let (m, c) = own_milestone(st, cx, &id)?;
        expire_due(st);
        if let Some(aid) = pending_for(st, "milestone_fund", Some(&id), None) {
            return Ok(pending_response(&app, st, &aid, "Funding of this milestone is already waiting for a human."));
        }
        if m.status != "NOT_FUNDED" || c.status != "active" {
            return Err(ApiErr::conflict(
                "milestone_not_fundable",
                format!("Only a NOT_FUNDED milestone of an active contract can be funded (it is {}).", m.status),
                json!({ "milestoneId": id, "status": m.status, "contractStatus": c.status }),
            ));
        }
        payment_source(&app, st, &cx.account_id, fund_charge_cents(m.amount_usd))?;
        st.invoice_seq = st.invoice_seq.max(1000) + 1;
        let inv_id = st.id("inv");
        let now = st.now();
        st.invoices.insert(
            inv_id.clone(),
            Invoice {
                id: inv_id.clone(),
                account_id: cx.account_id.clone(),
                number: st.invoice_seq,
                milestone_id: id.clone(),
                contract_id: c.id.clone(),
                job_id: c.job_id.clone(),
                amount_usd: m.amount_usd,
                status: "PENDING_FUNDING".into(),
                created_ms: now,
            },
        );
        let aid = new_approval(
            st,
            &cx.account_id,
            "milestone_fund",
            Some(&c.id),
            Some(&id),
            Some(&c.job_id),
            None,
            None,
            Some(&inv_id),
        );
        emit(
            st,
            &cx.account_id,
            "payment.pending",
            &inv_id,
            Some(&c.job_id),
            json!({ "invoiceId": inv_id, "milestoneId": id, "contractId": c.id }),
        );
        Ok(pending_response(
            &app,
            st,
            &aid,
            "Nothing is charged yet: a human must open approvalUrl and confirm the funding.",
        ))
    })
}

async fn approve(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        paying(&app, st, cx, "approve milestones")?;
        let (m, c) = own_milestone(st, cx, &id)?;
        expire_due(st);
        if let Some(aid) = pending_for(st, "milestone_approve", Some(&id), None) {
            return Ok(pending_response(&app, st, &aid, "Approval of this milestone is already waiting for a human."));
        }
        if m.status != "ACTIVE_FUNDED" || c.status != "active" {
            return Err(ApiErr::conflict(
                "milestone_not_funded",
                format!(
                    "Milestone is {}; only an ACTIVE_FUNDED milestone of an active contract can be approved.",
                    m.status
                ),
                json!({ "milestoneId": id, "status": m.status }),
            ));
        }
        if let Some(ms) = st.milestones.get_mut(&id) {
            ms.pending_approval = true;
        }
        let aid = new_approval(
            st,
            &cx.account_id,
            "milestone_approve",
            Some(&c.id),
            Some(&id),
            Some(&c.job_id),
            None,
            None,
            m.invoice_id.as_deref(),
        );
        Ok(pending_response(
            &app,
            st,
            &aid,
            "Nothing is paid out yet: a human must open approvalUrl and confirm the release.",
        ))
    })
}

async fn end_contract(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        paying(&app, st, cx, "end contracts")?;
        let c = own_contract(st, cx, &id)?.clone();
        if c.status != "active" {
            return Err(ApiErr::conflict("contract_ended", "The contract has already ended.", json!({ "contractId": id })));
        }
        expire_due(st);
        if let Some(aid) = pending_for(st, "contract_end", None, Some(&id)) {
            return Ok(pending_response(&app, st, &aid, "Ending this contract is already waiting for a human."));
        }
        if timeline(st, &id).iter().any(|m| m.status == "ACTIVE_FUNDED") {
            let aid = new_approval(st, &cx.account_id, "contract_end", Some(&id), None, Some(&c.job_id), None, None, None);
            return Ok(pending_response(&app, st, &aid, "Funded milestones exist: a human must open approvalUrl and confirm ending the contract (unspent funds are released)."));
        }
        end_now(st, &id);
        Ok(ok(StatusCode::OK, json!({ "ok": true, "contractId": id, "status": "ended" })))
    })
}

fn end_now(st: &mut State, contract_id: &str) {
    let now = st.now();
    if let Some(c) = st.contracts.get_mut(contract_id) {
        c.status = "ended".into();
        c.end_ms = Some(now);
        c.updated_ms = now;
    }
}

/// Records a pending approval and returns its id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_approval(
    st: &mut State,
    account_id: &str,
    kind: &str,
    contract: Option<&str>,
    milestone: Option<&str>,
    job: Option<&str>,
    proposal: Option<&str>,
    terms: Option<Value>,
    invoice: Option<&str>,
) -> String {
    let id = st.secret_id("apr");
    let now = st.now();
    st.approvals.insert(
        id.clone(),
        Approval {
            id: id.clone(),
            account_id: account_id.into(),
            kind: kind.into(),
            status: "pending".into(),
            contract_id: contract.map(str::to_string),
            milestone_id: milestone.map(str::to_string),
            job_id: job.map(str::to_string),
            proposal_id: proposal.map(str::to_string),
            expires_ms: now + 72 * HOUR_MS,
            resolved_ms: None,
            result: None,
            created_ms: now,
            terms,
            invoice_id: invoice.map(str::to_string),
        },
    );
    id
}

pub(crate) fn approval_json(app: &App, a: &Approval) -> Value {
    json!({
        "id": a.id,
        "type": a.kind,
        "status": a.status,
        "contractId": a.contract_id,
        "milestoneId": a.milestone_id,
        "jobId": a.job_id,
        "proposalId": a.proposal_id,
        "approvalUrl": format!("{}/approvals/{}", app.base_url, a.id),
        "expiresAt": iso(a.expires_ms),
        "resolvedAt": a.resolved_ms.map(iso),
        "result": a.result,
        "createdAt": iso(a.created_ms),
    })
}

/// The 202 body of a co-signed request.
pub(crate) fn pending_response(app: &App, st: &State, approval_id: &str, message: &str) -> Response {
    let approval = st.approvals.get(approval_id).map(|a| approval_json(app, a)).unwrap_or(Value::Null);
    ok(StatusCode::ACCEPTED, json!({ "approval": approval, "message": message }))
}

/// Ends an approval without executing it (declined, expired or superseded).
pub(crate) fn resolve(st: &mut State, approval_id: &str, status: &str) {
    let now = st.now();
    let Some(a) = st.approvals.get_mut(approval_id).filter(|a| a.status == "pending") else { return };
    a.status = status.into();
    a.resolved_ms = Some(now);
    let a = a.clone();
    if a.kind == "milestone_fund"
        && let Some(i) = a.invoice_id.as_ref().and_then(|inv| st.invoices.get_mut(inv))
    {
        i.status = "VOID".into();
    }
    if a.kind == "milestone_approve"
        && let Some(m) = a.milestone_id.as_ref().and_then(|m| st.milestones.get_mut(m))
    {
        m.pending_approval = false;
    }
    emit(
        st,
        &a.account_id,
        "approval.confirmed",
        &a.id,
        a.job_id.as_deref(),
        json!({ "approvalId": a.id, "status": status }),
    );
}

/// Lazily expires every pending approval and top-up past its time, as the API does on read.
pub(crate) fn expire_due(st: &mut State) {
    let now = st.now();
    let due: Vec<String> =
        st.approvals.values().filter(|a| a.status == "pending" && a.expires_ms <= now).map(|a| a.id.clone()).collect();
    for id in due {
        resolve(st, &id, "expired");
    }
    for t in st.top_ups.values_mut().filter(|t| t.status == "PENDING" && t.expires_ms <= now) {
        t.status = "EXPIRED".into();
    }
}

/// How the human pays on the approval page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Credits,
    Card,
}

fn ledger_entry(st: &mut State, mut e: LedgerEntry) -> String {
    e.id = st.id("led");
    e.created_ms = st.now();
    let id = e.id.clone();
    st.ledger.push(e);
    id
}

/// Takes `charge` from the chosen source; credits are held in escrow (a HOLD entry).
fn charge(
    st: &mut State,
    account_id: &str,
    source: Source,
    amount: i64,
    link: LedgerEntry,
) -> Result<(i64, Option<String>), String> {
    let acct = st.accounts.get_mut(account_id).ok_or("account not found")?;
    match source {
        Source::Card if acct.has_card => Ok((0, None)),
        Source::Card => Err("No card is on file: add one on the billing page, or pay with credits.".into()),
        Source::Credits if acct.available_cents >= amount => {
            acct.available_cents -= amount;
            acct.reserved_cents += amount;
            let id = ledger_entry(
                st,
                LedgerEntry { account_id: account_id.into(), kind: "HOLD".into(), amount_cents: -amount, ..link },
            );
            Ok((amount, Some(id)))
        }
        Source::Credits => Err(format!(
            "The credit balance does not cover ${:.2}: top up first, or pay by card.",
            amount as f64 / 100.0
        )),
    }
}

/// The simulated AI trainer starts on a funded milestone and reports usage, so budgets move.
fn simulate_usage(st: &mut State, contract_id: &str, volume: Option<f64>) {
    let Some(c) = st.contracts.get(contract_id).cloned() else { return };
    if c.payment_type == "FIXED_PRICE" {
        return;
    }
    let (_, _, _, before) = budget_numbers(st, &c);
    let now = st.now();
    let Some(cm) = st.contracts.get_mut(contract_id) else { return };
    cm.consumed_volume += volume.unwrap_or(0.0) * SIMULATED_USAGE;
    cm.last_usage_ms = Some(now);
    let c = cm.clone();
    let (funded_v, _, fraction, after) = budget_numbers(st, &c);
    if before != after {
        if let Some(cm) = st.contracts.get_mut(contract_id) {
            cm.budget_state = after.into();
        }
        emit(
            st,
            &c.account_id,
            "contract.budget_state_changed",
            &c.id,
            Some(&c.job_id),
            json!({
                "contractId": c.id, "previousState": before, "state": after, "paymentType": c.payment_type,
                "fundedVolume": funded_v, "consumedVolume": c.consumed_volume,
                "remainingVolume": (funded_v - c.consumed_volume).max(0.0), "consumedFraction": fraction,
            }),
        );
    }
}

/// Executes a pending approval the human confirmed on its page. Errors are shown on the page and
/// leave the approval pending.
pub(crate) fn confirm(st: &mut State, approval_id: &str, source: Source) -> Result<(), String> {
    expire_due(st);
    let a = st.approvals.get(approval_id).cloned().ok_or("No such approval.")?;
    if a.status != "pending" {
        return Err(format!("This approval is already {}.", a.status));
    }
    let result = match a.kind.as_str() {
        "proposal_hire" => execute_hire(st, &a, source)?,
        "milestone_fund" => execute_fund(st, &a, source)?,
        "milestone_approve" => execute_release(st, &a)?,
        _ => execute_end(st, &a)?,
    };
    let now = st.now();
    if let Some(ap) = st.approvals.get_mut(approval_id) {
        ap.status = "confirmed".into();
        ap.resolved_ms = Some(now);
        if let Some(c) = result.get("contractId").and_then(Value::as_str) {
            ap.contract_id = Some(c.to_string());
        }
        if a.kind == "proposal_hire" {
            ap.milestone_id = result.get("milestoneId").and_then(Value::as_str).map(str::to_string);
        }
        let mut r = result;
        if let Value::Object(m) = &mut r {
            m.remove("milestoneId");
        }
        ap.result = Some(r);
    }
    emit(
        st,
        &a.account_id,
        "approval.confirmed",
        &a.id,
        a.job_id.as_deref(),
        json!({ "approvalId": a.id, "status": "confirmed" }),
    );
    Ok(())
}

fn execute_hire(st: &mut State, a: &Approval, source: Source) -> Result<Value, String> {
    let pid = a.proposal_id.clone().ok_or("The approval has no proposal.")?;
    let p = st.proposals.get(&pid).cloned().ok_or("The proposal no longer exists.")?;
    if p.status == "HIRED" {
        return Err("This proposal was already hired.".into());
    }
    let job = st.jobs.get(&p.job_id).cloned().ok_or("The job no longer exists.")?;
    let terms = a.terms.clone().unwrap_or(Value::Null);
    let amount = terms["amount"].as_f64().unwrap_or(0.0);
    let total = hire_charge_cents(amount);
    let link = LedgerEntry {
        joboffer_id: Some(pid.clone()),
        note: Some("Hire: first milestone escrow + fees".into()),
        ..Default::default()
    };
    let (held, hold_id) = charge(st, &a.account_id, source, total, link)?;
    let now = st.now();
    let pt = job.fields.get("paymentType").and_then(Value::as_str).unwrap_or("FIXED_PRICE").to_string();
    let rate = super::extract::rate_key(&pt).and_then(|k| job.fields.get(k)).and_then(Value::as_f64).unwrap_or(0.0);
    let cid = st.id("ctr");
    let dm = new_conversation(st, &a.account_id, "job", None, &job.id, &p.freelancer_id);
    if let Some(c) = st.conversations.get_mut(&dm) {
        c.messages.push(Msg {
            id: format!("{dm}_start"),
            created_ms: now,
            from_employer: false,
            content: "Contract started. Say hello and share the guidelines.".into(),
            unread: false,
            system: true,
        });
    }
    let volume =
        if pt == "FIXED_PRICE" || rate <= 0.0 { None } else { Some(((amount / rate) * 100.0).round() / 100.0) };
    st.contracts.insert(
        cid.clone(),
        Contract {
            id: cid.clone(),
            account_id: a.account_id.clone(),
            job_id: job.id.clone(),
            proposal_id: pid.clone(),
            freelancer_id: p.freelancer_id.clone(),
            title: market::title_of(&job),
            payment_type: pt.clone(),
            rate_usd: if pt == "FIXED_PRICE" {
                job.fields.get("fixedPrice").and_then(Value::as_f64).unwrap_or(amount)
            } else {
                rate
            },
            estimated_volume: job.fields.get("dataVolume").and_then(Value::as_f64),
            status: "active".into(),
            start_ms: now,
            end_ms: None,
            created_ms: now,
            updated_ms: now,
            dm_conversation_id: dm,
            consumed_volume: 0.0,
            budget_state: "OK".into(),
            last_usage_ms: None,
        },
    );
    st.invoice_seq = st.invoice_seq.max(1000) + 1;
    let inv = st.id("inv");
    let mid = st.id("ms");
    st.invoices.insert(
        inv.clone(),
        Invoice {
            id: inv.clone(),
            account_id: a.account_id.clone(),
            number: st.invoice_seq,
            milestone_id: mid.clone(),
            contract_id: cid.clone(),
            job_id: job.id.clone(),
            amount_usd: amount,
            status: "PAID".into(),
            created_ms: now,
        },
    );
    st.milestones.insert(
        mid.clone(),
        Milestone {
            id: mid.clone(),
            contract_id: cid.clone(),
            name: terms["name"].as_str().map(str::to_string),
            description: terms["description"].as_str().or(terms["name"].as_str()).unwrap_or("").to_string(),
            status: "ACTIVE_FUNDED".into(),
            amount_usd: amount,
            volume,
            number: 1,
            due_date: terms["dueDate"].as_str().map(str::to_string),
            pending_approval: false,
            invoice_id: Some(inv),
            created_ms: now,
            refunded: false,
            held_cents: held,
            hold_entry_id: hold_id.clone(),
        },
    );
    if let Some(h) = hold_id.and_then(|h| st.ledger.iter_mut().find(|e| e.id == h)) {
        h.contract_id = Some(cid.clone());
        h.milestone_id = Some(mid.clone());
    }
    if let Some(pm) = st.proposals.get_mut(&pid) {
        pm.status = "HIRED".into();
        pm.updated_ms = now;
        pm.contract_id = Some(cid.clone());
    }
    let acct = a.account_id.clone();
    emit(st, &acct, "proposal.status_changed", &pid, Some(&job.id), json!({ "proposalId": pid, "status": "HIRED" }));
    emit(
        st,
        &acct,
        "contract.created",
        &cid,
        Some(&job.id),
        json!({ "contractId": cid, "jobId": job.id, "proposalId": pid }),
    );
    emit(
        st,
        &acct,
        "milestone.status_changed",
        &mid,
        Some(&job.id),
        json!({ "milestoneId": mid, "contractId": cid, "status": "ACTIVE_FUNDED" }),
    );
    simulate_usage(st, &cid, volume);
    Ok(
        json!({ "hired": true, "contractId": cid, "jobId": job.id, "freelancerUserId": p.freelancer_id, "milestoneId": mid }),
    )
}

fn execute_fund(st: &mut State, a: &Approval, source: Source) -> Result<Value, String> {
    let mid = a.milestone_id.clone().ok_or("The approval has no milestone.")?;
    let m = st.milestones.get(&mid).cloned().ok_or("The milestone no longer exists.")?;
    let c = st.contracts.get(&m.contract_id).cloned().ok_or("The contract no longer exists.")?;
    if m.status != "NOT_FUNDED" || c.status != "active" {
        return Err(format!("The milestone can no longer be funded (it is {}, the contract {}).", m.status, c.status));
    }
    let link = LedgerEntry {
        contract_id: Some(c.id.clone()),
        milestone_id: Some(mid.clone()),
        joboffer_id: Some(c.proposal_id.clone()),
        note: Some("Milestone funding + marketplace fee".into()),
        ..Default::default()
    };
    let (held, hold_id) = charge(st, &a.account_id, source, fund_charge_cents(m.amount_usd), link)?;
    let inv = a.invoice_id.clone().unwrap_or_default();
    if let Some(i) = st.invoices.get_mut(&inv) {
        i.status = "PAID".into();
    }
    if let Some(ms) = st.milestones.get_mut(&mid) {
        ms.status = "ACTIVE_FUNDED".into();
        ms.invoice_id = Some(inv.clone());
        ms.held_cents = held;
        ms.hold_entry_id = hold_id;
    }
    emit(
        st,
        &a.account_id,
        "milestone.status_changed",
        &mid,
        Some(&c.job_id),
        json!({ "milestoneId": mid, "contractId": c.id, "status": "ACTIVE_FUNDED" }),
    );
    simulate_usage(st, &c.id, m.volume);
    Ok(json!({ "invoiceId": inv, "paymentIntentId": format!("pi_sandbox_{}", random_hex(8)) }))
}

fn execute_release(st: &mut State, a: &Approval) -> Result<Value, String> {
    let mid = a.milestone_id.clone().ok_or("The approval has no milestone.")?;
    let m = st.milestones.get(&mid).cloned().ok_or("The milestone no longer exists.")?;
    if m.status != "ACTIVE_FUNDED" {
        return Err(format!("The milestone is {}, not ACTIVE_FUNDED.", m.status));
    }
    let c = st.contracts.get(&m.contract_id).cloned().ok_or("The contract no longer exists.")?;
    if m.held_cents > 0 {
        if let Some(acct) = st.accounts.get_mut(&a.account_id) {
            acct.reserved_cents -= m.held_cents;
        }
        let entry = LedgerEntry {
            account_id: a.account_id.clone(),
            kind: "CAPTURE".into(),
            amount_cents: -m.held_cents,
            hold_entry_id: m.hold_entry_id.clone(),
            joboffer_id: Some(c.proposal_id.clone()),
            contract_id: Some(c.id.clone()),
            milestone_id: Some(mid.clone()),
            note: Some("Milestone approved: paid out to the AI trainer".into()),
            ..Default::default()
        };
        ledger_entry(st, entry);
    }
    if let Some(ms) = st.milestones.get_mut(&mid) {
        // PAID is one of the undocumented statuses the spec says to expect (not yet in its enum).
        ms.status = "PAID".into();
        ms.pending_approval = false;
        ms.held_cents = 0;
    }
    emit(
        st,
        &a.account_id,
        "milestone.status_changed",
        &mid,
        Some(&c.job_id),
        json!({ "milestoneId": mid, "contractId": c.id, "status": "PAID" }),
    );
    Ok(
        json!({ "invoiceId": m.invoice_id.unwrap_or_default(), "payoutTransactionId": format!("po_sandbox_{}", random_hex(8)) }),
    )
}

fn execute_end(st: &mut State, a: &Approval) -> Result<Value, String> {
    let cid = a.contract_id.clone().ok_or("The approval has no contract.")?;
    let c = st.contracts.get(&cid).cloned().ok_or("The contract no longer exists.")?;
    if c.status != "active" {
        return Err("The contract has already ended.".into());
    }
    let funded: Vec<Milestone> =
        timeline(st, &cid).into_iter().filter(|m| m.status == "ACTIVE_FUNDED").cloned().collect();
    for m in funded {
        if m.held_cents > 0 {
            if let Some(acct) = st.accounts.get_mut(&a.account_id) {
                acct.reserved_cents -= m.held_cents;
                acct.available_cents += m.held_cents;
            }
            let entry = LedgerEntry {
                account_id: a.account_id.clone(),
                kind: "HOLD_RELEASE".into(),
                amount_cents: m.held_cents,
                hold_entry_id: m.hold_entry_id.clone(),
                joboffer_id: Some(c.proposal_id.clone()),
                contract_id: Some(cid.clone()),
                milestone_id: Some(m.id.clone()),
                note: Some("Contract ended: unspent escrow released".into()),
                ..Default::default()
            };
            ledger_entry(st, entry);
        }
        if let Some(ms) = st.milestones.get_mut(&m.id) {
            ms.refunded = true;
            ms.held_cents = 0;
        }
        // The usage simulated for a refunded milestone goes with it, so the budget stays coherent.
        if let Some(cm) = st.contracts.get_mut(&cid) {
            cm.consumed_volume = (cm.consumed_volume - m.volume.unwrap_or(0.0) * SIMULATED_USAGE).max(0.0);
        }
        emit(
            st,
            &a.account_id,
            "milestone.status_changed",
            &m.id,
            Some(&c.job_id),
            json!({ "milestoneId": m.id, "contractId": cid, "status": "REFUNDED" }),
        );
    }
    end_now(st, &cid);
    Ok(json!({ "contractEnded": true }))
}

async fn get_approval(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("payments:read")?;
        expire_due(st);
        let a = st
            .approvals
            .get(&id)
            .filter(|a| a.account_id == cx.account_id)
            .ok_or_else(|| ApiErr::not_found("approvals", "approvalId", &id))?;
        Ok(ok(StatusCode::OK, json!({ "approval": approval_json(&app, a) })))
    })
}

fn ledger_json(e: &LedgerEntry) -> Value {
    json!({
        "id": e.id,
        "type": e.kind,
        "amountCents": e.amount_cents,
        "createdAt": iso(e.created_ms),
        "holdEntryId": e.hold_entry_id,
        "jobofferId": e.joboffer_id,
        "contractId": e.contract_id,
        "milestoneId": e.milestone_id,
        "topUpId": e.top_up_id,
        "note": e.note,
    })
}

fn credit_reads(app: &App, cx: &Ctx) -> Result<(), ApiErr> {
    cx.need("payments:read")?;
    app.feature("public_api_credits")
}

async fn credits(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        credit_reads(&app, cx)?;
        let (avail, reserved) = st.accounts.get(&cx.account_id).map(|a| (a.available_cents, a.reserved_cents)).unwrap_or((0, 0));
        let recent: Vec<Value> = st.ledger.iter().rev().filter(|e| e.account_id == cx.account_id).take(10).map(ledger_json).collect();
        Ok(ok(
            StatusCode::OK,
            json!({ "credits": { "availableCents": avail, "reservedCents": reserved, "currency": "usd", "recentEntries": recent } }),
        ))
    })
}

async fn ledger(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        credit_reads(&app, cx)?;
        let limit = limit(&req, 50, 100)?;
        let offset = offset_cursor(&req)?;
        let entries: Vec<&LedgerEntry> = st.ledger.iter().rev().filter(|e| e.account_id == cx.account_id).collect();
        let (entries, next) = page(entries, offset, limit);
        Ok(ok(
            StatusCode::OK,
            json!({ "entries": entries.into_iter().map(ledger_json).collect::<Vec<_>>(), "nextCursor": next }),
        ))
    })
}

fn top_up_json(t: &TopUp) -> Value {
    json!({
        "id": t.id,
        "status": t.status,
        "amountCents": t.amount_cents,
        "createdAt": iso(t.created_ms),
        "completedAt": t.completed_ms.map(iso),
        "expiresAt": iso(t.expires_ms),
    })
}

async fn create_top_up(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        app.claimed(st, cx, "create credit top-ups")?;
        cx.need("payments:write")?;
        app.feature("public_api_credits")?;
        let body = req.json_object(false)?;
        let amount = match opt_num(&body, "amountUsd") {
            Ok(Some(a)) => Some(a),
            Ok(None) => opt_num(&body, "amount").map_err(|_| ApiErr::field("amountUsd", "`amountUsd` must be a number."))?,
            Err(_) => return Err(ApiErr::field("amountUsd", "`amountUsd` must be a number.")),
        };
        let Some(amount) = amount.filter(|a| (10.0..=10_000.0).contains(a)) else {
            return Err(ApiErr::field("amountUsd", "`amountUsd` must be a number from 10 to 10000."));
        };
        let id = st.secret_id("tu");
        let now = st.now();
        let t = TopUp { id: id.clone(), account_id: cx.account_id.clone(), status: "PENDING".into(), amount_cents: cents(amount), created_ms: now, completed_ms: None, expires_ms: now + DAY_MS };
        let out = json!({
            "topUpId": id,
            "checkoutUrl": format!("{}/checkout/{id}", app.base_url),
            "expiresAt": iso(t.expires_ms),
            "topUp": top_up_json(&t),
            "message": "Nothing is charged yet: a human must open checkoutUrl and pay. Poll the top-up until it is COMPLETED.",
        });
        st.top_ups.insert(id, t);
        Ok(ok(StatusCode::CREATED, out))
    })
}

async fn get_top_up(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        credit_reads(&app, cx)?;
        expire_due(st);
        let t = st
            .top_ups
            .get(&id)
            .filter(|t| t.account_id == cx.account_id)
            .ok_or_else(|| ApiErr::not_found("credit-top-ups", "topUpId", &id))?;
        Ok(ok(StatusCode::OK, json!({ "topUp": top_up_json(t) })))
    })
}

/// Completes a top-up the human paid on the checkout page.
pub(crate) fn complete_top_up(st: &mut State, id: &str) -> Result<(), String> {
    expire_due(st);
    let now = st.now();
    let t = st.top_ups.get_mut(id).ok_or("No such top-up.")?;
    if t.status != "PENDING" {
        return Err(format!("This top-up is {}.", t.status));
    }
    t.status = "COMPLETED".into();
    t.completed_ms = Some(now);
    let (account, amount) = (t.account_id.clone(), t.amount_cents);
    if let Some(a) = st.accounts.get_mut(&account) {
        a.available_cents += amount;
    }
    ledger_entry(
        st,
        LedgerEntry {
            account_id: account,
            kind: "TOP_UP".into(),
            amount_cents: amount,
            top_up_id: Some(id.to_string()),
            note: Some("Sandbox checkout".into()),
            ..Default::default()
        },
    );
    Ok(())
}

async fn pending_payments(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("payments:read")?;
        expire_due(st);
        let list: Vec<Value> = st
            .invoices
            .values()
            .rev()
            .filter(|i| i.account_id == cx.account_id && i.status == "PENDING_FUNDING")
            .map(|i| {
                let job_title = st.jobs.get(&i.job_id).map(market::title_of);
                let ms_name = st.milestones.get(&i.milestone_id).and_then(|m| m.name.clone());
                json!({
                    "id": i.id,
                    "status": "PENDING_FUNDING",
                    "invoiceKind": "FUNDING",
                    "viewerRole": "EMPLOYER",
                    "amountUsd": i.amount_usd,
                    "createdAt": iso(i.created_ms),
                    "invoiceNumber": i.number,
                    "job": { "id": i.job_id, "title": job_title.unwrap_or_default() },
                    "milestone": { "id": i.milestone_id, "name": ms_name },
                })
            })
            .collect();
        Ok(ok(StatusCode::OK, json!({ "payments": list })))
    })
}
