//! The flags scripts use: `--jq`, `--format json|ndjson|table` (NDJSON streaming `--all`),
//! whole ids on narrow terminals, `--verbose` / OPENTRAIN_LOG, `--color` and NO_COLOR.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Duration,
};

use serde_json::{Value, json};

use super::*;

const MINE: &str = "/api/public/v1/jobs/mine";

fn job(id: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "status": "OPEN", "updatedAt": "2026-06-11T09:15:00.000Z",
           "proposalCounts": {"total": 2, "unreviewed": 1}})
}

fn two_jobs() -> Value {
    json!({"jobs": [job("job_1", "Spanish audio"), job("job_2", "Street scenes")], "nextCursor": null})
}

#[tokio::test]
async fn jq_selects_fields_and_prints_strings_raw() {
    let t = Cli::start().await;
    t.on("GET", MINE, 200, two_jobs()).await;
    let o = ok(t.cmd().args(["jobs", "list", "--jq", ".jobs[].id"]));
    assert_eq!(stdout(&o), "job_1\njob_2\n");
    let o = ok(t.cmd().args(["jobs", "list", "--jq", "{id, title}", "--format", "ndjson"]));
    assert_eq!(
        stdout(&o),
        "{\"id\":\"job_1\",\"title\":\"Spanish audio\"}\n{\"id\":\"job_2\",\"title\":\"Street scenes\"}\n",
        "ndjson: the filter runs on each item, and each result is one compact line"
    );
    // A filter that returns the whole value, as pretty JSON: the same as --format json.
    let plain = ok(t.cmd().args(["jobs", "list", "--format", "json"]));
    assert_eq!(stdout(&ok(t.cmd().args(["jobs", "list", "--jq", "."]))), stdout(&plain));
}

#[tokio::test]
async fn a_bad_jq_expression_is_a_usage_error_naming_it_and_sends_nothing() {
    let t = Cli::start().await;
    t.on("GET", MINE, 200, two_jobs()).await;
    for expr in [".jobs[", "nosuchfilter(1)", "env.OT_API_TOKEN"] {
        let o = fails(t.cmd().args(["jobs", "list", "--jq", expr]), 2);
        let err = stderr(&o);
        assert!(err.starts_with(&format!("Usage error: --jq `{expr}` is not a valid jq filter: ")), "{err}");
        let envelope: Value = serde_json::from_str(err.lines().last().expect("envelope")).expect("JSON envelope");
        assert_eq!(envelope["code"], "USAGE_ERROR", "--jq implies JSON, so the envelope is printed");
    }
    let o = fails(t.cmd().args(["jobs", "list", "--jq", ".", "--format", "table"]), 2);
    assert!(stderr(&o).contains("--jq filters the JSON output"), "{}", stderr(&o));
    assert!(t.requests().is_empty(), "a usage error costs no request");

    // A filter that compiles but fails on this response: exit 1, naming the expression.
    let o = fails(t.cmd().args(["jobs", "list", "--jq", ".jobs.id"]), 1);
    assert!(stderr(&o).starts_with("Error: --jq `.jobs.id` failed: "), "{}", stderr(&o));
}

#[tokio::test]
async fn json_is_an_alias_of_format_json_and_the_later_flag_wins() {
    let t = Cli::start().await;
    t.on("GET", MINE, 200, two_jobs()).await;
    let pretty = serde_json::to_string_pretty(&two_jobs()).expect("json") + "\n";
    assert_eq!(stdout(&ok(t.cmd().args(["jobs", "list", "--json"]))), pretty);
    assert_eq!(stdout(&ok(t.cmd().args(["jobs", "list", "--format", "json"]))), pretty);
    assert_eq!(stdout(&ok(t.cmd().args(["jobs", "list", "--format", "ndjson", "--json"]))), pretty);
    let lines = stdout(&ok(t.cmd().args(["jobs", "list", "--json", "--format", "ndjson"])));
    assert_eq!(lines.lines().count(), 2, "ndjson given last: one line per job\n{lines}");
    let table = stdout(&ok(t.cmd().args(["jobs", "list", "--format", "table"])));
    assert!(table.starts_with("ID "), "{table}");
}

