//! Agent onboarding: register an account, start the claim ceremony, and wait for the human.
//!
//! 1. [`register`] creates an unclaimed account and saves its token and claim token in `cli.json`.
//! 2. [`start_claim`] emails the human a link; show them `verification_uri` and `user_code`.
//! 3. [`wait_for_claim`] polls until the human finishes, then replaces the saved token with the
//!    post-claim one and drops the claim token (pre-claim tokens stop working at that moment).

use std::time::Duration;

use tokio::time::Instant;

use crate::{
    Client, CredentialsFile, Run, Token,
    error::{ConfigError, Error, Result},
    types,
};

/// The grant type of the claim poll.
pub const CLAIM_GRANT_TYPE: &str = "urn:opentrain:agent-auth:grant-type:claim";

/// Options for [`register`].
#[derive(Clone, Debug, Default)]
pub struct RegisterOptions {
    /// Label shown to the human on the claim page (e.g. "Claude Code").
    pub agent_name: Option<String>,
    /// Name of the employer organization created with the account.
    pub organization_name: Option<String>,
    /// Replace credentials already saved (the old account becomes unreachable from this machine).
    pub force: bool,
}

/// Registers a new agent account and saves its tokens in `store`.
///
/// Refuses, before any request, when `store` already holds a token or claim token and
/// `force` is not set: registering again would orphan that account. The file's lock is held
/// from that check through the request to the save, so of two registrations racing on one
/// file (two terminals, two MCP servers) the second waits, sees the first one's account and
/// refuses without creating another.
pub async fn register(
    client: &Client,
    store: &mut CredentialsFile,
    options: &RegisterOptions,
) -> Result<types::AgentRegistration> {
    let held_before = store.is_locked();
    store.lock_async().await?;
    let outcome = register_locked(client, store, options).await;
    if !held_before {
        store.unlock();
    }
    outcome
}

async fn register_locked(
    client: &Client,
    store: &mut CredentialsFile,
    options: &RegisterOptions,
) -> Result<types::AgentRegistration> {
    if !options.force && (store.api_token().is_some() || store.claim_token().is_some()) {
        return Err(ConfigError::CredentialsExist { path: store.path().to_path_buf() }.into());
    }
    let body = types::RegisterAgentRequest {
        agent_name: options.agent_name.clone(),
        organization_name: options.organization_name.clone(),
        identity_type: None,
    };
    let reg = client.register_agent().body(body).send().run().await?;
    store.set_api_token(Some(&reg.access_token));
    store.set_claim_token(reg.claim_token.as_ref());
    store.set_base_url(Some(progenitor_client::ClientInfo::baseurl(client)));
    store.save_async().await?;
    Ok(reg)
}

/// The claim token to use: `explicit` if given, else the saved one, else [`ConfigError::NoClaimToken`].
pub fn claim_token_or_saved(explicit: Option<Token>, store: &CredentialsFile) -> Result<Token> {
    explicit.or_else(|| store.claim_token()).ok_or_else(|| ConfigError::NoClaimToken.into())
}

/// Saves a post-claim token in one atomic write: it replaces the saved token and the claim token
/// is dropped (the pre-claim tokens stopped working when the human finished). Only those two keys
/// change: the file is re-read under its lock, so anything else written meanwhile stays.
pub async fn save_claimed(store: &mut CredentialsFile, token: &types::AgentTokenResponse) -> Result<()> {
    store.set_api_token(Some(&token.access_token));
    store.set_claim_token(None);
    store.save_async().await
}

/// What [`start_claim`] reports when the server answers success without a body.
pub const NO_USER_CODE: &str = "the server accepted the claim start but sent no body, so it returned no user code \
     and no verification link to give the human (none is made up); start the claim again, or ask the human \
     whether an email with the claim link arrived";

/// Starts (or restarts) the claim ceremony for `email`. `claim_token` defaults to the saved one.
///
/// A success without a body (the docs only infer the status, so a 204 is allowed) carries no
/// user code: that is [`Error::InvalidResponse`] with [`NO_USER_CODE`] as its reason, since
/// the ceremony cannot go on without the code the human types.
pub async fn start_claim(
    client: &Client,
    store: &CredentialsFile,
    email: &str,
    claim_token: Option<Token>,
) -> Result<types::ClaimAttempt> {
    start_claim_with(client, claim_token_or_saved(claim_token, store)?, email).await
}

/// [`start_claim`] with an explicit claim token and no credentials file (a server that keeps
/// no credentials, such as the MCP server over HTTP). Same outcomes, [`NO_USER_CODE`] included.
pub async fn start_claim_with(client: &Client, claim_token: Token, email: &str) -> Result<types::ClaimAttempt> {
    let body = types::StartClaimRequest { claim_token, email: email.to_string() };
    client.start_claim().body(body).send().run().await?.ok_or_else(|| Error::InvalidResponse {
        status: None,
        reason: NO_USER_CODE.into(),
        snippet: String::new(),
    })
}

/// One state of the claim poll, reported to the [`wait_for_claim`] callback.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimState {
    /// The human has not finished yet; the next poll is after `next_poll_in`.
    Pending {
        /// Time since the wait began.
        elapsed: Duration,
        /// Delay before the next poll.
        next_poll_in: Duration,
    },
    /// The server asked to poll more slowly; the interval is now `interval`.
    SlowDown {
        /// Time since the wait began.
        elapsed: Duration,
        /// The new polling interval.
        interval: Duration,
    },
    /// Claimed: the post-claim token was received and saved.
    Claimed,
}

