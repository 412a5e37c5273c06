//! The human pages are for a signed-in person only: the red-team reproductions of issue 8 (a
//! cross-origin form post, a DNS-rebound Host, the agent's own token, sequential ids) are each
//! refused, and nothing changes when they are.

use opentrain::{Run, types};
use opentrain_sandbox::{Human, PayWith, Sandbox};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Agent, claimed_agent, fast, published_job, start};

/// A hire waiting for a human: the sandbox, the agent, the approval.
async fn pending_hire() -> (Sandbox, Agent, types::Approval) {
    let sandbox = start(fast()).await;
    let agent = claimed_agent(&sandbox, "owner@example.com").await;
    sandbox.human().await.expect("sign in").add_card(&agent.org).await.expect("add a card");
    let (_, proposals) = published_job(&agent, "Label 1,000 Spanish tweets, $0.05 per label, 1 labeler.").await;
    let hire = agent
        .client
        .hire_proposal()
        .proposal_id(&proposals[0])
        .body(types::HireProposalRequest {
            milestone: types::HireProposalMilestone {
                name: Some("Pilot".into()),
                description: None,
                amount: 25.0,
                due_date: None,
            },
            confirm_not_fit_override: None,
        })
        .send()
        .run()
        .await
        .expect("hire");
    (sandbox, agent, hire.approval)
}

/// The approval's status as the agent reads it through the API.
async fn status(agent: &Agent, approval: &types::Approval) -> String {
    let id = approval.id.as_deref().expect("id");
    let a = agent.client.get_approval().approval_id(id).send().run().await.expect("get approval").approval;
    a.status.map(|s| s.to_string()).unwrap_or_default()
}

async fn no_contracts(agent: &Agent) -> bool {
    agent.client.list_contracts().send().run().await.expect("contracts").contracts.is_empty()
}

