//! Generates everything spec-derived from `openapi.yaml` into `OUT_DIR` (the logic lives in the
//! tested `opentrain-codegen` crate): the typed client, the operation table, the raw client and
//! the MCP tool table. Edit the spec, `cargo build`, and everything is regenerated.

use std::path::Path;

const SPEC: &str = "openapi.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    // Hands the spec's location to the crates that build on this one (`links` metadata, read as
    // DEP_OPENTRAIN_SPEC): opentrain-httpmock generates its mocks from this very file, in the
    // workspace and from crates.io alike, so the mocks always match the SDK they are built with.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:spec={}", Path::new(&manifest).join(SPEC).display());
    let out = std::env::var_os("OUT_DIR").unwrap_or_default();
    let result = opentrain_codegen::read_spec(Path::new(SPEC))
        .and_then(|spec| opentrain_codegen::generate_sdk(spec, Path::new(&out)));
    if let Err(msg) = result {
        // A build script reports through its exit status; the message names what to fix.
        eprintln!("error: {SPEC}: {msg}");
        std::process::exit(1);
    }
}
