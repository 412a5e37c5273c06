//! The wire conventions every route shares: the two error shapes, request parsing that never
//! answers in a shape the spec does not declare, bearer authentication and the scope, feature and
//! claim gates.

use axum::{
    body::Bytes,
    extract::FromRequest,
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{
    App,
    state::{State, hash_secret, random_hex},
};

/// A Public API error: the documented envelope `{error, code, requestId, details?}`.
#[derive(Debug)]
pub(crate) struct ApiErr {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiErr {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>, details: Option<Value>) -> Self {
        Self { status, code, message: message.into(), details }
    }
    pub fn bad_request(message: impl Into<String>, details: Value) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message, Some(details))
    }
    /// A 400 naming the offending field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::bad_request(message, json!({ "field": field }))
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message, None)
    }
    pub fn forbidden(message: impl Into<String>, details: Value) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message, Some(details))
    }
    /// 404 with `details {resource, <idKey>: id}`, the documented not-found shape.
    pub fn not_found(resource: &str, id_key: &str, id: &str) -> Self {
        let mut d = Map::new();
        d.insert("resource".into(), resource.into());
        d.insert(id_key.into(), id.into());
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("No such {} `{id}`.", singular(resource)), Some(d.into()))
    }
    pub fn conflict(reason: &str, message: impl Into<String>, extra: Value) -> Self {
        let mut d = Map::new();
        d.insert("reason".into(), reason.into());
        if let Value::Object(m) = extra {
            d.extend(m);
        }
        Self::new(StatusCode::CONFLICT, "CONFLICT", message, Some(d.into()))
    }
}

fn singular(resource: &str) -> String {
    let r = resource.replace('-', " ");
    r.strip_suffix('s').map(str::to_string).unwrap_or(r)
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        let request_id = format!("req_{}", random_hex(12));
        let mut body = json!({ "error": self.message, "code": self.code, "requestId": request_id });
        if let (Some(d), Value::Object(m)) = (self.details, &mut body) {
            m.insert("details".into(), d);
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            res.headers_mut().insert("x-request-id", v);
        }
        res
    }
}

/// An `/api/agent` error in OAuth shape `{error, error_description, interval?}`.
#[derive(Debug)]
pub(crate) struct OAuthErr {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub interval: Option<u64>,
}

impl OAuthErr {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error, description: description.into(), interval: None }
    }
}

impl IntoResponse for OAuthErr {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error, "error_description": self.description });
        if let (Some(i), Value::Object(m)) = (self.interval, &mut body) {
            m.insert("interval".into(), i.into());
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        // RFC 6749 section 5.2: token endpoint errors must not be cached.
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// A JSON success.
pub(crate) fn ok(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// What every handler reads from a request: headers, query pairs and the raw body. Parsing the
/// body here (instead of axum's `Json`) keeps every rejection in the documented error envelope.
pub(crate) struct Req {
    pub headers: HeaderMap,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Response;

    async fn from_request(req: Request<axum::body::Body>, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let query = match req.uri().query() {
            None => Vec::new(),
            Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q).map_err(|_| {
                ApiErr::bad_request("The query string is not valid URL encoding.", json!({ "field": "query" }))
                    .into_response()
            })?,
        };
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            ApiErr::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_REQUEST",
                format!("The request body could not be read: {e}"),
                None,
            )
            .into_response()
        })?;
        Ok(Req { headers, query, body })
    }
}

impl Req {
    /// The last value of a query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The JSON object body; an empty body counts as `{}` where `empty_ok`.
    pub fn json_object(&self, empty_ok: bool) -> Result<Map<String, Value>, ApiErr> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return if empty_ok {
                Ok(Map::new())
            } else {
                Err(ApiErr::bad_request(
                    "A JSON body is required.",
                    json!({ "issues": [{"message": "body is empty"}] }),
                ))
            };
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ApiErr::bad_request(
                "The body must be a JSON object.",
                json!({ "issues": [{"path": [], "message": "expected object"}] }),
            )),
            Err(e) => Err(ApiErr::bad_request(
                "The body is not valid JSON.",
                json!({ "issues": [{"path": [], "message": e.to_string()}] }),
            )),
        }
    }

    /// A form body (`application/x-www-form-urlencoded`) as pairs.
    pub fn form(&self) -> Option<Vec<(String, String)>> {
        serde_urlencoded::from_bytes(&self.body).ok()
    }
}

/// The caller behind a valid bearer token.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub account_id: String,
    pub token_id: String,
    pub scopes: Vec<String>,
}

impl Ctx {
    /// Whether the token holds `scope` (`:write` implies the matching `:read`).
    pub fn has(&self, scope: &str) -> bool {
        has_scope(&self.scopes, scope)
    }

