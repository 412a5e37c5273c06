//! Human co-sign approvals: recognise a pending approval and wait for the human's decision.
//!
//! Hiring, funding or approving a milestone, and ending a funded contract return 202 with an
//! [`Approval`](crate::types::Approval) whose `approvalUrl` a signed-in human must open. Nothing in
//! this crate can confirm an approval; [`wait_for_approval`] only watches for the outcome.
