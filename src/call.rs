//! The one transport path for every generated call: auth header, path checks, retry policy within a
//! deadline, response size cap, no redirects, and error conversion.

use std::{cell::RefCell, future::Future, time::Duration};

use bytes::BytesMut;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::{
    Method, StatusCode,
    header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER},
};
use tokio::time::Instant;

use crate::{
    Client, Inner,
    error::{IntoError, Result, from_generated},
    generated::meta,
};

/// When and how often a request is sent again.
///
/// The defaults are the official CLI's: reads (GET) get 3 attempts, waiting 500 ms then 1 s, on
/// 502/503/504 and transient network failures, and on 429 they wait as long as `Retry-After`
/// says (up to [`max_retry_after`](Self::max_retry_after)). Writes are sent again only when the
/// request provably never reached the server (DNS failure, connection refused), so a retried
/// write can never be applied twice.
///
/// Every retry stays inside the call's deadline ([`ClientBuilder::deadline`], [`within`]): a
/// wait that would end past it is not made and the last answer is returned instead.
///
/// [`ClientBuilder::deadline`]: crate::ClientBuilder::deadline
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts, the first included. 1 disables retries.
    pub max_attempts: u32,
    /// Wait before the second attempt; it doubles for each further one.
    pub base_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one ends the retries and returns the 429.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_delay: Duration::from_millis(500), max_retry_after: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The wait before attempt `next` (2 for the first retry).
    pub fn backoff(&self, next: u32) -> Duration {
        self.base_delay.saturating_mul(1 << next.saturating_sub(2).min(16))
    }
}

/// One retry decision, reported to [`ClientBuilder::on_retry`](crate::ClientBuilder::on_retry)
/// observers (tests, logs).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryEvent {
    /// The operation being retried.
    pub operation: &'static str,
    /// The attempt about to be made (2 for the first retry).
    pub next_attempt: u32,
    /// How long it waits first.
    pub delay: Duration,
    /// Why: an HTTP status or a network failure kind.
    pub reason: String,
}

/// One HTTP attempt as the transport saw it, reported to
/// [`ClientBuilder::on_attempt`](crate::ClientBuilder::on_attempt) observers (request logs,
/// metrics, tests) after its answer was read or it failed.
///
/// It holds nothing secret: no header, no body, and the path is masked with [`redact`](crate::redact())
/// (a token pasted where an id goes would otherwise reach a log).
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptEvent {
    /// The operation (`operationId`).
    pub operation: &'static str,
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The request path, masked; the query string is left out.
    pub path: String,
    /// Which attempt of the call this was: 1, then 2 for the first retry.
    pub attempt: u32,
    /// The answer's HTTP status; `None` when no answer arrived.
    pub status: Option<u16>,
    /// Why no usable answer arrived (a network failure kind, a timeout, a body over the size
    /// cap); `None` when the status says it all.
    pub failure: Option<String>,
    /// From sending the request to having read the whole answer (or failing).
    pub elapsed: Duration,
}

/// What the transport learned about one call, for the error conversion.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallState {
    pub attempts: u32,
    pub status: Option<u16>,
    /// A write was (perhaps partly) sent and then no answer arrived.
    pub outcome_unknown: bool,
    /// A failure the hooks detected themselves (reqwest has no error value for them).
    pub failure: Option<Failure>,
    /// The operation, so an error can say what it needs.
    pub operation: Option<&'static str>,
    /// The token's scopes, when an earlier `auth/me` reported them.
    pub scopes: Option<Vec<String>>,
}

/// Failures found by the transport hooks rather than by reqwest.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// The body was longer than the client's cap; it was not read to the end.
    TooLarge { status: u16, limit: u64 },
    /// The deadline passed before the next attempt could be sent.
    NoTimeLeft,
}

/// Marks the placeholder response `exec` returns for a [`Failure`], so that `post` turns it into
/// an error even when the call runs outside [`Run`] (no task-local state to read).
#[derive(Clone, Debug)]
struct Failed(String);

tokio::task_local! {
    static CALL: RefCell<CallState>;
    static DEADLINE: Instant;
}

fn record(f: impl FnOnce(&mut CallState)) {
    // Outside `run` there is no scope; the conversion then falls back to what it can infer.
    let _ = CALL.try_with(|c| f(&mut c.borrow_mut()));
}

