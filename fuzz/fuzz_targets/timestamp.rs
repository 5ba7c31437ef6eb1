//! The RFC 3161 timestamp reader on any bytes, against the timestamp
//! authorities of the public-good trusted root: it verifies or gives a
//! reason, never panics or hangs, and never verifies a timestamp (the
//! fuzzer holds no authority's key, so any success is a bug).
#![no_main]
use clearance::attest::certificate::{TrustedRoot, PUBLIC_GOOD_TRUSTED_ROOT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = TrustedRoot::parse(PUBLIC_GOOD_TRUSTED_ROOT) else {
        return;
    };
    let verified = clearance::attest::timestamp::verify(data, b"signature", &root.timestamp_authorities);
    assert!(verified.is_err(), "verified a timestamp nobody signed");
});
