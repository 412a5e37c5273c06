//! `opentrain-mcp --http` figures, side by side with the Node OpenAPI-to-MCP bridge
//! `@ivotoby/openapi-mcp-server` in its HTTP mode, on the same `openapi.yaml` and the same local
//! upstream, in one run.
//!
//! Per-call latency at concurrency 1 (median and p99), throughput (calls/s) and p99 at 16 and 64
//! concurrent clients, and each server's RSS after the run (`VmRSS`, peak `VmHWM`); first, the
//! floor under both: this client's round trip to the upstream itself and to our `/healthz`. The call is
//! a job search (50 jobs) answered by a pre-rendered keep-alive server on 127.0.0.1. Each of our
//! clients sends stateless POSTs; each bridge client holds its own session, whose results arrive
//! on the session's GET SSE stream (the bridge answers the POST 202).
//!
//! ```sh
//! npm install --prefix /tmp/bridge-http @ivotoby/openapi-mcp-server@1.16.1
//! OPENAPI_MCP_BRIDGE=/tmp/bridge-http/node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js \
//!   cargo bench -p opentrain-mcp --bench http
//! ```
//! Without `OPENAPI_MCP_BRIDGE` only our figures are printed.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use futures::{StreamExt, channel::mpsc};
use serde_json::{Value, json};

#[path = "support/api.rs"]
mod api;
use api::start_api;

const BIN: &str = env!("CARGO_BIN_EXE_opentrain-mcp");
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml");
const WARMUP: usize = 100;
const SERIAL_CALLS: usize = 500;
const CALLS_PER_CLIENT: usize = 40;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A server process, killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// CPU time the process has used (user + system): unlike latency on a shared host, it does not
    /// grow while the process waits for a core.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
        let fields: Vec<&str> =
            stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default().split_whitespace().collect();
        let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
        let per_second = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok())
            .unwrap_or(100);
        Duration::from_secs_f64(ticks as f64 / per_second as f64)
    }

    fn vm(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

fn start_ours(api: &str, home: &std::path::Path) -> (Proc, String) {
    // OPENTRAIN_MCP_BIN: measure another build (a release binary from a debug-built bench).
    let bin = std::env::var("OPENTRAIN_MCP_BIN").unwrap_or_else(|_| BIN.to_string());
    let mut child = Command::new(bin)
        .args(["--http", "127.0.0.1:0"])
        .env_clear()
        .env("HOME", home)
        .env("OPENTRAIN_API_BASE_URL", api)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opentrain-mcp");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = lines.next().expect("opentrain-mcp exited").expect("stderr line");
        if let Some(u) = line.split("serving MCP over HTTP at ").nth(1) {
            break u.trim().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (Proc(child), url)
}

fn start_bridge(script: &str, api: &str) -> (Proc, String) {
    let port = free_port();
    let mut child = Command::new("node")
        .arg(script)
        .args(["--transport", "http", "--host", "127.0.0.1", "--port", &port.to_string(), "--path", "/mcp"])
        .args(["--api-base-url", api, "--openapi-spec", SPEC])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn node (the bridge)");
    // It announces itself on stdout or stderr depending on the version: wait for the port.
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().ok().flatten().is_none(), "the bridge exited before listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Proc(child), format!("http://127.0.0.1:{port}/mcp"))
}

fn post(client: &reqwest::Client, url: &str, body: &Value) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body.to_string())
}

/// JSON-RPC ids unique across all clients: the bridge routes a result to its session by the
/// request id alone (one map for every session), so two sessions reusing an id steal each other's
/// results.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn call_body(id: u64, name: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": {}}})
}

/// The reader of a bridge session's SSE stream, stopped with its connection.
struct EventReader(tokio::task::JoinHandle<()>);

