//! Syntax: source text -> spanned AST. Consumes `.clr` text, produces
//! [`ast::PolicyFile`] or a [`SyntaxError`]; knows nothing of evaluation.

pub mod ast;
mod descent;
pub mod error;
pub(crate) mod parser;
mod rule_names;
pub mod span;
pub(crate) mod trivia;

pub use error::SyntaxError;
pub use parser::{
    duration_nanos, parse_expr, parse_file, parse_file_fast, parse_file_reference, parse_file_with,
    MAX_EXPR_DEPTH, MAX_NESTING,
};
pub use span::{FileId, SourceFile, SourceMap, Span};
