//! The sandbox's whole world as plain data: accounts, tokens, jobs, money, events; plus its clock,
//! id and secret generation, and atomic persistence to the `--state` file.

use std::{
    collections::BTreeMap,
    fs,
    io::Write,
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Scopes of a registration token (pre-claim).
pub(crate) const PRE_CLAIM_SCOPES: [&str; 6] =
    ["jobs:read", "jobs:write", "proposals:read", "messages:read", "payments:read", "team:read"];
/// Scopes the claim adds.
pub(crate) const CLAIM_ADDS: [&str; 3] = ["proposals:write", "messages:write", "team:write"];
/// Every scope the API knows.
pub(crate) const ALL_SCOPES: [&str; 11] = [
    "jobs:read",
    "jobs:write",
    "proposals:read",
    "proposals:write",
    "messages:read",
    "messages:write",
    "payments:read",
    "payments:write",
    "team:read",
    "team:write",
    "webhooks:manage",
];

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// One employer account (an organization with its owner).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Account {
    pub id: String,
    pub owner_user_id: String,
    pub agent_name: Option<String>,
    pub org_name: Option<String>,
    pub claimed: bool,
    pub email: Option<String>,
    /// A card on file (added on the sandbox billing page).
    pub has_card: bool,
    pub available_cents: i64,
    pub reserved_cents: i64,
    /// Publish times, for the rolling 24 h publish limit.
    pub publishes: Vec<i64>,
    pub members: Vec<Member>,
    pub created_ms: i64,
}

/// A human team member besides the owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Member {
    pub user_id: String,
    pub email: String,
    pub joined_ms: i64,
}

/// A personal API token; only the SHA-256 of the secret is kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenRec {
    pub id: String,
    pub hash: String,
    pub preview: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub status: String,
    pub account_id: String,
    pub pre_claim: bool,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// An agent registration and its claim ceremony.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Registration {
    pub id: String,
    pub account_id: String,
    pub claim_hash: String,
    pub expires_ms: i64,
    pub attempt: Option<ClaimAttempt>,
    pub last_poll_ms: Option<i64>,
    /// The current minimum polling interval in seconds (grows with every slow_down).
    pub interval_s: u64,
    pub delivered: bool,
}

/// One started claim attempt (the code the human types).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClaimAttempt {
    pub cat_hash: String,
    pub user_code: String,
    pub email: String,
    pub expires_ms: i64,
    pub completed_ms: Option<i64>,
    pub failed_tries: u32,
}

/// A job: an own draft or listing, or a seeded marketplace listing of another company.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Job {
    pub id: String,
    pub account_id: Option<String>,
    pub company_name: String,
    pub status: String,
    /// Draft fields keyed by the documented update keys.
    pub fields: Map<String, Value>,
    pub category: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub published_ms: Option<i64>,
    pub idempotency_key: Option<String>,
    pub external_id: Option<String>,
    pub low_confidence: Vec<String>,
    pub warnings: Vec<String>,
    pub unmapped: Vec<Value>,
    /// Public listing changes (PUBLISHED, UPDATED, CLOSED) with their times, for /jobs/changes.
    pub changes: Vec<(String, i64)>,
}

/// A proposal of an AI trainer on a job.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Proposal {
    pub id: String,
    pub job_id: String,
    pub freelancer_id: String,
    pub status: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub bid_amount_usd: f64,
    pub bid_unit: String,
    pub labeler_hourly_rate_usd: Option<f64>,
    pub interview_score: Option<f64>,
    pub match_score: Option<f64>,
    pub interview: Option<Interview>,
    pub invited: bool,
    pub conversation_id: Option<String>,
    pub contract_id: Option<String>,
}

/// An AI-interview transcript.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Interview {
    pub id: String,
    pub summary: String,
    /// (role, content, sent at).
    pub messages: Vec<(String, String, i64)>,
}

/// A conversation (pre-hire proposal thread or post-hire job thread).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Conversation {
    pub id: String,
    pub account_id: String,
    /// `proposal` or `job`.
    pub bucket: String,
    pub proposal_id: Option<String>,
    pub job_id: String,
    pub freelancer_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub messages: Vec<Msg>,
}

/// One message.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Msg {
    pub id: String,
    pub created_ms: i64,
    pub from_employer: bool,
    pub content: String,
    /// Unread for the employer (only messages from the other side are ever unread).
    pub unread: bool,
    pub system: bool,
}

