//! A hand-written reader for evidence JSON that loads: one pass over the
//! bytes straight to [`Value`]s, whole or projected, with strings borrowed
//! from the text wherever they have no escape.
//!
//! serde_json stays the definition of what loads and of every error. This
//! reader gives up ([`GiveUp`]) at the first thing it does not accept or is
//! unsure of: any syntax error, a string with a control character, a number
//! it does not read itself and serde_json refuses, a limit reached, a
//! duplicate key. The caller then reads the text again with serde_json
//! (`value::parse_json`, `projection::parse_with`), which loads it or says
//! exactly what is wrong, where. So the one rule this reader must keep is:
//! what it loads, serde_json loads to the same value. `tests/json_agreement.rs`
//! and the `evidence` fuzz target hold it to that.
//!
//! Why: serde_json's visitor interface costs a call and a check per token,
//! and most of a decision's load is skipping what no rule reads; this
//! reader skips a value by scanning it (strings eight bytes at a time),
//! checking it exactly as a load would (nesting, string length, integer
//! range, duplicate keys).

use super::projection::Projection;
use super::value::{same_bytes, LoadLimits, Loading, NewObject, Value};
use std::borrow::Cow;

/// The reader met something it leaves to serde_json.
#[derive(Debug)]
pub(crate) struct GiveUp;

type Fast<T> = Result<T, GiveUp>;

/// What to build of the document.
#[derive(Clone, Copy)]
pub(crate) enum Shape<'p> {
    /// Everything.
    Whole,
    /// What `projection` says can be read; with `drop_unread`, the fields
    /// no rule reads are left out of their objects instead of kept as `null`.
    Projected {
        projection: &'p Projection,
        drop_unread: bool,
    },
}

/// The two readers side by side, for the tests and the fuzz target that
/// hold them to each other: `projection` `None` is a whole load, `Some` a
/// projected one (a decision's with `drop_unread`).
#[doc(hidden)]
pub mod readers {
    use super::*;
    use crate::eval::value::LoadError;

    /// The fast reader alone: `None` where it gives up.
    pub fn fast(
        text: &str,
        limits: LoadLimits,
        projection: Option<&Projection>,
        drop_unread: bool,
    ) -> Option<Value> {
        match projection {
            Some(p) if !p.whole => load(
                text,
                limits,
                Shape::Projected {
                    projection: p,
                    drop_unread,
                },
            ),
            _ => load(text, limits, Shape::Whole),
        }
    }

    /// The landmarks a whole load by the fast reader notes at least
    /// `spacing` bytes apart: `None` where it gives up.
    pub fn landmarks(text: &str, limits: LoadLimits, spacing: usize) -> Option<Landmarks> {
        let mut landmarks = Landmarks::every(spacing);
        load_noting(text, limits, Shape::Whole, Some(&mut landmarks))?;
        Some(landmarks)
    }

    /// How many landmarks: container ends and list elements.
    pub fn count(landmarks: &Landmarks) -> (usize, usize) {
        let elements = landmarks.elements.values().map(Vec::len).sum();
        (landmarks.ends.len(), elements)
    }

    /// serde_json alone.
    pub fn serde(
        text: &str,
        limits: LoadLimits,
        projection: Option<&Projection>,
        drop_unread: bool,
    ) -> Result<Value, LoadError> {
        match projection {
            Some(p) => crate::eval::projection::parse_with_serde(text, limits, p, drop_unread),
            None => crate::eval::value::parse_json_with_serde(text, limits),
        }
    }
}

/// Loads `text`, or gives up and leaves it to serde_json.
pub(crate) fn load(text: &str, limits: LoadLimits, shape: Shape<'_>) -> Option<Value> {
    load_noting(text, limits, shape, None)
}

