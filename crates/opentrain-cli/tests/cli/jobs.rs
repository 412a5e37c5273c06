//! `jobs`: drafts from files and `--set`, lists (golden human output, exact `--json`, `--all`),
//! publish, invite, close, update-published.

use opentrain::types;
use opentrain_httpmock::operations as ops;
use serde_json::{Value, json};

use super::*;

fn job(id: &str, title: &str, status: &str, total: i64, new: i64) -> Value {
    json!({
        "id": id, "title": title, "status": status, "published": status != "DRAFT", "acceptingApplicants": true,
        "createdAt": "2026-06-10T11:02:00.000Z", "updatedAt": "2026-06-11T09:15:00.000Z",
        "jobUrl": format!("https://app.opentrain.ai/jobs/{id}"),
        "proposalCounts": {"total": total, "unreviewed": new}
    })
}

fn public_job(id: &str, title: &str) -> Value {
    json!({
        "id": id, "slug": id, "title": title, "companyName": "Acme", "status": "OPEN",
        "datePosted": "2026-06-01T12:00:00.000Z", "languages": ["Spanish"], "category": "Audio Annotation",
        "pay": {"paymentType": "PAY_PER_HOUR", "currency": "USD", "hourlyRate": 12},
        "url": format!("https://app.opentrain.ai/jobs/{id}"), "futureField": {"kept": true}
    })
}

#[tokio::test]
async fn list_prints_an_aligned_table_with_the_next_step() {
    let t = Cli::start().await;
    let page = json!({
        "jobs": [
            job("job_8f2a", "Spanish Sentiment Labeling — Social Media Posts", "OPEN", 12, 5),
            job("job_19", "Bounding boxes for street scenes", "DRAFT", 0, 0),
            job("job_300c", "Medical transcript QA", "ONGOING", 3, 0),
        ],
        "nextCursor": "c_2"
    });
    t.on("GET", "/api/public/v1/jobs/mine", 200, page).await;
    let o = ok(t.cmd().args(["jobs", "list", "--status", "OPEN", "--limit", "3"]));
    insta::assert_snapshot!("jobs_list_human", stdout(&o));
    assert_eq!(query(&t.only_request()), [("limit".into(), "3".into()), ("status".into(), "OPEN".into())]);
}

#[tokio::test]
async fn list_fits_the_terminal_width() {
    let t = Cli::start().await;
    t.on("GET", "/api/public/v1/jobs/mine", 200, fixture("jobs__GET_jobs_mine__response.json")).await;
    let o = ok(t.cmd().env("COLUMNS", "60").args(["jobs", "list"]));
    insta::assert_snapshot!("jobs_list_60_columns", stdout(&o));
    assert!(stdout(&o).lines().all(|l| console::measure_text_width(l) <= 60), "{}", stdout(&o));
}

#[tokio::test]
async fn search_json_prints_the_exact_response_without_a_token() {
    let t = Cli::start().await;
    let page =
        json!({"jobs": [public_job("j1", "Spanish audio")], "nextCursor": null, "generatedAt": "2026-06-12T00:00:00Z"});
    t.on("GET", "/api/public/v1/jobs", 200, page.clone()).await;
    let o = ok(t.cmd().args(["jobs", "search", "--q", "spanish", "--pay-type", "PAY_PER_HOUR", "--json"]));
    assert_eq!(stdout(&o), serde_json::to_string_pretty(&page).expect("json") + "\n");
    let r = t.only_request();
    assert_eq!(query(&r), [("payType".into(), "PAY_PER_HOUR".into()), ("q".into(), "spanish".into())]);
    assert_eq!(auth_header(&r), None, "search is tokenless: the token is never sent");
    // Tokenless: works with no token configured at all.
    ok(t.bare().args(["jobs", "search", "--base-url", &t.server.base_url()]));
}

