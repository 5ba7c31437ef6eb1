//! Transparency-log checks. RFC 6962 / RFC 9162 Merkle trees, as Rekor and
//! the promotion ledger use them: leaf and node hashes with their one-byte
//! prefixes (so a leaf can never pass for a node), and the check of an
//! inclusion proof against a tree's root; the checkpoint a log signs (a
//! C2SP signed note: origin, tree size, root hash) and its signature; a
//! Rekor entry's signed entry timestamp; and whether a `dsse` log entry is
//! a given envelope. Each is tested on the corpus bundle's real Rekor entry
//! with the public-good log's key.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root that an inclusion proof gives for the leaf at `index` of a tree
/// of `size` leaves (RFC 9162 section 2.1.3.2); `None` when the proof has
/// the wrong length for that position, or the index is not in the tree.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: Hash,
    proof: &[Hash],
) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// A log checkpoint (C2SP signed note): what the log committed to, and the
/// signature lines under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The signed text: every line up to the blank line, each with its `\n`.
    pub body: String,
    /// `(key name, base64-decoded signature with its 4-byte key hash)`.
    pub signatures: Vec<(String, Vec<u8>)>,
}

impl Checkpoint {
    /// Parses a signed note holding a checkpoint.
    pub fn parse(note: &str) -> Result<Checkpoint, String> {
        let (body, signatures) = note
            .split_once("\n\n")
            .ok_or("a signed note has a blank line between its text and its signatures")?;
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or("the checkpoint has no origin")?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or("the checkpoint's second line is not a tree size")?;
        let root = lines
            .next()
            .and_then(super::dsse::base64_decode)
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or("the checkpoint's third line is not a base64 SHA-256 root hash")?;
        let mut sigs = Vec::new();
        for line in signatures.lines().filter(|l| !l.is_empty()) {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or("a signature line of a signed note starts with an em dash")?;
            let (name, sig) = rest
                .rsplit_once(' ')
                .ok_or("a signature line has a name and a signature")?;
            let sig = super::dsse::base64_decode(sig)
                .filter(|s| s.len() > 4)
                .ok_or("a note signature is not base64")?;
            sigs.push((name.to_string(), sig));
        }
        if sigs.is_empty() {
            return Err("the checkpoint is not signed".into());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            body: format!("{body}\n"),
            signatures: sigs,
        })
    }
}

impl Checkpoint {
    /// Whether a signature line of the note is `key`'s over the note's text:
    /// the line's first four bytes are the key's hash (the first bytes of
    /// its log id, the SHA-256 of its SubjectPublicKeyInfo), the rest the
    /// signature.
    pub fn signed_by(&self, key: &super::PublicKey, key_id: &Hash) -> bool {
        self.signatures.iter().any(|(_, sig)| {
            sig.get(..4) == key_id.get(..4)
                && sig
                    .get(4..)
                    .is_some_and(|s| key.verifies(self.body.as_bytes(), s))
        })
    }
}

/// The public-good Rekor log's key, built in: every entry of that log names
/// it by its log id, the SHA-256 of this key's DER (a test checks that the
/// corpus bundle's log id is that digest).
pub const REKOR_PUBLIC_GOOD: &str = include_str!("rekor-public-good.pem");

