//! Generates the typed mocks from the SDK's spec into `OUT_DIR/httpmock.rs`.

use std::path::Path;

const SPEC: &str = "../../openapi.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    let out = std::env::var_os("OUT_DIR").unwrap_or_default();
    let result = opentrain_codegen::read_spec(Path::new(SPEC))
        .and_then(|spec| opentrain_codegen::generate_httpmock(spec, "opentrain", Path::new(&out)));
    if let Err(msg) = result {
        eprintln!("error: {SPEC}: {msg}");
        std::process::exit(1);
    }
}
