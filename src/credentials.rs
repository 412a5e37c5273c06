//! The shared `cli.json` credentials file and the token / base-URL precedence rules.
//!
//! The official CLI and MCP server keep `{apiToken, baseUrl, claimToken}` in
//! `${XDG_CONFIG_HOME:-~/.config}/opentrain/cli.json`; this module reads and writes the same file,
//! keeping keys it does not know exactly as they were, writing atomically with mode 0600 under an
//! advisory lock shared by every process that writes it.

use std::{
    ffi::OsString,
    fmt, fs,
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

use serde_json::{Value, value::RawValue};

use crate::{
    error::{ConfigError, Result},
    redact::mask,
};

/// The API origin used when nothing else is configured.
pub const DEFAULT_BASE_URL: &str = "https://app.opentrain.ai";

/// A secret token (`ot_pat_...` or `ot_clm_...`). Debug and Display never show its value.
///
/// ```
/// let t = opentrain::Token::new("ot_pat_abc_secret");
/// assert_eq!(format!("{t:?}"), "Token(ot_pat_[redacted])");
/// assert_eq!(t.expose(), "ot_pat_abc_secret");
/// ```
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    /// Wraps a token value (surrounding whitespace is dropped). The value is remembered by
    /// [`redact`](crate::redact()), so it is masked wherever this process would print it.
    pub fn new(value: impl Into<String>) -> Self {
        let v: String = value.into();
        let v = v.trim().to_string();
        crate::redact::remember(&v);
        Token(v)
    }

    /// The secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

// Tokens arriving in responses (registration, the post-claim token) go through `new`, so they
// are remembered for masking like any other.
impl<'de> serde::Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Token::new)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", mask(&self.0))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(&self.0))
    }
}

/// Where a resolved token came from, so tools can say what they used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Passed in code (or on the command line).
    Explicit,
    /// An environment variable, named.
    Env(&'static str),
    /// The credentials file, with its path.
    File(PathBuf),
    /// The built-in default (base URL only).
    Default,
}

/// Keys in file order, each value exactly as written (big numbers keep every digit).
type Entries = Vec<(String, Box<RawValue>)>;

/// Keys this handle set (`Some`) or removed (`None`), in the order it did so.
type Changes = Vec<(String, Option<Box<RawValue>>)>;

/// The keys this module reads; each must be a string (or null) for the file to be usable.
const KNOWN_KEYS: [&str; 3] = ["apiToken", "baseUrl", "claimToken"];

/// A credentials file is a few hundred bytes; anything past this is refused rather than read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The `cli.json` file: its path and its JSON object, unknown keys included.
///
/// Reads never lock: the file is only ever replaced atomically, so a reader sees the old or the
/// new version. Writes take an exclusive advisory lock ([`CredentialsLock`]), re-read the file
/// under it and change only the keys this handle changed, so a key another process wrote
/// meanwhile survives. Unknown keys keep their order and their exact text.
///
/// ```no_run
/// # fn f() -> opentrain::Result<()> {
/// let mut file = opentrain::CredentialsFile::load_default()?;
/// file.set_api_token(Some(&opentrain::Token::new("ot_pat_new")));
/// file.save()?; // locked, atomic, mode 0600
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CredentialsFile {
    path: PathBuf,
    entries: Entries,
    /// The known keys' string values, parsed once so accessors can lend them.
    strings: Vec<(&'static str, String)>,
    changed: Changes,
    exists: bool,
    warnings: Vec<String>,
    lock: Option<Arc<CredentialsLock>>,
}

impl fmt::Debug for CredentialsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsFile")
            .field("path", &self.path)
            .field("api_token", &self.api_token())
            .field("base_url", &self.base_url())
            .field("claim_token", &self.claim_token())
            .field("locked", &self.lock.is_some())
            .finish()
    }
}

/// `${XDG_CONFIG_HOME:-$HOME/.config}/opentrain/cli.json`, read through `env`.
pub fn default_path_with(env: impl Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let base = match env("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(env("HOME").filter(|v| !v.is_empty()).ok_or(ConfigError::NoConfigDir)?).join(".config"),
    };
    Ok(base.join("opentrain").join("cli.json"))
}

/// The default credentials path from the process environment.
pub fn default_path() -> Result<PathBuf> {
    default_path_with(process_env)
}

