//! What the user sees on stdout: the exact JSON with `--json`, else a readable summary per
//! operation (key fields, aligned tables that fit the terminal, the next step to take).
//!
//! Every write returns `io::Result`, so a closed pipe (`opentrain jobs list | head`) surfaces
//! as `BrokenPipe` and ends the process quietly instead of panicking inside `println!`.

use std::io::{self, IsTerminal, Write};

use serde_json::Value;

use opentrain::generated::meta::OperationId;

use crate::{
    args::{Color, Format},
    jq::{Jq, Output as JqOutput},
};

/// Claim-link tokens (`ot_cat_...`): the link a claim command prints is the page the human must
/// open, and masking it would make the claim impossible.
const CLAIM_LINKS: &[&str] = &["ot_cat_"];

/// Standard output, with what the renderers need to know about it.
pub struct Out {
    /// Machine output (`--format json` or `ndjson`, `--json`, `--jq`): JSON instead of the
    /// human summary.
    pub json: bool,
    /// Which machine or human format.
    pub format: Format,
    /// `--jq`: every JSON value goes through it before printing.
    jq: Option<Jq>,
    /// Claim-link tokens are shown (`auth claim` only): see [`CLAIM_LINKS`].
    pub keep_claim_links: bool,
    /// Table width limit: `COLUMNS`, else the terminal's width, else none (a pipe gets full rows).
    width: Option<usize>,
    /// Emphasis (bold) is allowed: see [`styled`].
    styled: bool,
    stdout: io::Stdout,
}

/// A `--jq` filter failed on a response; carried inside an `io::Error` so every writer keeps
/// its `io::Result`, and reported as itself rather than as a write failure.
#[derive(Debug)]
pub struct JqFailed(pub String);

impl std::fmt::Display for JqFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JqFailed {}

/// Whether stdout gets bold: `--color always`/`never` decide; `auto` follows NO_COLOR (set and
/// not empty: never, as no-color.org asks), then CLICOLOR_FORCE (set and not `0`: always, for
/// a pager or a test that wants color through a pipe), then whether stdout is a terminal.
pub fn styled(color: Color, tty: bool, var: impl Fn(&str) -> Option<String>) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto if var("NO_COLOR").is_some_and(|v| !v.is_empty()) => false,
        Color::Auto if var("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") => true,
        Color::Auto => tty,
    }
}

