//! The one error type every call returns, and the conversion from progenitor's generated errors.

use std::{fmt, time::Duration};

use serde_json::{Map, Value};

use crate::{
    call,
    generated::{meta::OperationId, types},
    redact::redact,
    requires::{ErrorCode, ErrorReason},
};

/// How much of an unparseable body an error keeps: enough to recognise an HTML error page.
const SNIPPET_CHARS: usize = 200;

/// Everything that can go wrong talking to OpenTrain.
///
/// Match on the variant to decide what to do; `Display` gives a one-line message that never
/// contains a token.
///
/// ```
/// # fn handle(e: opentrain::Error) {
/// match e {
///     opentrain::Error::Api(api) if api.reason() == Some("account_claim_required") => {
///         println!("a human must claim the account at {}", api.claim_url().unwrap_or("the app"));
///     }
///     other => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Public API answered with its error envelope.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// An `/api/agent` endpoint answered with an OAuth error (`authorization_pending`, ...).
    #[error("{0}")]
    OAuth(Box<OAuthError>),
    /// The request never produced a response, after every attempt the retry policy allowed.
    #[error("request failed after {attempts} attempt{}: {message}{}", plural(*attempts), unknown_note(*outcome_unknown))]
    Transport {
        /// How many times the request was sent.
        attempts: u32,
        /// What failed, with the source chain flattened.
        message: String,
        /// A write may have reached the server: see [`Error::outcome_unknown`].
        outcome_unknown: bool,
    },
    /// The call ran out of time: an attempt hit its timeout or the call's deadline (see
    /// [`ClientBuilder::deadline`](crate::ClientBuilder::deadline) and [`within`](crate::within)).
    #[error("{}{}", timed_out(*attempts), unknown_note(*outcome_unknown))]
    Timeout {
        /// How many times the request was sent; 0 when the deadline passed before the first.
        attempts: u32,
        /// A write may have reached the server: see [`Error::outcome_unknown`].
        outcome_unknown: bool,
    },
    /// A response arrived but was not what the spec describes (not JSON, or the wrong shape).
    #[error("invalid response{}: {reason}{}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(), body_starts(snippet))]
    InvalidResponse {
        /// HTTP status, when known.
        status: Option<u16>,
        /// Why it could not be used.
        reason: String,
        /// The first characters of the body, tokens redacted.
        snippet: String,
    },
    /// The request could not be built from the arguments given (a missing or invalid parameter).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Missing or unusable local configuration: no token, a corrupt credentials file, ...
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A bounded wait (claim ceremony, approval) ran out of time before reaching a final state.
    #[error("gave up waiting for {what} after {}s (last state: {last_state})", waited.as_secs())]
    WaitTimedOut {
        /// What was waited for.
        what: String,
        /// How long it waited.
        waited: Duration,
        /// The last state seen.
        last_state: String,
    },
}

fn body_starts(snippet: &str) -> String {
    if snippet.is_empty() { String::new() } else { format!("; body starts: {snippet:?}") }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn timed_out(attempts: u32) -> String {
    if attempts == 0 {
        "the call's deadline passed before the request was sent (nothing was sent)".into()
    } else {
        format!("request timed out after {attempts} attempt{}", plural(attempts))
    }
}

fn unknown_note(unknown: bool) -> &'static str {
    // Retrying blindly could hire twice or create a second draft; the caller must look first.
    if unknown {
        " (the write may have reached OpenTrain: check whether it took effect before sending it again)"
    } else {
        ""
    }
}

/// A documented value typed, any other kept verbatim.
fn open_value<T: std::str::FromStr>(s: &str) -> crate::OpenEnum<T> {
    s.parse().map(crate::OpenEnum::Known).unwrap_or_else(|_| crate::OpenEnum::Unknown(s.to_string()))
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A Public API error envelope `{error, code, requestId, details}` with its HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Machine-readable code such as `FORBIDDEN`; empty when the server sent none.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The request id to quote to support.
    pub request_id: Option<String>,
    /// Endpoint-specific context, kept whole.
    pub details: Option<Map<String, Value>>,
    /// Seconds from a `Retry-After` header, when the server sent one.
    pub retry_after: Option<u64>,
    /// The operation that failed, when known: a 403 then names what it needs.
    pub operation: Option<OperationId>,
    /// The token's scopes as an earlier `auth/me` through the same client reported them (no
    /// extra call is made), so a 403 can say which scope the token lacks.
    pub granted_scopes: Option<Vec<String>>,
}

