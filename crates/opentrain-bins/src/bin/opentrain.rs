//! `opentrain` as installers ship it: the same entry point as the opentrain-cli crate's binary.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    opentrain_cli::main()
}
