//! Clearance: a policy language for environment promotion contracts.
//!
//! The pipeline is `syntax` (text -> AST) -> `check` (names, types, stage
//! graph) -> `eval` (evidence -> outcomes and explanations) -> `lint`
//! (coded findings over checked policies) -> `report`
//! (human, JSON). `load` reads policies from disk; `cli` is the command line.
//!
//! ```
//! use clearance::{compile_str, eval};
//! let program = compile_str("p.clr", r#"
//!     stages staging -> prod
//!     gate staging -> prod {
//!       rule coverage { require evidence.tests.coverage >= 80 }
//!     }
//! "#).expect("compiles");
//! let evidence = eval::parse_json(r#"{"tests": {"coverage": 72.5}}"#, Default::default()).unwrap();
//! let gate = program.gate("staging", "prod").unwrap();
//! let now = "2026-11-26T00:00:00Z".parse().unwrap();
//! let result = eval::evaluate_gate(&program, gate, &evidence, &eval::EvalOptions::at(now));
//! assert_eq!(result.decision, eval::Decision::Denied);
//! ```

pub mod check;
pub mod cli;
pub mod decide;
pub mod eval;
pub mod evidence;
pub mod fmt;
pub mod limits;
pub mod lint;
pub mod load;
pub mod params;
pub mod report;
pub mod schema;
mod stack;
pub mod syntax;
pub mod testing;

pub use load::{compile_path, compile_path_with, compile_str, CompileError, CompileFailure};
