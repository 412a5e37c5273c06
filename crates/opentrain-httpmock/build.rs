//! Generates the typed mocks from the SDK's spec into `OUT_DIR/httpmock.rs`.

use std::path::Path;

fn main() {
    // The spec the SDK was built from (its build script exports the path); the packaged crate
    // has no `../../openapi.yaml` to read.
    let Some(spec) = std::env::var_os("DEP_OPENTRAIN_SPEC") else {
        eprintln!("error: the opentrain dependency did not say where its openapi.yaml is (DEP_OPENTRAIN_SPEC)");
        std::process::exit(1);
    };
    let spec = Path::new(&spec);
    println!("cargo:rerun-if-changed={}", spec.display());
    let out = std::env::var_os("OUT_DIR").unwrap_or_default();
    let result = opentrain_codegen::read_spec(spec)
        .and_then(|spec| opentrain_codegen::generate_httpmock(spec, "opentrain", Path::new(&out)));
    if let Err(msg) = result {
        eprintln!("error: {}: {msg}", spec.display());
        std::process::exit(1);
    }
}
