//! Evidence locations: the byte span of the value a JSON pointer names, found
//! by scanning the evidence text. Only reports of failing rules call this,
//! so the passing path never pays for it; and each file keeps what its
//! scans found (where each member and element of a container starts, where
//! lines begin), so a thousand failing rules over one large file scan it
//! about once, not a thousand times. The load that decided notes where the
//! file's large containers end and where its long lists' elements start
//! ([`crate::eval::json::Landmarks`], every 16 KiB), so locating even the
//! last component of a 100 MB bundle scans about that much, not the file.

use crate::evidence::stream::Deferred;
use crate::evidence::EvidenceError;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// One evidence file as given on the command line.
#[derive(Clone, Debug)]
pub struct EvidenceText {
    /// `Some(name)` for `--evidence NAME=FILE`: the file is `evidence.NAME`.
    pub mount: Option<String>,
    /// The file name as given (`<stdin>` for `-`).
    pub name: String,
    /// Shared, not copied: a bundle can be a hundred megabytes. Empty for
    /// a file read as a stream (`deferred`); read through [`Self::text`].
    held: std::sync::Arc<String>,
    /// A large JSON file read as a stream, its text read whole only when
    /// something needs it (`evidence::stream`).
    deferred: Option<std::sync::Arc<crate::evidence::stream::Deferred>>,
    /// The reader its name picks.
    pub format: crate::evidence::Format,
    /// For a verified attestation: the file it was verified from (the text
    /// here is the statement as mounted).
    pub attestation: Option<Attested>,
    /// What locating values in `text` has found so far (shared by clones).
    index: std::sync::Arc<LocateIndex>,
}

impl EvidenceText {
    pub fn new(mount: Option<String>, name: String, text: std::sync::Arc<String>) -> Self {
        EvidenceText {
            format: crate::evidence::Format::of(&name),
            attestation: None,
            mount,
            name,
            held: text,
            deferred: None,
            index: Default::default(),
        }
    }

    /// A large JSON file to be read as a stream (`evidence::stream`).
    pub(crate) fn deferred(mount: Option<String>, name: String, deferred: Deferred) -> Self {
        EvidenceText {
            deferred: Some(std::sync::Arc::new(deferred)),
            ..EvidenceText::new(mount, name, Default::default())
        }
    }

    /// The file's text. A file read as a stream is read whole here, on
    /// first use (reports read only the pieces they cite, through
    /// [`Self::region`] and the locating scans); this is empty if it cannot
    /// be read any more, and if it changed since the stream read it
    /// [`Evidence::unchanged`] says so: nothing read from it is shown
    /// before that is checked.
    pub fn text(&self) -> &std::sync::Arc<String> {
        match &self.deferred {
            None => &self.held,
            Some(deferred) => match deferred.text() {
                Ok(text) => text,
                Err(_) => &self.held,
            },
        }
    }

    /// The text, or why it cannot be had (see [`Self::text`]).
    pub(crate) fn settle(&self) -> Result<&std::sync::Arc<String>, EvidenceError> {
        match &self.deferred {
            None => Ok(&self.held),
            Some(deferred) => deferred.text().map_err(Clone::clone),
        }
    }

    /// The text for a scan: a streamed file's is read again piece by piece
    /// as the scan reaches it, not whole.
    pub(crate) fn bytes(&self) -> Bytes<'_> {
        match self.deferred.as_deref() {
            Some(d) if d.in_pieces() => Bytes::Pieces(d),
            _ => Bytes::Whole(self.text().as_bytes()),
        }
    }

    /// The file read as a stream, while its text has not been read whole.
    pub(crate) fn streaming(&self) -> Option<&Deferred> {
        self.deferred.as_deref().filter(|d| !d.settled())
    }

    /// The hex SHA-256 of the text, as the decision record lists it.
    pub fn sha256(&self) -> String {
        if let Some(hex) = self.deferred.as_ref().and_then(|d| d.sha256()) {
            return hex;
        }
        use sha2::Digest;
        crate::attest::keys::hex(&sha2::Sha256::digest(self.text().as_bytes()))
    }
}

impl Evidence {
    /// Whether everything read again from a file read as a stream (its
    /// pieces a report cites, or the whole text) is what the stream read: a
    /// report checks this before it shows anything.
    pub fn unchanged(&self) -> Result<(), EvidenceError> {
        for file in &self.files {
            file.settled_or_unread()?;
        }
        Ok(())
    }
}

impl EvidenceText {
    fn settled_or_unread(&self) -> Result<(), EvidenceError> {
        match &self.deferred {
            Some(d) => d.unchanged(),
            None => Ok(()),
        }
    }
}

impl EvidenceText {
    /// Keeps what a load of this file noted on its way (see
    /// [`crate::eval::json::Landmarks`]) for locating values in it later.
    /// Public for the tests and the fuzz target, which note landmarks far
    /// closer together than loads do.
    #[doc(hidden)]
    pub fn note(&self, landmarks: crate::eval::json::Landmarks) {
        self.index.note(landmarks);
    }
}

