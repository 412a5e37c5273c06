//! Line-delimited JSON-RPC over stdin/stdout that answers every bad line and keeps serving.
//!
//! rmcp's own stdio transport silently drops a line that is not JSON and answers a malformed
//! request without its id; a client then waits for an answer that never comes. This one replies
//! as JSON-RPC 2.0 says: `-32700` for unparsable input, `-32602` (with the request's id) when a
//! known envelope has bad params, `-32600` otherwise, and `-32600` for a line over
//! [`MAX_LINE_BYTES`], which is discarded without being buffered. Notifications and responses
//! are never answered, as the protocol requires.

use std::{io, pin::Pin, sync::Arc};

use rmcp::{
    RoleServer,
    model::{ClientRequest, CustomRequest, ErrorData, JsonRpcMessage, JsonRpcRequest, NumberOrString, RequestId},
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    sync::Mutex,
};

/// The longest line accepted. Tool arguments are a few KiB (a job description is at most
/// 60,000 characters); anything near this is a broken or hostile peer.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Requests MCP defines; rmcp parses each into its own type when the params fit.
const STANDARD_REQUESTS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/call",
    "tools/list",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "subscriptions/listen",
    "completion/complete",
    "logging/setLevel",
];

/// Above this, the line buffer is released after use so one big message does not pin memory.
const KEEP_BUFFER_BYTES: usize = 64 * 1024;

/// A future that, once resolved, ends the input as EOF would (a shutdown signal).
pub type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The server side of a stdio connection.
pub struct LineTransport<R, W> {
    read: BufReader<R>,
    write: Arc<Mutex<W>>,
    line: Vec<u8>,
    discarding: bool,
    max: usize,
    stop: Option<Stop>,
    stopped: bool,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Reads requests from `read`, writes answers to `write`.
    pub fn new(read: R, write: W) -> Self {
        Self::with_max_line(read, write, MAX_LINE_BYTES)
    }

    /// Like [`new`](Self::new), with another line limit.
    pub fn with_max_line(read: R, write: W, max: usize) -> Self {
        Self {
            read: BufReader::new(read),
            write: Arc::new(Mutex::new(write)),
            line: Vec::new(),
            discarding: false,
            max,
            stop: None,
            stopped: false,
        }
    }

    /// Ends the input when `stop` resolves, as if stdin had closed: no new request is read,
    /// and rmcp then drains the calls in flight (their answers are written) before it returns.
    pub fn until(mut self, stop: impl Future<Output = ()> + Send + 'static) -> Self {
        self.stop = Some(Box::pin(stop));
        self
    }

    /// The next line, or `Eof` once the stop future resolved. `read_line` is cancellation-safe,
    /// so a stop in the middle of a line loses nothing that would have been answered.
    async fn next_line(&mut self) -> io::Result<Line> {
        if self.stopped {
            return Ok(Line::Eof);
        }
        let Some(mut stop) = self.stop.take() else { return self.read_line().await };
        let line = tokio::select! {
            r = self.read_line() => r,
            () = stop.as_mut() => {
                self.stopped = true;
                return Ok(Line::Eof);
            }
        };
        self.stop = Some(stop);
        line
    }

    /// Sends `message` without waiting: `receive` may be cancelled at any await, and a reply
    /// half-written by a cancelled future would corrupt the stream.
    fn reply(&self, mut error: ErrorData, id: Option<RequestId>) {
        // Parse errors quote the offending input, which may hold a secret.
        error.message = opentrain::redact(&error.message).into();
        let message = TxJsonRpcMessage::<RoleServer>::error(error, id);
        let write = self.write.clone();
        tokio::spawn(async move {
            let _ = write_line(&write, &message).await;
        });
    }

    /// Reads the next line into `self.line`. Cancellation-safe: bytes move from the reader's
    /// buffer to `self.line` with no await in between, so a cancelled read resumes the line.
    async fn read_line(&mut self) -> io::Result<Line> {
        loop {
            let (consumed, outcome) = {
                let available = self.read.fill_buf().await?;
                if available.is_empty() {
                    return Ok(Line::Eof);
                }
                let newline = available.iter().position(|b| *b == b'\n');
                let take = newline.map_or(available.len(), |i| i + 1);
                if self.discarding {
                    (take, newline.map(|_| Step::EndDiscard))
                } else if self.line.len() + take > self.max {
                    self.line.clear();
                    (take, Some(if newline.is_some() { Step::Oversized } else { Step::OversizedDiscard }))
                } else {
                    self.line.extend_from_slice(&available[..take]);
                    (take, newline.map(|_| Step::Line))
                }
            };
            self.read.consume(consumed);
            match outcome {
                None => {}
                Some(Step::Line) => return Ok(Line::Full),
                Some(Step::EndDiscard) => self.discarding = false,
                Some(Step::Oversized) => return Ok(Line::Oversized),
                Some(Step::OversizedDiscard) => {
                    self.discarding = true;
                    return Ok(Line::Oversized);
                }
            }
        }
    }

