//! File inputs are capped: a file over the limit, or one without end, is refused by name.

use std::time::Duration;

use serde_json::json;

use super::*;

#[tokio::test]
async fn an_input_file_over_the_cap_is_refused_without_reading_it_all() {
    let t = Cli::start().await;
    t.on("POST", "/api/public/v1/job-drafts", 201, json!({"jobId": "j1"})).await;
    // Sparse: 17 MiB long, no disk used.
    let big = t.dir.path().join("big.txt");
    std::fs::File::create(&big).expect("create").set_len(17 << 20).expect("size");
    let o = fails(t.cmd().args(["jobs", "draft", "create", "--description-file"]).arg(&big), 2);
    let err = stderr(&o);
    assert!(err.contains("big.txt") && err.contains("16 MiB"), "names the file and the limit: {err}");
    assert!(t.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_endless_input_file_is_refused() {
    let t = Cli::start().await;
    let o = fails(
        t.cmd().args(["jobs", "draft", "create", "--description-file", "/dev/zero"]).timeout(Duration::from_secs(20)),
        2,
    );
    assert!(stderr(&o).contains("/dev/zero") && stderr(&o).contains("16 MiB"), "{}", stderr(&o));
}
