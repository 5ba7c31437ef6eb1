//! Parsing any text must return a policy or a syntax error: never panic, never hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = clearance::syntax::parse_file(clearance::syntax::FileId(0), text);
        let _ = clearance::syntax::parse_expr(clearance::syntax::FileId(0), text);
    }
});
