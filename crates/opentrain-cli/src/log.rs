//! `--verbose` / OPENTRAIN_LOG: one `tracing` event per request on stderr (method, path,
//! status, duration, attempts) and one per retry, never a token or a body.
//!
//! Events carry the target `opentrain::http`. `--verbose` shows them at `info`; OPENTRAIN_LOG
//! takes a filter instead (`debug`, `opentrain::http=info`, `warn`, ...), which also reaches
//! the libraries' own events. Every line is masked with [`opentrain::redact`] as it is written,
//! whichever crate emitted it. Without either, no subscriber is installed and logging costs a
//! relaxed load per event site.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    io::{self, Write},
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use opentrain::{Error, RetryEvent, generated::meta::OperationId};
use tracing_subscriber::{filter::Targets, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::Failure;

/// The target of the request events, for OPENTRAIN_LOG filters.
pub const TARGET: &str = "opentrain::http";

/// Installs the stderr subscriber when `--verbose` or OPENTRAIN_LOG asks for one; a filter that
/// does not parse is a usage error naming it.
pub fn init(verbose: bool, env: Option<OsString>) -> Result<(), Failure> {
    let env = env.map(|v| v.to_string_lossy().trim().to_string()).filter(|v| !v.is_empty());
    let filter = match (env, verbose) {
        (Some(spec), _) => spec.parse::<Targets>().map_err(|e| {
            Failure::Usage(format!(
                "OPENTRAIN_LOG=`{spec}` is not a log filter ({e}); give a level such as `info` or `debug`, \
                 or target=level pairs such as `{TARGET}=info`"
            ))
        })?,
        (None, true) => Targets::new().with_target(TARGET, tracing::Level::INFO),
        (None, false) => return Ok(()),
    };
    let layer = tracing_subscriber::fmt::layer().with_writer(Redacting).with_ansi(false);
    // Only fails when a subscriber is already set, which nothing else here does.
    let _ = tracing_subscriber::registry().with(filter).with(layer).try_init();
    Ok(())
}

/// Hands out a fresh [`RedactingLine`] per event.
struct Redacting;

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = RedactingLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine(Vec::new())
    }
}

/// Collects one formatted event and writes it masked to stderr when dropped: the formatter
/// writes an event whole, and masking needs the whole text (a token split across two writes
/// would slip through).
struct RedactingLine(Vec<u8>);

impl Write for RedactingLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = opentrain::redact(&String::from_utf8_lossy(&self.0));
        // Logging is best effort: a closed stderr must not end the command.
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The attempt the current call is on: 1, raised by each retry. The CLI makes one call at a
/// time, so one counter serves them all.
static ATTEMPT: AtomicU32 = AtomicU32::new(1);

/// Marks the start of a call (attempt 1).
pub fn start_call() {
    ATTEMPT.store(1, Ordering::Relaxed);
}

/// The client's retry observer: logs why the last attempt is being repeated.
pub fn on_retry(e: &RetryEvent) {
    ATTEMPT.store(e.next_attempt, Ordering::Relaxed);
    tracing::info!(
        target: TARGET,
        operation = e.operation,
        failed = %e.reason,
        next_attempt = e.next_attempt,
        delay_ms = e.delay.as_millis() as u64,
        "retrying",
    );
}

/// Logs the end of one call of `op` with these path parameters.
pub fn request(op: OperationId, params: &BTreeMap<String, String>, outcome: Result<(), &Error>, took: Duration) {
    if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        return;
    }
    let (method, path) = crate::request_line(op, params);
    let duration_ms = took.as_millis() as u64;
    let mut attempt = ATTEMPT.load(Ordering::Relaxed);
    let status = match outcome {
        // The raw client hands back the body alone: "ok" stands for its 2xx.
        Ok(()) => "ok".to_string(),
        Err(Error::Api(e)) => e.status.to_string(),
        Err(Error::OAuth(e)) => e.status.to_string(),
        Err(e @ Error::InvalidResponse { status, .. }) => {
            status.map_or_else(|| e.code_str().to_string(), |s| s.to_string())
        }
        Err(e @ (Error::Transport { attempts, .. } | Error::Timeout { attempts, .. })) => {
            attempt = *attempts;
            e.code_str().to_string()
        }
        Err(e) => e.code_str().to_string(),
    };
    // The path may hold an id the user pasted (a token by mistake); the writer masks the line.
    tracing::info!(target: TARGET, %method, %path, %status, duration_ms, attempt, "request");
}
