//! Which tools the server offers: `--toolsets`, `--tools`, `--exclude-tools`, `--read-only`.
//!
//! The rules are github-mcp-server's: toolsets and individual tools add up (nothing given means
//! every tool), `--read-only` then drops every tool that writes (even one named in `--tools`),
//! and `--exclude-tools` removes tools last, so it always wins. A tool that is not offered is not
//! callable either. Unknown toolset or tool names are an error at startup, so a typo never
//! silently serves the wrong set.

use std::collections::BTreeSet;

use opentrain::generated::tools::ToolDef;

/// The server's command line; every flag also reads an environment variable.
#[derive(Clone, Debug, Default, clap::Parser)]
#[command(
    name = "opentrain-mcp",
    version,
    about = "MCP server for the OpenTrain Public API over stdio (drop-in for @opentrain-ai/mcp), or over \
Streamable HTTP for many users with --http.",
    after_help = "Credentials: OPENTRAIN_PERSONAL_API_TOKEN wins outright; otherwise apiToken in \
${XDG_CONFIG_HOME:-~/.config}/opentrain/cli.json (shared with the opentrain CLI). Base URL: \
OPENTRAIN_API_BASE_URL, then baseUrl in that file, then https://app.opentrain.ai. With no token, only \
opentrain_register_agent, the claim tools and opentrain_search_jobs work.\n\n\
Toolsets: auth, jobs, proposals, messages, contracts, credits, updates, webhooks, tokens, team, payments \
(or all). Lists are comma-separated; tool names may omit the opentrain_ prefix."
)]
pub struct Options {
    /// Only offer tools of these families (comma-separated), or `all`.
    #[arg(long, env = "OPENTRAIN_TOOLSETS", value_delimiter = ',', value_name = "SET,...")]
    pub toolsets: Vec<String>,
    /// Offer these tools (comma-separated), in addition to any --toolsets.
    #[arg(long, env = "OPENTRAIN_TOOLS", value_delimiter = ',', value_name = "TOOL,...")]
    pub tools: Vec<String>,
    /// Never offer these tools (comma-separated); wins over everything else.
    #[arg(long, env = "OPENTRAIN_EXCLUDE_TOOLS", value_delimiter = ',', value_name = "TOOL,...")]
    pub exclude_tools: Vec<String>,
    /// Only offer tools that read (no drafts, messages, hires, payments, revocations, ...).
    // Boolish so the variable takes 1/0, yes/no and on/off as well as true/false.
    #[arg(long, env = "OPENTRAIN_READ_ONLY", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: bool,
    /// Serve against an offline sandbox started in-process on 127.0.0.1, with sandbox-only
    /// credentials (a real token or cli.json is never used).
    #[arg(long)]
    pub sandbox: bool,
    /// Keep the sandbox's state and credentials in DIR across runs (implies --sandbox).
    #[arg(long, value_name = "DIR")]
    pub sandbox_state: Option<std::path::PathBuf>,
    /// Serving over HTTP (`--http` and its flags).
    #[command(flatten)]
    pub http: crate::http::HttpOptions,
}

/// The toolsets `--toolsets` accepts, besides `all`: the spec's tags, in the spec's order.
pub fn known_toolsets() -> impl Iterator<Item = &'static str> {
    opentrain::generated::meta::TAGS.iter().map(|(name, _)| *name)
}

const PREFIX: &str = "opentrain_";

fn clean(list: &[String]) -> Vec<String> {
    list.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// Resolves a user-given tool name (with or without the `opentrain_` prefix) to its table name.
fn find(all: &[ToolDef], name: &str) -> Option<&'static str> {
    let full = if name.starts_with(PREFIX) { name.to_string() } else { format!("{PREFIX}{name}") };
    all.iter().find(|t| t.name == full).map(|t| t.name)
}

/// The tools of `all` that `options` enables, in table order, or which names are unknown.
pub fn select(all: &[ToolDef], options: &Options) -> Result<Vec<ToolDef>, String> {
    let toolsets = clean(&options.toolsets);
    let tools = clean(&options.tools);
    let excluded = clean(&options.exclude_tools);

    let mut unknown = Vec::new();
    for set in &toolsets {
        if set != "all" && !known_toolsets().any(|t| t == set) {
            unknown.push(format!("toolset `{set}` (known: all, {})", known_toolsets().collect::<Vec<_>>().join(", ")));
        }
    }
    let mut named = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    for (list, into) in [(&tools, &mut named), (&excluded, &mut dropped)] {
        for name in list {
            match find(all, name) {
                Some(n) => {
                    into.insert(n);
                }
                None => unknown.push(format!("tool `{name}`")),
            }
        }
    }
    if !unknown.is_empty() {
        return Err(format!("unknown {}", unknown.join("; unknown ")));
    }

    let everything = (toolsets.is_empty() && tools.is_empty()) || toolsets.iter().any(|s| s == "all");
    Ok(all
        .iter()
        .filter(|t| everything || toolsets.iter().any(|s| s == t.toolset) || named.contains(t.name))
        .filter(|t| !options.read_only || t.read_only)
        .filter(|t| !dropped.contains(t.name))
        .copied()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentrain::generated::tools::TOOLS;

    fn names(o: Options) -> Vec<&'static str> {
        select(TOOLS, &o).map(|v| v.iter().map(|t| t.name).collect()).unwrap_or_default()
    }

    fn list(s: &str) -> Vec<String> {
        s.split(',').map(String::from).collect()
    }

    #[test]
    fn nothing_given_means_everything() {
        assert_eq!(names(Options::default()).len(), TOOLS.len());
        assert_eq!(names(Options { toolsets: list("all"), ..Default::default() }).len(), TOOLS.len());
    }

    #[test]
    fn toolsets_and_tools_add_up_and_exclude_wins() {
        let got = names(Options {
            toolsets: list("credits"),
            tools: list("get_team,opentrain_auth_status"),
            exclude_tools: list("create_credit_top_up"),
            ..Default::default()
        });
        assert!(got.contains(&"opentrain_get_credits") && got.contains(&"opentrain_get_team"));
        assert!(got.contains(&"opentrain_auth_status"));
        assert!(!got.contains(&"opentrain_create_credit_top_up"));
        assert!(
            got.iter().all(|n| n.contains("credit") || *n == "opentrain_get_team" || *n == "opentrain_auth_status")
        );
    }

    #[test]
    fn read_only_beats_tools() {
        let got = names(Options { tools: list("hire_proposal,get_team"), read_only: true, ..Default::default() });
        assert_eq!(got, vec!["opentrain_get_team"]);
        assert!(
            names(Options { read_only: true, ..Default::default() })
                .iter()
                .all(|n| { TOOLS.iter().any(|t| t.name == *n && t.read_only) })
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = select(TOOLS, &Options { toolsets: list("job"), tools: list("nope"), ..Default::default() });
        let e = e.err().unwrap_or_default();
        assert!(e.contains("toolset `job`") && e.contains("tool `nope`"), "{e}");
    }

    #[test]
    fn every_tool_belongs_to_a_known_toolset() {
        for t in TOOLS {
            assert!(known_toolsets().any(|s| s == t.toolset), "{} has toolset {}", t.name, t.toolset);
        }
    }
}
