//! Generates the typed mocks from the SDK's spec (with its overlay) into `OUT_DIR/httpmock.rs`.

use std::path::Path;

const SPEC: &str = "../../openapi.yaml";
const OVERLAY: &str = "../../openapi.overlay.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed={OVERLAY}");
    let out = std::env::var_os("OUT_DIR").unwrap_or_default();
    let result = opentrain_codegen::load_spec(Path::new(SPEC), Path::new(OVERLAY)).and_then(|spec| {
        opentrain_codegen::generate_httpmock(spec, "opentrain", Path::new(&out)).map_err(|e| format!("{SPEC}: {e}"))
    });
    if let Err(msg) = result {
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}
