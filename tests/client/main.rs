//! Behaviour of the hand-written client layer against local mock servers (no network).

mod approvals;
mod claim;
mod credentials;
mod credentials_presence;
mod edges;
mod errors;
mod fault;
mod lenient;
mod pagination;
mod requires;
mod retry_policy;
mod tls;
mod transport;
mod webhook;
mod webhook_limits;
mod writes;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use httpmock::{Mock, MockServer, Then, When};
use opentrain::{Client, RetryEvent, RetryPolicy, Token};

/// The policy under test with delays shrunk so tests run fast; the real defaults are asserted
/// separately in `transport::default_policy_is_the_official_clis`.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() }
}

/// A client for `server` with a token and a recorder of retry decisions.
pub fn client(server: &MockServer) -> (Client, Arc<Mutex<Vec<RetryEvent>>>) {
    client_at(&server.base_url())
}

pub fn client_at(base: &str) -> (Client, Arc<Mutex<Vec<RetryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let client = Client::builder()
        .base_url(base)
        .token(Token::new("ot_pat_test_secret"))
        .retry(fast_policy())
        .on_retry(move |e| seen.lock().expect("retry log").push(e.clone()))
        .build()
        .expect("client");
    (client, events)
}

/// Answers in the shape the API gives them; httpmock's `json_body` alone sends no content type.
pub trait Reply {
    /// `status` with `body` as `application/json`.
    fn json(self, status: u16, body: impl Into<serde_json::Value>) -> Self;
    /// `status` with `body` sent byte for byte as `mime`.
    fn raw(self, status: u16, body: impl AsRef<[u8]>, mime: &str) -> Self;
}

impl Reply for Then {
    fn json(self, status: u16, body: impl Into<serde_json::Value>) -> Self {
        self.status(status).header("content-type", "application/json").json_body(body)
    }

    fn raw(self, status: u16, body: impl AsRef<[u8]>, mime: &str) -> Self {
        self.status(status).header("content-type", mime).body(body)
    }
}

/// One answer of a [`sequence`], boxed so that answers of different shapes share a list.
pub type Answer = Box<dyn FnOnce(Then) -> Then>;

/// Boxes `f` as an [`Answer`].
pub fn answer(f: impl FnOnce(Then) -> Then + 'static) -> Answer {
    Box::new(f)
}

/// Answers `answers` in order to requests `matching`, the last one for every further request.
/// httpmock serves the oldest mock that matches and is not used up, so each earlier answer is
/// limited to one call. The mocks come back so that a test can count what each one served.
pub async fn sequence<'a>(
    server: &'a MockServer,
    matching: impl Fn(When) -> When,
    answers: Vec<Answer>,
) -> Vec<Mock<'a>> {
    let last = answers.len().saturating_sub(1);
    let mut mocks = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        let mock = server
            .mock_async(|when, then| {
                matching(when);
                let then = answer(then);
                if i < last {
                    then.up_to_n_times(1);
                }
            })
            .await;
        mocks.push(mock);
    }
    mocks
}

/// A catch-all answering 404 like an unmocked route. Made after a test's other mocks, it serves
/// only what none of them matched, so its count is the requests the test did not expect.
pub async fn strays(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|_, then| {
            then.status(404);
        })
        .await
}

/// Requests served by `mocks` together; with [`strays`] among them, every request the server got.
pub async fn calls<'a, 's: 'a>(mocks: impl IntoIterator<Item = &'a Mock<'s>>) -> usize {
    let mut total = 0;
    for mock in mocks {
        total += mock.calls_async().await;
    }
    total
}

/// `body` as the spec's type `T`, for the typed answers of `opentrain-httpmock`. Asserts that the
/// type gives back exactly `body`, so the typed answer sends what a raw one would have.
pub fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(body: serde_json::Value) -> T {
    let value: T = serde_json::from_value(body.clone()).expect("the body fits the spec's type");
    assert_eq!(serde_json::to_value(&value).expect("serializes"), body, "the typed answer is the same body");
    value
}
