//! A raw server on 127.0.0.1 that does what httpmock cannot: read a whole request, then reset the
//! connection, never answer, or stream an endless body. It counts the requests that arrived whole,
//! so a test can tell "sent once" from "sent twice".

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// What the server does once it has read a whole request.
#[derive(Clone)]
pub enum Fault {
    /// Reset the connection (RST): the request arrived, no answer will.
    Reset,
    /// Keep the connection open and never answer.
    Stall,
    /// Reset the first request; answer later ones with 200 and a valid `auth/me` body.
    ResetOnceThenAnswer,
    /// Answer 200 with a chunked body of `total` bytes of spaces (larger than any cap).
    Chunked {
        /// Bytes streamed before the final chunk.
        total: usize,
    },
    /// Answer 200 with `body` as one chunk of a chunked body (no Content-Length).
    OneChunk(String),
    /// Announce a 200 body of `length` bytes, then send none of it and never close.
    Announce {
        /// The announced Content-Length.
        length: usize,
    },
    /// Announce 100 bytes, send 10, then close: the answer is cut short.
    CutShort,
}

/// Starts the server; returns its base URL and the count of requests that reached it whole.
pub async fn fault_server(fault: Fault) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (count, fault) = (count.clone(), fault.clone());
            tokio::spawn(async move {
                // One connection may carry several requests (keep-alive).
                while read_request(&mut sock).await {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    let answered = match &fault {
                        Fault::Stall => std::future::pending().await,
                        Fault::ResetOnceThenAnswer if n > 1 => answer_me(&mut sock).await,
                        Fault::Reset | Fault::ResetOnceThenAnswer => {
                            // Zero linger: closing sends RST, a reset rather than an orderly end.
                            let _ = sock.set_zero_linger();
                            return;
                        }
                        Fault::Chunked { total } => stream_spaces(&mut sock, *total).await,
                        Fault::OneChunk(body) => {
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                            let frame = format!("{head}{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
                            sock.write_all(frame.as_bytes()).await.is_ok()
                        }
                        Fault::Announce { length } => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
                            );
                            let _ = sock.write_all(head.as_bytes()).await;
                            std::future::pending().await
                        }
                        Fault::CutShort => {
                            let head =
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
                            let _ = sock.write_all(format!("{head}{{\"actor\": ").as_bytes()).await;
                            return;
                        }
                    };
                    if !answered {
                        return;
                    }
                }
            });
        }
    });
    (base, seen)
}

async fn answer_me(sock: &mut TcpStream) -> bool {
    let body = serde_json::json!({"actor": {"userId": "u_1"}, "token": {"id": "t_1", "scopes": []},
        "account": {"kind": "employer_organization"}})
    .to_string();
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
    sock.write_all(format!("{head}{body}").as_bytes()).await.is_ok()
}

async fn stream_spaces(sock: &mut TcpStream, total: usize) -> bool {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if sock.write_all(&frame).await.is_err() {
            return false;
        }
        sent += chunk.len();
    }
    sock.write_all(b"0\r\n\r\n").await.is_ok()
}

/// Reads one request (head and Content-Length body); false if the peer went away first.
async fn read_request(sock: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte, so nothing of a following keep-alive request is swallowed.
    while !buf.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(0) | Err(_) => return false,
            Ok(_) => buf.push(byte[0]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    sock.read_exact(&mut body).await.is_ok()
}
