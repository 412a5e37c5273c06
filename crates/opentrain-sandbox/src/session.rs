//! Who may use the human pages: a person signed in through a one-time link that the sandbox's
//! operator prints on its console, never an agent holding an API token, never a page from another
//! origin and never a request sent to a name other than the sandbox's own loopback address.
//!
//! The agent under test shares the machine with the sandbox, so anything it can reach over HTTP
//! must not be able to co-sign a move of money: the sign-in link is handed out only in-process
//! ([`Sandbox::sign_in_link`]), sessions live in memory only (never in the state file), every
//! human form carries a per-session CSRF token, and the Host and Origin checks run before any
//! handler looks anything up.

use std::collections::{HashMap, HashSet};

use axum::{
    body::Body,
    extract::{Request, State as AxState},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::{
    App, Sandbox,
    http::ApiErr,
    state::{hash_secret, random_hex},
};

/// The session cookie of the person using the human pages.
pub(crate) const COOKIE: &str = "ot_sandbox_session";

/// Form bodies of the human pages are a few fields; anything larger is not a person's form.
const FORM_LIMIT: usize = 64 * 1024;

/// One-time sign-in links not used yet and open sessions, all by SHA-256 of their secret so a
/// memory dump or a Debug print shows nothing usable.
#[derive(Default)]
pub(crate) struct Sessions {
    links: HashSet<String>,
    open: HashMap<String, Session>,
}

/// A signed-in person, as the human pages see them.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// The CSRF token every form of this session carries and every POST must echo.
    pub csrf: String,
}

impl Sandbox {
    /// A fresh one-time link that signs a person in to the sandbox's human pages (claim, approvals,
    /// checkout, billing, API keys). Give it to the person, on a console the agent under test does
    /// not read; no API call ever returns it. Opening it sets an HttpOnly, SameSite=Strict session
    /// cookie; the link then stops working. Every call mints a new link.
    pub fn sign_in_link(&self) -> String {
        let secret = random_hex(32);
        self.app.sessions().links.insert(hash_secret(&secret));
        format!("{}/sign-in?token={secret}", self.app.base_url)
    }

    /// The console line that tells the person how to sign in, with a fresh one-time link.
    pub fn sign_in_notice(&self) -> String {
        format!(
            "Human pages (claim, approvals, checkout, billing, API keys): open this one-time sign-in link in your \
browser first; do not give it to the agent:\n  {}",
            self.sign_in_link()
        )
    }
}

impl App {
    pub(crate) fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `host` (a Host header or URL authority) names this sandbox: `127.0.0.1:PORT` or
    /// `localhost:PORT`. Any other name reaching a loopback socket is DNS rebinding.
    fn own_host(&self, host: &str) -> bool {
        let port = self.port;
        host.eq_ignore_ascii_case(&format!("127.0.0.1:{port}"))
            || host.eq_ignore_ascii_case(&format!("localhost:{port}"))
    }

    /// Whether `origin` (`scheme://host:port`) is one of this sandbox's own.
    fn own_origin(&self, origin: &str) -> bool {
        origin.strip_prefix("http://").is_some_and(|host| self.own_host(host))
    }
}

/// Every route: 403 unless the request names the sandbox itself as its host.
pub(crate) async fn host_gate(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()));
    if host.as_deref().is_some_and(|h| app.own_host(h)) {
        return next.run(req).await;
    }
    let message = format!("This sandbox answers only to {} (or localhost with its port).", app.base_url);
    if req.uri().path().starts_with("/api/") {
        ApiErr::forbidden(message, json!({ "reason": "foreign_host" })).into_response()
    } else {
        super::pages::notice(StatusCode::FORBIDDEN, "Wrong address", &message)
    }
}

/// The human pages: origin, token, session and CSRF checks, in that order, before the handler.
pub(crate) async fn human_gate(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD);
    if let Err(why) = same_origin(&app, req.headers(), unsafe_method) {
        return super::pages::notice(StatusCode::FORBIDDEN, "Refused", why);
    }
    if req.headers().contains_key(header::AUTHORIZATION) {
        return super::pages::notice(
            StatusCode::FORBIDDEN,
            "Refused",
            "API tokens cannot act on the human pages: a person signs in with the link the sandbox printed on its console.",
        );
    }
    let session = cookie(req.headers()).and_then(|c| app.sessions().open.get(&hash_secret(&c)).cloned());
    let Some(session) = session else {
        return super::pages::sign_in_required(req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    };
    let mut req = req;
    if unsafe_method {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return super::pages::notice(StatusCode::PAYLOAD_TOO_LARGE, "Refused", "This form is too large.");
        };
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields.iter().rev().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())) {
            return super::pages::notice(
                StatusCode::FORBIDDEN,
                "Refused",
                "This form did not come from a page of this sandbox (missing or wrong CSRF token). Reload the page and try again.",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// A foreign `Origin` is refused on every method; without one, a foreign `Referer` is refused on
/// a form post (older browsers and some privacy settings omit `Origin`).
fn same_origin(app: &App, headers: &HeaderMap, unsafe_method: bool) -> Result<(), &'static str> {
    const FOREIGN: &str = "This request came from a page outside this sandbox.";
    if let Some(origin) = headers.get(header::ORIGIN) {
        return match origin.to_str() {
            Ok(o) if app.own_origin(o) => Ok(()),
            _ => Err(FOREIGN),
        };
    }
    if unsafe_method && let Some(referer) = headers.get(header::REFERER) {
        let origin = referer.to_str().ok().and_then(|r| {
            let rest = r.strip_prefix("http://")?;
            Some(format!("http://{}", &rest[..rest.find('/').unwrap_or(rest.len())]))
        });
        if !origin.is_some_and(|o| app.own_origin(&o)) {
            return Err(FOREIGN);
        }
    }
    Ok(())
}

/// The session cookie's value, if the request carries one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('=').map(str::to_string))
        .filter(|v| !v.is_empty())
}

/// `GET /sign-in?token=...`: trades a one-time link for a session cookie.
pub(crate) async fn sign_in(AxState(app): AxState<App>, req: super::http::Req) -> Response {
    let token = req.q("token").unwrap_or("");
    let known = !token.is_empty() && app.sessions().links.remove(&hash_secret(token));
    if !known {
        return super::pages::notice(
            StatusCode::FORBIDDEN,
            "Sign-in link not valid",
            "This sign-in link is unknown or was used already. Each link works once; the sandbox prints one when it starts.",
        );
    }
    let value = random_hex(32);
    app.sessions().open.insert(hash_secret(&value), Session { csrf: random_hex(32) });
    let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, "/account")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/")) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `POST /sign-out`: ends the session and clears the cookie.
pub(crate) async fn sign_out(AxState(app): AxState<App>, req: Request) -> Response {
    if let Some(c) = cookie(req.headers()) {
        app.sessions().open.remove(&hash_secret(&c));
    }
    let mut res = super::pages::notice(StatusCode::OK, "Signed out", "You are signed out of this sandbox.");
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