impl LocateIndex {
    fn note(&self, landmarks: crate::eval::json::Landmarks) {
        if let Ok(mut scan) = self.scan.lock() {
            // Both are facts about the same text: what a scan found already
            // is the same as what the load noted.
            for (start, end) in landmarks.ends {
                scan.ends.entry(start).or_insert(end);
            }
            for (list, elements) in landmarks.elements {
                scan.landmarks.entry(list).or_insert(elements);
            }
        }
    }
}

/// A verified attestation, as the decision record and the reports list it.
#[derive(Clone, Debug)]
pub struct Attested {
    pub file: String,
    /// Hex SHA-256 of the attestation file's bytes.
    pub sha256: String,
    /// The trust file's signer of each statement.
    pub signers: Vec<String>,
    /// The transparency-log index of each statement (none for a bare envelope).
    pub log_indexes: Vec<Option<i64>>,
}

impl EvidenceText {
    /// The statement(s) of a verified attestation, mounted at `evidence.MOUNT`.
    pub fn attested(verified: &crate::attest::Verified) -> EvidenceText {
        let text = serde_json::to_string_pretty(&verified.value).unwrap_or_default();
        let mut file = EvidenceText::new(
            Some(verified.mount.clone()),
            format!("{} (verified statement)", verified.file),
            std::sync::Arc::new(text),
        );
        file.format = crate::evidence::Format::Json;
        file.attestation = Some(Attested {
            file: verified.file.clone(),
            sha256: verified.sha256.clone(),
            signers: verified.signers.clone(),
            log_indexes: verified.log_indexes.clone(),
        });
        file
    }
}

/// Positions found in one file, filled in as locations are asked for.
#[derive(Debug, Default)]
struct LocateIndex {
    lines: OnceLock<LineIndex>,
    /// Where the `\r`s that are not before a `\n` are: miette counts them
    /// as line breaks.
    lone_returns: OnceLock<Vec<usize>>,
    /// What scans of the JSON text found so far.
    scan: Mutex<Scan>,
    /// For YAML and JUnit files: where every value is, read on first use.
    positions: OnceLock<Option<crate::evidence::tree::Pos>>,
}

/// What scanning a JSON text has found, kept so no byte is scanned twice
/// for the same purpose: a large bundle is located in many times.
#[derive(Debug, Default)]
struct Scan {
    /// By the offset where a container starts: its children found so far.
    containers: HashMap<usize, Children>,
    /// By the offset where a value starts: where it ends (values located,
    /// and containers larger than [`REMEMBER_END`] that a scan went past,
    /// or that a load noted).
    ends: HashMap<usize, usize>,
    /// By the offset where a list starts: elements a load noted, as (index,
    /// start), in order and far apart; a scan for an element the list's
    /// own scan has not reached starts from the last one before it.
    landmarks: HashMap<usize, Vec<(usize, usize)>>,
    /// Elements found from a landmark, by (list start, index).
    from_landmarks: HashMap<(usize, usize), usize>,
}

/// A skipped container at least this long has its end remembered.
const REMEMBER_END: usize = 4096;

#[derive(Debug)]
enum Children {
    Object {
        members: HashMap<String, usize>,
        next: Next,
    },
    Array {
        starts: Vec<usize>,
        next: Next,
    },
}

/// Where a container's scan goes on from.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// The next child (for an object, its key) starts here.
    At(usize),
    /// The next child, if any, follows the value that starts here: found
    /// children are not skipped until a later one is asked for, so a path
    /// into the last child found scans nothing twice.
    After(usize),
    /// Every child is found; the container ends here (exclusive).
    End(usize),
}

/// Line starts and character counts, for `line:column` in O(log n).
#[derive(Debug)]
struct LineIndex {
    /// Offset just after every `\n`.
    line_starts: Vec<usize>,
    /// Characters before each [`BLOCK`]-byte block.
    chars_before_block: Vec<usize>,
}

const BLOCK: usize = 4096;

/// The characters of a run of UTF-8 bytes: every byte that does not
/// continue a sequence starts one. Evidence is mostly ASCII, and checking
/// that is a word at a time, so an ASCII run is counted by its length.
pub(crate) fn chars_in(bytes: &[u8]) -> usize {
    if bytes.is_ascii() {
        return bytes.len();
    }
    bytes.iter().filter(|b| **b & 0xC0 != 0x80).count()
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut chars_before_block = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut chars = 0usize;
        // A block at a time: newlines found by `memchr`, characters counted
        // by a loop the compiler vectorizes (a 100 MB bundle is indexed when
        // its first located value is described).
        for (i, block) in bytes.chunks(BLOCK).enumerate() {
            chars_before_block.push(chars);
            let at = i * BLOCK;
            line_starts.extend(memchr::memchr_iter(b'\n', block).map(|j| at + j + 1));
            chars += chars_in(block);
        }
        LineIndex {
            line_starts,
            chars_before_block,
        }
    }

    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let block = offset / BLOCK;
        let base = self.chars_before_block.get(block).copied().unwrap_or(0);
        let from = (block * BLOCK).min(offset);
        base + text.as_bytes().get(from..offset).map_or(0, chars_in)
    }

    /// 1-based line and column (in characters), as `span::line_col` counts
    /// them (a CR before LF is not counted as a column).
    fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let col = self.chars_before(text, offset) - self.chars_before(text, start) + 1;
        (line, col)
    }
}

