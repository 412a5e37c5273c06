//! Generates the typed mocks from the SDK's spec (with its overlay) into `OUT_DIR/httpmock.rs`.

use std::path::Path;

fn main() {
    // The spec and overlay the SDK was built from (its build script exports both paths); the
    // packaged crate has no `../../openapi.yaml` to read.
    let (Some(spec), Some(overlay)) =
        (std::env::var_os("DEP_OPENTRAIN_SPEC"), std::env::var_os("DEP_OPENTRAIN_OVERLAY"))
    else {
        eprintln!(
            "error: the opentrain dependency did not say where its openapi.yaml and overlay are (DEP_OPENTRAIN_SPEC, DEP_OPENTRAIN_OVERLAY)"
        );
        std::process::exit(1);
    };
    let (spec, overlay) = (Path::new(&spec), Path::new(&overlay));
    println!("cargo:rerun-if-changed={}", spec.display());
    println!("cargo:rerun-if-changed={}", overlay.display());
    let out = std::env::var_os("OUT_DIR").unwrap_or_default();
    let result = opentrain_codegen::load_spec(spec, overlay).and_then(|doc| {
        opentrain_codegen::generate_httpmock(doc, "opentrain", Path::new(&out))
            .map_err(|e| format!("{}: {e}", spec.display()))
    });
    if let Err(msg) = result {
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}
