//! Agent auth (`/api/agent`: register, claim, token poll, revoke), the OAuth discovery documents,
//! `auth/me` and personal token management.

use axum::{
    Router,
    extract::{Path, State as AxState},
    http::StatusCode,
    response::Response,
    routing::{delete, get, post},
};
use serde_json::{Value, json};

use super::{
    App,
    http::{ApiErr, OAuthErr, Req, has_scope, ok, opt_str},
    state::{
        ALL_SCOPES, Account, CLAIM_ADDS, ClaimAttempt, DAY_MS, PRE_CLAIM_SCOPES, Registration, State, TokenRec,
        hash_secret, iso, random_code, random_hex,
    },
};

/// The claim grant type.
pub(crate) const GRANT: &str = "urn:opentrain:agent-auth:grant-type:claim";
const ACTIVE_TOKEN_CAP: usize = 25;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/agent/identity", post(register))
        .route("/api/agent/identity/claim", post(start_claim))
        .route("/api/agent/oauth/token", post(poll_token))
        .route("/api/agent/oauth/revoke", post(revoke_by_value))
        .route("/.well-known/oauth-protected-resource", get(protected_resource))
        .route("/.well-known/oauth-authorization-server", get(authorization_server))
        .route("/api/public/v1/auth/me", get(auth_me))
        .route("/api/public/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/public/v1/tokens/{token_id}", delete(revoke_token))
}

/// Creates an account (its owner is a new user).
pub(crate) fn new_account(st: &mut State, agent_name: Option<String>, org_name: Option<String>) -> String {
    let id = st.id("org");
    let owner = st.id("usr");
    let now = st.now();
    st.accounts.insert(
        id.clone(),
        Account {
            id: id.clone(),
            owner_user_id: owner,
            agent_name,
            org_name,
            claimed: false,
            email: None,
            has_card: false,
            available_cents: 0,
            reserved_cents: 0,
            publishes: Vec::new(),
            members: Vec::new(),
            created_ms: now,
        },
    );
    id
}

/// Mints a personal token and returns its secret (shown once) and id.
pub(crate) fn mint_token(
    st: &mut State,
    account_id: &str,
    name: &str,
    scopes: Vec<String>,
    pre_claim: bool,
    expires_ms: Option<i64>,
) -> (String, String) {
    let public = random_hex(4);
    let secret = format!("ot_pat_{public}_{}", random_hex(16));
    let id = st.id("tok");
    let preview = format!("ot_pat_{}********{}", &public[..4], &secret[secret.len() - 4..]);
    let now = st.now();
    st.tokens.push(TokenRec {
        id: id.clone(),
        hash: hash_secret(&secret),
        preview,
        name: name.to_string(),
        scopes,
        status: "active".into(),
        account_id: account_id.to_string(),
        pre_claim,
        created_ms: now,
        last_used_ms: None,
        expires_ms,
        revoked_ms: None,
    });
    (secret, id)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every scope a claimed agent gets from the token poll.
pub(crate) fn post_claim_scopes() -> Vec<String> {
    PRE_CLAIM_SCOPES.iter().chain(CLAIM_ADDS.iter()).map(|s| s.to_string()).collect()
}

async fn register(AxState(app): AxState<App>, req: Req) -> Response {
    app.open(|st| {
        let body = req.json_object(true).map_err(|e| OAuthErr::new("invalid_request", e.message))?;
        let text = |k: &str| -> Result<Option<String>, OAuthErr> {
            opt_str(&body, k).map_err(|_| OAuthErr::new("invalid_request", format!("`{k}` must be a string")))
        };
        match text("identity_type")?.as_deref() {
            None | Some("anonymous") => {}
            Some(other) => {
                return Err(OAuthErr::new(
                    "unsupported_identity_type",
                    format!("identity_type `{other}` is not supported; only `anonymous` is"),
                ));
            }
        }
        let account_id = new_account(st, text("agent_name")?, text("organization_name")?);
        let (access, _) = mint_token(st, &account_id, "Agent registration", strings(&PRE_CLAIM_SCOPES), true, None);
        let claim = format!("ot_clm_{}", random_hex(20));
        let reg_id = st.id("reg");
        let expires = st.now() + DAY_MS;
        st.registrations.push(Registration {
            id: reg_id.clone(),
            account_id,
            claim_hash: hash_secret(&claim),
            expires_ms: expires,
            attempt: None,
            last_poll_ms: None,
            interval_s: app.options.claim_poll_interval.as_secs(),
            delivered: false,
        });
        Ok::<_, OAuthErr>(ok(
            StatusCode::OK,
            json!({
                "identity_type": "anonymous",
                "registration_id": reg_id,
                "access_token": access,
                "token_type": "bearer",
                "scopes": PRE_CLAIM_SCOPES,
                "claim_token": claim,
                "claim_token_expires_at": iso(expires),
                "claim_endpoint": format!("{}/api/agent/identity/claim", app.base_url),
                "token_endpoint": format!("{}/api/agent/oauth/token", app.base_url),
                "grant_type": GRANT,
            }),
        ))
    })
}

fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c == ',')
        && e.len() <= 254
}

