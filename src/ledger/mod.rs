//! The promotion ledger (TRUST.md section 4): an append-only,
//! tamper-evident history of signed decisions, so a rule can require that
//! *this digest* cleared the upstream gate, from signed history rather than
//! from evidence the CI job wrote itself.
//!
//! - `store`: the storage trait, with `sqlite` (embedded) and `postgres`
//!   (shared) behind it;
//! - `merkle`: the RFC 6962 tree over the entries, its compact frontier and
//!   proofs; `note`: checkpoints as C2SP signed notes.
//!
//! An entry is the `attestation` envelope of a decision (TRUST.md section
//! 3) with indexed copies of its fields. Every append writes a checkpoint
//! signed with the appender's key, in the same transaction. What rules see
//! comes from the signed envelopes, never from the indexed copies; the
//! copies only find them, and `verify` checks that they agree.

pub mod merkle;
pub mod note;
mod postgres;
pub use postgres::redact;
mod sqlite;
pub mod store;

use crate::attest::PublicKey;
use crate::eval::Value;
use crate::sign::{SigningKey, DECISION_PREDICATE};
use merkle::{Frontier, Hash};
use std::rc::Rc;
pub use store::{Entry, Store, StoredCheckpoint};

/// Why a ledger operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The database cannot be reached, opened or read, or is not a ledger.
    #[error("ledger: {0}")]
    Unavailable(String),
    /// What was asked cannot be done (an unknown seq, a size beyond the head).
    #[error("ledger: {0}")]
    Refused(String),
    /// The stored history is not what was signed.
    #[error("ledger tampered at seq {seq}: {what}")]
    Tampered { seq: u64, what: String },
}

/// Opens the ledger named by `spec`: `sqlite:PATH` or a path ending in
/// `.db` (SQLite), `postgres://...` or `postgresql://...` (PostgreSQL).
/// Only `ledger init` (`create`) makes a new SQLite file: anywhere else a
/// missing file is a mistyped name, not an empty history.
pub fn open(spec: &str, create: bool) -> Result<Box<dyn Store>, LedgerError> {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        return Ok(Box::new(postgres::Postgres::open(spec)?));
    }
    let path = match spec.strip_prefix("sqlite:") {
        Some(path) => path,
        None if spec.ends_with(".db") => spec,
        None => {
            return Err(LedgerError::Refused(format!(
                "`{spec}` names no ledger: use `sqlite:PATH`, a path ending in `.db`, or `postgres://USER@HOST/DB`"
            )))
        }
    };
    let path = std::path::Path::new(path);
    if !create && !path.exists() {
        return Err(LedgerError::Unavailable(format!(
            "{}: no such ledger (create it with `clearance ledger init {spec}`)",
            path.display()
        )));
    }
    Ok(Box::new(sqlite::Sqlite::open(path)?))
}

/// `clearance ledger init`: the schema, and the origin its checkpoints
/// name (a new ledger gets `origin`, or `clearance-ledger/<random>`; an
/// existing one keeps its own, which is returned).
pub fn init(store: &mut dyn Store, origin: Option<&str>) -> Result<String, LedgerError> {
    let origin = match origin {
        Some(o) if o.is_empty() || o.contains('\n') || o.contains(char::is_whitespace) => {
            return Err(LedgerError::Refused(format!(
                "the origin {o:?} must be one word (no spaces or line breaks): it is the first line of every checkpoint"
            )))
        }
        Some(o) => o.to_string(),
        None => {
            let mut bytes = [0u8; 8];
            getrandom::getrandom(&mut bytes)
                .map_err(|e| LedgerError::Unavailable(format!("no random source: {e}")))?;
            format!("clearance-ledger/{}", hex(&bytes))
        }
    };
    store.init(&origin)
}

/// A key whose signatures the ledger trusts (`--trust`, `--ledger-trust`).
#[derive(Clone, Debug)]
pub struct TrustedKey {
    key: PublicKey,
    pub key_id: String,
    /// The raw Ed25519 key, for checkpoint notes (other kinds sign no notes).
    raw: Option<[u8; 32]>,
    pub source: String,
}

