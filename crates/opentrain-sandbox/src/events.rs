//! Account events: recording them, the `/updates` feed, webhook subscriptions, and signed
//! deliveries (to loopback URLs only) with retries and auto-disable.

use std::time::Duration;

use axum::{
    Router,
    extract::{Path, State as AxState},
    http::StatusCode,
    response::Response,
    routing::get,
};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{
    App,
    http::{ApiErr, Ctx, Req, limit, ok},
    state::{Delivery, Event, State, Webhook, iso, random_hex, system_ms},
};
use opentrain::webhook::{SIGNATURE_HEADER, Verifier};

/// The documented event types.
pub(crate) const EVENT_TYPES: [&str; 8] = [
    "proposal.received",
    "proposal.status_changed",
    "message.received",
    "contract.created",
    "milestone.status_changed",
    "payment.pending",
    "approval.confirmed",
    "contract.budget_state_changed",
];
const MAX_WEBHOOKS: usize = 10;
const DISABLE_AFTER: u32 = 10;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/public/v1/updates", get(poll_updates))
        .route("/api/public/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/public/v1/webhooks/{webhook_id}", get(get_webhook).delete(delete_webhook))
}

/// The read scope an event type needs.
fn read_scope(kind: &str) -> &'static str {
    if kind.starts_with("proposal.") {
        "proposals:read"
    } else if kind.starts_with("message.") {
        "messages:read"
    } else {
        "payments:read"
    }
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id.to_string(),
        "type": e.kind,
        "apiVersion": "v1",
        "createdAt": iso(e.created_ms),
        "resourceId": e.resource_id,
        "jobId": e.job_id,
        "data": e.data,
    })
}

/// Records an event and queues a delivery to every active subscription of the account that
/// wants it.
pub(crate) fn emit(st: &mut State, account_id: &str, kind: &str, resource_id: &str, job_id: Option<&str>, data: Value) {
    // Event ids look like the documented ones ("1042") and only grow.
    st.event_seq = st.event_seq.max(1000) + 1;
    let event = Event {
        id: st.event_seq,
        account_id: account_id.to_string(),
        kind: kind.to_string(),
        created_ms: st.now(),
        resource_id: resource_id.to_string(),
        job_id: job_id.map(str::to_string),
        data,
    };
    let body = serde_json::to_vec(&event_json(&event)).unwrap_or_default();
    let targets: Vec<String> = st
        .webhooks
        .values()
        .filter(|w| w.account_id == account_id && w.status == "ACTIVE" && w.event_types.iter().any(|t| t == kind))
        .map(|w| w.id.clone())
        .collect();
    for webhook_id in targets {
        st.outbox.push(Delivery {
            webhook_id,
            delivery_id: format!("dlv_{}", random_hex(10)),
            event_type: kind.to_string(),
            body: body.clone(),
        });
    }
    st.events.push(event);
}

async fn poll_updates(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        let readable: Vec<&str> =
            ["proposals:read", "messages:read", "payments:read"].into_iter().filter(|s| cx.has(s)).collect();
        if readable.is_empty() {
            return Err(ApiErr::forbidden(
                "The updates feed needs proposals:read, messages:read or payments:read.",
                json!({ "requiredScopes": ["proposals:read", "messages:read", "payments:read"], "grantedScopes": cx.scopes }),
            ));
        }
        let limit = limit(&req, 50, 200)?;
        let after = match req.q("cursor") {
            None | Some("") => 0,
            Some(c) => c.trim().parse::<u64>().map_err(|_| ApiErr::field("cursor", "`cursor` must be an event id."))?,
        };
        let mut matching = st
            .events
            .iter()
            .filter(|e| e.account_id == cx.account_id && e.id > after && readable.contains(&read_scope(&e.kind)));
        let page: Vec<&Event> = matching.by_ref().take(limit).collect();
        let has_more = matching.next().is_some();
        let next = page.last().map(|e| e.id).unwrap_or(after).to_string();
        Ok(ok(
            StatusCode::OK,
            json!({ "events": page.into_iter().map(event_json).collect::<Vec<_>>(), "nextCursor": next, "hasMore": has_more }),
        ))
    })
}

/// The URL a delivery may go to: http(s) on a loopback address (localhost becomes 127.0.0.1),
/// so the sandbox can never send traffic off this machine.
pub(crate) fn loopback_url(raw: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
    if host.eq_ignore_ascii_case("localhost") {
        url.set_host(Some("127.0.0.1")).ok()?;
        return Some(url);
    }
    let ip: std::net::IpAddr = host.parse().ok()?;
    ip.is_loopback().then_some(url)
}

fn webhook_json(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "url": w.url,
        "eventTypes": w.event_types,
        "status": w.status,
        "createdAt": iso(w.created_ms),
        "disabledAt": w.disabled_ms.map(iso),
        "disabledReason": w.disabled_reason,
    })
}

fn manage(app: &App, cx: &Ctx) -> Result<(), ApiErr> {
    cx.need("webhooks:manage")?;
    app.feature("public_api_webhooks")
}