    /// Parses the buffered line: the message, or the reply it deserves (if any).
    fn parse(&self) -> Parsed {
        let mut line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Parsed::Nothing;
        }
        let err = match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
            // rmcp files a standard method whose params do not fit as a custom request, which
            // it then answers "method not found": that would tell the client `tools/call` does
            // not exist.
            Ok(JsonRpcMessage::Request(JsonRpcRequest {
                id,
                request: ClientRequest::CustomRequest(CustomRequest { method, .. }),
                ..
            })) if STANDARD_REQUESTS.contains(&method.as_str()) => {
                let message = format!("Invalid params for {method}: they do not match the method's schema");
                return Parsed::Reply(ErrorData::invalid_params(message, None), Some(id));
            }
            // rmcp reads a request whose id it cannot represent (null, 1.5, beyond i64) as a
            // notification, which is never answered: the client would wait forever.
            Ok(JsonRpcMessage::Notification(_)) if has_id(line) => return invalid_id(),
            Ok(m) => return Parsed::Message(Box::new(m)),
            Err(e) => e,
        };
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return Parsed::Reply(ErrorData::parse_error(format!("Parse error: {err}"), None), None);
        };
        let method = value.get("method").and_then(Value::as_str);
        let response = method.is_none() && (value.get("result").is_some() || value.get("error").is_some());
        let id = match value.get("id") {
            None => None,
            Some(Value::String(s)) => Some(NumberOrString::String(s.as_str().into())),
            Some(Value::Number(n)) if n.is_i64() => n.as_i64().map(NumberOrString::Number),
            Some(_) if response => None,
            Some(_) => return invalid_id(),
        };
        match (id, method) {
            // A notification (no id) or a response from the client is never answered.
            (None, Some(_)) => Parsed::Nothing,
            (_, None) if value.get("result").is_some() || value.get("error").is_some() => Parsed::Nothing,
            (Some(id), Some(m)) if value.get("jsonrpc") == Some(&Value::from("2.0")) => {
                Parsed::Reply(ErrorData::invalid_params(format!("Invalid params for {m}: {err}"), None), Some(id))
            }
            (id, _) => Parsed::Reply(ErrorData::invalid_request(format!("Invalid request: {err}"), None), id),
        }
    }

    fn reset_line(&mut self) {
        if self.line.capacity() > KEEP_BUFFER_BYTES {
            self.line = Vec::new();
        } else {
            self.line.clear();
        }
    }
}

/// Whether a JSON object line has an `id` member, whatever its value.
fn has_id(line: &[u8]) -> bool {
    serde_json::from_slice::<Value>(line).is_ok_and(|v| v.get("id").is_some())
}

/// JSON-RPC 2.0: an id must be a string or an integer; the error names no id since there is
/// none to name.
fn invalid_id() -> Parsed {
    let message = "Invalid request: the id must be a string or an integer (not null, fractional or beyond 64 bits)";
    Parsed::Reply(ErrorData::invalid_request(message, None), None)
}

enum Line {
    Full,
    Oversized,
    Eof,
}

enum Step {
    Line,
    EndDiscard,
    Oversized,
    OversizedDiscard,
}

enum Parsed {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    Reply(ErrorData, Option<RequestId>),
    Nothing,
}

async fn write_line<W: AsyncWrite + Unpin>(write: &Mutex<W>, message: &TxJsonRpcMessage<RoleServer>) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(message).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let mut w = write.lock().await;
    w.write_all(&bytes).await?;
    w.flush().await
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), io::Error>> + Send + 'static {
        let write = self.write.clone();
        async move { write_line(&write, &item).await }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            match self.next_line().await {
                Ok(Line::Full) => {}
                Ok(Line::Oversized) => {
                    let message = format!("Invalid request: message larger than {} bytes, discarded", self.max);
                    self.reply(ErrorData::invalid_request(message, None), None);
                    self.reset_line();
                    continue;
                }
                Ok(Line::Eof) | Err(_) => return None,
            }
            let parsed = self.parse();
            self.reset_line();
            match parsed {
                Parsed::Message(m) => return Some(*m),
                Parsed::Reply(error, id) => self.reply(error, id),
                Parsed::Nothing => {}
            }
        }
    }

    async fn close(&mut self) -> Result<(), io::Error> {
        self.write.lock().await.flush().await
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    use super::*;

    async fn replies(input: &[u8], max: usize) -> (Vec<String>, Vec<Value>) {
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let (server_r, server_w) = tokio::io::split(server_io);
        let (client_r, mut client_w) = tokio::io::split(client_io);
        let mut t = LineTransport::with_max_line(server_r, server_w, max);
        client_w.write_all(input).await.expect("write");
        client_w.shutdown().await.expect("shutdown");
        let mut methods = Vec::new();
        while let Some(m) = t.receive().await {
            let v = serde_json::to_value(&m).unwrap_or_default();
            methods.push(v["method"].as_str().unwrap_or_default().to_string());
        }
        // Replies are written by spawned tasks; give them a moment.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(t);
        let mut out = Vec::new();
        let mut lines = BufReader::new(client_r).lines();
        while let Ok(Ok(Some(l))) = tokio::time::timeout(std::time::Duration::from_millis(100), lines.next_line()).await
        {
            out.push(serde_json::from_str(&l).unwrap_or_default());
        }
        (methods, out)
    }

    #[tokio::test]
    async fn answers_bad_lines_and_keeps_reading() {
        let input = concat!(
            "this is not json\n",
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":5}}\n",
            "[1,2]\n",
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":3}\n",
            "\n",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
        );
        let (methods, out) = replies(input.as_bytes(), 1 << 20).await;
        assert_eq!(methods, vec!["ping"]);
        let codes: Vec<(i64, Value)> =
            out.iter().map(|r| (r["error"]["code"].as_i64().unwrap_or(0), r["id"].clone())).collect();
        assert!(codes.contains(&(-32700, Value::Null)), "{out:?}");
        assert!(codes.contains(&(-32602, Value::from(7))), "{out:?}");
        assert!(codes.contains(&(-32600, Value::Null)), "{out:?}");
        assert_eq!(out.len(), 3, "{out:?}");
    }

    #[tokio::test]
    async fn discards_an_oversized_line_then_serves() {
        let mut input = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}\n",
            "x".repeat(5000)
        );
        input.push_str("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
        let (methods, out) = replies(input.as_bytes(), 1024).await;
        assert_eq!(methods, vec!["ping"]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["error"]["code"], -32600);
    }
}