#[tokio::test]
async fn ndjson_prints_every_item_of_every_page_one_per_line() {
    let t = Cli::start().await;
    let pages = [
        (None, json!({"jobs": [job("job_1", "One"), job("job_2", "Two")], "nextCursor": "c2"})),
        (Some("c2"), json!({"jobs": [job("job_3", "Three")], "nextCursor": null})),
    ];
    for (cursor, body) in &pages {
        t.server
            .mock_async(|when, then| {
                let when = when.method("GET").path(MINE);
                match cursor {
                    Some(c) => when.query_param("cursor", *c),
                    None => when.query_param_missing("cursor"),
                };
                json(then, 200, body);
            })
            .await;
    }
    let o = ok(t.cmd().args(["jobs", "list", "--all", "--format", "ndjson"]));
    let items: Vec<Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).expect("each line is one JSON value")).collect();
    assert_eq!(items, [job("job_1", "One"), job("job_2", "Two"), job("job_3", "Three")]);
    let o = ok(t.cmd().args(["jobs", "list", "--all", "--format", "ndjson", "--jq", ".id"]));
    assert_eq!(stdout(&o), "job_1\njob_2\njob_3\n", "--jq runs on each item");
}

/// The second page is held back until the test has read the first page's items from the
/// running process: buffering them until the end would never let it answer.
#[tokio::test(flavor = "multi_thread")]
async fn ndjson_streams_the_first_page_before_the_second_is_answered() {
    let t = Cli::start().await;
    let page1 = json!({"jobs": [job("job_1", "One")], "nextCursor": "c2"});
    t.server
        .mock_async(|when, then| {
            when.path(MINE).query_param_missing("cursor");
            json(then, 200, &page1);
        })
        .await;
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(released));
    let held_until_timeout = Arc::new(AtomicBool::new(false));
    let timed_out = held_until_timeout.clone();
    let page2 = json!({"jobs": [job("job_2", "Two")], "nextCursor": null});
    t.server
        .mock_async(|when, then| {
            when.is_true(move |req| {
                let second = req.query_params().iter().any(|(k, v)| k == "cursor" && v == "c2");
                if second {
                    // Only a backstop: the test releases it as soon as it has read line one.
                    let waited = released.lock().expect("lock").recv_timeout(Duration::from_secs(20));
                    timed_out.store(waited.is_err(), Ordering::SeqCst);
                }
                second
            });
            json(then, 200, &page2);
        })
        .await;
    let mut child = t
        .process()
        .env("OT_API_TOKEN", TOKEN)
        .env("OT_API_BASE_URL", t.server.base_url())
        .args(["jobs", "list", "--all", "--format", "ndjson", "--jq", ".id"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let first = lines.next();
        let _ = release.send(());
        (first, lines.collect::<Vec<_>>(), child.wait().expect("exits"))
    })
    .await
    .expect("join");
    assert_eq!(lines.0.as_deref(), Some("job_1"));
    assert!(!held_until_timeout.load(Ordering::SeqCst), "job_1 came out only after page two was answered");
    assert_eq!(lines.1, ["job_2"]);
    assert!(lines.2.success());
}

#[tokio::test]
async fn ids_stay_whole_on_a_narrow_terminal() {
    let t = Cli::start().await;
    let long = ["job_01J9Z7K2M4N6P8Q0R2S4T6V8X0", "job_01J9Z7K2M4N6P8Q0R2S4T6V8X1"];
    let page = json!({"jobs": [job(long[0], "Spanish Sentiment Labeling — Social Media Posts"),
                               job(long[1], "Bounding boxes for street scenes")], "nextCursor": null});
    t.on("GET", MINE, 200, page).await;
    for columns in ["30", "50"] {
        let o = ok(t.cmd().env("COLUMNS", columns).args(["jobs", "list"]));
        let out = stdout(&o);
        for id in long {
            assert!(out.lines().any(|l| l.starts_with(&format!("{id}  "))), "{id} whole at {columns} columns:\n{out}");
        }
        assert!(out.contains('…'), "the other columns gave up width instead:\n{out}");
    }
}

#[tokio::test]
async fn verbose_logs_each_request_on_stderr_without_the_token() {
    let t = Cli::start().await;
    t.on("GET", MINE, 200, two_jobs()).await;
    let o = ok(t.cmd().args(["jobs", "list", "--verbose", "--json"]));
    let err = stderr(&o);
    let line = err.lines().find(|l| l.contains("opentrain::http")).unwrap_or_else(|| panic!("a request line: {err}"));
    for part in ["method=GET", &format!("path={MINE}"), "status=200", "attempt=1", "elapsed_ms="] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).expect("stdout stays pure JSON"), two_jobs());
    let quiet = ok(t.cmd().args(["jobs", "list", "--json"]));
    assert_eq!(stderr(&quiet), "", "nothing is logged without --verbose");

    // A token pasted where an id goes reaches the path: the log line masks it.
    t.on("GET", &format!("/api/public/v1/proposals/{TOKEN}"), 404, json!({"error": "Not found", "code": "NOT_FOUND"}))
        .await;
    let o = fails(t.cmd().args(["-v", "proposals", "get", "--proposal-id", TOKEN]), 1);
    let err = stderr(&o);
    assert!(err.contains("path=/api/public/v1/proposals/ot_pat_[redacted] status=404"), "{err}");
    assert!(!err.contains("Bearer"), "no header is logged: {err}");
}