impl ApiError {
    fn detail_str(&self, key: &str) -> Option<&str> {
        self.details.as_ref()?.get(key)?.as_str()
    }

    /// `details.reason`, the fine-grained discriminator (`account_claim_required`, ...).
    pub fn reason(&self) -> Option<&str> {
        self.detail_str("reason")
    }

    /// `code`, typed: a documented one is `Known`, any other kept verbatim; `None` when empty.
    pub fn code_typed(&self) -> Option<ErrorCode> {
        (!self.code.is_empty()).then(|| open_value(&self.code))
    }

    /// `details.reason`, typed: a documented one is `Known`, any other kept verbatim.
    pub fn reason_typed(&self) -> Option<ErrorReason> {
        self.reason().map(open_value)
    }

    fn detail_list(&self, key: &str) -> Option<Vec<String>> {
        let list = self.details.as_ref()?.get(key)?.as_array()?;
        Some(list.iter().filter_map(|v| v.as_str().map(String::from)).collect())
    }

    /// For a 403, what the operation needs that the caller seems to lack, in words: the feature
    /// the server named, the claim, or the scopes missing from the token's scopes (from
    /// `details.grantedScopes`, else from an earlier `auth/me`); failing that, everything the
    /// operation needs. `None` for other statuses, for a 403 whose documented reason is not a
    /// requirement (moderation, policy), or when the operation is unknown.
    ///
    /// ```
    /// # fn f(e: &opentrain::ApiError) {
    /// if let Some(why) = e.missing_requirement() {
    ///     eprintln!("{why}"); // e.g. "the token lacks team:read (get_team needs team:read + the public_api_team feature)"
    /// }
    /// # }
    /// ```
    pub fn missing_requirement(&self) -> Option<String> {
        if self.status != 403 {
            return None;
        }
        let op = self.operation?;
        let req = op.requires();
        let needs = format!("{} needs {}", op.id(), req.summary());
        if self.reason() == Some("account_claim_required") {
            return Some(format!("the account is not claimed yet ({needs})"));
        }
        if let Some(feature) = self.detail_str("featureKey") {
            return Some(format!("the {feature} feature is off for this account ({needs})"));
        }
        if self.reason().is_some() {
            return None;
        }
        let granted = self.detail_list("grantedScopes").or_else(|| self.granted_scopes.clone());
        if let Some(granted) = granted {
            let missing = req.missing_scopes(&granted);
            if !missing.is_empty() {
                return Some(format!("the token lacks {} ({needs})", missing.join(", ")));
            }
        }
        if let Some(required) = self.detail_list("requiredScopes").filter(|r| !r.is_empty()) {
            return Some(format!("the token lacks {} ({needs})", required.join(", ")));
        }
        let something = !req.scopes.is_empty()
            || !req.any_scopes.is_empty()
            || !req.features.is_empty()
            || req.claimed
            || req.payment_method;
        something.then_some(needs)
    }

    /// `details.claimUrl`: where a human claims the account (403 `account_claim_required`).
    pub fn claim_url(&self) -> Option<&str> {
        self.detail_str("claimUrl")
    }

    /// `details.billingUrl`: where a human adds a payment method (409 `payment_method_required`).
    pub fn billing_url(&self) -> Option<&str> {
        self.detail_str("billingUrl")
    }

    /// `details.retryAfterSeconds`, else the `Retry-After` header.
    pub fn retry_after_seconds(&self) -> Option<f64> {
        self.details
            .as_ref()
            .and_then(|d| d.get("retryAfterSeconds"))
            .and_then(Value::as_f64)
            .or(self.retry_after.map(|s| s as f64))
    }