impl TrustedKey {
    pub fn from_pem(pem: &str, source: &str) -> Result<TrustedKey, LedgerError> {
        let (key, key_id) = PublicKey::from_pem(pem)
            .map_err(|e| LedgerError::Refused(format!("the trusted key `{source}`: {e}")))?;
        let raw = match &key {
            PublicKey::Ed25519(k) => Some(k.to_bytes()),
            _ => None,
        };
        Ok(TrustedKey {
            key,
            key_id,
            raw,
            source: source.to_string(),
        })
    }

    pub fn load(path: &std::path::Path) -> Result<TrustedKey, LedgerError> {
        let pem = std::fs::read_to_string(path).map_err(|e| {
            LedgerError::Refused(format!(
                "cannot read the trusted key `{}`: {e}",
                path.display()
            ))
        })?;
        Self::from_pem(&pem, &path.display().to_string())
    }

    fn signed_note(&self, note: &note::Checkpoint) -> bool {
        self.raw.is_some_and(|raw| note::signed_by(note, &raw))
    }
}

/// What an entry's signed envelope says: the `ledger.decisions` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub seq: u64,
    pub gate: String,
    pub verdict: String,
    pub decided_at: String,
    pub policy_sha256: String,
    pub signer: String,
    pub subjects: Vec<String>,
}

