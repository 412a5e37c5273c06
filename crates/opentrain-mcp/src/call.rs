//! One tool call: check the arguments, pick the credentials, then run the table's mapping
//! through the raw client, or the tool's hand-written handler.
//!
//! Every failure the model can fix (a bad argument, a missing token, an API error) comes back as
//! an `isError` result; nothing here is a protocol error.

use rmcp::{
    Peer, RoleServer,
    model::{CallToolResult, ProgressToken},
};
use serde_json::{Map, Value};

use super::{handlers, http, result, schema, session::Session};
use opentrain::{
    generated::{
        meta::{self, OperationId as O},
        tools::{Target, ToolDef},
    },
    raw,
};

/// Where one call's progress notifications go, when the client asked for them.
#[derive(Clone, Debug)]
pub struct Progress {
    /// The client.
    pub peer: Peer<RoleServer>,
    /// The token the client put in the request's `_meta.progressToken`.
    pub token: ProgressToken,
}

/// Whether `tool` works without a token (its operation is sent without one).
pub fn tokenless(tool: &ToolDef) -> bool {
    meta::operation(tool.operation).is_some_and(|o| o.tokenless)
}

/// A parameter's wire form: strings as they are, numbers and booleans as JSON writes them.
fn wire(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(items.iter().filter_map(wire).collect::<Vec<_>>().join(",")),
        other => Some(other.to_string()),
    }
}

/// Maps tool arguments onto the operation's parameters and body, following the table.
///
/// `Extra` arguments are left to the handlers; `fixed` body fields are added; a `PrependTo`
/// argument goes before the named string field with a blank line between.
pub fn request_args(tool: &ToolDef, args: &Map<String, Value>) -> raw::Args {
    let mut out = raw::Args::default();
    let mut body: Option<Map<String, Value>> = None;
    let mut prepend = Vec::new();
    for a in tool.args {
        let Some(v) = args.get(a.name) else { continue };
        match a.to {
            Target::Path(p) | Target::Query(p) => {
                if let Some(s) = wire(v) {
                    out.params.insert(p.to_string(), s);
                }
            }
            Target::BodyField(f) => {
                body.get_or_insert_default().insert(f.to_string(), v.clone());
            }
            Target::Body => {
                if let Value::Object(m) = v {
                    body.get_or_insert_default().extend(m.clone());
                }
            }
            Target::PrependTo(f) => prepend.push((f, v)),
            Target::Extra => {}
        }
    }
    for (field, json) in tool.fixed {
        if let Ok(v) = serde_json::from_str::<Value>(json) {
            body.get_or_insert_default().insert((*field).to_string(), v);
        }
    }
    for (field, v) in prepend {
        let Some(head) = wire(v) else { continue };
        let b = body.get_or_insert_default();
        let joined = match b.get(field).and_then(Value::as_str) {
            Some(rest) => format!("{head}\n\n{rest}"),
            None => head,
        };
        b.insert(field.to_string(), Value::String(joined));
    }
    out.body = body;
    out
}

/// Runs `tool` with `arguments` (checked against `input_schema`, the tool's parsed schema).
pub async fn run(
    tool: &ToolDef,
    input_schema: &Value,
    arguments: Map<String, Value>,
    session: &Session,
    progress: Option<Progress>,
) -> CallToolResult {
    let arguments = Value::Object(arguments);
    if let Err(v) = schema::check_arguments(input_schema, &arguments) {
        return result::invalid_argument(tool, &v);
    }
    let Value::Object(args) = arguments else { return result::invalid_argument(tool, &not_an_object()) };
    // An empty path segment would address another resource (`/jobs//publish`).
    for a in tool.args {
        if let Target::Path(_) = a.to
            && args.get(a.name).and_then(Value::as_str).is_some_and(|s| s.trim().is_empty())
        {
            let v = schema::Violation { path: a.name.to_string(), message: "must not be empty".into() };
            return result::invalid_argument(tool, &v);
        }
    }
    let clients = match session.clients().await {
        Ok(c) => c,
        Err(e) => return result::error(&e),
    };
    if !tokenless(tool) && !clients.has_token() {
        return if session.is_per_request() { http::tenant::no_token(tool) } else { result::no_token(tool) };
    }
    let Some(op) = O::from_id(tool.operation) else {
        return result::error(&opentrain::Error::InvalidRequest(format!("unknown operation {}", tool.operation)));
    };
    // The wait tool is ours: it polls `get_approval` until a human decides.
    if tool.name == handlers::WAIT_FOR_APPROVAL {
        return handlers::wait_for_approval(tool, &args, &clients, progress).await;
    }
    match route(op) {
        // Over HTTP nothing is saved on the server: the tokens go back to the caller.
        Route::Register | Route::Claim | Route::ClaimStatus if session.is_per_request() => {
            http::tenant::onboarding(tool, &args, &clients).await
        }
        Route::Register => handlers::register_agent(tool, &args, &clients, session).await,
        Route::Claim => handlers::claim_account(tool, &args, &clients).await,
        Route::ClaimStatus => handlers::claim_status(tool, &args, &clients, session).await,
        Route::Proposal => handlers::get_proposal(tool, &args, &clients).await,
        Route::Messages => handlers::read_messages(tool, args, &clients).await,
        Route::Generic => match clients.raw.call_op(op, &request_args(tool, &args)).await {
            Ok(v) => result::ok(tool, v, None),
            Err(e) => result::call_error(tool, &e),
        },
    }
}

