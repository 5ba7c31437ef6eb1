//! `clearance ledger`: create, inspect, prove and verify the promotion
//! ledger (TRUST.md section 4).

use super::{plain_error, NoDecision};
use crate::ledger::{self, LedgerError, TrustedKey, Verdict};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Create the ledger's tables, subject index and the triggers that
    /// refuse UPDATE and DELETE (idempotent: an existing ledger is kept).
    Init(InitArgs),
    /// Recompute the tree from the stored envelopes and check every
    /// signature, indexed copy and checkpoint; with `--checkpoint`, prove
    /// the ledger still extends a checkpoint kept elsewhere.
    ///
    /// Exit status: 0 intact, 1 tampered (the first bad seq and what is
    /// wrong), 2 the ledger cannot be read.
    Verify(VerifyArgs),
    /// List the entries, oldest first (those about one digest with `--subject`).
    Show(ShowArgs),
    /// Print an entry's inclusion proof and the signed checkpoint it is
    /// proven against, as JSON, checkable without the database.
    Prove(ProveArgs),
    /// Print the newest checkpoint as a signed note (keep a copy elsewhere
    /// for `ledger verify --checkpoint`).
    Checkpoint(CheckpointArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// `sqlite:PATH`, `PATH.db` or `postgres://USER@HOST/DB`.
    pub ledger: String,
    /// The origin line of its checkpoints [default: clearance-ledger/RANDOM].
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    pub ledger: String,
    /// A public key whose signatures are trusted (repeatable; required).
    #[arg(long, required = true, value_name = "PUB.pem")]
    pub trust: Vec<PathBuf>,
    /// A checkpoint kept outside the database (`ledger checkpoint` output).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    pub ledger: String,
    /// Only the entries about this digest.
    #[arg(long, value_name = "sha256:HEX")]
    pub subject: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: ShowFormat,
}

#[derive(Args, Debug)]
pub struct ProveArgs {
    pub ledger: String,
    /// The entry's sequence number.
    pub seq: u64,
}

#[derive(Args, Debug)]
pub struct CheckpointArgs {
    pub ledger: String,
}

pub fn run(args: LedgerArgs) -> Result<u8, NoDecision> {
    match args.command {
        LedgerCommand::Init(a) => {
            let mut store = ledger::open(&a.ledger, true).map_err(plain_error)?;
            let origin = ledger::init(&mut *store, a.origin.as_deref()).map_err(plain_error)?;
            super::emit(&format!("ledger {} ready (origin {origin})\n", a.ledger))?;
            Ok(0)
        }
        LedgerCommand::Verify(a) => verify(a),
        LedgerCommand::Show(a) => show(a),
        LedgerCommand::Prove(a) => {
            let mut store = ledger::open(&a.ledger, false).map_err(plain_error)?;
            let proof = ledger::prove(&mut *store, a.seq).map_err(plain_error)?;
            let mut text = serde_json::to_string_pretty(&proof)
                .map_err(|e| plain_error(format!("cannot print the proof: {e}")))?;
            text.push('\n');
            super::emit(&text)?;
            Ok(0)
        }
        LedgerCommand::Checkpoint(a) => {
            let mut store = ledger::open(&a.ledger, false).map_err(plain_error)?;
            match store.head().map_err(plain_error)? {
                Some(c) => {
                    super::emit(&c.note)?;
                    Ok(0)
                }
                None => Err(plain_error(format!(
                    "ledger {} is empty: it has no checkpoint yet",
                    a.ledger
                ))),
            }
        }
    }
}

fn verify(a: VerifyArgs) -> Result<u8, NoDecision> {
    let trusted = a
        .trust
        .iter()
        .map(|p| TrustedKey::load(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(plain_error)?;
    let external = match &a.checkpoint {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            plain_error(format!(
                "cannot read the checkpoint `{}`: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let mut store = ledger::open(&a.ledger, false).map_err(plain_error)?;
    match ledger::verify(&mut *store, &trusted, external.as_deref()) {
        Ok(Verdict::Intact {
            size,
            root,
            external,
        }) => {
            let extends = external
                .map(|s| format!("; it extends the external checkpoint at size {s}"))
                .unwrap_or_default();
            super::emit(&format!(
                "ledger {} intact: {size} entries, root {}{extends}\n",
                a.ledger,
                ledger::hex(&root)
            ))?;
            Ok(0)
        }
        // A store that cannot even be walked to its end is tampered too.
        Ok(Verdict::Tampered { seq, what }) | Err(LedgerError::Tampered { seq, what }) => {
            super::emit(&format!(
                "ledger {} tampered: seq {seq}: {what}\n",
                a.ledger
            ))?;
            Ok(1)
        }
        Err(e) => Err(plain_error(e)),
    }
}

fn show(a: ShowArgs) -> Result<u8, NoDecision> {
    let mut store = ledger::open(&a.ledger, false).map_err(plain_error)?;
    let size = store.head().map_err(plain_error)?.map_or(0, |c| c.size);
    let entries = match &a.subject {
        Some(digest) => {
            crate::sign::subject::parse_digest(digest)
                .map_err(|e| plain_error(format!("`--subject`: {e}")))?;
            store.entries_for_subject(digest, size)
        }
        None => store.entries(size),
    }
    .map_err(plain_error)?;
    let text = match a.format {
        ShowFormat::Json => {
            let rows: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "seq": e.seq,
                        "gate": e.gate,
                        "verdict": e.verdict,
                        "decided_at": e.decided_at,
                        "subjects": e.subjects,
                        "policy_sha256": e.policy_sha256,
                        "signer": e.signer,
                        "leaf_hash": ledger::hex(&e.leaf_hash),
                    })
                })
                .collect();
            let mut t = serde_json::to_string_pretty(&rows)
                .map_err(|e| plain_error(format!("cannot print the entries: {e}")))?;
            t.push('\n');
            t
        }
        ShowFormat::Human => {
            let mut t = String::new();
            for e in &entries {
                t.push_str(&format!(
                    "{:>6}  {}  {:<7}  {}  {}  signer {}\n",
                    e.seq,
                    e.decided_at,
                    e.verdict,
                    e.gate,
                    e.subjects.join(","),
                    e.signer.get(..16).unwrap_or(&e.signer)
                ));
            }
            t.push_str(&format!(
                "{} entr{} (indexed copies; `clearance ledger verify` checks them against the signed envelopes)\n",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            ));
            t
        }
    };
    super::emit(&text)?;
    Ok(0)
}