/// [`load`], noting [`Landmarks`] on the way when asked to. What it notes
/// is only kept when the load succeeds.
pub(crate) fn load_noting(
    text: &str,
    limits: LoadLimits,
    shape: Shape<'_>,
    landmarks: Option<&mut Landmarks>,
) -> Option<Value> {
    let loading = Loading::new();
    let mut noted = landmarks.as_ref().map(|l| Landmarks::every(l.spacing));
    let value = {
        let mut loading = loading.borrow_mut();
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            limits,
            loading: &mut loading,
            keys: Vec::new(),
            note_every: noted.as_ref().map_or(usize::MAX, |l| l.spacing),
            landmarks: noted.as_mut(),
        };
        reader.document(shape)
    };
    Loading::finish(loading);
    let value = value.ok()?;
    if let (Some(into), Some(noted)) = (landmarks, noted) {
        *into = noted;
    }
    Some(value)
}

/// Where the large containers of a JSON text end and where elements of
/// its long lists start, noted by a load as it passes them, so that
/// locating a value for a report (`report::locate`) scans at most about
/// [`Landmarks::SPACING`] bytes beyond what it was given, instead of the
/// whole text up to the value: a denied decision on a 100 MB bundle cites
/// the last suite and the last component, near its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landmarks {
    /// Containers of at least this many bytes have their end noted, and a
    /// list's elements are noted at least this many bytes apart.
    spacing: usize,
    /// By the offset of a container's `{` or `[`: the offset just past its
    /// closing bracket.
    pub(crate) ends: std::collections::HashMap<usize, usize>,
    /// By the offset of a list's `[`: its noted elements, as (index,
    /// offset of the element's first byte), in order.
    pub(crate) elements: std::collections::HashMap<usize, Vec<(usize, usize)>>,
}

impl Default for Landmarks {
    fn default() -> Self {
        Landmarks::every(Landmarks::SPACING)
    }
}

impl Landmarks {
    /// 16 KiB: a few thousand landmarks for a 100 MB bundle (under a
    /// hundred kilobytes), and about ten microseconds of scanning for each
    /// value located.
    pub const SPACING: usize = 16 << 10;

    /// Landmarks at least `spacing` bytes apart (tests use small ones).
    pub fn every(spacing: usize) -> Self {
        Landmarks {
            spacing: spacing.max(1),
            ends: Default::default(),
            elements: Default::default(),
        }
    }
}

struct Reader<'t, 'l> {
    text: &'t str,
    bytes: &'t [u8],
    /// The next byte to read.
    at: usize,
    limits: LoadLimits,
    loading: &'l mut Loading,
    /// The keys of the objects being read that are not built (skipped, or
    /// left out of a decision's load) and, in such an object, the kept
    /// ones: innermost object last, each from its [`ObjectKeys::start`].
    keys: Vec<Cow<'t, str>>,
    /// Where to note positions, when the caller asked.
    landmarks: Option<&'l mut Landmarks>,
    /// Their spacing, or `usize::MAX` for none: checked for every element
    /// and container, so it is at hand.
    note_every: usize,
}

/// The keys of one object on [`Reader::keys`], checked for duplicates.
struct ObjectKeys<'t> {
    start: usize,
    /// Past [`FEW_KEYS`], the object's keys move here: an object of many
    /// keys is not checked in quadratic time.
    many: Option<HashSet<Cow<'t, str>>>,
}

type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// Keys compared one by one, as most objects have (see [`ObjectKeys`]).
const FEW_KEYS: usize = 16;

/// 2^63: a float at least this large may be an integer literal beyond 64
/// bits that serde_json turned into a float, which a load refuses after
/// searching the text for it; left to serde_json.
const BEYOND_I64: f64 = 9_223_372_036_854_775_808.0;

