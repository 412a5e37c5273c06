//! `opentrain-spec extract-overlay` on copies of the real spec and overlay: the re-run the lead
//! does after merging branches that add `x-requires` / `x-errors` blocks to operations.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use opentrain_codegen::{load_spec, read_spec};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn new_blocks_in_the_real_spec_move_into_their_operations_action() {
    let dir = std::env::temp_dir().join(format!("opentrain-spec-extract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (spec, overlay) = (dir.join("openapi.yaml"), dir.join("openapi.overlay.yaml"));
    let pure = std::fs::read_to_string(root().join("openapi.yaml")).expect("the spec");
    std::fs::copy(root().join("openapi.overlay.yaml"), &overlay).expect("copy the overlay");

    // What another branch adds: two blocks right before `responses:` of get_approval (keys the
    // overlay does not hold yet: a key in both places is refused, see the unit tests).
    let anchor = "      operationId: get_approval\n";
    let at = pure.find(anchor).expect("get_approval") + anchor.len();
    let responses = at + pure[at..].find("      responses:\n").expect("its responses");
    let blocks = "      x-audit: {owner: payments, reviewed: false}\n      x-notes:\n      - {status: 404, note: unknown approval}\n";
    let with_blocks = format!("{}{blocks}{}", &pure[..responses], &pure[responses..]);
    std::fs::write(&spec, &with_blocks).expect("write the spec");
    let before = load_spec(&spec, &overlay).expect("loads before");

    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_opentrain-spec"))
            .args(["extract-overlay", "--spec"])
            .arg(&spec)
            .arg("--overlay")
            .arg(&overlay)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let printed = run();
    assert!(printed.contains("2 key(s) moved"), "{printed}");
    assert_eq!(std::fs::read_to_string(&spec).expect("spec"), pure, "only the added lines go");
    assert_eq!(load_spec(&spec, &overlay).expect("loads after"), before, "same spec once the overlay applies");
    let layer = read_spec(&overlay).expect("the overlay");
    let actions = layer["actions"].as_array().expect("actions");
    let mine: Vec<_> = actions.iter().filter(|a| a["description"] == "get_approval").collect();
    assert_eq!(mine.len(), 1, "one action per operation");
    assert_eq!(mine[0]["update"]["x-audit"]["owner"], "payments");
    assert_eq!(mine[0]["update"]["x-mcp"]["tool"], "opentrain_get_approval", "merged with what was there");

    let overlay_text = std::fs::read_to_string(&overlay).expect("overlay");
    assert!(run().contains("0 key(s) moved"));
    assert_eq!(std::fs::read_to_string(&overlay).expect("overlay"), overlay_text, "a re-run changes nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_real_spec_has_no_x_key_left_to_move() {
    let text = std::fs::read_to_string(root().join("openapi.yaml")).expect("the spec");
    let layer = read_spec(&root().join("openapi.overlay.yaml")).expect("the overlay");
    let e = opentrain_spec::extract::extract(&text, layer, &[]).expect("extracts");
    assert!(
        e.moved.is_empty(),
        "openapi.yaml has x- keys that belong in the overlay; run `cargo run -p opentrain-spec -- extract-overlay`: {:?}",
        e.moved
    );
}