async fn start_claim(AxState(app): AxState<App>, req: Req) -> Response {
    app.open(|st| {
        let invalid = |d: &str| OAuthErr::new("invalid_request", d.to_string());
        let body = req.json_object(false).map_err(|e| invalid(&e.message))?;
        let claim = opt_str(&body, "claim_token").ok().flatten().ok_or_else(|| invalid("claim_token is required"))?;
        let email = opt_str(&body, "email").ok().flatten().ok_or_else(|| invalid("email is required"))?;
        let email = email.trim().to_string();
        if !plausible_email(&email) {
            return Err(invalid("email is not a valid email address"));
        }
        let hash = hash_secret(&claim);
        let now = st.now();
        let taken = st.accounts.values().any(|a| a.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)));
        let reg =
            st.registrations.iter_mut().find(|r| r.claim_hash == hash).ok_or_else(|| invalid("unknown claim_token"))?;
        if now >= reg.expires_ms {
            return Err(invalid("the claim window has expired; register again"));
        }
        if reg.delivered || reg.attempt.as_ref().is_some_and(|a| a.completed_ms.is_some()) {
            return Err(invalid("this account is already claimed"));
        }
        if taken {
            return Err(invalid("email_already_registered"));
        }
        let cat = format!("ot_cat_{}", random_hex(16));
        let code = random_code();
        reg.attempt = Some(ClaimAttempt {
            cat_hash: hash_secret(&cat),
            user_code: code.clone(),
            email,
            expires_ms: now + 1_800_000,
            completed_ms: None,
            failed_tries: 0,
        });
        Ok(ok(
            StatusCode::OK,
            json!({
                "user_code": code,
                "verification_uri": format!("{}/claim?token={cat}", app.base_url),
                "expires_in": 1800,
                "interval": reg.interval_s,
                // The sandbox sends no email: show the URL and code to the person yourself.
                "email_sent": false,
            }),
        ))
    })
}

async fn poll_token(AxState(app): AxState<App>, req: Req) -> Response {
    app.open(|st| {
        let form = req.form().ok_or_else(|| OAuthErr::new("invalid_request", "the body must be form-encoded"))?;
        let get = |k: &str| form.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let grant = get("grant_type").ok_or_else(|| OAuthErr::new("invalid_request", "grant_type is required"))?;
        if grant != GRANT {
            return Err(OAuthErr::new("unsupported_grant_type", format!("use grant_type={GRANT}")));
        }
        let claim = get("claim_token")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthErr::new("invalid_request", "claim_token is required"))?;
        let hash = hash_secret(&claim);
        let now = st.now();
        let idx = st
            .registrations
            .iter()
            .position(|r| r.claim_hash == hash)
            .ok_or_else(|| OAuthErr::new("invalid_grant", "unknown claim_token"))?;
        let reg = &mut st.registrations[idx];
        if reg.delivered {
            return Err(OAuthErr::new("invalid_grant", "the post-claim token was already delivered"));
        }
        let completed = reg.attempt.as_ref().is_some_and(|a| a.completed_ms.is_some());
        if !completed && now >= reg.expires_ms {
            return Err(OAuthErr::new("expired_token", "the claim window has closed; register again"));
        }
        if completed {
            reg.delivered = true;
            let account = reg.account_id.clone();
            let (token, _) = mint_token(st, &account, "Agent (claimed)", post_claim_scopes(), false, None);
            return Ok(ok(
                StatusCode::OK,
                json!({ "access_token": token, "token_type": "bearer", "scopes": post_claim_scopes() }),
            ));
        }
        let interval_ms = i64::try_from(reg.interval_s).unwrap_or(i64::MAX / 2_000) * 1000;
        let too_fast = interval_ms > 0 && reg.last_poll_ms.is_some_and(|last| now - last < interval_ms);
        reg.last_poll_ms = Some(now);
        if too_fast {
            reg.interval_s += 5; // RFC 8628 section 3.5
            return Err(OAuthErr {
                interval: Some(reg.interval_s),
                ..OAuthErr::new("slow_down", format!("poll at most every {} seconds", reg.interval_s))
            });
        }
        let description = match &reg.attempt {
            None => "no claim started yet: POST /api/agent/identity/claim with the human's email",
            Some(a) if now >= a.expires_ms => "this claim attempt expired; start a new one",
            Some(_) => "waiting for the human to enter the code",
        };
        Err(OAuthErr::new("authorization_pending", description))
    })
}

