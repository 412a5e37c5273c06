//! The pages a person uses, standing in for a signed-in human in the OpenTrain app: the claim
//! verification page, approval pages with Confirm and Decline, the checkout that pays a top-up,
//! billing (add a test card) and API keys. Plain HTML forms; no script. Every one of them sits
//! behind [`session::human_gate`]: a signed-in person, a same-origin request and, on a post, the
//! session's CSRF token, which every form here carries.

use axum::{
    Extension, Router,
    extract::{Path, State as AxState},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;

use super::{
    App,
    agent::{complete_claim, mint_token},
    http::Req,
    market,
    money::{self, Source},
    session::{self, Session},
    state::{ALL_SCOPES, State, hash_secret, iso},
};

pub(super) fn routes(app: &App) -> Router<App> {
    let human = Router::new()
        .route("/account", get(account))
        .route("/sign-out", post(session::sign_out))
        .route("/claim", get(claim_page).post(claim_submit))
        .route("/approvals/{id}", get(approval_page))
        .route("/approvals/{id}/confirm", post(approval_confirm))
        .route("/approvals/{id}/decline", post(approval_decline))
        .route("/checkout/{id}", get(checkout_page))
        .route("/checkout/{id}/pay", post(checkout_pay))
        .route("/checkout/{id}/cancel", post(checkout_cancel))
        .route("/employer-settings", get(settings_page))
        .route("/employer-settings/billing", post(add_card))
        .route("/employer-settings/api-keys", post(mint_key))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), session::human_gate));
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(session::sign_in))
        .route("/job-post", get(draft_page))
        .route("/jobs/{id}", get(listing_page))
        .merge(human)
}

/// The opening tag of a form that posts to `action` (already escaped), with the session's CSRF
/// token: the gate refuses a post without it, so a form without it would be a dead button.
fn post_form(action: &str, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    )
}