impl Out {
    /// Output for this process's stdout.
    pub fn new(format: Format, jq: Option<Jq>, color: Color) -> Self {
        let tty = io::stdout().is_terminal();
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|w| *w > 0)
            .or_else(|| console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)));
        let styled = styled(color, tty, |k| std::env::var(k).ok());
        let json = format != Format::Table;
        Self { json, format, jq, keep_claim_links: false, width, styled, stdout: io::stdout() }
    }

    /// Writes one line, secrets masked ([`opentrain::redact`]): server text (a title, an error
    /// detail) may carry a token, and stdout ends up in logs and transcripts.
    pub fn line(&mut self, text: impl AsRef<str>) -> io::Result<()> {
        let text = self.redact(text.as_ref());
        self.raw_line(&text)
    }

    fn redact(&self, text: &str) -> String {
        let keep = if self.keep_claim_links { CLAIM_LINKS } else { &[] };
        opentrain::redact::redact_keeping(text, keep)
    }

    fn raw_line(&mut self, text: &str) -> io::Result<()> {
        let mut lock = self.stdout.lock();
        lock.write_all(text.as_bytes())?;
        lock.write_all(b"\n")
    }

    /// The JSON as the API sent it, except that secrets are masked ([`opentrain::redact_json`]):
    /// masking is the one change `--format json` makes to a response. Pretty for `json`, one
    /// line for `ndjson`; through the `--jq` filter when there is one.
    pub fn json_value(&mut self, v: &Value) -> io::Result<()> {
        let mut v = v.clone();
        let keep = if self.keep_claim_links { CLAIM_LINKS } else { &[] };
        opentrain::redact::redact_json_keeping(&mut v, keep);
        self.emit(&v)
    }

    /// JSON with secrets masked except the one at `pointer`: a secret the user just created and
    /// will never be shown again (`tokens create`, `webhooks create`); `--jq .token` picks it.
    pub fn json_revealing(&mut self, v: &Value, pointer: &str) -> io::Result<()> {
        let mut shown = v.clone();
        opentrain::redact_json(&mut shown);
        if let (Some(secret), Some(slot)) = (v.pointer(pointer), shown.pointer_mut(pointer)) {
            *slot = secret.clone();
        }
        self.emit(&shown)
    }

    /// Prints an already masked value in the output format, filtered by `--jq` if given.
    fn emit(&mut self, v: &Value) -> io::Result<()> {
        let Some(jq) = &self.jq else { return self.write_json(v) };
        let outputs = jq.run(v).map_err(|e| io::Error::other(JqFailed(e)))?;
        for o in outputs {
            match o {
                JqOutput::Text(t) => self.raw_line(&t)?,
                JqOutput::Json(j) => self.write_json(&j)?,
            }
        }
        Ok(())
    }

    fn write_json(&mut self, v: &Value) -> io::Result<()> {
        let text = match self.format {
            Format::Ndjson => serde_json::to_string(v),
            Format::Json | Format::Table => serde_json::to_string_pretty(v),
        };
        self.raw_line(&text.map_err(io::Error::other)?)
    }

    /// `label secret` unmasked: only for a secret just created that the user must store now.
    pub fn secret_line(&mut self, label: &str, secret: &str) -> io::Result<()> {
        self.raw_line(&format!("{} {secret}", opentrain::redact(label)))
    }

    /// `text` in bold when the terminal allows it.
    pub fn strong(&self, text: &str) -> String {
        // Forced: `console` would otherwise decide again from the terminal and drop `--color always`.
        if self.styled { console::style(text).bold().force_styling(true).to_string() } else { text.to_string() }
    }

    /// Aligned `label: value` lines, skipping empty values.
    pub fn fields(&mut self, fields: &[(&str, String)]) -> io::Result<()> {
        let shown: Vec<_> = fields.iter().filter(|(_, v)| !v.is_empty()).collect();
        let w = shown.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        for (label, value) in shown {
            self.line(format!("  {:<w$}  {value}", format!("{label}:"), w = w + 1))?;
        }
        Ok(())
    }

    /// The closing "Next:" hint, one command per line.
    pub fn next(&mut self, steps: &[String]) -> io::Result<()> {
        match steps {
            [] => Ok(()),
            [one] => self.line(format!("\nNext: {one}")),
            many => {
                self.line("\nNext:")?;
                for s in many {
                    self.line(format!("  {s}"))?;
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values

/// The value at a JSON pointer, `Null` when absent.
pub fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

/// A value as one line of text: strings as-is, arrays joined, `null` empty.
pub fn text(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    };
    // A cell or field is one line; server text may hold newlines and tabs.
    if s.contains(['\n', '\r', '\t']) { s.split_whitespace().collect::<Vec<_>>().join(" ") } else { s }
}

/// `text(at(v, pointer))`.
pub fn s(v: &Value, pointer: &str) -> String {
    text(at(v, pointer))
}

/// An ISO-8601 time shortened to the minute: `2026-06-10T09:30:00.000Z` → `2026-06-10 09:30`.
pub fn time(v: &Value, pointer: &str) -> String {
    let t = s(v, pointer);
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) if t.as_bytes().get(10) == Some(&b'T') => format!("{d} {hm}"),
        _ => t,
    }
}

/// The date part of an ISO-8601 date or time: `2026-07-01T00:00:00.000Z` → `2026-07-01`.
pub fn date(v: &Value, pointer: &str) -> String {
    let t = s(v, pointer);
    match t.get(..10) {
        Some(d) if t.as_bytes().get(10) == Some(&b'T') => d.to_string(),
        _ => t,
    }
}

/// USD from a number of dollars: `$12.5` → `$12.50`.
pub fn usd(v: &Value, pointer: &str) -> String {
    match at(v, pointer).as_f64() {
        Some(n) => format!("${n:.2}"),
        None => s(v, pointer),
    }
}

/// Money from integer cents, signed: `-1250` → `-$12.50`.
pub fn cents(v: &Value, pointer: &str) -> String {
    match at(v, pointer).as_i64() {
        Some(c) => format!("{}${}.{:02}", if c < 0 { "-" } else { "" }, c.unsigned_abs() / 100, c.unsigned_abs() % 100),
        None => s(v, pointer),
    }
}

/// How a job pays: `$12/hour`, `$0.05/label`, `$500 fixed`.
pub fn pay(v: &Value) -> String {
    let n = |p: &str| at(v, p).as_f64().map(|x| format!("${x}"));
    match at(v, "/paymentType").as_str() {
        Some("PAY_PER_HOUR") => match (n("/hourlyRate"), n("/hourlyMin"), n("/hourlyMax")) {
            (Some(r), _, _) => format!("{r}/hour"),
            (None, Some(lo), Some(hi)) => format!("{lo}-{hi}/hour"),
            _ => "hourly".into(),
        },
        Some("PAY_PER_LABEL") => n("/perLabelRate").map(|r| format!("{r}/label")).unwrap_or_else(|| "per label".into()),
        Some("FIXED_PRICE") => n("/fixedPrice").map(|r| format!("{r} fixed")).unwrap_or_else(|| "fixed".into()),
        _ => s(v, "/paymentType"),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables

/// One table column.
pub struct Column {
    title: &'static str,
    cell: fn(&Value) -> String,
    kind: Kind,
}

/// How a column gives up width when the row is wider than the terminal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An id, copied into the next command: never truncated, whatever the width.
    Id,
    /// Statuses, amounts, dates: shrink only after the free text has.
    Fixed,
    /// Free text (titles, messages): the first to shrink.
    Flex,
}

/// An id column, never truncated: a cut id is useless in the next command.
const fn id_col(title: &'static str, cell: fn(&Value) -> String) -> Column {
    Column { title, cell, kind: Kind::Id }
}

/// A column that keeps its width as long as it can (statuses, amounts, times).
const fn col(title: &'static str, cell: fn(&Value) -> String) -> Column {
    Column { title, cell, kind: Kind::Fixed }
}

/// A free-text column, the first to be truncated.
const fn text_col(title: &'static str, cell: fn(&Value) -> String) -> Column {
    Column { title, cell, kind: Kind::Flex }
}

/// A table printed as pages arrive: widths are fixed by the first rows seen (fitted to the
/// terminal), later rows are padded or truncated to them, so `--all` streams without buffering.
pub struct Table {
    columns: &'static [Column],
    widths: Option<Vec<usize>>,
    /// Cut cells wider than their column. Only when there is a width to fit: piped output keeps
    /// every character of a later page's longer cells, at the cost of alignment.
    truncate: bool,
    /// Rows printed so far.
    pub rows: usize,
}

const GAP: &str = "  ";
/// No column shrinks below this when fitting the terminal (or its header, if shorter).
const MIN_WIDTH: usize = 6;
/// Free-text columns keep at least this much in the first shrinking pass.
const FLEX_FLOOR: usize = 10;

impl Table {
    /// A table with these columns.
    pub fn new(columns: &'static [Column]) -> Self {
        Self { columns, widths: None, truncate: true, rows: 0 }
    }

    /// Prints `items` as rows (the header first, with the first non-empty batch).
    pub fn push(&mut self, out: &mut Out, items: &[Value]) -> io::Result<()> {
        let cells: Vec<Vec<String>> =
            items.iter().map(|item| self.columns.iter().map(|c| (c.cell)(item)).collect()).collect();
        if cells.is_empty() {
            return Ok(());
        }
        let widths = match &self.widths {
            Some(w) => w.clone(),
            None => {
                let w = fit(self.columns, &cells, out.width);
                self.truncate = out.width.is_some();
                let header: Vec<String> = self.columns.iter().map(|c| c.title.to_string()).collect();
                let header = out.strong(&render_row(&header, &w, self.truncate));
                out.line(header)?;
                self.widths = Some(w.clone());
                w
            }
        };
        for row in &cells {
            out.line(render_row(row, &widths, self.truncate))?;
        }
        self.rows += cells.len();
        Ok(())
    }
}

fn width_of(s: &str) -> usize {
    console::measure_text_width(s)
}

/// Column widths: each column's widest cell; when the row is wider than `limit`, free-text
/// columns shrink first (widest first, down to `FLEX_FLOOR`), then every column but the ids
/// (down to `MIN_WIDTH` or its header). Ids keep their width even if the row then overflows.
fn fit(columns: &[Column], cells: &[Vec<String>], limit: Option<usize>) -> Vec<usize> {
    let mut w: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| width_of(&r[i])).chain([width_of(c.title)]).max().unwrap_or(0))
        .collect();
    let Some(limit) = limit else { return w };
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP.len() * w.len().saturating_sub(1);
    let passes: [Vec<usize>; 2] = [
        columns
            .iter()
            .map(|c| if c.kind == Kind::Flex { width_of(c.title).max(FLEX_FLOOR) } else { usize::MAX })
            .collect(),
        columns
            .iter()
            .map(|c| if c.kind == Kind::Id { usize::MAX } else { width_of(c.title).min(MIN_WIDTH) })
            .collect(),
    ];
    for floor in passes {
        while total(&w) > limit {
            let Some(i) = (0..w.len()).filter(|&i| w[i] > floor[i]).max_by_key(|&i| w[i]) else { break };
            w[i] -= 1;
        }
    }
    w
}

