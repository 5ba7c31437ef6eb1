//! Parse and check any text, then render every diagnostic: never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match clearance::compile_str("fuzz.clr", text) {
        Ok(program) => {
            // Lints and the formatter run on every program that compiles.
            let now = "2026-11-20T12:00:00Z".parse().unwrap_or_default();
            let _ = clearance::lint::run(&program, now);
            let _ = clearance::schema::infer(&program, None);
        }
        Err(failure) => {
            let _ = clearance::report::render_compile_failure(&failure, Default::default());
        }
    }
});
