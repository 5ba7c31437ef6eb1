//! The readers of signed decisions and ledger checkpoints on any bytes:
//! `verify-decision` (a DSSE envelope of a decision) and a checkpoint note
//! (`ledger verify --checkpoint`). Neither panics or hangs, and neither
//! ever accepts what the made-up key below did not sign (nobody holds its
//! private key; the fuzzer cannot forge Ed25519).
#![no_main]
use clearance::ledger::note;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6pzNSr9xK3jlzdrAaGvnfKoH4y0I99wsZyRW9DFXzJk=\n-----END PUBLIC KEY-----\n";
const RAW: [u8; 32] = [
    0xea, 0x9c, 0xcd, 0x4a, 0xbf, 0x71, 0x2b, 0x78, 0xe5, 0xcd, 0xda, 0xc0, 0x68, 0x6b, 0xe7,
    0x7c, 0xaa, 0x07, 0xe3, 0x2d, 0x08, 0xf7, 0xdc, 0x2c, 0x67, 0x24, 0x56, 0xf4, 0x31, 0x57,
    0xcc, 0x99,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let verified = clearance::sign::verify_decision("fuzz.json", text, KEY, None);
    assert!(verified.is_err(), "verified a decision the key never signed");
    if let Ok(checkpoint) = note::Checkpoint::parse(text) {
        assert!(!note::signed_by(&checkpoint, &RAW), "a forged checkpoint verified");
    }
});
