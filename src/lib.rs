//! Clearance: a policy language for environment promotion contracts.

pub mod syntax;
