//! cli.json precedence, atomic 0600 writes, unknown keys, corrupt files, lost updates, symlinks,
//! FIFOs and too-open permissions.

use std::{
    collections::HashMap,
    fs,
    os::unix::fs::{FileTypeExt, PermissionsExt},
    path::Path,
};

use opentrain::{
    ConfigError, CredentialsFile, Error, Resolver, Token,
    credentials::{Source, default_path_with},
};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| m.get(k).cloned()
}

fn write_file(dir: &Path, body: &str) -> std::path::PathBuf {
    let p = dir.join("opentrain").join("cli.json");
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(&p, body).expect("write");
    p
}

#[test]
fn default_path_follows_xdg_then_home() {
    assert_eq!(
        default_path_with(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).expect("path"),
        Path::new("/x/opentrain/cli.json")
    );
    assert_eq!(default_path_with(env(&[("HOME", "/h")])).expect("path"), Path::new("/h/.config/opentrain/cli.json"));
    assert_eq!(
        default_path_with(env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])).expect("path"),
        Path::new("/h/.config/opentrain/cli.json"),
        "an empty XDG_CONFIG_HOME counts as unset"
    );
    assert!(matches!(default_path_with(env(&[])), Err(Error::Config(ConfigError::NoConfigDir))));
}

#[test]
fn library_precedence_explicit_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().expect("tmp");
    let xdg = dir.path().to_str().expect("utf8");
    let file = write_file(dir.path(), r#"{"apiToken":"ot_pat_file","baseUrl":"http://file.example"}"#);
    let r = Resolver::MCP;

    let got = r.resolve_with(None, None, env(&[("XDG_CONFIG_HOME", xdg)])).expect("file");
    assert_eq!(got.token.as_ref().map(Token::expose), Some("ot_pat_file"));
    assert_eq!(got.token_source, Some(Source::File(file.clone())));
    assert_eq!((got.base_url.as_str(), got.base_url_source), ("http://file.example", Source::File(file.clone())));

    let e = env(&[("XDG_CONFIG_HOME", xdg), ("OPENTRAIN_API_BASE_URL", "http://env.example/")]);
    let got = r.resolve_with(None, None, e).expect("env base");
    assert_eq!(
        (got.base_url.as_str(), got.base_url_source),
        ("http://env.example", Source::Env("OPENTRAIN_API_BASE_URL"))
    );

    let got = r
        .resolve_with(
            Some(Token::new("ot_pat_code")),
            Some("http://code.example"),
            env(&[("XDG_CONFIG_HOME", xdg), ("OPENTRAIN_PERSONAL_API_TOKEN", "ot_pat_env")]),
        )
        .expect("explicit");
    assert_eq!(got.token.as_ref().map(Token::expose), Some("ot_pat_code"));
    assert_eq!(got.base_url, "http://code.example");

    let empty = tempfile::tempdir().expect("tmp");
    let got =
        r.resolve_with(None, None, env(&[("XDG_CONFIG_HOME", empty.path().to_str().expect("utf8"))])).expect("nothing");
    assert_eq!(
        (got.token, got.base_url.as_str(), got.base_url_source),
        (None, "https://app.opentrain.ai", Source::Default)
    );
}

#[test]
fn the_env_token_wins_outright_and_the_file_is_not_read() {
    let dir = tempfile::tempdir().expect("tmp");
    write_file(dir.path(), "{ this is not json");
    let xdg = dir.path().to_str().expect("utf8");
    let got = Resolver::MCP
        .resolve_with(None, None, env(&[("XDG_CONFIG_HOME", xdg), ("OPENTRAIN_PERSONAL_API_TOKEN", "ot_pat_env")]))
        .expect("the corrupt file is never opened");
    assert_eq!(got.token.as_ref().map(Token::expose), Some("ot_pat_env"));
    assert_eq!(got.token_source, Some(Source::Env("OPENTRAIN_PERSONAL_API_TOKEN")));
    assert_eq!(got.base_url, "https://app.opentrain.ai");
}

