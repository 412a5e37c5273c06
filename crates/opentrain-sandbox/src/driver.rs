//! [`Human`]: the person in front of the browser, played in-process for the tour, the tests and
//! anyone scripting the sandbox. It signs in through a one-time link and submits the sandbox's
//! real HTML forms with its session cookie and CSRF token, exactly as a person would; it has no
//! back door, so whatever it can do a person can do, and what it cannot do (confirm without a
//! session, from another origin, with an API token) nobody can.
//!
//! ```no_run
//! # async fn f(approval: opentrain::types::Approval) -> Result<(), Box<dyn std::error::Error>> {
//! use opentrain_sandbox::{PayWith, Sandbox, SandboxOptions};
//! let sandbox = Sandbox::start(SandboxOptions::default()).await?;
//! let human = sandbox.human().await?; // signs in with a fresh one-time link
//! human.confirm(&approval, PayWith::Credits).await?; // opens approvalUrl, presses Confirm
//! # Ok(()) }
//! ```

use std::{fmt, time::Duration};

use reqwest::{StatusCode, header};

use super::{Sandbox, session::COOKIE};
use opentrain::{Token, types};

/// Why the human could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HumanError {
    /// The request did not get an answer.
    #[error("{what}: {source}")]
    Http {
        /// What the human was doing.
        what: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The page answered, but not with what a person expects to see.
    #[error("{what}: the page answered {status}: {message}")]
    Page {
        /// What the human was doing.
        what: String,
        /// The page's HTTP status.
        status: u16,
        /// The page's own error message, or what was missing from it.
        message: String,
    },
    /// The link is not one of this sandbox's (the human only ever talks to its own sandbox on
    /// 127.0.0.1, so its session cookie cannot travel anywhere else).
    #[error("not a sandbox link on 127.0.0.1 or localhost: {0}")]
    Link(String),
    /// The browser could not be set up (its HTTP client did not build).
    #[error("start the browser: {0}")]
    Browser(#[from] opentrain::Error),
}

/// A page as the human's browser received it.
#[derive(Clone, Debug)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The HTML.
    pub html: String,
}

impl Page {
    /// The action of the first form whose action ends with `suffix`.
    pub fn form_action(&self, suffix: &str) -> Option<String> {
        self.form(suffix).map(|(action, _)| action)
    }

    /// The first `<code id="ID">` text, unescaped (where a page shows a minted key, say).
    pub fn code(&self, id: &str) -> Option<String> {
        between(&self.html, &format!("<code id=\"{id}\">"), "</code>").map(unescape)
    }

    /// The values of the checkboxes named `name`, in page order.
    pub fn checkboxes(&self, name: &str) -> Vec<String> {
        let key = format!("type=\"checkbox\" name=\"{name}\" value=\"");
        self.html.match_indices(&key).filter_map(|(i, _)| between(&self.html[i..], &key, "\"").map(unescape)).collect()
    }

    /// The page's error message (its first `class="err"` paragraph), if it shows one.
    pub fn error_message(&self) -> Option<String> {
        let at = self.html.find("class=\"err\"")?;
        between(&self.html[at..], ">", "</p>").map(|m| unescape(&strip_tags(m)))
    }

    /// The form whose action ends with `suffix`: its action and its hidden fields.
    fn form(&self, suffix: &str) -> Option<(String, Vec<(String, String)>)> {
        self.html.match_indices("<form ").find_map(|(i, _)| {
            let form = &self.html[i..i + self.html[i..].find("</form>").unwrap_or(self.html.len() - i)];
            let action = unescape(between(form, "action=\"", "\"")?);
            if !action.ends_with(suffix) {
                return None;
            }
            let key = "type=\"hidden\" name=\"";
            let hidden = form
                .match_indices(key)
                .filter_map(|(j, _)| {
                    let rest = &form[j + key.len()..];
                    let name = &rest[..rest.find('"')?];
                    let value = between(rest, "value=\"", "\"")?;
                    Some((unescape(name), unescape(value)))
                })
                .collect();
            Some((action, hidden))
        })
    }
}

/// How the human pays on an approval page that charges money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayWith {
    /// The account's credit balance.
    Credits,
    /// The card on file (add one with [`Human::add_card`]).
    Card,
}

impl PayWith {
    fn field(self) -> &'static str {
        match self {
            PayWith::Credits => "credits",
            PayWith::Card => "card",
        }
    }
}

/// A person signed in to one sandbox's human pages, submitting their forms as a browser would.
pub struct Human {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl fmt::Debug for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cookie and CSRF token are the person's credentials: never printed.
        f.debug_struct("Human").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A person signed in to this sandbox through a fresh one-time link, in-process.
    pub async fn human(&self) -> Result<Human, HumanError> {
        Human::sign_in(&self.sign_in_link()).await
    }
}

