//! cli.json precedence, atomic 0600 writes, unknown keys, corrupt files.

use std::{collections::HashMap, fs, os::unix::fs::PermissionsExt, path::Path};

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
    let leftovers: Vec<_> =
        fs::read_dir(path.parent().expect("dir")).expect("ls").filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("cli.json")], "no temp file left behind");
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
    assert!(f.delete().expect("delete"));
    assert!(!path.exists());
    assert!(!f.delete().expect("second delete is fine"));
}
