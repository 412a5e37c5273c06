//! Every documented example body in `tests/fixtures/examples/` must fit the generated type of its
//! operation: JSON bodies deserialize and serialize back without losing a field, form bodies parse
//! into their request type, and the CLI credentials file reads through `CredentialsFile`.
//!
//! One table row per file; `table_lists_every_example` fails when a file has no row, so a new
//! example cannot slip in untested. `every_example_fits_its_type` reports all failing files at once.

use std::{
    fmt::Debug,
    path::{Path, PathBuf},
};

use opentrain::types::{self, EndContractResult};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// Checks one example file; `Err` says what is wrong with it.
type Check = fn(&Path) -> Result<(), String>;

struct Case {
    file: &'static str,
    check: Check,
}

/// `json_case!("file" => Type)`: the JSON body deserializes into `Type` and round-trips without loss.
/// `json_case!("file" => Type, Pattern)`: and the value matches `Pattern` (the variant of a dual-mode type).
macro_rules! json_case {
    ($file:literal => $ty:ty) => {
        Case { file: $file, check: |path| round_trip::<$ty>(path).map(drop) }
    };
    ($file:literal => $ty:ty, $variant:pat) => {
        Case {
            file: $file,
            check: |path| match round_trip::<$ty>(path)? {
                $variant => Ok(()),
                other => Err(format!("landed in the wrong variant, expected {}: {other:?}", stringify!($variant))),
            },
        }
    };
}

/// `form_case!("file" => Type, |value| [(key, typed value), ...])`: the urlencoded body parses into
/// `Type`, the typed fields carry exactly the file's pairs, and serializing gives the pairs back.
macro_rules! form_case {
    ($file:literal => $ty:ty, $fields:expr) => {
        Case { file: $file, check: |path| check_form::<$ty>(path, $fields) }
    };
}

