//! Job drafting (capabilities, create, patch), publishing with moderation and the daily limits,
//! live-job edits, closing, the own-job list, and the tokenless marketplace reads.

use axum::{
    Router,
    extract::{Path, State as AxState},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use serde_json::{Map, Value, json};

use super::{
    App,
    events::emit,
    extract::{self, EXPERIENCE_LEVELS, Extracted, IMPORT_FORMATS, PAYMENT_TYPES, UPDATE_KEYS, VOLUME_UNITS},
    http::{ApiErr, Ctx, Req, limit, offset_cursor, ok, page},
    market,
    state::{DAY_MS, Job, State, iso, parse_iso, random_hex},
};

const JOB_STATUSES: [&str; 6] = ["DRAFT", "OPEN", "ONGOING", "COMPLETED", "ARCHIVED", "PENDING_APPROVAL"];
const PROPOSALS_PER_JOB: usize = 3;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/public/v1/job-drafts/capabilities", get(capabilities))
        .route("/api/public/v1/job-drafts", post(create_draft))
        .route("/api/public/v1/job-drafts/{job_id}", patch(update_draft))
        .route("/api/public/v1/jobs/{id}/publish", post(publish))
        .route("/api/public/v1/jobs/{id}", get(public_job).patch(update_published))
        .route("/api/public/v1/jobs/{id}/close", post(close))
        .route("/api/public/v1/jobs/mine", get(mine))
        .route("/api/public/v1/jobs", get(search).options(preflight))
        .route("/api/public/v1/jobs/facets", get(facets))
        .route("/api/public/v1/jobs/changes", get(changes))
}

fn drafting(app: &App, cx: &Ctx, scope: Option<&str>) -> Result<(), ApiErr> {
    if let Some(s) = scope {
        cx.need(s)?;
    }
    app.feature("public_api_job_drafting")
}

async fn capabilities(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |_, cx| {
        drafting(&app, cx, None)?;
        let on = |k: &str| !app.options.disabled_features.iter().any(|f| f == k);
        let drafting_on = on("public_api_job_drafting");
        Ok(ok(
            StatusCode::OK,
            json!({
                "featureKey": "public_api_job_drafting",
                "namespace": "job-drafts",
                "rolloutMode": "ALL",
                "actorIsAdmin": false,
                "capabilities": {
                    "draftImport": drafting_on,
                    "draftCreate": drafting_on,
                    "draftUpdate": drafting_on,
                    "draftUrlRead": drafting_on,
                    "publish": on("public_api_job_publishing"),
                    "hiring": on("public_api_hiring"),
                    "messagingWrites": on("public_api_messaging_writes"),
                    "team": on("public_api_team"),
                    "paymentsWrite": on("public_api_payments_write"),
                    "credits": on("public_api_credits"),
                    "webhooks": on("public_api_webhooks"),
                },
                "draft": {
                    "importFormats": IMPORT_FORMATS,
                    "updateKeys": UPDATE_KEYS,
                    "enums": { "paymentType": PAYMENT_TYPES, "experienceLevel": EXPERIENCE_LEVELS, "dataVolumeUnit": VOLUME_UNITS },
                },
                "authBootstrap": "token",
                "enabled": true,
            }),
        ))
    })
}

fn draft_url(app: &App, id: &str) -> String {
    format!("{}/job-post?jobId={id}", app.base_url)
}

fn created_body(app: &App, job: &Job) -> Value {
    let (validation, missing) = extract::validate(&job.fields);
    json!({
        "ok": true,
        "jobId": job.id,
        "status": job.status,
        "draftUrl": draft_url(app, &job.id),
        "reviewUrl": format!("{}&review=1", draft_url(app, &job.id)),
        "validation": validation,
        "missingFields": missing,
        "normalizedFields": job.fields,
        "warnings": job.warnings,
        "unmappedFields": job.unmapped,
        "lowConfidenceFields": job.low_confidence,
    })
}

