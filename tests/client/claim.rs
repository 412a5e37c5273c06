//! The agent claim ceremony: register (one account even when two race), start, poll through
//! pending / slow_down to success, and a stop that never loses the post-claim token.

use std::time::Duration;

use httpmock::{MockServer, When};
use opentrain::{
    ConfigError, CredentialsFile, Error, Token,
    claim::{self, ClaimState, ClaimWait, RegisterOptions},
};
use opentrain_httpmock::operations::{PollAgentTokenWhen, RegisterAgentWhen, StartClaimThen, StartClaimWhen};
use serde_json::json;

use super::{Answer, Reply, answer, calls, client, sequence, strays, typed};

fn fast_wait() -> ClaimWait {
    ClaimWait {
        timeout: Duration::from_secs(5),
        interval: Duration::from_millis(5),
        slow_down_step: Duration::from_millis(5),
    }
}

fn oauth(error: &str) -> Answer {
    let body = json!({"error": error, "error_description": format!("state {error}")});
    answer(move |then| then.json(400, body))
}

/// A claim poll: the token endpoint, whatever the form says.
fn poll(when: When) -> When {
    PollAgentTokenWhen::new(when).into_inner()
}

fn store_with(dir: &tempfile::TempDir, body: &str) -> CredentialsFile {
    let p = dir.path().join("cli.json");
    std::fs::write(&p, body).expect("write");
    CredentialsFile::load(&p).expect("load")
}

#[tokio::test]
async fn register_saves_both_tokens_and_refuses_to_overwrite_without_force() {
    let server = MockServer::start_async().await;
    let body = registration_fixture();
    let identity = server
        .mock_async(|when, then| {
            RegisterAgentWhen::new(when).into_inner().body_includes("Claude Code");
            then.json(200, body.clone());
        })
        .await;
    let stray = strays(&server).await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = CredentialsFile::load(dir.path().join("cli.json")).expect("empty");
    let (c, _) = client(&server);
    let opts = RegisterOptions { agent_name: Some("Claude Code".into()), ..Default::default() };
    let reg = claim::register(&c, &mut store, &opts).await.expect("registered");
    let again = CredentialsFile::load(store.path()).expect("reload");
    assert_eq!(again.api_token().as_ref().map(Token::expose), body["access_token"].as_str());
    assert_eq!(again.claim_token().as_ref().map(Token::expose), body["claim_token"].as_str());
    assert_eq!(again.base_url(), Some(server.base_url().as_str()));
    assert!(
        !format!("{reg:?}").contains(body["access_token"].as_str().unwrap_or("?")),
        "Debug of the registration hides the token"
    );

    let err = claim::register(&c, &mut store, &opts).await.expect_err("already registered");
    assert!(matches!(err, Error::Config(ConfigError::CredentialsExist { .. })), "{err}");
    assert_eq!(calls([&identity, &stray]).await, 1, "the refusal made no request");
    claim::register(&c, &mut store, &RegisterOptions { force: true, ..opts }).await.expect("forced");
}

