//! `--all` stops on a repeated cursor with a clear error instead of looping forever.

use std::time::Duration;

use serde_json::json;
use wiremock::{Mock, ResponseTemplate, matchers};

use super::*;

#[tokio::test]
async fn all_stops_on_an_alternating_cursor_with_a_clear_error() {
    let t = Cli::start().await;
    let page = |next: &str| json!({"jobs": [{"id": format!("job_{next}"), "title": "T"}], "nextCursor": next});
    let p = "/api/public/v1/jobs/mine";
    Mock::given(matchers::method("GET"))
        .and(matchers::path(p))
        .and(matchers::query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page("c1")))
        .mount(&t.server)
        .await;
    for (cursor, next) in [("c1", "c2"), ("c2", "c1")] {
        Mock::given(matchers::method("GET"))
            .and(matchers::path(p))
            .and(matchers::query_param("cursor", cursor))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(next)))
            .mount(&t.server)
            .await;
    }
    let o = fails(t.cmd().args(["jobs", "list", "--all"]).timeout(Duration::from_secs(20)), 1);
    assert!(stderr(&o).contains("pagination loop"), "{}", stderr(&o));
    assert_eq!(t.requests().await.len(), 3, "c1, c2, then c1 again: stop");
}
