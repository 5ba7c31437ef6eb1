//! The shared ledger on PostgreSQL (14 or later), through rust-postgres.
//! Appends take a transaction-scoped advisory lock before reading the head,
//! so runners on many machines append one after another with gapless
//! sequence numbers. `init` adds triggers that refuse UPDATE, DELETE and
//! TRUNCATE for every role, the owner included, and revokes those
//! privileges as well (defence in depth: a superuser can still drop the
//! triggers, which `ledger verify` and an external checkpoint detect).
//!
//! Connections are plain TCP or a unix socket (`host=/run/postgresql`);
//! TLS to the database is not built in: reach PostgreSQL over a private
//! network or a socket, or through a TLS-terminating proxy.

use super::merkle::Hash;
use super::store::{checkpoint_after, next, Entry, SignCheckpoint, Store, StoredCheckpoint};
use super::LedgerError;
use postgres::{Client, NoTls, Row};

/// The advisory lock every append takes (any constant; this is
/// `"clearance"` in ASCII).
const APPEND_LOCK: i64 = 0x636c_6561_7261_6e63;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS ledger_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_entries (
  seq BIGINT PRIMARY KEY CHECK (seq >= 0),
  envelope TEXT NOT NULL,
  leaf_hash BYTEA NOT NULL,
  gate TEXT NOT NULL,
  verdict TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  policy_sha256 TEXT NOT NULL,
  signer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_subjects (
  digest TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (digest, seq)
);
-- An entry's subjects, by seq (reading an entry, and verify).
CREATE INDEX IF NOT EXISTS ledger_subjects_by_seq ON ledger_subjects (seq);
CREATE TABLE IF NOT EXISTS ledger_checkpoints (
  size BIGINT PRIMARY KEY,
  root BYTEA NOT NULL,
  frontier BYTEA NOT NULL,
  note TEXT NOT NULL
);
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % is refused', TG_OP;
END
$$;
"#;

const TABLES: [&str; 4] = [
    "ledger_meta",
    "ledger_entries",
    "ledger_subjects",
    "ledger_checkpoints",
];

pub struct Postgres {
    client: Client,
    shown: String,
}

fn db(shown: &str) -> impl Fn(postgres::Error) -> LedgerError + '_ {
    move |e| {
        // The server's own message (a refused UPDATE, a missing table) is
        // what the operator needs; the driver's wrapper adds nothing.
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        LedgerError::Unavailable(format!("{shown}: {detail}"))
    }
}

impl Postgres {
    /// Connects to `url` (`postgres://user@host/db` or `postgresql://...`).
    pub fn open(url: &str) -> Result<Postgres, LedgerError> {
        // Never echo a password from the URL into an error message.
        let shown = redact(url);
        let client = Client::connect(url, NoTls).map_err(db(&shown))?;
        Ok(Postgres { client, shown })
    }

    fn require_init(&mut self) -> Result<(), LedgerError> {
        let shown = self.shown.clone();
        let row = self
            .client
            .query_one("SELECT to_regclass('ledger_meta') IS NOT NULL", &[])
            .map_err(db(&shown))?;
        if row.get::<_, bool>(0) {
            Ok(())
        } else {
            Err(LedgerError::Unavailable(format!(
                "{shown}: not a ledger (run `clearance ledger init` first)"
            )))
        }
    }
}

/// `postgres://user:secret@host/db` shown as `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

fn entry_row(r: &Row) -> Entry {
    let leaf: Vec<u8> = r.get(2);
    Entry {
        seq: r.get::<_, i64>(0) as u64,
        envelope: r.get(1),
        leaf_hash: Hash::try_from(leaf.as_slice()).unwrap_or([0; 32]),
        gate: r.get(3),
        verdict: r.get(4),
        decided_at: r.get(5),
        policy_sha256: r.get(6),
        signer: r.get(7),
        subjects: Vec::new(),
    }
}

fn checkpoint_row(r: &Row) -> StoredCheckpoint {
    let root: Vec<u8> = r.get(1);
    StoredCheckpoint {
        size: r.get::<_, i64>(0) as u64,
        root: Hash::try_from(root.as_slice()).unwrap_or([0; 32]),
        frontier: r.get(2),
        note: r.get(3),
    }
}

const ENTRY_COLUMNS: &str =
    "e.seq, e.envelope, e.leaf_hash, e.gate, e.verdict, e.decided_at, e.policy_sha256, e.signer";

fn bound(below: u64) -> i64 {
    below.min(i64::MAX as u64) as i64
}

impl Postgres {
    fn with_subjects(&mut self, mut entries: Vec<Entry>) -> Result<Vec<Entry>, LedgerError> {
        let shown = self.shown.clone();
        let seqs: Vec<i64> = entries.iter().map(|e| e.seq as i64).collect();
        let rows = self
            .client
            .query(
                "SELECT seq, digest FROM ledger_subjects WHERE seq = ANY($1) ORDER BY seq, digest",
                &[&seqs],
            )
            .map_err(db(&shown))?;
        let mut by_seq: std::collections::HashMap<u64, Vec<String>> = Default::default();
        for r in rows {
            by_seq
                .entry(r.get::<_, i64>(0) as u64)
                .or_default()
                .push(r.get(1));
        }
        for e in &mut entries {
            e.subjects = by_seq.remove(&e.seq).unwrap_or_default();
        }
        Ok(entries)
    }
}