fn render_row(cells: &[String], widths: &[usize], truncate: bool) -> String {
    let mut line = String::new();
    for (i, (cell, &w)) in cells.iter().zip(widths).enumerate() {
        let cell = if truncate && width_of(cell) > w {
            console::truncate_str(cell, w, "…").into_owned()
        } else {
            cell.clone()
        };
        if i + 1 == cells.len() {
            line.push_str(&cell);
        } else {
            line.push_str(&cell);
            line.push_str(&" ".repeat(w.saturating_sub(width_of(&cell))));
            line.push_str(GAP);
        }
    }
    line.trim_end().to_string()
}

// ---------------------------------------------------------------------------------------------
// Lists

/// How a list response is shown: the array to read and its columns.
pub struct ListView {
    /// The key of the array in the response (`jobs`, `proposals`, ...).
    pub key: &'static str,
    /// What one item is called, plural (for "No jobs.").
    pub noun: &'static str,
    /// The table columns.
    pub columns: &'static [Column],
}

const JOBS_MINE: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("STATUS", |v| s(v, "/status")),
    text_col("TITLE", |v| s(v, "/title")),
    col("PROPOSALS", |v| {
        match (at(v, "/proposalCounts/total").as_i64(), at(v, "/proposalCounts/unreviewed").as_i64()) {
            (Some(t), Some(u)) if u > 0 => format!("{t} ({u} new)"),
            (Some(t), _) => t.to_string(),
            _ => String::new(),
        }
    }),
    col("UPDATED", |v| time(v, "/updatedAt")),
];

