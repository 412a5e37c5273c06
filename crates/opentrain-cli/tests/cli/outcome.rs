//! A write whose outcome is unknown (the connection closed after the request was sent) says
//! to check first, naming the command, and how to make a repeat safe; never "retry".

use std::io::Read;

use super::*;

/// A server on 127.0.0.1 that reads a request and closes the connection without answering:
/// the request was sent, its outcome is unknown.
fn closes_after_reading() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_write_with_unknown_outcome_says_check_first_never_retry() {
    let t = Cli::start().await;
    let base = closes_after_reading();
    let o = fails(
        t.bare().env("OT_API_TOKEN", TOKEN).env("OT_API_BASE_URL", &base).args([
            "jobs",
            "draft",
            "create",
            "--text",
            "Label tweets",
        ]),
        1,
    );
    let err = stderr(&o);
    assert!(!err.to_lowercase().contains("retry"), "{err}");
    assert!(err.contains("opentrain jobs list"), "names the check: {err}");
    assert!(err.contains("--idempotency-key"), "says how to make a repeat safe: {err}");

    let o = fails(
        t.bare().env("OT_API_TOKEN", TOKEN).env("OT_API_BASE_URL", &base).args([
            "proposals",
            "hire",
            "--proposal-id",
            "p1",
            "--amount",
            "10",
            "--name",
            "m",
        ]),
        1,
    );
    let err = stderr(&o);
    assert!(!err.to_lowercase().contains("retry"), "{err}");
    assert!(err.contains("opentrain proposals get --proposal-id p1"), "{err}");
}