/// Parses the create body into an extraction, or the 400 naming what is wrong.
fn parse_create(body: &Map<String, Value>) -> Result<Extracted, ApiErr> {
    let source = match body.get("source") {
        None | Some(Value::Null) => None,
        Some(Value::Object(s)) => Some(s),
        Some(_) => return Err(ApiErr::field("source", "`source` must be an object.")),
    };
    let shapes = [body.contains_key("rawJobDescription"), source.is_some(), body.contains_key("format")];
    match shapes.iter().filter(|s| **s).count() {
        0 => {
            return Err(ApiErr::field(
                "rawJobDescription",
                "Send rawJobDescription, source, or format with its payload.",
            ));
        }
        1 => {}
        _ => return Err(ApiErr::field("format", "Send exactly one of rawJobDescription, source or format.")),
    }
    let format = match (body.get("format"), source.and_then(|s| s.get("type"))) {
        (Some(f), _) | (None, Some(f)) => match f.as_str() {
            Some(f) if IMPORT_FORMATS.contains(&f) => f,
            _ => {
                return Err(ApiErr::bad_request(
                    "Unknown import format.",
                    json!({ "field": "format", "supportedFormats": IMPORT_FORMATS }),
                ));
            }
        },
        (None, None) if source.is_some() => return Err(ApiErr::field("source.type", "`source.type` is required.")),
        (None, None) => "text",
    };
    let pick = |key: &str| body.get(key).or_else(|| source.and_then(|s| s.get(key)));
    match format {
        "text" => {
            let text = pick("rawJobDescription").or_else(|| pick("text"));
            let Some(text) = text.and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
                return Err(ApiErr::field("rawJobDescription", "The description text is missing or empty."));
            };
            if text.chars().count() > 60_000 {
                return Err(ApiErr::field("rawJobDescription", "The description is longer than 60,000 characters."));
            }
            Ok(extract::from_text(text))
        }
        "opentrain_canonical" => match pick("job") {
            Some(Value::Object(j)) => Ok(extract::from_canonical(j)),
            _ => Err(ApiErr::field("job", "format opentrain_canonical needs a `job` object.")),
        },
        "schema_org_job_posting" => match pick("jsonLd") {
            Some(Value::Object(j)) => Ok(extract::from_json_ld(j)),
            _ => Err(ApiErr::field("jsonLd", "format schema_org_job_posting needs a `jsonLd` object.")),
        },
        _ => match pick("xml").and_then(Value::as_str) {
            Some(x) if !x.trim().is_empty() => Ok(extract::from_xml(x)),
            _ => Err(ApiErr::field("xml", "XML formats need an `xml` string.")),
        },
    }
}

async fn create_draft(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        drafting(&app, cx, Some("jobs:write"))?;
        let body = req.json_object(false)?;
        let from_source =
            |k: &str| body.get("source").and_then(|s| s.get(k)).and_then(Value::as_str).map(str::to_string);
        let key = body
            .get("idempotencyKey")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| from_source("idempotencyKey"));
        let external =
            body.get("externalId").and_then(Value::as_str).map(str::to_string).or_else(|| from_source("externalId"));
        if let Some(k) = &key
            && let Some(existing) = st.jobs.values().find(|j| {
                j.account_id.as_deref() == Some(cx.account_id.as_str()) && j.idempotency_key.as_ref() == Some(k)
            })
        {
            return Ok(ok(StatusCode::OK, created_body(&app, existing)));
        }
        let ex = parse_create(&body)?;
        let id = st.id("job");
        let now = st.now();
        let company = st
            .accounts
            .get(&cx.account_id)
            .and_then(|a| a.org_name.clone())
            .unwrap_or_else(|| "Sandbox employer".into());
        let (category, _) = market::category_of(&ex.fields);
        let job = Job {
            id: id.clone(),
            account_id: Some(cx.account_id.clone()),
            company_name: company,
            status: "DRAFT".into(),
            fields: ex.fields,
            category: category.into(),
            created_ms: now,
            updated_ms: now,
            published_ms: None,
            idempotency_key: key,
            external_id: external,
            low_confidence: ex.low_confidence,
            warnings: ex.warnings,
            unmapped: ex.unmapped,
            changes: Vec::new(),
        };
        let out = created_body(&app, &job);
        st.jobs.insert(id, job);
        Ok(ok(StatusCode::CREATED, out))
    })
}

