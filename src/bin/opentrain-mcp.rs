//! The `opentrain-mcp` binary: the MCP server over stdio (see `opentrain::mcp`).

fn main() -> std::process::ExitCode {
    opentrain::mcp::main()
}