/// HTML-escapes text.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} | OpenTrain sandbox</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}}\
.banner{{background:#fff4d6;border:1px solid #e7c86a;padding:.5rem .8rem;border-radius:6px;font-size:.9rem}}\
table{{border-collapse:collapse}}td,th{{padding:.25rem .8rem .25rem 0;text-align:left;vertical-align:top}}\
button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}}\
.confirm{{background:#1a7f37;color:#fff;border-color:#1a7f37}}.decline{{background:#fff;color:#b42318;border-color:#b42318}}\
.ok{{color:#1a7f37}}.err{{color:#b42318}}code{{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px;word-break:break-all}}\
input[type=text]{{font-size:1.4rem;letter-spacing:.3rem;width:9rem}}</style></head><body>\
<p class=\"banner\">OpenTrain <strong>sandbox</strong>: nothing here is real, no money moves. This page stands in for a signed-in person in the OpenTrain app.</p>\
<h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    ))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let mut res = (status, layout(title, body)).into_response();
    let h = res.headers_mut();
    // No other page may frame these (a framed Confirm button can be clickjacked), keep them in
    // a cache, or learn a claim link's token from the Referer.
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}

/// A page that only says `text`.
pub(crate) fn notice(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, &format!("<p class=\"err\">{}</p>", escape(text)))
}

/// 401 for a human page opened without a session: how a person signs in, and a same-origin link
/// back to `path` (a same-site click carries the SameSite=Strict cookie a cross-site one does not).
pub(crate) fn sign_in_required(path: &str) -> Response {
    page(
        StatusCode::UNAUTHORIZED,
        "Sign in first",
        &format!(
            "<p class=\"err\">This page is for the person who owns the account, signed in to this sandbox.</p>\
<p>Open the one-time sign-in link the sandbox printed on its console (where <code>opentrain sandbox</code> or \
<code>--sandbox</code> runs), then <a href=\"{}\">come back to this page</a>.</p>",
            escape(path)
        ),
    )
}

async fn account(Extension(s): Extension<Session>) -> Response {
    page(
        StatusCode::OK,
        "Signed in",
        &format!(
            "<p class=\"ok\" id=\"signed-in\">You are signed in to this sandbox: the claim, approval, checkout and \
settings links the agent shows you now open here.</p>{}<button type=\"submit\">Sign out</button></form>",
            post_form("/sign-out", &s.csrf)
        ),
    )
}

pub(crate) fn not_found_page() -> Response {
    page(StatusCode::NOT_FOUND, "Not found", "<p>There is no such page on this sandbox.</p>")
}

fn form(req: &Req) -> Vec<(String, String)> {
    req.form().unwrap_or_default()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn usd(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, (cents % 100).abs())
}

async fn home(AxState(app): AxState<App>) -> Response {
    let b = escape(&app.base_url);
    page(
        StatusCode::OK,
        "OpenTrain API sandbox",
        &format!(
            "<p>A local, offline OpenTrain API at <code>{b}</code>. Point a client at it with \
<code>OPENTRAIN_API_BASE_URL={b}</code>, register an agent (<code>POST /api/agent/identity</code>) and go.</p>\
<p>Approval, checkout, claim and settings pages appear here when the API hands out their URLs. They are for \
a person: open the one-time sign-in link the sandbox printed on its console first.</p>"
        ),
    )
}

fn reg_by_cat(st: &State, token: &str) -> Option<usize> {
    let h = hash_secret(token);
    st.registrations.iter().position(|r| r.attempt.as_ref().is_some_and(|a| a.cat_hash == h))
}

fn claim_form(csrf: &str, token: &str, email: &str, agent: &str, note: &str) -> String {
    format!(
        "<p>The agent <strong>{agent}</strong> asks you to take ownership of its OpenTrain account as \
<strong>{email}</strong>. Enter the 6-digit code the agent showed you.</p>{note}\
{form}<input type=\"hidden\" name=\"token\" value=\"{token}\">\
<label>Code <input type=\"text\" name=\"user_code\" inputmode=\"numeric\" maxlength=\"6\" autocomplete=\"one-time-code\" autofocus required></label> \
<button class=\"confirm\" type=\"submit\">Claim account</button></form>",
        agent = escape(agent),
        email = escape(email),
        token = escape(token),
        form = post_form("/claim", csrf),
    )
}

async fn claim_page(AxState(app): AxState<App>, Extension(s): Extension<Session>, req: Req) -> Response {
    let Some(token) = req.q("token").map(str::to_string) else {
        return page(
            StatusCode::OK,
            "Claim an agent account",
            "<p>An agent claims its account by calling <code>POST /api/agent/identity/claim</code> with your email; \
it then shows you a link to this page with a code. Open that link.</p>",
        );
    };
    let st = app.lock();
    let Some(i) = reg_by_cat(&st, &token) else {
        return page(
            StatusCode::NOT_FOUND,
            "Claim link not valid",
            "<p class=\"err\">This claim link is unknown or was replaced by a newer one.</p>",
        );
    };
    let reg = &st.registrations[i];
    let agent =
        st.accounts.get(&reg.account_id).and_then(|a| a.agent_name.clone()).unwrap_or_else(|| "An AI agent".into());
    let Some(attempt) = &reg.attempt else { return not_found_page() };
    if attempt.completed_ms.is_some() {
        return page(
            StatusCode::OK,
            "Account claimed",
            "<p class=\"ok\">This account is already claimed. The agent receives its new token on its next poll.</p>",
        );
    }
    if st.now() >= attempt.expires_ms {
        return page(
            StatusCode::GONE,
            "Claim link expired",
            "<p class=\"err\">This code expired (codes last 30 minutes). Ask the agent to start the claim again.</p>",
        );
    }
    page(StatusCode::OK, "Claim an agent account", &claim_form(&s.csrf, &token, &attempt.email, &agent, ""))
}

async fn claim_submit(AxState(app): AxState<App>, Extension(s): Extension<Session>, req: Req) -> Response {
    let f = form(&req);
    let token = field(&f, "token").unwrap_or("").to_string();
    let code: String = field(&f, "user_code").unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    let mut st = app.lock();
    let Some(i) = reg_by_cat(&st, &token) else {
        return page(
            StatusCode::NOT_FOUND,
            "Claim link not valid",
            "<p class=\"err\">This claim link is unknown or was replaced by a newer one.</p>",
        );
    };
    let now = st.now();
    let org = st.registrations[i].account_id.clone();
    let agent = st.accounts.get(&org).and_then(|a| a.agent_name.clone()).unwrap_or_else(|| "An AI agent".into());
    let Some(attempt) = st.registrations[i].attempt.as_mut() else { return not_found_page() };
    if attempt.completed_ms.is_some() {
        return page(StatusCode::OK, "Account claimed", "<p class=\"ok\">This account is already claimed.</p>");
    }
    if now >= attempt.expires_ms || attempt.failed_tries >= 5 {
        return page(
            StatusCode::GONE,
            "Claim link expired",
            "<p class=\"err\">This code can no longer be used. Ask the agent to start the claim again.</p>",
        );
    }
    if code != attempt.user_code {
        attempt.failed_tries += 1;
        let email = attempt.email.clone();
        drop(st);
        app.touch();
        return page(
            StatusCode::BAD_REQUEST,
            "Claim an agent account",
            &claim_form(
                &s.csrf,
                &token,
                &email,
                &agent,
                "<p class=\"err\">That code is not right. Check the code the agent showed you.</p>",
            ),
        );
    }
    complete_claim(&mut st, i);
    drop(st);
    app.touch();
    let org = escape(&org);
    page(
        StatusCode::OK,
        "Account claimed",
        &format!(
            "<p class=\"ok\">Done: you own this account now. The agent receives its new token on its next poll; its old token stopped working.</p>\
<p>As the account owner you can also <a href=\"/employer-settings?tab=api-keys&amp;org={org}\">create API keys</a> \
(for payments and webhooks) and <a href=\"/employer-settings?tab=billing&amp;org={org}\">add a test card</a>.</p>"
        ),
    )
}

fn approval_body(st: &State, csrf: &str, id: &str, flash: &str) -> Option<String> {
    let a = st.approvals.get(id)?;
    let acct = st.accounts.get(&a.account_id)?;
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut charge_cents = 0;
    let what = match a.kind.as_str() {
        "proposal_hire" => {
            let p = a.proposal_id.as_ref().and_then(|p| st.proposals.get(p));
            let who = p
                .and_then(|p| market::trainer(&p.freelancer_id))
                .map(|t| t.display_name())
                .unwrap_or_else(|| "the AI trainer".into());
            let job = a.job_id.as_ref().and_then(|j| st.jobs.get(j)).map(market::title_of).unwrap_or_default();
            let terms = a.terms.clone().unwrap_or(Value::Null);
            let amount = terms["amount"].as_f64().unwrap_or(0.0);
            charge_cents = money::hire_charge_cents(amount);
            rows.push((
                "First milestone".into(),
                terms["name"].as_str().or(terms["description"].as_str()).unwrap_or("").to_string(),
            ));
            rows.push(("Milestone amount".into(), usd((amount * 100.0).round() as i64)));
            rows.push((
                "Marketplace fee (10%) + contract fee".into(),
                usd(charge_cents - (amount * 100.0).round() as i64),
            ));
            if let Some(d) = terms["dueDate"].as_str() {
                rows.push(("Due".into(), d.to_string()));
            }
            format!("Hire {who} for \u{201c}{job}\u{201d}")
        }
        "milestone_fund" | "milestone_approve" => {
            let m = a.milestone_id.as_ref().and_then(|m| st.milestones.get(m));
            let name = m.map(|m| m.name.clone().unwrap_or_else(|| m.description.clone())).unwrap_or_default();
            let amount = m.map(|m| m.amount_usd).unwrap_or(0.0);
            rows.push(("Milestone".into(), name));
            rows.push(("Amount".into(), usd((amount * 100.0).round() as i64)));
            if a.kind == "milestone_fund" {
                charge_cents = money::fund_charge_cents(amount);
                rows.push(("Charged now (amount + 10% fee), held in escrow".into(), usd(charge_cents)));
                "Fund a milestone".into()
            } else {
                rows.push(("Released to the AI trainer".into(), usd((amount * 100.0).round() as i64)));
                "Approve a milestone and release payment".into()
            }
        }
        _ => {
            let c = a.contract_id.as_ref().and_then(|c| st.contracts.get(c));
            rows.push(("Contract".into(), c.map(|c| c.title.clone()).unwrap_or_default()));
            rows.push((
                "Effect".into(),
                "Ends the contract; unspent escrow of funded milestones returns to you.".into(),
            ));
            "End a contract".into()
        }
    };
    rows.push(("Requested".into(), iso(a.created_ms)));
    rows.push(("Expires".into(), iso(a.expires_ms)));
    let table: String =
        rows.iter().map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v))).collect();
    let id_e = escape(id);
    let actions = if a.status == "pending" {
        let needs_payment = charge_cents > 0;
        let credits_ok = acct.available_cents >= charge_cents;
        let mut choices = String::new();
        if needs_payment {
            choices.push_str(&format!(
                "<p>Pay with: <label><input type=\"radio\" name=\"source\" value=\"credits\"{}{}> credit balance ({})</label> ",
                if credits_ok { " checked" } else { "" },
                if credits_ok { "" } else { " disabled" },
                usd(acct.available_cents)
            ));
            choices.push_str(&format!(
                "<label><input type=\"radio\" name=\"source\" value=\"card\"{}{}> card on file</label></p>",
                if !credits_ok && acct.has_card { " checked" } else { "" },
                if acct.has_card { "" } else { " disabled" }
            ));
            if !credits_ok && !acct.has_card {
                choices.push_str(&format!(
                    "<p class=\"err\">No way to pay yet: <a href=\"/employer-settings?tab=billing&amp;org={}\">add a test card</a> or top up credits.</p>",
                    escape(&acct.id)
                ));
            }
        }
        format!(
            "{}{choices}<button class=\"confirm\" type=\"submit\" id=\"confirm\">Confirm</button></form>\
{}<button class=\"decline\" type=\"submit\" id=\"decline\">Decline</button></form>",
            post_form(&format!("/approvals/{id_e}/confirm"), csrf),
            post_form(&format!("/approvals/{id_e}/decline"), csrf),
        )
    } else {
        let result = a
            .result
            .as_ref()
            .map(|r| format!("<p>Result: <code>{}</code></p>", escape(&r.to_string())))
            .unwrap_or_default();
        format!("<p id=\"status\">This request is <strong>{}</strong>.</p>{result}", escape(&a.status))
    };
    Some(format!("{flash}<h2>{}</h2><table>{table}</table>{actions}", escape(&what)))
}