/// Runs `fut` with every OpenTrain call made inside it bounded by `deadline`: in-flight
/// attempts, retries and `Retry-After` waits included.
///
/// A bounded wait (an approval wait, a claim poll, an MCP tool with a time budget) wraps its
/// work in this so that a stalled API cannot hold it past its bound. Each attempt's timeout
/// becomes the smaller of the client's timeout and the time left; a retry whose wait would end
/// past the deadline is not made (the last answer is returned, e.g. a 429 with its
/// `retry_after`); a call started after the deadline fails at once with [`Error::Timeout`]
/// (`attempts: 0`, nothing sent). Nested calls keep the earliest deadline, and the client's own
/// per-call deadline ([`ClientBuilder::deadline`](crate::ClientBuilder::deadline)) still applies.
///
/// [`Error::Timeout`]: crate::Error::Timeout
///
/// ```no_run
/// # async fn f(client: opentrain::Client) -> opentrain::Result<()> {
/// use std::time::Duration;
/// use opentrain::Run;
/// let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
/// // Returns within about 5 s even if the API stalls.
/// let me = opentrain::within(deadline, client.get_auth_me().send().run()).await?;
/// # Ok(()) }
/// ```
pub async fn within<F: Future>(deadline: Instant, fut: F) -> F::Output {
    let deadline = current_deadline().map_or(deadline, |outer| outer.min(deadline));
    DEADLINE.scope(deadline, fut).await
}

/// The deadline set by the innermost enclosing [`within`], if any.
pub fn current_deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// Seconds from a `Retry-After` header given in seconds (HTTP dates are not used by OpenTrain).
pub(crate) fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

/// `16 MiB` for whole mebibytes, else a byte count: the unit a user would set it in.
pub(crate) fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    if n >= MIB && n.is_multiple_of(MIB) { format!("{} MiB", n / MIB) } else { format!("{n} bytes") }
}

enum Verdict {
    Done,
    Retry { delay: Option<Duration>, reason: String },
}

fn judge(policy: &RetryPolicy, read: bool, res: &reqwest::Result<reqwest::Response>) -> Verdict {
    match res {
        Ok(r) => match r.status() {
            StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT if read => {
                Verdict::Retry { delay: None, reason: format!("HTTP {}", r.status().as_u16()) }
            }
            StatusCode::TOO_MANY_REQUESTS if read => match retry_after_secs(r.headers()) {
                Some(s) if Duration::from_secs(s) <= policy.max_retry_after => {
                    Verdict::Retry { delay: Some(Duration::from_secs(s)), reason: "HTTP 429".into() }
                }
                _ => Verdict::Done,
            },
            _ => Verdict::Done,
        },
        // A connect failure (DNS, refused, handshake) means no byte of the request was sent.
        Err(e) if e.is_connect() => Verdict::Retry { delay: None, reason: "connection failed".into() },
        Err(e) if read && !e.is_builder() && !e.is_redirect() => Verdict::Retry {
            delay: None,
            reason: if e.is_timeout() { "timeout".into() } else { "network failure".into() },
        },
        Err(_) => Verdict::Done,
    }
}

/// What one attempt produced once its body was read.
enum Outcome {
    Answer(reqwest::Result<reqwest::Response>),
    Failed(Failure),
}

/// Reads the whole body under `limit`, before anything parses it, and hands back an equivalent
/// response holding the bytes. A body over the limit is dropped unread past the limit, so a
/// huge or endless answer costs at most `limit` bytes of memory.
///
/// With `empty_is_null` (an operation whose success body may be absent, [`meta::BODY_OPTIONAL`])
/// an empty 2xx body becomes `null`: the raw client passes it on as "done, no body"; the typed
/// client, which has no value to make up, reports it as an invalid response.
async fn read_capped(
    mut resp: reqwest::Response,
    limit: u64,
    empty_is_null: bool,
    on_success: impl FnOnce(&[u8]),
) -> Outcome {
    let status = resp.status();
    let too_large = Outcome::Failed(Failure::TooLarge { status: status.as_u16(), limit });
    if resp.content_length().is_some_and(|n| n > limit) {
        return too_large;
    }
    let mut body = BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return too_large;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Outcome::Answer(Err(e)),
        }
    }
    if status.is_success() {
        on_success(&body);
    }
    if empty_is_null && status.is_success() && body.is_empty() {
        body.extend_from_slice(b"null");
    }
    let mut out = http::Response::new(body.freeze());
    *out.status_mut() = status;
    *out.version_mut() = resp.version();
    *out.headers_mut() = std::mem::take(resp.headers_mut());
    Outcome::Answer(Ok(reqwest::Response::from(out)))
}