const JOBS_PUBLIC: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    text_col("TITLE", |v| s(v, "/title")),
    text_col("CATEGORY", |v| s(v, "/category")),
    col("PAY", |v| pay(at(v, "/pay"))),
    text_col("LANGUAGES", |v| s(v, "/languages")),
    col("POSTED", |v| date(v, "/datePosted")),
];

const PROPOSALS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("STATUS", |v| s(v, "/status/raw")),
    text_col("CANDIDATE", |v| s(v, "/candidate/displayName")),
    col("COUNTRY", |v| s(v, "/candidate/countryCode")),
    col("BID", |v| bid(at(v, "/bid"))),
    col("MATCH", |v| s(v, "/metrics/matchScore")),
    col("INTERVIEW", |v| s(v, "/metrics/interviewScore")),
];

const CONVERSATIONS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("KIND", |v| s(v, "/bucket")),
    id_col("JOB", |v| s(v, "/jobId")),
    col("UNREAD", |v| s(v, "/unreadCount")),
    col("UPDATED", |v| time(v, "/updatedAt")),
    text_col("LAST MESSAGE", |v| s(v, "/lastMessage/content")),
];

const MESSAGES: &[Column] = &[
    col("TIME", |v| time(v, "/createdAt")),
    id_col("FROM", |v| if at(v, "/isFromViewer") == &Value::Bool(true) { "you".into() } else { s(v, "/senderUserId") }),
    text_col("MESSAGE", |v| s(v, "/content")),
];

const CONTRACTS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("STATUS", |v| s(v, "/status")),
    text_col("TITLE", |v| s(v, "/title")),
    text_col("AI TRAINER", |v| s(v, "/freelancer/displayName")),
    col("PAY", contract_pay),
    col("MILESTONES", |v| at(v, "/milestones").as_array().map(|m| m.len().to_string()).unwrap_or_default()),
];

const MILESTONES: &[Column] = &[
    col("#", |v| s(v, "/milestoneNumber")),
    id_col("ID", |v| s(v, "/id")),
    col("STATUS", |v| s(v, "/status")),
    text_col("NAME", |v| s(v, "/name")),
    col("AMOUNT", |v| usd(v, "/amountUsd")),
    col("DUE", |v| date(v, "/dueDate")),
    col("PENDING APPROVAL", |v| s(v, "/pendingApproval")),
];

const LEDGER: &[Column] = &[
    col("TIME", |v| time(v, "/createdAt")),
    col("TYPE", |v| s(v, "/type")),
    col("AMOUNT", |v| cents(v, "/amountCents")),
    text_col("NOTE", |v| s(v, "/note")),
];

const EVENTS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("TIME", |v| time(v, "/createdAt")),
    col("TYPE", |v| s(v, "/type")),
    id_col("RESOURCE", |v| s(v, "/resourceId")),
    id_col("JOB", |v| s(v, "/jobId")),
];

const WEBHOOKS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("STATUS", |v| s(v, "/status")),
    text_col("URL", |v| s(v, "/url")),
    text_col("EVENTS", |v| s(v, "/eventTypes")),
];

const TOKENS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    text_col("NAME", |v| s(v, "/name")),
    col("PREVIEW", |v| s(v, "/preview")),
    col("STATUS", |v| s(v, "/status")),
    col("LAST USED", |v| time(v, "/lastUsedAt")),
    text_col("SCOPES", |v| s(v, "/scopes")),
];

const PAYMENTS: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    col("STATUS", |v| s(v, "/status")),
    col("AMOUNT", |v| usd(v, "/amountUsd")),
    text_col("JOB", |v| s(v, "/job/title")),
    text_col("MILESTONE", |v| s(v, "/milestone/name")),
    col("CREATED", |v| time(v, "/createdAt")),
];

const MEMBERS: &[Column] = &[
    id_col("USER", |v| s(v, "/userId")),
    text_col("NAME", |v| s(v, "/name")),
    text_col("EMAIL", |v| s(v, "/email")),
    col("ROLE", |v| s(v, "/role")),
    col("JOINED", |v| time(v, "/joinedAt")),
];

const INVITES: &[Column] = &[
    id_col("ID", |v| s(v, "/id")),
    text_col("EMAIL", |v| s(v, "/email")),
    col("SENT", |v| time(v, "/createdAt")),
    col("EXPIRES", |v| time(v, "/expiresAt")),
];

fn bid(b: &Value) -> String {
    let amount = usd(b, "/amountUsd");
    match at(b, "/unit").as_str() {
        Some(u) if !amount.is_empty() => format!("{amount}/{}", u.trim_start_matches("per_").to_lowercase()),
        _ => amount,
    }
}