/// The outcome of a single poll.
#[derive(Debug)]
pub enum Poll {
    /// `authorization_pending`.
    Pending,
    /// `slow_down`, with the server's new interval when it sent one.
    SlowDown(Option<Duration>),
    /// The post-claim token (delivered exactly once).
    Claimed(types::AgentTokenResponse),
}

/// Polls the token endpoint once. `expired_token`, `invalid_grant` and other failures are errors.
pub async fn poll_once(client: &Client, claim_token: &Token) -> Result<Poll> {
    let body = types::AgentTokenRequest {
        grant_type: types::AgentGrantType::Known(types::AgentGrantTypeKnown::UrnOpentrainAgentAuthGrantTypeClaim),
        claim_token: claim_token.clone(),
    };
    match client.poll_agent_token().body(body).send().run().await {
        Ok(t) => Ok(Poll::Claimed(t)),
        Err(Error::OAuth(e)) if e.error == "authorization_pending" => Ok(Poll::Pending),
        Err(Error::OAuth(e)) if e.error == "slow_down" => Ok(Poll::SlowDown(e.interval.map(Duration::from_secs))),
        Err(e) => Err(e),
    }
}

/// Options for [`wait_for_claim`].
#[derive(Clone, Debug)]
pub struct ClaimWait {
    /// Give up after this long (default 1800 s, the official CLI's).
    pub timeout: Duration,
    /// Initial polling interval: the claim attempt's `interval` (default 5 s).
    pub interval: Duration,
    /// Added to the interval on each `slow_down` without a server value (RFC 8628: 5 s).
    pub slow_down_step: Duration,
}

impl Default for ClaimWait {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(1800),
            interval: Duration::from_secs(5),
            slow_down_step: Duration::from_secs(5),
        }
    }
}

/// Polls until the human completes the claim, then saves the new token and drops the claim token
/// in one atomic write. Returns the post-claim token response.
///
/// Bounded by `wait.timeout` ([`Error::WaitTimedOut`]), in-flight polls included.
/// `expired_token` (re-register) and `invalid_grant` (already delivered) end it with
/// [`Error::OAuth`]. To stop early without risking the one-time token, use
/// [`wait_for_claim_until`] rather than dropping this future.
pub async fn wait_for_claim(
    client: &Client,
    store: &mut CredentialsFile,
    claim_token: Option<Token>,
    wait: &ClaimWait,
    on_state: impl FnMut(&ClaimState),
) -> Result<types::AgentTokenResponse> {
    let never = std::future::pending::<()>();
    match wait_for_claim_until(client, store, claim_token, wait, never, on_state).await? {
        Some(t) => Ok(t),
        // `pending` never resolves, so the wait cannot have been stopped.
        None => Err(Error::WaitTimedOut {
            what: "the account claim".into(),
            waited: Duration::ZERO,
            last_state: "authorization_pending".into(),
        }),
    }
}

/// [`wait_for_claim`] that also ends when `stop` resolves (a signal, a cancel button), returning
/// `Ok(None)`: the claim is then still pending and a later wait resumes it.
///
/// `stop` is only raced against the pauses between polls, never against a poll in flight: the
/// server hands out the post-claim token exactly once, so a poll that has been sent runs to its
/// end (bounded by the time left in the wait) and a token it delivers is saved before this
/// returns, even when `stop` resolved meanwhile.
pub async fn wait_for_claim_until(
    client: &Client,
    store: &mut CredentialsFile,
    claim_token: Option<Token>,
    wait: &ClaimWait,
    stop: impl std::future::Future<Output = ()>,
    mut on_state: impl FnMut(&ClaimState),
) -> Result<Option<types::AgentTokenResponse>> {
    let token = claim_token_or_saved(claim_token, store)?;
    let start = Instant::now();
    let deadline = start + wait.timeout;
    let timed_out = |waited| Error::WaitTimedOut {
        what: "the account claim".into(),
        waited,
        last_state: "authorization_pending".into(),
    };
    let mut interval = wait.interval;
    // Polled only between polls; it ends the wait the first time it is ready, so it is never
    // polled again after completing.
    let mut stop = std::pin::pin!(stop);
    loop {
        let outcome = tokio::time::timeout_at(deadline, poll_once(client, &token))
            .await
            .map_err(|_| timed_out(start.elapsed()))??;
        let elapsed = start.elapsed();
        match outcome {
            Poll::Claimed(t) => {
                save_claimed(store, &t).await?;
                on_state(&ClaimState::Claimed);
                return Ok(Some(t));
            }
            Poll::Pending => on_state(&ClaimState::Pending { elapsed, next_poll_in: interval }),
            Poll::SlowDown(server) => {
                interval = server.filter(|s| *s > interval).unwrap_or(interval + wait.slow_down_step);
                on_state(&ClaimState::SlowDown { elapsed, interval });
            }
        }
        if elapsed + interval > wait.timeout {
            return Err(timed_out(elapsed));
        }
        // `futures::select` rather than `tokio::select!`: the library does not need tokio's macros.
        // It polls `stop` first, so a stop that is already due wins over a pause that also ended.
        let pause = std::pin::pin!(tokio::time::sleep(interval));
        if let futures::future::Either::Left(_) = futures::future::select(stop.as_mut(), pause).await {
            return Ok(None);
        }
    }
}
