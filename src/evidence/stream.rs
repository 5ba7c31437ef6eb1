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
//! other file. The stream also notes, for each piece of the file (its
//! bytes a [`CHUNK`] at a time), the SHA-256 of the text through the piece
//! and how many lines and characters come before it ([`Notes`]). A report
//! that cites the file reads again only the pieces it shows or scans, each
//! held to its digest (hashed on from the state the text's hasher had
//! before it), and counts lines from the notes, so explaining a denied
//! decision costs about what it shows, not the file. A piece that is not what the stream
//! read stops the run ([`Deferred::unchanged`]), as does a whole read (for
//! a caller that asks for the whole text) whose digest differs.

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

/// The byte order mark a file may start with, left out of its text.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A JSON file read as a stream (see the module docs).
#[derive(Debug)]
pub struct Deferred {
    path: PathBuf,
    name: String,
    max_bytes: u64,
    /// The SHA-256 of the text the first stream to its end read.
    digest: OnceLock<[u8; 32]>,
    /// What that stream noted about each piece of the file, for reading
    /// pieces of it again ([`Deferred::text_byte`]) instead of the whole.
    notes: OnceLock<Notes>,
    /// The file, opened again for the first piece read again.
    reopened: OnceLock<Option<std::sync::Mutex<std::fs::File>>>,
    /// Set when a piece read again is not what the stream read (or cannot
    /// be read): [`Deferred::unchanged`] then stops the run.
    piece_changed: std::sync::atomic::AtomicBool,
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
            notes: OnceLock::new(),
            reopened: OnceLock::new(),
            piece_changed: Default::default(),
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
        if self
            .piece_changed
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Err(self.changed());
        }
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
            let window = Stream::new(received, spent, HEADROOM);
            // The window (and with it the receiving end) is dropped before
            // the scope waits for the thread, which stops at its next send.
            let (value, window) = json::read_window(window, limits, shape, Some(landmarks))?;
            Some((value, window.end?))
        });
        let Some((value, (digest, notes))) = loaded else {
            return Ok(None);
        };
        match self.digest.get() {
            Some(first) if *first != digest => Err(self.changed()),
            Some(_) => Ok(Some(value)),
            None => {
                let _ = self.notes.set(notes);
                let _ = self.digest.set(digest);
                Ok(Some(value))
            }
        }
    }
}

/// What a stream notes about the file, one [`CHUNK`] of its bytes (a
/// piece) at a time, so that a report can read again just the pieces it
/// cites and know they are the ones the decision read (each piece's
/// SHA-256), and count lines and columns without the text before them.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    /// The byte order mark's bytes at the file's start (0 or 3): the text
    /// starts after them.
    bom: usize,
    /// The text's length in bytes.
    len: usize,
    pieces: Vec<PieceNote>,
    /// The whole text's hasher as each piece began. The stream takes one
    /// SHA-256, of the whole text, and a piece is held to it: its text
    /// hashed on from the state before it must give the digest noted at
    /// its end. A digest of each piece on its own was a second SHA-256 of
    /// every byte, a third of the reading thread's time.
    hashed_before: Vec<Sha256>,
    /// The pieces read again so far.
    read: Vec<OnceLock<Option<Box<[u8]>>>>,
    /// The counts so far, and whether the last byte was a `\r` (whose
    /// kind of line break depends on the next piece's first byte).
    running: PieceNote,
    pending_return: bool,
}

/// Counts of the text before one piece, and the digest of the text up to
/// the piece's end.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PieceNote {
    /// The SHA-256 of the text from its start to this piece's end: the
    /// piece read again must give it from the hasher's state before the
    /// piece (see [`Notes::hashed_before`]).
    through: [u8; 32],
    /// `\n`s before the piece.
    pub(crate) newlines: usize,
    /// `\r`s not followed by `\n` before the piece (miette counts them as
    /// line breaks, beside `\n`).
    pub(crate) lone_returns: usize,
    /// Characters before the piece.
    pub(crate) chars: usize,
}

