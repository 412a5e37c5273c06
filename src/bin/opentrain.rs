//! The `opentrain` binary: the command-line interface (see `opentrain::cli`).

fn main() -> std::process::ExitCode {
    opentrain::cli::main()
}