    /// The envelope as JSON, exactly the shape the API sends.
    pub fn to_envelope(&self) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), self.message.clone().into());
        m.insert("code".into(), self.code.clone().into());
        if let Some(id) = &self.request_id {
            m.insert("requestId".into(), id.clone().into());
        }
        if let Some(d) = &self.details {
            m.insert("details".into(), Value::Object(d.clone()));
        }
        Value::Object(m)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        // A 429 returned because waiting would outlast the call's deadline must say when to retry.
        if let Some(s) = self.retry_after {
            write!(f, "; retry after {s} s")?;
        }
        if let Some(why) = self.missing_requirement() {
            write!(f, "; {why}")?;
        }
        Ok(())
    }
}

/// An OAuth-shaped error `{error, error_description}` from `/api/agent`.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    /// HTTP status code.
    pub status: u16,
    /// The OAuth error code: `authorization_pending`, `slow_down`, `expired_token`, ...
    pub error: String,
    /// Optional human text.
    pub description: Option<String>,
    /// A new polling interval in seconds, when the server sent one with `slow_down`.
    pub interval: Option<u64>,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.error)?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

/// Local configuration problems. None of them ever includes a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No token was found anywhere.
    #[error(
        "no OpenTrain API token: register an agent (`opentrain auth register`), log in with a token \
         (`opentrain auth login --api-key ...`), or set OPENTRAIN_PERSONAL_API_TOKEN"
    )]
    NoToken,
    /// The credentials file exists but cannot be used. It is left untouched.
    #[error("credentials file {path} is unusable: {reason} (fix or delete it; it was not changed)")]
    CorruptCredentials {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Saved credentials exist and overwriting them was not asked for.
    #[error(
        "credentials already saved in {path}: registering again would replace them (and lose access to \
         that account); pass force to overwrite"
    )]
    CredentialsExist {
        /// The file.
        path: std::path::PathBuf,
    },
    /// No claim token was given and none is saved.
    #[error("no claim token: pass one, or register first (registration saves it)")]
    NoClaimToken,
    /// Neither `XDG_CONFIG_HOME` nor `HOME` is set, so the credentials file cannot be located.
    #[error("cannot locate the credentials file: neither XDG_CONFIG_HOME nor HOME is set")]
    NoConfigDir,
    /// A setting has an unusable value.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The setting.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// The HTTP status, for API and OAuth errors and invalid responses.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::OAuth(e) => Some(e.status),
            Error::InvalidResponse { status, .. } => *status,
            _ => None,
        }
    }

    /// The API error, if this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The OAuth error, if this is one.
    pub fn as_oauth(&self) -> Option<&OAuthError> {
        match self {
            Error::OAuth(e) => Some(e),
            _ => None,
        }
    }

    /// The server's error code, typed: the envelope's `code` (`FORBIDDEN`, ...) or the OAuth
    /// `error` of an agent endpoint (`authorization_pending`, ...). Documented codes are `Known`,
    /// others kept verbatim. `None` when no server code exists (local failures, an empty code):
    /// see [`code_str`](Self::code_str) for the vocabulary the faces print.
    ///
    /// ```
    /// use opentrain::{OpenEnum, requires::ErrorCodeKnown};
    /// # fn f(e: opentrain::Error) {
    /// if e.code() == Some(OpenEnum::Known(ErrorCodeKnown::RateLimited)) {
    ///     // back off
    /// }
    /// # }
    /// ```
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api(e) => e.code_typed(),
            Error::OAuth(e) => Some(open_value(&e.error)),
            _ => None,
        }
    }

    /// `details.reason` of an API error, typed: documented reasons are `Known`
    /// (`account_claim_required`, `payment_method_required`, ...), others kept verbatim.
    ///
    /// ```
    /// use opentrain::{OpenEnum, requires::ErrorReasonKnown};
    /// # fn f(e: opentrain::Error) {
    /// if e.reason() == Some(OpenEnum::Known(ErrorReasonKnown::PaymentMethodRequired)) {
    ///     // a human adds a card at e.as_api().and_then(|a| a.billing_url())
    /// }
    /// # }
    /// ```
    pub fn reason(&self) -> Option<ErrorReason> {
        self.as_api().and_then(ApiError::reason_typed)
    }

    /// The one code vocabulary both faces report (`code` in the CLI's JSON errors and in MCP
    /// results): the API's own `code` for envelope errors (`API_ERROR` when it sent none), the
    /// OAuth `error` for agent endpoints, and for local failures `NETWORK_ERROR`, `TIMEOUT`,
    /// `INVALID_RESPONSE`, `INVALID_REQUEST`, `NO_TOKEN`, `CONFIGURATION` or `WAIT_TIMED_OUT`.
    ///
    /// ```
    /// let e = opentrain::Error::Timeout { attempts: 1, outcome_unknown: false };
    /// assert_eq!(e.code_str(), "TIMEOUT");
    /// ```
    pub fn code_str(&self) -> &str {
        match self {
            Error::Api(e) if e.code.is_empty() => "API_ERROR",
            Error::Api(e) => &e.code,
            Error::OAuth(e) => &e.error,
            Error::Transport { .. } => "NETWORK_ERROR",
            Error::Timeout { .. } => "TIMEOUT",
            Error::InvalidResponse { .. } => "INVALID_RESPONSE",
            Error::InvalidRequest(_) => "INVALID_REQUEST",
            Error::Config(ConfigError::NoToken) => "NO_TOKEN",
            Error::Config(_) => "CONFIGURATION",
            Error::WaitTimedOut { .. } => "WAIT_TIMED_OUT",
        }
    }

    /// Whether a write may have been applied although no answer arrived: the request was sent
    /// (or partly sent) and then the connection failed or timed out.
    ///
    /// When true, do not blindly send the write again (that could hire twice or create a second
    /// draft): read the resource first to see whether it took effect. Reads and requests that
    /// provably never left (connection refused, DNS failure) are never outcome-unknown.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Transport { outcome_unknown: true, .. } | Error::Timeout { outcome_unknown: true, .. })
    }

    pub(crate) fn invalid_response(status: Option<u16>, reason: impl fmt::Display, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let snippet: String = text.chars().take(SNIPPET_CHARS).collect();
        Error::InvalidResponse { status, reason: redact(&reason.to_string()), snippet: redact(&snippet) }
    }

    fn transport(e: &reqwest::Error, attempts: u32, outcome_unknown: bool) -> Self {
        if e.is_timeout() {
            return Error::Timeout { attempts, outcome_unknown };
        }
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Error::Transport { attempts, message: redact(&message), outcome_unknown }
    }
}

