//! `proposals`, `freelancers` and `messages`.

use serde_json::{Value, json};

use super::*;

fn proposal(id: &str, name: &str, status: &str) -> Value {
    json!({
        "id": id, "jobId": "job_1", "jobTitle": "Spanish sentiment", "createdAt": "2026-06-11T10:00:00.000Z",
        "status": {"raw": status, "label": status.to_lowercase()},
        "bid": {"amountUsd": 0.05, "unit": "per_label"},
        "candidate": {"id": format!("usr_{id}"), "displayName": name, "countryCode": "ES"},
        "metrics": {"interviewScore": 8.5, "matchScore": 0.92}
    })
}

#[tokio::test]
async fn proposals_list_golden_and_status_filter() {
    let t = Cli::start().await;
    let page = json!({
        "proposals": [proposal("p_1", "Maria G.", "SHORTLISTED"), proposal("p_22", "Jonathan Alexander Q.", "UNREVIEWED")],
        "nextCursor": null
    });
    t.on("GET", "/api/public/v1/jobs/job_1/proposals", 200, page).await;
    let o = ok(t.cmd().args(["proposals", "list", "--job-id", "job_1", "--status", "shortlisted"]));
    insta::assert_snapshot!("proposals_list_human", stdout(&o));
    assert_eq!(query(&t.only_request()), [("status".into(), "SHORTLISTED".into())]);
}

#[tokio::test]
async fn proposals_get_merges_the_interview() {
    let t = Cli::start().await;
    t.on("GET", "/api/public/v1/proposals/p_1", 200, json!({"proposal": proposal("p_1", "Maria G.", "SHORTLISTED")}))
        .await;
    let interview =
        json!({"proposalId": "p_1", "score": 8.5, "summary": "Strong", "messages": [{"role": "ai", "content": "Hi"}]});
    t.on("GET", "/api/public/v1/proposals/p_1/interview", 200, json!({"interview": interview})).await;
    let o = ok(t.cmd().args(["proposals", "get", "--proposal-id", "p_1", "--include-interview", "--json"]));
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["proposal"]["id"], "p_1");
    assert_eq!(v["interview"], interview);
    let o = ok(t.cmd().args(["proposals", "get", "--proposal-id", "p_1"]));
    assert!(
        stdout(&o).contains("Maria G.") && stdout(&o).contains("proposals hire --proposal-id p_1"),
        "{}",
        stdout(&o)
    );
}

#[tokio::test]
async fn hire_prints_the_approval_link_and_how_to_wait() {
    let t = Cli::start().await;
    t.on(
        "POST",
        "/api/public/v1/proposals/p_1/hire",
        202,
        fixture("proposals__POST_proposals_{proposalId}_hire__response.json"),
    )
    .await;
    let o = ok(t.cmd().args([
        "proposals",
        "hire",
        "--proposal-id",
        "p_1",
        "--amount",
        "300",
        "--name",
        "First batch",
        "--due-date",
        "2026-07-01",
        "--confirm-not-fit",
    ]));
    let out = stdout(&o);
    assert!(out.contains("  Approve at: https://app.opentrain.ai/approvals/<APPROVAL_ID>\n"), "{out}");
    assert!(out.contains("opentrain approvals wait --approval-id <APPROVAL_ID>"), "{out}");
    assert_eq!(
        json_body(&t.only_request()),
        json!({"milestone": {"amount": 300, "name": "First batch", "dueDate": "2026-07-01"}, "confirmNotFitOverride": true})
    );
    let o = fails(t.cmd().args(["proposals", "hire", "--proposal-id", "p_1", "--amount", "300"]), 2);
    assert!(stderr(&o).contains("--name or --description"), "{}", stderr(&o));
}

#[tokio::test]
async fn freelancers_get_by_slug() {
    let t = Cli::start().await;
    let profile = json!({"freelancer": {
        "id": "usr_1", "displayName": "Maria G.", "title": "Spanish linguist", "country": "Spain",
        "hourlyRateUsd": 15, "languages": [{"language": "Spanish", "level": "Native"}],
        "skills": {"tags": ["NLP", "Sentiment"]}
    }});
    t.on("GET", "/api/public/v1/freelancers/maria-g", 200, profile).await;
    let o = ok(t.cmd().args(["freelancers", "get", "--id", "maria-g"]));
    let out = stdout(&o);
    assert!(
        out.contains("Maria G. (usr_1)") && out.contains("$15.00/hour") && out.contains("Spanish (Native)"),
        "{out}"
    );
    ok(t.cmd().args(["freelancers", "get", "--freelancer-id", "maria-g"]));
}

#[tokio::test]
async fn messages_list_unread_read_send_and_start_thread() {
    let t = Cli::start().await;
    let summaries = json!({"conversations": [{
        "id": "conv_1", "type": "dm", "bucket": "proposal", "jobId": "job_1", "unreadCount": 2,
        "updatedAt": "2026-06-12T08:00:00.000Z", "lastMessage": {"content": "Hello!\nAre you there?"}
    }], "nextCursor": null});
    let messages = json!({"messages": [
        {"id": "m1", "createdAt": "2026-06-12T08:00:00.000Z", "isFromViewer": false, "senderUserId": "usr_9", "content": "Hello!"},
        {"id": "m2", "createdAt": "2026-06-12T08:05:00.000Z", "isFromViewer": true, "senderUserId": "usr_1", "content": "Hi Maria"}
    ], "nextCursor": "older_1"});
    t.server
        .mock_async(|when, then| {
            when.method("GET").path("/api/public/v1/messages").query_param("conversationId", "conv_1");
            json(then, 200, &messages);
        })
        .await;
    t.on("GET", "/api/public/v1/messages", 200, summaries).await;
    t.on("POST", "/api/public/v1/messages", 201, fixture("messages__POST_messages__response.json")).await;
    t.on(
        "POST",
        "/api/public/v1/proposals/p_1/conversation",
        201,
        fixture("proposals__POST_proposals_{proposalId}_conversation__response.json"),
    )
    .await;

    let o = ok(t.cmd().args(["messages", "list", "--filter", "proposal"]));
    assert!(stdout(&o).contains("conv_1") && stdout(&o).contains("Hello! Are you there?"), "{}", stdout(&o));
    ok(t.cmd().args(["messages", "unread"]));
    let o = ok(t.cmd().args(["messages", "read", "--conversation-id", "conv_1", "--direction", "older"]));
    let out = stdout(&o);
    assert!(out.contains("you   Hi Maria") || out.contains("you    Hi Maria"), "{out}");
    assert!(out.contains("more results: add --cursor older_1"), "{out}");
    ok(t.cmd().args(["messages", "send", "--conversation-id", "conv_1", "--content", "Welcome aboard"]));
    let o = ok(t.cmd().args(["messages", "start-proposal-thread", "--proposal-id", "p_1"]));
    assert!(stdout(&o).contains("opentrain messages send --conversation-id"), "{}", stdout(&o));

    let reqs = t.requests();
    assert_eq!(query(&reqs[0]), [("filter".into(), "proposal".into())]);
    assert_eq!(query(&reqs[1]), [("unreadOnly".into(), "true".into())]);
    assert_eq!(query(&reqs[2]), [("conversationId".into(), "conv_1".into()), ("direction".into(), "older".into())]);
    assert_eq!(json_body(&reqs[3]), json!({"conversationId": "conv_1", "content": "Welcome aboard"}));
    assert_eq!(reqs[4].uri().path(), "/api/public/v1/proposals/p_1/conversation");
}
