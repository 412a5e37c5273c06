//! User input beyond plain flags: `--set field=value` checked against the spec, text from files
//! or stdin, and the 0600 files that receive secrets the CLI never prints.

use std::{
    fs,
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use serde_json::{Map, Number, Value};

use super::{Failure, args::FieldEdits};
use opentrain::generated::meta::{OperationId, REQUEST_FIELDS};

/// The top-level body fields `op` accepts according to the spec, with their JSON types.
pub fn body_fields(op: OperationId) -> &'static [(&'static str, &'static str)] {
    REQUEST_FIELDS.iter().find(|(id, _)| *id == op.id()).map(|(_, f)| *f).unwrap_or_default()
}

/// Builds the PATCH body of `op` from `--set` edits and `--description-file`.
///
/// Keys must be fields of the spec's body schema (`JobFieldPatch`); a value is read according to
/// the field's type: numbers must parse as numbers, arrays take JSON or a comma list, and fields
/// the spec leaves untyped take any JSON value (`true`, `3`, `{"a":1}`) or else a plain string.
pub fn field_patch(op: OperationId, edits: &FieldEdits) -> Result<Map<String, Value>, Failure> {
    let fields = body_fields(op);
    let mut patch = Map::new();
    for item in &edits.set {
        let Some((key, raw)) = item.split_once('=') else {
            return Err(Failure::Usage(format!("--set {item:?} must look like FIELD=VALUE")));
        };
        let key = key.trim();
        let Some((_, ty)) = fields.iter().find(|(f, _)| *f == key) else {
            let accepted: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
            return Err(Failure::Usage(format!(
                "--set: the job draft has no field `{key}`; accepted fields: {}",
                accepted.join(", ")
            )));
        };
        let value = parse_value(key, ty, raw)?;
        if patch.insert(key.to_string(), value).is_some() {
            return Err(Failure::Usage(format!("--set: field `{key}` is set twice")));
        }
    }
    if let Some(path) = &edits.description_file {
        if patch.contains_key("jobDescription") {
            return Err(Failure::Usage("give jobDescription either with --set or with --description-file".into()));
        }
        patch.insert("jobDescription".into(), Value::String(read_text(path)?));
    }
    Ok(patch)
}

/// Reads one `--set` value as the spec's type for that field.
pub fn parse_value(key: &str, ty: &str, raw: &str) -> Result<Value, Failure> {
    let bad = |what: &str| Failure::Usage(format!("--set {key}={raw}: {key} takes {what}"));
    let json = serde_json::from_str::<Value>(raw.trim());
    Ok(match ty {
        "string" => Value::String(raw.to_string()),
        "number" => Value::Number(raw.trim().parse::<Number>().map_err(|_| bad("a number"))?),
        "integer" => match json {
            Ok(Value::Number(n)) if n.is_i64() || n.is_u64() => Value::Number(n),
            _ => return Err(bad("an integer")),
        },
        "boolean" => match raw.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("true or false")),
        },
        "array" => match json {
            Ok(Value::Array(a)) => Value::Array(a),
            _ if raw.trim_start().starts_with('[') => return Err(bad("a JSON array or a comma-separated list")),
            _ => Value::Array(
                raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect(),
            ),
        },
        "object" => match json {
            Ok(Value::Object(o)) => Value::Object(o),
            _ => return Err(bad("a JSON object")),
        },
        // Untyped in the spec: whatever JSON the value spells, else the text itself.
        _ => json.unwrap_or_else(|_| Value::String(raw.to_string())),
    })
}

/// A flag's number as JSON, whole numbers without a fraction (`10`, not `10.0`).
pub fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        Value::from(x as i64)
    } else {
        Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// The most a file input (`--description-file`, `-` for stdin) may hold. A job description
/// is at most 60,000 characters; a larger input is a wrong file or a device like `/dev/zero`,
/// which would otherwise be read until memory runs out.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// The text of a file, or of stdin for `-`, refusing more than [`MAX_INPUT_BYTES`] without
/// reading past the limit.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    read_capped(path, MAX_INPUT_BYTES)
}