async fn approval_page(
    AxState(app): AxState<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let mut st = app.lock();
    money::expire_due(&mut st);
    let body = approval_body(&st, &s.csrf, &id, "");
    drop(st);
    app.touch();
    match body {
        Some(b) => page(StatusCode::OK, "Approve a request", &b),
        None => not_found_page(),
    }
}

async fn approval_confirm(
    AxState(app): AxState<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    req: Req,
) -> Response {
    let f = form(&req);
    let source = match field(&f, "source") {
        Some("card") => Source::Card,
        _ => Source::Credits,
    };
    app.with(|st| {
        let outcome = money::confirm(st, &id, source);
        let flash = match &outcome {
            Ok(()) => "<p class=\"ok\" id=\"flash\">Confirmed. The action was carried out.</p>".to_string(),
            Err(e) => format!("<p class=\"err\" id=\"flash\">{}</p>", escape(e)),
        };
        let status = if outcome.is_ok() { StatusCode::OK } else { StatusCode::CONFLICT };
        approval_body(st, &s.csrf, &id, &flash)
            .map(|b| page(status, "Approve a request", &b))
            .unwrap_or_else(not_found_page)
    })
}

async fn approval_decline(
    AxState(app): AxState<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    app.with(|st| {
        money::expire_due(st);
        let pending = st.approvals.get(&id).is_some_and(|a| a.status == "pending");
        if pending {
            money::resolve(st, &id, "declined");
        }
        let flash = if pending { "<p id=\"flash\">Declined. Nothing was carried out.</p>" } else { "" };
        approval_body(st, &s.csrf, &id, flash)
            .map(|b| page(StatusCode::OK, "Approve a request", &b))
            .unwrap_or_else(not_found_page)
    })
}

