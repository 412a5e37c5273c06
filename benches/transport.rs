//! Transport benchmark: per-call overhead of the generated client over bare reqwest, and peak heap while streaming.
//!
//! Both run against a local keep-alive HTTP/1.1 server on 127.0.0.1. Run with
//! `cargo bench --bench transport`. It prints one line per figure and exits 0; it panics only
//! when a response is wrong (the figures would then measure the wrong thing).

use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    pin::pin,
    sync::atomic::{AtomicUsize, Ordering::Relaxed},
    time::{Duration, Instant},
};

use futures::TryStreamExt;
use opentrain::{Client, Run, Token, types};
use progenitor_client::ClientInfo;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::json;

#[path = "support/loopback.rs"]
mod loopback;
use loopback::{Answer, response};

const TOKEN: &str = "ot_pat_bench_secret";
const ME_PATH: &str = "/api/public/v1/auth/me";
const JOBS_PATH: &str = "/api/public/v1/jobs/mine";
const PAGE_SIZE: usize = 100;
const LONG_PAGES: usize = 100;
const SHORT_PAGES: usize = 10;

/// Calls of each variant before measuring: connection set-up, pool, allocator and branch caches.
const WARMUP: usize = 500;
/// Measured calls per variant are ROUNDS * BLOCK; each round runs one block of every variant, in
/// a rotated order, so slow drift on a shared 2-core box hits all variants alike.
const ROUNDS: usize = 100;
const BLOCK: usize = 50;
const TARGET_OVERHEAD_US: f64 = 10.0;
const MEMORY_REPEATS: usize = 3;

// ---------------------------------------------------------------------------------------------
// Heap accounting

/// Wraps the system allocator to track live and peak live bytes of the whole process.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