/// Turns a generated error into ours; `state` is what the transport recorded for this call.
pub(crate) fn from_generated<E: IntoError>(e: progenitor_client::Error<E>, state: &call::CallState) -> Error {
    use progenitor_client::Error as G;
    let status = state.status;
    let attempts = state.attempts.max(1);
    match e {
        // The transport hooks report their own failures (size cap, deadline) as `Custom`.
        G::Custom(m) => match &state.failure {
            Some(f) => from_failure(f, state),
            None => Error::InvalidRequest(redact(&m)),
        },
        G::InvalidRequest(m) => Error::InvalidRequest(redact(&m)),
        G::CommunicationError(e) | G::InvalidUpgrade(e) => Error::transport(&e, attempts, state.outcome_unknown),
        G::ResponseBodyError(e) => {
            if e.is_timeout() {
                Error::Timeout { attempts, outcome_unknown: state.outcome_unknown }
            } else {
                Error::invalid_response(e.status().map(|s| s.as_u16()).or(status), "reading the body failed", &[])
            }
        }
        G::ErrorResponse(rv) => {
            let code = rv.status().as_u16();
            let retry_after = call::retry_after_secs(rv.headers());
            let mut e = rv.into_inner().into_error(code, retry_after);
            if let Error::Api(api) = &mut e {
                api.operation = state.operation.and_then(OperationId::from_id);
                api.granted_scopes = state.scopes.clone();
            }
            e
        }
        G::InvalidResponsePayload(bytes, err) => {
            // An error status whose body is not the envelope (an HTML page from a proxy, say) is
            // still an API failure: keep the status so callers can tell a 502 from a 404.
            Error::invalid_response(status, err, &bytes)
        }
        G::UnexpectedResponse(resp) => {
            let code = resp.status().as_u16();
            if resp.status().is_redirection() {
                return redirect(code, resp.headers());
            }
            Error::invalid_response(Some(code), "status not described by the spec", &[])
        }
    }
}

