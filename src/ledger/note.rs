//! Checkpoints as C2SP signed notes: the origin line, the tree size, the
//! base64 root hash, a blank line, and one signature line
//! `— NAME base64(key hash || signature)` per signer. For Ed25519 the key
//! hash is the first four bytes of SHA-256(NAME || "\n" || 0x01 || key),
//! as in C2SP's signed-note spec, so any note verifier given the
//! verifier key `NAME+HASH+base64(0x01 || key)` checks it.

use super::merkle::Hash;
use crate::sign::SigningKey;
use base64::Engine;
use sha2::{Digest, Sha256};

pub use crate::attest::merkle::Checkpoint;

const ED25519_ALG: u8 = 0x01;

/// The four-byte key hash of an Ed25519 key named `name`.
pub fn key_hash(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_ALG]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string note tools take: `NAME+HASH+base64(0x01||key)`.
pub fn verifier_key(name: &str, public: &[u8; 32]) -> String {
    let hash: String = key_hash(name, public)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut raw = vec![ED25519_ALG];
    raw.extend_from_slice(public);
    format!(
        "{name}+{hash}+{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// The signed note of a checkpoint of `origin` at `size` with `root`.
pub fn sign(origin: &str, size: u64, root: &Hash, key: &SigningKey) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = format!("{origin}\n{size}\n{}\n", b64.encode(root));
    let mut sig = key_hash(origin, &key.public_raw()).to_vec();
    sig.extend_from_slice(&key.sign(body.as_bytes()));
    format!("{body}\n\u{2014} {origin} {}\n", b64.encode(sig))
}

/// Whether `note` carries a valid signature by the Ed25519 key `public`
/// under the note's own origin as key name.
pub fn signed_by(note: &Checkpoint, public: &[u8; 32]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
        return false;
    };
    let hash = key_hash(&note.origin, public);
    note.signatures.iter().any(|(name, sig)| {
        *name == note.origin
            && sig.get(..4) == Some(&hash[..])
            && sig
                .get(4..)
                .and_then(|s| ed25519_dalek::Signature::from_slice(s).ok())
                .is_some_and(|s| key.verify_strict(note.body.as_bytes(), &s).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";

    #[test]
    fn a_signed_checkpoint_parses_verifies_and_refuses_edits() {
        let Ok(key) = SigningKey::from_pem(TEST_KEY, "test") else {
            unreachable!("the test key parses")
        };
        let root = super::super::merkle::empty_root();
        let text = sign("clearance.example/ledger", 0, &root, &key);
        assert!(text.starts_with("clearance.example/ledger\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\u{2014} clearance.example/ledger "));
        let note = Checkpoint::parse(&text);
        assert!(note.is_ok(), "{note:?}");
        let Ok(note) = note else { return };
        assert_eq!((note.size, note.root), (0, root));
        assert!(signed_by(&note, &key.public_raw()));
        let edited = Checkpoint::parse(&text.replacen("\n0\n", "\n1\n", 1));
        assert!(edited.is_ok_and(|n| !signed_by(&n, &key.public_raw())));
        assert!(!signed_by(&note, &[7u8; 32]));
    }
}