impl Human {
    /// Opens a one-time sign-in link (from [`Sandbox::sign_in_link`], or the one a sandbox binary
    /// printed on its console) and keeps the session it opens.
    pub async fn sign_in(link: &str) -> Result<Human, HumanError> {
        let base = loopback_origin(link).ok_or_else(|| HumanError::Link(link.to_string()))?;
        // No proxy may see (or break) traffic to 127.0.0.1, and no redirect is followed blindly:
        // the sign-in answer carries the cookie on the redirect itself.
        let http = opentrain::http_client_builder()?
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| HumanError::Http { what: "start the browser".into(), source })?;
        let what = "open the sign-in link";
        let res = http.get(link).send().await.map_err(|source| HumanError::Http { what: what.into(), source })?;
        let status = res.status();
        let cookie = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.split(';').next()?.trim().strip_prefix(COOKIE)?.strip_prefix('=').map(str::to_string))
            .filter(|c| !c.is_empty());
        let Some(cookie) = cookie.filter(|_| status == StatusCode::SEE_OTHER) else {
            let html = res.text().await.unwrap_or_default();
            let page = Page { status: status.as_u16(), html };
            return Err(HumanError::Page {
                what: what.into(),
                status: page.status,
                message: page.error_message().unwrap_or_else(|| "no session was opened".into()),
            });
        };
        let mut human = Human { http, base, cookie, csrf: String::new() };
        let account = human.open("/account", "open the account page").await?;
        human.csrf = account
            .form("/sign-out")
            .and_then(|(_, hidden)| hidden.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v))
            .ok_or_else(|| HumanError::Page {
                what: "open the account page".into(),
                status: account.status,
                message: "no CSRF token on the page".into(),
            })?;
        Ok(human)
    }

    /// The sandbox's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// This session's CSRF token, for a hand-built [`post`](Self::post); forms opened with
    /// [`submit`](Self::submit) carry it already.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    fn url(&self, path_or_url: &str) -> Result<String, HumanError> {
        if path_or_url.starts_with('/') && !path_or_url.starts_with("//") {
            return Ok(format!("{}{path_or_url}", self.base));
        }
        match loopback_origin(path_or_url) {
            Some(origin) if origin == self.base => Ok(path_or_url.to_string()),
            _ => Err(HumanError::Link(path_or_url.to_string())),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<Page, HumanError> {
        let http = |source| HumanError::Http { what: what.to_string(), source };
        let res = req.header(header::COOKIE, format!("{COOKIE}={}", self.cookie)).send().await.map_err(http)?;
        let status = res.status().as_u16();
        Ok(Page { status, html: res.text().await.map_err(http)? })
    }

    /// Opens a page (a path on the sandbox or one of its URLs), whatever its status.
    pub async fn get(&self, path_or_url: &str) -> Result<Page, HumanError> {
        let url = self.url(path_or_url)?;
        self.send(self.http.get(&url), &format!("open {path_or_url}")).await
    }

    /// Posts exactly `fields` to `path_or_url` with the session cookie, whatever the answer: a
    /// hand-built form, as a page could send. Add `("csrf", human.csrf())` for one the sandbox
    /// accepts.
    pub async fn post(&self, path_or_url: &str, fields: &[(&str, &str)]) -> Result<Page, HumanError> {
        let url = self.url(path_or_url)?;
        self.send(self.http.post(&url).form(fields), &format!("submit {path_or_url}")).await
    }

    /// Opens `page_url` and submits its form whose action ends with `suffix`, as a browser does:
    /// the form's hidden fields (its CSRF token among them) plus `fields`, which replace hidden
    /// fields of the same name. Returns the answer whatever its status; opening the page must
    /// succeed.
    pub async fn submit(&self, page_url: &str, suffix: &str, fields: &[(&str, &str)]) -> Result<Page, HumanError> {
        let page = self.open(page_url, &format!("open {page_url}")).await?;
        let (action, hidden) = page.form(suffix).ok_or_else(|| HumanError::Page {
            what: format!("open {page_url}"),
            status: page.status,
            message: format!("no form posting to *{suffix}"),
        })?;
        let mut form: Vec<(&str, &str)> = hidden
            .iter()
            .filter(|(k, _)| !fields.iter().any(|(f, _)| f == k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        form.extend_from_slice(fields);
        self.post(&action, &form).await
    }

    /// Opens a page that must answer 200.
    async fn open(&self, path_or_url: &str, what: &str) -> Result<Page, HumanError> {
        let page = self.get(path_or_url).await?;
        expect(page, what, 200, "")
    }

    /// Types the code the agent showed on the claim verification page.
    pub async fn claim(&self, attempt: &types::ClaimAttempt) -> Result<(), HumanError> {
        self.claim_at(&attempt.verification_uri, &attempt.user_code).await.map(drop)
    }

    /// Opens a claim link (the `verificationUri` an agent printed) and types `user_code`; returns
    /// the organization the person now owns, as the confirmation page names it.
    pub async fn claim_at(&self, verification_uri: &str, user_code: &str) -> Result<Option<String>, HumanError> {
        let page = self.submit(verification_uri, "/claim", &[("user_code", user_code)]).await?;
        let page = expect(page, "claim the account", 200, "you own this account")?;
        Ok(between(&page.html, "tab=billing&amp;org=", "\"").map(unescape))
    }

    /// Opens the approval page and presses Confirm, paying `with` when the action costs money.
    pub async fn confirm(&self, approval: &types::Approval, with: PayWith) -> Result<(), HumanError> {
        self.confirm_at(approval_url(approval)?, with).await
    }

    /// [`confirm`](Self::confirm) for an approval page given by its URL (the `approvalUrl` an
    /// agent printed) or its path on this sandbox.
    pub async fn confirm_at(&self, approval_url: &str, with: PayWith) -> Result<(), HumanError> {
        let page = self.submit(approval_url, "/confirm", &[("source", with.field())]).await?;
        expect(page, "confirm the approval", 200, "Confirmed.").map(drop)
    }

    /// Opens the approval page and presses Decline: nothing is carried out.
    pub async fn decline(&self, approval: &types::Approval) -> Result<(), HumanError> {
        self.decline_at(approval_url(approval)?).await
    }

    /// [`decline`](Self::decline) for an approval page given by its URL or path.
    pub async fn decline_at(&self, approval_url: &str) -> Result<(), HumanError> {
        let page = self.submit(approval_url, "/decline", &[]).await?;
        expect(page, "decline the approval", 200, "Declined.").map(drop)
    }

    /// Pays a credit top-up on its checkout page with the test card.
    pub async fn pay(&self, checkout_url: &str) -> Result<(), HumanError> {
        let page = self.submit(checkout_url, "/pay", &[]).await?;
        expect(page, "pay the top-up", 200, "Payment complete").map(drop)
    }

    /// Adds the test card to the account `org` on its billing page.
    pub async fn add_card(&self, org: &str) -> Result<(), HumanError> {
        let page = self.submit(&settings(org, "billing"), "/billing", &[]).await?;
        expect(page, "add a test card", 200, "Test card added").map(drop)
    }

    /// Mints an API key for `org` with `scopes` on the API keys page and copies the key it shows
    /// once.
    pub async fn mint_key(&self, org: &str, name: &str, scopes: &[&str]) -> Result<Token, HumanError> {
        let mut fields = vec![("name", name)];
        fields.extend(scopes.iter().map(|s| ("scope", *s)));
        let page = self.submit(&settings(org, "api-keys"), "/api-keys", &fields).await?;
        let page = expect(page, "mint a key", 200, "Key created")?;
        let key = page.code("token").ok_or_else(|| HumanError::Page {
            what: "mint a key".into(),
            status: page.status,
            message: "no key on the page".into(),
        })?;
        Ok(Token::new(key))
    }

    /// Mints a key with every scope the API keys page offers (`payments:write` and
    /// `webhooks:manage` come only from such a key, as in the real app).
    pub async fn mint_full_key(&self, org: &str) -> Result<Token, HumanError> {
        let page = self.open(&settings(org, "api-keys"), "open the API keys page").await?;
        let scopes = page.checkboxes("scope");
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.mint_key(org, "Agent (full access)", &scopes).await
    }
}

fn settings(org: &str, tab: &str) -> String {
    let org: String = url_encode(org);
    format!("/employer-settings?tab={tab}&org={org}")
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn approval_url(approval: &types::Approval) -> Result<&str, HumanError> {
    approval.approval_url.as_deref().ok_or_else(|| HumanError::Page {
        what: "open the approval".into(),
        status: 0,
        message: "the approval has no approvalUrl".into(),
    })
}

/// `page` when it has `status` and shows `text`; otherwise the page's own complaint.
fn expect(page: Page, what: &str, status: u16, text: &str) -> Result<Page, HumanError> {
    if page.status == status && page.html.contains(text) {
        return Ok(page);
    }
    let message = page.error_message().unwrap_or_else(|| format!("the page does not say {text:?}"));
    Err(HumanError::Page { what: what.into(), status: page.status, message })
}

/// `http://127.0.0.1:PORT` or `http://localhost:PORT` of a URL on the loopback address.
fn loopback_origin(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (name, port) = host.rsplit_once(':')?;
    let loopback = name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost");
    (loopback && port.parse::<u16>().is_ok()).then(|| format!("http://{host}"))
}

/// The text between the first `start` and the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let at = html.find(start)? + start.len();
    Some(&html[at..at + html[at..].find(end)?])
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}