/// The placeholder `exec` returns for a failure; `post` turns it into the error.
fn failed(failure: Failure) -> reqwest::Result<reqwest::Response> {
    let message = match &failure {
        Failure::TooLarge { limit, .. } => format!("the response body exceeds the {} limit", human_bytes(*limit)),
        Failure::NoTimeLeft => "the call's deadline passed before the request was sent".into(),
    };
    record(|s| s.failure = Some(failure));
    let mut out = http::Response::new(bytes::Bytes::new());
    out.extensions_mut().insert(Failed(message));
    Ok(reqwest::Response::from(out))
}

/// The event an attempt observer gets for `outcome`.
fn attempt_event(
    info: &OperationInfo,
    method: &Method,
    path: &str,
    attempt: u32,
    started: Instant,
    outcome: &Outcome,
) -> AttemptEvent {
    let (status, failure) = match outcome {
        Outcome::Answer(Ok(r)) => (Some(r.status().as_u16()), None),
        Outcome::Answer(Err(e)) => (e.status().map(|s| s.as_u16()), Some(failure_kind(e).to_string())),
        Outcome::Failed(Failure::TooLarge { status, limit }) => {
            (Some(*status), Some(format!("body over the {} limit", human_bytes(*limit))))
        }
        Outcome::Failed(Failure::NoTimeLeft) => (None, Some("no time left".into())),
    };
    AttemptEvent {
        operation: info.operation_id,
        method: method.to_string(),
        path: crate::redact(path),
        attempt,
        status,
        failure,
        elapsed: started.elapsed(),
    }
}

/// A network failure in the words a log reader needs.
fn failure_kind(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_body() || e.is_decode() {
        "answer cut short"
    } else {
        "network failure"
    }
}

/// Whether a failed attempt may have delivered the request: only a connect failure proves not.
fn may_have_arrived(read: bool, attempt: &Outcome) -> bool {
    !read && matches!(attempt, Outcome::Answer(Err(e)) if !e.is_connect())
}