pub(crate) fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// The environment credentials are resolved from: the process's, with some variables replaced
/// or removed, never by mutating the process environment (which is unsound once threads run).
///
/// `--sandbox` uses it to point a binary at the sandbox: config directory, base URL and no token.
///
/// ```
/// use opentrain::credentials::Env;
/// let env = Env::process().set("XDG_CONFIG_HOME", "/tmp/sandbox").remove("OT_API_TOKEN");
/// assert_eq!(env.get("XDG_CONFIG_HOME").as_deref(), Some("/tmp/sandbox"));
/// assert_eq!(env.get("OT_API_TOKEN"), None);
/// assert!(env.credentials_path().unwrap().ends_with("sandbox/opentrain/cli.json"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Env {
    overrides: std::collections::BTreeMap<String, Option<String>>,
}

impl Env {
    /// The process environment as it is.
    pub fn process() -> Self {
        Self::default()
    }

    /// `key` reads as `value`.
    pub fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        self.overrides.insert(key.to_string(), Some(value.into()));
        self
    }

    /// `key` reads as unset.
    pub fn remove(mut self, key: &str) -> Self {
        self.overrides.insert(key.to_string(), None);
        self
    }

    /// The value of `key`: an override, else the process's.
    pub fn get(&self, key: &str) -> Option<String> {
        match self.overrides.get(key) {
            Some(v) => v.clone(),
            None => process_env(key),
        }
    }

    /// Whether `key` is set to something other than blanks.
    pub fn is_set(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| !v.trim().is_empty())
    }

    /// `cli.json` under this environment's config directory.
    pub fn credentials_path(&self) -> Result<PathBuf> {
        default_path_with(|k| self.get(k))
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ConfigError + 'a {
    move |source| ConfigError::Io { action, path: path.to_path_buf(), source }
}

type WarningHook = Box<dyn Fn(&str) + Send + Sync>;
static WARNING_HOOK: OnceLock<WarningHook> = OnceLock::new();
static WARNED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Routes the credentials file's warnings (today: a file other users can read) to `hook`
/// instead of standard error. Only the first call in a process takes effect; returns whether
/// this one did. Each warning reaches the hook once per file per process.
pub fn set_warning_hook(hook: impl Fn(&str) + Send + Sync + 'static) -> bool {
    WARNING_HOOK.set(Box::new(hook)).is_ok()
}

fn warn_once(path: &Path, message: &str) {
    // A poisoned list only means another thread panicked mid-push: warning twice is harmless.
    let first = WARNED.lock().map_or(true, |mut seen| {
        let first = !seen.iter().any(|p| p == path);
        if first {
            seen.push(path.to_path_buf());
        }
        first
    });
    if first {
        match WARNING_HOOK.get() {
            Some(hook) => hook(message),
            None => eprintln!("warning: {message}"),
        }
    }
}

/// Collects an object's members in file order with their values' exact text.
struct Ordered(Entries);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Ordered, A::Error> {
                let mut entries = Entries::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    // A repeated key keeps its first position and its last value, as JSON readers do.
                    apply(&mut entries, &[(k, Some(v))]);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(Members)
    }
}

fn apply(entries: &mut Entries, changes: &[(String, Option<Box<RawValue>>)]) {
    for (key, value) in changes {
        let at = entries.iter().position(|(k, _)| k == key);
        match (at, value) {
            (Some(i), Some(v)) => entries[i].1 = v.clone(),
            (None, Some(v)) => entries.push((key.clone(), v.clone())),
            (Some(i), None) => {
                entries.remove(i);
            }
            (None, None) => {}
        }
    }
}

/// Pretty-printed like before, but each value is written back byte for byte.
fn render(entries: &Entries) -> Vec<u8> {
    let mut out = String::from("{");
    for (i, (k, v)) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&Value::String(k.clone()).to_string());
        out.push_str(": ");
        out.push_str(v.get());
    }
    out.push_str(if entries.is_empty() { "}\n" } else { "\n}\n" });
    out.into_bytes()
}

#[cfg(unix)]
fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn file_kind(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() { "a directory" } else { "not a regular file" }
}

#[cfg(unix)]
fn permission_warning(path: &Path, meta: &fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "Permissions {mode:04o} for '{p}' are too open: other users of this machine can read the API tokens in \
             it. Fix with: chmod 600 '{p}'",
            p = path.display()
        )
    })
}

#[cfg(not(unix))]
fn permission_warning(_: &Path, _: &fs::Metadata) -> Option<String> {
    None
}