#[tokio::test]
async fn start_claim_uses_the_saved_claim_token() {
    let server = MockServer::start_async().await;
    let attempt = typed(
        json!({"user_code": "439218", "verification_uri": "https://app.opentrain.ai/claim?token=ot_cat_x", "expires_in": 1800.0, "interval": 5.0, "email_sent": true}),
    );
    server
        .mock_async(|when, then| {
            StartClaimWhen::new(when).into_inner().body_includes("ot_clm_saved").body_includes("owner@example.com");
            StartClaimThen::new(then).ok(&attempt);
        })
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = store_with(&dir, r#"{"apiToken":"ot_pat_pre","claimToken":"ot_clm_saved"}"#);
    let attempt = claim::start_claim(&client(&server).0, &store, "owner@example.com", None).await.expect("started");
    assert_eq!(attempt.user_code, "439218");

    let empty = CredentialsFile::load(dir.path().join("none.json")).expect("empty");
    let err =
        claim::start_claim(&client(&server).0, &empty, "owner@example.com", None).await.expect_err("no claim token");
    assert!(matches!(err, Error::Config(ConfigError::NoClaimToken)));
}

#[tokio::test]
async fn polling_goes_through_pending_and_slow_down_to_the_new_token() {
    let server = MockServer::start_async().await;
    // Every poll must be the form grant carrying the saved claim token, or no answer matches it.
    let form = |when| {
        poll(when)
            .header("content-type", "application/x-www-form-urlencoded")
            .body_includes("grant_type=urn%3Aopentrain%3Aagent-auth%3Agrant-type%3Aclaim")
            .body_includes("claim_token=ot_clm_saved")
    };
    let claimed = json!({"access_token": "ot_pat_post_claim", "token_type": "bearer", "scopes": ["jobs:read", "proposals:write"]});
    let polls = sequence(
        &server,
        form,
        vec![
            oauth("authorization_pending"),
            oauth("slow_down"),
            oauth("authorization_pending"),
            answer(move |then| then.json(200, claimed)),
        ],
    )
    .await;

    let dir = tempfile::tempdir().expect("tmp");
    let mut store =
        store_with(&dir, r#"{"apiToken":"ot_pat_pre","claimToken":"ot_clm_saved","baseUrl":"http://x","keep":1}"#);
    let mut states = Vec::new();
    let got = claim::wait_for_claim(&client(&server).0, &mut store, None, &fast_wait(), |s| states.push(s.clone()))
        .await
        .expect("claimed");
    assert_eq!(got.access_token.expose(), "ot_pat_post_claim");

    let kinds: Vec<&str> = states
        .iter()
        .map(|s| match s {
            ClaimState::Pending { .. } => "pending",
            ClaimState::SlowDown { .. } => "slow_down",
            ClaimState::Claimed => "claimed",
        })
        .collect();
    assert_eq!(kinds, ["pending", "slow_down", "pending", "claimed"]);
    let slowed =
        states.iter().find_map(|s| if let ClaimState::SlowDown { interval, .. } = s { Some(*interval) } else { None });
    assert_eq!(slowed, Some(Duration::from_millis(10)), "slow_down adds the step to the interval");

    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.path()).expect("read")).expect("json");
    assert_eq!(
        saved,
        json!({"apiToken": "ot_pat_post_claim", "baseUrl": "http://x", "keep": 1}),
        "token replaced, claim token dropped"
    );
    for each in &polls {
        each.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn expired_token_ends_the_wait_and_leaves_credentials_alone() {
    let server = MockServer::start_async().await;
    sequence(&server, poll, vec![oauth("authorization_pending"), oauth("expired_token")]).await;
    let dir = tempfile::tempdir().expect("tmp");
    let original = r#"{"apiToken":"ot_pat_pre","claimToken":"ot_clm_saved"}"#;
    let mut store = store_with(&dir, original);
    let err =
        claim::wait_for_claim(&client(&server).0, &mut store, None, &fast_wait(), |_| {}).await.expect_err("expired");
    assert_eq!(err.as_oauth().map(|o| o.error.as_str()), Some("expired_token"));
    assert_eq!(std::fs::read_to_string(store.path()).expect("read"), original);
}

#[tokio::test]
async fn the_wait_is_bounded_by_its_timeout() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            poll(when);
            oauth("authorization_pending")(then);
        })
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = store_with(&dir, r#"{"claimToken":"ot_clm_saved"}"#);
    let wait = ClaimWait { timeout: Duration::from_millis(60), ..fast_wait() };
    let err = claim::wait_for_claim(&client(&server).0, &mut store, None, &wait, |_| {}).await.expect_err("timeout");
    assert!(matches!(err, Error::WaitTimedOut { .. }), "{err:?}");
    assert!(err.to_string().contains("authorization_pending"));
}

fn registration_fixture() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/examples/auth__POST_api_agent_identity__response.json"
        ))
        .expect("fixture"),
    )
    .expect("json")
}

