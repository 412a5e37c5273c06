//! The one transport path: auth header, retry policy and error conversion for every generated call.

use std::{cell::RefCell, future::Future, time::Duration};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::{
    Method, StatusCode,
    header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER},
};

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

/// One retry decision, reported to [`Inner::on_retry`] observers (tests, logs).
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

/// What the transport learned about one call, for the error conversion.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallState {
    pub attempts: u32,
    pub status: Option<u16>,
}

tokio::task_local! {
    static CALL: RefCell<CallState>;
}

fn record(f: impl FnOnce(&mut CallState)) {
    // Outside `run` there is no scope; the conversion then falls back to what it can infer.
    let _ = CALL.try_with(|c| f(&mut c.borrow_mut()));
}

/// Seconds from a `Retry-After` header given in seconds (HTTP dates are not used by OpenTrain).
pub(crate) fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
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

macro_rules! hooks {
    ($client:ty) => {
        impl ClientHooks<Inner> for $client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                info: &OperationInfo,
            ) -> std::result::Result<(), progenitor_client::Error<E>> {
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
                let mut attempt = 1;
                loop {
                    // A body that cannot be cloned (a stream) gets exactly one attempt.
                    let Some(this_try) = request.try_clone() else {
                        record(|s| s.attempts = attempt);
                        let res = self.client().execute(request).await;
                        record(|s| s.status = res.as_ref().ok().map(|r| r.status().as_u16()));
                        return res;
                    };
                    record(|s| s.attempts = attempt);
                    let res = self.client().execute(this_try).await;
                    record(|s| s.status = res.as_ref().ok().map(|r| r.status().as_u16()));
                    let Verdict::Retry { delay, reason } = judge(&inner.retry, read, &res) else { return res };
                    if attempt >= inner.retry.max_attempts {
                        return res;
                    }
                    attempt += 1;
                    let delay = delay.unwrap_or_else(|| inner.retry.backoff(attempt));
                    if let Some(observe) = &inner.on_retry {
                        observe(&RetryEvent { operation: info.operation_id, next_attempt: attempt, delay, reason });
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    };
}

// The typed and the raw client share one transport path.
hooks!(Client);
hooks!(crate::raw::Client);

/// Runs a generated call and returns its body, or one [`Error`].
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
            let state = CALL.with(|c| c.borrow().clone());
            out.map(ResponseValue::into_inner).map_err(|e| from_generated(e, &state))
        };
        CALL.scope(RefCell::new(CallState::default()), fut)
    }
}