impl Notes {
    /// Notes the next piece and hashes its text on with `hasher`, the whole
    /// text's: `raw` is the file's bytes, `bom` whether they start with a
    /// byte order mark the text leaves out.
    fn piece(&mut self, raw: &[u8], bom: bool, hasher: &mut Sha256) {
        let text = if bom {
            self.bom = 3;
            raw.get(3..).unwrap_or_default()
        } else {
            raw
        };
        if std::mem::take(&mut self.pending_return) && text.first() != Some(&b'\n') {
            self.running.lone_returns += 1;
        }
        self.hashed_before.push(hasher.clone());
        hasher.update(text);
        self.pieces.push(PieceNote {
            through: hasher.clone().finalize().into(),
            ..self.running
        });
        self.running.newlines += text.iter().filter(|b| **b == b'\n').count();
        self.running.chars += crate::report::locate::chars_in(text);
        if memchr::memchr(b'\r', text).is_some() {
            self.running.lone_returns += lone_returns_within(text);
            self.pending_return = text.last() == Some(&b'\r');
        }
        self.len += text.len();
    }

    /// Whether `raw`, piece `p` of the file read again, is what the stream
    /// read: the byte order mark it started with, if piece 0, and text that
    /// hashed on from the state before the piece gives the digest noted at
    /// its end.
    fn holds(&self, p: usize, raw: &[u8]) -> bool {
        let text = if p == 0 && self.bom > 0 {
            match raw.strip_prefix(BOM) {
                Some(text) => text,
                None => return false,
            }
        } else {
            raw
        };
        let (Some(before), Some(note)) = (self.hashed_before.get(p), self.pieces.get(p)) else {
            return false;
        };
        let mut hasher = before.clone();
        hasher.update(text);
        let through: [u8; 32] = hasher.finalize().into();
        through == note.through
    }

    /// At the end of the file, `total` bytes in all.
    fn finish(&mut self, total: u64) {
        debug_assert_eq!(total as usize, self.len + self.bom);
        self.read = (0..self.pieces.len()).map(|_| OnceLock::new()).collect();
    }

    /// The piece holding the text's byte `at`, and `at`'s offset in it.
    #[inline]
    fn piece_of(&self, at: usize) -> (usize, usize) {
        let in_file = at + self.bom;
        (in_file / CHUNK, in_file % CHUNK)
    }

    /// The text's offset of piece `p`'s first byte that is text.
    fn text_start(&self, p: usize) -> usize {
        (p * CHUNK).saturating_sub(self.bom)
    }
}

impl Deferred {
    /// Whether the stream's notes are here, so the text can be read in
    /// pieces ([`Self::text_byte`], [`Self::text_run`]).
    pub(crate) fn in_pieces(&self) -> bool {
        self.notes.get().is_some() && !self.settled()
    }

    /// The text's length, once a stream read it.
    pub(crate) fn text_len(&self) -> usize {
        self.notes.get().map_or(0, |n| n.len)
    }

