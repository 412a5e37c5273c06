//! Behaviour of the hand-written client layer against local mock servers (no network).

mod approvals;
mod claim;
mod credentials;
mod edges;
mod errors;
mod pagination;
mod transport;
mod webhook;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use opentrain::{Client, RetryEvent, RetryPolicy, Token};
use wiremock::MockServer;

/// The policy under test with delays shrunk so tests run fast; the real defaults are asserted
/// separately in `transport::default_policy_is_the_official_clis`.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() }
}

/// A client for `server` with a token and a recorder of retry decisions.
pub fn client(server: &MockServer) -> (Client, Arc<Mutex<Vec<RetryEvent>>>) {
    client_at(&server.uri())
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

/// Answers `answers` in order on `verb path`, the last one for every further request.
pub async fn sequence(server: &MockServer, verb: &str, at: &str, answers: Vec<wiremock::ResponseTemplate>) {
    let last = answers.len().saturating_sub(1);
    for (i, answer) in answers.into_iter().enumerate() {
        let mock = wiremock::Mock::given(wiremock::matchers::method(verb))
            .and(wiremock::matchers::path(at))
            .respond_with(answer)
            .with_priority(u8::try_from(i + 1).unwrap_or(u8::MAX));
        let mock = if i < last { mock.up_to_n_times(1) } else { mock };
        mock.mount(server).await;
    }
}