/// Checks a patch body: at least one key, only catalogued keys, right types.
fn check_patch(req: &Req) -> Result<Map<String, Value>, ApiErr> {
    let body = req.json_object(false)?;
    if body.is_empty() {
        return Err(ApiErr::bad_request(
            "Send at least one field to change.",
            json!({ "issues": [{ "path": [], "message": "at least one key is required" }] }),
        ));
    }
    let unknown: Vec<&String> = body.keys().filter(|k| !UPDATE_KEYS.contains(&k.as_str())).collect();
    if !unknown.is_empty() {
        return Err(ApiErr::bad_request(
            format!("Unknown keys: {}.", unknown.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
            json!({
                "issues": [{ "code": "unrecognized_keys", "keys": unknown, "path": [], "message": "Unrecognized key(s) in object" }],
                "unknownKeys": unknown,
                "supportedKeys": UPDATE_KEYS,
            }),
        ));
    }
    let issues: Vec<Value> = body
        .iter()
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, v)| extract::check_type(k, v).err().map(|m| json!({ "path": [k], "message": m })))
        .collect();
    if !issues.is_empty() {
        return Err(ApiErr::bad_request("Some fields have invalid values.", json!({ "issues": issues })));
    }
    Ok(body)
}

fn apply_patch(job: &mut Job, patch: Map<String, Value>, now: i64) {
    for (k, v) in patch {
        job.low_confidence.retain(|f| *f != k);
        if v.is_null() {
            job.fields.remove(&k);
        } else {
            job.fields.insert(k, v);
        }
    }
    job.category = market::category_of(&job.fields).0.into();
    job.updated_ms = now;
}

/// The caller's own job, or 404 (another account's job is not revealed).
pub(crate) fn own_job<'a>(st: &'a mut State, cx: &Ctx, id: &str) -> Result<&'a mut Job, ApiErr> {
    st.jobs
        .get_mut(id)
        .filter(|j| j.account_id.as_deref() == Some(cx.account_id.as_str()))
        .ok_or_else(|| ApiErr::not_found("jobs", "jobId", id))
}

async fn update_draft(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        drafting(&app, cx, Some("jobs:write"))?;
        let now = st.now();
        let job = own_job(st, cx, &id)?;
        if job.status != "DRAFT" {
            return Err(ApiErr::conflict(
                "job_not_draft",
                "This job is no longer a draft; edit a live job with PATCH /jobs/{id}.",
                json!({ "jobId": id, "status": job.status, "requiredStatus": "DRAFT" }),
            ));
        }
        let patch = check_patch(&req)?;
        apply_patch(job, patch, now);
        let (validation, _) = extract::validate(&job.fields);
        Ok(ok(
            StatusCode::OK,
            json!({ "ok": true, "jobId": id, "status": job.status, "draftUrl": draft_url(&app, &id), "validation": validation }),
        ))
    })
}

fn publishing(app: &App, cx: &Ctx) -> Result<(), ApiErr> {
    cx.need("jobs:write")?;
    app.feature("public_api_job_publishing")
}

