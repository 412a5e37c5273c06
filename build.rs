//! Generates everything spec-derived from `openapi.yaml` (the API) with `openapi.overlay.yaml`
//! (our metadata) applied into `OUT_DIR` (the logic lives in the tested `opentrain-codegen`
//! crate): the typed client, the operation table, the raw client and the MCP tool table. Edit the
//! spec or the overlay, `cargo build`, and everything is regenerated.

use std::path::Path;

const SPEC: &str = "openapi.yaml";
const OVERLAY: &str = "openapi.overlay.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed={OVERLAY}");
    // Hands the spec's and the overlay's locations to the crates that build on this one (`links` metadata, read as
    // DEP_OPENTRAIN_SPEC, DEP_OPENTRAIN_OVERLAY): opentrain-httpmock generates its mocks from this very file, in the
    // workspace and from crates.io alike, so the mocks always match the SDK they are built with.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:spec={}", Path::new(&manifest).join(SPEC).display());
    println!("cargo:overlay={}", Path::new(&manifest).join(OVERLAY).display());
    let out = std::env::var_os("OUT_DIR").unwrap_or_default();
    let result = opentrain_codegen::load_spec(Path::new(SPEC), Path::new(OVERLAY))
        .and_then(|spec| opentrain_codegen::generate_sdk(spec, Path::new(&out)).map_err(|e| format!("{SPEC}: {e}")));
    if let Err(msg) = result {
        // A build script reports through its exit status; the message names what to fix.
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}