fn checkout_body(st: &State, csrf: &str, id: &str, flash: &str) -> Option<String> {
    let t = st.top_ups.get(id)?;
    let id_e = escape(id);
    let actions = if t.status == "PENDING" {
        format!(
            "<p>Test card <code>4242 4242 4242 4242</code> (nothing is charged).</p>\
{}<button class=\"confirm\" type=\"submit\" id=\"pay\">Pay {}</button></form>\
{}<button class=\"decline\" type=\"submit\">Cancel</button></form>",
            post_form(&format!("/checkout/{id_e}/pay"), csrf),
            usd(t.amount_cents),
            post_form(&format!("/checkout/{id_e}/cancel"), csrf),
        )
    } else {
        format!("<p id=\"status\">This top-up is <strong>{}</strong>.</p>", escape(&t.status))
    };
    Some(format!("{flash}<p>Add <strong>{}</strong> of OpenTrain credits.</p>{actions}", usd(t.amount_cents)))
}

async fn checkout_page(
    AxState(app): AxState<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let mut st = app.lock();
    money::expire_due(&mut st);
    let body = checkout_body(&st, &s.csrf, &id, "");
    drop(st);
    body.map(|b| page(StatusCode::OK, "Checkout", &b)).unwrap_or_else(not_found_page)
}

