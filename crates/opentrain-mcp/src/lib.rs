//! The MCP server face: the spec-generated tool table served over stdio with rmcp.
//!
//! Every tool of [`TOOLS`] plus `opentrain_wait_for_approval`, filtered by [`filter::Options`].
//! A call is checked against the tool's input schema (`schema`), mapped onto its operation and
//! sent through the raw client (`call`), or run by a hand-written handler (`handlers`); the
//! answer is the API's JSON as structuredContent with a short text (`summary`, `result`).
//! Credentials follow the official server (`session`).
//! The `opentrain-mcp` binary is [`main`].
#![forbid(unsafe_code)]

mod call;
mod filter;
mod handlers;
pub mod http;
mod prompts;
mod result;
mod schema;
mod server;
mod session;
mod summary;
mod transport;

use rmcp::ServiceExt;

pub use filter::Options;
pub use schema::validate;
pub use server::Server;
pub use session::Session;

use opentrain::generated::tools::{TOOLS, ToolDef};

/// Every tool the server can offer: the spec's table, then the extra wait tool.
pub fn table() -> Vec<ToolDef> {
    let mut all = TOOLS.to_vec();
    all.push(handlers::wait_for_approval_tool());
    all
}

/// The server `options` describe, resolving credentials from `env`, or why the options are
/// unusable.
pub fn server(options: &Options, env: opentrain::credentials::Env) -> Result<Server, String> {
    let all = table();
    let enabled = filter::select(&all, options)?;
    Ok(Server::new(&enabled, &all, Session::with_env(env)))
}

/// Serves MCP on stdin/stdout until the client closes the connection or SIGTERM/SIGINT
/// arrives; either way the calls in flight are drained (answered, for at most rmcp's 5 s)
/// before it returns.
pub async fn serve_stdio(server: Server) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (read, write) = rmcp::transport::stdio_pipes();
    let transport = transport::LineTransport::new(read, write).until(opentrain_sandbox::stop_signal());
    let running = server.serve(transport).await?;
    running.waiting().await?;
    Ok(())
}

/// Serves stdio, with a sandbox running beside it for the whole session when one was prepared.
async fn serve_with(
    server: Server,
    sandbox: Option<opentrain_sandbox::SandboxFlag>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Some(flag) = sandbox else { return serve_stdio(server).await };
    let running = flag.start().await?;
    // stderr only: stdout carries nothing but the protocol.
    eprintln!("opentrain-mcp: serving against the sandbox at {}", running.base_url());
    let served = serve_stdio(server).await;
    running.shutdown().await?;
    served
}

/// The `opentrain-mcp` entry point: parses the flags, serves stdio, and returns the exit code.
///
/// Logs go to stderr only; stdout carries nothing but the protocol.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    let options = Options::parse();
    // --sandbox picks its port and directory; credentials then resolve through its `Env`.
    let sandbox = if options.sandbox || options.sandbox_state.is_some() {
        match opentrain_sandbox::SandboxFlag::prepare(options.sandbox_state.as_deref()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("opentrain-mcp: cannot prepare the sandbox: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let env = sandbox.as_ref().map_or_else(opentrain::credentials::Env::process, opentrain_sandbox::SandboxFlag::env);
    if options.http.http.is_some() {
        return http::run(&options, env, sandbox);
    }
    let server = match server(&options, env) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("opentrain-mcp: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // One thread: a stdio server answers one client, its work is waiting on the network, and a
    // single-threaded runtime starts faster and uses less memory.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opentrain-mcp: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(serve_with(server, sandbox));
    // A stdin read parked on a blocking thread (a terminal) would hold the runtime's shutdown
    // until the next line; after a signal nothing more is read.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opentrain-mcp: {}", opentrain::redact(&e.to_string()));
            std::process::ExitCode::FAILURE
        }
    }
}