const CASES: &[Case] = &[
    // auth
    json_case!("auth__DELETE_api_public_v1_tokens_{tokenId}__response.json" => types::RevokedToken),
    json_case!("auth__POST_api_agent_identity__error_403.json" => types::OAuthError),
    json_case!("auth__POST_api_agent_identity__request.json" => types::RegisterAgentRequest),
    json_case!("auth__POST_api_agent_identity__request_quickstart.json" => types::RegisterAgentRequest),
    json_case!("auth__POST_api_agent_identity__response.json" => types::AgentRegistration),
    json_case!("auth__POST_api_agent_identity__response_quickstart.json" => types::AgentRegistration),
    json_case!("auth__POST_api_agent_identity_claim__request.json" => types::StartClaimRequest),
    json_case!("auth__POST_api_agent_identity_claim__response.json" => types::ClaimAttempt),
    form_case!("auth__POST_api_agent_oauth_revoke__request.form" => types::AgentRevokeRequest, |r| vec![
        ("token", r.token.expose().to_owned()),
    ]),
    json_case!("auth__POST_api_agent_oauth_revoke__response.json" => types::AgentRevokeResponse),
    form_case!("auth__POST_api_agent_oauth_token__request.form" => types::AgentTokenRequest, |r| vec![
        // `known()`: the documented grant type must be a typed value, not an `Unknown` string.
        ("grant_type", r.grant_type.known().map(ToString::to_string).unwrap_or_default()),
        ("claim_token", r.claim_token.expose().to_owned()),
    ]),
    json_case!("auth__POST_api_agent_oauth_token__response.json" => types::AgentTokenResponse),
    json_case!("auth__POST_api_public_v1_tokens__request.json" => types::CreateTokenRequest),
    json_case!("auth__POST_api_public_v1_tokens__response.json" => types::CreatedToken),
    // cli
    Case { file: "cli__credentials_file__cli.json", check: check_credentials_file },
    // concepts
    json_case!("concepts__ANY_api_public_v1__error_envelope.json" => types::Error),
    json_case!("concepts__POST_api_public_v1_proposals_{proposalId}_hire__error_403.json" => types::Error),
    // jobs
    json_case!("jobs__GET_job-drafts_capabilities__response.json" => types::JobDraftCapabilities),
    json_case!("jobs__GET_jobs_mine__response.json" => types::MyJobList),
    json_case!("jobs__PATCH_job-drafts_{jobId}__request.json" => types::JobFieldPatch),
    json_case!("jobs__PATCH_job-drafts_{jobId}__response.json" => types::JobDraftUpdated),
    json_case!("jobs__PATCH_jobs_{id}__request.json" => types::JobFieldPatch),
    json_case!("jobs__POST_job-drafts__request.json" => types::CreateJobDraftRequest),
    json_case!("jobs__POST_job-drafts__request.source-text.json" => types::CreateJobDraftRequest),
    json_case!("jobs__POST_jobs_{id}_close__response.json" => types::JobClosed),
    json_case!("jobs__POST_jobs_{id}_invites__request.json" => types::InviteFreelancerRequest),
    json_case!("jobs__POST_jobs_{id}_invites__response.json" => types::JobInviteResult),
    json_case!("jobs__POST_jobs_{id}_publish__response.json" => types::JobPublished),
    // messages
    json_case!("messages__POST_messages__request.json" => types::SendMessageRequest),
    json_case!("messages__POST_messages__response.json" => types::SendMessageResponse),
    // money
    json_case!("money__ANY__error-claim-required__response_403.json" => types::Error),
    json_case!("money__ANY__error-envelope__response_403.json" => types::Error),
    json_case!("money__DELETE_webhooks_{webhookId}__response.json" => types::DeleteWebhookResponse),
    json_case!("money__GET_contracts__response.json" => types::ListContractsResponse),
    json_case!("money__GET_credits__response.json" => types::GetCreditsResponse),
    json_case!("money__GET_webhooks_{webhookId}__response.json" => types::GetWebhookResponse),
    json_case!("money__POST_contracts_{contractId}_end__response__202-concept.json" => EndContractResult,
        EndContractResult::ApprovalPending(_)),
    json_case!("money__POST_contracts_{contractId}_milestones__request.json" => types::CreateMilestoneRequest),
    json_case!("money__POST_contracts_{contractId}_milestones__response.json" => types::CreateMilestoneResponse),
    json_case!("money__POST_credits_top-ups__request.json" => types::CreateCreditTopUpRequest),
    json_case!("money__POST_credits_top-ups__request__concept.json" => types::CreateCreditTopUpRequest),
    json_case!("money__POST_credits_top-ups__response.json" => types::CreateCreditTopUpResponse),
    json_case!("money__POST_milestones_{milestoneId}_approve__response.json" => types::ApprovalPending),
    json_case!("money__POST_milestones_{milestoneId}_fund__response.json" => types::ApprovalPending),
    json_case!("money__POST_milestones_{milestoneId}_fund__response__202-concept.json" => types::ApprovalPending),
    json_case!("money__POST_webhooks__request.json" => types::CreateWebhookRequest),
    json_case!("money__POST_webhooks__response.json" => types::CreateWebhookResponse),
    // proposals
    json_case!("proposals__POST_proposals_{proposalId}_conversation__response.json"
        => types::StartProposalConversationResponse),
    json_case!("proposals__POST_proposals_{proposalId}_hire__request.guide.json" => types::HireProposalRequest),
    json_case!("proposals__POST_proposals_{proposalId}_hire__request.json" => types::HireProposalRequest),
    json_case!("proposals__POST_proposals_{proposalId}_hire__response.json" => types::ApprovalPending),
    // team
    json_case!("team__POST_team_invites__request.json" => types::InviteTeamMemberRequest),
    json_case!("team__POST_team_invites__response.json" => types::InviteTeamMemberResponse),
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/examples")
}