async fn create_webhook(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        manage(&app, cx)?;
        let body = req.json_object(false)?;
        let url = body.get("url").and_then(Value::as_str).ok_or_else(|| ApiErr::field("url", "`url` is required."))?;
        if url.len() > 2048 {
            return Err(ApiErr::field("url", "`url` is longer than 2048 characters."));
        }
        if loopback_url(url).is_none() {
            return Err(ApiErr::field(
                "url",
                "The sandbox delivers only to http(s) URLs on this machine (127.0.0.1, localhost or [::1]).",
            ));
        }
        let Some(list) = body.get("eventTypes").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            return Err(ApiErr::field("eventTypes", "`eventTypes` must be a non-empty array."));
        };
        let mut types: Vec<String> = Vec::new();
        for t in list {
            match t.as_str() {
                Some(s) if EVENT_TYPES.contains(&s) => {
                    if !types.iter().any(|x| x == s) {
                        types.push(s.to_string());
                    }
                }
                _ => {
                    return Err(ApiErr::bad_request(
                        format!("Unknown event type {t}."),
                        json!({ "field": "eventTypes", "supportedEventTypes": EVENT_TYPES }),
                    ));
                }
            }
        }
        let missing: Vec<&str> = types.iter().map(|t| read_scope(t)).filter(|s| !cx.has(s)).collect();
        if let Some(first) = missing.first() {
            return Err(ApiErr::forbidden(
                format!("Subscribing to these events needs `{first}`."),
                json!({ "requiredScopes": missing, "grantedScopes": cx.scopes }),
            ));
        }
        if st.webhooks.values().filter(|w| w.account_id == cx.account_id).count() >= MAX_WEBHOOKS {
            return Err(ApiErr::conflict(
                "webhook_limit_reached",
                "An account can have at most 10 webhook subscriptions.",
                json!({ "limit": MAX_WEBHOOKS }),
            ));
        }
        let id = st.id("wh");
        let secret = format!("whsec_{}", random_hex(24));
        let w = Webhook {
            id: id.clone(),
            account_id: cx.account_id.clone(),
            url: url.to_string(),
            event_types: types,
            status: "ACTIVE".into(),
            created_ms: st.now(),
            disabled_ms: None,
            disabled_reason: None,
            secret: secret.clone(),
            after_event: st.event_seq,
            consecutive_failures: 0,
        };
        let out = json!({
            "webhook": webhook_json(&w),
            "secret": secret,
            "message": "Store the secret now: it is shown only once. Deliveries start with the next event (no backfill).",
        });
        st.webhooks.insert(id, w);
        Ok(ok(StatusCode::CREATED, out))
    })
}

fn own_webhook<'a>(st: &'a mut State, cx: &Ctx, id: &str) -> Result<&'a mut Webhook, ApiErr> {
    st.webhooks
        .get_mut(id)
        .filter(|w| w.account_id == cx.account_id)
        .ok_or_else(|| ApiErr::not_found("webhooks", "webhookId", id))
}

async fn list_webhooks(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        manage(&app, cx)?;
        let list: Vec<Value> =
            st.webhooks.values().rev().filter(|w| w.account_id == cx.account_id).map(webhook_json).collect();
        Ok(ok(StatusCode::OK, json!({ "webhooks": list })))
    })
}

async fn get_webhook(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        manage(&app, cx)?;
        let w = own_webhook(st, cx, &id)?;
        Ok(ok(StatusCode::OK, json!({ "webhook": webhook_json(w) })))
    })
}

async fn delete_webhook(AxState(app): AxState<App>, Path(id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        manage(&app, cx)?;
        own_webhook(st, cx, &id)?;
        let w = st.webhooks.remove(&id).ok_or_else(|| ApiErr::not_found("webhooks", "webhookId", &id))?;
        Ok(ok(StatusCode::OK, json!({ "webhook": webhook_json(&w), "deleted": true })))
    })
}

/// Sends queued deliveries, each on its own task so one slow receiver delays no other.
pub(crate) async fn delivery_worker(app: App, mut rx: UnboundedReceiver<Delivery>) {
    // No proxy and no redirects: a delivery must reach the loopback URL and nothing else.
    let built = opentrain::http_client_builder().and_then(|b| {
        b.no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("OpenTrain-Webhooks/1.0")
            .build()
            .map_err(|e| opentrain::ConfigError::Invalid { what: "webhook client", reason: e.to_string() }.into())
    });
    let client = match built {
        Ok(c) => c,
        Err(e) => {
            eprintln!("opentrain sandbox: webhook deliveries disabled: {e}");
            return;
        }
    };
    while let Some(d) = rx.recv().await {
        tokio::spawn(deliver(app.clone(), client.clone(), d));
    }
}

async fn deliver(app: App, client: reqwest::Client, d: Delivery) {
    let attempts = (app.options.webhook_retry_delays.len() + 1).min(5);
    for attempt in 0..attempts {
        let target = {
            let st = app.lock();
            st.webhooks.get(&d.webhook_id).filter(|w| w.status == "ACTIVE").map(|w| (w.url.clone(), w.secret.clone()))
        };
        let Some((raw_url, secret)) = target else { return };
        let Some(url) = loopback_url(&raw_url) else { return };
        // Signed with the real clock, which is what the receiver checks the tolerance against.
        let t = u64::try_from(system_ms() / 1000).unwrap_or(0);
        let signature = Verifier::new(secret).sign(t, &d.body);
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("X-OpenTrain-Event", &d.event_type)
            .header("X-OpenTrain-Delivery", &d.delivery_id)
            .header(SIGNATURE_HEADER, signature)
            .body(d.body.clone())
            .send()
            .await;
        let success = matches!(&sent, Ok(r) if r.status().is_success());
        {
            let mut st = app.lock();
            let now = st.now();
            if let Some(w) = st.webhooks.get_mut(&d.webhook_id) {
                if success {
                    w.consecutive_failures = 0;
                } else {
                    w.consecutive_failures += 1;
                    if w.consecutive_failures >= DISABLE_AFTER {
                        w.status = "DISABLED".into();
                        w.disabled_ms = Some(now);
                        w.disabled_reason = Some(format!("{DISABLE_AFTER} consecutive failed deliveries"));
                    }
                }
            }
        }
        app.touch();
        if success {
            return;
        }
        if let Some(delay) = app.options.webhook_retry_delays.get(attempt)
            && attempt + 1 < attempts
        {
            tokio::time::sleep(*delay).await;
        }
    }
}
