//! The approval page in a real browser: headless Chromium signs in with the sandbox's one-time
//! link, a page from another loopback port that auto-submits a Confirm form achieves nothing, and
//! then the person's click on Confirm executes the hire. Driven over the DevTools protocol with a
//! minimal WebSocket client (no extra dependency). Skips, saying why, when no Chromium is
//! installed.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use opentrain::{Run, types};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{claimed_agent, fast, published_job, start};

/// A Chromium binary: `OPENTRAIN_CHROMIUM`, else the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OPENTRAIN_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Kills the browser this test started (by its own handle) however the test ends.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The smallest WebSocket client the DevTools protocol needs: masked text frames out,
/// (possibly fragmented) text frames in, pings answered.
struct Cdp {
    stream: TcpStream,
    next_id: u64,
    /// `Page.loadEventFired` events seen so far: a page finished loading since the last look.
    loads: u64,
}

impl Cdp {
    async fn connect(ws_url: &str) -> Cdp {
        let rest = ws_url.strip_prefix("ws://").expect("ws:// URL");
        let (host, path) = rest.split_at(rest.find('/').expect("path"));
        assert!(host.starts_with("127.0.0.1:") || host.starts_with("localhost:"), "DevTools must be local: {host}");
        let mut stream = TcpStream::connect(host).await.expect("connect to DevTools");
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.expect("handshake");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            stream.read_exact(&mut b).await.expect("handshake answer");
            head.push(b[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        Cdp { stream, next_id: 0, loads: 0 }
    }

    async fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut frame = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if len <= u16::MAX as usize {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.expect("send frame");
    }

    async fn read_message(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.stream.read_exact(&mut h).await.expect("frame header");
            let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).await.expect("length");
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).await.expect("length");
                len = u64::from_be_bytes(b);
            }
            let mut payload = vec![0u8; usize::try_from(len).expect("frame size")];
            self.stream.read_exact(&mut payload).await.expect("payload");
            match opcode {
                0x9 => self.send_frame(0xA, &payload).await,
                0x8 => panic!("DevTools closed the connection"),
                _ => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return String::from_utf8(message).expect("utf-8");
                    }
                }
            }
        }
    }

    /// The next message, counting page loads among the events.
    async fn next(&mut self) -> Value {
        let v: Value = serde_json::from_str(&self.read_message().await).expect("json");
        if v["method"] == "Page.loadEventFired" {
            self.loads += 1;
        }
        v
    }

    /// Sends a command and returns its result; the events in between only count page loads.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.send_frame(0x1, msg.as_bytes()).await;
        loop {
            let v = self.next().await;
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true })).await;
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is true, looking again each time a page finishes loading (the
    /// browser's own signal; every step of this test ends in a page load), or panics after
    /// `what` did not happen in 15 s.
    async fn until(&mut self, expression: &str, what: &str) {
        let wait = async {
            loop {
                let seen = self.loads;
                if self.eval(expression).await == Value::Bool(true) {
                    return;
                }
                // A load that arrived during the look is looked at again at once.
                while self.loads == seen {
                    self.next().await;
                }
            }
        };
        if tokio::time::timeout(Duration::from_secs(15), wait).await.is_err() {
            // The abandoned wait may have stopped mid-frame: the page's text is a best effort.
            let look = self.eval("document.body ? document.body.innerText : ''");
            let text = tokio::time::timeout(Duration::from_secs(5), look).await.unwrap_or_default();
            panic!("{what} did not happen; the page says: {text}");
        }
    }
}