/// What one read of the file found: its members and any warning about it.
struct Snapshot {
    entries: Entries,
    warnings: Vec<String>,
}

/// Reads the file at `path` (following a symlink); `None` when it does not exist.
///
/// Only a regular file is opened: a FIFO at the path would block the read forever (and with it
/// whatever thread runs it), so anything else is an error naming the path.
fn read_snapshot(path: &Path) -> Result<Option<Snapshot>> {
    let corrupt = |reason: String| ConfigError::CorruptCredentials { path: path.to_path_buf(), reason };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("cannot read", path)(e).into()),
    };
    if !meta.is_file() {
        return Err(corrupt(format!("not a regular file ({})", file_kind(&meta))).into());
    }
    let file = fs::File::open(path).map_err(io("cannot read", path))?;
    // The path may have been replaced between the check and the open.
    let meta = file.metadata().map_err(io("cannot read", path))?;
    if !meta.is_file() {
        return Err(corrupt(format!("not a regular file ({})", file_kind(&meta))).into());
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text).map_err(io("cannot read", path))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(corrupt(format!("larger than {} KiB", MAX_FILE_BYTES / 1024)).into());
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| corrupt(format!("not valid JSON ({e})")))?;
    let Value::Object(data) = value else {
        return Err(corrupt("not a JSON object".into()).into());
    };
    for key in KNOWN_KEYS {
        if let Some(v) = data.get(key)
            && !(v.is_string() || v.is_null())
        {
            return Err(corrupt(format!("`{key}` is not a string")).into());
        }
    }
    let Ordered(entries) = serde_json::from_str(&text).map_err(|e| corrupt(format!("not valid JSON ({e})")))?;
    let warnings: Vec<String> = permission_warning(path, &meta).into_iter().collect();
    for w in &warnings {
        warn_once(path, w);
    }
    Ok(Some(Snapshot { entries, warnings }))
}

/// The file a write replaces: the final target when `path` is a symlink, so the link (a dotfile
/// manager's, say) stays in place and keeps pointing at current credentials.
fn write_target(path: &Path) -> Result<PathBuf> {
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&target).map_err(io("cannot read the link", &target))?;
                // A relative link is relative to the directory holding it; `join` keeps an absolute one.
                target = target.parent().map_or_else(|| link.clone(), |dir| dir.join(&link));
            }
            _ => return Ok(target),
        }
    }
    Err(io("cannot resolve", path)(std::io::Error::other("too many levels of symbolic links")).into())
}

/// Writes `body` over `target` atomically: a 0600 temp file in the target's own directory
/// (a rename only replaces atomically within one file system), fsync, rename.
fn write_atomic(target: &Path, body: &[u8]) -> Result<()> {
    let dir = own_dir(target);
    create_private_dir(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".cli.json.").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io("cannot create a temporary file in", dir))?;
    tmp.write_all(body).map_err(io("cannot write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(io("cannot sync", target))?;
    tmp.persist(target).map_err(|e| io("cannot replace", target)(e.error))?;
    Ok(())
}

/// The directory `target` sits in: `.` for a bare file name, whose parent is empty.
fn own_dir(target: &Path) -> &Path {
    target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Runs file work on tokio's blocking pool, so the runtime's thread (the MCP server has only
/// one) keeps answering while a disk is slow or another process holds the lock.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        crate::Error::from(ConfigError::Io {
            action: "cannot finish the credentials file work for",
            path: PathBuf::from("cli.json"),
            source: std::io::Error::other(e.to_string()),
        })
    })?
}

/// An exclusive advisory lock over a credentials file's read-modify-writes, released on drop.
///
/// It is taken on a sidecar `<name>.lock` file next to the credentials file, never on the file
/// itself: a save replaces the file by rename, and a lock on the old inode would not exclude a
/// process that opens the new one. Every writer in this crate takes it; readers do not need to.
#[derive(Debug)]
pub struct CredentialsLock {
    // Closing the descriptor releases the lock; the lock file itself stays (deleting it would
    // let two processes lock two different inodes).
    _file: fs::File,
}

impl CredentialsLock {
    /// The sidecar lock file for `credentials`: `cli.json` → `cli.json.lock`.
    pub fn path_for(credentials: &Path) -> PathBuf {
        let mut name = credentials.file_name().map(OsString::from).unwrap_or_else(|| OsString::from("cli.json"));
        name.push(".lock");
        credentials.with_file_name(name)
    }

