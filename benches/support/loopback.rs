//! The keep-alive HTTP/1.1 server on 127.0.0.1 the benches measure against, answering
//! pre-rendered responses so its own work stays out of the figures.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Picks the complete response (status line to body) for one request head.
pub trait Answer: Send + Sync + 'static {
    /// `head` is the request line and headers, without the body.
    fn answer(&self, head: &[u8]) -> &[u8];
}

/// A complete JSON response, rendered once.
pub fn response(status: &str, body: &serde_json::Value) -> Vec<u8> {
    let body = body.to_string();
    format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len())
        .into_bytes()
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Serves one keep-alive connection until the client closes it.
async fn serve<R: Answer>(mut sock: TcpStream, routes: Arc<R>) -> io::Result<()> {
    // Without it a response split across segments can wait on delayed ACKs.
    sock.set_nodelay(true)?;
    // On the stack: the transport bench counts heap bytes, and this buffer is not the client's.
    let mut buf = [0u8; 16 * 1024];
    let mut len = 0;
    loop {
        let end = loop {
            if let Some(i) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if len == buf.len() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
            }
            let n = sock.read(&mut buf[len..]).await?;
            if n == 0 {
                return Ok(());
            }
            len += n;
        };
        // A body (the MCP bench's writes) is read and ignored: the answer depends on the head.
        let total = end + content_length(&buf[..end]);
        if total > buf.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request body too large"));
        }
        while len < total {
            let n = sock.read(&mut buf[len..]).await?;
            if n == 0 {
                return Ok(());
            }
            len += n;
        }
        sock.write_all(routes.answer(&buf[..end])).await?;
        buf.copy_within(total..len, 0);
        len -= total;
    }
}

/// Starts one listener per `routes` on a thread of its own and returns their base URLs in order.
///
/// The server gets its own thread and single-threaded runtime so that, on two cores, client and
/// server each have a core and do not queue behind each other on one scheduler.
pub fn start<R: Answer>(routes: Vec<R>) -> Vec<String> {
    let listeners: Vec<(std::net::TcpListener, Arc<R>)> = routes
        .into_iter()
        .map(|r| {
            let l = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .expect("bind an ephemeral port on 127.0.0.1");
            l.set_nonblocking(true).expect("make the listener non-blocking for tokio");
            (l, Arc::new(r))
        })
        .collect();
    let urls = listeners
        .iter()
        .map(|(l, _)| format!("http://{}", l.local_addr().expect("read the listener's address")))
        .collect();
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build the server's tokio runtime");
            rt.block_on(async move {
                let mut accepting = Vec::new();
                for (l, routes) in listeners {
                    let l = TcpListener::from_std(l).expect("hand the listener to tokio");
                    accepting.push(tokio::spawn(async move {
                        loop {
                            match l.accept().await {
                                Ok((sock, _)) => {
                                    let routes = routes.clone();
                                    tokio::spawn(async move {
                                        if let Err(e) = serve(sock, routes).await {
                                            eprintln!("bench server: connection ended with {e}");
                                        }
                                    });
                                }
                                Err(e) => eprintln!("bench server: accept failed: {e}"),
                            }
                        }
                    }));
                }
                // The thread lives until the process exits with the report.
                for task in accepting {
                    let _ = task.await;
                }
            });
        })
        .expect("spawn the server thread");
    urls
}
