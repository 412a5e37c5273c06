//! The `opentrain-mcp` binary: the MCP server over stdio (everything lives in the crate's library).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    opentrain_mcp::main()
}