/// A Rekor entry's signed entry timestamp (its inclusion promise): the
/// log's signature over the canonical JSON of the entry's body, integrated
/// time, log id (hex) and log index, keys sorted, no spaces.
pub fn set_verifies(
    key: &super::PublicKey,
    set: &[u8],
    canonicalized_body_b64: &str,
    integrated_time: i64,
    log_id: &Hash,
    log_index: i64,
) -> bool {
    let log_id: String = log_id.iter().map(|b| format!("{b:02x}")).collect();
    // Written out, not serialized: the key order and the absence of spaces
    // are what was signed. The body is base64, which needs no escaping.
    if canonicalized_body_b64
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='))
    {
        return false;
    }
    let message = format!(
        "{{\"body\":\"{canonicalized_body_b64}\",\"integratedTime\":{integrated_time},\"logID\":\"{log_id}\",\"logIndex\":{log_index}}}"
    );
    key.verifies(message.as_bytes(), set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::test_data::{b64, corpus_bundle};
    use base64::Engine;

    /// A tree built here: every leaf's proof, computed by the textbook
    /// recursion, verifies, and a proof moved to another leaf does not.
    #[test]
    fn inclusion_proofs_of_a_small_tree() {
        fn root(leaves: &[Hash]) -> Hash {
            match leaves {
                [one] => *one,
                _ => {
                    let k = leaves.len().next_power_of_two() / 2;
                    let (l, r) = leaves.split_at(k);
                    node_hash(&root(l), &root(r))
                }
            }
        }
        fn proof(leaves: &[Hash], m: usize) -> Vec<Hash> {
            if leaves.len() <= 1 {
                return Vec::new();
            }
            let k = leaves.len().next_power_of_two() / 2;
            let (l, r) = leaves.split_at(k);
            if m < k {
                let mut p = proof(l, m);
                p.push(root(r));
                p
            } else {
                let mut p = proof(r, m - k);
                p.push(root(l));
                p
            }
        }
        for n in 1..=13usize {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let want = root(&leaves);
            for m in 0..n {
                let p = proof(&leaves, m);
                assert_eq!(
                    root_from_inclusion_proof(m as u64, n as u64, leaves[m], &p),
                    Some(want),
                    "{m} of {n}"
                );
                if n > 1 {
                    let other = (m + 1) % n;
                    assert_ne!(
                        root_from_inclusion_proof(other as u64, n as u64, leaves[m], &p),
                        Some(want)
                    );
                }
            }
            assert_eq!(
                root_from_inclusion_proof(n as u64, n as u64, leaves[0], &[]),
                None
            );
        }
    }

    /// The real Rekor entry of the corpus's Sigstore bundle: its
    /// canonicalized body, hashed as a leaf and climbed with its inclusion
    /// proof, gives the root hash its checkpoint commits to.
    #[test]
    fn the_corpus_rekor_entry_is_in_its_checkpoint() {
        let bundle = corpus_bundle();
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let proof = &entry["inclusionProof"];
        let body = b64(entry["canonicalizedBody"].as_str().unwrap());
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::try_from(b64(h.as_str().unwrap())).unwrap())
            .collect();
        let index: u64 = proof["logIndex"].as_str().unwrap().parse().unwrap();
        let size: u64 = proof["treeSize"].as_str().unwrap().parse().unwrap();
        let root = root_from_inclusion_proof(index, size, leaf_hash(&body), &hashes).unwrap();
        assert_eq!(root.to_vec(), b64(proof["rootHash"].as_str().unwrap()));
        let checkpoint =
            Checkpoint::parse(proof["checkpoint"]["envelope"].as_str().unwrap()).unwrap();
        assert_eq!(checkpoint.size, size);
        assert_eq!(checkpoint.root, root);
        assert!(checkpoint.origin.starts_with("rekor.sigstore.dev"));
        assert_eq!(checkpoint.signatures[0].0, "rekor.sigstore.dev");
        // One edited byte of the entry, or one of the proof, loses it.
        let mut edited = body.clone();
        edited[10] ^= 1;
        assert_ne!(
            root_from_inclusion_proof(index, size, leaf_hash(&edited), &hashes),
            Some(root)
        );
        let mut bad = hashes.clone();
        bad[3][0] ^= 1;
        assert_ne!(
            root_from_inclusion_proof(index, size, leaf_hash(&body), &bad),
            Some(root)
        );
        assert_eq!(
            root_from_inclusion_proof(index, size, leaf_hash(&body), &hashes[1..]),
            None
        );
    }

    /// The built-in Rekor key is the one the public-good log's entries name,
    /// and it signed the corpus entry's checkpoint and its signed entry
    /// timestamp; an edited time, index or checkpoint does not verify.
    #[test]
    fn the_corpus_rekor_entry_is_signed_by_the_public_good_log() {
        let bundle = corpus_bundle();
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let (key, key_id) = crate::attest::PublicKey::from_pem(REKOR_PUBLIC_GOOD).unwrap();
        let log_id = Hash::try_from(b64(entry["logId"]["keyId"].as_str().unwrap())).unwrap();
        let hex: String = log_id.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, key_id, "the log id is the SHA-256 of the built-in key");

        let note = entry["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap();
        let checkpoint = Checkpoint::parse(note).unwrap();
        assert!(checkpoint.signed_by(&key, &log_id));
        let edited = Checkpoint::parse(&note.replace("66718601", "66718602")).unwrap();
        assert!(!edited.signed_by(&key, &log_id));

        let set = b64(entry["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap());
        let body = entry["canonicalizedBody"].as_str().unwrap();
        let time: i64 = entry["integratedTime"].as_str().unwrap().parse().unwrap();
        let index: i64 = entry["logIndex"].as_str().unwrap().parse().unwrap();
        assert!(set_verifies(&key, &set, body, time, &log_id, index));
        assert!(!set_verifies(&key, &set, body, time + 1, &log_id, index));
        assert!(!set_verifies(&key, &set, body, time, &log_id, index - 1));
        let mut other_body = b64(body);
        other_body[20] ^= 1;
        let other_body = base64::engine::general_purpose::STANDARD.encode(other_body);
        assert!(!set_verifies(&key, &set, &other_body, time, &log_id, index));
    }

    #[test]
    fn malformed_checkpoints_are_refused() {
        for note in [
            "",
            "origin\n1\n",
            "origin\nx\nAAAA\n\n\u{2014} k AAAAAAAA\n",
            "origin\n1\nAAAA\n\n\u{2014} k AAAAAAAA\n",
            "o\n1\nb9PqWdvjFibQVr/AxhtI5QtxZRDsyawcQjhN/t/l2hs=\n\n",
        ] {
            assert!(Checkpoint::parse(note).is_err(), "{note:?}");
        }
    }
}