    /// Blocks until this process holds the lock for `credentials` (creating its 0700 directory
    /// and the 0600 lock file when missing). A second acquire in the same process waits too.
    pub fn acquire(credentials: &Path) -> Result<Self> {
        let path = Self::path_for(credentials);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io("cannot open the lock file", &path))?;
        fs4::fs_std::FileExt::lock_exclusive(&file).map_err(io("cannot lock", &path))?;
        Ok(Self { _file: file })
    }
}

impl CredentialsFile {
    fn from_snapshot(path: PathBuf, snapshot: Option<Snapshot>) -> Self {
        let mut file = Self {
            path,
            entries: Entries::new(),
            strings: Vec::new(),
            changed: Changes::new(),
            exists: false,
            warnings: Vec::new(),
            lock: None,
        };
        file.adopt(snapshot);
        file
    }

    /// Takes `snapshot` as the file's current content, with this handle's unsaved changes on top.
    fn adopt(&mut self, snapshot: Option<Snapshot>) {
        match snapshot {
            Some(s) => {
                self.entries = s.entries;
                self.warnings = s.warnings;
                self.exists = true;
            }
            None => {
                self.entries.clear();
                self.exists = false;
            }
        }
        apply(&mut self.entries, &self.changed);
        self.reindex();
    }

    fn reindex(&mut self) {
        self.strings = KNOWN_KEYS
            .iter()
            .filter_map(|k| {
                let raw = &self.entries.iter().find(|(e, _)| e == k)?.1;
                let s = serde_json::from_str::<Option<String>>(raw.get()).ok().flatten()?;
                Some((*k, s))
            })
            .collect();
    }

    /// Reads the file at `path`; a missing file is an empty one (not yet saved).
    ///
    /// A file that is not a JSON object, whose known keys are not strings, or that is not a
    /// regular file (a FIFO, a directory, a device) is an error naming the path; nothing is
    /// ever written over it. A file other users can read loads, with a warning in
    /// [`warnings`](Self::warnings) (also reported once per process: see [`set_warning_hook`]).
    pub fn load(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let snapshot = read_snapshot(&path)?;
        Ok(Self::from_snapshot(path, snapshot))
    }

    /// [`load`](Self::load) on the blocking pool, for async code.
    pub async fn load_async(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        off_runtime(move || Self::load(path)).await
    }

    /// Reads the file at the default path.
    pub fn load_default() -> Result<Self> {
        Self::load(default_path()?)
    }

    /// Takes the exclusive lock (waiting for other writers) and re-reads the file under it.
    /// Until [`unlock`](Self::unlock) or drop, every other writer waits, so a check made on this
    /// handle stays true through a network call and the save that follows.
    pub fn lock(&mut self) -> Result<()> {
        if self.lock.is_none() {
            let lock = CredentialsLock::acquire(&self.path)?;
            let snapshot = read_snapshot(&self.path)?;
            self.lock = Some(Arc::new(lock));
            self.adopt(snapshot);
        }
        Ok(())
    }

    /// [`lock`](Self::lock) on the blocking pool, for async code.
    pub async fn lock_async(&mut self) -> Result<()> {
        if self.lock.is_none() {
            let path = self.path.clone();
            let (lock, snapshot) = off_runtime(move || {
                let lock = CredentialsLock::acquire(&path)?;
                Ok((lock, read_snapshot(&path)?))
            })
            .await?;
            self.lock = Some(Arc::new(lock));
            self.adopt(snapshot);
        }
        Ok(())
    }

    /// Releases the lock (once no clone of this handle holds it either).
    pub fn unlock(&mut self) {
        self.lock = None;
    }