#[tokio::test]
async fn two_concurrent_registrations_on_one_file_create_one_account() {
    let server = MockServer::start_async().await;
    let body = registration_fixture();
    let identity = server
        .mock_async(|when, then| {
            RegisterAgentWhen::new(when);
            then.json(200, body.clone()).delay(Duration::from_millis(400));
        })
        .await;
    let stray = strays(&server).await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("cli.json");
    // Both handles are loaded before either registers: each alone would see no account.
    let mut first = CredentialsFile::load(&file).expect("empty");
    let mut second = CredentialsFile::load(&file).expect("empty");
    let (c, _) = client(&server);
    let opts = RegisterOptions::default();
    let (a, b) = tokio::join!(claim::register(&c, &mut first, &opts), claim::register(&c, &mut second, &opts));

    assert_eq!(calls([&identity, &stray]).await, 1, "exactly one account was created");
    let refused =
        [&a, &b].iter().filter(|r| matches!(r, Err(Error::Config(ConfigError::CredentialsExist { .. })))).count();
    assert_eq!((a.is_ok() as usize + b.is_ok() as usize, refused), (1, 1), "{a:?} / {b:?}");
    let saved = CredentialsFile::load(&file).expect("reload");
    assert_eq!(saved.api_token().as_ref().map(Token::expose), body["access_token"].as_str());
    assert!(!first.is_locked() && !second.is_locked(), "the lock is released after each registration");
}

#[tokio::test]
async fn a_stop_never_cancels_a_poll_in_flight_and_the_token_it_brings_is_saved() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            poll(when);
            then.json(200, json!({"access_token": "ot_pat_post_claim", "token_type": "bearer"}))
                .delay(Duration::from_millis(300));
        })
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = store_with(&dir, r#"{"apiToken":"ot_pat_pre","claimToken":"ot_clm_saved"}"#);
    // The user asked to stop before the answer came back.
    let stop = std::future::ready(());
    let got = claim::wait_for_claim_until(&client(&server).0, &mut store, None, &fast_wait(), stop, |_| {})
        .await
        .expect("no error");
    assert_eq!(got.as_ref().map(|t| t.access_token.expose()), Some("ot_pat_post_claim"));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.path()).expect("read")).expect("json");
    assert_eq!(saved, json!({"apiToken": "ot_pat_post_claim"}), "saved before returning");
}

#[tokio::test]
async fn a_stop_between_polls_ends_the_wait_with_the_claim_still_pending() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            poll(when);
            oauth("authorization_pending")(then);
        })
        .await;
    let stray = strays(&server).await;
    let dir = tempfile::tempdir().expect("tmp");
    let original = r#"{"apiToken":"ot_pat_pre","claimToken":"ot_clm_saved"}"#;
    let mut store = store_with(&dir, original);
    let wait = ClaimWait { interval: Duration::from_secs(600), timeout: Duration::from_secs(1800), ..fast_wait() };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stop = async move {
        let _ = rx.await;
    };
    let mut tx = Some(tx);
    let got = claim::wait_for_claim_until(&client(&server).0, &mut store, None, &wait, stop, |s| {
        // Stop once the first poll came back pending: the wait is now in its 600 s pause.
        if matches!(s, ClaimState::Pending { .. })
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(());
        }
    })
    .await
    .expect("no error");
    assert!(got.is_none(), "stopped, not claimed");
    assert_eq!(calls([&token, &stray]).await, 1);
    assert_eq!(std::fs::read_to_string(store.path()).expect("read"), original, "the claim token is kept to resume");
}

#[tokio::test]
async fn a_stalled_poll_is_cut_off_at_the_wait_deadline() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            poll(when);
            oauth("authorization_pending")(then).delay(Duration::from_secs(300));
        })
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = store_with(&dir, r#"{"claimToken":"ot_clm_saved"}"#);
    let wait = ClaimWait { timeout: Duration::from_millis(500), ..fast_wait() };
    // A 0.5 s wait against a poll that stalls for 300 s: only the wait's own timeout ends it
    // before the outer one, which just turns a hang into a failure.
    let c = client(&server).0;
    let waiting = claim::wait_for_claim(&c, &mut store, None, &wait, |_| {});
    let err = tokio::time::timeout(Duration::from_secs(120), waiting)
        .await
        .expect("the wait ends at its own timeout")
        .expect_err("timeout");
    assert!(matches!(err, Error::WaitTimedOut { .. }), "{err:?}");
}