    /// 403 unless the token holds `scope`.
    pub fn need(&self, scope: &str) -> Result<(), ApiErr> {
        if self.has(scope) {
            return Ok(());
        }
        Err(ApiErr::forbidden(
            format!("This token lacks the `{scope}` scope."),
            json!({ "requiredScopes": [scope], "grantedScopes": self.scopes }),
        ))
    }
}

/// Whether `scopes` covers `scope`.
pub(crate) fn has_scope(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
        || scope.strip_suffix(":read").is_some_and(|res| scopes.iter().any(|s| *s == format!("{res}:write")))
}

/// Resolves the bearer token to its account, or the documented 401.
pub(crate) fn authenticate(st: &mut State, headers: &HeaderMap) -> Result<Ctx, ApiErr> {
    let raw = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(secret) = raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).map(str::trim) else {
        return Err(ApiErr::unauthorized("Missing bearer token: send `Authorization: Bearer ot_pat_...`."));
    };
    let hash = hash_secret(secret);
    let now = st.now();
    let Some(tok) = st.tokens.iter_mut().find(|t| t.hash == hash) else {
        return Err(ApiErr::unauthorized("The token is invalid."));
    };
    if tok.status == "active" && tok.expires_ms.is_some_and(|e| e <= now) {
        tok.status = "expired".into();
    }
    if tok.status != "active" {
        return Err(ApiErr::unauthorized(format!("The token is {}.", tok.status)));
    }
    tok.last_used_ms = Some(now);
    Ok(Ctx { account_id: tok.account_id.clone(), token_id: tok.id.clone(), scopes: tok.scopes.clone() })
}

impl App {
    /// 403 when the feature flag is turned off for this sandbox.
    pub(crate) fn feature(&self, key: &str) -> Result<(), ApiErr> {
        if self.options.disabled_features.iter().any(|f| f == key) {
            return Err(ApiErr::forbidden(
                format!("The `{key}` feature is not enabled for this account."),
                json!({ "featureKey": key, "mode": "ALLOWLIST" }),
            ));
        }
        Ok(())
    }

    /// 403 `account_claim_required` unless a human has claimed the account. Claim-gated routes
    /// check this before scopes: claiming is what grants the missing write scopes, so it is the
    /// answer an agent can act on.
    pub(crate) fn claimed(&self, st: &State, cx: &Ctx, action: &str) -> Result<(), ApiErr> {
        if st.accounts.get(&cx.account_id).is_some_and(|a| a.claimed) {
            return Ok(());
        }
        Err(ApiErr::forbidden(
            format!("Claim this account before you {action}."),
            json!({ "reason": "account_claim_required", "action": action, "claimUrl": format!("{}/claim", self.base_url) }),
        ))
    }
}

/// Parses the `limit` query parameter within `min..=max`, or the documented 400.
pub(crate) fn limit(req: &Req, default: usize, max: usize) -> Result<usize, ApiErr> {
    match req.q("limit") {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 && n as usize <= max => Ok(n as usize),
            _ => Err(ApiErr::bad_request(
                format!("`limit` must be an integer from 1 to {max}."),
                json!({ "field": "limit" }),
            )),
        },
    }
}

/// An opaque offset cursor (`o<offset>`), or the documented 400.
pub(crate) fn offset_cursor(req: &Req) -> Result<usize, ApiErr> {
    match req.q("cursor") {
        None | Some("") => Ok(0),
        Some(c) => c
            .strip_prefix('o')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| ApiErr::field("cursor", "`cursor` is not a cursor this API returned.")),
    }
}

/// One page of `items` from `offset`, and the cursor of the next page.
pub(crate) fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Value) {
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = if offset + limit < total { Value::from(format!("o{}", offset + limit)) } else { Value::Null };
    (out, next)
}

/// A boolean query flag: `true` or `1`.
pub(crate) fn flag(req: &Req, name: &str) -> Result<bool, ApiErr> {
    match req.q(name) {
        None => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(ApiErr::field(name, format!("`{name}` must be true or false."))),
    }
}

/// Rounds dollars to cents.
pub(crate) fn cents(usd: f64) -> i64 {
    (usd * 100.0).round() as i64
}

/// An optional string field of a JSON body, 400 when present with another type.
pub(crate) fn opt_str(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiErr> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiErr::field(key, format!("`{key}` must be a string."))),
    }
}

/// An optional number field of a JSON body, 400 when present with another type.
pub(crate) fn opt_num(body: &Map<String, Value>, key: &str) -> Result<Option<f64>, ApiErr> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| ApiErr::field(key, format!("`{key}` must be a number."))),
    }
}
