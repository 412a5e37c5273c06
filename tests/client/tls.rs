//! The TLS backend chosen by the crate's features: a client builds and talks in every combination.

use httpmock::MockServer;
use opentrain::{Client, Error, RetryPolicy, Run, Token};
use opentrain_httpmock::operations::GetAuthMeWhen;
use serde_json::json;

/// With the default features (rustls on ring, no provider installed by anyone), building the
/// client must not panic and a plain-HTTP call must go through.
#[tokio::test]
async fn default_features_client_builds_and_calls_plain_http() {
    let server = MockServer::start_async().await;
    let me = server
        .mock_async(|when, then| {
            GetAuthMeWhen::new(when);
            then.status(200).json_body(json!({"actor": {"userId": "u_1", "email": "owner@example.com"}, "token": {"id": "t_1", "scopes": ["jobs:read"]}, "account": {"kind": "employer_organization"}}));
        })
        .await;
    let c = Client::builder()
        .base_url(server.base_url())
        .token(Token::new("ot_pat_test_secret"))
        .build()
        .expect("client builds");
    let got = c.get_auth_me().send().run().await.expect("plain-HTTP call succeeds");
    assert_eq!(got.actor.email.as_deref(), Some("owner@example.com"));
    me.assert_async().await;
}

/// An https:// base URL really starts a TLS handshake (the crypto provider is in place): the
/// 127.0.0.1 listener receives a TLS handshake record (0x16), then hangs up, and the call ends
/// in a transport error rather than a panic or a "no TLS backend" refusal.
#[cfg(any(feature = "rustls", feature = "rustls-aws-lc", feature = "native-tls"))]
#[tokio::test]
async fn https_base_url_starts_a_tls_handshake() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut first = [0u8; 1];
        sock.read_exact(&mut first).await.expect("read");
        // Sent before the socket drops, so it is queued before the client can see the hang-up.
        tx.send(first[0]).expect("send");
    });
    let c = Client::builder()
        .base_url(format!("https://127.0.0.1:{port}"))
        .token(Token::new("ot_pat_test_secret"))
        .retry(RetryPolicy::none())
        .build()
        .expect("client builds");
    let err = c.get_auth_me().send().run().await.expect_err("the listener hangs up");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(rx.try_recv().ok(), Some(0x16), "the client sent a TLS handshake record");
    server.await.expect("listener task");
}