/// The fields of a decision statement (the `attestation` predicate).
fn decision_fields(statement: &serde_json::Value) -> Result<Decision, String> {
    if statement.get("predicateType").and_then(|t| t.as_str()) != Some(DECISION_PREDICATE) {
        return Err(format!(
            "the envelope is not a decision (`predicateType` is not `{DECISION_PREDICATE}`)"
        ));
    }
    let p = &statement["predicate"];
    let text = |field: &str| {
        p.get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("the decision has no `{field}`"))
    };
    let files: Vec<(&str, &str)> = p
        .pointer("/record/policy_files")
        .and_then(|f| f.as_array())
        .ok_or("the decision has no `record.policy_files`")?
        .iter()
        .filter_map(|f| Some((f.get("file")?.as_str()?, f.get("sha256")?.as_str()?)))
        .collect();
    if files.is_empty() {
        return Err("the decision's record names no policy file".into());
    }
    let subjects = statement["subject"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| s.pointer("/digest/sha256").and_then(|h| h.as_str()))
                .map(|h| format!("sha256:{h}"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if subjects.is_empty() {
        return Err("the decision has no subject".into());
    }
    let mut subjects = subjects;
    subjects.sort();
    subjects.dedup();
    Ok(Decision {
        seq: 0,
        gate: text("subject")?,
        verdict: text("decision")?,
        decided_at: text("now")?,
        policy_sha256: crate::sign::statement::policy_digest_of(&files),
        signer: String::new(),
        subjects,
    })
}

/// The decision of a stored entry, if its envelope is signed by a trusted
/// key and its leaf hash is its own; otherwise what is wrong.
fn open_entry(e: &Entry, trusted: &[TrustedKey]) -> Result<Decision, String> {
    if merkle::leaf_hash(e.envelope.as_bytes()) != e.leaf_hash {
        return Err("the stored leaf hash is not the hash of the stored envelope".into());
    }
    let mut last = None;
    for k in trusted {
        match crate::sign::verify::open("the envelope", &e.envelope, &k.key, &k.key_id, None) {
            Ok((_, statement)) => {
                let mut d = decision_fields(&statement)?;
                d.seq = e.seq;
                d.signer = k.key_id.clone();
                return Ok(d);
            }
            Err(err) => last = Some(err),
        }
    }
    let named: Vec<String> = serde_json::from_str::<serde_json::Value>(&e.envelope)
        .ok()
        .and_then(|v| v.get("signatures").cloned())
        .and_then(|s| s.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.get("keyid").and_then(|k| k.as_str()).map(str::to_string))
        .collect();
    Err(match last {
        Some(e) if e.0.contains("no signature verifies") => format!(
            "signed by no trusted key (the envelope names key {}; trusted: {})",
            if named.is_empty() {
                "none".into()
            } else {
                named.join(", ")
            },
            trusted
                .iter()
                .map(|k| k.key_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(e) => e.0,
        None => "no key is trusted".into(),
    })
}

/// Whether the indexed copies of `e` are what its envelope says.
fn copies_match(e: &Entry, d: &Decision) -> Result<(), String> {
    let pairs = [
        ("gate", &e.gate, &d.gate),
        ("verdict", &e.verdict, &d.verdict),
        ("decided_at", &e.decided_at, &d.decided_at),
        ("policy_sha256", &e.policy_sha256, &d.policy_sha256),
        ("signer", &e.signer, &d.signer),
    ];
    for (field, stored, signed) in pairs {
        if stored != signed {
            return Err(format!(
                "the indexed `{field}` is {stored:?}, the signed envelope says {signed:?}"
            ));
        }
    }
    let mut stored = e.subjects.clone();
    stored.sort();
    if stored != d.subjects {
        return Err(format!(
            "the subject index lists {stored:?}, the signed envelope is about {:?}",
            d.subjects
        ));
    }
    Ok(())
}

/// The entry for a decision this process just signed.
pub fn entry_of(envelope: &str, key: &SigningKey) -> Result<Entry, LedgerError> {
    let refuse = |what: String| LedgerError::Refused(format!("the decision to record: {what}"));
    let (public, key_id) =
        PublicKey::from_pem(&key.public_pem().map_err(|e| refuse(e.0))?).map_err(refuse)?;
    let (_, statement) =
        crate::sign::verify::open("the decision", envelope, &public, &key_id, None)
            .map_err(|e| refuse(e.0))?;
    let d = decision_fields(&statement).map_err(refuse)?;
    Ok(Entry {
        seq: 0,
        envelope: envelope.to_string(),
        leaf_hash: merkle::leaf_hash(envelope.as_bytes()),
        gate: d.gate,
        verdict: d.verdict,
        decided_at: d.decided_at,
        policy_sha256: d.policy_sha256,
        signer: key_id,
        subjects: d.subjects,
    })
}

/// `check --record`: appends the signed decision `envelope`, and a
/// checkpoint signed by the same key, in one transaction; returns its seq.
pub fn record(store: &mut dyn Store, envelope: &str, key: &SigningKey) -> Result<u64, LedgerError> {
    let origin = store.origin()?;
    let entry = entry_of(envelope, key)?;
    store.append(&entry, &|size, root| {
        Ok(note::sign(&origin, size, root, key))
    })
}

/// The size and root a decision read the ledger at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub size: u64,
    pub root: Hash,
}

impl Snapshot {
    pub fn root_hex(&self) -> String {
        hex(&self.root)
    }
}

/// The ledger as of now (its newest checkpoint), or as of `at` entries
/// (`--ledger-at`, to replay a decision).
pub fn snapshot(store: &mut dyn Store, at: Option<u64>) -> Result<Snapshot, LedgerError> {
    let head = store.head()?;
    let head_size = head.as_ref().map_or(0, |c| c.size);
    let Some(at) = at else {
        return Ok(match head {
            Some(c) => Snapshot {
                size: c.size,
                root: c.root,
            },
            None => Snapshot {
                size: 0,
                root: merkle::empty_root(),
            },
        });
    };
    if at > head_size {
        return Err(LedgerError::Refused(format!(
            "`--ledger-at {at}`: the ledger has {head_size} entries"
        )));
    }
    if at == 0 {
        return Ok(Snapshot {
            size: 0,
            root: merkle::empty_root(),
        });
    }
    let c = store.checkpoint(at)?.ok_or_else(|| LedgerError::Tampered {
        seq: at - 1,
        what: format!("no checkpoint at size {at}"),
    })?;
    Ok(Snapshot {
        size: c.size,
        root: c.root,
    })
}

/// The `ledger` value of `subjects` and the snapshot it was read at: the
/// newest checkpoint, or `at` entries (see [`snapshot`] and [`value`]).
pub fn read(
    store: &mut dyn Store,
    subjects: &[String],
    at: Option<u64>,
    trusted: &[TrustedKey],
) -> Result<(Value, Snapshot), LedgerError> {
    let snapshot = snapshot(store, at)?;
    let value = value(store, subjects, &snapshot, trusted)?;
    Ok((value, snapshot))
}

/// The `ledger` value rules read (TRUST.md section 4): the entries of the
/// snapshot whose subject is one of `subjects` and whose envelope a
/// trusted key signed, oldest first. Entries that do not verify are left
/// out (they cannot be history anyone signed); `verify` reports them.
pub fn value(
    store: &mut dyn Store,
    subjects: &[String],
    snapshot: &Snapshot,
    trusted: &[TrustedKey],
) -> Result<Value, LedgerError> {
    let mut entries: Vec<Entry> = Vec::new();
    for digest in subjects {
        entries.extend(store.entries_for_subject(digest, snapshot.size)?);
    }
    entries.sort_by_key(|e| e.seq);
    entries.dedup_by_key(|e| e.seq);
    let decisions: Vec<Value> = entries
        .iter()
        .filter_map(|e| open_entry(e, trusted).ok())
        .map(|d| decision_value(&d))
        .collect();
    let mut root = crate::eval::value::Object::default();
    root.insert(Rc::from("decisions"), Value::list(decisions));
    Ok(Value::Object(root.into()))
}

fn decision_value(d: &Decision) -> Value {
    let mut o = crate::eval::value::Object::default();
    o.insert(
        Rc::from("seq"),
        Value::Int(d.seq.min(i64::MAX as u64) as i64),
    );
    o.insert(Rc::from("gate"), Value::str(&d.gate));
    o.insert(Rc::from("verdict"), Value::str(&d.verdict));
    o.insert(Rc::from("decided_at"), Value::str(&d.decided_at));
    o.insert(Rc::from("policy_sha256"), Value::str(&d.policy_sha256));
    o.insert(Rc::from("signer"), Value::str(&d.signer));
    Value::Object(o.into())
}

/// What `ledger verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        size: u64,
        root: Hash,
        /// The size of the external checkpoint proven consistent, if given.
        external: Option<u64>,
    },
    Tampered {
        seq: u64,
        what: String,
    },
}

