//! Clearance: a policy language for environment promotion contracts.
//!
//! The pipeline is `load` (policy files) -> `syntax` (text -> AST) ->
//! `check` (names resolved once, types, stage graph) -> [`evidence`] (what
//! the caller names, read and loaded) -> [`decide`] (the decision driver)
//! -> `eval` (outcomes and explanations) -> `report` (human, JSON, CI
//! formats). `lint`, `fmt`, `schema` and `testing` work on checked
//! programs; `cli` is the command line.
//!
//! Embedding Clearance is a supported use: compile a policy, read the
//! evidence, and decide through [`decide::decide`], the one path every
//! subcommand takes (see that module for an example with a decision record).
//!
//! ```
//! use clearance::decide::{self, Request, Target};
//! use clearance::evidence::{self, Source};
//! use clearance::eval::{Decision, EvalOptions};
//!
//! let program = clearance::compile_str("p.clr", r#"
//!     stages staging -> prod
//!     gate staging -> prod {
//!       rule coverage { require evidence.tests.coverage >= 80 }
//!     }
//! "#).expect("compiles");
//! let gate = program.gate("staging", "prod").expect("declared");
//! let options = EvalOptions::at("2026-11-26T00:00:00Z".parse().expect("RFC 3339"));
//! let sources = [Source::Text {
//!     mount: None,
//!     name: "ci.json".into(),
//!     text: r#"{"tests": {"coverage": 72.5}}"#.to_string().into(),
//! }];
//! let evidence = evidence::read(&sources, &options.limits).expect("within limits");
//! let request = Request::new(&program, Target::Gate(gate), &evidence, &options);
//! let result = decide::decide(&request).expect("the evidence loads");
//! assert_eq!(result.decision, Decision::Denied);
//! ```

pub mod attest;
pub mod check;
pub mod cli;
pub mod decide;
pub mod eval;
pub mod evidence;
pub mod fmt;
pub mod ledger;
pub mod limits;
pub mod lint;
pub mod load;
pub mod params;
pub mod report;
pub mod schema;
pub mod server;
pub mod sign;
mod stack;
pub mod syntax;
pub mod testing;

pub use load::{
    compile_path, compile_path_named, compile_path_with, compile_str, CompileError, CompileFailure,
};