#[tokio::test]
async fn verbose_logs_every_attempt_of_a_retried_call_without_the_token() {
    let t = Cli::start().await;
    let failed_once = Arc::new(AtomicBool::new(false));
    t.server
        .mock_async(|when, then| {
            when.path(MINE).is_true(move |_| !failed_once.swap(true, Ordering::SeqCst));
            json(then, 503, &json!({"error": "busy"}));
        })
        .await;
    t.on("GET", MINE, 200, two_jobs()).await;
    let o = ok(t.cmd().args(["jobs", "list", "-v"]));
    let err = stderr(&o);
    let attempts: Vec<&str> = err.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(attempts.len(), 2, "one line per attempt: {err}");
    for (line, (status, n)) in attempts.iter().zip([("503", "1"), ("200", "2")]) {
        for part in ["method=GET", &format!("path={MINE}"), &format!("status={status}"), &format!("attempt={n}")] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(line.contains("elapsed_ms="), "{line}");
    }
    assert!(err.contains("retrying") && err.contains("failed=HTTP 503") && err.contains("next_attempt=2"), "{err}");
    assert!(!err.contains(TOKEN) && !err.contains("Bearer"), "no token, no header: {err}");
    assert_eq!(t.requests().len(), 2);
}

#[tokio::test]
async fn opentrain_log_sets_the_filter_and_a_bad_one_is_a_usage_error() {
    let t = Cli::start().await;
    t.on("GET", MINE, 200, two_jobs()).await;
    let o = ok(t.cmd().env("OPENTRAIN_LOG", "opentrain::http=info").args(["jobs", "list"]));
    assert!(stderr(&o).contains("method=GET"), "{}", stderr(&o));
    let o = ok(t.cmd().env("OPENTRAIN_LOG", "warn").args(["jobs", "list", "--verbose"]));
    assert!(!stderr(&o).contains("method=GET"), "OPENTRAIN_LOG outranks --verbose: {}", stderr(&o));
    let o = fails(t.cmd().env("OPENTRAIN_LOG", "=[").args(["jobs", "list"]), 2);
    assert!(stderr(&o).starts_with("Usage error: OPENTRAIN_LOG=`=[` is not a log filter"), "{}", stderr(&o));
    assert_eq!(t.requests().len(), 2, "the bad filter sent nothing");
}

const BOLD: &str = "\u{1b}[1m";

#[tokio::test]
async fn color_follows_the_flag_no_color_and_clicolor_force() {
    let t = Cli::start().await;
    t.on("GET", MINE, 200, two_jobs()).await;
    let bold = |cmd: &mut assert_cmd::Command| stdout(&ok(cmd)).contains(BOLD);
    assert!(!bold(t.cmd().args(["jobs", "list"])), "a pipe gets no escapes");
    assert!(bold(t.cmd().args(["jobs", "list", "--color", "always"])), "the header is bold");
    assert!(bold(t.cmd().env("NO_COLOR", "1").args(["jobs", "list", "--color=always"])), "the flag outranks NO_COLOR");
    assert!(bold(t.cmd().env("CLICOLOR_FORCE", "1").args(["jobs", "list"])));
    assert!(!bold(t.cmd().env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1").args(["jobs", "list"])));
    assert!(!bold(t.cmd().env("CLICOLOR_FORCE", "1").args(["jobs", "list", "--color", "never"])));
    assert!(!bold(t.cmd().args(["jobs", "list", "--color", "always", "--json"])), "JSON is never styled");

    let help = |color: &str| stdout(&ok(t.bare().args(["--help", "--color", color])));
    assert!(help("always").contains('\u{1b}'), "clap's help follows --color too");
    assert!(!help("never").contains('\u{1b}'));
    fails(t.bare().args(["jobs", "list", "--color", "sometimes"]), 2);
}