/// A contract with a hired AI trainer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contract {
    pub id: String,
    pub account_id: String,
    pub job_id: String,
    pub proposal_id: String,
    pub freelancer_id: String,
    pub title: String,
    pub payment_type: String,
    pub rate_usd: f64,
    pub estimated_volume: Option<f64>,
    pub status: String,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub dm_conversation_id: String,
    pub consumed_volume: f64,
    pub budget_state: String,
    pub last_usage_ms: Option<i64>,
}

/// A milestone of a contract.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Milestone {
    pub id: String,
    pub contract_id: String,
    pub name: Option<String>,
    pub description: String,
    pub status: String,
    pub amount_usd: f64,
    pub volume: Option<f64>,
    pub number: u32,
    pub due_date: Option<String>,
    pub pending_approval: bool,
    pub invoice_id: Option<String>,
    pub created_ms: i64,
    /// Refunded when a contract ended with it funded; left out of timelines.
    pub refunded: bool,
    /// Credits held for it and the HOLD entry, when it was funded from the balance.
    pub held_cents: i64,
    pub hold_entry_id: Option<String>,
}

/// A co-sign approval.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Approval {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub status: String,
    pub contract_id: Option<String>,
    pub milestone_id: Option<String>,
    pub job_id: Option<String>,
    pub proposal_id: Option<String>,
    pub expires_ms: i64,
    pub resolved_ms: Option<i64>,
    pub result: Option<Value>,
    pub created_ms: i64,
    /// The first milestone of a hire, as requested.
    pub terms: Option<Value>,
    pub invoice_id: Option<String>,
}

/// A funding invoice.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Invoice {
    pub id: String,
    pub account_id: String,
    pub number: u64,
    pub milestone_id: String,
    pub contract_id: String,
    pub job_id: String,
    pub amount_usd: f64,
    /// PENDING_FUNDING, PAID or VOID.
    pub status: String,
    pub created_ms: i64,
}

/// A credit top-up.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TopUp {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub amount_cents: i64,
    pub created_ms: i64,
    pub completed_ms: Option<i64>,
    pub expires_ms: i64,
}

/// One credit ledger movement.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LedgerEntry {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub amount_cents: i64,
    pub created_ms: i64,
    pub hold_entry_id: Option<String>,
    pub joboffer_id: Option<String>,
    pub contract_id: Option<String>,
    pub milestone_id: Option<String>,
    pub top_up_id: Option<String>,
    pub note: Option<String>,
}

/// One account event (the /updates feed and webhook body).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event {
    pub id: u64,
    pub account_id: String,
    pub kind: String,
    pub created_ms: i64,
    pub resource_id: String,
    pub job_id: Option<String>,
    pub data: Value,
}

/// A webhook subscription. The secret must be kept in clear to sign deliveries.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Webhook {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub status: String,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
    pub disabled_reason: Option<String>,
    pub secret: String,
    /// Only events after this id are delivered (no backfill).
    pub after_event: u64,
    pub consecutive_failures: u32,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"whsec_[redacted]")
            .finish()
    }
}

/// A pending team invite.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamInvite {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A webhook delivery waiting to be sent (not persisted: in flight only).
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub webhook_id: String,
    pub delivery_id: String,
    pub event_type: String,
    pub body: Vec<u8>,
}

/// Everything the sandbox knows.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct State {
    pub seq: u64,
    pub event_seq: u64,
    pub invoice_seq: u64,
    pub clock_offset_ms: i64,
    pub accounts: BTreeMap<String, Account>,
    pub tokens: Vec<TokenRec>,
    pub registrations: Vec<Registration>,
    pub jobs: BTreeMap<String, Job>,
    pub proposals: BTreeMap<String, Proposal>,
    pub conversations: BTreeMap<String, Conversation>,
    pub contracts: BTreeMap<String, Contract>,
    pub milestones: BTreeMap<String, Milestone>,
    pub approvals: BTreeMap<String, Approval>,
    pub invoices: BTreeMap<String, Invoice>,
    pub top_ups: BTreeMap<String, TopUp>,
    pub ledger: Vec<LedgerEntry>,
    pub events: Vec<Event>,
    pub webhooks: BTreeMap<String, Webhook>,
    pub team_invites: Vec<TeamInvite>,
    /// Deliveries produced while handling a request, sent once the lock is released.
    #[serde(skip)]
    pub outbox: Vec<Delivery>,
}