macro_rules! hooks {
    ($client:ty) => {
        impl ClientHooks<Inner> for $client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                info: &OperationInfo,
            ) -> std::result::Result<(), progenitor_client::Error<E>> {
                check_path(self.baseurl(), request.url().path(), info.operation_id)
                    .map_err(progenitor_client::Error::InvalidRequest)?;
                record(|s| {
                    s.operation = Some(info.operation_id);
                    s.scopes = self.inner().known_scopes();
                });
                // Tokenless operations never carry the header, so a token cannot leak to them.
                if meta::TOKENLESS_OPERATIONS.contains(&info.operation_id) {
                    return Ok(());
                }
                if let Some(token) = &self.inner().token {
                    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                        progenitor_client::Error::InvalidRequest("the API token contains invalid characters".into())
                    })?;
                    value.set_sensitive(true);
                    request.headers_mut().insert(AUTHORIZATION, value);
                }
                Ok(())
            }

            async fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                let inner = self.inner();
                let read = matches!(*request.method(), Method::GET | Method::HEAD);
                let empty_is_null = meta::BODY_OPTIONAL.contains(&info.operation_id);
                let own = Instant::now() + inner.deadline;
                let deadline = current_deadline().map_or(own, |d| d.min(own));
                let mut request = Some(request);
                let mut attempt = 1;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    // A body that cannot be cloned (a stream) gets exactly one attempt.
                    let Some(mut this_try) =
                        request.as_ref().and_then(reqwest::Request::try_clone).or_else(|| request.take())
                    else {
                        return failed(Failure::NoTimeLeft);
                    };
                    if left.is_zero() {
                        return failed(Failure::NoTimeLeft);
                    }
                    *this_try.timeout_mut() = Some(inner.timeout.min(left));
                    record(|s| s.attempts = attempt);
                    let observed = inner.on_attempt.as_ref().map(|observe| {
                        (observe, this_try.method().clone(), this_try.url().path().to_string(), Instant::now())
                    });
                    let outcome = match self.client().execute(this_try).await {
                        Ok(resp) => {
                            let me = info.operation_id == "get_auth_me";
                            read_capped(resp, inner.max_response_bytes, empty_is_null, |body| {
                                if me {
                                    inner.note_auth_me(body)
                                }
                            })
                            .await
                        }
                        Err(e) => Outcome::Answer(Err(e)),
                    };
                    if let Some((observe, method, path, started)) = observed {
                        observe(&attempt_event(info, &method, &path, attempt, started, &outcome));
                    }
                    let unknown = may_have_arrived(read, &outcome);
                    record(|s| s.outcome_unknown |= unknown);
                    let res = match outcome {
                        Outcome::Failed(f) => return failed(f),
                        Outcome::Answer(res) => res,
                    };
                    record(|s| s.status = res.as_ref().ok().map(|r| r.status().as_u16()));
                    let Verdict::Retry { delay, reason } = judge(&inner.retry, read, &res) else { return res };
                    if attempt >= inner.retry.max_attempts || request.is_none() {
                        return res;
                    }
                    let delay = delay.unwrap_or_else(|| inner.retry.backoff(attempt + 1));
                    // Waiting past the deadline helps nobody: the last answer (a 429 carries its
                    // Retry-After) says more than a timeout would.
                    if Instant::now() + delay >= deadline {
                        return res;
                    }
                    attempt += 1;
                    if let Some(observe) = &inner.on_retry {
                        observe(&RetryEvent { operation: info.operation_id, next_attempt: attempt, delay, reason });
                    }
                    tokio::time::sleep(delay).await;
                }
            }

            async fn post<E>(
                &self,
                result: &reqwest::Result<reqwest::Response>,
                _info: &OperationInfo,
            ) -> std::result::Result<(), progenitor_client::Error<E>> {
                match result.as_ref().ok().and_then(|r| r.extensions().get::<Failed>()) {
                    Some(Failed(message)) => Err(progenitor_client::Error::Custom(message.clone())),
                    None => Ok(()),
                }
            }
        }
    };
}

/// Refuses a request whose path no longer has the shape of its operation's template.
///
/// A path parameter `..`, `.` or empty is removed or merged by URL normalization before any
/// hook sees the request (`get_credit_top_up` with `topUpId: ".."` would become
/// `GET /credits/`), so the values themselves are gone; comparing segment by segment with the
/// template still tells which parameter did it, for every operation and every face.
pub(crate) fn check_path(base_url: &str, path: &str, operation_id: &str) -> std::result::Result<(), String> {
    let Some(op) = meta::operation(operation_id) else { return Ok(()) };
    let base_path =
        reqwest::Url::parse(base_url).map(|u| u.path().trim_end_matches('/').to_string()).unwrap_or_default();
    let template: Vec<&str> = base_path.split('/').chain(op.path.split('/').skip(1)).collect();
    check_shape(&template, path, operation_id)
}

/// [`check_path`] for a template already split into segments (base path included).
fn check_shape(template: &[&str], path: &str, operation_id: &str) -> std::result::Result<(), String> {
    let actual: Vec<&str> = path.split('/').collect();
    let params: Vec<&str> = template.iter().filter_map(|s| param_name(s)).collect();
    let fits = |shape: &[Seg<'_>]| {
        shape.len() == actual.len()
            && shape.iter().zip(&actual).all(|(t, a)| match t {
                Seg::Lit(l) => l == a,
                Seg::Any => !a.is_empty() && *a != "." && *a != "..",
            })
    };
    if fits(&shape(template, None)) {
        return Ok(());
    }
    let culprits: Vec<&str> = params
        .iter()
        .copied()
        .filter(|p| ["", ".", ".."].iter().any(|v| fits(&shape(template, Some((p, v))))))
        .collect();
    let named = if culprits.is_empty() { &params } else { &culprits };
    let names = named.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" or ");
    Err(format!(
        "path parameter {names} of {operation_id} would change which resource is addressed: it must not be \
         empty, \".\" or \"..\", nor contain a backslash"
    ))
}

