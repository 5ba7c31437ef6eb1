//! The attestation reader on any bytes, as one envelope and as JSON Lines,
//! against a trust file of one Ed25519 key: it verifies or names one stable
//! code, never panics or hangs, and never verifies what the key did not sign
//! (the key was made up for this target: nobody holds its private key, and
//! the fuzzer cannot forge an Ed25519 signature, so any success is a bug).
#![no_main]
use clearance::attest::{self, PublicKey, Signer, SignerKind, Trust};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6pzNSr9xK3jlzdrAaGvnfKoH4y0I99wsZyRW9DFXzJk=\n-----END PUBLIC KEY-----\n";

fuzz_target!(|data: &[u8]| {
    let Ok((key, key_id)) = PublicKey::from_pem(KEY) else {
        return;
    };
    let trust = Trust {
        signers: vec![Signer {
            name: "fuzz".into(),
            kind: SignerKind::Key { key, key_id },
        }],
        file: "trust.toml".into(),
        trusted_root: None,
    };
    for name in ["a.intoto.json", "a.intoto.jsonl"] {
        let verified = attest::verify_bytes("a", name, data, &trust, &clearance::limits::DEFAULT);
        assert!(verified.is_err(), "verified bytes the key never signed");
    }
});
