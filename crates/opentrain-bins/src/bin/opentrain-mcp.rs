//! `opentrain-mcp` as installers ship it: the same entry point as the opentrain-mcp crate's binary.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: opentrain_mcp::Allocator = opentrain_mcp::Allocator;

fn main() -> std::process::ExitCode {
    opentrain_mcp::main()
}
