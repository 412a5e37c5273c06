//! `opentrain-spec`: spec maintenance commands (see the library docs and the README section
//! "When the upstream spec changes").

#![forbid(unsafe_code)]

use std::{path::PathBuf, process::ExitCode};

use opentrain_codegen::read_spec;
use opentrain_spec::{diff, extract, render_overlay};

const USAGE: &str = "\
usage:
  opentrain-spec extract-overlay [--spec openapi.yaml] [--overlay openapi.overlay.yaml] [--keep x-key]...
      Move every x- key of the spec (except --keep ones) into overlay actions, one per operation
      or schema, rewriting only those lines of the spec. Safe to re-run.
  opentrain-spec diff OLD NEW [--overlay openapi.overlay.yaml] [--exit-zero]
      Report what NEW changes for a client (BREAKING or additive), overlay actions that no
      longer match NEW and operations without an MCP tool or CLI command. Exits 1 when a change
      is breaking or an overlay action is dead, unless --exit-zero.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("extract-overlay") => run_extract(&args[1..]),
        Some("diff") => run_diff(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` pairs (a flag's value is empty), in order.
type Opts = Vec<(String, String)>;

/// Options and positional arguments; `flags` take no value.
fn parse(args: &[String], flags: &[&str]) -> Result<(Opts, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if flags.contains(&a.as_str()) {
            opts.push((a.clone(), String::new()));
        } else if a.starts_with("--") {
            let v = it.next().ok_or_else(|| format!("{a} needs a value\n{USAGE}"))?;
            opts.push((a.clone(), v.clone()));
        } else {
            positional.push(a.clone());
        }
    }
    Ok((opts, positional))
}

fn opt(opts: &[(String, String)], name: &str) -> Option<String> {
    opts.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn run_extract(args: &[String]) -> Result<ExitCode, String> {
    let (opts, positional) = parse(args, &[])?;
    if let Some((k, _)) = opts.iter().find(|(k, _)| !["--spec", "--overlay", "--keep"].contains(&k.as_str())) {
        return Err(format!("unknown option {k}\n{USAGE}"));
    }
    if !positional.is_empty() {
        return Err(format!("unexpected {positional:?}\n{USAGE}"));
    }
    let spec_path = PathBuf::from(opt(&opts, "--spec").unwrap_or_else(|| "openapi.yaml".into()));
    let overlay_path = PathBuf::from(opt(&opts, "--overlay").unwrap_or_else(|| "openapi.overlay.yaml".into()));
    let keep: Vec<String> = opts.iter().filter(|(k, _)| k == "--keep").map(|(_, v)| v.clone()).collect();
    let text = std::fs::read_to_string(&spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let overlay = if overlay_path.exists() { read_spec(&overlay_path)? } else { extract::new_overlay() };
    let e = extract::extract(&text, overlay, &keep).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let rendered = render_overlay(&e.overlay)?;
    // The overlay first: if the second write fails, the keys are in both files, which re-running fixes.
    std::fs::write(&overlay_path, rendered).map_err(|e| format!("{}: {e}", overlay_path.display()))?;
    std::fs::write(&spec_path, e.spec_text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    for m in &e.moved {
        println!("moved {m}");
    }
    println!("{} key(s) moved into {}", e.moved.len(), overlay_path.display());
    Ok(ExitCode::SUCCESS)
}

fn run_diff(args: &[String]) -> Result<ExitCode, String> {
    let (opts, positional) = parse(args, &["--exit-zero"])?;
    if let Some((k, _)) = opts.iter().find(|(k, _)| !["--overlay", "--exit-zero"].contains(&k.as_str())) {
        return Err(format!("unknown option {k}\n{USAGE}"));
    }
    let [old, new] = positional.as_slice() else { return Err(format!("diff takes OLD and NEW\n{USAGE}")) };
    let old = read_spec(old.as_ref())?;
    let new = read_spec(new.as_ref())?;
    // Without --overlay the project's overlay is used when run from the repository root.
    let overlay_path = opt(&opts, "--overlay").map(PathBuf::from).or_else(|| {
        let default = PathBuf::from("openapi.overlay.yaml");
        default.exists().then_some(default)
    });
    let layer = overlay_path.as_deref().map(read_spec).transpose()?;
    let report = diff::diff(&old, &new, layer.as_ref())?;
    print!("{}", report.render());
    let fail = report.breaking() || !report.dead_actions.is_empty();
    Ok(if fail && opt(&opts, "--exit-zero").is_none() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