fn shrank(by: usize) {
    CURRENT.fetch_sub(by, Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; the counters never affect the result.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with this layout.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; a null result leaves the old block, and the counters, as they were.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts a new peak window at the current live size and returns that baseline.
fn reset_peak() -> usize {
    let now = CURRENT.load(Relaxed);
    PEAK.store(now, Relaxed);
    now
}

// ---------------------------------------------------------------------------------------------
// Local server

/// Complete pre-rendered responses, so the server allocates nothing per request and the heap
/// figures are the client's.
struct Routes {
    me: Vec<u8>,
    pages: Vec<Vec<u8>>,
    unauthorized: Vec<u8>,
    not_found: Vec<u8>,
    bad_request: Vec<u8>,
}

fn error(status: &str, code: &str, message: &str) -> Vec<u8> {
    response(status, &json!({"error": message, "code": code}))
}

impl Routes {
    fn new(pages: usize) -> Self {
        let me = json!({
            "actor": {"userId": "u", "email": "a@b.c"},
            "token": {"id": "t", "scopes": ["jobs:read"]},
            "account": {"kind": "employer_organization"}
        });
        let statuses = ["DRAFT", "OPEN", "ONGOING", "COMPLETED", "ARCHIVED", "PENDING_APPROVAL"];
        let pages = (0..pages)
            .map(|p| {
                let jobs: Vec<_> = (p * PAGE_SIZE..(p + 1) * PAGE_SIZE)
                    .map(|i| {
                        json!({
                            "id": format!("job-{i:05}"),
                            "title": format!("Label images {i}"),
                            "status": statuses[i % statuses.len()],
                            "published": i % 2 == 0,
                            "acceptingApplicants": i % 3 != 0,
                            "createdAt": "2026-01-01T00:00:00.000Z",
                            "updatedAt": "2026-01-02T00:00:00.000Z",
                            "jobUrl": format!("https://app.opentrain.ai/jobs/job-{i:05}"),
                            "proposalCounts": {"total": i % 7, "unreviewed": i % 3}
                        })
                    })
                    .collect();
                let next = if p + 1 < pages { json!(format!("p{}", p + 1)) } else { json!(null) };
                response("200 OK", &json!({"jobs": jobs, "nextCursor": next}))
            })
            .collect();
        Self {
            me: response("200 OK", &me),
            pages,
            unauthorized: error("401 Unauthorized", "UNAUTHORIZED", "missing or wrong bearer token"),
            not_found: error("404 Not Found", "NOT_FOUND", "no such route in the bench server"),
            bad_request: error("400 Bad Request", "BAD_REQUEST", "the bench expects limit=100 and a known cursor"),
        }
    }
}

impl Answer for Routes {
    /// The response to one request head (request line and headers; a GET has no body).
    fn answer(&self, head: &[u8]) -> &[u8] {
        let Ok(head) = std::str::from_utf8(head) else { return &self.bad_request };
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let (Some("GET"), Some(target)) = (request_line.next(), request_line.next()) else { return &self.not_found };
        // Checking the token makes sure every variant really sends the same auth header.
        let authorized = lines.filter_map(|l| l.split_once(':')).any(|(name, value)| {
            name.eq_ignore_ascii_case("authorization") && value.trim().strip_prefix("Bearer ") == Some(TOKEN)
        });
        if !authorized {
            return &self.unauthorized;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        match path {
            ME_PATH => &self.me,
            JOBS_PATH => {
                let (mut page, mut limit_ok) = (Some(0), false);
                for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
                    match k {
                        "cursor" => page = v.strip_prefix('p').and_then(|n| n.parse::<usize>().ok()),
                        "limit" => limit_ok = v == PAGE_SIZE.to_string(),
                        _ => {}
                    }
                }
                match page.and_then(|p| self.pages.get(p)) {
                    Some(body) if limit_ok => body,
                    _ => &self.bad_request,
                }
            }
            _ => &self.not_found,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Latency

#[derive(Clone, Copy)]
enum Variant {
    Ours,
    BareValue,
    BareTyped,
}

const VARIANTS: [Variant; 3] = [Variant::Ours, Variant::BareValue, Variant::BareTyped];

/// What a bare reqwest caller needs to send the request the generated client sends.
struct Bare {
    http: reqwest::Client,
    url: String,
    auth: HeaderValue,
    api_version: HeaderValue,
}

impl Bare {
    fn new(base: &str) -> Self {
        // Same client settings as `ClientBuilder::build`: a per-request timeout arms a timer on
        // every call, so leaving it out would flatter the bare side.
        let http = opentrain::http_client_builder()
            .expect("tls")
            .user_agent(opentrain::USER_AGENT)
            .timeout(opentrain::DEFAULT_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("build the bare reqwest client");
        let mut auth = HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("the bench token is a valid header");
        auth.set_sensitive(true);
        Self {
            http,
            url: format!("{base}{ME_PATH}"),
            auth,
            api_version: HeaderValue::from_static(Client::api_version()),
        }
    }

    async fn body(&self) -> bytes::Bytes {
        let res = self
            .http
            .get(&self.url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(HeaderName::from_static("api-version"), self.api_version.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await
            .expect("bare GET /auth/me reaches the local server");
        assert!(res.status().is_success(), "bare GET /auth/me answered {}", res.status());
        res.bytes().await.expect("read the /auth/me body")
    }
}

/// Times one call of `variant`, deserialization included.
async fn time_call(variant: Variant, client: &Client, bare: &Bare) -> Duration {
    let start = Instant::now();
    match variant {
        Variant::Ours => {
            let me = client.get_auth_me().send().run().await.expect("GET /auth/me via opentrain succeeds");
            black_box(me);
        }
        Variant::BareValue => {
            let v: serde_json::Value = serde_json::from_slice(&bare.body().await).expect("/auth/me body is JSON");
            black_box(v);
        }
        Variant::BareTyped => {
            let me: types::AuthMe = serde_json::from_slice(&bare.body().await).expect("/auth/me body is an AuthMe");
            black_box(me);
        }
    }
    start.elapsed()
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    percentile(samples, 0.5)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Signed difference in microseconds.
fn diff_us(a: Duration, b: Duration) -> f64 {
    us(a) - us(b)
}

struct Latency {
    samples: [Vec<Duration>; 3],
    /// Per round, median(a) - median(c) and median(a) - median(b), in µs.
    round_vs_typed: Vec<f64>,
    round_vs_value: Vec<f64>,
}

async fn measure_latency(client: &Client, bare: &Bare) -> Latency {
    for variant in VARIANTS {
        for _ in 0..WARMUP {
            black_box(time_call(variant, client, bare).await);
        }
    }
    let mut samples: [Vec<Duration>; 3] = std::array::from_fn(|_| Vec::with_capacity(ROUNDS * BLOCK));
    let (mut round_vs_typed, mut round_vs_value) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    let mut block = Vec::with_capacity(BLOCK);
    for round in 0..ROUNDS {
        let mut round_medians = [Duration::ZERO; 3];
        for k in 0..VARIANTS.len() {
            let v = (round + k) % VARIANTS.len();
            block.clear();
            for _ in 0..BLOCK {
                block.push(time_call(VARIANTS[v], client, bare).await);
            }
            samples[v].extend_from_slice(&block);
            round_medians[v] = median(&mut block);
        }
        round_vs_typed.push(diff_us(round_medians[0], round_medians[2]));
        round_vs_value.push(diff_us(round_medians[0], round_medians[1]));
    }
    for s in &mut samples {
        s.sort_unstable();
    }
    Latency { samples, round_vs_typed, round_vs_value }
}

fn median_f64(mut xs: Vec<f64>) -> f64 {
    xs.sort_unstable_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

// ---------------------------------------------------------------------------------------------
// Memory

/// Streams a whole list, checking every item, and returns (items, peak live bytes above the
/// baseline at the start).
async fn stream_peak(client: &Client, seen: &mut [bool]) -> (usize, usize) {
    // `seen` is allocated by the caller, before the window opens, so the duplicate check itself
    // does not grow with the list.
    seen.fill(false);
    let base = reset_peak();
    let mut count = 0;
    {
        let mut jobs = pin!(client.list_my_jobs_stream(|b| b.limit(PAGE_SIZE as u64)));
        while let Some(job) = jobs.try_next().await.expect("GET /jobs/mine via the stream succeeds") {
            let i: usize = job
                .id
                .strip_prefix("job-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected job id {:?}", job.id));
            let slot = seen.get_mut(i).unwrap_or_else(|| panic!("job id {:?} beyond the list", job.id));
            assert!(!*slot, "job {:?} streamed twice", job.id);
            *slot = true;
            count += 1;
        }
    }
    (count, PEAK.load(Relaxed).saturating_sub(base))
}

/// The same list collected into a `Vec`, for contrast: its peak grows with the list.
async fn collect_peak(client: &Client) -> (usize, usize) {
    let base = reset_peak();
    let jobs: Vec<types::MyJob> = client
        .list_my_jobs_stream(|b| b.limit(PAGE_SIZE as u64))
        .try_collect()
        .await
        .expect("GET /jobs/mine via the stream succeeds");
    let n = jobs.len();
    drop(jobs);
    (n, PEAK.load(Relaxed).saturating_sub(base))
}

fn kib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------

fn build_client(base: &str) -> Client {
    Client::builder().base_url(base).token(Token::new(TOKEN)).build().expect("build the opentrain client")
}

fn main() {
    let started = Instant::now();
    let urls = loopback::start(vec![Routes::new(LONG_PAGES), Routes::new(SHORT_PAGES)]);
    let (long_url, short_url) = (&urls[0], &urls[1]);
    // One thread for the client: the bench measures the call path, not cross-thread wake-ups, and
    // leaves the second core to the server.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("build the tokio runtime");
    let client = build_client(long_url);
    let short_client = build_client(short_url);
    let bare = Bare::new(long_url);

    let lat = rt.block_on(measure_latency(&client, &bare));

    let mut seen = vec![false; LONG_PAGES * PAGE_SIZE];
    let (short_peak, long_peak, collect) = rt.block_on(async {
        // Warm both connections and the allocator's pools outside any measured window.
        for c in [&short_client, &client] {
            stream_peak(c, &mut seen).await;
        }
        let (mut short_peak, mut long_peak) = (0, 0);
        for _ in 0..MEMORY_REPEATS {
            let (n, peak) = stream_peak(&short_client, &mut seen).await;
            assert_eq!(n, SHORT_PAGES * PAGE_SIZE, "the 10-page list streams every item once");
            short_peak = short_peak.max(peak);
            let (n, peak) = stream_peak(&client, &mut seen).await;
            assert_eq!(n, LONG_PAGES * PAGE_SIZE, "the 100-page list streams every item once");
            assert!(seen.iter().all(|&s| s), "every id of the 100-page list was seen");
            long_peak = long_peak.max(peak);
        }
        let collect = collect_peak(&client).await;
        assert_eq!(collect.0, LONG_PAGES * PAGE_SIZE, "collecting yields every item");
        (short_peak, long_peak, collect)
    });

    let [a, b, c] = &lat.samples;
    let (ma, mb, mc) = (percentile(a, 0.5), percentile(b, 0.5), percentile(c, 0.5));
    let overhead = diff_us(ma, mc);
    let paired = median_f64(lat.round_vs_typed);
    let verdict = if overhead <= TARGET_OVERHEAD_US { "met" } else { "NOT met" };

    println!("opentrain transport bench");
    println!("server: keep-alive HTTP/1.1 on {long_url} (100-page list) and {short_url} (10-page list), own thread");
    println!("client: current-thread tokio runtime, one pooled connection per client");
    println!(
        "latency: GET {ME_PATH}, {WARMUP} warm-up calls per variant, then {} measured calls per variant in {ROUNDS} rounds of {BLOCK}, order rotated per round",
        ROUNDS * BLOCK
    );
    let names = [
        "(a) opentrain get_auth_me().send().run(), typed AuthMe",
        "(b) bare reqwest, body -> serde_json::Value",
        "(c) bare reqwest, body -> opentrain::types::AuthMe",
    ];
    for (name, s) in names.iter().zip([a, b, c]) {
        println!("{name}: median {:.2} µs", us(percentile(s, 0.5)));
        println!("{name}: p90 {:.2} µs", us(percentile(s, 0.9)));
    }
    println!(
        "overhead median(a) - median(c): {overhead:.2} µs per call (target <= {TARGET_OVERHEAD_US} µs: {verdict})"
    );
    println!("overhead median over rounds of round median(a) - median(c): {paired:.2} µs per call");
    println!("overhead median(a) - median(b): {:.2} µs per call", diff_us(ma, mb));
    println!(
        "overhead median over rounds of round median(a) - median(b): {:.2} µs per call",
        median_f64(lat.round_vs_value)
    );
    println!(
        "memory: peak live heap above the pre-stream baseline, whole process, max of {MEMORY_REPEATS} runs after one warm-up run each"
    );
    println!("stream {SHORT_PAGES} pages ({} items): {:.1} KiB", SHORT_PAGES * PAGE_SIZE, kib(short_peak));
    println!("stream {LONG_PAGES} pages ({} items): {:.1} KiB", LONG_PAGES * PAGE_SIZE, kib(long_peak));
    println!(
        "ratio {LONG_PAGES}-page / {SHORT_PAGES}-page streaming peak: {:.2} ({})",
        long_peak as f64 / short_peak.max(1) as f64,
        if long_peak as f64 <= short_peak as f64 * 1.25 { "flat" } else { "grows with the list" }
    );
    println!(
        "for contrast, try_collect {LONG_PAGES} pages into Vec<MyJob> ({} items): {:.1} KiB",
        collect.0,
        kib(collect.1)
    );
    println!("items streamed per 100-page run: {} (all ids distinct)", LONG_PAGES * PAGE_SIZE);
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
}