impl LocateIndex {
    /// Byte span of the value at `pointer` in `file`.
    fn locate_in(&self, file: &EvidenceText, pointer: &str) -> Option<(usize, usize)> {
        match file.format {
            crate::evidence::Format::Json => self.locate(file.bytes(), pointer),
            other => self
                .positions
                .get_or_init(|| other.positions(file.text()))
                .as_ref()?
                .at(pointer),
        }
    }

    /// Byte span of the value at `pointer` in the JSON `text` (see [`locate`]).
    fn locate(&self, bytes: Bytes<'_>, pointer: &str) -> Option<(usize, usize)> {
        let mut pos = skip_ws(bytes, bytes.bom());
        let mut scan = self.scan.lock().ok()?;
        if !pointer.is_empty() {
            for raw in pointer.strip_prefix('/')?.split('/') {
                let token = unescape_token(raw);
                pos = match bytes.get(pos)? {
                    b'{' => scan.member(bytes, pos, &token)?,
                    b'[' => scan.element(bytes, pos, token.parse().ok()?)?,
                    _ => return None,
                };
            }
        }
        let end = scan.end_of(bytes, pos)?;
        scan.ends.insert(pos, end);
        Some((pos, end))
    }
}

/// The container starting at `at` (`{` or `[`), not scanned yet.
fn unscanned(b: Bytes<'_>, at: usize, close: u8) -> Next {
    let first = skip_ws(b, at + 1);
    if b.get(first) == Some(close) {
        Next::End(first + 1)
    } else {
        Next::At(first)
    }
}

impl Scan {
    /// End (exclusive) of the value starting at `at`, going on from what
    /// earlier scans found inside it.
    fn end_of(&mut self, b: Bytes<'_>, at: usize) -> Option<usize> {
        if let Some(&end) = self.ends.get(&at) {
            return Some(end);
        }
        let end = if self.containers.contains_key(&at) {
            // Finish the container's own scan: its found children (and
            // theirs) are not scanned again.
            let is_object = b.get(at) == Some(b'{');
            loop {
                match self.cursor(at)? {
                    Next::End(end) => break end,
                    next => {
                        // `None` is the end reached (the next turn breaks)
                        // or text that is not JSON (the cursor stays).
                        if self.advance(b, at, next, is_object).is_none()
                            && !matches!(self.cursor(at)?, Next::End(_))
                        {
                            return None;
                        }
                    }
                }
            }
        } else {
            skip_value(b, at)?
        };
        if end - at >= REMEMBER_END {
            self.ends.insert(at, end);
        }
        Some(end)
    }

    /// Scans one more child of the container at `at` (from `next`, its
    /// cursor), recording it; returns its value's start (and, in an object,
    /// its key).
    fn advance(
        &mut self,
        b: Bytes<'_>,
        at: usize,
        next: Next,
        is_object: bool,
    ) -> Option<(usize, Option<String>)> {
        let start = match next {
            Next::At(j) => j,
            Next::After(v) => {
                let after = skip_ws(b, self.end_of(b, v)?);
                let cursor = match b.get(after)? {
                    b',' => Next::At(skip_ws(b, after + 1)),
                    b'}' | b']' => Next::End(after + 1),
                    _ => return None,
                };
                self.set_next(at, cursor);
                match cursor {
                    Next::At(j) => j,
                    _ => return None,
                }
            }
            Next::End(_) => return None,
        };
        if is_object {
            let key_end = skip_string(b, start)?;
            let key = b.range(start, key_end)?;
            let name: String = serde_json::from_str(std::str::from_utf8(&key).ok()?).ok()?;
            let colon = skip_ws(b, key_end);
            if b.get(colon) != Some(b':') {
                return None;
            }
            let v = skip_ws(b, colon + 1);
            if let Some(Children::Object { members, .. }) = self.containers.get_mut(&at) {
                // A key written twice (refused when loading) keeps its first value.
                members.entry(name.clone()).or_insert(v);
            }
            self.set_next(at, Next::After(v));
            Some((v, Some(name)))
        } else {
            if let Some(Children::Array { starts, .. }) = self.containers.get_mut(&at) {
                starts.push(start);
            }
            self.set_next(at, Next::After(start));
            Some((start, None))
        }
    }

    fn set_next(&mut self, at: usize, cursor: Next) {
        if let Some(Children::Object { next, .. } | Children::Array { next, .. }) =
            self.containers.get_mut(&at)
        {
            *next = cursor;
        }
    }

    /// Start of the value of member `key` of the object at `at`, scanning
    /// only the members no earlier call has.
    fn member(&mut self, b: Bytes<'_>, at: usize, key: &str) -> Option<usize> {
        let entry = self
            .containers
            .entry(at)
            .or_insert_with(|| Children::Object {
                members: HashMap::new(),
                next: unscanned(b, at, b'}'),
            });
        let Children::Object { members, next } = entry else {
            return None;
        };
        if let Some(&found) = members.get(key) {
            return Some(found);
        }
        let mut next = *next;
        loop {
            let (v, name) = self.advance(b, at, next, true)?;
            if name.as_deref() == Some(key) {
                return Some(v);
            }
            next = self.cursor(at)?;
        }
    }