/// The segments a path has when `bad` = (parameter, value) is put in `template` and the URL is
/// normalized as WHATWG URLs are; the other parameters match any one ordinary segment.
fn shape<'a>(template: &[&'a str], bad: Option<(&str, &'static str)>) -> Vec<Seg<'a>> {
    let mut out = Vec::new();
    for s in template {
        match (param_name(s), bad) {
            (Some(p), Some((b, "."))) if p == b => {}
            (Some(p), Some((b, ".."))) if p == b => {
                // `..` at the root stays at the root.
                if out.len() > 1 {
                    out.pop();
                }
            }
            (Some(p), Some((b, v))) if p == b => out.push(Seg::Lit(v)),
            (Some(_), _) => out.push(Seg::Any),
            (None, _) => out.push(Seg::Lit(s)),
        }
    }
    // A dot segment at the end leaves a trailing slash: an empty last segment.
    let last = template.last().and_then(|s| param_name(s));
    if let Some((b, v)) = bad
        && !v.is_empty()
        && last == Some(b)
    {
        out.push(Seg::Lit(""));
    }
    out
}

enum Seg<'a> {
    Lit(&'a str),
    Any,
}

fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

// The typed and the raw client share one transport path.
hooks!(Client);
hooks!(crate::raw::Client);

/// Runs a generated call and returns its body, or one [`Error`](crate::Error).
///
/// Every generated builder ends in `.send()`; `.run()` on that future gives `Result<T, Error>`
/// with the attempt count and HTTP status the transport saw.
///
/// ```no_run
/// # async fn f(client: opentrain::Client) -> opentrain::Result<()> {
/// use opentrain::Run;
/// let me = client.get_auth_me().send().run().await?;
/// # Ok(()) }
/// ```
pub trait Run<T> {
    /// Awaits the call, converting the outcome.
    fn run(self) -> impl Future<Output = Result<T>> + Send;
}

impl<T, E, F> Run<T> for F
where
    F: Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error<E>>> + Send,
    E: IntoError + Send,
    T: Send,
{
    fn run(self) -> impl Future<Output = Result<T>> + Send {
        let fut = async move {
            let out = self.await;
            let state = CALL.with(|c| std::mem::take(&mut *c.borrow_mut()));
            out.map(ResponseValue::into_inner).map_err(|e| from_generated(e, &state))
        };
        CALL.scope(RefCell::new(CallState::default()), fut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error for `path` against `template`, or "" when it passes.
    fn named(template: &str, path: &str) -> String {
        let t: Vec<&str> = template.split('/').collect();
        check_shape(&t, path, "op").err().unwrap_or_default()
    }

    /// No operation of today's spec has two path parameters, but the check is written for them:
    /// the parameter whose value changed the route is the one named, wherever it sits.
    #[test]
    fn among_several_parameters_the_one_that_changed_the_route_is_named() {
        // After URL normalization: `..` removes the segment before it (never the root), `.`
        // disappears (leaving a trailing slash at the end), an empty value leaves `//`.
        let cases = [
            ("/a/{x}/b/{y}", "/b/v", "x"),    // x = ".."
            ("/a/{x}/b/{y}", "/a/b/v", "x"),  // x = "."
            ("/a/{x}/b/{y}", "/a//b/v", "x"), // x = ""
            ("/a/{x}/b/{y}", "/a/v/", "y"),   // y = ".."
            ("/a/{x}/b/{y}", "/a/v/b/", "y"), // y = "." or ""
            ("/{x}/{y}", "/v", "x"),          // x = ".." at the root stays at the root
            ("/{x}/{y}", "/v/", "y"),         // y = "." or ""
        ];
        for (template, path, culprit) in cases {
            let err = named(template, path);
            let other = if culprit == "x" { "`y`" } else { "`x`" };
            assert!(err.contains(&format!("`{culprit}`")) && !err.contains(other), "{template} {path}: {err}");
        }
        assert_eq!(named("/a/{x}/b/{y}", "/a/u/b/v"), "", "ordinary values pass");
        assert_eq!(named("/{x}/{y}", "/u/v"), "");
    }

    /// `16 MiB` for whole mebibytes, bytes otherwise (what a user set, not a rounded figure).
    #[test]
    fn limits_are_shown_in_the_unit_they_were_set_in() {
        assert_eq!(human_bytes(16 << 20), "16 MiB");
        assert_eq!(human_bytes(1_572_864), "1572864 bytes");
        assert_eq!(human_bytes(4096), "4096 bytes");
        assert_eq!(human_bytes(0), "0 bytes");
    }
}
