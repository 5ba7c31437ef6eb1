//! Large JSON evidence files, read as a stream instead of held whole.
//!
//! A bundle of a hundred megabytes held in memory costs its size in memory
//! and the time the kernel takes to hand out that much fresh memory, and a
//! decision that passes never needs the text again. So a regular JSON file
//! of at least [`STREAM_FROM`] bytes is [`Deferred`]: a thread beside the
//! load reads it in chunks, checks that they are UTF-8 and takes the text's
//! SHA-256 as they pass, and the JSON reader reads them through a window
//! that moves on with it (`eval::json::Window`).
//!
//! Anything the stream is unsure of (a read error, bytes that are not
//! UTF-8, the size limit, JSON the reader leaves to serde_json) falls back
//! to reading the file whole, which says what is wrong exactly as for any
//! other file. A report that cites the file's text reads it whole then,
//! and the text must have the digest the stream took: a file that changed
//! between the two reads stops the run ([`Deferred::text`]).

use super::source::read_limited;
use super::EvidenceError;
use crate::eval::json::{self, Fast, GiveUp, Landmarks, Shape, Window};
use crate::eval::{LoadLimits, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, OnceLock};

/// Files of at least this many bytes are streamed: 1 MiB, where a thread
/// and a channel cost well under a percent of the load.
pub const STREAM_FROM: u64 = 1 << 20;

/// What the thread hands over at a time: 64 KiB, small enough to still be
/// in the cache when the reader gets to it, and about 1,500 hand-overs for
/// a 100 MB bundle (a few milliseconds).
const CHUNK: usize = 64 << 10;

/// Chunks read ahead of the load, so the two threads do not wait on each
/// other: a few hundred kilobytes in flight.
const IN_FLIGHT: usize = 4;

/// A JSON file read as a stream (see the module docs).
#[derive(Debug)]
pub struct Deferred {
    path: PathBuf,
    name: String,
    max_bytes: u64,
    /// The SHA-256 of the text the first stream to its end read.
    digest: OnceLock<[u8; 32]>,
    /// The whole text, once something needed it.
    text: OnceLock<Result<Arc<String>, EvidenceError>>,
    /// The SHA-256 of that text, taken on another thread while the text is
    /// used: [`Deferred::unchanged`] waits for it.
    check: std::sync::Mutex<Option<std::thread::JoinHandle<[u8; 32]>>>,
    /// What the check found, once it was waited for.
    checked: OnceLock<Result<(), EvidenceError>>,
}

impl Deferred {
    pub(crate) fn new(path: PathBuf, name: String, max_bytes: u64) -> Self {
        Deferred {
            path,
            name,
            max_bytes,
            digest: OnceLock::new(),
            text: OnceLock::new(),
            check: Default::default(),
            checked: OnceLock::new(),
        }
    }

    /// Whether the whole text has been read.
    pub(crate) fn settled(&self) -> bool {
        self.text.get().is_some()
    }

    /// The whole text, read on first use (or why it cannot be read). When
    /// a stream read it before, its digest is compared on another thread
    /// meanwhile: nothing may be shown from it before [`Self::unchanged`].
    pub(crate) fn text(&self) -> Result<&Arc<String>, &EvidenceError> {
        self.text
            .get_or_init(|| {
                let text = Arc::new(read_limited(&self.path, self.max_bytes)?);
                if self.digest.get().is_some() {
                    let hashed = text.clone();
                    let check =
                        std::thread::spawn(move || Sha256::digest(hashed.as_bytes()).into());
                    if let Ok(mut slot) = self.check.lock() {
                        *slot = Some(check);
                    }
                }
                Ok(text)
            })
            .as_ref()
    }

    /// Whether the text read whole, if it was, is the one the stream read:
    /// waits for the comparison [`Self::text`] started.
    pub(crate) fn unchanged(&self) -> Result<(), EvidenceError> {
        match self.text.get() {
            // Not read whole (yet): nothing from it can have been shown.
            None => return Ok(()),
            Some(Err(e)) => return Err(e.clone()),
            Some(Ok(_)) => {}
        }
        self.checked
            .get_or_init(|| {
                let check = self.check.lock().ok().and_then(|mut slot| slot.take());
                let Some(check) = check else {
                    return Ok(());
                };
                match (check.join(), self.digest.get()) {
                    (Ok(digest), Some(first)) if digest == *first => Ok(()),
                    _ => Err(self.changed()),
                }
            })
            .clone()
    }

    /// The text's SHA-256 as hex, when a stream took it.
    pub(crate) fn sha256(&self) -> Option<String> {
        self.digest
            .get()
            .map(|digest| crate::attest::keys::hex(digest))
    }

    fn changed(&self) -> EvidenceError {
        EvidenceError::input(format!(
            "evidence `{}` changed while it was being read (its SHA-256 is not what it was when first read); decide on a file nothing is writing to",
            self.name
        ))
    }

    /// Loads the file as `shape` asks from a stream: `Ok(None)` where the
    /// stream gives up (the caller reads the file whole), an error if the
    /// text is not the one an earlier stream read.
    pub(crate) fn load(
        &self,
        limits: LoadLimits,
        shape: Shape<'_>,
        landmarks: &mut Landmarks,
    ) -> Result<Option<Value>, EvidenceError> {
        let Ok(file) = std::fs::File::open(&self.path) else {
            return Ok(None);
        };
        let max_bytes = self.max_bytes;
        let loaded = std::thread::scope(|scope| {
            let (chunks, received) = sync_channel(IN_FLIGHT);
            let (spent, reuse) = channel();
            scope.spawn(move || produce(file, max_bytes, chunks, reuse));
            let window = Stream::new(received, spent);
            // The window (and with it the receiving end) is dropped before
            // the scope waits for the thread, which stops at its next send.
            let (value, window) = json::read_window(window, limits, shape, Some(landmarks))?;
            Some((value, window.digest?))
        });
        let Some((value, digest)) = loaded else {
            return Ok(None);
        };
        match self.digest.get() {
            Some(first) if *first != digest => Err(self.changed()),
            Some(_) => Ok(Some(value)),
            None => {
                let _ = self.digest.set(digest);
                Ok(Some(value))
            }
        }
    }
}

