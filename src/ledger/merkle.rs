//! The ledger's RFC 6962 Merkle tree: the compact frontier an append
//! updates in O(log n), the root of any prefix, and the inclusion and
//! consistency proofs of RFC 9162 section 2.1 (built here, and checked the
//! way a third party checks them). Leaf and node hashes, and the check of an
//! inclusion proof, are the same functions the Rekor checks use.

pub use crate::attest::merkle::{leaf_hash, node_hash, root_from_inclusion_proof, Hash};
use sha2::{Digest, Sha256};

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The roots of the perfect subtrees a tree of `size` leaves splits into,
/// largest (leftmost) first: one per 1-bit of `size`. Appending a leaf
/// merges the equal-sized subtrees at its right end, so an append touches
/// O(log n) hashes and never reads an older leaf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        // Each trailing 1-bit of the old size is a subtree of the same height
        // as the one being carried: merge them.
        let mut carry = self.size;
        while carry & 1 == 1 {
            let Some(left) = self.nodes.pop() else { break };
            node = node_hash(&left, &node);
            carry >>= 1;
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The tree's root hash (RFC 6962 MTH).
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(*last, |right, left| node_hash(left, &right))
    }

    /// The stored form: the subtree roots, concatenated.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.nodes.concat()
    }

    /// The frontier of a tree of `size` leaves from its stored form, or
    /// `None` when the bytes do not hold one root per 1-bit of `size`.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Option<Frontier> {
        if !bytes.len().is_multiple_of(32) || bytes.len() / 32 != size.count_ones() as usize {
            return None;
        }
        let nodes = bytes
            .chunks_exact(32)
            .map(|c| Hash::try_from(c).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(Frontier { size, nodes })
    }

    pub fn of(leaves: &[Hash]) -> Frontier {
        let mut f = Frontier::default();
        for l in leaves {
            f.push(*l);
        }
        f
    }
}

/// The largest power of two smaller than `n` (n > 1): RFC 6962's split point.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH of `leaves` (the leaf hashes).
pub fn root(leaves: &[Hash]) -> Hash {
    Frontier::of(leaves).root()
}

/// RFC 6962 PATH(m, D[n]): the inclusion proof of leaf `index`.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    path(index, leaves, &mut proof);
    Some(proof)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    if d.len() <= 1 {
        return;
    }
    let k = split(d.len());
    if m < k {
        path(m, &d[..k], out);
        out.push(root(&d[k..]));
    } else {
        path(m - k, &d[k..], out);
        out.push(root(&d[..k]));
    }
}

/// RFC 6962 PROOF(m, D[n]): that the tree of the first `m` leaves is a
/// prefix of the tree of all of them.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m == 0 || m > leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    subproof(m, leaves, true, &mut proof);
    Some(proof)
}

fn subproof(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !complete {
            out.push(root(d));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &d[..k], complete, out);
        out.push(root(&d[k..]));
    } else {
        subproof(m - k, &d[k..], false, out);
        out.push(root(&d[..k]));
    }
}

/// Checks a consistency proof from a tree of `old_size` with `old_root` to
/// one of `new_size` with `new_root` (RFC 9162 section 2.1.4.2).
pub fn consistent(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    // If old_size is a power of two, the old root is the first node.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == *old_root && sr == *new_root
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight leaves of the RFC 6962 test vectors (certificate-transparency's
    /// merkle tests).
    fn leaves() -> Vec<Hash> {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        inputs.iter().map(|d| leaf_hash(d)).collect()
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn roots_of_every_prefix_match_the_rfc_6962_vectors() {
        let want = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let l = leaves();
        for (n, want) in want.iter().enumerate() {
            assert_eq!(hex(&root(&l[..=n])), *want, "size {}", n + 1);
        }
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn inclusion_and_consistency_proofs_match_the_vectors() {
        let l = leaves();
        let path: Vec<String> = inclusion_proof(&l, 0)
            .unwrap_or_default()
            .iter()
            .map(hex)
            .collect();
        assert_eq!(
            path,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        let proof: Vec<String> = consistency_proof(&l, 6)
            .unwrap_or_default()
            .iter()
            .map(hex)
            .collect();
        assert_eq!(
            proof,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
        let proof: Vec<String> = consistency_proof(&l[..5], 2)
            .unwrap_or_default()
            .iter()
            .map(hex)
            .collect();
        assert_eq!(
            proof,
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        );
    }

    #[test]
    fn every_proof_checks_and_a_wrong_one_does_not() {
        let mut l = leaves();
        l.extend((0u8..13).map(|i| leaf_hash(&[i, 0xff])));
        for n in 1..=l.len() {
            let r = root(&l[..n]);
            for i in 0..n {
                let p = inclusion_proof(&l[..n], i).unwrap_or_default();
                assert_eq!(
                    root_from_inclusion_proof(i as u64, n as u64, l[i], &p),
                    Some(r)
                );
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first);
                    assert_ne!(
                        root_from_inclusion_proof(i as u64, n as u64, l[i], &bad),
                        Some(r)
                    );
                }
            }
            for m in 1..=n {
                let p = consistency_proof(&l[..n], m).unwrap_or_default();
                let old = root(&l[..m]);
                assert!(consistent(m as u64, n as u64, &old, &r, &p), "{m} -> {n}");
                if m < n {
                    assert!(!consistent(m as u64, n as u64, &r, &r, &p) || old == r);
                    let wrong = root(&l[1..=m.min(n - 1)]);
                    assert!(!consistent(m as u64, n as u64, &wrong, &r, &p));
                }
            }
        }
    }

    #[test]
    fn the_frontier_round_trips_and_matches_the_recursive_root() {
        let l: Vec<Hash> = (0u32..100).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::default();
        for (n, leaf) in l.iter().enumerate() {
            f.push(*leaf);
            assert_eq!(f.root(), root(&l[..=n]));
            let back = Frontier::from_bytes(f.size(), &f.to_bytes());
            assert_eq!(back.as_ref(), Some(&f));
        }
        assert!(Frontier::from_bytes(3, &[0u8; 32]).is_none());
    }
}
