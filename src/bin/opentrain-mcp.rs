//! The `opentrain-mcp` binary: the MCP server over stdio.
fn main() {}