    /// Piece `p` of the file's bytes, read again and held to the digest the
    /// stream noted: `None` if it cannot be read or is not what the stream
    /// read, which [`Self::unchanged`] then reports.
    fn piece<'n>(&self, notes: &'n Notes, p: usize) -> Option<&'n [u8]> {
        let slot = notes.read.get(p)?;
        slot.get_or_init(|| {
            let bytes = self.read_piece(notes, p);
            let fits = bytes.as_ref().is_some_and(|b| notes.holds(p, b));
            if !fits {
                self.piece_changed
                    .store(true, std::sync::atomic::Ordering::Release);
                return None;
            }
            bytes
        })
        .as_deref()
    }

    fn read_piece(&self, notes: &Notes, p: usize) -> Option<Box<[u8]>> {
        use std::io::Seek;
        let file = self
            .reopened
            .get_or_init(|| std::fs::File::open(&self.path).ok().map(Into::into))
            .as_ref()?;
        let mut file = file.lock().ok()?;
        let start = p * CHUNK;
        let want = (notes.len + notes.bom).saturating_sub(start).min(CHUNK);
        file.seek(std::io::SeekFrom::Start(start as u64)).ok()?;
        let mut bytes = Vec::with_capacity(want);
        (&mut *file)
            .take(want as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        // Reading one byte more than the piece tells a piece that grew;
        // the digest tells one that changed.
        (bytes.len() == want || (bytes.len() == want + 1 && want == CHUNK)).then(|| {
            bytes.truncate(want);
            bytes.into_boxed_slice()
        })
    }

    /// The text's byte at `at`, read again with its piece.
    #[inline]
    pub(crate) fn text_byte(&self, at: usize) -> Option<u8> {
        let notes = self.notes.get()?;
        if at >= notes.len {
            return None;
        }
        let (p, i) = notes.piece_of(at);
        self.piece(notes, p)?.get(i).copied()
    }

    /// The text from `at` to the end of the piece that holds it.
    pub(crate) fn text_run(&self, at: usize) -> Option<&[u8]> {
        let notes = self.notes.get()?;
        if at >= notes.len {
            return None;
        }
        let (p, i) = notes.piece_of(at);
        self.piece(notes, p)?.get(i..)
    }

    /// The text's bytes `start..end`, read again piece by piece.
    pub(crate) fn text_range(&self, start: usize, end: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        let mut at = start;
        while at < end {
            let run = self.text_run(at)?;
            let take = run.len().min(end - at);
            out.extend_from_slice(run.get(..take)?);
            at += take;
        }
        Some(out)
    }

    /// The text of `at`'s piece before `at` (borrowed from the piece, not
    /// copied: `line:column` asks for it for every value described).
    fn head<'n>(&self, notes: &'n Notes, at: usize) -> Option<&'n [u8]> {
        let (p, i) = notes.piece_of(at);
        if p >= notes.pieces.len() {
            return Some(&[]);
        }
        let skip = if p == 0 { notes.bom } else { 0 };
        self.piece(notes, p)?.get(skip..i)
    }

    /// `\n`s, lone `\r`s and characters before the text's byte `at` (at
    /// most the text's length), from the notes and `at`'s own piece.
    pub(crate) fn counts_before(&self, at: usize) -> Option<PieceNote> {
        let notes = self.notes.get()?;
        let at = at.min(notes.len);
        let (p, _) = notes.piece_of(at);
        let Some(note) = notes.pieces.get(p) else {
            // The end of a text whose last piece is whole.
            let mut end = notes.running;
            end.lone_returns += usize::from(notes.pending_return);
            return Some(end);
        };
        let head = self.head(notes, at)?;
        let mut counts = *note;
        counts.newlines += head.iter().filter(|b| **b == b'\n').count();
        counts.chars += crate::report::locate::chars_in(head);
        counts.lone_returns += lone_returns_within(head);
        if head.last() == Some(&b'\r') && self.text_byte(at) != Some(b'\n') {
            counts.lone_returns += 1;
        }
        Some(counts)
    }

    /// Where the line holding the text's byte `at` starts: just after the
    /// last `\n` before it, found from the notes when it is pieces back.
    pub(crate) fn line_start(&self, at: usize) -> Option<usize> {
        let notes = self.notes.get()?;
        let at = at.min(notes.len);
        let (p, _) = notes.piece_of(at);
        let from = notes.text_start(p);
        if let Some(i) = memchr::memrchr(b'\n', self.head(notes, at)?) {
            return Some(from + i + 1);
        }
        let before = notes
            .pieces
            .get(p)
            .map_or(notes.running.newlines, |n| n.newlines);
        if before == 0 {
            return Some(0);
        }
        // The piece that holds the last `\n` before piece `p`.
        let q = notes
            .pieces
            .partition_point(|n| n.newlines < before)
            .checked_sub(1)?;
        let start = notes.text_start(q);
        let piece = self.text_range(start, notes.text_start(q + 1).min(at))?;
        memchr::memrchr(b'\n', &piece).map(|i| start + i + 1)
    }
}

/// The `\r`s of `bytes` that a `\n` in `bytes` does not follow (the last
/// byte's kind depends on what comes after, which callers look at).
fn lone_returns_within(bytes: &[u8]) -> usize {
    bytes
        .windows(2)
        .filter(|pair| pair[0] == b'\r' && pair[1] != b'\n')
        .count()
}

/// Room at the start of every chunk's buffer, before its text: the window
/// moves on by copying the token it keeps (a few bytes, [`HEADROOM`] at
/// most) into the room before the next chunk's text, instead of copying
/// that text after the token. Copying each chunk once more was about an
/// eighth of the load's thread on the 100 MB bundle ("Round two,
/// thirteenth step" in docs/performance.md).
const HEADROOM: usize = 1 << 10;

/// What fills the room of [`HEADROOM`] no token was copied into. The
/// reader never reads before the token the window keeps (before this room,
/// that text was gone from the window); NUL is valid UTF-8 and a byte no
/// JSON text may hold unescaped, so the room can never pass for text of
/// the file. `tests/json_agreement.rs` holds streamed loads to whole ones
/// at every cut.
const FILLER: u8 = 0;

