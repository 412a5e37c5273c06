//! Typed [httpmock](https://docs.rs/httpmock) expectations for every OpenTrain operation,
//! generated from the same `openapi.yaml` as the `opentrain` SDK, so a test that mocks an
//! operation with the wrong parameter or body type does not compile.
//!
//! Add it as a dev-dependency and mock the operations your code calls. Path parameters match
//! literally (progenitor formats them into a regex; we escape them), `MockServerExt` has a
//! blocking method per operation and `MockServerExtAsync` an `_async` twin for async tests.
//! Known limit: the body matcher of the form-encoded `poll_agent_token` expects JSON (progenitor's
//! generator), so match that one with `into_inner()` and httpmock's form matchers.
//!
//! ```no_run
//! use opentrain_httpmock::MockServerExtAsync;
//! # async fn f() -> opentrain::Result<()> {
//! let server = httpmock::MockServer::start_async().await;
//! let mock = server
//!     .get_auth_me_async(|when, then| {
//!         when.into_inner().header("authorization", "Bearer ot_pat_test");
//!         then.ok(&serde_json::from_value(serde_json::json!({"actor": {"type": "agent"}})).unwrap());
//!     })
//!     .await;
//! let client = opentrain::Client::builder()
//!     .token(opentrain::Token::new("ot_pat_test"))
//!     .base_url(server.base_url())
//!     .build()?;
//! // ... run your code against `client` ...
//! mock.assert_async().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/httpmock.rs"));