/// `ledger verify`: recomputes the tree from the stored envelopes, checks
/// every signature and indexed copy, every checkpoint (signature, root,
/// frontier, one per size), and with `external` (a checkpoint kept
/// elsewhere) that the ledger still extends it. The first problem, by seq,
/// is the verdict.
pub fn verify(
    store: &mut dyn Store,
    trusted: &[TrustedKey],
    external: Option<&str>,
) -> Result<Verdict, LedgerError> {
    let origin = store.origin()?;
    let entries = store.entries(u64::MAX)?;
    let mut problems: Vec<(u64, String)> = Vec::new();
    let mut leaves: Vec<Hash> = Vec::with_capacity(entries.len());
    let mut signed_subjects: Vec<Vec<String>> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let i = i as u64;
        if e.seq != i {
            problems.push((
                i,
                format!(
                    "seq {i} is missing (the next stored entry is seq {})",
                    e.seq
                ),
            ));
            break;
        }
        leaves.push(merkle::leaf_hash(e.envelope.as_bytes()));
        match open_entry(e, trusted).and_then(|d| copies_match(e, &d).map(|()| d)) {
            Ok(d) => signed_subjects.push(d.subjects),
            Err(what) => {
                problems.push((i, what));
                signed_subjects.push(Vec::new());
            }
        }
    }
    let n = leaves.len() as u64;
    for (digest, seq) in store.subject_rows()? {
        let listed = signed_subjects.get(seq as usize);
        if !listed.is_some_and(|s| s.contains(&digest))
            && (seq >= n || !problems.iter().any(|(s, _)| *s == seq))
        {
            problems.push((
                seq.min(n),
                format!("the subject index lists {digest} for seq {seq}, which is not about it"),
            ));
        }
    }
    // One checkpoint per size, each the tree of the entries up to it.
    let checkpoints = store.checkpoints()?;
    let mut by_size = checkpoints.iter().peekable();
    let mut frontier = Frontier::default();
    for (i, leaf) in leaves.iter().enumerate() {
        frontier.push(*leaf);
        let size = i as u64 + 1;
        while by_size.peek().is_some_and(|c| c.size < size) {
            by_size.next();
        }
        match by_size.peek() {
            Some(c) if c.size == size => {
                if let Err(what) = checkpoint_ok(c, &frontier, &origin, trusted) {
                    problems.push((i as u64, what));
                }
                by_size.next();
            }
            _ => problems.push((i as u64, format!("there is no checkpoint at size {size}"))),
        }
    }
    if let Some(c) = checkpoints.iter().find(|c| c.size > n || c.size == 0) {
        problems.push((
            n,
            format!(
                "a checkpoint commits to {} entries, but {n} are stored: entries from seq {n} on were deleted",
                c.size
            ),
        ));
    }
    let mut proven = None;
    if let Some(text) = external {
        match external_ok(text, &leaves, &origin, trusted) {
            Ok(size) => proven = Some(size),
            Err((seq, what)) => problems.push((seq, what)),
        }
    }
    Ok(match problems.into_iter().min_by_key(|(seq, _)| *seq) {
        Some((seq, what)) => Verdict::Tampered { seq, what },
        None => Verdict::Intact {
            size: n,
            root: frontier.root(),
            external: proven,
        },
    })
}

