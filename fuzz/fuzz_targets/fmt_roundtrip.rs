//! Formatting is idempotent and preserves meaning for every policy that parses.
#![no_main]
use clearance::syntax::{parse_file, FileId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(original) = parse_file(FileId(0), text) else { return };
    let once = match clearance::fmt::format_source(text) {
        Ok(once) => once,
        // The one refusal by design: a clause written twice where one is
        // allowed (`purpose`, `title`, ...), which fmt will not drop a word
        // of; the checker reports it too. Anything else must format.
        Err(e) if e.to_string().contains("where only one is allowed") => return,
        Err(e) => panic!("parsed but did not format: {e}"),
    };
    let reparsed = parse_file(FileId(0), &once).unwrap_or_else(|e| panic!("formatted text does not parse: {e}\n{once}"));
    assert!(original == reparsed, "formatting changed the meaning:\n{once}");
    let twice = clearance::fmt::format_source(&once).unwrap_or_default();
    assert_eq!(once, twice, "formatting is not idempotent");
});