impl State {
    /// The sandbox clock: the system clock plus the simulated time travel.
    pub fn now(&self) -> i64 {
        system_ms() + self.clock_offset_ms
    }

    /// A new id with a readable prefix; zero padding keeps map order equal to creation order.
    pub fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{:06}", self.seq)
    }

    /// An unguessable id for things a person acts on through a URL (approvals, top-ups): knowing
    /// one id must not let anyone derive the next, as sequential ids did.
    pub fn secret_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", random_base62(22))
    }

    /// Loads a state file, or None when it does not exist yet.
    pub fn load(path: &Path) -> Result<Option<State>, String> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not a sandbox state file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the state atomically: a 0600 temp file in the same directory, fsync, rename.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let bytes = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        write_atomic(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Milliseconds since the epoch by the system clock.
pub(crate) fn system_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `len` random bytes as lower-case hex.
pub(crate) fn random_hex(len: usize) -> String {
    random_bytes(len).iter().map(|b| format!("{b:02x}")).collect()
}

/// `len` bytes from the OS random source.
pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    if getrandom::fill(&mut buf).is_err() {
        // The OS source failing is near impossible; RandomState is still seeded per process.
        use std::hash::{BuildHasher, Hasher};
        for (i, b) in buf.iter_mut().enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            h.write_i64(system_ms());
            *b = h.finish() as u8;
        }
    }
    buf
}

/// `len` random characters of `[0-9A-Za-z]` (22 of them carry about 131 bits).
pub(crate) fn random_base62(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let bytes = random_bytes(len);
        // Rejection sampling keeps every character equally likely (248 = 4 * 62).
        out.extend(bytes.iter().filter(|b| **b < 248).map(|b| char::from(ALPHABET[usize::from(*b % 62)])));
    }
    out.truncate(len);
    out
}

/// A 6-digit code for the claim page.
pub(crate) fn random_code() -> String {
    let n = u64::from_str_radix(&random_hex(4), 16).unwrap_or(0) % 1_000_000;
    format!("{n:06}")
}

/// SHA-256 of a secret, hex: what the state keeps instead of the secret.
pub(crate) fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `2026-06-12T09:30:00.000Z`.
pub(crate) fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Parses `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or `±HH:MM` (no offset = UTC).
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None; // e.g. February 30
    }
    let mut ms = days * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let rest = &s[11..];
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut parts = clock.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let mi: i64 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        Some(sf) => match sf.split_once('.') {
            Some((sec, f)) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => {
                let f3: String = f.chars().chain("000".chars()).take(3).collect();
                (sec.parse::<i64>().ok()?, f3.parse::<i64>().ok()?)
            }
            Some(_) => return None,
            None => (sf.parse::<i64>().ok()?, 0),
        },
        None => (0, 0),
    };
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    ms += ((h * 60 + mi) * 60 + sec) * 1000 + frac;
    match offset {
        "" | "Z" | "z" => Some(ms),
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':').unwrap_or((o.get(1..3)?, o.get(3..).unwrap_or("0")));
            let off = (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?) * 60_000;
            Some(ms - sign * off)
        }
    }
}

// Howard Hinnant's civil calendar algorithms, proleptic Gregorian.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips_and_rejects_nonsense() {
        let ms = parse_iso("2026-06-12T09:30:00.000Z").expect("parses");
        assert_eq!(iso(ms), "2026-06-12T09:30:00.000Z");
        assert_eq!(parse_iso("2026-07-15").map(iso).as_deref(), Some("2026-07-15T00:00:00.000Z"));
        assert_eq!(parse_iso("2026-07-15T02:00:00+02:00").map(iso).as_deref(), Some("2026-07-15T00:00:00.000Z"));
        assert_eq!(parse_iso("2024-02-29T23:59:59.5Z").map(iso).as_deref(), Some("2024-02-29T23:59:59.500Z"));
        for bad in ["", "2026-02-30", "2026-13-01", "yesterday", "2026-01-01T25:00:00Z", "2026-01-01X"] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(random_code().len(), 6);
        assert_eq!(hash_secret("a").len(), 64);
    }
}