async fn checkout_pay(
    AxState(app): AxState<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    app.with(|st| {
        let flash = match money::complete_top_up(st, &id) {
            Ok(()) => "<p class=\"ok\" id=\"flash\">Payment complete: the credits are available.</p>".to_string(),
            Err(e) => format!("<p class=\"err\" id=\"flash\">{}</p>", escape(&e)),
        };
        checkout_body(st, &s.csrf, &id, &flash)
            .map(|b| page(StatusCode::OK, "Checkout", &b))
            .unwrap_or_else(not_found_page)
    })
}

async fn checkout_cancel(
    AxState(app): AxState<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    app.with(|st| {
        if let Some(t) = st.top_ups.get_mut(&id).filter(|t| t.status == "PENDING") {
            t.status = "CANCELED".into();
        }
        checkout_body(st, &s.csrf, &id, "<p id=\"flash\">Canceled.</p>")
            .map(|b| page(StatusCode::OK, "Checkout", &b))
            .unwrap_or_else(not_found_page)
    })
}

fn settings_body(st: &State, csrf: &str, org: &str, tab: &str, flash: &str) -> Option<String> {
    let a = st.accounts.get(org)?;
    let org_e = escape(org);
    if !a.claimed {
        return Some("<p class=\"err\">Claim this account first: settings belong to the human owner.</p>".into());
    }
    if tab == "api-keys" {
        let boxes: String = ALL_SCOPES
            .iter()
            .map(|s| format!("<label><input type=\"checkbox\" name=\"scope\" value=\"{s}\" checked> {s}</label><br>"))
            .collect();
        return Some(format!(
            "{flash}<h2>API keys</h2>{}\
<input type=\"hidden\" name=\"org\" value=\"{org_e}\"><p><label>Name <input name=\"name\" value=\"Agent (full access)\"></label></p>\
<p>{boxes}</p><button class=\"confirm\" type=\"submit\" id=\"create-key\">Create key</button></form>",
            post_form("/employer-settings/api-keys", csrf)
        ));
    }
    Some(format!(
        "{flash}<h2>Billing</h2><p>Card on file: <strong>{}</strong>. Credit balance: {} available, {} held.</p>\
{}<input type=\"hidden\" name=\"org\" value=\"{org_e}\">\
<button class=\"confirm\" type=\"submit\" id=\"add-card\">Add test card 4242</button></form>",
        if a.has_card { "Visa ending 4242" } else { "none" },
        usd(a.available_cents),
        usd(a.reserved_cents),
        post_form("/employer-settings/billing", csrf),
    ))
}