    /// Whether this handle holds the lock.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file existed when loaded (or has been saved since).
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// Problems worth telling the user about that did not stop the load, such as
    /// "Permissions 0644 for '…/cli.json' are too open".
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.strings.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str()).filter(|s| !s.trim().is_empty())
    }

    fn set(&mut self, key: &str, value: Option<&str>) {
        let raw = match value {
            // A string always serializes; the fallback only keeps this free of `unwrap`.
            Some(v) => match serde_json::value::to_raw_value(v) {
                Ok(raw) => Some(raw),
                Err(_) => return,
            },
            None => None,
        };
        self.changed.retain(|(k, _)| k != key);
        self.changed.push((key.to_string(), raw));
        apply(&mut self.entries, &self.changed[self.changed.len() - 1..]);
        self.reindex();
    }

    /// `apiToken`.
    pub fn api_token(&self) -> Option<Token> {
        self.get("apiToken").map(Token::new)
    }

    /// `baseUrl`.
    pub fn base_url(&self) -> Option<&str> {
        self.get("baseUrl")
    }

    /// `claimToken`, present between registration and a completed claim.
    pub fn claim_token(&self) -> Option<Token> {
        self.get("claimToken").map(Token::new)
    }

    /// Sets or removes `apiToken`.
    pub fn set_api_token(&mut self, token: Option<&Token>) {
        self.set("apiToken", token.map(Token::expose));
    }

    /// Sets or removes `baseUrl`.
    pub fn set_base_url(&mut self, url: Option<&str>) {
        self.set("baseUrl", url);
    }

    /// Sets or removes `claimToken`.
    pub fn set_claim_token(&mut self, token: Option<&Token>) {
        self.set("claimToken", token.map(Token::expose));
    }

    /// Saves this handle's changes: under the lock (taken for the save unless held), the file is
    /// re-read and only the keys set or removed through this handle are changed, so what another
    /// process wrote since the load survives. Then an atomic write: a 0600 temp file beside the
    /// file (beside a symlink's target, which is replaced and the link kept), fsync, rename. The
    /// directory is created 0700 when missing. A crash leaves the old file or the new one, never
    /// a torn one; a file that became unusable meanwhile is an error and is left alone.
    pub fn save(&mut self) -> Result<()> {
        let _held = match self.lock {
            Some(_) => None,
            None => Some(CredentialsLock::acquire(&self.path)?),
        };
        let target = write_target(&self.path)?;
        let mut entries = read_snapshot(&self.path)?.map(|s| s.entries).unwrap_or_default();
        apply(&mut entries, &self.changed);
        write_atomic(&target, &render(&entries))?;
        self.entries = entries;
        self.changed.clear();
        self.exists = true;
        self.reindex();
        Ok(())
    }

    /// [`save`](Self::save) on the blocking pool, for async code.
    pub async fn save_async(&mut self) -> Result<()> {
        let mut copy = self.clone();
        *self = off_runtime(move || copy.save().map(|()| copy)).await?;
        Ok(())
    }

    /// Deletes the file (under the lock); a missing file is not an error. Returns whether one
    /// was deleted.
    pub fn delete(&mut self) -> Result<bool> {
        let _held = match self.lock {
            Some(_) => None,
            None => Some(CredentialsLock::acquire(&self.path)?),
        };
        self.entries.clear();
        self.changed.clear();
        self.strings.clear();
        self.exists = false;
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("cannot delete", &self.path)(e).into()),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(io("cannot create directory", dir))?;
    Ok(())
}

/// Which environment variables a front end reads, highest priority first.
///
/// The library and the MCP server use [`Resolver::MCP`]; the CLI uses [`Resolver::CLI`].
#[derive(Clone, Copy, Debug)]
pub struct Resolver {
    /// Token variables.
    pub token_vars: &'static [&'static str],
    /// Base-URL variables.
    pub base_url_vars: &'static [&'static str],
    /// When a token variable is set, the file is not read at all (the MCP server's rule).
    pub env_token_skips_file: bool,
}

impl Resolver {
    /// The official MCP server's rules, also the library's: `OPENTRAIN_PERSONAL_API_TOKEN` wins
    /// outright (the file is not read), base URL from `OPENTRAIN_API_BASE_URL`.
    pub const MCP: Resolver = Resolver {
        token_vars: &["OPENTRAIN_PERSONAL_API_TOKEN"],
        base_url_vars: &["OPENTRAIN_API_BASE_URL"],
        env_token_skips_file: true,
    };

    /// The official CLI's rules: `OT_API_TOKEN`, then `OPENTRAIN_API_TOKEN`; base URL from
    /// `OT_API_BASE_URL`, then `OPENTRAIN_API_BASE_URL`.
    pub const CLI: Resolver = Resolver {
        token_vars: &["OT_API_TOKEN", "OPENTRAIN_API_TOKEN"],
        base_url_vars: &["OT_API_BASE_URL", "OPENTRAIN_API_BASE_URL"],
        env_token_skips_file: false,
    };