async fn publish(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        publishing(&app, cx)?;
        let now = st.now();
        let job = own_job(st, cx, &id)?;
        let job_url = format!("{}/jobs/{id}", app.base_url);
        if job.status == "OPEN" {
            return Ok(ok(
                StatusCode::OK,
                json!({ "ok": true, "jobId": id, "status": "OPEN", "alreadyPublished": true, "jobUrl": job_url,
                        "publishAttemptId": Value::Null, "warnings": [], "sideEffects": { "dispatched": false, "status": "skipped" } }),
            ));
        }
        if job.status != "DRAFT" {
            return Err(ApiErr::conflict(
                "job_not_draft",
                format!("A {} job cannot be published.", job.status),
                json!({ "jobId": id, "status": job.status, "requiredStatus": "DRAFT" }),
            ));
        }
        let (mut validation, missing) = extract::validate(&job.fields);
        if validation["publishReady"] != true {
            validation["missingFields"] = missing.into();
            return Err(ApiErr::bad_request("The draft is not ready to publish.", json!({ "validation": validation })));
        }
        let reasons = extract::moderation(&job.fields);
        if !reasons.is_empty() {
            return Err(ApiErr::forbidden(
                "Moderation blocked this listing.",
                json!({ "reason": "moderation_blocked", "reasons": reasons }),
            ));
        }
        let mut warnings: Vec<&str> = Vec::new();
        if job.fields.get("languages").is_none() {
            warnings.push("No languages set: AI trainers filter by language, so the job may get fewer proposals.");
        }
        if job.fields.get("headcount").is_none() {
            warnings.push("No headcount set: the listing says one AI trainer.");
        }
        let account = st.accounts.get_mut(&cx.account_id).ok_or_else(|| ApiErr::unauthorized("Account not found."))?;
        account.publishes.retain(|t| now - *t < DAY_MS);
        let cap = if account.claimed { 20 } else { 3 };
        if account.publishes.len() >= cap {
            let oldest = account.publishes.iter().min().copied().unwrap_or(now);
            let retry = ((oldest + DAY_MS - now) / 1000).max(1);
            let mut res = ApiErr::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("Daily publish limit reached ({cap} per 24 h{}).", if account.claimed { "" } else { " before the account is claimed" }),
                Some(json!({ "limit": cap, "windowHours": 24, "retryAfterSeconds": retry })),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(res);
        }
        account.publishes.push(now);
        let job = own_job(st, cx, &id)?;
        job.status = "OPEN".into();
        job.published_ms = Some(now);
        job.updated_ms = now;
        job.changes.push(("PUBLISHED".into(), now));
        let snapshot = job.clone();
        receive_proposals(st, &cx.account_id, &snapshot, now);
        let attempt = format!("pub_{}", random_hex(8));
        Ok(ok(
            StatusCode::OK,
            json!({ "ok": true, "jobId": id, "status": "OPEN", "alreadyPublished": false, "jobUrl": job_url,
                    "publishAttemptId": attempt, "warnings": warnings, "sideEffects": { "dispatched": true, "status": "queued" } }),
        ))
    })
}

/// A newly published job receives proposals from matching AI trainers, each after its AI
/// interview, one `proposal.received` event apiece.
fn receive_proposals(st: &mut State, account_id: &str, job: &Job, now: i64) {
    for (n, t) in market::applicants(job, PROPOSALS_PER_JOB).into_iter().enumerate() {
        let p = market::proposal(st, job, t, n, now + n as i64);
        let pid = p.id.clone();
        st.proposals.insert(pid.clone(), p);
        emit(st, account_id, "proposal.received", &pid, Some(&job.id), json!({ "proposalId": pid, "jobId": job.id }));
    }
}

async fn update_published(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        publishing(&app, cx)?;
        let now = st.now();
        let job = own_job(st, cx, &id)?;
        if job.status != "OPEN" {
            let msg = if job.status == "DRAFT" {
                "This job is a draft: use PATCH /job-drafts/{jobId}."
            } else {
                "Only an OPEN job can be edited."
            };
            return Err(ApiErr::conflict(
                "job_not_open",
                msg,
                json!({ "jobId": id, "status": job.status, "requiredStatus": "OPEN" }),
            ));
        }
        let patch = check_patch(&req)?;
        apply_patch(job, patch, now);
        let reasons = extract::moderation(&job.fields);
        if !reasons.is_empty() {
            // As documented: the edit stays applied and the job drops back to DRAFT.
            job.status = "DRAFT".into();
            job.changes.push(("CLOSED".into(), now));
            return Err(ApiErr::conflict(
                "moderation_blocked",
                "Moderation rejected the edit; the job is a draft again.",
                json!({ "jobId": id, "reasons": reasons, "status": "DRAFT" }),
            ));
        }
        job.changes.push(("UPDATED".into(), now));
        Ok(ok(
            StatusCode::OK,
            json!({ "ok": true, "jobId": id, "status": "OPEN", "moderation": { "decision": "ALLOW", "reasons": [] } }),
        ))
    })
}

