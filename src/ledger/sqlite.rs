//! The embedded ledger: one SQLite file (bundled SQLite, no system
//! library). WAL mode so readers never block the appender; `BEGIN
//! IMMEDIATE` takes the write lock before the head is read, so concurrent
//! processes append one after another (each waits up to
//! [`BUSY_TIMEOUT`] for the lock); triggers refuse UPDATE and DELETE.

use super::merkle::Hash;
use super::store::{checkpoint_after, next, Entry, SignCheckpoint, Store, StoredCheckpoint};
use super::LedgerError;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;

/// How long an append waits for another process's append to finish.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS ledger_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_entries (
  seq INTEGER PRIMARY KEY,
  envelope TEXT NOT NULL,
  leaf_hash BLOB NOT NULL,
  gate TEXT NOT NULL,
  verdict TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  policy_sha256 TEXT NOT NULL,
  signer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_subjects (
  digest TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (digest, seq)
) WITHOUT ROWID;
-- An entry's subjects, by seq (reading an entry, and verify).
CREATE INDEX IF NOT EXISTS ledger_subjects_by_seq ON ledger_subjects (seq);
CREATE TABLE IF NOT EXISTS ledger_checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  frontier BLOB NOT NULL,
  note TEXT NOT NULL
);
"#;

const TABLES: [&str; 4] = [
    "ledger_meta",
    "ledger_entries",
    "ledger_subjects",
    "ledger_checkpoints",
];

pub struct Sqlite {
    conn: Connection,
    shown: String,
}

fn db(shown: &str) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |e| LedgerError::Unavailable(format!("{shown}: {e}"))
}

impl Sqlite {
    /// Opens (creating the file if missing) the ledger at `path`.
    pub fn open(path: &Path) -> Result<Sqlite, LedgerError> {
        let shown = path.display().to_string();
        let conn = Connection::open(path).map_err(db(&shown))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db(&shown))?;
        // WAL: an append never blocks readers, and a killed writer's
        // half-written transaction is rolled back on the next open.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db(&shown))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db(&shown))?;
        Ok(Sqlite { conn, shown })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        db(&self.shown)
    }

    fn initialised(&self) -> Result<bool, LedgerError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        Ok(n == 1)
    }

    fn require_init(&self) -> Result<(), LedgerError> {
        if self.initialised()? {
            Ok(())
        } else {
            Err(LedgerError::Unavailable(format!(
                "{}: not a ledger (run `clearance ledger init` first)",
                self.shown
            )))
        }
    }
}

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let leaf: Vec<u8> = r.get(2)?;
    Ok(Entry {
        seq: r.get::<_, i64>(0)? as u64,
        envelope: r.get(1)?,
        leaf_hash: Hash::try_from(leaf.as_slice()).unwrap_or([0; 32]),
        gate: r.get(3)?,
        verdict: r.get(4)?,
        decided_at: r.get(5)?,
        policy_sha256: r.get(6)?,
        signer: r.get(7)?,
        subjects: Vec::new(),
    })
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    let root: Vec<u8> = r.get(1)?;
    Ok(StoredCheckpoint {
        size: r.get::<_, i64>(0)? as u64,
        root: Hash::try_from(root.as_slice()).unwrap_or([0; 32]),
        frontier: r.get(2)?,
        note: r.get(3)?,
    })
}

const ENTRY_COLUMNS: &str =
    "seq, envelope, leaf_hash, gate, verdict, decided_at, policy_sha256, signer";

impl Sqlite {
    fn with_subjects(&self, mut entries: Vec<Entry>) -> Result<Vec<Entry>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT digest FROM ledger_subjects WHERE seq = ?1 ORDER BY digest")
            .map_err(self.err())?;
        for e in &mut entries {
            e.subjects = stmt
                .query_map([e.seq as i64], |r| r.get(0))
                .map_err(self.err())?
                .collect::<Result<_, _>>()
                .map_err(self.err())?;
        }
        Ok(entries)
    }
}

