//! The one loader (`load_spec`) on the real spec and overlay: a JSON rendering of the spec (what
//! the server serves) generates exactly what the YAML does, and a dead overlay action stops the
//! build naming the action.

use std::path::{Path, PathBuf};

use opentrain_codegen::{generate_httpmock, generate_sdk, load_spec, read_spec};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("opentrain-codegen-load-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_json_spec_generates_the_same_code_as_the_yaml_one() {
    let overlay = root().join("openapi.overlay.yaml");
    let from_yaml = load_spec(&root().join("openapi.yaml"), &overlay).expect("the YAML spec loads");
    assert!(
        from_yaml["paths"]["/api/public/v1/jobs"]["get"]["x-mcp"]["tool"].is_string(),
        "the overlay put our metadata back"
    );

    let dir = temp("json");
    let raw = read_spec(&root().join("openapi.yaml")).expect("the spec");
    assert!(raw.to_string().find("\"x-mcp\"").is_none(), "openapi.yaml is the API's alone");
    let json = dir.join("openapi.json");
    std::fs::write(&json, serde_json::to_string_pretty(&raw).expect("JSON")).expect("write JSON");
    let from_json = load_spec(&json, &overlay).expect("the JSON spec loads");
    assert_eq!(from_json, from_yaml);

    // Also without the extension: JSON is recognised by its content.
    let unnamed = dir.join("served");
    std::fs::copy(&json, &unnamed).expect("copy");
    assert_eq!(load_spec(&unnamed, &overlay).expect("loads"), from_yaml);

    let (a, b) = (dir.join("a"), dir.join("b"));
    for (spec, out) in [(from_yaml, &a), (from_json, &b)] {
        std::fs::create_dir_all(out).expect("out dir");
        generate_sdk(spec.clone(), out).expect("the SDK generates");
        generate_httpmock(spec, "opentrain", out).expect("the mocks generate");
    }
    for file in ["codegen.rs", "meta.rs", "raw.rs", "tools.rs", "httpmock.rs"] {
        let (x, y) = (std::fs::read(a.join(file)).expect("a"), std::fs::read(b.join(file)).expect("b"));
        assert!(!x.is_empty() && x == y, "{file} differs between the YAML and the JSON spec");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_dead_overlay_action_fails_the_load_naming_the_action() {
    let dir = temp("dead");
    let overlay = dir.join("openapi.overlay.yaml");
    let text = std::fs::read_to_string(root().join("openapi.overlay.yaml")).expect("the overlay")
        + "- target: $.paths['/api/public/v1/gone'].get\n  description: a removed operation\n  update: {x-cli: {command: gone}}\n";
    std::fs::write(&overlay, text).expect("write");
    let err = load_spec(&root().join("openapi.yaml"), &overlay).expect_err("a dead action");
    assert!(err.contains("openapi.overlay.yaml"), "names the file: {err}");
    assert!(
        err.contains(r#"($.paths['/api/public/v1/gone'].get, "a removed operation"): the target matches nothing"#),
        "names the action: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