async fn close(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        publishing(&app, cx)?;
        let now = st.now();
        let job = own_job(st, cx, &id)?;
        let already = job.status == "ARCHIVED";
        if !already {
            if job.status == "OPEN" {
                job.changes.push(("CLOSED".into(), now));
            }
            job.status = "ARCHIVED".into();
            job.updated_ms = now;
        }
        Ok(ok(StatusCode::OK, json!({ "ok": true, "jobId": id, "status": "ARCHIVED", "alreadyClosed": already })))
    })
}

async fn mine(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        cx.need("jobs:read")?;
        let status = match req.q("status") {
            None => None,
            Some(s) if JOB_STATUSES.contains(&s) => Some(s),
            Some(_) => {
                return Err(ApiErr::bad_request("Unknown status.", json!({ "field": "status", "supportedStatuses": JOB_STATUSES })));
            }
        };
        let limit = limit(&req, 25, 100)?;
        let offset = offset_cursor(&req)?;
        let jobs: Vec<&Job> = st
            .jobs
            .values()
            .rev()
            .filter(|j| j.account_id.as_deref() == Some(cx.account_id.as_str()))
            .filter(|j| status.is_none_or(|s| j.status == s))
            .collect();
        let (jobs, next) = page(jobs, offset, limit);
        let list: Vec<Value> = jobs
            .into_iter()
            .map(|j| {
                let props: Vec<_> = st.proposals.values().filter(|p| p.job_id == j.id).collect();
                json!({
                    "id": j.id,
                    "title": market::title_of(j),
                    "status": j.status,
                    "published": j.published_ms.is_some(),
                    "acceptingApplicants": j.status == "OPEN",
                    "createdAt": iso(j.created_ms),
                    "updatedAt": iso(j.updated_ms),
                    "jobUrl": format!("{}/jobs/{}", app.base_url, j.id),
                    "proposalCounts": { "total": props.len(), "unreviewed": props.iter().filter(|p| p.status == "UNREVIEWED").count() },
                })
            })
            .collect();
        Ok(ok(StatusCode::OK, json!({ "jobs": list, "nextCursor": next })))
    })
}

/// The public marketplace reads are CORS-open and edge-cached in production.
fn public(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, s-maxage=300, stale-while-revalidate=3600"));
    res
}

async fn preflight() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    res
}

fn listed(j: &Job) -> bool {
    j.status == "OPEN"
}

