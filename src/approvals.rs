//! Human co-sign approvals: recognise a pending approval and wait for the human's decision.
//!
//! Hiring, funding or approving a milestone, and ending a funded contract return 202 with an
//! [`Approval`](crate::types::Approval) whose `approvalUrl` a signed-in human must open. Nothing in
//! this crate can confirm an approval; [`wait_for_approval`] only watches for the outcome.

use std::time::Duration;

use tokio::time::Instant;

use crate::{
    Client, Run,
    error::{Error, Result},
    types::{self, Approval, ApprovalPending, ApprovalStatusKnown, EndContractResult},
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
/// `on_poll` sees every state read, for progress displays. Bounded by `wait.timeout`
/// ([`Error::WaitTimedOut`] carries the last status); cancel it by dropping the future.
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
    let mut interval = wait.initial_interval;
    loop {
        let approval = client.get_approval().approval_id(approval_id).send().run().await?.approval;
        on_poll(&approval);
        if approval.is_final() {
            return Ok(approval);
        }
        let elapsed = start.elapsed();
        if elapsed >= wait.timeout {
            return Err(Error::WaitTimedOut {
                what: format!("approval {approval_id}"),
                waited: elapsed,
                last_state: approval.status.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into()),
            });
        }
        tokio::time::sleep(interval.min(wait.timeout - elapsed)).await;
        interval = interval.mul_f64(1.5).min(wait.max_interval);
    }
}
