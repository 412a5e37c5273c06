//! The `opentrain` binary: the command-line interface.
fn main() {}