/// A page on another loopback port that, once opened, posts a Confirm form to the sandbox: what
/// an agent could serve to its human's browser. Returns its URL; the server stops with the task.
async fn attack_page(approval_url: &str) -> (String, tokio::task::JoinHandle<()>) {
    let html = format!(
        "<!doctype html><html><body><p>Loading your dashboard...</p>\
<form method=\"post\" action=\"{approval_url}/confirm\"><input type=\"hidden\" name=\"source\" value=\"card\"></form>\
<script>document.forms[0].submit()</script></body></html>"
    );
    let app = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the attack page");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_confirms_the_hire_in_headless_chromium() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("OPENTRAIN_REQUIRE_BROWSER").is_none(),
            "OPENTRAIN_REQUIRE_BROWSER is set but no Chromium was found"
        );
        eprintln!(
            "SKIPPED a_person_confirms_the_hire_in_headless_chromium: no Chromium found \
             (install Debian's `chromium`, as .ci/run does, or set OPENTRAIN_CHROMIUM)"
        );
        return;
    };
    let sandbox = start(fast()).await;
    let agent = claimed_agent(&sandbox, "browser@example.com").await;
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
    let approval_url = hire.approval.approval_url.clone().expect("approvalUrl");

    let profile = tempfile::tempdir().expect("profile dir");
    let child = Command::new(&bin)
        .args([
            "--headless=new",
            "--no-sandbox", // CI runs as root, where Chromium's own sandbox cannot start
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1000,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut browser = Browser(child);
    let stderr = browser.0.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.split("DevTools listening on ").nth(1) {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let browser_ws = rx.recv_timeout(Duration::from_secs(30)).expect("Chromium prints its DevTools URL");
    let port = browser_ws.trim_start_matches("ws://").split(['/', ':']).nth(1).expect("port").to_string();
    let http = opentrain::http_client_builder().expect("tls").no_proxy().build().expect("http");
    let targets: Vec<Value> = http
        .get(format!("http://127.0.0.1:{port}/json/list"))
        .send()
        .await
        .expect("targets")
        .json()
        .await
        .expect("json");
    let page_ws = targets
        .iter()
        .find(|t| t["type"] == "page")
        .and_then(|t| t["webSocketDebuggerUrl"].as_str())
        .expect("a page target")
        .to_string();
    let mut cdp = Cdp::connect(&page_ws).await;
    cdp.call("Page.enable", json!({})).await;

    // The person signs in with the one-time link the sandbox printed on its console.
    cdp.call("Page.navigate", json!({ "url": sandbox.sign_in_link() })).await;
    cdp.until("!!document.querySelector('#signed-in')", "the sign-in").await;

    // A page the agent could get its human to open: another port on 127.0.0.1 (the same site,
    // so the SameSite=Strict cookie travels) auto-submits Confirm. The sandbox refuses it.
    let (attack_url, attack) = attack_page(&approval_url).await;
    cdp.call("Page.navigate", json!({ "url": attack_url })).await;
    cdp.until(
        "location.href.includes('/confirm') && document.readyState === 'complete' && !!document.body",
        "the cross-origin form post",
    )
    .await;
    let text = cdp.eval("document.body.innerText").await;
    assert!(text.as_str().is_some_and(|t| t.contains("outside this sandbox")), "{text}");
    attack.abort();
    let id = hire.approval.id.as_deref().expect("id");
    let pending = agent.client.get_approval().approval_id(id).send().run().await.expect("approval").approval;
    assert_eq!(pending.status.map(|s| s.to_string()).as_deref(), Some("pending"), "the attack confirmed nothing");
    assert!(agent.client.list_contracts().send().run().await.expect("contracts").contracts.is_empty());

    cdp.call("Page.navigate", json!({ "url": approval_url })).await;
    cdp.until(
        "document.readyState === 'complete' && !!document.querySelector('#confirm')",
        "the approval page loading",
    )
    .await;
    let text = cdp.eval("document.body.innerText").await;
    assert!(
        text.as_str().is_some_and(|t| t.contains("Hire ") && t.contains("Confirm") && t.contains("Decline")),
        "{text}"
    );
    cdp.eval("document.querySelector('input[value=card]').click(); document.querySelector('#confirm').click(); true")
        .await;
    cdp.until("document.body && document.body.innerText.includes('Confirmed.')", "the confirmation").await;
    let shot = cdp.call("Page.captureScreenshot", json!({ "format": "png" })).await;
    if let Some(png) = shot["data"].as_str() {
        // For a person to look at; the assertions below are what the test checks.
        let _ = std::fs::write(std::env::temp_dir().join("opentrain-sandbox-approval.b64"), png);
    }

    let approval = agent.client.get_approval().approval_id(id).send().run().await.expect("approval").approval;
    assert!(approval.is_confirmed(), "{approval:?}");
    let contracts = agent.client.list_contracts().send().run().await.expect("contracts").contracts;
    assert_eq!(contracts.len(), 1, "the click created the contract");
    assert_eq!(contracts[0].milestones[0].status.to_string(), "ACTIVE_FUNDED");
}