fn contract_pay(c: &Value) -> String {
    let rate = usd(c, "/rateUsd");
    match at(c, "/paymentType").as_str() {
        Some("PAY_PER_HOUR") => format!("{rate}/hour"),
        Some("PAY_PER_LABEL") => format!("{rate}/label"),
        Some("FIXED_PRICE") => format!("{} fixed", usd(c, "/estimatedTotalUsd")),
        _ => rate,
    }
}

/// The list view of a list operation's response, `None` for operations that are not lists.
pub fn list_view(op: OperationId, response: &Value) -> Option<ListView> {
    use OperationId as O;
    let (key, noun, columns) = match op {
        O::ListMyJobs => ("jobs", "jobs", JOBS_MINE),
        O::SearchJobs => ("jobs", "jobs", JOBS_PUBLIC),
        O::ListJobProposals => ("proposals", "proposals", PROPOSALS),
        O::ReadMessages if response.get("messages").is_some_and(Value::is_array) => ("messages", "messages", MESSAGES),
        O::ReadMessages => ("conversations", "conversations", CONVERSATIONS),
        O::ListContracts => ("contracts", "contracts", CONTRACTS),
        O::ListCreditLedger => ("entries", "ledger entries", LEDGER),
        O::PollUpdates => ("events", "new events", EVENTS),
        O::ListWebhooks => ("webhooks", "webhooks", WEBHOOKS),
        O::ListTokens => ("tokens", "tokens", TOKENS),
        O::ListPendingPayments => ("payments", "pending payments", PAYMENTS),
        _ => return None,
    };
    Some(ListView { key, noun, columns })
}