async fn settings_page(AxState(app): AxState<App>, Extension(s): Extension<Session>, req: Req) -> Response {
    let org = req.q("org").unwrap_or("").to_string();
    let tab = req.q("tab").unwrap_or("billing").to_string();
    let st = app.lock();
    settings_body(&st, &s.csrf, &org, &tab, "")
        .map(|b| page(StatusCode::OK, "Employer settings", &b))
        .unwrap_or_else(not_found_page)
}

async fn add_card(AxState(app): AxState<App>, Extension(s): Extension<Session>, req: Req) -> Response {
    let f = form(&req);
    let org = field(&f, "org").unwrap_or("").to_string();
    app.with(|st| {
        let claimed = st.accounts.get(&org).is_some_and(|a| a.claimed);
        if let Some(a) = st.accounts.get_mut(&org).filter(|_| claimed) {
            a.has_card = true;
        }
        let flash = if claimed { "<p class=\"ok\" id=\"flash\">Test card added.</p>" } else { "" };
        settings_body(st, &s.csrf, &org, "billing", flash)
            .map(|b| page(StatusCode::OK, "Employer settings", &b))
            .unwrap_or_else(not_found_page)
    })
}

async fn mint_key(AxState(app): AxState<App>, Extension(s): Extension<Session>, req: Req) -> Response {
    let f = form(&req);
    let org = field(&f, "org").unwrap_or("").to_string();
    let name = field(&f, "name")
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 120)
        .unwrap_or("API key")
        .to_string();
    let scopes: Vec<String> =
        f.iter().filter(|(k, v)| k == "scope" && ALL_SCOPES.contains(&v.as_str())).map(|(_, v)| v.clone()).collect();
    app.with(|st| {
        if !st.accounts.get(&org).is_some_and(|a| a.claimed) {
            return settings_body(st, &s.csrf, &org, "api-keys", "")
                .map(|b| page(StatusCode::FORBIDDEN, "Employer settings", &b))
                .unwrap_or_else(not_found_page);
        }
        if scopes.is_empty() {
            let b = settings_body(st, &s.csrf, &org, "api-keys", "<p class=\"err\">Pick at least one scope.</p>")
                .unwrap_or_default();
            return page(StatusCode::BAD_REQUEST, "Employer settings", &b);
        }
        let (secret, _) = mint_token(st, &org, &name, scopes, false, None);
        let flash = format!(
            "<p class=\"ok\">Key created. Copy it now: it is shown only once.</p><p><code id=\"token\">{}</code></p>",
            escape(&secret)
        );
        settings_body(st, &s.csrf, &org, "api-keys", &flash)
            .map(|b| page(StatusCode::OK, "Employer settings", &b))
            .unwrap_or_else(not_found_page)
    })
}

async fn draft_page(AxState(app): AxState<App>, req: Req) -> Response {
    let id = req.q("jobId").or(req.q("job")).unwrap_or("").to_string();
    let st = app.lock();
    let Some(job) = st.jobs.get(&id).filter(|j| j.account_id.is_some()) else { return not_found_page() };
    let rows: String = job
        .fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(k),
                escape(&v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            )
        })
        .collect();
    page(
        StatusCode::OK,
        &market::title_of(job),
        &format!("<p>Status: <strong>{}</strong></p><table>{rows}</table>", escape(&job.status)),
    )
}

async fn listing_page(AxState(app): AxState<App>, Path(id): Path<String>) -> Response {
    let st = app.lock();
    // Listing URLs are `/jobs/<id>` or `/jobs/<slug>-<id>`.
    let job =
        st.jobs.values().find(|j| j.published_ms.is_some() && (j.id == id || id.ends_with(&format!("-{}", j.id))));
    let Some(job) = job else { return not_found_page() };
    let text = job.fields.get("jobDescription").and_then(Value::as_str).unwrap_or("");
    page(
        StatusCode::OK,
        &market::title_of(job),
        &format!("<p>{} &middot; {}</p><p>{}</p>", escape(&job.company_name), escape(&job.status), escape(text)),
    )
}
