//! Human co-sign approvals: recognise a pending approval and wait for the human's decision.
//!
//! Hiring, funding or approving a milestone, and ending a funded contract return 202 with an
//! [`Approval`] whose `approvalUrl` a signed-in human must open. Nothing in
//! this crate can confirm an approval; [`wait_for_approval`] only watches for the outcome.

use std::time::Duration;

use tokio::time::Instant;

use crate::{
    Client, Run,
    error::{Error, Result},
    types::{self, Approval, ApprovalPending, ApprovalStatusKnown, EndContractResult},
    within,
};

impl Approval {
    /// Whether a human has decided (or the window lapsed): confirmed, declined or expired.
    /// Values this crate does not know count as final, so a wait never outlives a new state.
    pub fn is_final(&self) -> bool {
        !matches!(self.status, None | Some(types::ApprovalStatus::Known(ApprovalStatusKnown::Pending)))
    }

    /// Whether the action was executed.
    pub fn is_confirmed(&self) -> bool {
        matches!(self.status, Some(types::ApprovalStatus::Known(ApprovalStatusKnown::Confirmed)))
    }
}

impl EndContractResult {
    /// The approval a human must confirm, when the contract had funded milestones.
    pub fn pending_approval(&self) -> Option<&ApprovalPending> {
        match self {
            EndContractResult::ApprovalPending(p) => Some(p),
            EndContractResult::ContractEnded(_) => None,
        }
    }
}

/// Options for [`wait_for_approval`].
#[derive(Clone, Debug)]
pub struct ApprovalWait {
    /// Give up after this long.
    pub timeout: Duration,
    /// First delay between polls.
    pub initial_interval: Duration,
    /// The delay grows by half each poll up to this.
    pub max_interval: Duration,
}

impl Default for ApprovalWait {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            initial_interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(30),
        }
    }
}

/// Polls `GET /approvals/{id}` until a human confirms or declines it or it expires, and returns
/// the final approval (its `result` holds the execution evidence when confirmed).
///
/// `on_poll` sees every state read, for progress displays. `wait.timeout` is a wall-clock
/// deadline that covers the polls themselves: a poll the API leaves unanswered is cut off when
/// it runs out (see [`within`]), and the wait ends with [`Error::WaitTimedOut`]
/// carrying the last status seen. Cancel it by dropping the future.
/// Nothing here can confirm an approval: only a human in the OpenTrain app can.
///
/// ```no_run
/// # async fn f(client: opentrain::Client, pending: opentrain::types::ApprovalPending) -> opentrain::Result<()> {
/// println!("Ask a human to open {}", pending.approval.approval_url.as_deref().unwrap_or("the app"));
/// let id = pending.approval.id.clone().unwrap_or_default();
/// let done = opentrain::approvals::wait_for_approval(&client, &id, &Default::default(), |_| {}).await?;
/// println!("final status: {:?}", done.status);
/// # Ok(()) }
/// ```
pub async fn wait_for_approval(
    client: &Client,
    approval_id: &str,
    wait: &ApprovalWait,
    mut on_poll: impl FnMut(&Approval),
) -> Result<Approval> {
    let start = Instant::now();
    let deadline = start + wait.timeout;
    let mut interval = wait.initial_interval;
    let mut last_state: Option<String> = None;
    let timed_out = |last: Option<String>| Error::WaitTimedOut {
        what: format!("approval {approval_id}"),
        waited: start.elapsed(),
        last_state: last.unwrap_or_else(|| "unknown: no poll was answered in time".into()),
    };
    loop {
        let poll = within(deadline, client.get_approval().approval_id(approval_id).send().run()).await;
        let approval = match poll {
            Ok(r) => r.approval,
            // The deadline cut the poll off: that is the wait running out, not a network fault.
            Err(Error::Timeout { .. }) if Instant::now() >= deadline => return Err(timed_out(last_state)),
            Err(e) => return Err(e),
        };
        on_poll(&approval);
        if approval.is_final() {
            return Ok(approval);
        }
        last_state = Some(approval.status.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into()));
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(last_state));
        }
        tokio::time::sleep(interval.min(left)).await;
        interval = interval.mul_f64(1.5).min(wait.max_interval);
    }
}