async fn revoke_by_value(AxState(app): AxState<App>, req: Req) -> Response {
    app.open(|st| {
        let form = req.form().ok_or_else(|| OAuthErr::new("invalid_request", "the body must be form-encoded"))?;
        let token = form
            .iter()
            .rev()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.clone())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthErr::new("invalid_request", "token is required"))?;
        let hash = hash_secret(&token);
        let now = st.now();
        if let Some(t) = st.tokens.iter_mut().find(|t| t.hash == hash && t.status == "active") {
            t.status = "revoked".into();
            t.revoked_ms = Some(now);
        }
        // Always `{}`: the answer never tells whether the token existed.
        Ok::<_, OAuthErr>(ok(StatusCode::OK, json!({})))
    })
}

async fn protected_resource(AxState(app): AxState<App>) -> Response {
    ok(
        StatusCode::OK,
        json!({
            "resource": format!("{}/api/public/v1", app.base_url),
            "authorization_servers": [app.base_url],
            "scopes_supported": ALL_SCOPES,
            "bearer_methods_supported": ["header"],
            "resource_documentation": format!("{}/", app.base_url),
        }),
    )
}

async fn authorization_server(AxState(app): AxState<App>) -> Response {
    let b = &app.base_url;
    ok(
        StatusCode::OK,
        json!({
            "issuer": b,
            "token_endpoint": format!("{b}/api/agent/oauth/token"),
            "revocation_endpoint": format!("{b}/api/agent/oauth/revoke"),
            "grant_types_supported": [GRANT],
            "scopes_supported": ALL_SCOPES,
            "agent_auth": {
                "identity_endpoint": format!("{b}/api/agent/identity"),
                "claim_endpoint": format!("{b}/api/agent/identity/claim"),
                "grant_type": GRANT,
                "interval": app.options.claim_poll_interval.as_secs(),
            },
        }),
    )
}

async fn auth_me(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        let acct = st.accounts.get(&cx.account_id).ok_or_else(|| {
            ApiErr::new(StatusCode::NOT_FOUND, "NOT_FOUND", "The token's user no longer exists.", None)
        })?;
        let tok = st.tokens.iter().find(|t| t.id == cx.token_id);
        Ok(ok(
            StatusCode::OK,
            json!({
                "actor": {
                    "userId": acct.owner_user_id,
                    "email": acct.email,
                    "firstName": Value::Null,
                    "lastName": Value::Null,
                    "fullName": acct.agent_name,
                    "userType": "EMPLOYER",
                },
                "token": {
                    "id": cx.token_id,
                    "label": tok.map(|t| t.name.clone()),
                    "scopes": cx.scopes,
                    "ownerOrganizationId": Value::Null,
                },
                "account": {
                    "kind": "employer_organization",
                    "organizationId": acct.id,
                    "ownerUserId": acct.owner_user_id,
                    "memberRole": "OWNER",
                },
            }),
        ))
    })
}

/// The documented token record (never the secret).
pub(crate) fn token_json(t: &TokenRec) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "preview": t.preview,
        "scopes": t.scopes,
        "status": t.status,
        "organizationId": Value::Null,
        "createdAt": iso(t.created_ms),
        "lastUsedAt": t.last_used_ms.map(iso),
        "expiresAt": t.expires_ms.map(iso),
        "revokedAt": t.revoked_ms.map(iso),
    })
}

fn expire_tokens(st: &mut State) {
    let now = st.now();
    for t in st.tokens.iter_mut().filter(|t| t.status == "active" && t.expires_ms.is_some_and(|e| e <= now)) {
        t.status = "expired".into();
    }
}

async fn list_tokens(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        expire_tokens(st);
        let tokens: Vec<Value> =
            st.tokens.iter().rev().filter(|t| t.account_id == cx.account_id).map(token_json).collect();
        Ok(ok(StatusCode::OK, json!({ "tokens": tokens })))
    })
}