fn read_capped(path: &Path, max: u64) -> Result<String, Failure> {
    let fail = |e: io::Error| Failure::Usage(format!("cannot read {}: {e}", path.display()));
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(fs::File::open(path).map_err(fail)?)
    };
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it".
    reader.take(max + 1).read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() as u64 > max {
        return Err(Failure::Usage(format!(
            "{} is larger than the {} MiB limit for file inputs",
            path.display(),
            max / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::Usage(format!("cannot read {}: it is not UTF-8 text", path.display())))
}

/// A file created before a request that returns a secret, so the secret has somewhere to go
/// before the API is asked for it (it is shown only once). Removed again unless [`Self::keep`].
pub struct SecretFile {
    path: PathBuf,
    file: Option<fs::File>,
}

impl SecretFile {
    /// Creates `path`, which must not exist yet, with mode 0600.
    pub fn create(path: &Path) -> Result<Self, Failure> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|e| {
            Failure::Usage(format!("--secret-file {}: cannot create it ({e}); give a new file", path.display()))
        })?;
        Ok(Self { path: path.to_path_buf(), file: Some(file) })
    }

    /// Writes the secret and keeps the file.
    pub fn keep(mut self, secret: &str) -> Result<PathBuf, Failure> {
        let fail = |e: io::Error| Failure::Local(format!("cannot write the secret to {}: {e}", self.path.display()));
        if let Some(mut f) = self.file.take() {
            f.write_all(secret.as_bytes())
                .and_then(|()| f.write_all(b"\n"))
                .and_then(|()| f.sync_all())
                .map_err(fail)?;
        }
        Ok(self.path.clone())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        // Still open means the secret never arrived: do not leave an empty file behind.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn edits(set: &[&str]) -> FieldEdits {
        FieldEdits { set: set.iter().map(|s| s.to_string()).collect(), description_file: None }
    }

    #[test]
    fn values_follow_the_spec_types() {
        let patch = field_patch(
            OperationId::UpdateJobDraft,
            &edits(&[
                "jobTitle=123",
                "headcount=3",
                "pricePerLabel=0.05",
                "languages=Spanish, English",
                "countries=[\"US\"]",
                "visibility=true",
                "budgetRange={\"min\":1}",
                "workloadDesc=part time",
            ]),
        )
        .expect("valid");
        assert_eq!(
            Value::Object(patch),
            json!({
                "jobTitle": "123", "headcount": 3, "pricePerLabel": 0.05, "languages": ["Spanish", "English"],
                "countries": ["US"], "visibility": true, "budgetRange": {"min": 1}, "workloadDesc": "part time"
            })
        );
    }

    #[test]
    fn unknown_keys_list_the_accepted_ones() {
        let Err(Failure::Usage(msg)) = field_patch(OperationId::UpdateJobDraft, &edits(&["title=x"])) else {
            panic!("unknown key accepted")
        };
        assert!(msg.contains("no field `title`") && msg.contains("jobTitle") && msg.contains("headcount"), "{msg}");
        assert!(matches!(
            field_patch(OperationId::UpdateJobDraft, &edits(&["headcount=three"])),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(field_patch(OperationId::UpdateJobDraft, &edits(&["headcount"])), Err(Failure::Usage(_))));
    }

    #[test]
    fn inputs_over_the_cap_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let at = dir.path().join("in.txt");
        std::fs::write(&at, "abcd").expect("write");
        assert_eq!(read_capped(&at, 4).ok(), Some("abcd".to_string()));
        let Err(Failure::Usage(msg)) = read_capped(&at, 3) else { panic!("over the cap accepted") };
        assert!(msg.contains("in.txt"), "{msg}");
    }

    #[test]
    fn whole_numbers_have_no_fraction() {
        assert_eq!(number(10.0), json!(10));
        assert_eq!(number(12.5), json!(12.5));
    }
}