impl<'t> Reader<'t, '_> {
    fn document(&mut self, shape: Shape<'_>) -> Fast<Value> {
        let value = match shape {
            Shape::Whole => self.whole(0)?,
            Shape::Projected {
                projection,
                drop_unread,
            } => self.projected(projection, 0, drop_unread)?,
        };
        self.skip_whitespace();
        if self.at != self.bytes.len() {
            return Err(GiveUp);
        }
        Ok(value)
    }

    // ───── values ─────

    /// A value, built whole.
    fn whole(&mut self, depth: usize) -> Fast<Value> {
        match self.next_byte()? {
            b'{' => self.nested(depth, |r| r.whole_object(depth)),
            b'[' => self.nested(depth, |r| r.whole_list(depth)),
            first => self.scalar(first),
        }
    }

    fn whole_object(&mut self, depth: usize) -> Fast<Value> {
        let inner = self.deeper(depth)?;
        let mut object = self.loading.begin_object();
        self.members(|r, key| {
            let value = r.whole(inner)?;
            r.add_entry(&mut object, &key, value)
        })?;
        Ok(self.loading.end_object(object))
    }

    fn whole_list(&mut self, depth: usize) -> Fast<Value> {
        let inner = self.deeper(depth)?;
        let start = self.loading.begin_list();
        self.items(|r| {
            let item = r.whole(inner)?;
            r.loading.add_item(item);
            Ok(())
        })?;
        Ok(self.loading.end_list(start))
    }

    /// A value, built as far as `node` says rules read it: the same values
    /// as `projection::Seed`, case for case.
    fn projected(&mut self, node: &Projection, depth: usize, drop_unread: bool) -> Fast<Value> {
        if node.whole {
            return self.whole(depth);
        }
        match self.next_byte()? {
            b'{' => self.nested(depth, |r| r.projected_object(node, depth, drop_unread)),
            // Read as an object, found a list: the rules stop at it with a
            // type error that shows it, so it is loaded as it is.
            b'[' if !node.fields.is_empty() => self.nested(depth, |r| r.whole_list(depth)),
            b'[' => self.nested(depth, |r| r.projected_list(node, depth, drop_unread)),
            first => self.scalar(first),
        }
    }

    fn projected_object(
        &mut self,
        node: &Projection,
        depth: usize,
        drop_unread: bool,
    ) -> Fast<Value> {
        let inner = self.deeper(depth)?;
        let object = self.loading.begin_object();
        // Every key, kept or left out, is checked for duplicates here; the
        // kept entries go to the load unchecked.
        let mut keys = self.object_keys();
        self.members(|r, key| {
            match field(node, &key).or(node.items.as_deref()) {
                Some(child) => {
                    let value = r.projected(child, inner, drop_unread)?;
                    r.loading.push_entry(&key, value);
                }
                None => {
                    r.skip(inner)?;
                    if !drop_unread {
                        r.loading.push_entry(&key, Value::Null);
                    }
                }
            }
            r.first_sighting(&mut keys, key)
        })?;
        self.keys.truncate(keys.start);
        Ok(self.loading.end_object(object))
    }

    fn projected_list(
        &mut self,
        node: &Projection,
        depth: usize,
        drop_unread: bool,
    ) -> Fast<Value> {
        let inner = self.deeper(depth)?;
        match node.items.as_deref() {
            Some(child) => {
                let start = self.loading.begin_list();
                self.items(|r| {
                    let item = r.projected(child, inner, drop_unread)?;
                    r.loading.add_item(item);
                    Ok(())
                })?;
                Ok(self.loading.end_list(start))
            }
            None => {
                // Not read element by element: the count is kept, the
                // elements checked but not built.
                let mut count = 0usize;
                self.items(|r| {
                    count += 1;
                    r.skip(inner)
                })?;
                Ok(Value::nulls(count))
            }
        }
    }

    /// Checks a value without building it, as `projection::Skip` does.
    fn skip(&mut self, depth: usize) -> Fast<()> {
        match self.next_byte()? {
            b'{' => self.nested(depth, |r| {
                let inner = r.deeper(depth)?;
                let mut keys = r.object_keys();
                r.members(|r, key| {
                    r.skip(inner)?;
                    r.first_sighting(&mut keys, key)
                })?;
                r.keys.truncate(keys.start);
                Ok(())
            }),
            b'[' => self.nested(depth, |r| {
                let inner = r.deeper(depth)?;
                r.items(|r| r.skip(inner))
            }),
            b'"' => {
                let s = self.string()?;
                self.within_string_limit(&s)
            }
            first => self.scalar(first).map(drop),
        }
    }

    /// A string, number, `true`, `false` or `null` whose first byte, already
    /// read, is `first`.
    fn scalar(&mut self, first: u8) -> Fast<Value> {
        match first {
            b'"' => {
                let s = self.string()?;
                self.within_string_limit(&s)?;
                Ok(self.loading.string_value(&s))
            }
            b'-' | b'0'..=b'9' => self.number(self.at - 1),
            b't' => self.literal(b"rue", Value::Bool(true)),
            b'f' => self.literal(b"alse", Value::Bool(false)),
            b'n' => self.literal(b"ull", Value::Null),
            _ => Err(GiveUp),
        }
    }

    fn literal(&mut self, rest: &[u8], value: Value) -> Fast<Value> {
        if self.bytes.get(self.at..self.at + rest.len()) != Some(rest) {
            return Err(GiveUp);
        }
        self.at += rest.len();
        Ok(value)
    }

    fn within_string_limit(&self, s: &str) -> Fast<()> {
        if s.len() > self.limits.max_string {
            return Err(GiveUp);
        }
        Ok(())
    }

    fn add_entry(&mut self, object: &mut NewObject, key: &str, value: Value) -> Fast<()> {
        self.loading
            .add_entry(object, key, value)
            .map_err(|_duplicate| GiveUp)
    }

    // ───── keys ─────

    /// Starts checking the keys of an object.
    fn object_keys(&self) -> ObjectKeys<'t> {
        ObjectKeys {
            start: self.keys.len(),
            many: None,
        }
    }

    /// Notes `key` in `object`; gives up if the object has it already.
    fn first_sighting(&mut self, object: &mut ObjectKeys<'t>, key: Cow<'t, str>) -> Fast<()> {
        if let Some(set) = &mut object.many {
            return if set.insert(key) { Ok(()) } else { Err(GiveUp) };
        }
        let mine = self.keys.get(object.start..).unwrap_or(&[]);
        if mine
            .iter()
            .any(|k| same_bytes(k.as_bytes(), key.as_bytes()))
        {
            return Err(GiveUp);
        }
        if mine.len() < FEW_KEYS {
            self.keys.push(key);
        } else {
            let mut set: HashSet<_> = self.keys.drain(object.start..).collect();
            set.insert(key);
            object.many = Some(set);
        }
        Ok(())
    }

    // ───── nesting ─────

    /// The depth of a container's children, as `LoadLimits::deeper` gives
    /// it: a container at the limit is refused.
    fn deeper(&self, depth: usize) -> Fast<usize> {
        if depth >= self.limits.max_depth {
            return Err(GiveUp);
        }
        Ok(depth + 1)
    }

    /// Reads a container at `depth`, growing the stack every 16 levels:
    /// the depth limit can be raised past what a thread's stack holds.
    fn nested<R>(&mut self, depth: usize, read: impl FnOnce(&mut Self) -> Fast<R>) -> Fast<R> {
        if depth.is_multiple_of(16) {
            crate::stack::guard(|| read(self))
        } else {
            read(self)
        }
    }

    /// Notes that the container at `start` ends here.
    #[cold]
    #[inline(never)]
    fn note_end(&mut self, start: usize) {
        if let Some(landmarks) = &mut self.landmarks {
            landmarks.ends.insert(start, self.at);
        }
    }

    /// Notes that element `index` of the list at `list` starts at the next
    /// byte that is not whitespace; returns where.
    #[cold]
    #[inline(never)]
    fn note_element(&mut self, list: usize, index: usize) -> usize {
        self.skip_whitespace();
        let at = self.at;
        if let Some(landmarks) = &mut self.landmarks {
            landmarks
                .elements
                .entry(list)
                .or_default()
                .push((index, at));
        }
        at
    }

    // ───── tokens ─────

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, consumed.
    fn next_byte(&mut self) -> Fast<u8> {
        self.skip_whitespace();
        let byte = *self.bytes.get(self.at).ok_or(GiveUp)?;
        self.at += 1;
        Ok(byte)
    }

    /// Reads the members of an object just opened, to its `}`: `read` is
    /// given each key, its value still to be read.
    #[inline(always)]
    fn members(&mut self, mut read: impl FnMut(&mut Self, Cow<'t, str>) -> Fast<()>) -> Fast<()> {
        // Every caller has just read the `{`.
        let object = self.at - 1;
        if self.closes(b'}') {
            return Ok(());
        }
        loop {
            let key = self.key()?;
            read(self, key)?;
            if !self.another(b'}')? {
                if self.at - object >= self.note_every {
                    self.note_end(object);
                }
                return Ok(());
            }
        }
    }

    /// Reads the items of a list just opened, to its `]`: `read` once for each.
    #[inline(always)]
    fn items(&mut self, mut read: impl FnMut(&mut Self) -> Fast<()>) -> Fast<()> {
        // Every caller has just read the `[`.
        let list = self.at - 1;
        if self.closes(b']') {
            return Ok(());
        }
        let mut index = 0;
        let mut last_noted = list;
        loop {
            // `at` is still before the element's whitespace: noted ones
            // are at least the spacing apart all the same.
            if self.at - last_noted >= self.note_every {
                last_noted = self.note_element(list, index);
            }
            index += 1;
            read(self)?;
            if !self.another(b']')? {
                if self.at - list >= self.note_every {
                    self.note_end(list);
                }
                return Ok(());
            }
        }
    }

    /// Just after a container opened: whether it closes at once (`close`
    /// consumed).
    fn closes(&mut self, close: u8) -> bool {
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&close) {
            self.at += 1;
            return true;
        }
        false
    }

    /// After an element: `true` at a comma, `false` at `close`.
    fn another(&mut self, close: u8) -> Fast<bool> {
        match self.next_byte()? {
            b',' => Ok(true),
            b if b == close => Ok(false),
            _ => Err(GiveUp),
        }
    }

    /// An object's key and the colon after it.
    #[inline]
    fn key(&mut self) -> Fast<Cow<'t, str>> {
        if self.next_byte()? != b'"' {
            return Err(GiveUp);
        }
        let key = self.string()?;
        if self.next_byte()? != b':' {
            return Err(GiveUp);
        }
        Ok(key)
    }

    /// A string whose opening quote was just read: borrowed from the text
    /// when it has no escape (inlined: most strings are keys and short
    /// values, and a call costs about as much as finding their end).
    #[inline]
    fn string(&mut self) -> Fast<Cow<'t, str>> {
        let start = self.at;
        let end = special_byte(self.bytes, start);
        if self.bytes.get(end) == Some(&b'"') {
            self.at = end + 1;
            // Both ends are ASCII quotes, so this is a whole UTF-8 slice.
            return self.text.get(start..end).map(Cow::Borrowed).ok_or(GiveUp);
        }
        self.escaped_string(start, end)
    }

    /// The rest of a string from `start` that has a special byte at `end`:
    /// an escape, unescaped by serde_json, so escapes mean what they mean
    /// there, surrogates included; or a control character or the end of
    /// the text, which serde_json refuses.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, mut end: usize) -> Fast<Cow<'t, str>> {
        // Find the closing quote: every escape is a backslash and the byte
        // after it (the rest of `\uXXXX` is plain hex).
        loop {
            match self.bytes.get(end) {
                Some(b'\\') => end = special_byte(self.bytes, end + 2),
                Some(b'"') => break,
                _ => return Err(GiveUp),
            }
        }
        self.at = end + 1;
        let quoted = self.text.get(start - 1..end + 1).ok_or(GiveUp)?;
        serde_json::from_str::<String>(quoted)
            .map(Cow::Owned)
            .map_err(|_| GiveUp)
    }

    /// A number starting at `start` (its first byte already read). An
    /// integer of up to 18 digits is read here; any other number is read by
    /// serde_json from its own text, so a float is the same float there.
    fn number(&mut self, start: usize) -> Fast<Value> {
        let negative = self.bytes.get(start) == Some(&b'-');
        let digits_start = start + usize::from(negative);
        let mut end = digits_start;
        let mut magnitude: i64 = 0;
        while let Some(&digit @ b'0'..=b'9') = self.bytes.get(end) {
            if end - digits_start == 18 {
                return self.other_number(start);
            }
            magnitude = magnitude * 10 + i64::from(digit - b'0');
            end += 1;
        }
        let digits = end - digits_start;
        let leading_zero = digits > 1 && self.bytes.get(digits_start) == Some(&b'0');
        let fraction_or_exponent = matches!(self.bytes.get(end), Some(b'.' | b'e' | b'E'));
        // `-0` is a float to serde_json (negative zero), so it is left to it.
        if digits == 0 || leading_zero || fraction_or_exponent || (negative && magnitude == 0) {
            return self.other_number(start);
        }
        self.at = end;
        Ok(Value::Int(if negative { -magnitude } else { magnitude }))
    }

    fn other_number(&mut self, start: usize) -> Fast<Value> {
        let mut end = start + 1;
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.bytes.get(end) {
            end += 1;
        }
        let text = self.text.get(start..end).ok_or(GiveUp)?;
        let number = serde_json::from_str::<serde_json::Number>(text).map_err(|_| GiveUp)?;
        self.at = end;
        if let Some(i) = number.as_i64() {
            return Ok(Value::Int(i));
        }
        match number.as_f64() {
            Some(f) if number.is_f64() && f.is_finite() && f.abs() < BEYOND_I64 => {
                Ok(Value::Float(f))
            }
            // An integer beyond the 64-bit range, or a float that may be one.
            _ => Err(GiveUp),
        }
    }
}