async fn create_token(AxState(app): AxState<App>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        let body = req.json_object(true)?;
        let name = match opt_str(&body, "name")? {
            None => "API token".to_string(),
            Some(n) if n.trim().is_empty() || n.chars().count() > 120 => {
                return Err(ApiErr::field("name", "`name` must be 1 to 120 characters."));
            }
            Some(n) => n,
        };
        let scopes: Vec<String> = match body.get("scopes") {
            None | Some(Value::Null) => cx.scopes.clone(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for i in items {
                    match i.as_str() {
                        Some(s) if !out.iter().any(|o| o == s) => out.push(s.to_string()),
                        Some(_) => {}
                        None => return Err(ApiErr::field("scopes", "`scopes` must be an array of strings.")),
                    }
                }
                out
            }
            Some(_) => return Err(ApiErr::field("scopes", "`scopes` must be an array of strings.")),
        };
        let unknown: Vec<&String> = scopes.iter().filter(|s| !ALL_SCOPES.contains(&s.as_str())).collect();
        if !unknown.is_empty() {
            return Err(ApiErr::bad_request(
                "Unknown scopes.",
                json!({ "field": "scopes", "unknownScopes": unknown, "supportedScopes": ALL_SCOPES }),
            ));
        }
        let escalated: Vec<&String> = scopes.iter().filter(|s| !has_scope(&cx.scopes, s)).collect();
        if !escalated.is_empty() {
            return Err(ApiErr::forbidden(
                "A new token cannot have scopes the calling token lacks.",
                json!({ "requiredScopes": escalated, "grantedScopes": cx.scopes }),
            ));
        }
        let now = st.now();
        let expires = match opt_str(&body, "expiresAt")? {
            None => None,
            Some(s) => match super::state::parse_iso(&s) {
                Some(ms) if ms > now => Some(ms),
                _ => return Err(ApiErr::field("expiresAt", "`expiresAt` must be an ISO-8601 time in the future.")),
            },
        };
        expire_tokens(st);
        let active = st.tokens.iter().filter(|t| t.account_id == cx.account_id && t.status == "active").count();
        if active >= ACTIVE_TOKEN_CAP {
            return Err(ApiErr::conflict(
                "token_limit_reached",
                "An account can hold at most 25 active tokens; revoke one first.",
                json!({ "limit": ACTIVE_TOKEN_CAP }),
            ));
        }
        let pre_claim = !st.accounts.get(&cx.account_id).is_some_and(|a| a.claimed);
        let (secret, id) = mint_token(st, &cx.account_id, &name, scopes, pre_claim, expires);
        let rec = st.tokens.iter().find(|t| t.id == id).map(token_json).unwrap_or(Value::Null);
        Ok(ok(StatusCode::CREATED, json!({ "token": secret, "tokenType": "bearer", "metadata": rec })))
    })
}

async fn revoke_token(AxState(app): AxState<App>, Path(token_id): Path<String>, req: Req) -> Response {
    app.api(&req, |st, cx| {
        let now = st.now();
        let t = st.tokens.iter_mut().find(|t| t.id == token_id && t.account_id == cx.account_id).ok_or_else(|| {
            ApiErr::new(StatusCode::NOT_FOUND, "NOT_FOUND", "No such token.", Some(json!({ "tokenId": token_id })))
        })?;
        if t.status != "revoked" {
            t.status = "revoked".into();
            t.revoked_ms = Some(now);
        }
        Ok(ok(StatusCode::OK, json!({ "token": token_json(t) })))
    })
}

/// Completes a claim the person confirmed on the verification page: the account is claimed with
/// the attempt's email and every pre-claim token stops working at once.
pub(crate) fn complete_claim(st: &mut State, reg_index: usize) {
    let now = st.now();
    let Some(reg) = st.registrations.get_mut(reg_index) else { return };
    let Some(attempt) = reg.attempt.as_mut() else { return };
    attempt.completed_ms = Some(now);
    let email = attempt.email.clone();
    let account_id = reg.account_id.clone();
    if let Some(a) = st.accounts.get_mut(&account_id) {
        a.claimed = true;
        a.email = Some(email);
    }
    for t in st.tokens.iter_mut().filter(|t| t.account_id == account_id && t.pre_claim && t.status == "active") {
        t.status = "revoked".into();
        t.revoked_ms = Some(now);
    }
}
