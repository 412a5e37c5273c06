//! The rmcp `ServerHandler`: lists the enabled tools and routes each call to [`call::run`].
//!
//! Hand-written rather than macro-generated because the table is data from the spec (rmcp's
//! maintainers' advice for dynamic tool sets), and it leaves rmcp's default protocol-version
//! negotiation in place (2024-11-05 up to the stateless 2026-07-28).

use std::{collections::HashMap, sync::Arc};

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse, Implementation,
        InitializeResult, ListPromptsResult, ListToolsResult, MetaObject, PaginatedRequestParams, ServerCapabilities,
        ServerConfig, Tool, ToolAnnotations,
    },
    service::RequestContext,
};
use serde_json::{Map, Value};

use super::{
    call,
    prompts::{self, PromptDef},
    result,
    session::Session,
};
use opentrain::generated::{meta::OperationId, tools::ToolDef};

const INSTRUCTIONS: &str = "OpenTrain: post data-labeling jobs, review proposals, hire, message and pay AI \
trainers. Start with opentrain_auth_status; with no token, opentrain_register_agent creates an agent account \
(a human claims it later with opentrain_claim_account and opentrain_claim_status). Hires, milestone funding or \
approval and ending a funded contract only record a pending approval: give the human its approvalUrl, then \
opentrain_wait_for_approval. Failures are results with isError, the HTTP status, the API's code and details \
(claimUrl, billingUrl).";

/// One enabled tool: its table row, its parsed input schema and its MCP description.
#[derive(Clone, Debug)]
struct Entry {
    def: ToolDef,
    schema: Value,
}

/// The MCP server over a fixed set of tools.
#[derive(Clone, Debug)]
pub struct Server {
    listed: Arc<Vec<Tool>>,
    entries: Arc<HashMap<&'static str, Entry>>,
    all_names: Arc<Vec<&'static str>>,
    session: Arc<Session>,
    prompts: Arc<Vec<PromptDef>>,
    /// Set by `--http`: per-request credentials and metrics.
    tenancy: Option<Arc<crate::http::Tenancy>>,
}

fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        // The table is generated and checked by tests; an unusable schema still lists the tool.
        _ => {
            let mut m = Map::new();
            m.insert("type".into(), "object".into());
            m
        }
    }
}

/// The `_meta` key under which each listed tool states what it needs (token, scopes, ...).
pub const REQUIRES_META: &str = "ai.opentrain/requires";

/// The MCP description of one table row, with what its operation needs in
/// `_meta["ai.opentrain/requires"]` so a client can tell which tools its token can use.
pub fn mcp_tool(def: &ToolDef) -> Tool {
    let annotations = ToolAnnotations::with_title(def.title)
        .read_only(def.read_only)
        .destructive(def.destructive)
        .idempotent(def.idempotent)
        .open_world(true);
    let tool = Tool::new(def.name, def.description, Arc::new(parse_object(def.input_schema)))
        .with_title(def.title)
        .with_raw_output_schema(Arc::new(parse_object(def.output_schema)))
        .with_annotations(annotations);
    match OperationId::from_id(def.operation) {
        Some(op) => {
            let mut meta = Map::new();
            meta.insert(REQUIRES_META.into(), op.requires().to_json());
            tool.with_meta(MetaObject(meta))
        }
        None => tool,
    }
}

impl Server {
    /// A server offering `enabled` (see `filter::select`); `all` is the
    /// whole table, so a call to a disabled tool can say why it is refused.
    pub fn new(enabled: &[ToolDef], all: &[ToolDef], session: Session) -> Self {
        let listed: Vec<Tool> = enabled.iter().map(mcp_tool).collect();
        let entries = enabled
            .iter()
            .map(|d| (d.name, Entry { def: *d, schema: Value::Object(parse_object(d.input_schema)) }))
            .collect();
        Self {
            listed: Arc::new(listed),
            entries: Arc::new(entries),
            all_names: Arc::new(all.iter().map(|d| d.name).collect()),
            session: Arc::new(session),
            prompts: Arc::new(prompts::offered(&enabled.iter().map(|d| d.name).collect::<Vec<_>>())),
            tenancy: None,
        }
    }

    /// The same server serving HTTP callers: each call uses its own request's credentials.
    pub fn with_tenancy(mut self, tenancy: Arc<crate::http::Tenancy>) -> Self {
        self.tenancy = Some(tenancy);
        self
    }

    /// The tools this server lists.
    pub fn tools(&self) -> &[Tool] {
        &self.listed
    }

    /// Runs a tool by name as `tools/call` would, without a protocol session (benchmarks, tests).
    pub async fn call(
        &self,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<rmcp::model::CallToolResult, ErrorData> {
        let entry = self.entry(name)?;
        Ok(call::run(&entry.def, &entry.schema, arguments, &self.session, None).await)
    }

    fn entry(&self, name: &str) -> Result<&Entry, ErrorData> {
        self.entries.get(name).ok_or_else(|| {
            let why = if self.all_names.contains(&name) {
                " (disabled on this server by --read-only, --toolsets, --tools or --exclude-tools)"
            } else {
                ""
            };
            ErrorData::invalid_params(opentrain::redact(&format!("unknown tool `{name}`{why}")), None)
        })
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().enable_prompts().build())
            .with_server_info(Implementation::new("opentrain", env!("CARGO_PKG_VERSION")).with_title("OpenTrain"))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.listed.as_ref().clone()))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(self.prompts.iter().map(PromptDef::listed).collect()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let Some(prompt) = self.prompts.iter().find(|p| p.name == request.name) else {
            let known: Vec<&str> = self.prompts.iter().map(|p| p.name).collect();
            return Err(ErrorData::invalid_params(
                format!("unknown prompt `{}` (offered: {})", request.name, known.join(", ")),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        prompt
            .render(&arguments)
            .map(GetPromptResponse::Complete)
            .map_err(|e| ErrorData::invalid_params(format!("{}: {e}", prompt.name), None))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.listed.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let entry = self.entry(&request.name)?;
        let progress =
            context.meta.get_progress_token().map(|token| call::Progress { peer: context.peer.clone(), token });
        let arguments = request.arguments.unwrap_or_default();
        let scoped = self.tenancy.as_ref().and_then(|t| t.session(&context));
        let session = scoped.as_ref().unwrap_or(&self.session);
        let (started, _in_flight) = (std::time::Instant::now(), self.tenancy.as_ref().map(|t| t.start()));
        let run = call::run(&entry.def, &entry.schema, arguments, session, progress);
        // rmcp does not abort a handler when the client cancels; a long wait must stop by itself.
        let outcome = tokio::select! {
            r = run => r,
            () = context.ct.cancelled() => result::failure(
                serde_json::json!({"code": "CANCELLED", "error": "the client cancelled this call"}),
                "Cancelled by the client.".into(),
            ),
        };
        if let Some(t) = &self.tenancy {
            t.observe(entry.def.name, &outcome, started);
        }
        Ok(CallToolResponse::Complete(outcome))
    }
}