#[tokio::test]
async fn all_follows_cursors_across_pages() {
    let t = Cli::start().await;
    let pages = [
        (None, json!({"jobs": [public_job("j1", "One"), public_job("j2", "Two")], "nextCursor": "c2"})),
        (Some("c2"), json!({"jobs": [public_job("j3", "Three")], "nextCursor": "c3"})),
        (Some("c3"), json!({"jobs": [public_job("j4", "Four")], "nextCursor": null})),
    ];
    let mut mocks = Vec::new();
    for (cursor, body) in &pages {
        let page = typed(&t.server, ops::SearchJobsWhen::new, ops::SearchJobsThen::new, |when, then| {
            when.cursor(*cursor);
            json(then.into_inner(), 200, body);
        });
        mocks.push(page.await);
    }
    let o = ok(t.cmd().args(["jobs", "search", "--all", "--limit", "2"]));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with('j')).collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("ID")).count(), 1, "one header for the whole stream:\n{out}");
    assert!(!out.contains("--cursor"), "no 'more results' hint after --all:\n{out}");

    let o = ok(t.cmd().args(["jobs", "search", "--all", "--limit", "2", "--json"]));
    let docs: Vec<Value> =
        serde_json::Deserializer::from_slice(&o.stdout).into_iter().collect::<Result<_, _>>().expect("JSON stream");
    assert_eq!(docs, pages.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>(), "each page exactly as received");
    for r in t.requests() {
        assert!(query(&r).contains(&("limit".into(), "2".into())), "the page size is kept on every page");
    }
    for page in mocks {
        page.assert_calls_async(2).await;
    }
}

#[tokio::test]
async fn draft_create_reads_the_description_file_and_prepends_the_title() {
    let t = Cli::start().await;
    let created: types::JobDraftCreated = serde_json::from_value(json!({
        "ok": true, "jobId": "job_1", "status": "DRAFT", "reviewUrl": "https://app.opentrain.ai/job-post?jobId=job_1",
        "validation": {"publishReady": false, "missingFields": ["pricePerLabel"]},
        "missingFields": [{"field": "pricePerLabel", "label": "Price per label"}]
    }))
    .expect("a JobDraftCreated");
    typed(&t.server, ops::CreateJobDraftWhen::new, ops::CreateJobDraftThen::new, |_, then| {
        then.created(&created);
    })
    .await;
    let file = t.dir.path().join("job.txt");
    std::fs::write(&file, "Label 5,000 Spanish tweets for sentiment.\n").expect("write");
    let o = ok(t.cmd().args(["jobs", "draft", "create", "--description-file"]).arg(&file).args([
        "--title",
        "Spanish sentiment",
        "--idempotency-key",
        "k-1",
        "--external-id",
        "ext-9",
    ]));
    assert_eq!(
        json_body(&t.only_request()),
        json!({
            "rawJobDescription": "Spanish sentiment\n\nLabel 5,000 Spanish tweets for sentiment.\n",
            "idempotencyKey": "k-1", "externalId": "ext-9"
        })
    );
    let out = stdout(&o);
    assert!(out.contains("Created draft job_1."), "{out}");
    assert!(out.contains("opentrain jobs draft update --job-id job_1 --set pricePerLabel=<value>"), "{out}");

    let o = fails(t.cmd().args(["jobs", "draft", "create"]), 2);
    assert!(stderr(&o).starts_with("Usage error: "), "{}", stderr(&o));
}

#[tokio::test]
async fn draft_update_types_set_values_from_the_spec_and_rejects_unknown_keys() {
    let t = Cli::start().await;
    t.on("PATCH", "/api/public/v1/job-drafts/job_1", 200, fixture("jobs__PATCH_job-drafts_{jobId}__response.json"))
        .await;
    let o = ok(t.cmd().args([
        "jobs",
        "draft",
        "update",
        "--job-id",
        "job_1",
        "--set",
        "experienceLevel=INTERMEDIATE",
        "--set",
        "paymentType=PAY_PER_LABEL",
        "--set",
        "pricePerLabel=0.06",
        "--set",
        "headcount=5",
        "--set",
        "languages=Spanish,English",
        "--set",
        "visibility=true",
    ]));
    assert_eq!(
        json_body(&t.only_request()),
        json!({
            "experienceLevel": "INTERMEDIATE", "paymentType": "PAY_PER_LABEL", "pricePerLabel": 0.06,
            "headcount": 5, "languages": ["Spanish", "English"], "visibility": true
        })
    );
    assert!(stdout(&o).contains("opentrain jobs publish --job-id <JOB_ID>"), "{}", stdout(&o));

    let o = fails(t.cmd().args(["jobs", "draft", "update", "--job-id", "job_1", "--set", "title=Hi"]), 2);
    let err = stderr(&o);
    assert!(err.starts_with("Usage error: --set: the job draft has no field `title`; accepted fields: "), "{err}");
    for key in ["jobTitle", "jobDescription", "pricePerHour", "headcount", "visibility"] {
        assert!(err.contains(key), "lists {key}: {err}");
    }
    fails(t.cmd().args(["jobs", "draft", "update", "--job-id", "job_1", "--set", "headcount=many"]), 2);
    fails(t.cmd().args(["jobs", "draft", "update", "--job-id", "job_1"]), 2);
    assert_eq!(t.requests().len(), 1, "usage errors send nothing");
}

