//! SIGTERM behaves like Ctrl-C: a wait stops cleanly with exit 130 and says how to resume.

use std::process::{Command, Stdio};

use serde_json::json;

use super::*;

#[tokio::test]
async fn sigterm_stops_a_wait_like_ctrl_c() {
    let t = Cli::start().await;
    let mut pending = fixture("money__POST_milestones_{milestoneId}_fund__response.json");
    pending["approval"]["status"] = json!("pending");
    pending["approval"]["id"] = json!("apr_1");
    t.on("GET", "/api/public/v1/approvals/apr_1", 200, pending).await;
    let child = t
        .process()
        .env("OT_API_TOKEN", TOKEN)
        .env("OT_API_BASE_URL", t.server.base_url())
        .args(["approvals", "wait", "--approval-id", "apr_1", "--interval", "0.05"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    t.wait_for_requests(2).await;
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("exits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "exits cleanly, not killed: {err}");
    assert!(err.contains("Interrupted: stopped waiting; approval apr_1 is unchanged"), "{err}");
}
