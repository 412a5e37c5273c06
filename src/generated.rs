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
    }
    include!(concat!(env!("OUT_DIR"), "/meta.rs"));
}
