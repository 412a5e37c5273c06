//! `--jq EXPR`: jq filters over the JSON output, run by jaq (the jq language in Rust), so a
//! script needs no `jq` installed and no second process.
//!
//! The filter is compiled once, before any request, so a typo is a usage error that costs
//! nothing; it then runs on each JSON value the command would print (a response, each page of
//! `--all`, or each item with `--format ndjson`).

use jaq_core::{
    Compiler, Ctx, Vars, data,
    load::{Arena, File, Loader},
    unwrap_valr,
};
use jaq_json::Val;
use serde_json::Value;

/// What one input produced: each output of the filter, in order.
#[derive(Debug, PartialEq)]
pub enum Output {
    /// A string result, printed raw (as `jq -r` does): `--jq '.jobs[].id'` gives bare ids.
    Text(String),
    /// Any other result, printed as JSON.
    Json(Value),
}

/// A compiled filter, with the expression kept for error messages.
pub struct Jq {
    expr: String,
    filter: jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Jq").field(&self.expr).finish()
    }
}

/// Native filters a command's output has no business reaching: `env` would print the token
/// variables (`--jq 'env.OT_API_TOKEN'`), and `input`/`inputs` read nothing here.
const WITHHELD: &[&str] = &["env", "input", "inputs"];

impl Jq {
    /// Compiles `expr`; the error names the expression and what is wrong with it.
    pub fn compile(expr: &str) -> Result<Self, String> {
        let program = File { code: expr, path: () };
        let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let bad = |why: String| format!("--jq `{expr}` is not a valid jq filter: {why}");
        let modules = loader
            .load(&arena, program)
            .map_err(|errors| bad(errors.into_iter().map(|(_, e)| load_error(e)).collect::<Vec<_>>().join("; ")))?;
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs())
            .filter(|(name, ..)| !WITHHELD.contains(name));
        let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errors| {
            let names = errors
                .into_iter()
                .flat_map(|(_, undefined)| undefined)
                .map(|(name, kind)| format!("undefined {} `{name}`", kind.as_str()))
                .collect::<Vec<_>>();
            bad(names.join("; "))
        })?;
        Ok(Self { expr: expr.to_string(), filter })
    }

    /// Runs the filter on `input`; a runtime error (`.a` of a string, `error(...)`) names the
    /// expression.
    pub fn run(&self, input: &Value) -> Result<Vec<Output>, String> {
        let text = serde_json::to_vec(input).map_err(|e| e.to_string())?;
        let val = jaq_json::read::parse_single(&text).map_err(|e| format!("cannot read the response: {e}"))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        self.filter
            .id
            .run((ctx, val))
            .map(unwrap_valr)
            .map(|r| match r {
                Ok(v) => Ok(output(v)),
                Err(e) => Err(format!("--jq `{}` failed: {e}", self.expr)),
            })
            .collect()
    }
}

fn output(v: Val) -> Output {
    match &v {
        Val::TStr(b) | Val::BStr(b) => Output::Text(String::from_utf8_lossy(b).into_owned()),
        // jaq's values are a superset of JSON (NaN, byte strings, non-string keys): what JSON
        // cannot hold is printed as jaq writes it.
        _ => {
            let text = v.to_string();
            serde_json::from_str(&text).map_or(Output::Text(text), Output::Json)
        }
    }
}

fn load_error(e: jaq_core::load::Error<&str>) -> String {
    use jaq_core::load::{Error, lex::Expect as L};
    let near = |rest: &str| {
        let rest: String = rest.chars().take(20).collect();
        if rest.is_empty() { "at the end".to_string() } else { format!("at `{rest}`") }
    };
    match e {
        Error::Io(errs) => errs.into_iter().map(|(p, m)| format!("{p}: {m}")).collect::<Vec<_>>().join("; "),
        Error::Lex(errs) => errs
            .into_iter()
            .map(|(expect, rest)| {
                let what = match expect {
                    L::Delim(d) => format!("a closing delimiter for `{d}`"),
                    L::Digit => "a digit".into(),
                    L::Ident => "an identifier".into(),
                    L::Escape => "a string escape sequence".into(),
                    L::Unicode => "a 4-digit hexadecimal code point".into(),
                    L::Token => "a token".into(),
                    _ => "something else".into(),
                };
                format!("expected {what} {}", near(rest))
            })
            .collect::<Vec<_>>()
            .join("; "),
        Error::Parse(errs) => errs
            .into_iter()
            .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), near(rest)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_come_out_raw_and_the_rest_as_json() {
        let jq = Jq::compile(".jobs[] | .id, {n: .n}").expect("compiles");
        let out = jq.run(&json!({"jobs": [{"id": "job_1", "n": 2}]})).expect("runs");
        assert_eq!(out, [Output::Text("job_1".into()), Output::Json(json!({"n": 2}))]);
    }

    #[test]
    fn errors_name_the_expression() {
        let e = Jq::compile(".jobs[").expect_err("unclosed");
        assert!(e.starts_with("--jq `.jobs[` is not a valid jq filter: "), "{e}");
        let e = Jq::compile("nosuchfilter").expect_err("undefined");
        assert!(e.contains("undefined filter `nosuchfilter`"), "{e}");
        let e = Jq::compile(".a.b").expect("compiles").run(&json!({"a": "text"})).expect_err("runtime");
        assert!(e.starts_with("--jq `.a.b` failed: "), "{e}");
    }

    #[test]
    fn the_environment_is_out_of_reach() {
        let e = Jq::compile("env.OT_API_TOKEN").expect_err("env is withheld");
        assert!(e.contains("undefined filter `env`"), "{e}");
        assert!(Jq::compile("$ENV").is_err(), "$ENV is not bound");
    }
}