/// What the reading thread sends.
enum Chunk {
    /// The next piece of the text, whole characters in order, after
    /// the stream's room ([`HEADROOM`] bytes) of [`FILLER`].
    Text(String),
    /// The end of the text, its SHA-256 and what was noted on the way.
    End([u8; 32], Notes),
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
    let mut notes = Notes::default();
    let mut total: u64 = 0;
    // The bytes of a character that the last chunk cut in two.
    let mut cut: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let mut bytes = match reuse.try_recv() {
            Ok(spent) => spent.into_bytes(),
            Err(_) => Vec::with_capacity(HEADROOM + CHUNK + 4),
        };
        bytes.clear();
        bytes.resize(HEADROOM, FILLER);
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
            let last = if bytes.len() == HEADROOM {
                notes.finish(total);
                Chunk::End(hasher.finalize().into(), notes)
            } else {
                Chunk::Failed
            };
            let _ = chunks.send(last);
            return;
        }
        let bom = first
            && bytes
                .get(HEADROOM..)
                .is_some_and(|text| text.starts_with(BOM));
        // The text is hashed here, a piece at a time, in the order the
        // chunks below hand it over (a character cut in two only moves to
        // the next chunk): the same bytes, so the same digest.
        notes.piece(bytes.get(before..).unwrap_or_default(), bom, &mut hasher);
        if std::mem::take(&mut first) && bom {
            bytes.drain(HEADROOM..HEADROOM + 3);
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
        if chunks.send(Chunk::Text(text)).is_err() {
            // The load gave up or finished.
            return;
        }
    }
}

/// The JSON reader's window onto the stream.
struct Stream {
    text: String,
    /// The room before each chunk's text: [`HEADROOM`], or less for the
    /// tests' streams, so that both ways of moving on are taken often.
    room: usize,
    /// The offset in the whole text of `text`'s first byte.
    base: usize,
    chunks: Receiver<Chunk>,
    /// Where buffers go back to the reading thread once read.
    spent: Sender<String>,
    /// Set at the end of the text.
    end: Option<([u8; 32], Notes)>,
}

impl Stream {
    /// A window at the start of the text the chunks bring.
    fn new(chunks: Receiver<Chunk>, spent: Sender<String>, room: usize) -> Self {
        Stream {
            text: String::new(),
            room,
            base: 0,
            chunks,
            spent,
            end: None,
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
        if self.end.is_some() {
            return Ok(false);
        }
        let chunk = match self.chunks.recv() {
            Ok(Chunk::Text(chunk)) => chunk,
            Ok(Chunk::End(digest, notes)) => {
                self.end = Some((digest, notes));
                return Ok(false);
            }
            Ok(Chunk::Failed) | Err(_) => return Err(GiveUp),
        };
        // The chunk's text follows the window's at `next` in the whole
        // text; the window keeps its text from `keep` on (the token being
        // read), which goes just before it.
        let next = self.base + self.text.len();
        let keep = keep.min(self.text.len());
        let kept = self.text.get(keep..).ok_or(GiveUp)?;
        let headroom = self.room;
        let (Some(room), true) = (headroom.checked_sub(kept.len()), next >= headroom) else {
            // A token longer than the room (a long string the chunk's end
            // cut), or the first chunk: the chunk's text goes after the
            // token, which stays where it is, as the window grows (a
            // string of many chunks is copied once, not once a chunk).
            // `kept` was sliced from `keep`: a character boundary.
            self.text.drain(..keep);
            self.base += keep;
            self.text.push_str(chunk.get(headroom..).ok_or(GiveUp)?);
            let _ = self.spent.send(chunk);
            return Ok(true);
        };
        // The token goes in the room, the same length of filler replaced
        // in place: nothing else moves.
        let mut text = chunk;
        // Every chunk starts with its room (checked, so that
        // `replace_range` cannot panic on a short one).
        if !text.is_char_boundary(headroom) {
            return Err(GiveUp);
        }
        text.replace_range(room..headroom, kept);
        self.base = next - headroom;
        let spent = std::mem::replace(&mut self.text, text);
        // The thread may have finished reading: then the buffer is dropped.
        let _ = self.spent.send(spent);
        Ok(true)
    }
}

/// The room before each chunk of [`load_in_chunks`]: tokens of up to 6
/// bytes move on in place, longer ones the other way.
const TEST_ROOM: usize = 6;

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
        let mut piece = String::from_utf8(vec![FILLER; TEST_ROOM]).ok()?;
        piece.push_str(text.get(at..end)?);
        sender.send(Chunk::Text(piece)).ok()?;
        at = end;
    }
    sender
        .send(Chunk::End(Sha256::digest(bytes).into(), Notes::default()))
        .ok()?;
    let window = Stream::new(received, channel().0, TEST_ROOM);
    let shape = Shape::of(projection, drop_unread);
    let (value, window) = json::read_window(window, limits, shape, None)?;
    window.end?;
    Some(value)
}