impl Store for Postgres {
    fn init(&mut self, origin: &str) -> Result<String, LedgerError> {
        let shown = self.shown.clone();
        let err = db(&shown);
        let mut tx = self.client.transaction().map_err(&err)?;
        // Two runners initialising at once must not race on CREATE.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
            .map_err(&err)?;
        tx.batch_execute(SCHEMA).map_err(&err)?;
        for table in TABLES {
            tx.batch_execute(&format!(
                "CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                   FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
                 CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                   FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
                 REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC;
                 REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM CURRENT_USER;"
            ))
            .map_err(&err)?;
        }
        tx.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('origin', $1) ON CONFLICT (key) DO NOTHING",
            &[&origin],
        )
        .map_err(&err)?;
        let kept: String = tx
            .query_one("SELECT value FROM ledger_meta WHERE key = 'origin'", &[])
            .map_err(&err)?
            .get(0);
        tx.commit().map_err(&err)?;
        Ok(kept)
    }

    fn origin(&mut self) -> Result<String, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        Ok(self
            .client
            .query_one("SELECT value FROM ledger_meta WHERE key = 'origin'", &[])
            .map_err(db(&shown))?
            .get(0))
    }

    fn append(&mut self, entry: &Entry, sign: &SignCheckpoint<'_>) -> Result<u64, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        let err = db(&shown);
        let mut tx = self.client.transaction().map_err(&err)?;
        // The lock before the read: no other appender reads this head.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
            .map_err(&err)?;
        let head = tx
            .query_opt(
                "SELECT size, root, frontier, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )
            .map_err(&err)?
            .map(|r| checkpoint_row(&r));
        let frontier = next(head)?;
        let seq = frontier.size() as i64;
        let checkpoint = checkpoint_after(frontier, entry.leaf_hash, sign)?;
        tx.execute(
            "INSERT INTO ledger_entries (seq, envelope, leaf_hash, gate, verdict, decided_at, policy_sha256, signer) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &seq,
                &entry.envelope,
                &entry.leaf_hash.to_vec(),
                &entry.gate,
                &entry.verdict,
                &entry.decided_at,
                &entry.policy_sha256,
                &entry.signer,
            ],
        )
        .map_err(&err)?;
        for digest in &entry.subjects {
            tx.execute(
                "INSERT INTO ledger_subjects (digest, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[digest, &seq],
            )
            .map_err(&err)?;
        }
        tx.execute(
            "INSERT INTO ledger_checkpoints (size, root, frontier, note) VALUES ($1, $2, $3, $4)",
            &[
                &(checkpoint.size as i64),
                &checkpoint.root.to_vec(),
                &checkpoint.frontier,
                &checkpoint.note,
            ],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(seq as u64)
    }

    fn head(&mut self) -> Result<Option<StoredCheckpoint>, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        Ok(self
            .client
            .query_opt(
                "SELECT size, root, frontier, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )
            .map_err(db(&shown))?
            .map(|r| checkpoint_row(&r)))
    }

    fn checkpoint(&mut self, size: u64) -> Result<Option<StoredCheckpoint>, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        Ok(self
            .client
            .query_opt(
                "SELECT size, root, frontier, note FROM ledger_checkpoints WHERE size = $1",
                &[&bound(size)],
            )
            .map_err(db(&shown))?
            .map(|r| checkpoint_row(&r)))
    }

    fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        Ok(self
            .client
            .query(
                "SELECT size, root, frontier, note FROM ledger_checkpoints ORDER BY size",
                &[],
            )
            .map_err(db(&shown))?
            .iter()
            .map(checkpoint_row)
            .collect())
    }

    fn entries(&mut self, below: u64) -> Result<Vec<Entry>, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        let entries = self
            .client
            .query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM ledger_entries e WHERE e.seq < $1 ORDER BY e.seq"
                ),
                &[&bound(below)],
            )
            .map_err(db(&shown))?
            .iter()
            .map(entry_row)
            .collect();
        self.with_subjects(entries)
    }

    fn entries_for_subject(&mut self, digest: &str, below: u64) -> Result<Vec<Entry>, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        let entries = self
            .client
            .query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM ledger_subjects s JOIN ledger_entries e ON e.seq = s.seq \
                     WHERE s.digest = $1 AND s.seq < $2 ORDER BY s.seq"
                ),
                &[&digest, &bound(below)],
            )
            .map_err(db(&shown))?
            .iter()
            .map(entry_row)
            .collect();
        self.with_subjects(entries)
    }

    fn subject_rows(&mut self) -> Result<Vec<(String, u64)>, LedgerError> {
        self.require_init()?;
        let shown = self.shown.clone();
        Ok(self
            .client
            .query(
                "SELECT digest, seq FROM ledger_subjects ORDER BY seq, digest",
                &[],
            )
            .map_err(db(&shown))?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            super::redact("postgres://ci:s3cret@db:5432/ledger"),
            "postgres://ci:***@db:5432/ledger"
        );
        assert_eq!(
            super::redact("postgres://ci@db/ledger"),
            "postgres://ci@db/ledger"
        );
    }
}