/// The projection of `node`'s field `key`: a node has a few fields, and
/// comparing the key with each (lengths first) is cheaper than the tree's
/// search, a `memcmp` call per node it passes.
fn field<'p>(node: &'p Projection, key: &str) -> Option<&'p Projection> {
    if node.fields.len() > 8 {
        return node.fields.get(key);
    }
    node.fields
        .iter()
        .find(|(name, _)| same_bytes(name.as_bytes(), key.as_bytes()))
        .map(|(_, projection)| projection)
}

/// The index of the first quote, backslash or control character at or
/// after `from` (the length of `bytes` if none): eight bytes at a time.
#[inline]
pub(crate) fn special_byte(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_le_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_le_bytes([b'\\'; 8]);
    const SPACES: u64 = u64::from_le_bytes([0x20; 8]);
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // `(x - 1) & !x` sets the high bit of the lowest zero byte of `x`
        // (and maybe of bytes above it, where the borrow runs on), and of no
        // byte below it; `w - 0x20` does the same for the lowest byte below
        // 0x20. So the lowest bit set in `found` is the first special byte.
        let quote = w ^ QUOTES;
        let backslash = w ^ BACKSLASHES;
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(SPACES) & !w))
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    // Bytes just above the special ones must not be taken for them.
                    if at > 0 {
                        bytes[at - 1] = 0x20;
                    }
                    bytes[at] = special;
                    // Later special bytes, and borrows running up from this one.
                    for later in bytes.iter_mut().skip(at + 1).step_by(3) {
                        *later = 0x00;
                    }
                    assert_eq!(special_byte(&bytes, 0), at, "{len} {at} {special}");
                }
            }
            assert_eq!(special_byte(&vec![0x7f; len], 0), len);
            assert_eq!(special_byte(&vec![0xe9; len], 0), len);
        }
    }
}