impl Drop for EventReader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads the session's GET stream in its own task and forwards each event's JSON with the instant
/// its last byte arrived. It must run beside the POSTs: the bridge sends the stream's headers only
/// with its first event, so awaiting the GET's response before posting a call never returns.
fn read_events(request: reqwest::RequestBuilder) -> (EventReader, mpsc::UnboundedReceiver<(Instant, Value)>) {
    let (tx, rx) = mpsc::unbounded();
    let task = tokio::spawn(async move {
        let Ok(response) = request.send().await else { return };
        let mut body = response.bytes_stream();
        let mut buf = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            let arrived = Instant::now();
            buf.extend_from_slice(&chunk);
            while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = buf.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&event);
                let data: String = text.lines().filter_map(|l| l.strip_prefix("data:")).collect();
                if let Ok(v) = serde_json::from_str::<Value>(data.trim())
                    && tx.unbounded_send((arrived, v)).is_err()
                {
                    return;
                }
            }
        }
    });
    (EventReader(task), rx)
}

/// One client's connection to one server.
enum Conn {
    /// Stateless POSTs answered with JSON.
    Ours { client: reqwest::Client, url: String },
    /// A bridge session: POSTs answered 202, results on the session's SSE stream.
    Bridge {
        client: reqwest::Client,
        url: String,
        session: String,
        events: mpsc::UnboundedReceiver<(Instant, Value)>,
        _reader: EventReader,
    },
}

