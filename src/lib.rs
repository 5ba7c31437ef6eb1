//! Clearance: a policy language for environment promotion contracts.

pub mod check;
pub mod eval;
pub mod syntax;