#[test]
fn cli_precedence_reads_its_own_variables() {
    let dir = tempfile::tempdir().expect("tmp");
    write_file(dir.path(), r#"{"apiToken":"ot_pat_file","baseUrl":"http://file.example"}"#);
    let xdg = dir.path().to_str().expect("utf8");
    let both = env(&[("XDG_CONFIG_HOME", xdg), ("OT_API_TOKEN", "ot_pat_ot"), ("OPENTRAIN_API_TOKEN", "ot_pat_long")]);
    let got = Resolver::CLI.resolve_with(None, None, both).expect("cli");
    assert_eq!(got.token.as_ref().map(Token::expose), Some("ot_pat_ot"));
    assert_eq!(got.base_url, "http://file.example", "the file still supplies the base URL");
    let long = env(&[
        ("XDG_CONFIG_HOME", xdg),
        ("OPENTRAIN_API_TOKEN", "ot_pat_long"),
        ("OT_API_BASE_URL", "http://ot.example"),
    ]);
    let got = Resolver::CLI.resolve_with(None, None, long).expect("cli");
    assert_eq!(got.token.as_ref().map(Token::expose), Some("ot_pat_long"));
    assert_eq!(got.base_url, "http://ot.example");
}

#[test]
fn save_is_0600_in_a_0700_dir_atomic_and_keeps_unknown_keys() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("new").join("opentrain").join("cli.json");
    let mut f = CredentialsFile::load(&path).expect("missing file is empty");
    assert!(!f.exists());
    f.set_api_token(Some(&Token::new("ot_pat_one")));
    f.save().expect("save");
    assert_eq!(fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::metadata(path.parent().expect("dir")).expect("meta").permissions().mode() & 0o777, 0o700);

    // An existing, too-open file with keys we do not know.
    fs::write(&path, r#"{"apiToken":"ot_pat_old","profile":{"name":"work"},"telemetry":false}"#).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut f = CredentialsFile::load(&path).expect("load");
    f.set_api_token(Some(&Token::new("ot_pat_new")));
    f.set_claim_token(None);
    f.save().expect("save");
    let saved: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(saved, serde_json::json!({"apiToken": "ot_pat_new", "profile": {"name": "work"}, "telemetry": false}));
    assert_eq!(fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600, "tightened to 0600");
    let mut leftovers: Vec<_> =
        fs::read_dir(path.parent().expect("dir")).expect("ls").filter_map(Result::ok).map(|e| e.file_name()).collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("cli.json"), std::ffi::OsString::from("cli.json.lock")],
        "no temp file left behind (only the lock's sidecar, which must outlive every save)"
    );
}

#[test]
fn a_corrupt_file_is_an_error_naming_it_and_is_left_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    for (body, why) in [
        ("{ nope", "not valid JSON"),
        ("[1,2]", "not a JSON object"),
        (r#"{"apiToken": 7}"#, "`apiToken` is not a string"),
    ] {
        let path = write_file(dir.path(), body);
        let err = CredentialsFile::load(&path).expect_err("corrupt");
        let msg = err.to_string();
        assert!(msg.contains(path.to_str().expect("utf8")) && msg.contains(why), "{msg}");
        let via_resolver =
            Resolver::MCP.resolve_with(None, None, env(&[("XDG_CONFIG_HOME", dir.path().to_str().expect("utf8"))]));
        assert!(matches!(via_resolver, Err(Error::Config(ConfigError::CorruptCredentials { .. }))));
        assert_eq!(fs::read_to_string(&path).expect("read"), body, "never overwritten");
    }
}

#[test]
fn debug_of_the_file_hides_tokens_and_logout_deletes() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write_file(dir.path(), r#"{"apiToken":"ot_pat_a_secret","claimToken":"ot_clm_b_secret"}"#);
    let mut f = CredentialsFile::load(&path).expect("load");
    let shown = format!("{f:?}");
    assert!(!shown.contains("secret"), "{shown}");
    // Still says what it is: the path and each token's kind.
    assert!(shown.starts_with("CredentialsFile {"), "{shown}");
    assert!(shown.contains(path.to_str().expect("utf8")) && shown.contains("Token(ot_clm_[redacted])"), "{shown}");
    assert!(f.delete().expect("delete"));
    assert!(!path.exists());
    assert!(!f.delete().expect("second delete is fine"));
}