/// A saved claim token alone (registered, not yet claimed) is an account too: registering again
/// without `force` would orphan it, so it is refused before any request.
#[tokio::test]
async fn register_refuses_when_only_a_claim_token_is_saved() {
    let server = MockServer::start_async().await;
    let stray = strays(&server).await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = store_with(&dir, r#"{"claimToken":"ot_clm_only"}"#);
    let err = claim::register(&client(&server).0, &mut store, &RegisterOptions::default()).await.expect_err("refused");
    assert!(matches!(err, Error::Config(ConfigError::CredentialsExist { .. })), "{err}");
    assert_eq!(calls([&stray]).await, 0, "nothing was sent");
}

/// Waits for a claim against a server that answers every poll with `slow_down` naming
/// `server_interval` seconds; returns the wait's error and the intervals it reported.
async fn wait_through_slow_downs(server_interval: u64, wait: &ClaimWait) -> (Error, Vec<Duration>) {
    let server = MockServer::start_async().await;
    let slow = json!({"error": "slow_down", "error_description": "too fast", "interval": server_interval});
    server
        .mock_async(|when, then| {
            poll(when);
            then.json(400, slow);
        })
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = store_with(&dir, r#"{"claimToken":"ot_clm_saved"}"#);
    let mut states = Vec::new();
    let err = claim::wait_for_claim(&client(&server).0, &mut store, None, wait, |s| states.push(s.clone()))
        .await
        .expect_err("the next poll would come after the timeout");
    let intervals = states
        .iter()
        .filter_map(|s| if let ClaimState::SlowDown { interval, .. } = s { Some(*interval) } else { None })
        .collect();
    (err, intervals)
}

/// A `slow_down` naming a longer interval than the current one is obeyed as given (not just
/// stepped up), and a wait whose next poll would land past its timeout gives up at once,
/// reporting the time it really waited.
#[tokio::test]
async fn slow_down_takes_the_servers_longer_interval_and_a_poll_past_the_timeout_is_not_waited_for() {
    let wait = ClaimWait { timeout: Duration::from_secs(10), ..fast_wait() };
    let (err, intervals) = wait_through_slow_downs(30, &wait).await;
    assert_eq!(intervals, [Duration::from_secs(30)], "the server's interval, once");
    let Error::WaitTimedOut { waited, .. } = err else { panic!("{err:?}") };
    assert!(waited < wait.timeout, "gave up without sleeping to the timeout: waited {waited:?}");
}

/// `register` holds the file's lock only for its own work: a store that came in unlocked goes
/// out unlocked (another process can register or log in next), and one the caller had locked
/// stays locked for the caller.
#[tokio::test]
async fn register_releases_only_the_lock_it_took() {
    let server = MockServer::start_async().await;
    let body = registration_fixture();
    server
        .mock_async(|when, then| {
            RegisterAgentWhen::new(when);
            then.json(200, body.clone());
        })
        .await;
    let (c, _) = client(&server);
    let force = RegisterOptions { force: true, ..Default::default() };
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = CredentialsFile::load(dir.path().join("cli.json")).expect("empty");
    claim::register(&c, &mut store, &force).await.expect("registered");
    assert!(!store.is_locked(), "the lock register took is released");
    store.lock_async().await.expect("lock");
    claim::register(&c, &mut store, &force).await.expect("registered again");
    assert!(store.is_locked(), "the caller's own lock is kept");
}

/// A `slow_down` whose interval is no longer than the current one still slows down: the step is
/// added (RFC 8628), the server's value is not taken as is.
#[tokio::test]
async fn slow_down_with_the_current_interval_adds_the_step() {
    let wait = ClaimWait { interval: Duration::from_secs(1), timeout: Duration::from_millis(500), ..fast_wait() };
    let (err, intervals) = wait_through_slow_downs(1, &wait).await;
    assert!(matches!(err, Error::WaitTimedOut { .. }), "{err:?}");
    assert_eq!(intervals, [Duration::from_secs(1) + wait.slow_down_step]);
}

/// An OAuth error reads as the server's error and description, with its HTTP status.
#[tokio::test]
async fn an_oauth_error_shows_its_code_and_status() {
    let server = MockServer::start_async().await;
    sequence(&server, poll, vec![oauth("expired_token")]).await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = store_with(&dir, r#"{"claimToken":"ot_clm_saved"}"#);
    let err =
        claim::wait_for_claim(&client(&server).0, &mut store, None, &fast_wait(), |_| {}).await.expect_err("expired");
    assert_eq!(err.status(), Some(400));
    let shown = err.to_string();
    assert!(shown.contains("expired_token") && shown.contains("state expired_token"), "{shown}");
}
