//! The local OpenTrain API both MCP benches measure against: the same routes and the same 50-job
//! search answer, so the stdio and HTTP figures describe the same call.

use serde_json::{Value, json};

#[path = "../../../../benches/support/loopback.rs"]
mod loopback;
use loopback::{Answer, response};

/// The token the API accepts (the tokenless job search needs none).
#[allow(dead_code, reason = "the HTTP bench calls the tokenless search only")]
pub const TOKEN: &str = "ot_pat_bench_secret";

/// Pre-rendered answers, so the server's own work stays out of the figures.
struct Routes {
    credits: Vec<u8>,
    jobs: Vec<u8>,
    claim_required: Vec<u8>,
    unauthorized: Vec<u8>,
    not_found: Vec<u8>,
}

impl Routes {
    fn new() -> Self {
        let jobs: Vec<Value> = (0..50)
            .map(|i| {
                json!({"id": format!("job-{i:03}"), "title": format!("Label Spanish tweets, batch {i}"),
                    "status": "OPEN", "payType": "PAY_PER_LABEL", "country": "ES", "language": "Spanish",
                    "createdAt": "2026-01-01T00:00:00.000Z", "jobUrl": format!("https://app.opentrain.ai/jobs/job-{i:03}")})
            })
            .collect();
        Self {
            credits: response(
                "200 OK",
                &json!({"credits": {"balanceUsd": 125.5, "heldUsd": 20, "availableUsd": 105.5, "currency": "USD"}}),
            ),
            jobs: response("200 OK", &json!({"jobs": jobs, "nextCursor": "c2", "generatedAt": "2026-01-01T00:00:00Z"})),
            claim_required: response(
                "403 Forbidden",
                &json!({"error": "A human must claim this agent account first.", "code": "FORBIDDEN", "requestId": "req_1",
                    "details": {"reason": "account_claim_required", "claimUrl": "https://app.opentrain.ai/claim"}}),
            ),
            unauthorized: response("401 Unauthorized", &json!({"error": "bad token", "code": "UNAUTHORIZED"})),
            not_found: response("404 Not Found", &json!({"error": "no such route", "code": "NOT_FOUND"})),
        }
    }
}

impl Answer for Routes {
    fn answer(&self, head: &[u8]) -> &[u8] {
        let head = String::from_utf8_lossy(head);
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let (method, target) = (first.next().unwrap_or_default(), first.next().unwrap_or_default());
        let path = target.split('?').next().unwrap_or_default();
        let authorized = lines
            .filter_map(|l| l.split_once(':'))
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v.trim().strip_prefix("Bearer ") == Some(TOKEN));
        match (method, path) {
            // Tokenless: no header expected.
            ("GET", "/api/public/v1/jobs") => &self.jobs,
            _ if !authorized => &self.unauthorized,
            ("GET", "/api/public/v1/credits") => &self.credits,
            ("POST", "/api/public/v1/proposals/p1/hire") => &self.claim_required,
            _ => &self.not_found,
        }
    }
}

/// Starts the API on its own thread and runtime, so it never queues behind the measured side;
/// returns its base URL.
pub fn start_api() -> String {
    loopback::start(vec![Routes::new()]).remove(0)
}