#[tokio::test]
async fn publish_invite_close_and_update_published() {
    let t = Cli::start().await;
    t.on("POST", "/api/public/v1/jobs/job_1/publish", 200, fixture("jobs__POST_jobs_{id}_publish__response.json"))
        .await;
    t.on("POST", "/api/public/v1/jobs/job_1/invites", 201, fixture("jobs__POST_jobs_{id}_invites__response.json"))
        .await;
    t.on("POST", "/api/public/v1/jobs/job_1/close", 200, fixture("jobs__POST_jobs_{id}_close__response.json")).await;
    t.on(
        "PATCH",
        "/api/public/v1/jobs/job_1",
        200,
        json!({"ok": true, "jobId": "job_1", "status": "OPEN", "moderation": {"decision": "approved"}}),
    )
    .await;

    let o = ok(t.cmd().args(["jobs", "publish", "--job-id", "job_1"]));
    assert!(stdout(&o).contains("Published job <JOB_ID>."), "{}", stdout(&o));
    ok(t.cmd().args(["jobs", "publish", "job_1"]));
    fails(t.cmd().args(["jobs", "publish"]), 2);
    let o = ok(t.cmd().args(["jobs", "invite", "--job-id", "job_1", "--freelancer-id", "usr_9"]));
    assert!(stdout(&o).contains("start-proposal-thread --proposal-id <PROPOSAL_ID>"), "{}", stdout(&o));
    ok(t.cmd().args(["jobs", "close", "--job-id", "job_1"]));
    let o = ok(t.cmd().args(["jobs", "update-published", "--job-id", "job_1", "--set", "jobTitle=New title"]));
    assert!(stdout(&o).contains("approved"), "{}", stdout(&o));

    let reqs = t.requests();
    let seen: Vec<String> = reqs.iter().map(|r| format!("{} {}", r.method_str(), r.uri().path())).collect();
    assert_eq!(
        seen,
        [
            "POST /api/public/v1/jobs/job_1/publish",
            "POST /api/public/v1/jobs/job_1/publish",
            "POST /api/public/v1/jobs/job_1/invites",
            "POST /api/public/v1/jobs/job_1/close",
            "PATCH /api/public/v1/jobs/job_1",
        ]
    );
    assert_eq!(json_body(&reqs[2]), json!({"freelancerId": "usr_9"}));
    assert_eq!(json_body(&reqs[4]), json!({"jobTitle": "New title"}));
    for r in &reqs {
        assert_eq!(auth_header(r).as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
    }
}

#[tokio::test]
async fn an_update_answered_without_a_body_is_done_and_says_so() {
    // The docs only infer this status, so a 204 is success; nothing of a body is made up.
    let t = Cli::start().await;
    t.server
        .mock_async(|when, then| {
            when.method("PATCH").path("/api/public/v1/jobs/job_1");
            then.status(204);
        })
        .await;
    let o = ok(t.cmd().args(["jobs", "update-published", "--job-id", "job_1", "--set", "jobTitle=New title"]));
    let out = stdout(&o);
    assert!(out.contains("Done. The API answered success with no body"), "{out}");
    assert!(!out.contains("Updated job"), "no summary of an absent body: {out}");
    let o = ok(t.cmd().args(["jobs", "update-published", "--job-id", "job_1", "--set", "jobTitle=New", "--json"]));
    assert_eq!(stdout(&o).trim(), "null", "--json shows the absent body as it is");
}