/// One raw HTTP/1.1 exchange with the sandbox, so a test controls every header (Host included).
async fn raw(sandbox: &Sandbox, request: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(sandbox.addr()).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("send");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

/// A form post with chosen headers, like a page from elsewhere (or curl) would send.
fn form_post(host: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A browser session opened by hand from a sign-in link: (cookie header value, CSRF token).
async fn session(sandbox: &Sandbox) -> (String, String) {
    let link = sandbox.sign_in_link();
    let path = link.strip_prefix(sandbox.base_url()).expect("a link on the sandbox");
    let own = sandbox.base_url().trim_start_matches("http://").to_string();
    let (status, head) =
        raw(sandbox, &format!("GET {path} HTTP/1.1\r\nHost: {own}\r\nConnection: close\r\n\r\n")).await;
    assert_eq!(status, 303, "{head}");
    let set_cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("the sign-in sets a cookie")
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(':').nth(1).and_then(|v| v.split(';').next()).expect("cookie").trim().to_string();
    let value = cookie.split('=').nth(1).expect("value");
    assert!(value.len() >= 32 && value.chars().all(|c| c.is_ascii_hexdigit()), "128 bits or more: {value}");
    let (status, page) =
        raw(sandbox, &format!("GET /account HTTP/1.1\r\nHost: {own}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"))
            .await;
    assert_eq!(status, 200, "{page}");
    let key = "name=\"csrf\" value=\"";
    let at = page.find(key).expect("a CSRF field") + key.len();
    let csrf = page[at..at + page[at..].find('"').expect("end")].to_string();
    (cookie, csrf)
}

fn own_host(sandbox: &Sandbox) -> String {
    sandbox.base_url().trim_start_matches("http://").to_string()
}

fn path_of(approval: &types::Approval) -> String {
    let url = approval.approval_url.as_deref().expect("approvalUrl");
    url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string())).expect("path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_cannot_confirm_even_with_the_persons_session() {
    let (sandbox, agent, approval) = pending_hire().await;
    let confirm = format!("{}/confirm", path_of(&approval));
    let host = own_host(&sandbox);
    // The reproduction, word for word: no session, a foreign Origin.
    let (code, page) =
        raw(&sandbox, &form_post(&host, &confirm, &[("Origin", "http://evil.example")], "source=card")).await;
    assert_eq!(code, 403, "{page}");
    // Worse: the person is signed in and the page knew the CSRF token; a foreign Origin, even
    // another port on 127.0.0.1 (same site, so the SameSite cookie is sent), is still refused.
    let (cookie, csrf) = session(&sandbox).await;
    let body = format!("csrf={csrf}&source=card");
    for origin in ["http://evil.example", "http://127.0.0.1:9", "null"] {
        let headers = [("Origin", origin), ("Cookie", cookie.as_str())];
        let (code, page) = raw(&sandbox, &form_post(&host, &confirm, &headers, &body)).await;
        assert_eq!(code, 403, "Origin {origin}: {page}");
    }
    let headers = [("Referer", "http://127.0.0.1:9/attack.html"), ("Cookie", cookie.as_str())];
    let (code, page) = raw(&sandbox, &form_post(&host, &confirm, &headers, &body)).await;
    assert_eq!(code, 403, "a foreign Referer without Origin: {page}");
    assert_eq!(status(&agent, &approval).await, "pending");
    assert!(no_contracts(&agent).await, "nothing was hired");
    // The same session from the sandbox's own origin works: the checks refuse strangers only.
    let headers = [("Origin", sandbox.base_url()), ("Cookie", cookie.as_str())];
    let (code, page) = raw(&sandbox, &form_post(&host, &confirm, &headers, &body)).await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(status(&agent, &approval).await, "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_host_is_refused_on_pages_and_api_alike() {
    let sandbox = start(fast()).await;
    let agent = claimed_agent(&sandbox, "rebind@example.com").await;
    let (cookie, csrf) = session(&sandbox).await;
    let body = format!("csrf={csrf}&org={}&name=stolen&scope=payments%3Awrite", agent.org);
    let headers = [("Cookie", cookie.as_str())];
    let path = "/employer-settings/api-keys";
    let (code, page) = raw(&sandbox, &form_post("rebind.attacker.example", path, &headers, &body)).await;
    assert_eq!(code, 403, "{page}");
    assert!(!page.contains("id=\"token\""), "no key minted: {page}");
    let rebind_port = format!("rebind.attacker.example:{}", sandbox.addr().port());
    let (code, _) = raw(&sandbox, &form_post(&rebind_port, path, &headers, &body)).await;
    assert_eq!(code, 403, "the right port under another name is still another host");
    let tokens = agent.client.list_tokens().send().run().await.expect("tokens").tokens;
    assert!(tokens.iter().all(|t| t.name != "stolen"), "{tokens:?}");

    // The API too: a page on a rebound name must not read the sandbox through the browser.
    let get = |host: String| format!("GET /api/public/v1/jobs HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let (code, answer) = raw(&sandbox, &get("rebind.attacker.example".into())).await;
    assert_eq!(code, 403, "{answer}");
    assert!(answer.contains("\"code\":\"FORBIDDEN\""), "the API's own error envelope: {answer}");
    let port = sandbox.addr().port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let (code, answer) = raw(&sandbox, &get(host.clone())).await;
        assert_eq!(code, 200, "{host}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_nothing_is_shown_or_done() {
    let (sandbox, agent, approval) = pending_hire().await;
    let host = own_host(&sandbox);
    let path = path_of(&approval);
    let (code, page) = raw(&sandbox, &form_post(&host, &format!("{path}/confirm"), &[], "source=card")).await;
    assert_eq!(code, 401, "{page}");
    let (code, page) = raw(&sandbox, &form_post(&host, &format!("{path}/decline"), &[], "")).await;
    assert_eq!(code, 401, "{page}");
    let (code, page) =
        raw(&sandbox, &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")).await;
    assert_eq!(code, 401, "{page}");
    assert!(page.contains("sign-in link") && !page.contains("id=\"confirm\""), "{page}");
    // A made-up or stale cookie is no session either.
    let headers = [("Cookie", "ot_sandbox_session=00000000000000000000000000000000")];
    let (code, _) = raw(&sandbox, &form_post(&host, &format!("{path}/confirm"), &headers, "source=card")).await;
    assert_eq!(code, 401);
    assert_eq!(status(&agent, &approval).await, "pending");
    assert!(no_contracts(&agent).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_without_the_right_csrf_token_is_refused() {
    let (sandbox, agent, approval) = pending_hire().await;
    let human = sandbox.human().await.expect("sign in");
    let other = sandbox.human().await.expect("a second person signs in");
    let url = approval.approval_url.clone().expect("approvalUrl");
    let confirm = format!("{url}/confirm");
    let missing = human.post(&confirm, &[("source", "card")]).await.expect("post");
    assert_eq!(missing.status, 403, "no CSRF token: {}", missing.html);
    let wrong = "0".repeat(human.csrf().len());
    let page = human.post(&confirm, &[("csrf", &wrong), ("source", "card")]).await.expect("post");
    assert_eq!(page.status, 403, "a wrong CSRF token: {}", page.html);
    let page = human.post(&confirm, &[("csrf", other.csrf()), ("source", "card")]).await.expect("post");
    assert_eq!(page.status, 403, "another session's token: {}", page.html);
    assert_eq!(status(&agent, &approval).await, "pending");
    // Every form on the page carries the token, so the person's click goes through.
    let page = human.get(&url).await.expect("page");
    assert_eq!(page.html.matches("<form ").count(), page.html.matches("name=\"csrf\"").count(), "{}", page.html);
    human.confirm(&approval, PayWith::Card).await.expect("the person confirms");
    assert_eq!(status(&agent, &approval).await, "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_token_cannot_act_on_human_pages() {
    let (sandbox, agent, approval) = pending_hire().await;
    let host = own_host(&sandbox);
    let path = path_of(&approval);
    let bearer = format!("Bearer {}", agent.token.expose());
    let headers = [("Authorization", bearer.as_str())];
    let (code, page) = raw(&sandbox, &form_post(&host, &format!("{path}/confirm"), &headers, "source=card")).await;
    assert!(code == 401 || code == 403, "{page}");
    let (code, page) = raw(
        &sandbox,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {bearer}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(code == 401 || code == 403, "{page}");
    let mint = format!("org={}&name=self&scope=payments%3Awrite", agent.org);
    let (code, page) = raw(&sandbox, &form_post(&host, "/employer-settings/api-keys", &headers, &mint)).await;
    assert!((code == 401 || code == 403) && !page.contains("id=\"token\""), "{page}");
    // Even a signed-in person's cookie does not help a request that also carries the token.
    let (cookie, csrf) = session(&sandbox).await;
    let both = [("Authorization", bearer.as_str()), ("Cookie", cookie.as_str())];
    let body = format!("csrf={csrf}&source=card");
    let (code, page) = raw(&sandbox, &form_post(&host, &format!("{path}/confirm"), &both, &body)).await;
    assert_eq!(code, 403, "{page}");
    assert_eq!(status(&agent, &approval).await, "pending");
    assert!(no_contracts(&agent).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_and_top_up_ids_cannot_be_guessed() {
    let sandbox = start(fast()).await;
    let agent = claimed_agent(&sandbox, "ids@example.com").await;
    let human = sandbox.human().await.expect("sign in");
    human.add_card(&agent.org).await.expect("add a card");
    let (_, proposals) = published_job(&agent, "Label 1,000 Spanish tweets, $0.05 per label, 2 labelers.").await;
    let mut ids = Vec::new();
    for amount in [20.0, 30.0, 40.0] {
        let hire = agent
            .client
            .hire_proposal()
            .proposal_id(&proposals[0])
            .body(types::HireProposalRequest {
                milestone: types::HireProposalMilestone {
                    name: Some("Pilot".into()),
                    description: None,
                    amount,
                    due_date: None,
                },
                confirm_not_fit_override: None,
            })
            .send()
            .run()
            .await
            .expect("hire");
        ids.push(hire.approval.id.expect("id"));
    }
    for _ in 0..2 {
        let t = agent
            .client
            .create_credit_top_up()
            .body(types::CreateCreditTopUpRequest { amount_usd: 50.0, amount: None })
            .send()
            .run()
            .await
            .expect("top-up");
        assert!(t.checkout_url.ends_with(&t.top_up_id), "{}", t.checkout_url);
        ids.push(t.top_up_id);
    }
    for id in &ids {
        let (prefix, rest) = id.split_once('_').expect("prefix_random");
        assert!(prefix == "apr" || prefix == "tu", "{id}");
        assert!(rest.len() >= 22 && rest.chars().all(|c| c.is_ascii_alphanumeric()), "22+ random characters: {id}");
    }
    let distinct: std::collections::BTreeSet<&str> = ids.iter().map(|i| &i[i.len() - 22..]).collect();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    // Walking the old sequential ids finds nothing.
    for n in 1..=40 {
        let page = human.get(&format!("/approvals/apr_{n:06}")).await.expect("page");
        assert_eq!(page.status, 404, "apr_{n:06}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_link_works_once_and_stays_out_of_the_state_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("sandbox.json");
    let sandbox = start(opentrain_sandbox::SandboxOptions { state_file: Some(file.clone()), ..fast() }).await;
    let link = sandbox.sign_in_link();
    let human = Human::sign_in(&link).await.expect("the link signs in");
    let again = Human::sign_in(&link).await.expect_err("a used link is dead");
    assert!(again.to_string().contains("403"), "{again}");
    assert!(Human::sign_in(&format!("{link}0")).await.is_err(), "a made-up link is no link");
    let page = human.get("/account").await.expect("account");
    assert_eq!(page.status, 200);
    // Frames from elsewhere cannot overlay the buttons (clickjacking).
    let res = opentrain::http_client_builder()
        .expect("tls")
        .no_proxy()
        .build()
        .expect("http")
        .get(&link)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(res.headers().get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"));
    let _ = claimed_agent(&sandbox, "state@example.com").await;
    sandbox.shutdown().await.expect("shutdown writes the state");
    let state = std::fs::read_to_string(&file).expect("state file");
    let secret = link.split("token=").nth(1).expect("secret");
    assert!(!state.contains(secret) && !state.contains(human.csrf()), "no sign-in secret in the state file");
}
