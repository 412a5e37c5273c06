//! Measures the client's peak memory when a server streams a 44 MB body: run with
//! `cargo run --release --example peak_rss` (Linux; reads VmHWM from /proc/self/status).
//!
//! The server side streams 64 KiB chunks generated on the fly (chunked encoding, no length), so
//! the peak is the client's own: with the default 16 MiB cap it stops reading at the limit.
//! `peak_rss uncapped` lifts the cap to show what the body would cost without it.

use std::time::Duration;

use opentrain::{Client, Run};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

const BODY: usize = 44_000_000;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches("kB").trim().to_string()))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn serve(listener: TcpListener) {
    while let Ok((mut sock, _)) = listener.accept().await {
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let start = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if sock.write_all(start.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < BODY {
                let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if sock.write_all(&frame).await.is_err() {
                    return;
                }
                sent += chunk.len();
            }
            let _ = sock.write_all(b"0\r\n\r\n").await;
        });
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener));
    let uncapped = std::env::args().nth(1).as_deref() == Some("uncapped");
    let mut builder = Client::builder().base_url(base).timeout(Duration::from_secs(60));
    if uncapped {
        builder = builder.max_response_bytes(u64::MAX);
    }
    let client = builder.build()?;
    let before = vm_hwm_kib();
    let outcome = client.get_auth_me().send().run().await;
    let after = vm_hwm_kib();
    println!("cap: {}", if uncapped { "none" } else { "default (16 MiB)" });
    println!("outcome: {}", outcome.err().map(|e| e.to_string()).unwrap_or_else(|| "ok".into()));
    println!("VmHWM before the call: {:.1} MiB", before as f64 / 1024.0);
    println!("VmHWM after the call:  {:.1} MiB", after as f64 / 1024.0);
    Ok(())
}
