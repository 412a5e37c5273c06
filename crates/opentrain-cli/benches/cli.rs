//! CLI start-up benchmark: process wall time of `opentrain jobs search --json` against a local
//! server, and of `opentrain --help`, median of 20 runs each, with the bench-profile binary.
//!
//! Run with `cargo bench --features cli --bench cli`. The server is a plain std listener on
//! 127.0.0.1 answering one canned page per connection, so the figure is the CLI's own cost:
//! exec, argument parsing, credentials lookup, runtime and HTTP client set-up, one request, JSON
//! printing, exit. It prints one line per figure and exits 0; it panics only when the CLI's
//! output is wrong (the figure would then measure the wrong thing).

use std::{
    io::{Read, Write},
    net::TcpListener,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

const RUNS: usize = 20;
const WARMUP: usize = 3;
const TARGET_MS: f64 = 10.0;

/// A small but realistic search page (three jobs).
fn page() -> String {
    let job = |i: u32| {
        format!(
            r#"{{"id":"job_{i}","slug":"spanish-audio-{i}","title":"Spanish audio annotation {i}","companyName":"Acme","status":"OPEN","datePosted":"2026-06-01T12:00:00.000Z","languages":["Spanish"],"category":"Audio Annotation","pay":{{"paymentType":"PAY_PER_HOUR","currency":"USD","hourlyRate":12}},"url":"https://app.opentrain.ai/jobs/job_{i}"}}"#
        )
    };
    format!(r#"{{"jobs":[{},{},{}],"nextCursor":null}}"#, job(1), job(2), job(3))
}

/// Serves `body` to every request, one connection at a time, closing each after the response.
fn serve(body: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(body.as_bytes()));
        }
    });
    port
}

fn command(args: &[&str], home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_opentrain"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("OT_") || k.starts_with("OPENTRAIN_") {
            c.env_remove(k);
        }
    }
    c.args(args).env("HOME", home).env("XDG_CONFIG_HOME", home).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Wall time of each of `RUNS` runs (after `WARMUP` unmeasured ones), checking every output.
fn measure(args: &[&str], home: &std::path::Path, check: impl Fn(&str)) -> Vec<Duration> {
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..WARMUP + RUNS {
        let start = Instant::now();
        let out = command(args, home).output().expect("run opentrain");
        let took = start.elapsed();
        assert!(out.status.success(), "opentrain {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        check(&String::from_utf8_lossy(&out.stdout));
        if i >= WARMUP {
            times.push(took);
        }
    }
    times.sort();
    times
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, times: &[Duration]) -> f64 {
    let median = ms((times[times.len() / 2 - 1] + times[times.len() / 2]) / 2);
    println!(
        "{name:<40} median {median:6.2} ms   min {:6.2} ms   max {:6.2} ms   ({} runs)",
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
    median
}

fn main() {
    let home = tempfile::tempdir().expect("temp HOME");
    let body = page();
    let port = serve(body.clone());
    let base = format!("http://127.0.0.1:{port}");
    let expected: serde_json::Value = serde_json::from_str(&body).expect("page JSON");

    let search = measure(&["jobs", "search", "--json", "--base-url", &base], home.path(), |out| {
        let got: serde_json::Value = serde_json::from_str(out).expect("--json prints JSON");
        assert_eq!(got, expected, "the CLI printed the page it was served");
    });
    let help = measure(&["--help"], home.path(), |out| assert!(out.contains("Usage: opentrain")));

    println!("binary: {}", env!("CARGO_BIN_EXE_opentrain"));
    let median = report("opentrain jobs search --json (local server)", &search);
    report("opentrain --help", &help);
    println!(
        "target: jobs search --json median <= {TARGET_MS} ms: {}",
        if median <= TARGET_MS { "met" } else { "NOT met" }
    );
}