#[test]
fn a_key_another_process_changed_meanwhile_survives_a_save() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write_file(dir.path(), r#"{"apiToken":"ot_pat_old","baseUrl":"http://old.example","keep":1}"#);
    let mut mine = CredentialsFile::load(&path).expect("load");
    // Another process (another terminal) rewrites the file while this one waits on the network.
    fs::write(&path, r#"{"apiToken":"ot_pat_old","baseUrl":"http://new.example","keep":2,"added":true}"#)
        .expect("write");
    mine.set_api_token(Some(&Token::new("ot_pat_mine")));
    mine.save().expect("save");
    let saved: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(
        saved,
        serde_json::json!({"apiToken": "ot_pat_mine", "baseUrl": "http://new.example", "keep": 2, "added": true}),
        "only the key this handle changed was written"
    );
    assert_eq!(mine.base_url(), Some("http://new.example"), "the handle sees the file as saved");

    // A removal is a change too: it removes, and leaves the rest as the other process left it.
    let mut other = CredentialsFile::load(&path).expect("load");
    fs::write(&path, r#"{"apiToken":"ot_pat_mine","claimToken":"ot_clm_x","baseUrl":"http://third.example"}"#)
        .expect("write");
    other.set_claim_token(None);
    other.save().expect("save");
    let saved: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(saved, serde_json::json!({"apiToken": "ot_pat_mine", "baseUrl": "http://third.example"}));
}

#[test]
fn unknown_keys_keep_their_order_and_exact_numbers() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write_file(dir.path(), r#"{"z":1,"big":123456789012345678901234567890,"a":{"x":1.10}}"#);
    let mut f = CredentialsFile::load(&path).expect("load");
    f.set_api_token(Some(&Token::new("ot_pat_new")));
    f.save().expect("save");
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "{\n  \"z\": 1,\n  \"big\": 123456789012345678901234567890,\n  \"a\": {\"x\":1.10},\n  \"apiToken\": \"ot_pat_new\"\n}\n"
    );
    // Saving what was saved changes nothing, byte for byte.
    let before = fs::read_to_string(&path).expect("read");
    let mut again = CredentialsFile::load(&path).expect("load");
    again.set_api_token(Some(&Token::new("ot_pat_new")));
    again.save().expect("save");
    assert_eq!(fs::read_to_string(&path).expect("read"), before);
}

#[test]
fn a_symlinked_file_is_written_through_and_the_link_stays() {
    let dir = tempfile::tempdir().expect("tmp");
    let dotfiles = dir.path().join("dotfiles");
    fs::create_dir_all(&dotfiles).expect("mkdir");
    let target = dotfiles.join("opentrain.json");
    fs::write(&target, r#"{"apiToken":"ot_pat_old","mine":"kept"}"#).expect("write");
    let link = dir.path().join("config").join("opentrain").join("cli.json");
    fs::create_dir_all(link.parent().expect("dir")).expect("mkdir");
    // Relative, as dotfile managers often make them: resolved against the link's directory.
    std::os::unix::fs::symlink("../../dotfiles/opentrain.json", &link).expect("symlink");

    let mut f = CredentialsFile::load(&link).expect("load through the link");
    assert_eq!(f.api_token().as_ref().map(Token::expose), Some("ot_pat_old"));
    f.set_api_token(Some(&Token::new("ot_pat_new")));
    f.save().expect("save");

    assert!(fs::symlink_metadata(&link).expect("meta").file_type().is_symlink(), "the link is still a link");
    let saved: serde_json::Value = serde_json::from_str(&fs::read_to_string(&target).expect("read")).expect("json");
    assert_eq!(saved, serde_json::json!({"apiToken": "ot_pat_new", "mine": "kept"}), "the target got the write");
    assert_eq!(fs::metadata(&target).expect("meta").permissions().mode() & 0o777, 0o600);
    let mut in_dotfiles: Vec<_> =
        fs::read_dir(&dotfiles).expect("ls").filter_map(Result::ok).map(|e| e.file_name()).collect();
    in_dotfiles.sort();
    assert_eq!(in_dotfiles, vec![std::ffi::OsString::from("opentrain.json")], "no temp file left beside the target");
}

#[test]
fn a_fifo_or_a_directory_at_the_path_is_an_error_naming_it_never_a_hang() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("cli.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let p = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(CredentialsFile::load(&p).map(|_| ()).map_err(|e| e.to_string()));
    });
    let outcome = rx.recv_timeout(std::time::Duration::from_secs(20));
    if outcome.is_err() {
        // Unblock the stuck reader before failing, so it does not outlive the test.
        let _ = fs::OpenOptions::new().write(true).open(&fifo);
    }
    let err = outcome.expect("load returned instead of blocking on the FIFO").expect_err("a FIFO is refused");
    assert!(err.contains(fifo.to_str().expect("utf8")) && err.contains("not a regular file (a FIFO)"), "{err}");

    let as_dir = dir.path().join("dir.json");
    fs::create_dir(&as_dir).expect("mkdir");
    let err = CredentialsFile::load(&as_dir).expect_err("a directory is refused").to_string();
    assert!(err.contains("dir.json") && err.contains("a directory"), "{err}");
    assert!(fs::metadata(&fifo).expect("meta").file_type().is_fifo(), "the FIFO is left alone");

    let err = CredentialsFile::load("/dev/null").expect_err("a device is refused").to_string();
    assert!(err.contains("/dev/null") && err.contains("not a regular file (a device)"), "{err}");
}

