//! The client progenitor generates from `openapi.yaml` in `build.rs`; never edited by hand.
#![allow(missing_docs, clippy::all, clippy::pedantic, unused_imports, dead_code)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

/// The operation table derived from the spec.
pub mod meta {
    /// One operation of the spec.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Operation {
        /// `operationId`, also the client method name.
        pub id: &'static str,
        /// HTTP method, upper case.
        pub method: &'static str,
        /// Path template with its prefix.
        pub path: &'static str,
        /// The family tag.
        pub tag: &'static str,
        /// Sent without a token (`security: []`).
        pub tokenless: bool,
        /// The official CLI command that calls it (`x-cli`), if any.
        pub cli: Option<&'static str>,
        /// Its path and query parameters, by their spec names.
        pub params: &'static [&'static str],
        /// One-line summary.
        pub summary: &'static str,
        /// Longer description.
        pub description: &'static str,
    }

    /// The operation with this id.
    pub fn operation(id: &str) -> Option<&'static Operation> {
        OPERATIONS.iter().find(|o| o.id == id)
    }

    /// The values the spec allows for parameter `param` of `op` (empty when it is not an enum),
    /// so a face's choices come from the spec instead of a hand-typed copy.
    pub fn param_values(op: OperationId, param: &str) -> &'static [&'static str] {
        PARAM_ENUMS.iter().find(|(o, p, _)| *o == op.id() && *p == param).map(|(_, _, v)| *v).unwrap_or(&[])
    }
    include!(concat!(env!("OUT_DIR"), "/meta.rs"));
}

/// The MCP tool table derived from `x-mcp` in the spec.
pub mod tools {
    /// Where a tool argument goes in the request.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Target {
        /// A path parameter, by its spec name.
        Path(&'static str),
        /// A query parameter, by its spec name.
        Query(&'static str),
        /// A top-level field of the JSON body.
        BodyField(&'static str),
        /// The whole JSON body.
        Body,
        /// Prepended, with a blank line, to a string body field.
        PrependTo(&'static str),
        /// Read by a hand-written handler.
        Extra,
    }

    /// One tool argument.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Arg {
        /// The argument name the tool exposes.
        pub name: &'static str,
        /// Where it goes.
        pub to: Target,
    }

    /// One MCP tool.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ToolDef {
        /// Tool name (`opentrain_...`).
        pub name: &'static str,
        /// Human title.
        pub title: &'static str,
        /// Description for the model.
        pub description: &'static str,
        /// Family (`--toolsets`).
        pub toolset: &'static str,
        /// The operation it calls.
        pub operation: &'static str,
        /// Further operations a hand-written handler may call.
        pub also: &'static [&'static str],
        /// Only reads.
        pub read_only: bool,
        /// Destroys or ends something.
        pub destructive: bool,
        /// Repeating it has no further effect.
        pub idempotent: bool,
        /// Input JSON Schema.
        pub input_schema: &'static str,
        /// Output JSON Schema (lenient).
        pub output_schema: &'static str,
        /// Argument mapping.
        pub args: &'static [Arg],
        /// Constant body fields (field, JSON value).
        pub fixed: &'static [(&'static str, &'static str)],
    }

    include!(concat!(env!("OUT_DIR"), "/tools.rs"));
}