fn checkpoint_ok(
    c: &StoredCheckpoint,
    frontier: &Frontier,
    origin: &str,
    trusted: &[TrustedKey],
) -> Result<(), String> {
    let size = c.size;
    if c.root != frontier.root() || c.frontier != frontier.to_bytes() {
        return Err(format!(
            "the checkpoint at size {size} is not the tree of the stored entries"
        ));
    }
    let note = note::Checkpoint::parse(&c.note)
        .map_err(|e| format!("the checkpoint at size {size} is not a signed note: {e}"))?;
    if note.origin != origin || note.size != size || note.root != c.root {
        return Err(format!(
            "the signed note at size {size} says {} / {} / {}, not what is stored",
            note.origin,
            note.size,
            hex(&note.root)
        ));
    }
    if !trusted.iter().any(|k| k.signed_note(&note)) {
        return Err(format!(
            "the checkpoint at size {size} is signed by no trusted key"
        ));
    }
    Ok(())
}

/// Checks an externally kept checkpoint against the stored leaves: signed
/// by a trusted key, of this ledger, and consistent with the head (a
/// consistency proof is built and checked as a third party would).
fn external_ok(
    text: &str,
    leaves: &[Hash],
    origin: &str,
    trusted: &[TrustedKey],
) -> Result<u64, (u64, String)> {
    let n = leaves.len() as u64;
    let note = note::Checkpoint::parse(text).map_err(|e| {
        (
            0,
            format!("the external checkpoint is not a signed note: {e}"),
        )
    })?;
    if !trusted.iter().any(|k| k.signed_note(&note)) {
        return Err((
            0,
            "the external checkpoint is signed by no trusted key".into(),
        ));
    }
    if note.origin != origin {
        return Err((
            0,
            format!(
                "the external checkpoint is of the ledger `{}`, this one is `{origin}`",
                note.origin
            ),
        ));
    }
    if note.size > n {
        return Err((
            n,
            format!(
                "the external checkpoint commits to {} entries, but {n} are stored: entries from seq {n} on were deleted",
                note.size
            ),
        ));
    }
    if note.size == 0 {
        return Ok(0);
    }
    let head = merkle::root(leaves);
    let proof = merkle::consistency_proof(leaves, note.size as usize).unwrap_or_default();
    if !merkle::consistent(note.size, n, &note.root, &head, &proof) {
        // Name the first entry whose history differs from the checkpoint's.
        return Err((
            note.size - 1,
            format!(
                "the stored history up to size {} is not the one the external checkpoint signed",
                note.size
            ),
        ));
    }
    Ok(note.size)
}

/// `ledger prove SEQ`: the entry, its inclusion proof in the newest tree,
/// and that tree's signed checkpoint, checkable without the database
/// (docs/ledger.md shows how).
pub fn prove(store: &mut dyn Store, seq: u64) -> Result<serde_json::Value, LedgerError> {
    let head = store
        .head()?
        .ok_or_else(|| LedgerError::Refused("the ledger is empty".into()))?;
    if seq >= head.size {
        return Err(LedgerError::Refused(format!(
            "the ledger has no seq {seq} (it has {} entries)",
            head.size
        )));
    }
    let entries = store.entries(head.size)?;
    let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
    let entry = entries
        .get(seq as usize)
        .filter(|e| e.seq == seq)
        .ok_or_else(|| LedgerError::Tampered {
            seq,
            what: "the entry is missing".into(),
        })?;
    let proof = merkle::inclusion_proof(&leaves, seq as usize).unwrap_or_default();
    Ok(serde_json::json!({
        "seq": seq,
        "tree_size": head.size,
        "leaf_hash": hex(&entry.leaf_hash),
        "inclusion_proof": proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
        "checkpoint": head.note,
        "envelope": entry.envelope,
    }))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