/// How a tool's operation is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The table's argument mapping through the raw client: the API's JSON as it is.
    Generic,
    /// Register, saving the tokens to cli.json.
    Register,
    /// Start the claim with the saved claim token.
    Claim,
    /// Poll the claim, saving the post-claim token.
    ClaimStatus,
    /// The proposal with its interview.
    Proposal,
    /// Messages or conversations, by mode.
    Messages,
}

/// Where each operation of the spec is served. Exhaustive on purpose: a new operation in the
/// spec does not compile until someone decides whether the generic path serves it.
fn route(op: O) -> Route {
    match op {
        O::RegisterAgent => Route::Register,
        O::StartClaim => Route::Claim,
        O::PollAgentToken => Route::ClaimStatus,
        O::GetProposal => Route::Proposal,
        O::ReadMessages => Route::Messages,
        O::GetOauthAuthorizationServer
        | O::GetOauthProtectedResource
        | O::RevokeAgentToken
        | O::GetApproval
        | O::GetAuthMe
        | O::ListContracts
        | O::GetContract
        | O::EndContract
        | O::CreateMilestone
        | O::GetCredits
        | O::ListCreditLedger
        | O::CreateCreditTopUp
        | O::GetCreditTopUp
        | O::GetFreelancerProfile
        | O::CreateJobDraft
        | O::GetJobDraftCapabilities
        | O::UpdateJobDraft
        | O::SearchJobs
        | O::ListJobChanges
        | O::GetJobFacets
        | O::ListMyJobs
        | O::GetPublicJob
        | O::UpdatePublishedJob
        | O::CloseJob
        | O::InviteFreelancer
        | O::ListJobProposals
        | O::PublishJob
        | O::SendMessage
        | O::ApproveMilestone
        | O::FundMilestone
        | O::ListPendingPayments
        | O::StartProposalConversation
        | O::HireProposal
        | O::GetProposalInterview
        | O::GetTeam
        | O::InviteTeamMember
        | O::ListTokens
        | O::CreateToken
        | O::RevokeToken
        | O::PollUpdates
        | O::ListWebhooks
        | O::CreateWebhook
        | O::GetWebhook
        | O::DeleteWebhook => Route::Generic,
    }
}

fn not_an_object() -> schema::Violation {
    schema::Violation { path: String::new(), message: "the arguments must be a JSON object".into() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use opentrain::generated::tools::TOOLS;

    fn tool(name: &str) -> &'static ToolDef {
        TOOLS.iter().find(|t| t.name == name).expect("tool in the table")
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn path_and_query_become_wire_strings() {
        let a = request_args(
            tool("opentrain_list_proposals"),
            &map(json!({"jobId": "job_1", "limit": 5, "status": "SHORTLISTED"})),
        );
        assert_eq!(a.params.get("id").map(String::as_str), Some("job_1"));
        assert_eq!(a.params.get("limit").map(String::as_str), Some("5"));
        assert!(a.body.is_none());
        let b = request_args(tool("opentrain_read_messages"), &map(json!({"unreadOnly": true})));
        assert_eq!(b.params.get("unreadOnly").map(String::as_str), Some("true"));
    }

    #[test]
    fn body_fields_whole_bodies_fixed_fields_and_prepends() {
        let draft = request_args(
            tool("opentrain_create_job_draft"),
            &map(json!({"title": "Spanish tweets", "jobDescription": "Label 5,000 tweets.", "idempotencyKey": "k1"})),
        );
        let body = draft.body.unwrap_or_default();
        assert_eq!(body["rawJobDescription"], "Spanish tweets\n\nLabel 5,000 tweets.");
        assert_eq!(body["idempotencyKey"], "k1");
        assert!(!body.contains_key("title"));

        let patch = request_args(
            tool("opentrain_update_job_draft_fields"),
            &map(json!({"jobId": "j", "patch": {"jobTitle": "T", "headcount": 3}})),
        );
        assert_eq!(patch.params.get("jobId").map(String::as_str), Some("j"));
        assert_eq!(Value::Object(patch.body.unwrap_or_default()), json!({"jobTitle": "T", "headcount": 3}));

        let poll = request_args(tool("opentrain_claim_status"), &map(json!({"claimToken": "ot_clm_x"})));
        let body = poll.body.unwrap_or_default();
        assert_eq!(body["grant_type"], "urn:opentrain:agent-auth:grant-type:claim");
        assert_eq!(body["claim_token"], "ot_clm_x");
    }

    #[test]
    fn extras_stay_out_of_the_request() {
        let a =
            request_args(tool("opentrain_get_proposal"), &map(json!({"proposalId": "p", "includeInterview": true})));
        assert_eq!(a.params.len(), 1);
        assert!(a.body.is_none());
    }
}