    /// Element `n` of the list at `at`, found from the last landmark at or
    /// before it when that is past the `scanned` elements the list's own
    /// scan has found (`None` when there is no such landmark). The elements
    /// passed on the way are not recorded in the list's scan, which only
    /// holds them all from the first.
    fn element_from_landmark(
        &mut self,
        b: Bytes<'_>,
        at: usize,
        n: usize,
        scanned: usize,
    ) -> Option<Option<usize>> {
        if let Some(&found) = self.from_landmarks.get(&(at, n)) {
            return Some(Some(found));
        }
        let noted = self.landmarks.get(&at)?;
        let last = noted.partition_point(|&(index, _)| index <= n);
        let &(mut index, mut start) = noted.get(last.checked_sub(1)?)?;
        if index < scanned {
            return None;
        }
        while index < n {
            let after = skip_ws(b, self.end_of(b, start)?);
            if b.get(after) != Some(b',') {
                // The list ends before element `n`.
                return Some(None);
            }
            start = skip_ws(b, after + 1);
            index += 1;
        }
        self.from_landmarks.insert((at, n), start);
        Some(Some(start))
    }

    /// The container at `at`'s cursor.
    fn cursor(&self, at: usize) -> Option<Next> {
        match self.containers.get(&at)? {
            Children::Object { next, .. } | Children::Array { next, .. } => Some(*next),
        }
    }

    /// How many children of the container at `at` are found.
    fn found(&self, at: usize) -> usize {
        match self.containers.get(&at) {
            Some(Children::Object { members, .. }) => members.len(),
            Some(Children::Array { starts, .. }) => starts.len(),
            None => 0,
        }
    }

    /// Start of element `n` of the array at `at`, scanning only the
    /// elements no earlier call has.
    fn element(&mut self, b: Bytes<'_>, at: usize, n: usize) -> Option<usize> {
        let entry = self
            .containers
            .entry(at)
            .or_insert_with(|| Children::Array {
                starts: Vec::new(),
                next: unscanned(b, at, b']'),
            });
        let Children::Array { starts, next } = entry else {
            return None;
        };
        if let Some(&found) = starts.get(n) {
            return Some(found);
        }
        let mut next = *next;
        let scanned = starts.len();
        if let Some(found) = self.element_from_landmark(b, at, n, scanned) {
            return found;
        }
        loop {
            let (v, _) = self.advance(b, at, next, false)?;
            if self.found(at) == n + 1 {
                return Some(v);
            }
            next = self.cursor(at)?;
        }
    }
}

/// Evidence text as a miette source, without copying it.
#[derive(Clone, Debug)]
pub struct SharedText(pub std::sync::Arc<String>);

impl miette::SourceCode for SharedText {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0
            .as_str()
            .read_span(span, context_lines_before, context_lines_after)
    }
}

/// A few lines of an evidence file as a miette source: offsets and line
/// numbers are the file's, as if miette read the whole text, which it would
/// scan from the start for every snippet.
#[derive(Clone, Debug)]
pub struct TextWindow {
    text: String,
    /// The file's offset of `text`'s first byte, a line's start.
    base: usize,
    /// Line breaks before `base`, as miette counts them.
    breaks: usize,
}

impl miette::SourceCode for TextWindow {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let offset = span
            .offset()
            .checked_sub(self.base)
            .ok_or(miette::MietteError::OutOfBounds)?;
        let inner = self.text.as_str().read_span(
            &(offset, span.len()).into(),
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(miette::MietteSpanContents::new(
            inner.data(),
            (inner.span().offset() + self.base, inner.span().len()).into(),
            inner.line() + self.breaks,
            inner.column(),
            inner.line_count() + self.breaks,
        )))
    }
}

/// A stretch of one file's text (see [`EvidenceText::region`]).
pub(crate) struct Region<'t> {
    pub(crate) text: std::borrow::Cow<'t, str>,
    /// The file's offset of `text`'s first byte.
    pub(crate) base: usize,
}

impl EvidenceText {
    /// The text's length in bytes.
    pub(crate) fn text_len(&self) -> usize {
        match self.bytes() {
            Bytes::Pieces(d) => d.text_len(),
            Bytes::Whole(b) => b.len(),
        }
    }

