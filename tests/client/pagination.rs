//! Cursor streams across pages: every item once, in order, then stop.

use futures::TryStreamExt;
use httpmock::MockServer;
use opentrain::types::{JobStatus, JobStatusKnown};
use opentrain_httpmock::operations::{ListCreditLedgerWhen, ListMyJobsWhen, PollUpdatesWhen, ReadMessagesWhen};
use serde_json::json;

use super::{Reply, calls, client, strays};

fn job(i: usize) -> serde_json::Value {
    json!({"id": format!("j_{i}"), "title": format!("Job {i}"), "status": "OPEN"})
}

#[tokio::test]
async fn follows_next_cursor_across_three_pages() {
    let server = MockServer::start_async().await;
    let pages = [(None, Some("c2"), 0..3), (Some("c2"), Some("c3"), 3..6), (Some("c3"), None, 6..7)];
    let open = JobStatus::from(JobStatusKnown::Open);
    let mut mocks = Vec::new();
    for (cursor, next, range) in pages {
        let jobs: Vec<_> = range.map(job).collect();
        let mock = server
            .mock_async(|when, then| {
                // A missing cursor is matched as absent, not as any value.
                ListMyJobsWhen::new(when).limit(std::num::NonZeroU64::new(3)).status(&open).cursor(cursor);
                then.json(200, json!({"jobs": jobs, "nextCursor": next}));
            })
            .await;
        mocks.push(mock);
    }
    let (c, _) = client(&server);
    let ids: Vec<String> = c
        .list_my_jobs_stream(|b| b.limit(3).status(opentrain::types::JobStatusKnown::Open))
        .map_ok(|j| j.id)
        .try_collect()
        .await
        .expect("all pages");
    assert_eq!(ids, (0..7).map(|i| format!("j_{i}")).collect::<Vec<_>>());
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn the_updates_feed_stops_on_has_more_false_and_on_an_echoed_cursor() {
    let server = MockServer::start_async().await;
    let ev = |id: &str| json!({"id": id, "type": "proposal.received", "apiVersion": "v1", "createdAt": "2026-06-12T10:00:00.000Z", "data": {"proposalId": "p", "jobId": "j"}});
    server
        .mock_async(|when, then| {
            PollUpdatesWhen::new(when).cursor(None);
            then.json(200, json!({"events": [ev("1"), ev("2")], "nextCursor": "2", "hasMore": true}));
        })
        .await;
    server
        .mock_async(|when, then| {
            PollUpdatesWhen::new(when).cursor("2");
            then.json(200, json!({"events": [ev("3")], "nextCursor": "3", "hasMore": false}));
        })
        .await;
    let (c, _) = client(&server);
    let ids: Vec<String> = c.poll_updates_stream(|b| b).map_ok(|e| e.id).try_collect().await.expect("feed");
    assert_eq!(ids, ["1", "2", "3"]);

    // Caught up: an empty page echoes the cursor it was given; the stream ends instead of looping.
    let server = MockServer::start_async().await;
    let echo = server
        .mock_async(|when, then| {
            PollUpdatesWhen::new(when).cursor("9");
            then.json(200, json!({"events": [], "nextCursor": "9"}));
        })
        .await;
    let stray = strays(&server).await;
    let (c, _) = client(&server);
    let n = c.poll_updates_stream(|b| b.cursor("9")).try_collect::<Vec<_>>().await.expect("empty").len();
    assert_eq!(n, 0);
    assert!(calls([&echo, &stray]).await <= 2);
}

#[tokio::test]
async fn an_error_mid_stream_is_yielded_and_ends_it() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            ListCreditLedgerWhen::new(when).cursor(None);
            then.json(200, json!({"entries": [{"id": "l1", "type": "TOP_UP", "amountCents": 1000, "createdAt": "x"}], "nextCursor": "n"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            ListCreditLedgerWhen::new(when).cursor("n");
            then.json(400, json!({"error": "bad cursor", "code": "BAD_REQUEST", "requestId": "r"}));
        })
        .await;
    let (c, _) = client(&server);
    let s = c.list_credit_ledger_stream(|b| b);
    let mut s = std::pin::pin!(s);
    assert!(s.try_next().await.expect("first item").is_some());
    let err = s.try_next().await.expect_err("second page fails");
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn an_alternating_cursor_is_an_error_not_an_endless_loop() {
    let server = MockServer::start_async().await;
    // c1 -> c2 -> c1 -> ...: before the fix the stream never ended.
    let mut mocks = Vec::new();
    for (cursor, next) in [(None, "c1"), (Some("c1"), "c2"), (Some("c2"), "c1")] {
        let mock = server
            .mock_async(|when, then| {
                ListMyJobsWhen::new(when).cursor(cursor);
                then.json(200, json!({"jobs": [job(0)], "nextCursor": next}));
            })
            .await;
        mocks.push(mock);
    }
    let (c, _) = client(&server);
    let err = c.list_my_jobs_stream(|b| b).try_collect::<Vec<_>>().await.expect_err("a loop is an error");
    assert!(err.to_string().contains("pagination loop"), "{err}");
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn the_messages_of_a_conversation_stream_across_pages() {
    let server = MockServer::start_async().await;
    let msg = |id: &str| json!({"id": id, "conversationId": "cv_1", "content": format!("hello {id}")});
    let first = server
        .mock_async(|when, then| {
            ReadMessagesWhen::new(when).conversation_id("cv_1").cursor(None);
            then.json(200, json!({"messages": [msg("m1"), msg("m2")], "nextCursor": "c2"}));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            ReadMessagesWhen::new(when).conversation_id("cv_1").cursor("c2");
            then.json(200, json!({"messages": [msg("m3")], "nextCursor": null}));
        })
        .await;
    let (c, _) = client(&server);
    let ids: Vec<String> =
        c.messages_stream(|b| b.conversation_id("cv_1")).map_ok(|m| m.id).try_collect().await.expect("both pages");
    assert_eq!(ids, ["m1", "m2", "m3"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

/// Without a conversation id `GET /messages` lists conversations: the summaries stream across
/// pages too, and a summary page reads as such through the typed accessors.
#[tokio::test]
async fn conversation_summaries_stream_across_pages() {
    let server = MockServer::start_async().await;
    let conv = |id: &str| json!({"id": id, "type": "DIRECT_MESSAGE"});
    let first = server
        .mock_async(|when, then| {
            ReadMessagesWhen::new(when).cursor(None).into_inner().query_param_missing("conversationId");
            then.json(200, json!({"conversations": [conv("cv_1"), conv("cv_2")], "nextCursor": "c2"}));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            ReadMessagesWhen::new(when).cursor("c2");
            then.json(200, json!({"conversations": [conv("cv_3")], "nextCursor": null}));
        })
        .await;
    let (c, _) = client(&server);
    let ids: Vec<String> = c.conversations_stream(|b| b).map_ok(|s| s.id).try_collect().await.expect("both pages");
    assert_eq!(ids, ["cv_1", "cv_2", "cv_3"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;

    let page = c.read_messages().send().await.expect("first page").into_inner();
    assert_eq!(page.conversations().iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["cv_1", "cv_2"]);
    assert!(page.messages().is_empty());
    assert_eq!(page.next_cursor(), Some("c2"));
}

/// The cursor rule every stream and `--all` share: starting from a held cursor, an echo of it
/// ends the listing, and a listing longer than MAX_PAGES pages is an error.
#[test]
fn cursors_start_at_a_held_cursor_and_stop_past_max_pages() {
    use opentrain::paginate::{Cursors, MAX_PAGES};
    let mut held = Cursors::starting_at(Some("c7".into()));
    assert_eq!(held.current(), Some("c7"));
    assert_eq!(held.next(Some("c7"), None).expect("echo"), None, "an echoed cursor ends the listing");

    let mut c = Cursors::starting_at(None);
    assert_eq!(c.current(), None);
    let mut err = None;
    for i in 0..=MAX_PAGES {
        match c.next(Some(&format!("c{i}")), Some(true)) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("page {i} ended the listing"),
            Err(e) => {
                err = Some((i, e));
                break;
            }
        }
    }
    let (at, e) = err.expect("the listing is cut off");
    assert!((MAX_PAGES - 1..=MAX_PAGES).contains(&at), "cut off at page {at}: {e}");
}

/// An open enum hands back its known value, and an unknown one as the text the server sent.
#[test]
fn open_enums_give_back_the_known_value() {
    let open = JobStatus::from(JobStatusKnown::Open);
    assert_eq!(open.known(), Some(&JobStatusKnown::Open));
    let later: JobStatus = serde_json::from_value(json!("ARCHIVED_LATER")).expect("any string");
    assert_eq!(later.known(), None);
    assert_eq!(later.to_string(), "ARCHIVED_LATER");
}