/// The items of a list response.
pub fn items<'a>(view: &ListView, response: &'a Value) -> &'a [Value] {
    response.get(view.key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Single responses

/// Prints the human summary of a (non-list) response of `op`.
pub fn render(out: &mut Out, op: OperationId, v: &Value) -> io::Result<()> {
    use OperationId as O;
    match op {
        O::CreateJobDraft | O::UpdateJobDraft => draft(out, op, v),
        O::PublishJob => {
            let id = s(v, "/jobId");
            let already = at(v, "/alreadyPublished") == &Value::Bool(true);
            out.line(if already {
                format!("Job {id} was already published.")
            } else {
                format!("Published job {id}.")
            })?;
            out.fields(&[("Status", s(v, "/status")), ("URL", s(v, "/jobUrl")), ("Warnings", s(v, "/warnings"))])?;
            out.next(&[format!("watch for proposals: opentrain proposals list --job-id {id}")])
        }
        O::UpdatePublishedJob => {
            out.line(format!("Updated job {}.", s(v, "/jobId")))?;
            out.fields(&[
                ("Status", s(v, "/status")),
                ("Moderation", s(v, "/moderation/decision")),
                ("Reasons", s(v, "/moderation/reasons")),
            ])
        }
        O::CloseJob => {
            let id = s(v, "/jobId");
            let already = at(v, "/alreadyClosed") == &Value::Bool(true);
            out.line(if already { format!("Job {id} was already closed.") } else { format!("Closed job {id}.") })?;
            out.fields(&[("Status", s(v, "/status"))])
        }
        O::InviteFreelancer => {
            let already = at(v, "/alreadyInvited") == &Value::Bool(true);
            out.line(format!(
                "{} {} to job {}.",
                if already { "Already invited" } else { "Invited" },
                s(v, "/freelancerId"),
                s(v, "/jobId")
            ))?;
            out.fields(&[("Proposal", s(v, "/proposalId"))])?;
            out.next(&[format!("opentrain messages start-proposal-thread --proposal-id {}", s(v, "/proposalId"))])
        }
        O::GetProposal | O::GetProposalInterview => proposal(out, v),
        O::StartProposalConversation => {
            let id = s(v, "/conversationId");
            let created = at(v, "/created") == &Value::Bool(true);
            out.line(format!("{} conversation {id}.", if created { "Started" } else { "Reusing" }))?;
            out.fields(&[("Proposal", s(v, "/proposalId")), ("Job", s(v, "/jobId"))])?;
            out.next(&[format!("opentrain messages send --conversation-id {id} --content \"...\"")])
        }
        O::GetFreelancerProfile => freelancer(out, at(v, "/freelancer")),
        O::SendMessage => out.line(format!(
            "Sent message {} to conversation {}.",
            s(v, "/message/id"),
            s(v, "/message/conversationId")
        )),
        O::GetTeam => team(out, at(v, "/team")),
        O::InviteTeamMember => {
            let status = match at(v, "/status").as_str() {
                Some("invite_created") => "Invitation sent to",
                Some("member_added") => "Added to the team:",
                Some("already_member") => "Already a member:",
                _ => "Invited",
            };
            out.line(format!("{status} {}", s(v, "/email")))
        }
        O::GetContract => contract(out, at(v, "/contract")),
        O::CreateMilestone => {
            let m = at(v, "/milestone");
            let id = s(m, "/id");
            out.line(format!("Created milestone {id}."))?;
            out.fields(&[
                ("Name", s(m, "/name")),
                ("Status", s(m, "/status")),
                ("Amount", usd(m, "/amountUsd")),
                ("Volume", s(m, "/volume")),
                ("Due", s(m, "/dueDate")),
            ])?;
            out.next(&[format!("ask a human to fund it: opentrain milestones fund --milestone-id {id}")])
        }
        O::HireProposal | O::FundMilestone | O::ApproveMilestone => cosign(out, v),
        O::EndContract if v.get("approval").is_some() => cosign(out, v),
        O::EndContract => {
            out.line(format!("Contract {} ended.", s(v, "/contractId")))?;
            out.fields(&[("Status", s(v, "/status"))])
        }
        O::GetApproval => approval(out, at(v, "/approval")),
        O::GetCredits => {
            let c = at(v, "/credits");
            out.line("Credit balance")?;
            out.fields(&[
                ("Available", cents(c, "/availableCents")),
                ("Reserved", cents(c, "/reservedCents")),
                ("Currency", s(c, "/currency")),
            ])?;
            let recent = at(c, "/recentEntries").as_array().map(Vec::as_slice).unwrap_or_default();
            if !recent.is_empty() {
                out.line("\nRecent entries:")?;
                Table::new(LEDGER).push(out, recent)?;
            }
            Ok(())
        }
        O::CreateCreditTopUp => {
            out.line(format!("Top-up {} created: a human pays at", s(v, "/topUpId")))?;
            out.line(format!("\n  {}\n", out.strong(&s(v, "/checkoutUrl"))))?;
            out.fields(&[("Amount", cents(v, "/topUp/amountCents")), ("Expires", s(v, "/expiresAt"))])?;
            out.next(&[format!("opentrain credits top-up-status --top-up-id {}", s(v, "/topUpId"))])
        }
        O::GetCreditTopUp => {
            let t = at(v, "/topUp");
            out.line(format!("Top-up {}", s(t, "/id")))?;
            out.fields(&[
                ("Status", s(t, "/status")),
                ("Amount", cents(t, "/amountCents")),
                ("Created", s(t, "/createdAt")),
                ("Completed", s(t, "/completedAt")),
                ("Expires", s(t, "/expiresAt")),
            ])
        }
        O::GetWebhook | O::CreateWebhook | O::DeleteWebhook => {
            let w = at(v, "/webhook");
            let head = match op {
                O::CreateWebhook => "Created webhook",
                O::DeleteWebhook => "Deleted webhook",
                _ => "Webhook",
            };
            out.line(format!("{head} {}", s(w, "/id")))?;
            out.fields(&[
                ("Status", s(w, "/status")),
                ("URL", s(w, "/url")),
                ("Events", s(w, "/eventTypes")),
                ("Created", s(w, "/createdAt")),
                ("Disabled", s(w, "/disabledAt")),
                ("Reason", s(w, "/disabledReason")),
            ])
        }
        O::RevokeToken => {
            let t = at(v, "/token");
            out.line(format!("Revoked token {} ({}).", s(t, "/id"), s(t, "/name")))?;
            out.fields(&[("Status", s(t, "/status")), ("Revoked", s(t, "/revokedAt"))])
        }
        O::CreateToken => {
            let t = at(v, "/metadata");
            out.line(format!("Created token {} ({}).", s(t, "/id"), s(t, "/name")))?;
            out.fields(&[("Scopes", s(t, "/scopes")), ("Expires", s(t, "/expiresAt")), ("Preview", s(t, "/preview"))])
        }
        _ => {
            // Operations without a tailored view: their top-level scalars.
            let fields: Vec<(&str, String)> = v
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, x)| !x.is_object() && !x.is_array())
                .map(|(k, x)| (k.as_str(), text(x)))
                .collect();
            out.fields(&fields)
        }
    }
}

fn draft(out: &mut Out, op: OperationId, v: &Value) -> io::Result<()> {
    let id = s(v, "/jobId");
    let verb = if op == OperationId::CreateJobDraft { "Created draft" } else { "Updated draft" };
    out.line(format!("{verb} {id}."))?;
    let missing: Vec<String> = match at(v, "/missingFields").as_array() {
        Some(m) if !m.is_empty() => m.iter().map(|f| s(f, "/field")).collect(),
        _ => at(v, "/validation/missingFields").as_array().map(|m| m.iter().map(text).collect()).unwrap_or_default(),
    };
    let ready = at(v, "/validation/publishReady").as_bool();
    out.fields(&[
        ("Status", s(v, "/status")),
        ("Review", s(v, "/reviewUrl")),
        ("Draft", s(v, "/draftUrl")),
        ("Publish-ready", ready.map(|r| if r { "yes" } else { "no" }.to_string()).unwrap_or_default()),
        ("Missing", missing.join(", ")),
    ])?;
    let mut next = Vec::new();
    if let Some(field) = missing.first() {
        next.push(format!("opentrain jobs draft update --job-id {id} --set {field}=<value>"));
    }
    if ready != Some(false) || missing.is_empty() {
        next.push(format!("opentrain jobs publish --job-id {id}"));
    }
    out.next(&next)
}