/// What the reading thread sends.
enum Chunk {
    /// The next piece of the text: whole characters, in order.
    Text(String),
    /// The end of the text, and its SHA-256.
    End([u8; 32]),
    /// The stream cannot go on (the whole read says why).
    Failed,
}

/// Reads `file` in chunks to its end, as [`read_limited`] would read it:
/// a byte order mark dropped, at most `max_bytes`, UTF-8 throughout. The
/// buffers come back through `reuse` once read, so the stream takes the
/// same few buffers over and over instead of fresh memory.
fn produce(
    mut file: std::fs::File,
    max_bytes: u64,
    chunks: SyncSender<Chunk>,
    reuse: Receiver<String>,
) {
    let mut hasher = Sha256::new();
    let mut total: u64 = 0;
    // The bytes of a character that the last chunk cut in two.
    let mut cut: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let mut bytes = match reuse.try_recv() {
            Ok(spent) => spent.into_bytes(),
            Err(_) => Vec::with_capacity(CHUNK + 4),
        };
        bytes.clear();
        bytes.append(&mut cut);
        let before = bytes.len();
        if (&mut file)
            .take(CHUNK as u64)
            .read_to_end(&mut bytes)
            .is_err()
        {
            let _ = chunks.send(Chunk::Failed);
            return;
        }
        let read = bytes.len() - before;
        total += read as u64;
        if total > max_bytes {
            let _ = chunks.send(Chunk::Failed);
            return;
        }
        if read == 0 {
            // A character cut off by the end of the file is not UTF-8.
            let last = if bytes.is_empty() {
                Chunk::End(hasher.finalize().into())
            } else {
                Chunk::Failed
            };
            let _ = chunks.send(last);
            return;
        }
        if std::mem::take(&mut first) && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) if e.utf8_error().error_len().is_none() => {
                // Only the last character is cut: it goes with the next chunk.
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                cut = bytes.split_off(valid);
                match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => {
                        let _ = chunks.send(Chunk::Failed);
                        return;
                    }
                }
            }
            Err(_) => {
                let _ = chunks.send(Chunk::Failed);
                return;
            }
        };
        hasher.update(text.as_bytes());
        if chunks.send(Chunk::Text(text)).is_err() {
            // The load gave up or finished.
            return;
        }
    }
}

/// The JSON reader's window onto the stream.
struct Stream {
    text: String,
    /// The offset in the whole text of `text`'s first byte.
    base: usize,
    chunks: Receiver<Chunk>,
    /// Where buffers go back to the reading thread once read.
    spent: Sender<String>,
    /// Set at the end of the text.
    digest: Option<[u8; 32]>,
}

impl Stream {
    /// A window at the start of the text the chunks bring.
    fn new(chunks: Receiver<Chunk>, spent: Sender<String>) -> Self {
        Stream {
            text: String::new(),
            base: 0,
            chunks,
            spent,
            digest: None,
        }
    }
}

impl Window for Stream {
    #[inline(always)]
    fn text(&self) -> &str {
        &self.text
    }

    #[inline(always)]
    fn base(&self) -> usize {
        self.base
    }

    fn more(&mut self, keep: usize) -> Fast<bool> {
        if self.digest.is_some() {
            return Ok(false);
        }
        let chunk = match self.chunks.recv() {
            Ok(Chunk::Text(chunk)) => chunk,
            Ok(Chunk::End(digest)) => {
                self.digest = Some(digest);
                return Ok(false);
            }
            Ok(Chunk::Failed) | Err(_) => return Err(GiveUp),
        };
        let spent = if keep >= self.text.len() {
            // Nothing to keep: the chunk is the window.
            self.base += self.text.len();
            std::mem::replace(&mut self.text, chunk)
        } else {
            if !self.text.is_char_boundary(keep) {
                return Err(GiveUp);
            }
            self.text.drain(..keep);
            self.base += keep;
            self.text.push_str(&chunk);
            chunk
        };
        // The thread may have finished reading: then the buffer is dropped.
        let _ = self.spent.send(spent);
        Ok(true)
    }
}

/// A stream over `text` in chunks of `chunk` bytes (at least 1), for the
/// tests that hold a streamed load to a whole one at every cut.
#[doc(hidden)]
pub fn load_in_chunks(
    text: &str,
    chunk: usize,
    limits: LoadLimits,
    projection: Option<&crate::eval::projection::Projection>,
    drop_unread: bool,
) -> Option<Value> {
    let (sender, received) = channel();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // Cut at the next character boundary at or after `chunk` bytes.
        let mut end = (at + chunk.max(1)).min(bytes.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let piece = text.get(at..end)?.to_string();
        sender.send(Chunk::Text(piece)).ok()?;
        at = end;
    }
    sender.send(Chunk::End(Sha256::digest(bytes).into())).ok()?;
    let window = Stream::new(received, channel().0);
    let shape = Shape::of(projection, drop_unread);
    let (value, window) = json::read_window(window, limits, shape, None)?;
    window.digest?;
    Some(value)
}