    /// The text from `lo` to `hi`, clamped to the text and widened to
    /// whole characters: what a report shows of a file is read again
    /// piece by piece for a streamed one.
    pub(crate) fn region(&self, lo: usize, hi: usize) -> Option<Region<'_>> {
        let bytes = self.bytes();
        let len = self.text_len();
        let continues = |i: usize| bytes.get(i).is_some_and(|b| b & 0xC0 == 0x80);
        let mut lo = lo.min(len);
        while lo > 0 && continues(lo) {
            lo -= 1;
        }
        let mut hi = hi.clamp(lo, len);
        while hi < len && continues(hi) {
            hi += 1;
        }
        let text = match bytes.range(lo, hi)? {
            std::borrow::Cow::Borrowed(b) => std::str::from_utf8(b).ok()?.into(),
            std::borrow::Cow::Owned(b) => String::from_utf8(b).ok()?.into(),
        };
        Some(Region { text, base: lo })
    }

    /// The lines holding `first..last` with `context` lines above and
    /// below, as miette shows them: the snippet's source.
    pub(crate) fn lines_around(
        &self,
        first: usize,
        last: usize,
        context: usize,
    ) -> Option<TextWindow> {
        let bytes = self.bytes();
        // Just after the `context + 1`th `\n` before `first`, or the start.
        let mut lo = first.min(self.text_len());
        let mut seen = 0;
        while lo > 0 {
            if bytes.get(lo - 1) == Some(b'\n') {
                seen += 1;
                if seen > context {
                    break;
                }
            }
            lo -= 1;
        }
        // Just after the `context + 1`th `\n` from `last` on, or the end.
        let mut hi = last;
        let mut seen = 0;
        while let Some(run) = bytes.run(hi) {
            match memchr::memchr(b'\n', run) {
                Some(i) => {
                    hi += i + 1;
                    seen += 1;
                    if seen > context {
                        break;
                    }
                }
                None => hi += run.len(),
            }
        }
        let region = self.region(lo, hi)?;
        let breaks = match bytes {
            Bytes::Pieces(d) => {
                let counts = d.counts_before(region.base)?;
                counts.newlines + counts.lone_returns
            }
            Bytes::Whole(b) => {
                let text = self.text().as_str();
                let lines = self.index.lines.get_or_init(|| LineIndex::new(text));
                let returns = self.index.lone_returns.get_or_init(|| {
                    memchr::memchr_iter(b'\r', b)
                        .filter(|&i| b.get(i + 1) != Some(&b'\n'))
                        .collect()
                });
                let newlines = lines.line_starts.partition_point(|&s| s <= region.base) - 1;
                newlines + returns.partition_point(|&r| r < region.base)
            }
        };
        Some(TextWindow {
            text: region.text.into_owned(),
            base: region.base,
            breaks,
        })
    }
}

/// All evidence files of one decision.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub files: Vec<EvidenceText>,
}

/// Where an evidence value is: its file and byte span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub file: usize,
    pub start: usize,
    pub end: usize,
}

impl Evidence {
    /// The file that holds the value at `pointer` (a pointer into the
    /// bundle), and the pointer to it within that file.
    pub(crate) fn resolve(&self, pointer: &str) -> Option<(usize, String)> {
        let first = pointer
            .strip_prefix('/')?
            .split('/')
            .next()
            .map(unescape_token);
        for (i, f) in self.files.iter().enumerate() {
            if let (Some(m), Some(first)) = (&f.mount, &first) {
                if m == first {
                    let rest = pointer
                        .strip_prefix('/')
                        .and_then(|p| p.split_once('/').map(|(_, r)| format!("/{r}")))
                        .unwrap_or_default();
                    return Some((i, rest));
                }
            }
        }
        let i = self.files.iter().position(|f| f.mount.is_none())?;
        Some((i, pointer.to_string()))
    }

    /// The file and span of the value at `pointer` (a pointer into the bundle).
    pub fn locate(&self, pointer: &str) -> Option<Located> {
        let (i, inner) = self.resolve(pointer)?;
        let f = self.files.get(i)?;
        f.index.locate_in(f, &inner).map(|(start, end)| Located {
            file: i,
            start,
            end,
        })
    }

    /// `file:line:column` of a located value.
    pub fn describe(&self, at: &Located) -> Option<(String, usize, usize)> {
        let f = self.files.get(at.file)?;
        let (line, col) = match f.bytes() {
            Bytes::Pieces(d) => {
                // As `LineIndex::line_col` counts, from the stream's notes.
                let line = d.counts_before(at.start)?.newlines + 1;
                let start = d.line_start(at.start)?;
                let chars = |at| d.counts_before(at).map(|c| c.chars);
                (line, chars(at.start)? - chars(start)? + 1)
            }
            Bytes::Whole(_) => {
                let text = f.text().as_str();
                let lines = f.index.lines.get_or_init(|| LineIndex::new(text));
                lines.line_col(text, at.start)
            }
        };
        Some((f.name.clone(), line, col))
    }
}

fn unescape_token(t: &str) -> String {
    t.replace("~1", "/").replace("~0", "~")
}

/// Byte span of the value at `pointer` (RFC 6901) in the JSON `text`, by a
/// scan of its own (an [`Evidence`] file reuses what earlier scans found).
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    LocateIndex::default().locate(Bytes::Whole(text.as_bytes()), pointer)
}

/// The text a scan reads: held whole, or a streamed file's pieces, each
/// read again (and checked) when a scan first reaches it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Bytes<'t> {
    Whole(&'t [u8]),
    Pieces(&'t Deferred),
}

impl<'t> Bytes<'t> {
    #[inline]
    fn get(self, i: usize) -> Option<u8> {
        match self {
            Bytes::Whole(b) => b.get(i).copied(),
            Bytes::Pieces(d) => d.text_byte(i),
        }
    }

    /// The bytes from `i` on: to the text's end, or to the end of the
    /// piece that holds `i`.
    #[inline]
    fn run(self, i: usize) -> Option<&'t [u8]> {
        match self {
            Bytes::Whole(b) => b.get(i..).filter(|r| !r.is_empty()),
            Bytes::Pieces(d) => d.text_run(i),
        }
    }

    /// The bytes `start..end`, borrowed where they are held whole.
    fn range(self, start: usize, end: usize) -> Option<std::borrow::Cow<'t, [u8]>> {
        match self {
            Bytes::Whole(b) => b.get(start..end).map(Into::into),
            Bytes::Pieces(d) => d.text_range(start, end).map(Into::into),
        }
    }

    /// The byte order mark's length at the start of a text held whole (a
    /// streamed file's text starts after it).
    fn bom(self) -> usize {
        match self {
            Bytes::Whole(b) if b.starts_with(b"\xEF\xBB\xBF") => 3,
            _ => 0,
        }
    }
}