impl Store for Sqlite {
    fn init(&mut self, origin: &str) -> Result<String, LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&self.shown))?;
        tx.execute_batch(SCHEMA).map_err(db(&self.shown))?;
        for table in TABLES {
            for op in ["UPDATE", "DELETE"] {
                tx.execute_batch(&format!(
                    "CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {op} is refused'); END;",
                    op = op.to_lowercase()
                ))
                .map_err(db(&self.shown))?;
            }
        }
        tx.execute(
            "INSERT OR IGNORE INTO ledger_meta (key, value) VALUES ('origin', ?1)",
            [origin],
        )
        .map_err(db(&self.shown))?;
        let kept: String = tx
            .query_row(
                "SELECT value FROM ledger_meta WHERE key = 'origin'",
                [],
                |r| r.get(0),
            )
            .map_err(db(&self.shown))?;
        tx.commit().map_err(db(&self.shown))?;
        Ok(kept)
    }

    fn origin(&mut self) -> Result<String, LedgerError> {
        self.require_init()?;
        self.conn
            .query_row(
                "SELECT value FROM ledger_meta WHERE key = 'origin'",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    fn append(&mut self, entry: &Entry, sign: &SignCheckpoint<'_>) -> Result<u64, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        let err = db(&shown);
        // IMMEDIATE: the write lock is taken before the head is read, so no
        // other appender can read the same head.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let head = tx
            .query_row(
                "SELECT size, root, frontier, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                checkpoint_row,
            )
            .optional()
            .map_err(&err)?;
        let frontier = next(head)?;
        let seq = frontier.size();
        let checkpoint = checkpoint_after(frontier, entry.leaf_hash, sign)?;
        tx.execute(
            &format!("INSERT INTO ledger_entries ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![
                seq as i64,
                entry.envelope,
                entry.leaf_hash.to_vec(),
                entry.gate,
                entry.verdict,
                entry.decided_at,
                entry.policy_sha256,
                entry.signer
            ],
        )
        .map_err(&err)?;
        for digest in &entry.subjects {
            tx.execute(
                "INSERT OR IGNORE INTO ledger_subjects (digest, seq) VALUES (?1, ?2)",
                params![digest, seq as i64],
            )
            .map_err(&err)?;
        }
        tx.execute(
            "INSERT INTO ledger_checkpoints (size, root, frontier, note) VALUES (?1, ?2, ?3, ?4)",
            params![
                checkpoint.size as i64,
                checkpoint.root.to_vec(),
                checkpoint.frontier,
                checkpoint.note
            ],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(seq)
    }

    fn head(&mut self) -> Result<Option<StoredCheckpoint>, LedgerError> {
        self.require_init()?;
        self.conn
            .query_row(
                "SELECT size, root, frontier, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                checkpoint_row,
            )
            .optional()
            .map_err(self.err())
    }

    fn checkpoint(&mut self, size: u64) -> Result<Option<StoredCheckpoint>, LedgerError> {
        self.require_init()?;
        self.conn
            .query_row(
                "SELECT size, root, frontier, note FROM ledger_checkpoints WHERE size = ?1",
                [size as i64],
                checkpoint_row,
            )
            .optional()
            .map_err(self.err())
    }

    fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, LedgerError> {
        self.require_init()?;
        let mut stmt = self
            .conn
            .prepare("SELECT size, root, frontier, note FROM ledger_checkpoints ORDER BY size")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], checkpoint_row)
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err());
        rows
    }

    fn entries(&mut self, below: u64) -> Result<Vec<Entry>, LedgerError> {
        self.require_init()?;
        let entries = {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq < ?1 ORDER BY seq"
                ))
                .map_err(self.err())?;
            let rows = stmt
                .query_map([below.min(i64::MAX as u64) as i64], entry_row)
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err());
            rows?
        };
        self.with_subjects(entries)
    }

    fn entries_for_subject(&mut self, digest: &str, below: u64) -> Result<Vec<Entry>, LedgerError> {
        self.require_init()?;
        let entries = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM ledger_subjects s JOIN ledger_entries e ON e.seq = s.seq \
                     WHERE s.digest = ?1 AND s.seq < ?2 ORDER BY s.seq",
                    ENTRY_COLUMNS
                        .split(", ")
                        .map(|c| format!("e.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .map_err(self.err())?;
            let rows = stmt
                .query_map(
                    params![digest, below.min(i64::MAX as u64) as i64],
                    entry_row,
                )
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err());
            rows?
        };
        self.with_subjects(entries)
    }

    fn subject_rows(&mut self) -> Result<Vec<(String, u64)>, LedgerError> {
        self.require_init()?;
        let mut stmt = self
            .conn
            .prepare("SELECT digest, seq FROM ledger_subjects ORDER BY seq, digest")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err());
        rows
    }
}
