//! Where the ledger lives: one small trait, two real implementations
//! (SQLite embedded, PostgreSQL shared). A store holds rows and hands out
//! one transaction per append that locks the head; everything that makes
//! the rows trustworthy (signatures, the Merkle tree, the checkpoints) is
//! computed above it, in `super`, the same for both.

use super::merkle::{Frontier, Hash};
use super::LedgerError;

/// A decision as stored: the signed envelope and its indexed copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    /// The `attestation` envelope of TRUST.md section 3, as signed.
    pub envelope: String,
    /// RFC 6962 leaf hash of the envelope's bytes.
    pub leaf_hash: Hash,
    /// `dev -> staging`.
    pub gate: String,
    /// `allowed` or `denied`.
    pub verdict: String,
    /// RFC 3339, the decision's `now`.
    pub decided_at: String,
    /// Hex policy digest (TRUST.md section 3).
    pub policy_sha256: String,
    /// Hex SHA-256 of the signing key's SubjectPublicKeyInfo DER.
    pub signer: String,
    /// `sha256:HEX` of every subject.
    pub subjects: Vec<String>,
}

/// A signed checkpoint and the frontier of the tree it commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub frontier: Vec<u8>,
    /// The signed note.
    pub note: String,
}

/// What an append writes, besides the entry: the checkpoint after it,
/// signed by the caller once the new root is known.
pub type SignCheckpoint<'a> = dyn Fn(u64, &Hash) -> Result<String, LedgerError> + 'a;

pub trait Store: Send {
    /// Creates the tables, the subject index and the triggers that refuse
    /// UPDATE and DELETE, and records the ledger's origin. Idempotent:
    /// an initialised ledger keeps its origin and reports it.
    fn init(&mut self, origin: &str) -> Result<String, LedgerError>;
    /// The origin `init` recorded (the checkpoints' first line).
    fn origin(&mut self) -> Result<String, LedgerError>;
    /// Appends `entry` (its `seq` is ignored) as the next sequence number,
    /// in one transaction that first locks the head, so that concurrent
    /// appenders from any number of processes get gapless numbers; writes
    /// the entry, its subject index rows and the checkpoint `sign` makes.
    /// Returns the entry's seq.
    fn append(&mut self, entry: &Entry, sign: &SignCheckpoint<'_>) -> Result<u64, LedgerError>;
    /// The newest checkpoint (`None` for an empty ledger).
    fn head(&mut self) -> Result<Option<StoredCheckpoint>, LedgerError>;
    /// The checkpoint written when the ledger had `size` entries.
    fn checkpoint(&mut self, size: u64) -> Result<Option<StoredCheckpoint>, LedgerError>;
    /// Every checkpoint, by size.
    fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, LedgerError>;
    /// Every entry with `seq < below`, by seq (as stored: verify checks them).
    fn entries(&mut self, below: u64) -> Result<Vec<Entry>, LedgerError>;
    /// The entries with `seq < below` that the subject index lists for
    /// `digest`, by seq: the lookup rules' `ledger` value makes.
    fn entries_for_subject(&mut self, digest: &str, below: u64) -> Result<Vec<Entry>, LedgerError>;
    /// Every (digest, seq) row of the subject index, by seq then digest.
    fn subject_rows(&mut self) -> Result<Vec<(String, u64)>, LedgerError>;
}

/// The frontier after the newest checkpoint (empty for a new ledger), and
/// the next seq; shared by the stores' appends.
pub(crate) fn next(head: Option<StoredCheckpoint>) -> Result<Frontier, LedgerError> {
    match head {
        None => Ok(Frontier::default()),
        Some(c) => Frontier::from_bytes(c.size, &c.frontier).ok_or_else(|| LedgerError::Tampered {
            seq: c.size,
            what: format!(
                "the stored frontier of the checkpoint at size {} is malformed",
                c.size
            ),
        }),
    }
}

/// The checkpoint after appending `leaf` to `frontier`.
pub(crate) fn checkpoint_after(
    mut frontier: Frontier,
    leaf: Hash,
    sign: &SignCheckpoint<'_>,
) -> Result<StoredCheckpoint, LedgerError> {
    frontier.push(leaf);
    let root = frontier.root();
    let note = sign(frontier.size(), &root)?;
    Ok(StoredCheckpoint {
        size: frontier.size(),
        root,
        frontier: frontier.to_bytes(),
        note,
    })
}
