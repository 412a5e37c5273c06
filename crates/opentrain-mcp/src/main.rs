//! The `opentrain-mcp` binary: the MCP server over stdio (everything lives in the crate's library).
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: opentrain_mcp::Allocator = opentrain_mcp::Allocator;

fn main() -> std::process::ExitCode {
    opentrain_mcp::main()
}
