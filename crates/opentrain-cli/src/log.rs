//! `--verbose` / OPENTRAIN_LOG: one `tracing` event per HTTP attempt on stderr (method, path,
//! status, attempt number, elapsed time), from the SDK client's attempt hook, and one per retry
//! decision; never a token, a header or a body.
//!
//! Events carry the target `opentrain::http`. `--verbose` shows them at `info`; OPENTRAIN_LOG
//! takes a filter instead (`debug`, `opentrain::http=info`, `warn`, ...), which also reaches
//! the libraries' own events. Every line is masked with [`opentrain::redact`] as it is written,
//! whichever crate emitted it. Without either, no subscriber is installed and logging costs a
//! relaxed load per event site.

use std::{
    ffi::OsString,
    io::{self, Write},
};

use opentrain::{AttemptEvent, RetryEvent};
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

/// The client's retry observer: logs why the last attempt is being repeated.
pub fn on_retry(e: &RetryEvent) {
    tracing::info!(
        target: TARGET,
        operation = e.operation,
        failed = %e.reason,
        next_attempt = e.next_attempt,
        delay_ms = e.delay.as_millis() as u64,
        "retrying",
    );
}

/// The client's attempt observer: one line per HTTP attempt, whichever flow made it (a plain
/// command, a claim poll, an approval wait), with the exact status or why none came.
pub fn on_attempt(e: &AttemptEvent) {
    let status = e.status.map_or_else(|| "none".to_string(), |s| s.to_string());
    let elapsed_ms = e.elapsed.as_millis() as u64;
    // The SDK masks the path already; the writer masks the whole line again, whatever it holds.
    match &e.failure {
        None => tracing::info!(
            target: TARGET,
            method = %e.method,
            path = %e.path,
            %status,
            attempt = e.attempt,
            elapsed_ms,
            "request",
        ),
        Some(failure) => tracing::info!(
            target: TARGET,
            method = %e.method,
            path = %e.path,
            %status,
            %failure,
            attempt = e.attempt,
            elapsed_ms,
            "request",
        ),
    }
}
