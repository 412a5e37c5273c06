//! The `opentrain` binary: the command-line interface (everything lives in the crate's library).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    opentrain_cli::main()
}