#[test]
fn table_lists_every_example() {
    let mut on_disk: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("read the examples directory")
        .map(|entry| entry.expect("read a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != "INDEX.md")
        .collect();
    on_disk.sort();
    let mut listed: Vec<&str> = CASES.iter().map(|c| c.file).collect();
    listed.sort_unstable();

    let untested: Vec<&String> = on_disk.iter().filter(|f| !listed.contains(&f.as_str())).collect();
    let missing: Vec<&&str> = listed.iter().filter(|f| !on_disk.iter().any(|d| d == **f)).collect();
    let mut duplicated: Vec<&str> = listed.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    duplicated.dedup();
    assert!(
        untested.is_empty() && missing.is_empty() && duplicated.is_empty(),
        "the CASES table must list every example file exactly once\n\
         files without a case: {untested:#?}\ncases without a file: {missing:#?}\ncases listed twice: {duplicated:#?}"
    );
}

#[test]
fn every_example_fits_its_type() {
    let dir = examples_dir();
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| (case.check)(&dir.join(case.file)).err().map(|e| format!("{}:\n    {e}", case.file)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples do not fit their generated type:\n\n{}\n",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))
}

/// Deserializes the file into `T`, serializes it back and checks nothing documented was lost.
fn round_trip<T: DeserializeOwned + Serialize + Debug>(path: &Path) -> Result<T, String> {
    let text = read(path)?;
    let original: Value = serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    let typed: T = serde_json::from_str(&text)
        .map_err(|e| format!("does not deserialize into {}: {e}", std::any::type_name::<T>()))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("does not serialize back: {e}"))?;

    let mut differences = Vec::new();
    compare(&without_nulls(&original), &without_nulls(&back), &mut String::new(), &mut differences);
    let mut problems: Vec<String> = differences
        .into_iter()
        .filter_map(|difference| match difference {
            // A declared optional list is written only when non-empty (`skip_serializing_if =
            // "Vec::is_empty"`, read back with `default`), so `[]` and absent are the same value to
            // this client, like null and absent. The probe proves the type declares the key: an
            // undeclared key would be ignored and still lost, and is reported.
            Difference::Lost { at, value } if value == Value::Array(Vec::new()) && declares::<T>(&original, &at) => {
                None
            }
            Difference::Lost { at, value } => Some(format!("{at}: documented field lost (value {value})")),
            Difference::Changed(message) => Some(message),
        })
        .collect();
    // Named enums are `OpenEnum`s: a value the spec does not declare becomes `Unknown("..")` and is
    // written back unchanged, so only the typed value shows that the spec is missing it.
    let debug = format!("{typed:?}");
    problems.extend(debug.match_indices("Unknown(").map(|(start, _)| {
        let rest = &debug[start..];
        let value = &rest[..rest.find(')').map_or(rest.len(), |end| end + 1)];
        format!("documented enum value is not declared in the spec, kept as {value}")
    }));
    if problems.is_empty() {
        Ok(typed)
    } else {
        Err(format!("does not fit {} exactly:\n    {}", std::any::type_name::<T>(), problems.join("\n    ")))
    }
}

/// Whether `T` declares the key at JSON pointer `at`: replacing its value with one no list
/// accepts must make deserialization fail, where an undeclared key would be silently ignored.
fn declares<T: DeserializeOwned>(original: &Value, at: &str) -> bool {
    let mut probe = original.clone();
    match probe.pointer_mut(at) {
        Some(slot) => *slot = Value::Bool(false),
        None => return false,
    }
    serde_json::from_value::<T>(probe).is_err()
}

enum Difference {
    /// A documented key (non-null value) is absent after the round trip.
    Lost { at: String, value: Value },
    /// Anything else: a changed value or an added key.
    Changed(String),
}

/// A copy without object keys whose value is null: to this client a null optional field and an
/// absent one are the same.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Records every difference between `original` and `back` at JSON pointer `at`. Keys named
/// `"..."` (the docs' placeholder for elided fields) may be missing from `back`.
fn compare(original: &Value, back: &Value, at: &mut String, out: &mut Vec<Difference>) {
    match (original, back) {
        (Value::Object(a), Value::Object(b)) => compare_objects(a, b, at, out),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                compare(x, y, at, out);
                at.truncate(len);
            }
        }
        // 300 and 300.0 are the same JSON number; an f64 field writes the latter.
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(Difference::Changed(format!("{}: documented {a}, round trip gives {b}", pointer(at)))),
    }
}