    /// Resolves from the process environment and the default file.
    pub fn resolve(&self, explicit_token: Option<Token>, explicit_base_url: Option<&str>) -> Result<Resolved> {
        self.resolve_with(explicit_token, explicit_base_url, process_env)
    }

    /// Resolves from `env` and the file it locates.
    pub fn resolve_in(
        &self,
        env: &Env,
        explicit_token: Option<Token>,
        explicit_base_url: Option<&str>,
    ) -> Result<Resolved> {
        self.resolve_with(explicit_token, explicit_base_url, |k| env.get(k))
    }

    /// Every token variable any front end reads, the library's first: what a sandbox clears so
    /// that a real token can never reach it.
    pub fn all_token_vars() -> impl Iterator<Item = &'static str> {
        Self::MCP.token_vars.iter().chain(Self::CLI.token_vars).copied()
    }

    /// Every base-URL variable any front end reads.
    pub fn all_base_url_vars() -> impl Iterator<Item = &'static str> {
        Self::MCP.base_url_vars.iter().chain(Self::CLI.base_url_vars).copied()
    }

    /// Resolves with `env` standing in for the process environment (tests, embedding).
    ///
    /// Token: explicit, then the token variables, then `apiToken` in the file, else none.
    /// Base URL: explicit, then the base-URL variables, then `baseUrl` in the file, then
    /// [`DEFAULT_BASE_URL`].
    pub fn resolve_with(
        &self,
        explicit_token: Option<Token>,
        explicit_base_url: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Resolved> {
        let non_empty = |k: &'static str| env(k).filter(|v| !v.trim().is_empty()).map(|v| (k, v));
        let env_token = self.token_vars.iter().find_map(|k| non_empty(k));
        let env_base = self.base_url_vars.iter().find_map(|k| non_empty(k));

        let skip_file = explicit_token.is_some() && explicit_base_url.is_some()
            || (self.env_token_skips_file && env_token.is_some())
            || (explicit_token.is_some() || env_token.is_some()) && (explicit_base_url.is_some() || env_base.is_some());
        let file = if skip_file { None } else { Some(CredentialsFile::load(default_path_with(&env)?)?) };

        let (token, token_source) = match (explicit_token, env_token) {
            (Some(t), _) => (Some(t), Some(Source::Explicit)),
            (None, Some((k, v))) => (Some(Token::new(v)), Some(Source::Env(k))),
            (None, None) => match file.as_ref().and_then(|f| f.api_token().map(|t| (t, f.path().to_path_buf()))) {
                Some((t, p)) => (Some(t), Some(Source::File(p))),
                None => (None, None),
            },
        };
        let (base_url, base_url_source) = match (explicit_base_url, env_base) {
            (Some(u), _) => (u.to_string(), Source::Explicit),
            (None, Some((k, v))) => (v, Source::Env(k)),
            (None, None) => {
                match file.as_ref().and_then(|f| f.base_url().map(|u| (u.to_string(), f.path().to_path_buf()))) {
                    Some((u, p)) => (u, Source::File(p)),
                    None => (DEFAULT_BASE_URL.to_string(), Source::Default),
                }
            }
        };
        Ok(Resolved { token, token_source, base_url: normalize_base_url(&base_url)?, base_url_source })
    }
}

/// Checks a base URL and drops trailing slashes, so paths join cleanly.
pub fn normalize_base_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ConfigError::Invalid { what: "base URL", reason: format!("{url:?}: {e}") })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError::Invalid { what: "base URL", reason: format!("{url:?}: must be http or https") }.into());
    }
    Ok(url.to_string())
}

/// A resolved token and base URL, with where each came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The token, if any source had one.
    pub token: Option<Token>,
    /// Where the token came from.
    pub token_source: Option<Source>,
    /// The API origin, without a trailing slash.
    pub base_url: String,
    /// Where the base URL came from.
    pub base_url_source: Source,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The temporary file goes beside its target, or the rename could cross file systems.
    #[test]
    fn the_temporary_file_goes_in_the_targets_own_directory() {
        assert_eq!(own_dir(Path::new("/home/a/.config/opentrain/cli.json")), Path::new("/home/a/.config/opentrain"));
        assert_eq!(own_dir(Path::new("sub/cli.json")), Path::new("sub"));
        assert_eq!(own_dir(Path::new("cli.json")), Path::new("."));
    }
}
