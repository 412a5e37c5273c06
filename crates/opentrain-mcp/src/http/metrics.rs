//! Prometheus metrics of the HTTP face: tool calls by tool and outcome, their latency, and the
//! upstream API's status codes, in the text format `/metrics` serves.

use std::time::Duration;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use rmcp::model::CallToolResult;
use serde_json::Value;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tool: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabel {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

type HistogramFamily = Family<ToolLabel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 65 s: a cached answer to the longest approval wait.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 19))
}

/// The process's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: HistogramFamily,
    upstream: Family<StatusLabel, Counter>,
    in_flight: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// How a call ended, for the `outcome` label.
fn outcome(result: &CallToolResult) -> &'static str {
    if result.is_error != Some(true) {
        return "ok";
    }
    match code(result) {
        Some("NO_TOKEN") => "no_token",
        Some("INVALID_ARGUMENT" | "NO_CLAIM_TOKEN") => "invalid_argument",
        Some("CANCELLED") => "cancelled",
        _ if upstream_status(result).is_some() => "api_error",
        _ => "error",
    }
}

fn code(result: &CallToolResult) -> Option<&str> {
    result.structured_content.as_ref()?.get("code")?.as_str()
}

/// The upstream HTTP status a failed call reports, if the API answered at all.
fn upstream_status(result: &CallToolResult) -> Option<u64> {
    result.structured_content.as_ref()?.get("status").and_then(Value::as_u64)
}

impl Metrics {
    /// Empty metrics, registered under the `opentrain_mcp_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("opentrain_mcp");
        let calls = Family::<CallLabels, Counter>::default();
        let latency = HistogramFamily::new_with_constructor(latency_histogram as fn() -> Histogram);
        let upstream = Family::<StatusLabel, Counter>::default();
        let in_flight = Gauge::default();
        registry.register("tool_calls", "Tool calls by tool and outcome", calls.clone());
        registry.register("tool_call_duration_seconds", "Tool call latency, by tool", latency.clone());
        registry.register(
            "upstream_responses",
            "Tool calls by the OpenTrain API's answer: its HTTP status on failure, 2xx on success, none when \
             nothing was sent or no answer came",
            upstream.clone(),
        );
        registry.register("tool_calls_in_flight", "Tool calls running now", in_flight.clone());
        Self { registry, calls, latency, upstream, in_flight }
    }

    /// Counts a call as running until the guard is dropped.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// Records one finished call of `tool`.
    pub fn observe(&self, tool: &str, result: &CallToolResult, elapsed: Duration) {
        let outcome = outcome(result);
        self.calls.get_or_create(&CallLabels { tool: tool.to_string(), outcome: outcome.to_string() }).inc();
        self.latency.get_or_create(&ToolLabel { tool: tool.to_string() }).observe(elapsed.as_secs_f64());
        let status = match (outcome, upstream_status(result)) {
            ("ok", _) => "2xx".to_string(),
            (_, Some(s)) => s.to_string(),
            _ => "none".to_string(),
        };
        self.upstream.get_or_create(&StatusLabel { status }).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// A running call; dropping it (even on cancellation) takes it off the in-flight gauge.
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{CallToolResult, ContentBlock};
    use serde_json::json;

    use super::*;

    fn failed(structured: Value) -> CallToolResult {
        let mut r = CallToolResult::error(vec![ContentBlock::text("x")]);
        r.structured_content = Some(structured);
        r
    }

    #[test]
    fn calls_are_counted_by_tool_outcome_and_upstream_status() {
        let m = Metrics::new();
        let ok = CallToolResult::success(vec![ContentBlock::text("fine")]);
        m.observe("opentrain_get_team", &ok, Duration::from_millis(2));
        m.observe("opentrain_get_team", &failed(json!({"code": "FORBIDDEN", "status": 403})), Duration::ZERO);
        m.observe("opentrain_get_team", &failed(json!({"code": "NO_TOKEN"})), Duration::ZERO);
        let text = m.render();
        assert!(text.contains(r#"opentrain_mcp_tool_calls_total{tool="opentrain_get_team",outcome="ok"} 1"#), "{text}");
        assert!(text.contains(r#"outcome="api_error"} 1"#), "{text}");
        assert!(text.contains(r#"outcome="no_token"} 1"#), "{text}");
        assert!(text.contains(r#"opentrain_mcp_upstream_responses_total{status="403"} 1"#), "{text}");
        assert!(text.contains(r#"opentrain_mcp_upstream_responses_total{status="2xx"} 1"#), "{text}");
        assert!(
            text.contains(r#"opentrain_mcp_tool_call_duration_seconds_count{tool="opentrain_get_team"} 3"#),
            "{text}"
        );
    }
}
