//! `opentrain-mcp` as installers ship it: the same entry point as the opentrain-mcp crate's binary.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    opentrain_mcp::main()
}