fn field_list(j: &Job, key: &str) -> Vec<String> {
    j.fields
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

async fn search(AxState(app): AxState<App>, req: Req) -> Response {
    public(app.open(|st| {
        let pay = match req.q("payType") {
            None => None,
            Some(p) if PAYMENT_TYPES.contains(&p) => Some(p),
            Some(_) => {
                return Err(ApiErr::bad_request(
                    "Unknown payType.",
                    json!({ "field": "payType", "supportedValues": PAYMENT_TYPES }),
                ));
            }
        };
        let limit = limit(&req, 25, 100)?;
        let offset = offset_cursor(&req)?;
        let words: Vec<String> =
            req.q("q").unwrap_or("").to_lowercase().split_whitespace().map(str::to_string).collect();
        let mut jobs: Vec<&Job> = st
            .jobs
            .values()
            .filter(|j| listed(j))
            .filter(|j| {
                let hay = format!(
                    "{} {}",
                    market::title_of(j),
                    j.fields.get("jobDescription").and_then(Value::as_str).unwrap_or("")
                )
                .to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .filter(|j| req.q("category").is_none_or(|c| j.category.eq_ignore_ascii_case(c)))
            .filter(|j| {
                req.q("language").is_none_or(|l| field_list(j, "languages").iter().any(|x| x.eq_ignore_ascii_case(l)))
            })
            .filter(|j| {
                req.q("country").is_none_or(|c| field_list(j, "countries").iter().any(|x| x.eq_ignore_ascii_case(c)))
            })
            .filter(|j| pay.is_none_or(|p| j.fields.get("paymentType").and_then(Value::as_str) == Some(p)))
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.published_ms.unwrap_or(j.created_ms)));
        let (jobs, next) = page(jobs, offset, limit);
        let list: Vec<Value> = jobs.into_iter().map(|j| market::public_job_json(&app.base_url, j)).collect();
        Ok(ok(StatusCode::OK, json!({ "jobs": list, "nextCursor": next, "generatedAt": iso(st.now()) })))
    }))
}

async fn public_job(AxState(app): AxState<App>, Path(id): Path<String>) -> Response {
    public(app.open(|st| match st.jobs.get(&id).filter(|j| j.published_ms.is_some()) {
        Some(j) => Ok(ok(StatusCode::OK, market::public_job_json(&app.base_url, j))),
        None => Err(ApiErr::not_found("jobs", "jobId", &id)),
    }))
}

fn counts(values: impl Iterator<Item = String>) -> Vec<Value> {
    let mut m: Vec<(String, i64)> = Vec::new();
    for v in values {
        match m.iter_mut().find(|(k, _)| *k == v) {
            Some((_, c)) => *c += 1,
            None => m.push((v, 1)),
        }
    }
    m.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    m.into_iter().map(|(value, count)| json!({ "value": value, "count": count })).collect()
}

async fn facets(AxState(app): AxState<App>) -> Response {
    public(app.open(|st| {
        let open: Vec<&Job> = st.jobs.values().filter(|j| listed(j)).collect();
        Ok::<_, ApiErr>(ok(
            StatusCode::OK,
            json!({
                "totalJobs": open.len(),
                "categories": counts(open.iter().map(|j| j.category.clone())),
                "languages": counts(open.iter().flat_map(|j| field_list(j, "languages"))),
                "countries": counts(open.iter().flat_map(|j| field_list(j, "countries"))),
                "payTypes": counts(open.iter().filter_map(|j| j.fields.get("paymentType").and_then(Value::as_str).map(str::to_string))),
                "generatedAt": iso(st.now()),
            }),
        ))
    }))
}

async fn changes(AxState(app): AxState<App>, req: Req) -> Response {
    public(app.open(|st| {
        let since = req
            .q("since")
            .and_then(parse_iso)
            .ok_or_else(|| ApiErr::field("since", "`since` is required and must be an ISO-8601 timestamp."))?;
        let now = st.now();
        let mut list: Vec<(i64, Value)> = st
            .jobs
            .values()
            .filter_map(|j| {
                let (kind, at) = j.changes.iter().filter(|(_, t)| *t >= since).max_by_key(|(_, t)| *t)?;
                // A job published and then updated in the window shows once, as UPDATED.
                let kind = if kind == "PUBLISHED" && j.changes.iter().filter(|(_, t)| *t >= since).count() > 1 { "UPDATED" } else { kind.as_str() };
                Some((*at, json!({ "jobId": j.id, "eventType": kind, "occurredAt": iso(*at) })))
            })
            .collect();
        list.sort_by_key(|(t, _)| *t);
        list.truncate(5000);
        Ok::<_, ApiErr>(ok(
            StatusCode::OK,
            json!({ "since": iso(since), "until": iso(now), "changes": list.into_iter().map(|(_, v)| v).collect::<Vec<_>>(), "generatedAt": iso(now) }),
        ))
    }))
}