fn skip_ws(b: Bytes<'_>, mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `i` (which holds `"`).
fn skip_string(b: Bytes<'_>, mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        // Eight bytes at a time to the next quote or backslash (or control
        // character, which a loaded file has none of in a string), a run
        // (a piece of a streamed file) at a time.
        let run = b.run(i)?;
        let found = crate::eval::json::special_byte(run, 0);
        i += found;
        match run.get(found) {
            Some(b'\\') => i += 2,
            Some(b'"') => return Some(i + 1),
            Some(_) => i += 1,
            None => {}
        }
    }
}

/// End (exclusive) of the value starting at `i`, without recursion.
fn skip_value(b: Bytes<'_>, i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    break;
                }
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'t>(text: &'t str, p: &str) -> Option<&'t str> {
        locate(text, p).and_then(|(s, e)| text.get(s..e))
    }

    #[test]
    fn values_anywhere() {
        let t = r#"{"a": 1, "b": {"c": [10, {"d": "x,y"}, 30]}, "z": true}"#;
        assert_eq!(at(t, "/a"), Some("1"));
        assert_eq!(at(t, "/b/c/0"), Some("10"));
        assert_eq!(at(t, "/b/c/1/d"), Some("\"x,y\""));
        assert_eq!(at(t, "/b/c/2"), Some("30"));
        assert_eq!(at(t, "/z"), Some("true"));
        assert_eq!(at(t, "/b/c"), Some(r#"[10, {"d": "x,y"}, 30]"#));
        assert_eq!(at(t, ""), Some(t));
        assert_eq!(at(t, "/missing"), None);
        assert_eq!(at(t, "/b/c/9"), None);
    }

    #[test]
    fn escaped_keys() {
        let t = "{\"a/b\": 1, \"m~n\": 2, \"q\\\"k\": 3, \"\\u0041\": 4}";
        assert_eq!(at(t, "/a~1b"), Some("1"));
        assert_eq!(at(t, "/m~0n"), Some("2"));
        assert_eq!(at(t, "/q\"k"), Some("3"));
        assert_eq!(at(t, "/A"), Some("4"));
    }

    /// One index asked in any order finds what a fresh scan finds for each
    /// pointer, and its line:column is `span::line_col`'s.
    #[test]
    fn the_index_agrees_with_a_fresh_scan() {
        let t = "{\"a\": [1, {\"k\": \"é\"}, [2, 3]],\n \"b\": {\"x\": 1, \"y\": {\"z\": null}}, \"c\": []}";
        let pointers = [
            "/b/y/z", "/a/2/1", "/a/0", "/b/x", "/a/1/k", "/c", "/a/5", "/b/q", "/c/0", "",
        ];
        let index = LocateIndex::default();
        for p in pointers.iter().chain(pointers.iter().rev()) {
            assert_eq!(
                index.locate(Bytes::Whole(t.as_bytes()), p),
                locate(t, p),
                "{p}"
            );
            if let Some((s, _)) = locate(t, p) {
                let lines = index.lines.get_or_init(|| LineIndex::new(t));
                assert_eq!(
                    lines.line_col(t, s),
                    crate::syntax::span::line_col(t, s),
                    "{p}"
                );
            }
        }
        let long: String = "é".repeat(5000) + "\n" + &"x".repeat(9000);
        let lines = LineIndex::new(&long);
        for offset in [0, 1, 2, 4097, 10_000, 10_001, 15_000, long.len()] {
            if long.is_char_boundary(offset) {
                assert_eq!(
                    lines.line_col(&long, offset),
                    crate::syntax::span::line_col(&long, offset)
                );
            }
        }
    }

    /// Every pointer of a nested document, asked of one index in three
    /// orders, names exactly the value `serde_json` finds there (so paths
    /// into children found earlier, and containers finished after their
    /// children were found, are located right).
    #[test]
    fn every_pointer_in_any_order_names_its_value() {
        fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
            out.push(at.clone());
            match v {
                serde_json::Value::Object(m) => {
                    for (k, child) in m {
                        let step = k.replace('~', "~0").replace('/', "~1");
                        pointers(child, format!("{at}/{step}"), out);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        pointers(child, format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        let big: String = (0..300)
            .map(|i| format!("{{\"n\": {i}, \"s\": \"x\\\"{i}\", \"l\": [[], {{}}, [{i}]]}}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "{{\"a\": [1, {{\"k\": \"é\", \"e\": {{}}}}, [2, [3, []]]],\n \"big\": [{big}],\n \"a/b\": {{\"m~n\": null, \"deep\": {{\"x\": {{\"y\": [true, false]}}}}}}, \"z\": []}}"
        );
        let whole: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        pointers(&whole, String::new(), &mut all);
        let n = all.len();
        let orders: [Vec<usize>; 3] = [
            (0..n).collect(),
            (0..n).rev().collect(),
            (0..n).map(|i| (i * 7919) % n).collect(),
        ];
        // Without landmarks, and with those of loads noting them at every
        // few bytes up to rarely: the same spans, asked in any order.
        let spacings = [None, Some(1), Some(5), Some(64), Some(1000)];
        for (order, spacing) in orders.iter().flat_map(|o| spacings.map(|s| (o, s))) {
            let index = LocateIndex::default();
            if let Some(spacing) = spacing {
                let mut landmarks = crate::eval::json::Landmarks::every(spacing);
                crate::eval::value::parse_json_noting(
                    &text,
                    Default::default(),
                    Some(&mut landmarks),
                )
                .unwrap();
                assert!(!landmarks.ends.is_empty() && !landmarks.elements.is_empty());
                index.note(landmarks);
            }
            for &i in order {
                let p = &all[i];
                let (start, end) = index
                    .locate(Bytes::Whole(text.as_bytes()), p)
                    .unwrap_or_else(|| panic!("{p}"));
                let found: serde_json::Value = serde_json::from_str(&text[start..end]).unwrap();
                assert_eq!(Some(&found), whole.pointer(p), "{p} {spacing:?}");
            }
            for beyond in [
                "/big/300",
                "/big/301",
                "/big/299/l/3",
                "/a/3",
                "/a/1/missing",
            ] {
                assert!(
                    index
                        .locate(Bytes::Whole(text.as_bytes()), beyond)
                        .is_none(),
                    "{beyond} {spacing:?}"
                );
            }
            if spacing == Some(64) {
                let scan = index.scan.lock().unwrap();
                assert!(
                    !scan.from_landmarks.is_empty(),
                    "no element found from a landmark"
                );
            }
        }
    }

    #[test]
    fn crlf_and_bom() {
        let t = "\u{FEFF}{\r\n  \"a\": {\r\n    \"b\": 42\r\n  }\r\n}\r\n";
        let (s, _) = locate(t, "/a/b").unwrap();
        assert_eq!(crate::syntax::span::line_col(t, s), (3, 10));
    }

    /// A text over several of a stream's pieces, with what makes counting
    /// lines hard at and around their edges: a byte order mark, `\r\n` and
    /// a lone `\r`, characters of two to four bytes.
    fn many_pieces() -> String {
        let spaces = [" ", "\n", "\r\n", "\r", "\n\n", " \r\r\n"];
        let words = ["caf\u{e9}", "\u{20ac}1", "\u{1d11e}", "plain", "a\\\"b"];
        let items: Vec<String> = (0..30_000)
            .map(|i| {
                let space = spaces[i % spaces.len()];
                let word = words[i % words.len()];
                format!("{space}{{\"n\": {i},{space}\"w\": \"{word}\"}}")
            })
            .collect();
        let mut text = format!("{{\"items\": [{}\n],\r\"end\": true}}\r", items.join(","));
        // At the edges of the first pieces (the file has a byte order mark
        // first, so piece `k` starts at the text's byte `k * 64 KiB - 3`):
        // a lone `\r` as a piece's last byte, a `\r\n` cut in two, a
        // character cut in two.
        for k in 1..=9 {
            let edge = k * 65536 - 4;
            assert!(text.len() > edge);
            // A comma between two items.
            let comma = 1 + text.as_bytes()[..edge - 16]
                .windows(2)
                .rposition(|pair| pair == b"},")
                .unwrap();
            let pad = |n: usize| " ".repeat(edge - comma - 1 - n);
            let insert = match k % 3 {
                0 => format!("{}\r ", pad(0)),
                1 => format!("{}\r\n", pad(0)),
                _ => format!("{}{{\"w\": \"\u{e9}\"}},", pad(7)),
            };
            text.insert_str(comma + 1, &insert);
        }
        text
    }

    fn streamed(text: &str) -> (tempfile::TempDir, EvidenceText) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.json");
        std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
        let deferred = Deferred::new(path, "bundle.json".into(), u64::MAX);
        let file = EvidenceText::deferred(None, "bundle.json".into(), deferred);
        let mut landmarks = crate::eval::json::Landmarks::default();
        let shape = crate::eval::json::Shape::of(None, false);
        let d = file.streaming().unwrap();
        d.load(Default::default(), shape, &mut landmarks)
            .unwrap()
            .unwrap();
        file.note(landmarks);
        (dir, file)
    }

    #[test]
    fn pieces_read_again_count_as_the_whole_text_does() {
        let text = many_pieces();
        assert!(text.len() > 8 * 65536);
        let (_dir, file) = streamed(&text);
        let Bytes::Pieces(d) = file.bytes() else {
            panic!("not read in pieces");
        };
        assert_eq!(d.text_len(), text.len());
        let lone = |upto: &str, next: Option<u8>| {
            let b = upto.as_bytes();
            (0..b.len())
                .filter(|&i| b[i] == b'\r' && b.get(i + 1).copied().or(next) != Some(b'\n'))
                .count()
        };
        let offsets = (0..text.len())
            .step_by(997)
            .chain((1..10).map(|p| p * 65536 - 3))
            .chain([text.len()])
            .filter(|&at| text.is_char_boundary(at));
        for at in offsets {
            let counts = d.counts_before(at).unwrap();
            let upto = &text[..at];
            assert_eq!(counts.newlines, upto.matches('\n').count(), "{at}");
            assert_eq!(counts.chars, upto.chars().count(), "{at}");
            let next = text.as_bytes().get(at).copied();
            assert_eq!(counts.lone_returns, lone(upto, next), "{at}");
            assert_eq!(
                d.line_start(at),
                Some(upto.rfind('\n').map_or(0, |i| i + 1)),
                "{at}"
            );
        }
        assert!(file.region(5, 5 + 3 * 65536).unwrap().text == text[5..5 + 3 * 65536]);
    }

    #[test]
    fn located_described_and_shown_from_pieces_as_from_the_whole_text() {
        use miette::SourceCode;
        let text = many_pieces();
        let (_dir, file) = streamed(&text);
        let evidence = Evidence { files: vec![file] };
        let whole = SharedText(std::sync::Arc::new(text.clone()));
        let pointers = (0..30_000)
            .step_by(1_237)
            .flat_map(|i| [format!("/items/{i}/w"), format!("/items/{i}")])
            .chain(["/end".to_string(), "/items/29999/n".to_string()]);
        for pointer in pointers {
            let at = evidence.locate(&pointer).unwrap();
            assert_eq!(
                Some((at.start, at.end)),
                locate(&text, &pointer),
                "{pointer}"
            );
            let (_, line, col) = evidence.describe(&at).unwrap();
            assert_eq!(
                (line, col),
                crate::syntax::span::line_col(&text, at.start),
                "{pointer}"
            );
            let window = evidence.files[0].lines_around(at.start, at.end, 1).unwrap();
            for context in [0, 1] {
                let span = (at.start, at.end - at.start).into();
                let a = whole.read_span(&span, context, context).unwrap();
                let b = window.read_span(&span, context, context).unwrap();
                assert_eq!(a.data(), b.data(), "{pointer}");
                assert_eq!(
                    (a.span(), a.line(), a.column(), a.line_count()),
                    (b.span(), b.line(), b.column(), b.line_count()),
                    "{pointer}"
                );
            }
        }
        assert!(evidence.unchanged().is_ok());
    }

    /// A piece is held to the digest of the text through it, hashed on
    /// from the state before it: the first piece's byte order mark, which
    /// is not text, must be there all the same, and a change in a middle
    /// piece is caught as one in the last is.
    #[test]
    fn the_first_piece_keeps_its_byte_order_mark_and_a_middle_one_its_text() {
        let text = many_pieces();
        // A value in the fifth piece, changed to one of the same length.
        let at = 4 * 65536 + text[4 * 65536..].find("\"plain\"").unwrap();
        let item = text[..at].matches("\"n\":").count() - 1;
        let in_middle = format!("{}\"plaim\"{}", &text[..at], &text[at + 7..]).into_bytes();
        let in_middle_pointer = format!("/items/{item}/w");
        // The changed file, a pointer read from pieces that did not change,
        // and one whose search reads the changed piece.
        let cases = [
            (
                [b"abc".to_vec(), text.clone().into_bytes()],
                None,
                "/items/0/n",
            ),
            (
                ["\u{feff}".as_bytes().to_vec(), in_middle],
                Some("/items/0/n"),
                in_middle_pointer.as_str(),
            ),
        ];
        for (changed, unchanged, pointer) in cases {
            let (dir, file) = streamed(&text);
            let evidence = Evidence { files: vec![file] };
            // The stream's one SHA-256 is still the text's.
            assert_eq!(
                evidence.files[0].sha256(),
                crate::attest::keys::hex(&<sha2::Sha256 as sha2::Digest>::digest(&text)),
            );
            std::fs::write(dir.path().join("bundle.json"), changed.concat()).unwrap();
            if let Some(unchanged) = unchanged {
                evidence.locate(unchanged).unwrap();
                assert!(evidence.unchanged().is_ok(), "{unchanged}");
            }
            let _ = evidence.locate(pointer);
            let error = evidence.unchanged().unwrap_err();
            assert!(
                error.message().contains("changed while it was being read"),
                "{pointer} {error:?}"
            );
        }
    }

    #[test]
    fn a_piece_that_changed_since_the_stream_stops_the_run() {
        let text = many_pieces();
        let (dir, file) = streamed(&text);
        // The same length, one value changed, in the last piece only.
        let changed = text.replacen("\"end\": true", "\"end\": tru3", 1);
        std::fs::write(dir.path().join("bundle.json"), format!("\u{feff}{changed}")).unwrap();
        let evidence = Evidence { files: vec![file] };
        // A piece the change is not in reads as it did.
        evidence.locate("/items/0/n").unwrap();
        assert!(evidence.unchanged().is_ok());
        // The one it is in is not shown, and the run stops.
        let at = evidence.locate("/end");
        let error = evidence.unchanged().unwrap_err();
        assert!(
            error.message().contains("changed while it was being read"),
            "{at:?} {error:?}"
        );
    }
}