#[test]
fn a_file_others_can_read_loads_with_a_warning_like_ssh() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write_file(dir.path(), r#"{"apiToken":"ot_pat_a_secret"}"#);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let f = CredentialsFile::load(&path).expect("still usable");
    assert_eq!(f.api_token().as_ref().map(Token::expose), Some("ot_pat_a_secret"));
    let expected = format!("Permissions 0640 for '{}' are too open", path.display());
    assert!(f.warnings().iter().any(|w| w.starts_with(&expected) && !w.contains("secret")), "{:?}", f.warnings());

    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(CredentialsFile::load(&path).expect("load").warnings().is_empty(), "0600 is fine");
}

/// `Env` reads the process environment except where told otherwise, and blank values count as
/// unset: what `--sandbox` relies on to point a binary elsewhere without touching the process.
#[test]
fn env_overrides_win_and_everything_else_is_the_process_environment() {
    let path = std::env::var("PATH").ok();
    assert!(path.is_some(), "the test runs with a PATH");
    let process = opentrain::credentials::Env::process();
    assert_eq!(process.get("PATH"), path);
    assert!(process.is_set("PATH"));
    let env = process.set("XDG_CONFIG_HOME", "/tmp/ot-sandbox").remove("PATH").set("OT_API_TOKEN", "  ");
    assert_eq!(env.get("XDG_CONFIG_HOME").as_deref(), Some("/tmp/ot-sandbox"));
    assert_eq!(env.get("PATH"), None);
    assert!(!env.is_set("PATH") && !env.is_set("OT_API_TOKEN"), "removed and blank are unset");
    assert_eq!(env.credentials_path().expect("path"), Path::new("/tmp/ot-sandbox/opentrain/cli.json"));
    // The library's default path is this environment's, unchanged.
    assert_eq!(
        opentrain::credentials::default_path().expect("HOME is set"),
        opentrain::credentials::Env::process().credentials_path().expect("path")
    );
}

/// A token's Debug names its kind and never its value.
#[test]
fn a_tokens_debug_shows_its_kind_only() {
    assert_eq!(format!("{:?}", Token::new("ot_pat_debug_secret_1")), "Token(ot_pat_[redacted])");
    assert_eq!(format!("{:?}", Token::new("custom-shape-secret")), "Token([redacted])");
    assert_eq!(Token::new("ot_pat_display_secret_2").to_string(), "ot_pat_[redacted]", "Display masks the same way");
}

