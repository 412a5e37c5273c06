//! `opentrain`: a typed async client for the OpenTrain Public API, generated from `openapi.yaml`.
//!
//! The flow is `openapi.yaml` → `build.rs` (progenitor) → [`Client`] with one method per
//! operation → this hand-written layer: credentials ([`credentials`]), the transport policy and
//! error conversion ([`Run`], [`Error`]), cursor streams ([`paginate`]), the agent claim ceremony
//! ([`claim`]), human co-sign approvals ([`approvals`]) and webhook signatures ([`webhook`]).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use opentrain::{Client, Run};
//!
//! # async fn f() -> opentrain::Result<()> {
//! let client = Client::from_env()?; // OPENTRAIN_PERSONAL_API_TOKEN or cli.json
//! let me = client.get_auth_me().send().run().await?;
//! println!("signed in as {:?}", me.actor);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod approvals;
mod call;
pub mod claim;
mod client;
pub mod credentials;
mod error;
pub mod generated;
mod open_enum;
pub mod paginate;
pub mod raw;
pub mod redact;
pub mod requires;
pub mod webhook;

pub use call::{AttemptEvent, RetryEvent, RetryPolicy, Run, current_deadline, within};
pub use client::{
    AttemptObserver, ClientBuilder, DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Inner,
    RetryObserver, USER_AGENT, http_client_builder,
};
pub use credentials::{CredentialsFile, DEFAULT_BASE_URL, Resolver, Token};
pub use error::{ApiError, ConfigError, Error, IntoError, OAuthError, Result};
pub use generated::{Client, types};
pub use open_enum::OpenEnum;
pub use progenitor_client::ResponseValue;
pub use redact::{redact, redact_json};
pub use requires::{ErrorCode, ErrorReason, Requires};

/// The largest amount (USD) or data volume the CLI and the MCP server accept from a user: far
/// beyond any real milestone or top-up, so a larger number is a typo, not a hire. The API itself
/// leaves the hire amount unbounded; this is the faces' guard, kept in one place.
pub const MAX_AMOUNT: f64 = 1_000_000_000.0;
