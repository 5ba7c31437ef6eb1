//! `--evidence` arguments: parsed here, read and loaded by the library
//! ([`crate::evidence`]).

use super::NoDecision;
use crate::evidence::{EvidenceError, Source};
use crate::report::Style;

/// The sources named by `--evidence FILE|-|NAME=FILE` arguments.
pub fn sources(args: &[String]) -> Vec<Source> {
    args.iter().map(|a| Source::from_arg(a)).collect()
}

/// An evidence problem as the CLI reports it (exit 2).
pub fn no_decision(style: Style) -> impl Fn(EvidenceError) -> NoDecision {
    move |e| NoDecision(e.render(style))
}