impl Conn {
    async fn open(ours: bool, url: &str) -> Self {
        let client = opentrain::http_client_builder().expect("tls").tcp_nodelay(true).build().expect("client");
        if ours {
            return Conn::Ours { client, url: url.to_string() };
        }
        let init = json!({"jsonrpc": "2.0", "id": next_id(), "method": "initialize", "params": {"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}});
        let r = post(&client, url, &init).send().await.expect("initialize");
        let session = r.headers()["mcp-session-id"].to_str().expect("session id").to_string();
        let _ = r.bytes().await;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let _ = post(&client, url, &note).header("mcp-session-id", &session).send().await.expect("initialized");
        let get = client.get(url).header("accept", "text/event-stream").header("mcp-session-id", &session);
        let (reader, mut events) = read_events(get);
        // The bridge drops a result when the session has no stream yet, and nothing tells us when
        // the GET is registered: ping until a pong comes back on the stream.
        loop {
            let id = next_id();
            let ping = json!({"jsonrpc": "2.0", "id": id, "method": "ping"});
            let r = post(&client, url, &ping).header("mcp-session-id", &session).send().await.expect("ping");
            assert_eq!(r.status(), 202, "ping");
            let pong = tokio::time::timeout(Duration::from_millis(200), async {
                while let Some((_, v)) = events.next().await {
                    if v["id"] == id {
                        return true;
                    }
                }
                panic!("the bridge closed the event stream")
            });
            if pong.await.unwrap_or(false) {
                break;
            }
        }
        Conn::Bridge { client, url: url.to_string(), session, events, _reader: reader }
    }

    /// One job search, timed from sending the request to the last byte of its answer: decoding
    /// the JSON is the client's work, and this debug-built client is slow at it. Panics unless the
    /// search succeeded (the figures would measure the wrong thing).
    async fn call(&mut self) -> Duration {
        let id = next_id();
        let sent = Instant::now();
        let (arrived, answer): (Instant, Value) = match self {
            Conn::Ours { client, url } => {
                let r = post(client, url, &call_body(id, "opentrain_search_jobs")).send().await.expect("call");
                let body = r.bytes().await.expect("answer body");
                (Instant::now(), serde_json::from_slice(&body).expect("JSON answer"))
            }
            Conn::Bridge { client, url, session, events, .. } => {
                let r = post(client, url, &call_body(id, "search-jobs"))
                    .header("mcp-session-id", session.as_str())
                    .send()
                    .await
                    .expect("call");
                assert_eq!(r.status(), 202);
                loop {
                    let (arrived, v) = events.next().await.expect("the bridge closed the event stream");
                    if v["id"] == id {
                        break (arrived, v);
                    }
                }
            }
        };
        assert!(answer["result"]["isError"] != true && answer["result"].is_object(), "call failed: {answer}");
        // Ours carries the jobs in structuredContent; the bridge relays the API's body as text.
        let jobs = answer["result"]["structuredContent"]["jobs"].as_array().map_or(0, Vec::len);
        let text = answer["result"]["content"][0]["text"].as_str().unwrap_or_default();
        assert!(jobs == 50 || text.contains("job-049"), "the answer lacks the 50 jobs: {answer}");
        arrived - sent
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Per server, (median, p99) of `SERIAL_CALLS` calls from one client, and the median including
/// the client's decoding of the answer. The servers take turns call by call, so a burst of load
/// from elsewhere on the host lands on both alike.
async fn serial(urls: &[(bool, &str)]) -> Vec<(Duration, Duration, Duration)> {
    let mut conns = Vec::new();
    for (ours, url) in urls {
        let mut conn = Conn::open(*ours, url).await;
        for _ in 0..WARMUP {
            conn.call().await;
        }
        conns.push(conn);
    }
    let mut times = vec![Vec::with_capacity(SERIAL_CALLS); conns.len()];
    let mut decoded = vec![Vec::with_capacity(SERIAL_CALLS); conns.len()];
    for _ in 0..SERIAL_CALLS {
        for (i, conn) in conns.iter_mut().enumerate() {
            let t = Instant::now();
            times[i].push(conn.call().await);
            decoded[i].push(t.elapsed());
        }
    }
    times
        .iter_mut()
        .zip(&mut decoded)
        .map(|(t, d)| {
            t.sort();
            d.sort();
            (pct(t, 0.5), pct(t, 0.99), pct(d, 0.5))
        })
        .collect()
}

/// (calls/s, p99) with `clients` clients each making `CALLS_PER_CLIENT` calls at once.
async fn concurrent(ours: bool, url: &str, clients: usize) -> (f64, Duration) {
    let mut conns = Vec::new();
    for _ in 0..clients {
        let mut c = Conn::open(ours, url).await;
        c.call().await;
        conns.push(c);
    }
    let started = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(CALLS_PER_CLIENT);
                for _ in 0..CALLS_PER_CLIENT {
                    times.push(c.call().await);
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    let elapsed = started.elapsed();
    all.sort();
    (all.len() as f64 / elapsed.as_secs_f64(), pct(&all, 0.99))
}

/// One server's figures: one row of the table.
struct Row {
    name: &'static str,
    median: Duration,
    p99: Duration,
    /// (calls/s, p99) at 16 and at 64 clients.
    loaded: Vec<(f64, Duration)>,
    rss_kib: u64,
    peak_kib: u64,
    /// The server's CPU time per call over the whole run.
    cpu_per_call: Duration,
}

async fn measure(servers: &[(&'static str, bool, &str, &Proc)]) -> Vec<Row> {
    let urls: Vec<(bool, &str)> = servers.iter().map(|(_, ours, url, _)| (*ours, *url)).collect();
    let cpu_before: Vec<Duration> = servers.iter().map(|(.., proc)| proc.cpu()).collect();
    let serial = serial(&urls).await;
    let mut rows = Vec::new();
    for ((&(name, ours, url, proc), (median, p99, decoded)), cpu_before) in servers.iter().zip(serial).zip(cpu_before) {
        println!(
            "{name}: concurrency 1: median {:.3} ms, p99 {:.3} ms per call (median {:.3} ms with the client's decoding)",
            ms(median),
            ms(p99),
            ms(decoded)
        );
        let mut loaded = Vec::new();
        for clients in [16, 64] {
            let (rate, p99) = concurrent(ours, url, clients).await;
            println!("{name}: concurrency {clients}: {rate:.0} calls/s, p99 {:.2} ms", ms(p99));
            loaded.push((rate, p99));
        }
        // Every timed call plus warm-ups and each client's first call (pings and handshakes aside).
        let calls = WARMUP + SERIAL_CALLS + (16 + 64) * (CALLS_PER_CLIENT + 1);
        let cpu_per_call = (proc.cpu() - cpu_before) / calls as u32;
        rows.push(Row {
            name,
            median,
            p99,
            loaded,
            rss_kib: proc.vm("VmRSS:"),
            peak_kib: proc.vm("VmHWM:"),
            cpu_per_call,
        });
    }
    rows
}

/// The floor under any server's c=1 latency on this host: median round trips of this client to
/// the upstream's job search itself (what a call forwards, one hop instead of two) and to our
/// `/healthz` (HTTP with no MCP work), timed like the calls.
async fn floors(api: &str, ours: &str) -> (Duration, Duration) {
    let client = opentrain::http_client_builder().expect("tls").tcp_nodelay(true).build().expect("client");
    let jobs = format!("{api}/api/public/v1/jobs");
    let health = ours.replace("/mcp", "/healthz");
    let mut times = [Vec::with_capacity(SERIAL_CALLS), Vec::with_capacity(SERIAL_CALLS)];
    for i in 0..WARMUP + SERIAL_CALLS {
        for (url, t) in [&jobs, &health].into_iter().zip(times.iter_mut()) {
            let sent = Instant::now();
            let r = client.get(url).send().await.expect("GET");
            assert!(r.status().is_success(), "{url}: {}", r.status());
            let _ = r.bytes().await.expect("body");
            if i >= WARMUP {
                t.push(sent.elapsed());
            }
        }
    }
    let [mut a, mut b] = times;
    a.sort();
    b.sort();
    (pct(&a, 0.5), pct(&b, 0.5))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used.
    let api = start_api();
    let home = tempfile::tempdir().expect("temp HOME");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    println!("load average at start: {}", load_average());
    // Both servers live through the whole run on the same upstream, so each is measured beside
    // the other's idle process, as replicas on one host would be.
    let (ours, ours_url) = start_ours(&api, home.path());
    let bridge = match std::env::var("OPENAPI_MCP_BRIDGE") {
        Ok(script) if !script.is_empty() => Some(start_bridge(&script, &api)),
        _ => None,
    };
    let mut servers = vec![("opentrain-mcp --http", true, ours_url.as_str(), &ours)];
    match &bridge {
        Some((proc, url)) => servers.push(("openapi-mcp-server (Node)", false, url.as_str(), proc)),
        None => println!("(set OPENAPI_MCP_BRIDGE to the bridge's bin/mcp-server.js for the side-by-side figures)"),
    }
    let (upstream, health) = runtime.block_on(floors(&api, &ours_url));
    println!(
        "floor: this client to the upstream's job search {:.3} ms, to our /healthz {:.3} ms (medians)",
        ms(upstream),
        ms(health)
    );
    let rows = runtime.block_on(measure(&servers));
    println!("load average at end: {}", load_average());
    println!();
    println!(
        "| server | c=1 median | c=1 p99 | c=16 calls/s (p99) | c=64 calls/s (p99) | server CPU/call | RSS (peak) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let loaded: Vec<String> =
            r.loaded.iter().map(|(rate, p99)| format!("{rate:.0} ({:.1} ms)", ms(*p99))).collect();
        println!(
            "| {} | {:.2} ms | {:.2} ms | {} | {} | {:.2} ms | {:.1} MiB ({:.1} MiB) |",
            r.name,
            ms(r.median),
            ms(r.p99),
            loaded[0],
            loaded[1],
            ms(r.cpu_per_call),
            r.rss_kib as f64 / 1024.0,
            r.peak_kib as f64 / 1024.0
        );
    }
    if let [ours, bridge] = &rows[..] {
        println!();
        println!(
            "bridge / ours: per-call median {:.1}x, server CPU per call {:.1}x",
            bridge.median.as_secs_f64() / ours.median.as_secs_f64(),
            bridge.cpu_per_call.as_secs_f64() / ours.cpu_per_call.as_secs_f64()
        );
    }
}