/// The too-open-permissions warning goes to the hook a program installs (the first one wins),
/// once per file however often the file is read.
#[test]
fn the_permission_warning_reaches_the_hook_once_per_file() {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    assert!(opentrain::credentials::set_warning_hook(|m| SEEN.lock().expect("seen").push(m.to_string())));
    assert!(!opentrain::credentials::set_warning_hook(|_| {}), "only the first hook takes effect");
    let dir = tempfile::tempdir().expect("tmp");
    let p = write_file(dir.path(), r#"{"apiToken":"ot_pat_open_file_secret"}"#);
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
    for _ in 0..3 {
        CredentialsFile::load(&p).expect("an open file still loads");
    }
    let seen: Vec<String> =
        SEEN.lock().expect("seen").iter().filter(|m| m.contains(p.to_str().expect("utf8"))).cloned().collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(!seen[0].contains("ot_pat_open_file_secret"), "{seen:?}");
}

/// A held secret of exactly the shortest remembered length is masked; a shorter one is not
/// (masking every short word would garble text and hide nothing worth hiding).
#[test]
fn secrets_from_the_shortest_remembered_length_are_masked() {
    opentrain::redact::remember("q7w8e9r0");
    opentrain::redact::remember("z1x2c3v");
    assert_eq!(opentrain::redact("a q7w8e9r0 b z1x2c3v c"), "a [redacted] b z1x2c3v c");
}

/// A file over the 1 MiB bound is refused as too large (not misread as broken JSON), and a path
/// that cannot be looked at (under a regular file) is an error, not "no credentials yet".
#[test]
fn an_oversized_file_and_an_unreachable_path_are_errors_naming_the_cause() {
    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("cli.json");
    // Valid JSON just past the bound: only the size check can refuse it.
    let body = format!("{{\"apiToken\":\"ot_pat_big\",\"pad\":\"{}\"}}", "x".repeat(1 << 20));
    fs::write(&big, body).expect("write");
    let err = CredentialsFile::load(&big).expect_err("too large").to_string();
    assert!(err.contains("larger than 1024 KiB"), "{err}");
    // Exactly at the bound is still a file.
    let head = r#"{"apiToken":"ot_pat_big","pad":""}"#;
    fs::write(&big, format!("{head}{}", " ".repeat((1 << 20) - head.len()))).expect("write");
    let f = CredentialsFile::load(&big).expect("1 MiB exactly loads");
    assert_eq!(f.api_token().as_ref().map(Token::expose), Some("ot_pat_big"));

    let not_a_dir = dir.path().join("plain");
    fs::write(&not_a_dir, "x").expect("write");
    let err = CredentialsFile::load(not_a_dir.join("cli.json")).expect_err("unreachable path");
    assert!(err.to_string().contains("plain"), "{err}");
}

/// The file is read only when it can still supply something: a token in code with no base URL
/// anywhere takes the file's base URL, and a token plus a base URL from code or the environment
/// never open it (a corrupt file then cannot fail the call).
#[test]
fn the_file_is_read_exactly_when_it_can_supply_something() {
    let dir = tempfile::tempdir().expect("tmp");
    let xdg = dir.path().to_str().expect("utf8");
    write_file(dir.path(), r#"{"apiToken":"ot_pat_file","baseUrl":"http://file.example"}"#);
    let got = Resolver::CLI
        .resolve_with(Some(Token::new("ot_pat_code")), None, env(&[("XDG_CONFIG_HOME", xdg)]))
        .expect("token in code");
    assert_eq!(
        (got.base_url.as_str(), got.token.as_ref().map(Token::expose)),
        ("http://file.example", Some("ot_pat_code"))
    );

    write_file(dir.path(), "{ this is not json");
    let from_env =
        env(&[("XDG_CONFIG_HOME", xdg), ("OT_API_TOKEN", "ot_pat_env"), ("OT_API_BASE_URL", "http://env.example")]);
    let got = Resolver::CLI.resolve_with(None, None, from_env).expect("token and base URL from the environment");
    assert_eq!(got.base_url, "http://env.example");
    let base_from_env = env(&[("XDG_CONFIG_HOME", xdg), ("OT_API_BASE_URL", "http://env.example")]);
    let got = Resolver::CLI
        .resolve_with(Some(Token::new("ot_pat_code")), None, base_from_env)
        .expect("token in code, base URL from the environment");
    assert_eq!(got.base_url, "http://env.example");
}

/// What a sandbox clears: every token and base-URL variable either face reads.
#[test]
fn every_variable_a_face_reads_is_listed() {
    let tokens: Vec<&str> = Resolver::all_token_vars().collect();
    assert_eq!(tokens, ["OPENTRAIN_PERSONAL_API_TOKEN", "OT_API_TOKEN", "OPENTRAIN_API_TOKEN"]);
    let urls: Vec<&str> = Resolver::all_base_url_vars().collect();
    assert!(["OPENTRAIN_API_BASE_URL", "OT_API_BASE_URL"].iter().all(|v| urls.contains(v)), "{urls:?}");
}

/// `lock` re-reads the file under the lock: a token another process saved meanwhile is seen,
/// and a value set on the handle reads back at once, before any save.
#[test]
fn lock_rereads_the_file_and_a_set_value_reads_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write_file(dir.path(), r#"{"apiToken":"ot_pat_before"}"#);
    let mut f = CredentialsFile::load(&path).expect("load");
    fs::write(&path, r#"{"apiToken":"ot_pat_meanwhile"}"#).expect("another writer");
    f.lock().expect("lock");
    assert_eq!(f.api_token().as_ref().map(Token::expose), Some("ot_pat_meanwhile"));
    f.set_claim_token(Some(&Token::new("ot_clm_set")));
    assert_eq!(f.claim_token().as_ref().map(Token::expose), Some("ot_clm_set"));
}

/// Deleting reports a failure other than "already gone" instead of claiming nothing was there.
#[test]
fn delete_reports_a_path_it_cannot_remove() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("cli.json");
    let mut f = CredentialsFile::load(&path).expect("missing file is empty");
    fs::create_dir(&path).expect("a directory where the file was");
    let err = f.delete().expect_err("a directory is not removed as a file").to_string();
    assert!(err.contains("cannot delete") && err.contains("cli.json"), "{err}");
}