fn proposal(out: &mut Out, v: &Value) -> io::Result<()> {
    if let Some(p) = v.get("proposal") {
        let id = s(p, "/id");
        out.line(format!("Proposal {id} on \"{}\"", s(p, "/jobTitle")))?;
        out.fields(&[
            ("Status", s(p, "/status/label")),
            ("Candidate", s(p, "/candidate/displayName")),
            ("Candidate id", s(p, "/candidate/id")),
            ("Title", s(p, "/candidate/profileTitle")),
            ("Country", s(p, "/candidate/country")),
            ("Bid", bid(at(p, "/bid"))),
            ("Match score", s(p, "/metrics/matchScore")),
            ("Interview score", s(p, "/metrics/interviewScore")),
            ("Submitted", s(p, "/createdAt")),
        ])?;
    }
    if let Some(i) = v.get("interview").filter(|i| !i.is_null()) {
        let n = at(i, "/messages").as_array().map(Vec::len).unwrap_or(0);
        out.line("\nAI interview")?;
        out.fields(&[("Score", s(i, "/score")), ("Summary", s(i, "/summary")), ("Messages", n.to_string())])?;
    }
    match v.get("proposal") {
        Some(p) => {
            let id = s(p, "/id");
            out.next(&[
                format!("opentrain messages start-proposal-thread --proposal-id {id}"),
                format!("opentrain proposals hire --proposal-id {id} --amount <usd> --name \"First milestone\""),
            ])
        }
        None => Ok(()),
    }
}

fn freelancer(out: &mut Out, f: &Value) -> io::Result<()> {
    out.line(format!("{} ({})", s(f, "/displayName"), s(f, "/id")))?;
    let languages: Vec<String> = at(f, "/languages")
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| match (l.get("language").or(l.get("name")), l.get("level").or(l.get("proficiency"))) {
            (Some(n), Some(p)) if !p.is_null() => format!("{} ({})", text(n), text(p)),
            (Some(n), _) => text(n),
            _ => text(l),
        })
        .collect();
    out.fields(&[
        ("Title", s(f, "/title")),
        ("Country", s(f, "/country")),
        ("Rate", usd(f, "/hourlyRateUsd").to_string() + if at(f, "/hourlyRateUsd").is_number() { "/hour" } else { "" }),
        ("Availability", s(f, "/availability")),
        ("Expertise", s(f, "/expertiseLevel")),
        ("English", s(f, "/englishLevel")),
        ("Verified", s(f, "/identityVerified")),
        ("Success score", s(f, "/stats/jobSuccessScore")),
        ("Reviews", s(f, "/stats/reviewCount")),
        ("Skills", s(f, "/skills/tags")),
        ("Label types", s(f, "/skills/labelTypes")),
        ("Languages", languages.join(", ")),
        ("Profile", s(f, "/profilePath")),
    ])
}

fn team(out: &mut Out, t: &Value) -> io::Result<()> {
    out.line(format!("Team {} ({})", s(t, "/organization/name"), s(t, "/organization/id")))?;
    out.fields(&[("Owner", s(t, "/organization/ownerName"))])?;
    let members = at(t, "/members").as_array().map(Vec::as_slice).unwrap_or_default();
    out.line(format!("\nMembers ({}):", members.len()))?;
    Table::new(MEMBERS).push(out, members)?;
    let invites = at(t, "/invites").as_array().map(Vec::as_slice).unwrap_or_default();
    if !invites.is_empty() {
        out.line(format!("\nPending invites ({}):", invites.len()))?;
        Table::new(INVITES).push(out, invites)?;
    }
    Ok(())
}

fn contract(out: &mut Out, c: &Value) -> io::Result<()> {
    let id = s(c, "/id");
    out.line(format!("Contract {id}: {}", s(c, "/title")))?;
    out.fields(&[
        ("Status", s(c, "/status")),
        ("AI trainer", s(c, "/freelancer/displayName")),
        ("Pay", contract_pay(c)),
        ("Estimated total", usd(c, "/estimatedTotalUsd")),
        ("Job", s(c, "/jobId")),
        ("Started", s(c, "/startDate")),
        ("Ended", s(c, "/endDate")),
        ("Conversation", s(c, "/jobDmConversationId")),
        ("Budget state", s(c, "/budget/state")),
    ])?;
    let milestones = at(c, "/milestones").as_array().map(Vec::as_slice).unwrap_or_default();
    if !milestones.is_empty() {
        out.line(format!("\nMilestones ({}):", milestones.len()))?;
        Table::new(MILESTONES).push(out, milestones)?;
    }
    if at(c, "/status").as_str() == Some("active") {
        out.next(&[format!(
            "opentrain milestones create --contract-id {id} --description \"...\" --amount-usd <usd>"
        )])?;
    }
    Ok(())
}

