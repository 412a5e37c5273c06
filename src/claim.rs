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
/// `force` is not set: registering again would orphan that account.
pub async fn register(
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
    store.save()?;
    Ok(reg)
}

/// The claim token to use: `explicit` if given, else the saved one, else [`ConfigError::NoClaimToken`].
pub fn claim_token_or_saved(explicit: Option<Token>, store: &CredentialsFile) -> Result<Token> {
    explicit.or_else(|| store.claim_token()).ok_or_else(|| ConfigError::NoClaimToken.into())
}

/// Saves a post-claim token in one atomic write: it replaces the saved token and the claim token
/// is dropped (the pre-claim tokens stopped working when the human finished).
pub fn save_claimed(store: &mut CredentialsFile, token: &types::AgentTokenResponse) -> Result<()> {
    store.set_api_token(Some(&token.access_token));
    store.set_claim_token(None);
    store.save()
}

/// Starts (or restarts) the claim ceremony for `email`. `claim_token` defaults to the saved one.
pub async fn start_claim(
    client: &Client,
    store: &CredentialsFile,
    email: &str,
    claim_token: Option<Token>,
) -> Result<types::ClaimAttempt> {
    let token = claim_token_or_saved(claim_token, store)?;
    let body = types::StartClaimRequest { claim_token: token, email: email.to_string() };
    client.start_claim().body(body).send().run().await
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
/// Bounded by `wait.timeout` ([`Error::WaitTimedOut`]); cancel it by dropping the future.
/// `expired_token` (re-register) and `invalid_grant` (already delivered) end it with
/// [`Error::OAuth`].
pub async fn wait_for_claim(
    client: &Client,
    store: &mut CredentialsFile,
    claim_token: Option<Token>,
    wait: &ClaimWait,
    mut on_state: impl FnMut(&ClaimState),
) -> Result<types::AgentTokenResponse> {
    let token = claim_token_or_saved(claim_token, store)?;
    let start = Instant::now();
    let mut interval = wait.interval;
    loop {
        let outcome = poll_once(client, &token).await?;
        let elapsed = start.elapsed();
        match outcome {
            Poll::Claimed(t) => {
                save_claimed(store, &t)?;
                on_state(&ClaimState::Claimed);
                return Ok(t);
            }
            Poll::Pending => on_state(&ClaimState::Pending { elapsed, next_poll_in: interval }),
            Poll::SlowDown(server) => {
                interval = server.filter(|s| *s > interval).unwrap_or(interval + wait.slow_down_step);
                on_state(&ClaimState::SlowDown { elapsed, interval });
            }
        }
        if elapsed + interval > wait.timeout {
            return Err(Error::WaitTimedOut {
                what: "the account claim".into(),
                waited: elapsed,
                last_state: "authorization_pending".into(),
            });
        }
        tokio::time::sleep(interval).await;
    }
}
