//! Where evidence comes from, and the one bounded reader every evidence
//! byte goes through.

use super::{Evidence, EvidenceError, EvidenceText};
use crate::limits::Limits;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One piece of evidence the caller names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file on disk; `mount` names it `evidence.NAME`.
    File {
        mount: Option<String>,
        path: PathBuf,
    },
    /// Standard input (`-`), read once.
    Stdin { mount: Option<String> },
    /// Text already in memory (a server request, an embedder, a test),
    /// under the name reports show for it.
    Text {
        mount: Option<String>,
        name: String,
        text: Arc<String>,
    },
}

impl Source {
    /// An `--evidence` argument: `FILE`, `-`, or `NAME=FILE`. A file whose
    /// own name contains `=` is taken as a file when it exists.
    pub fn from_arg(arg: &str) -> Source {
        let (mount, path) = match split_mount(arg) {
            Some((name, path)) if !Path::new(arg).exists() => (Some(name.to_string()), path),
            _ => (None, arg),
        };
        if path == "-" {
            Source::Stdin { mount }
        } else {
            Source::File {
                mount,
                path: PathBuf::from(path),
            }
        }
    }

    fn mount(&self) -> Option<&str> {
        match self {
            Source::File { mount, .. } | Source::Stdin { mount } | Source::Text { mount, .. } => {
                mount.as_deref()
            }
        }
    }
}

/// `NAME=VALUE` with a lower-case name (`--evidence NAME=FILE`, `--param`).
pub(crate) fn split_mount(s: &str) -> Option<(&str, &str)> {
    let (name, value) = s.split_once('=')?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    valid.then_some((name, value))
}

/// Reads every source once (standard input at most once).
pub fn read(sources: &[Source], limits: &Limits) -> Result<Evidence, EvidenceError> {
    let mut files = Vec::with_capacity(sources.len());
    let mut stdin_used = false;
    for source in sources {
        let (name, text) = match source {
            Source::Stdin { .. } => {
                if stdin_used {
                    return Err(EvidenceError::input(
                        "standard input (`-`) can be read only once",
                    ));
                }
                stdin_used = true;
                let name = "<stdin>".to_string();
                let bytes =
                    bounded(std::io::stdin().lock(), limits.evidence_bytes, 0).map_err(|e| {
                        EvidenceError::input(format!(
                            "cannot read evidence from standard input: {e}"
                        ))
                    })?;
                let text = text_of(&name, bytes, limits.evidence_bytes)?;
                (name, Arc::new(text))
            }
            Source::File { path, .. } => {
                let name = path.display().to_string();
                if let Some(deferred) = streamable(path, &name, limits.evidence_bytes) {
                    files.push(EvidenceText::deferred(
                        source.mount().map(str::to_string),
                        name,
                        deferred,
                    ));
                    continue;
                }
                let text = read_limited(path, limits.evidence_bytes)?;
                (name, Arc::new(text))
            }
            Source::Text { name, text, .. } => {
                if text.len() as u64 > limits.evidence_bytes {
                    return Err(over_limit(name, limits.evidence_bytes));
                }
                (name.clone(), text.clone())
            }
        };
        files.push(EvidenceText::new(
            source.mount().map(str::to_string),
            name,
            text,
        ));
    }
    Ok(Evidence { files })
}

/// A regular JSON file large enough to be read as a stream
/// (`evidence::stream`), within the limit. Anything else is read whole,
/// which says what is wrong with it.
fn streamable(path: &Path, name: &str, max_bytes: u64) -> Option<super::stream::Deferred> {
    let meta = std::fs::metadata(path).ok()?;
    let large = meta.len() >= super::stream::STREAM_FROM && meta.len() <= max_bytes;
    (meta.is_file() && large && super::Format::of(name) == super::Format::Json)
        .then(|| super::stream::Deferred::new(path.to_path_buf(), name.to_string(), max_bytes))
}

/// Reads one evidence file of at most `max_bytes`: a regular file, or a
/// pipe (`<(...)`, a FIFO), never a directory or a device (`/dev/zero`
/// would never end). The limit holds however the file grows while read.
pub fn read_limited(path: &Path, max_bytes: u64) -> Result<String, EvidenceError> {
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| {
        EvidenceError::input(format!("cannot read evidence `{name}`: {}", io_reason(&e)))
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(EvidenceError::input(format!(
            "cannot read evidence `{name}`: it is a directory, not a file"
        )));
    }
    if !meta.is_file() && !is_fifo(&meta) {
        return Err(EvidenceError::input(format!(
            "cannot read evidence `{name}`: it is a device or socket, not a file (pipe it through standard input if that is intended)"
        )));
    }
    if meta.len() > max_bytes {
        return Err(EvidenceError::input(format!(
            "evidence `{name}` is {} bytes, over the limit of {max_bytes} bytes (raise it with `--max-evidence-bytes`)",
            meta.len()
        )));
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    // Sized from the metadata, so a large file is read without the buffer
    // doubling (and briefly holding two copies) as it grows.
    let bytes = bounded(file, max_bytes, meta.len()).map_err(cannot)?;
    text_of(&name, bytes, max_bytes)
}

/// A named pipe (FIFO): readable, but without a length, and opening one
/// that nobody writes blocks.
#[cfg(unix)]
pub(crate) fn is_fifo(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
pub(crate) fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

/// Up to one byte past `max_bytes`, so an over-long input is detected
/// without reading the rest of it. `expected` sizes the buffer up front.
pub(crate) fn bounded(
    reader: impl Read,
    max_bytes: u64,
    expected: u64,
) -> std::io::Result<Vec<u8>> {
    // Exactly the expected size: at the end `read_to_end` probes for more
    // with a small stack buffer instead of growing this one.
    let capacity = usize::try_from(expected.min(max_bytes)).unwrap_or(0);
    let mut buf = Vec::with_capacity(capacity);
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut buf)?;
    Ok(buf)
}

fn over_limit(name: &str, max_bytes: u64) -> EvidenceError {
    EvidenceError::input(format!(
        "evidence `{name}` is over the limit of {max_bytes} bytes (raise it with `--max-evidence-bytes`)"
    ))
}

/// The bytes as text: within the limit, a UTF-8 byte order mark dropped.
fn text_of(name: &str, bytes: Vec<u8>, max_bytes: u64) -> Result<String, EvidenceError> {
    if bytes.len() as u64 > max_bytes {
        return Err(over_limit(name, max_bytes));
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        // The bytes before the bad one are valid UTF-8: count lines and
        // characters in them, as every other diagnostic counts positions.
        let valid = e.as_bytes().get(..offset).unwrap_or_default();
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        EvidenceError::input(format!(
            "evidence `{name}` is not valid UTF-8: invalid byte at {name}:{line}:{column} (offset {offset})"
        ))
    })
}

/// An OS error without its "(os error N)" suffix, which means nothing to users.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s.get(..i).unwrap_or(&s).to_string(),
        None => s,
    }
}