/// A 3xx answer. Following it would turn a POST into a GET reported as done, or re-send a
/// body holding a secret to whatever host `Location` names, so it is never followed.
fn redirect(status: u16, headers: &reqwest::header::HeaderMap) -> Error {
    let to = headers
        .get(reqwest::header::LOCATION)
        .map(|l| format!(" to {}", redact(&String::from_utf8_lossy(l.as_bytes()))))
        .unwrap_or_default();
    Error::InvalidResponse {
        status: Some(status),
        reason: format!("HTTP {status} redirect{to}: OpenTrain never redirects API calls; not followed"),
        snippet: String::new(),
    }
}

fn from_failure(f: &call::Failure, state: &call::CallState) -> Error {
    match f {
        call::Failure::TooLarge { status, limit } => Error::InvalidResponse {
            status: Some(*status),
            reason: format!(
                "the response body exceeds the {} limit (ClientBuilder::max_response_bytes); not read",
                call::human_bytes(*limit)
            ),
            snippet: String::new(),
        },
        call::Failure::NoTimeLeft => {
            Error::Timeout { attempts: state.attempts, outcome_unknown: state.outcome_unknown }
        }
    }
}

/// Error bodies the generated client can return; each becomes the matching [`Error`] variant.
pub trait IntoError {
    /// Converts a parsed error body with its status.
    fn into_error(self, status: u16, retry_after: Option<u64>) -> Error;
}

impl IntoError for types::Error {
    fn into_error(self, status: u16, retry_after: Option<u64>) -> Error {
        // Every server-supplied string is masked: a server (or a proxy) echoing the token in use
        // into `code`, `requestId` or `details` must not get it printed.
        let details = self.details.map(|d| match serde_json::to_value(d) {
            Ok(mut v @ Value::Object(_)) => {
                crate::redact::redact_json(&mut v);
                match v {
                    Value::Object(m) => m,
                    _ => Map::new(),
                }
            }
            _ => Map::new(),
        });
        Error::Api(Box::new(ApiError {
            status,
            code: redact(&self.code.unwrap_or_default()),
            message: redact(&self.error),
            request_id: self.request_id.map(|r| redact(&r)),
            details,
            retry_after,
            operation: None,
            granted_scopes: None,
        }))
    }
}

impl IntoError for types::PublicJobError {
    /// The envelope as usual; the closed-job 404 (`{id, status: "closed"}`, no envelope) becomes
    /// an [`ApiError`] with no code whose `details` hold that body, so "no longer listed" stays
    /// distinguishable from "unknown id" (code `NOT_FOUND`).
    fn into_error(self, status: u16, retry_after: Option<u64>) -> Error {
        match self {
            types::PublicJobError::Error(e) => e.into_error(status, retry_after),
            types::PublicJobError::PublicJobClosed(closed) => {
                let mut details = Map::new();
                details.insert("id".into(), Value::String(redact(&closed.id)));
                details.insert("status".into(), Value::String(redact(&closed.status)));
                Error::Api(Box::new(ApiError {
                    status,
                    code: String::new(),
                    message: format!(
                        "job {} is no longer listed on the marketplace (status {})",
                        redact(&closed.id),
                        redact(&closed.status)
                    ),
                    request_id: None,
                    details: Some(details),
                    retry_after,
                    operation: None,
                    granted_scopes: None,
                }))
            }
        }
    }
}

impl IntoError for types::OAuthError {
    fn into_error(self, status: u16, _retry_after: Option<u64>) -> Error {
        Error::OAuth(Box::new(OAuthError {
            status,
            error: redact(&self.error),
            description: self.error_description.map(|d| redact(&d)),
            // The docs call it a number: `5.0` is 5 s, and a fraction rounds up (never poll early).
            interval: self.interval.filter(|i| i.is_finite() && *i >= 0.0).map(|i| i.ceil() as u64),
        }))
    }
}

impl IntoError for () {
    fn into_error(self, status: u16, _retry_after: Option<u64>) -> Error {
        Error::invalid_response(Some(status), "error status without a body", &[])
    }
}
