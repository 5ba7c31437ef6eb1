//! Parsing any text must return a policy or a syntax error: never panic,
//! never hang. And the fast parser must agree with the pest grammar it
//! stands in for: where it builds a tree, pest builds the same one (spans
//! and depths included), and it never accepts a text pest refuses.
#![no_main]
use clearance::syntax::{parse_file_fast, parse_file_reference, FileId, MAX_EXPR_DEPTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = clearance::syntax::parse_file(FileId(0), text);
        let _ = clearance::syntax::parse_expr(FileId(0), text);
        if let Some(fast) = parse_file_fast(FileId(0), text, MAX_EXPR_DEPTH) {
            match parse_file_reference(FileId(0), text, MAX_EXPR_DEPTH) {
                Ok(reference) => assert_eq!(format!("{fast:?}"), format!("{reference:?}")),
                Err(e) => panic!("the fast path accepted a text pest refuses: {e}"),
            }
        }
    }
});