/// What a co-signed request looks like: the link a human must open, prominently, then how to wait.
fn cosign(out: &mut Out, v: &Value) -> io::Result<()> {
    let a = at(v, "/approval");
    let id = s(a, "/id");
    let what = match at(a, "/type").as_str() {
        Some("proposal_hire") => "Hire requested",
        Some("milestone_fund") => "Milestone funding requested",
        Some("milestone_approve") => "Milestone release requested",
        Some("contract_end") => "Contract end requested",
        _ => "Request recorded",
    };
    out.line(format!("{what}: a human must approve it in OpenTrain. Nothing was charged or paid yet."))?;
    out.line("")?;
    out.line(format!("  Approve at: {}", out.strong(&s(a, "/approvalUrl"))))?;
    out.line("")?;
    out.fields(&[
        ("Approval", id.clone()),
        ("Status", s(a, "/status")),
        ("Expires", s(a, "/expiresAt")),
        ("Contract", s(a, "/contractId")),
        ("Milestone", s(a, "/milestoneId")),
    ])?;
    out.next(&[format!("after sharing the link, wait for the decision: opentrain approvals wait --approval-id {id}")])
}

fn approval(out: &mut Out, a: &Value) -> io::Result<()> {
    let id = s(a, "/id");
    out.line(format!("Approval {id} ({}): {}", s(a, "/type"), s(a, "/status")))?;
    out.fields(&[
        ("Approve at", s(a, "/approvalUrl")),
        ("Expires", s(a, "/expiresAt")),
        ("Resolved", s(a, "/resolvedAt")),
        ("Contract", s(a, "/contractId")),
        ("Milestone", s(a, "/milestoneId")),
        ("Job", s(a, "/jobId")),
        ("Proposal", s(a, "/proposalId")),
        ("Result", if at(a, "/result").is_null() { String::new() } else { s(a, "/result") }),
    ])?;
    if at(a, "/status").as_str() == Some("pending") {
        out.next(&[format!("opentrain approvals wait --approval-id {id}")])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claim_links_are_kept_when_asked_and_nothing_else() {
        let t = "open https://x/claim?token=ot_cat_ab12 with ot_pat_zz and ot_cat_cd3.";
        assert_eq!(
            opentrain::redact::redact_keeping(t, CLAIM_LINKS),
            "open https://x/claim?token=ot_cat_ab12 with ot_pat_[redacted] and ot_cat_cd3."
        );
        assert_eq!(
            opentrain::redact(t),
            "open https://x/claim?token=ot_cat_[redacted] with ot_pat_[redacted] and ot_cat_[redacted]."
        );
    }

    #[test]
    fn columns_shrink_to_fit_and_cells_are_truncated() {
        const COLS: &[Column] = &[id_col("ID", |v| s(v, "/id")), text_col("TITLE", |v| s(v, "/t"))];
        let cells = vec![vec!["job_1".to_string(), "a very long title that does not fit".to_string()]];
        let w = fit(COLS, &cells, Some(20));
        assert_eq!(w, vec![5, 13]);
        assert_eq!(render_row(&cells[0], &w, true), "job_1  a very long …");
        assert_eq!(render_row(&cells[0], &w, false), "job_1  a very long title that does not fit");
        assert_eq!(fit(COLS, &cells, None), vec![5, 35]);
    }

    #[test]
    fn ids_keep_every_character_when_nothing_else_can_shrink() {
        const COLS: &[Column] =
            &[id_col("ID", |v| s(v, "/id")), col("STATUS", |v| s(v, "/status")), text_col("TITLE", |v| s(v, "/t"))];
        let id = "job_0123456789abcdef0123";
        let cells = vec![vec![id.to_string(), "ONGOING".to_string(), "Bounding boxes for street scenes".to_string()]];
        let w = fit(COLS, &cells, Some(30));
        assert_eq!(w, vec![id.len(), 6, 5], "status and title at their floors, the id whole");
        assert_eq!(render_row(&cells[0], &w, true), format!("{id}  ONGOI…  Boun…"));
    }

    #[test]
    fn color_follows_the_flag_then_no_color_then_clicolor_force_then_the_terminal() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert!(styled(Color::Auto, true, env(&[])));
        assert!(!styled(Color::Auto, false, env(&[])));
        assert!(!styled(Color::Auto, true, env(&[("NO_COLOR", "1")])));
        assert!(styled(Color::Auto, true, env(&[("NO_COLOR", "")])), "an empty NO_COLOR is unset");
        assert!(styled(Color::Auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!styled(Color::Auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!styled(Color::Auto, false, env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])));
        assert!(styled(Color::Always, false, env(&[("NO_COLOR", "1")])), "the flag outranks NO_COLOR");
        assert!(!styled(Color::Never, true, env(&[("CLICOLOR_FORCE", "1")])));
    }

    #[test]
    fn money_and_time() {
        let v = json!({"c": -1250, "u": 12.5, "t": "2026-06-10T09:30:00.000Z", "d": "2026-06-10"});
        assert_eq!(cents(&v, "/c"), "-$12.50");
        assert_eq!(usd(&v, "/u"), "$12.50");
        assert_eq!(time(&v, "/t"), "2026-06-10 09:30");
        assert_eq!(time(&v, "/d"), "2026-06-10");
    }
}
