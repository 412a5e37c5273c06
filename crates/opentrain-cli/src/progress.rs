//! Progress of long waits on stderr: a spinner with the state and elapsed time on a terminal,
//! plain lines otherwise (logs and agents read those; a spinner would fill them with redraws).

use std::{
    io::{IsTerminal, Write},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

/// Plain mode repeats an unchanged state at most this often, so a 30-minute wait leaves a
/// heartbeat in the log without a line per poll.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// A wait in progress. Dropping it clears the spinner (Ctrl-C included).
pub struct Progress {
    what: String,
    start: Instant,
    spinner: Option<ProgressBar>,
    last: Option<(String, Instant)>,
}

impl Progress {
    /// Starts showing a wait for `what` ("the claim", "approval apr_1").
    pub fn start(what: impl Into<String>) -> Self {
        let what = what.into();
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                bar.set_style(style);
            }
            bar.set_message(format!("waiting for {what}"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { what, start: Instant::now(), spinner, last: None }
    }

    /// Shows the current state.
    pub fn state(&mut self, state: &str) {
        // The state is server text (an approval status) and may echo a secret.
        let state = opentrain::redact(state);
        let state = state.as_str();
        match &self.spinner {
            Some(bar) => bar.set_message(format!("waiting for {}: {state}", self.what)),
            None => {
                let repeat = self.last.as_ref().is_some_and(|(s, at)| s == state && at.elapsed() < HEARTBEAT);
                if !repeat {
                    let secs = self.start.elapsed().as_secs();
                    // stderr may be closed; progress is best effort.
                    let _ = writeln!(std::io::stderr(), "waiting for {}: {state} ({secs}s elapsed)", self.what);
                    self.last = Some((state.to_string(), Instant::now()));
                }
            }
        }
    }

    /// Ends the display with a final line.
    pub fn finish(mut self, line: &str) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
        let _ = writeln!(std::io::stderr(), "{} after {}s", opentrain::redact(line), self.start.elapsed().as_secs());
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }
}
