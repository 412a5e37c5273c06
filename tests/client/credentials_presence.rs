//! `CredentialsFile::exists` tells a file that is not there yet from one loaded or just saved:
//! a caller can tell "nothing saved yet" from an empty file.

use opentrain::{CredentialsFile, Token};

#[test]
fn exists_is_false_until_the_file_is_saved_and_true_when_loaded_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("opentrain").join("cli.json");
    let mut f = CredentialsFile::load(&path).expect("a missing file loads empty");
    assert!(!f.exists(), "nothing is saved yet");
    f.set_api_token(Some(&Token::new("ot_pat_presence_secret")));
    f.save().expect("save");
    assert!(f.exists(), "saved just now");
    assert!(CredentialsFile::load(&path).expect("load").exists(), "found on disk");
}
