//! `--all` stops on a repeated cursor with a clear error instead of looping forever.

use std::time::Duration;

use opentrain_httpmock::operations as ops;
use serde_json::json;

use super::*;

#[tokio::test]
async fn all_stops_on_an_alternating_cursor_with_a_clear_error() {
    let t = Cli::start().await;
    let page = |next: &str| json!({"jobs": [{"id": format!("job_{next}"), "title": "T"}], "nextCursor": next});
    for (cursor, next) in [(None, "c1"), (Some("c1"), "c2"), (Some("c2"), "c1")] {
        typed(&t.server, ops::ListMyJobsWhen::new, ops::ListMyJobsThen::new, |when, then| {
            when.cursor(cursor);
            json(then.into_inner(), 200, &page(next));
        })
        .await;
    }
    let o = fails(t.cmd().args(["jobs", "list", "--all"]).timeout(Duration::from_secs(20)), 1);
    assert!(stderr(&o).contains("pagination loop"), "{}", stderr(&o));
    assert_eq!(t.requests().len(), 3, "c1, c2, then c1 again: stop");
}