fn compare_objects(a: &Map<String, Value>, b: &Map<String, Value>, at: &mut String, out: &mut Vec<Difference>) {
    for (key, x) in a {
        let len = at.len();
        at.push('/');
        at.push_str(&key.replace('~', "~0").replace('/', "~1"));
        match b.get(key) {
            Some(y) => compare(x, y, at, out),
            None if key == "..." => {}
            None => out.push(Difference::Lost { at: at.clone(), value: x.clone() }),
        }
        at.truncate(len);
    }
    for (key, y) in b {
        if !a.contains_key(key) {
            out.push(Difference::Changed(format!("{}/{key}: not in the example, round trip adds {y}", pointer(at))));
        }
    }
}

fn pointer(at: &str) -> &str {
    if at.is_empty() { "(root)" } else { at }
}

/// Parses the urlencoded body into `T`; `fields` reads back each typed field as its wire value,
/// which must equal the file's pairs, and serializing `T` must give the same pairs.
fn check_form<T>(path: &Path, fields: fn(&T) -> Vec<(&'static str, String)>) -> Result<(), String>
where
    T: DeserializeOwned + Serialize,
{
    let text = read(path)?;
    let text = text.trim();
    let sorted = |mut pairs: Vec<(String, String)>| {
        pairs.sort();
        pairs
    };
    let documented = sorted(serde_urlencoded::from_str(text).map_err(|e| format!("not a urlencoded form: {e}"))?);
    let typed: T = serde_urlencoded::from_str(text)
        .map_err(|e| format!("does not parse into {}: {e}", std::any::type_name::<T>()))?;

    let read_back = sorted(fields(&typed).into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
    if read_back != documented {
        return Err(format!("typed fields {read_back:?} differ from the documented pairs {documented:?}"));
    }
    let encoded = serde_urlencoded::to_string(&typed).map_err(|e| format!("does not serialize back: {e}"))?;
    let round_trip = sorted(serde_urlencoded::from_str(&encoded).map_err(|e| format!("re-parse {encoded:?}: {e}"))?);
    if round_trip != documented {
        return Err(format!("round trip gives {round_trip:?}, documented {documented:?}"));
    }
    Ok(())
}

/// The local `cli.json` is read by `CredentialsFile`, not by a generated type. `Token` redacts
/// itself in Debug and Display, so values are compared through `expose()`.
fn check_credentials_file(path: &Path) -> Result<(), String> {
    let file = opentrain::CredentialsFile::load(path).map_err(|e| format!("CredentialsFile::load failed: {e}"))?;
    let mut wrong = Vec::new();
    let api_token = file.api_token();
    if api_token.as_ref().map(opentrain::Token::expose) != Some("ot_pat_...") {
        wrong.push(format!("apiToken: expected \"ot_pat_...\", got {:?}", api_token.as_ref().map(|t| t.expose())));
    }
    if file.base_url() != Some("https://app.opentrain.ai") {
        wrong.push(format!("baseUrl: expected \"https://app.opentrain.ai\", got {:?}", file.base_url()));
    }
    let claim_token = file.claim_token();
    if claim_token.as_ref().map(opentrain::Token::expose) != Some("ot_clm_...") {
        wrong.push(format!("claimToken: expected \"ot_clm_...\", got {:?}", claim_token.as_ref().map(|t| t.expose())));
    }
    if wrong.is_empty() { Ok(()) } else { Err(wrong.join("\n    ")) }
}
