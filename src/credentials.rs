//! The shared `cli.json` credentials file and the token / base-URL precedence rules.
//!
//! The official CLI and MCP server keep `{apiToken, baseUrl, claimToken}` in
//! `${XDG_CONFIG_HOME:-~/.config}/opentrain/cli.json`; this module reads and writes the same file,
//! keeping keys it does not know, writing atomically with mode 0600.

use std::{
    fmt, fs,
    io::Write,
    path::{Path, PathBuf},
};

use serde_json::{Map, Value};

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
    /// [`redact`](crate::redact), so it is masked wherever this process would print it.
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

/// The `cli.json` file: its path and its JSON object, unknown keys included.
///
/// ```no_run
/// # fn f() -> opentrain::Result<()> {
/// let mut file = opentrain::CredentialsFile::load_default()?;
/// file.set_api_token(Some(&opentrain::Token::new("ot_pat_new")));
/// file.save()?; // atomic, mode 0600
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CredentialsFile {
    path: PathBuf,
    data: Map<String, Value>,
    exists: bool,
}

impl fmt::Debug for CredentialsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsFile")
            .field("path", &self.path)
            .field("api_token", &self.api_token())
            .field("base_url", &self.base_url())
            .field("claim_token", &self.claim_token())
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

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ConfigError + 'a {
    move |source| ConfigError::Io { action, path: path.to_path_buf(), source }
}

impl CredentialsFile {
    /// Reads the file at `path`; a missing file is an empty one (not yet saved).
    ///
    /// A file that is not a JSON object, or whose known keys are not strings, is an error naming
    /// the path; nothing is ever written over it.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self { path, data: Map::new(), exists: false });
            }
            Err(e) => return Err(io("cannot read", &path)(e).into()),
        };
        let corrupt = |reason: String| ConfigError::CorruptCredentials { path: path.clone(), reason };
        let value: Value = serde_json::from_str(&text).map_err(|e| corrupt(format!("not valid JSON ({e})")))?;
        let Value::Object(data) = value else {
            return Err(corrupt("not a JSON object".into()).into());
        };
        for key in ["apiToken", "baseUrl", "claimToken"] {
            if let Some(v) = data.get(key)
                && !(v.is_string() || v.is_null())
            {
                return Err(corrupt(format!("`{key}` is not a string")).into());
            }
        }
        Ok(Self { path, data, exists: true })
    }

    /// Reads the file at the default path.
    pub fn load_default() -> Result<Self> {
        Self::load(default_path()?)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file existed when loaded (or has been saved since).
    pub fn exists(&self) -> bool {
        self.exists
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key)?.as_str().filter(|s| !s.trim().is_empty())
    }

    fn set(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.data.insert(key.into(), Value::String(v.to_string())),
            None => self.data.remove(key),
        };
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

    /// Writes the file atomically: a 0600 temp file in the same directory, fsync, rename.
    /// The directory is created 0700 when missing. A crash leaves the old file or the new one,
    /// never a torn one.
    pub fn save(&mut self) -> Result<()> {
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let mut body = serde_json::to_vec_pretty(&self.data)
            .map_err(|e| ConfigError::Invalid { what: "credentials", reason: e.to_string() })?;
        body.push(b'\n');
        let mut builder = tempfile::Builder::new();
        builder.prefix(".cli.json.").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o600));
        }
        let mut tmp = builder.tempfile_in(dir).map_err(io("cannot create a temporary file in", dir))?;
        tmp.write_all(&body).map_err(io("cannot write", tmp.path()))?;
        tmp.as_file().sync_all().map_err(io("cannot sync", &self.path))?;
        tmp.persist(&self.path).map_err(|e| io("cannot replace", &self.path)(e.error))?;
        self.exists = true;
        Ok(())
    }

    /// Deletes the file; a missing file is not an error. Returns whether one was deleted.
    pub fn delete(&mut self) -> Result<bool> {
        self.data.clear();
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
