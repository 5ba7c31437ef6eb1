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
use super::value::{same_bytes, LoadLimits, Loading, Value};
use std::hash::BuildHasher;
use std::rc::Rc;

/// The reader met something it leaves to serde_json.
#[derive(Debug)]
pub(crate) struct GiveUp;

pub(crate) type Fast<T> = Result<T, GiveUp>;

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

impl<'p> Shape<'p> {
    /// Whole for no projection or one that reads everything, projected
    /// otherwise.
    pub(crate) fn of(projection: Option<&'p Projection>, drop_unread: bool) -> Self {
        match projection {
            Some(projection) if !projection.whole => Shape::Projected {
                projection,
                drop_unread,
            },
            _ => Shape::Whole,
        }
    }
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
        load(text, limits, Shape::of(projection, drop_unread))
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

    /// The fast reader over a stream of `text` cut every `chunk` bytes
    /// (at least 1): `None` where it gives up.
    pub fn streamed(
        text: &str,
        chunk: usize,
        limits: LoadLimits,
        projection: Option<&Projection>,
        drop_unread: bool,
    ) -> Option<Value> {
        crate::evidence::stream::load_in_chunks(text, chunk, limits, projection, drop_unread)
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
    read_window(text, limits, shape, landmarks).map(|(value, _)| value)
}

/// [`load_noting`] over any [`Window`]: the value, and the window as the
/// load left it (a stream's at its end, with its digest).
pub(crate) fn read_window<W: Window>(
    window: W,
    limits: LoadLimits,
    shape: Shape<'_>,
    landmarks: Option<&mut Landmarks>,
) -> Option<(Value, W)> {
    let loading = Loading::new();
    let mut noted = landmarks.as_ref().map(|l| Landmarks::every(l.spacing));
    let (value, window) = {
        let mut loading = loading.borrow_mut();
        let mut reader = Reader {
            window,
            at: 0,
            keep: 0,
            limits,
            loading: &mut loading,
            keys: Vec::new(),
            key_hasher: Default::default(),
            note_every: noted.as_ref().map_or(usize::MAX, |l| l.spacing),
            landmarks: noted.as_mut(),
        };
        (reader.document(shape), reader.window)
    };
    Loading::finish(loading);
    let value = value.ok()?;
    if let (Some(into), Some(noted)) = (landmarks, noted) {
        *into = noted;
    }
    Some((value, window))
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

/// The text a [`Reader`] reads: all of it at once (`&str`), or a window
/// onto a stream that moves on as the reader does (`evidence::stream`), so
/// a large file is never held whole. Offsets are in the whole text.
pub(crate) trait Window {
    /// The text now in the window.
    fn text(&self) -> &str;
    /// The offset in the whole text of the window's first byte.
    fn base(&self) -> usize;
    /// Moves the window on: drops the text before `keep` (an offset in the
    /// window) and appends what comes next; `Ok(false)` at the end of the
    /// text, `Err` when the stream cannot go on.
    fn more(&mut self, keep: usize) -> Fast<bool>;
}

impl Window for &str {
    #[inline(always)]
    fn text(&self) -> &str {
        self
    }

    #[inline(always)]
    fn base(&self) -> usize {
        0
    }

    #[inline(always)]
    fn more(&mut self, _keep: usize) -> Fast<bool> {
        Ok(false)
    }
}

struct Reader<'l, W> {
    window: W,
    /// The next byte to read (an offset in the whole text).
    at: usize,
    /// Where the token being read starts: a stream's window keeps the text
    /// from here when it moves on. A key stays kept until its value's
    /// first byte is read, so that its callers can read it after the colon.
    keep: usize,
    limits: LoadLimits,
    loading: &'l mut Loading,
    /// The hashes of the keys of the objects being read that are not built
    /// (skipped, or left out of a decision's load) and, in such an object,
    /// of the kept ones: innermost object last, each from its
    /// [`ObjectKeys::start`]. Two equal hashes give up: serde_json then
    /// says whether the keys are the same.
    keys: Vec<u64>,
    /// Their hasher, seeded per load, so that keys cannot be crafted to
    /// collide and send a file to the slower reader (see
    /// docs/guarantees.md, section 3).
    key_hasher: foldhash::fast::RandomState,
    /// Where to note positions, when the caller asked.
    landmarks: Option<&'l mut Landmarks>,
    /// Their spacing, or `usize::MAX` for none: checked for every element
    /// and container, so it is at hand.
    note_every: usize,
}

/// A string just read: where it is in the whole text (valid until the
/// window moves past it: see [`Reader::keep`]), or unescaped.
enum Text {
    At(usize, usize),
    Unescaped(String),
}

/// The text of `string`, read from `window`.
#[inline(always)]
fn text_of<'a, W: Window>(window: &'a W, string: &'a Text) -> Fast<&'a str> {
    match string {
        Text::At(start, end) => slice(window, *start, *end),
        Text::Unescaped(s) => Ok(s),
    }
}

/// The text from `start` to `end` (offsets in the whole text), which must
/// still be in `window`.
#[inline(always)]
fn slice<W: Window>(window: &W, start: usize, end: usize) -> Fast<&str> {
    let base = window.base();
    let range = start.checked_sub(base).ok_or(GiveUp)?..end.checked_sub(base).ok_or(GiveUp)?;
    window.text().get(range).ok_or(GiveUp)
}

/// The key order each projection node's objects were last read with
/// (see [`Reader::projected_object`]), one slot per node met.
struct KeyOrders<'p> {
    /// By the node's address: a projection is not moved during a load.
    slots: std::collections::HashMap<*const Projection, usize, foldhash::fast::RandomState>,
    orders: Vec<KeyOrder<'p>>,
    /// The last two nodes asked for and their slots, newest first: the
    /// objects of a list, and those of a list inside each, alternate
    /// between two nodes, which are found here without hashing.
    recent: [(*const Projection, usize); 2],
}

impl Default for KeyOrders<'_> {
    fn default() -> Self {
        KeyOrders {
            slots: Default::default(),
            orders: Vec::new(),
            recent: [(std::ptr::null(), 0); 2],
        }
    }
}

impl<'p> KeyOrders<'p> {
    fn slot(&mut self, node: &'p Projection) -> usize {
        let node = node as *const Projection;
        if self.recent[0].0 == node {
            return self.recent[0].1;
        }
        if self.recent[1].0 == node {
            self.recent.swap(0, 1);
            return self.recent[0].1;
        }
        let next = self.orders.len();
        let slot = *self.slots.entry(node).or_insert(next);
        if slot == next {
            self.orders.push(KeyOrder::default());
        }
        self.recent = [(node, slot), self.recent[0]];
        slot
    }

    /// The slot's order, left empty while its object is read (an object
    /// for the same node inside it, which a projection cannot have, would
    /// find none).
    fn take(&mut self, slot: usize) -> KeyOrder<'p> {
        self.orders
            .get_mut(slot)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn put(&mut self, slot: usize, order: KeyOrder<'p>) {
        if let Some(place) = self.orders.get_mut(slot) {
            *place = order;
        }
    }
}

/// The keys of the last object read for one node, in order.
#[derive(Default)]
struct KeyOrder<'p> {
    keys: Vec<OrderedKey<'p>>,
    /// Objects in a row whose keys were not the order: past
    /// [`KeyOrder::GIVEN_UP`] the node's objects have no order worth
    /// expecting (a map, say), and are read key by key, none recorded.
    misses: u8,
}

impl KeyOrder<'_> {
    const GIVEN_UP: u8 = 8;

    /// Whether the next object is first compared with this order.
    fn expected(&self) -> bool {
        self.misses < Self::GIVEN_UP
    }

    /// Whether the key read at `index`, off the order, goes into it: the
    /// first [`FEW_KEYS`] of an object's, unless the node was given up.
    fn records(&self, index: usize) -> bool {
        self.misses < Self::GIVEN_UP && index < FEW_KEYS && index == self.keys.len()
    }

    /// After an object of `read` keys, `on_order` if they were the order's.
    fn ended(&mut self, on_order: bool, read: usize) {
        if on_order && read == self.keys.len() {
            self.misses = 0;
            return;
        }
        // Fewer keys than the order: the order's first ones.
        self.keys.truncate(read);
        self.misses = self.misses.saturating_add(1);
        if self.misses >= Self::GIVEN_UP || read > FEW_KEYS {
            self.keys.clear();
        }
    }
}

/// A key of a [`KeyOrder`].
struct OrderedKey<'p> {
    key: Rc<str>,
    /// The projection of its value (`None`: skipped).
    child: Option<&'p Projection>,
    /// Whether the key has no quote, backslash or control character: then
    /// the text's next key is this one if its bytes are the key's and a
    /// quote, with no need to find where it ends first.
    plain: bool,
    /// The string its value was the last time, if plain (a test case's
    /// `"passed"`): a value of the same bytes is that string, without
    /// finding its end or interning it.
    last: Option<Rc<str>>,
    /// Values in a row that were not `last`: past [`OrderedKey::VARIED`] the
    /// key's values are taken to differ each time (names, digests), and
    /// none is remembered any more.
    changes: u8,
}

impl<'p> OrderedKey<'p> {
    const VARIED: u8 = 4;

    fn new(key: Rc<str>, child: Option<&'p Projection>) -> Self {
        OrderedKey {
            plain: is_plain(&key),
            key,
            child,
            last: None,
            changes: 0,
        }
    }

    /// After a value other than `last`: remembers it if it is a plain
    /// string and the key's values have not varied too often.
    fn changed_to(&mut self, value: &Value) {
        self.changes = self.changes.saturating_add(1);
        self.last = match value {
            Value::Str(s) if self.changes <= Self::VARIED && is_plain(s) => Some(Rc::clone(s)),
            _ => None,
        };
    }
}

/// Whether `s` holds no byte a JSON string must escape or that ends it:
/// its bytes between quotes are then exactly `s`.
fn is_plain(s: &str) -> bool {
    special_byte(s.as_bytes(), 0) == s.len()
}

/// The keys of one object on [`Reader::keys`], checked for duplicates.
struct ObjectKeys {
    start: usize,
    /// Past [`FEW_KEYS`], the object's keys move here: an object of many
    /// keys is not checked in quadratic time.
    many: Option<HashSet<u64>>,
}

type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// Keys compared one by one, as most objects have (see [`ObjectKeys`]).
const FEW_KEYS: usize = 16;

/// 2^63: a float at least this large may be an integer literal beyond 64
/// bits that serde_json turned into a float, which a load refuses after
/// searching the text for it; left to serde_json.
const BEYOND_I64: f64 = 9_223_372_036_854_775_808.0;

impl<W: Window> Reader<'_, W> {
    fn document(&mut self, shape: Shape<'_>) -> Fast<Value> {
        let value = match shape {
            Shape::Whole => self.whole(0)?,
            Shape::Projected {
                projection,
                drop_unread,
            } => {
                let mut orders = KeyOrders::default();
                self.projected(projection, 0, drop_unread, &mut orders)?
            }
        };
        self.skip_whitespace()?;
        self.keep = self.at;
        if self.byte_at(self.at)?.is_some() {
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
        self.members(|r| {
            let key = r.key()?;
            let key = r.loading.key(text_of(&r.window, &key)?);
            let value = r.whole(inner)?;
            r.loading
                .add_entry(&mut object, key, value)
                .map_err(|_duplicate| GiveUp)
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
    fn projected<'p>(
        &mut self,
        node: &'p Projection,
        depth: usize,
        drop_unread: bool,
        orders: &mut KeyOrders<'p>,
    ) -> Fast<Value> {
        self.projected_held(node, depth, drop_unread, orders, None)
    }

    /// [`Self::projected`], with `node`'s key order held by the caller (a
    /// list, for its elements) instead of in `orders`.
    #[inline(always)]
    fn projected_held<'p>(
        &mut self,
        node: &'p Projection,
        depth: usize,
        drop_unread: bool,
        orders: &mut KeyOrders<'p>,
        held: Option<&mut KeyOrder<'p>>,
    ) -> Fast<Value> {
        if node.whole {
            return self.whole(depth);
        }
        match self.next_byte()? {
            b'{' => self.nested(depth, |r| {
                r.projected_object(node, depth, drop_unread, orders, held)
            }),
            // Read as an object, found a list: the rules stop at it with a
            // type error that shows it, so it is loaded as it is.
            b'[' if !node.fields.is_empty() => self.nested(depth, |r| r.whole_list(depth)),
            b'[' => self.nested(depth, |r| {
                r.projected_list(node, depth, drop_unread, orders)
            }),
            first => self.scalar(first),
        }
    }

    fn projected_object<'p>(
        &mut self,
        node: &'p Projection,
        depth: usize,
        drop_unread: bool,
        orders: &mut KeyOrders<'p>,
        held: Option<&mut KeyOrder<'p>>,
    ) -> Fast<Value> {
        let inner = self.deeper(depth)?;
        let object = self.loading.begin_object();
        // Every key, kept or left out, is checked for duplicates here; the
        // kept entries go to the load unchecked.
        let mut keys = self.object_keys();
        // The keys of the last object read for `node`, in order: the
        // elements of a list mostly have the same keys, and while this
        // object's keys are those, each is known without a lookup, an
        // interning or a hash, and known distinct (the last object's keys
        // were checked). From the first other key on, the object is read
        // key by key, and its keys become the order the next one expects.
        let mut own = KeyOrder::default();
        let (order, slot) = match held {
            Some(order) => (order, None),
            None => {
                let slot = orders.slot(node);
                own = orders.take(slot);
                (&mut own, Some(slot))
            }
        };
        let mut on_order = order.expected();
        let mut read = 0usize;
        self.members(|r| {
            let key = match order.keys.get_mut(read) {
                Some(expected) if on_order => match r.key_expecting(expected)? {
                    None => {
                        read += 1;
                        return r.ordered_entry(expected, inner, drop_unread, orders);
                    }
                    Some(other) => other,
                },
                _ => r.key()?,
            };
            if on_order {
                // Off the order: the keys read so far (the order's first
                // ones) are checked from here on like any.
                on_order = false;
                order.keys.truncate(read);
                for known in &order.keys {
                    let hash = r.key_hasher.hash_one(&*known.key);
                    r.first_sighting(&mut keys, hash)?;
                }
            }
            // The key is read before its value moves the window on.
            let key = text_of(&r.window, &key)?;
            let hash = r.key_hasher.hash_one(key);
            let child = field(node, key).or(node.items.as_deref());
            let recorded = order.records(read);
            read += 1;
            if child.is_none() && drop_unread && !recorded {
                r.skip(inner)?;
            } else {
                let key = r.loading.key(key);
                if recorded {
                    order.keys.push(OrderedKey::new(Rc::clone(&key), child));
                }
                r.projected_entry(&key, child, inner, drop_unread, orders)?;
            }
            r.first_sighting(&mut keys, hash)
        })?;
        self.keys.truncate(keys.start);
        order.ended(on_order, read);
        if let Some(slot) = slot {
            orders.put(slot, own);
        }
        Ok(self.loading.end_object(object))
    }

    /// The value of an entry whose key is `expected`'s, as
    /// [`Self::projected_entry`] reads it: a string of the same bytes as
    /// the key's last value is that value.
    #[inline(always)]
    fn ordered_entry<'p>(
        &mut self,
        expected: &mut OrderedKey<'p>,
        inner: usize,
        drop_unread: bool,
        orders: &mut KeyOrders<'p>,
    ) -> Fast<()> {
        let Some(child) = expected.child else {
            return self.projected_entry(&expected.key, None, inner, drop_unread, orders);
        };
        let key = Rc::clone(&expected.key);
        if let Some(last) = &expected.last {
            if self.string_expecting(last.as_bytes()) {
                self.loading.push_entry(key, Value::Str(Rc::clone(last)));
                expected.changes = 0;
                return Ok(());
            }
        }
        let value = self.projected(child, inner, drop_unread, orders)?;
        expected.changed_to(&value);
        self.loading.push_entry(key, value);
        Ok(())
    }

    /// The value of the entry `key` of an object being read: built as
    /// `child` says, or skipped (kept as `null` unless `drop_unread`). The
    /// key is shared only where an entry is kept.
    #[inline(always)]
    fn projected_entry<'p>(
        &mut self,
        key: &Rc<str>,
        child: Option<&'p Projection>,
        inner: usize,
        drop_unread: bool,
        orders: &mut KeyOrders<'p>,
    ) -> Fast<()> {
        match child {
            Some(child) => {
                let value = self.projected(child, inner, drop_unread, orders)?;
                self.loading.push_entry(Rc::clone(key), value);
            }
            None => {
                self.skip(inner)?;
                if !drop_unread {
                    self.loading.push_entry(Rc::clone(key), Value::Null);
                }
            }
        }
        Ok(())
    }

    fn projected_list<'p>(
        &mut self,
        node: &'p Projection,
        depth: usize,
        drop_unread: bool,
        orders: &mut KeyOrders<'p>,
    ) -> Fast<Value> {
        let inner = self.deeper(depth)?;
        match node.items.as_deref() {
            Some(child) => {
                // The elements' key order is held here for the whole list,
                // not looked up for each.
                let slot = orders.slot(child);
                let mut order = orders.take(slot);
                let start = self.loading.begin_list();
                self.items(|r| {
                    let item =
                        r.projected_held(child, inner, drop_unread, orders, Some(&mut order))?;
                    r.loading.add_item(item);
                    Ok(())
                })?;
                orders.put(slot, order);
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
                r.members(|r| {
                    let key = r.key()?;
                    let hash = r.key_hasher.hash_one(text_of(&r.window, &key)?);
                    r.skip(inner)?;
                    r.first_sighting(&mut keys, hash)
                })?;
                r.keys.truncate(keys.start);
                Ok(())
            }),
            b'[' => self.nested(depth, |r| {
                let inner = r.deeper(depth)?;
                r.items(|r| r.skip(inner))
            }),
            b'"' => {
                // Only its length is checked: a string without escapes is
                // as long as its text, which need not be sliced out.
                let len = match self.string()? {
                    Text::At(start, end) => end - start,
                    Text::Unescaped(s) => s.len(),
                };
                self.within_string_limit(len)
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
                let s = text_of(&self.window, &s)?;
                self.within_string_limit(s.len())?;
                Ok(self.loading.string_value(s))
            }
            b'-' | b'0'..=b'9' => self.number(self.at - 1),
            b't' => self.literal(b"rue", Value::Bool(true)),
            b'f' => self.literal(b"alse", Value::Bool(false)),
            b'n' => self.literal(b"ull", Value::Null),
            _ => Err(GiveUp),
        }
    }

    fn literal(&mut self, rest: &[u8], value: Value) -> Fast<Value> {
        for (i, expected) in rest.iter().enumerate() {
            if self.byte_at(self.at + i)? != Some(*expected) {
                return Err(GiveUp);
            }
        }
        self.at += rest.len();
        Ok(value)
    }

    /// Whether a string of `len` bytes is within the load's limit.
    fn within_string_limit(&self, len: usize) -> Fast<()> {
        if len > self.limits.max_string {
            return Err(GiveUp);
        }
        Ok(())
    }

    // ───── keys ─────

    /// Starts checking the keys of an object.
    fn object_keys(&self) -> ObjectKeys {
        ObjectKeys {
            start: self.keys.len(),
            many: None,
        }
    }

    /// Notes the key of hash `key` in `object`; gives up if the object has
    /// one of that hash already (the same key, or, rarely, another that
    /// serde_json then tells apart).
    fn first_sighting(&mut self, object: &mut ObjectKeys, key: u64) -> Fast<()> {
        if let Some(set) = &mut object.many {
            return if set.insert(key) { Ok(()) } else { Err(GiveUp) };
        }
        let mine = self.keys.get(object.start..).unwrap_or(&[]);
        if mine.contains(&key) {
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
    fn note_element(&mut self, list: usize, index: usize) -> Fast<usize> {
        self.skip_whitespace()?;
        let at = self.at;
        if let Some(landmarks) = &mut self.landmarks {
            landmarks
                .elements
                .entry(list)
                .or_default()
                .push((index, at));
        }
        Ok(at)
    }

    // ───── the window ─────

    /// The byte at `at`, moving the window on to it if need be; `None` at
    /// the end of the text.
    #[inline(always)]
    fn byte_at(&mut self, at: usize) -> Fast<Option<u8>> {
        let base = self.window.base();
        match self.window.text().as_bytes().get(at.wrapping_sub(base)) {
            Some(&byte) => Ok(Some(byte)),
            None => self.byte_beyond(at),
        }
    }

    #[cold]
    #[inline(never)]
    fn byte_beyond(&mut self, at: usize) -> Fast<Option<u8>> {
        loop {
            let base = self.window.base();
            let index = at.checked_sub(base).ok_or(GiveUp)?;
            if let Some(&byte) = self.window.text().as_bytes().get(index) {
                return Ok(Some(byte));
            }
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// Moves the window on, keeping the token being read.
    fn more(&mut self) -> Fast<bool> {
        let keep = self.keep.checked_sub(self.window.base()).ok_or(GiveUp)?;
        self.window.more(keep)
    }

    /// The offset of the first quote, backslash or control character at or
    /// after `from`, or of the end of the text: [`special_byte`] over the
    /// window, moving it on as it goes.
    #[inline(always)]
    fn special_from(&mut self, mut from: usize) -> Fast<usize> {
        loop {
            let base = self.window.base();
            let bytes = self.window.text().as_bytes();
            let index = from.checked_sub(base).ok_or(GiveUp)?;
            let found = special_byte(bytes, index);
            if found < bytes.len() || !self.more()? {
                return Ok(base + found.max(index));
            }
            from = base + found.max(index);
        }
    }

    // ───── tokens ─────

    fn skip_whitespace(&mut self) -> Fast<()> {
        loop {
            let base = self.window.base();
            let bytes = self.window.text().as_bytes();
            let mut i = self.at.checked_sub(base).ok_or(GiveUp)?;
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(i) {
                i += 1;
            }
            self.at = base + i;
            if i < bytes.len() || !self.more()? {
                return Ok(());
            }
        }
    }

    /// The next byte that is not whitespace, consumed: the start of a token.
    /// (Each token function reads the window once and leaves its edge to a
    /// second, cold one: the window's bounds stay in registers.)
    #[inline(always)]
    fn next_byte(&mut self) -> Fast<u8> {
        let base = self.window.base();
        let bytes = self.window.text().as_bytes();
        let mut i = self.at.wrapping_sub(base);
        while let Some(&byte) = bytes.get(i) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                self.keep = base + i;
                self.at = base + i + 1;
                return Ok(byte);
            }
            i += 1;
        }
        self.next_byte_beyond()
    }

    #[cold]
    #[inline(never)]
    fn next_byte_beyond(&mut self) -> Fast<u8> {
        self.skip_whitespace()?;
        self.keep = self.at;
        self.consume()
    }

    /// The byte at `at`, consumed (the end of the text gives up).
    #[inline(always)]
    fn consume(&mut self) -> Fast<u8> {
        let byte = self.byte_at(self.at)?.ok_or(GiveUp)?;
        self.at += 1;
        Ok(byte)
    }

    /// Reads the members of an object just opened, to its `}`: `read`
    /// reads each, its key ([`Self::key`]) and then its value.
    #[inline(always)]
    fn members(&mut self, mut read: impl FnMut(&mut Self) -> Fast<()>) -> Fast<()> {
        // Every caller has just read the `{`.
        let object = self.at - 1;
        if self.closes(b'}')? {
            return Ok(());
        }
        loop {
            read(self)?;
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
        if self.closes(b']')? {
            return Ok(());
        }
        let mut index = 0;
        let mut last_noted = list;
        loop {
            // `at` is still before the element's whitespace: noted ones
            // are at least the spacing apart all the same.
            if self.at - last_noted >= self.note_every {
                last_noted = self.note_element(list, index)?;
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
    #[inline(always)]
    fn closes(&mut self, close: u8) -> Fast<bool> {
        let base = self.window.base();
        let bytes = self.window.text().as_bytes();
        match bytes.get(self.at.wrapping_sub(base)) {
            Some(&byte) if byte == close => {
                self.at += 1;
                return Ok(true);
            }
            Some(b' ' | b'\n' | b'\r' | b'\t') | None => {}
            Some(_) => return Ok(false),
        }
        self.skip_whitespace()?;
        if self.byte_at(self.at)? == Some(close) {
            self.at += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// After an element: `true` at a comma, `false` at `close`.
    fn another(&mut self, close: u8) -> Fast<bool> {
        match self.next_byte()? {
            b',' => Ok(true),
            b if b == close => Ok(false),
            _ => Err(GiveUp),
        }
    }

    /// An object's key and the colon after it; the key is kept in the
    /// window until the value's first byte is read.
    #[inline]
    fn key(&mut self) -> Fast<Text> {
        if self.next_byte()? != b'"' {
            return Err(GiveUp);
        }
        let key = self.string()?;
        self.colon()?;
        Ok(key)
    }

    /// [`Self::key`] where the key is expected to be `expected`'s: `None`
    /// if it is, else the key read. A plain key is compared with the text
    /// in place, before finding where the text's key ends.
    #[inline(always)]
    fn key_expecting(&mut self, expected: &OrderedKey<'_>) -> Fast<Option<Text>> {
        if self.next_byte()? != b'"' {
            return Err(GiveUp);
        }
        let want = expected.key.as_bytes();
        if expected.plain {
            let base = self.window.base();
            let rest = self
                .window
                .text()
                .as_bytes()
                .get(self.at.wrapping_sub(base)..);
            if let Some(rest) = rest {
                if rest.get(want.len()) == Some(&b'"')
                    && rest
                        .get(..want.len())
                        .is_some_and(|found| same_bytes(found, want))
                {
                    self.at += want.len() + 1;
                    self.colon()?;
                    return Ok(None);
                }
            }
        }
        let key = self.string()?;
        self.colon()?;
        let same = same_bytes(want, text_of(&self.window, &key)?.as_bytes());
        Ok((!same).then_some(key))
    }

    /// The colon after a key, most often right after it.
    #[inline(always)]
    fn colon(&mut self) -> Fast<()> {
        let base = self.window.base();
        if self
            .window
            .text()
            .as_bytes()
            .get(self.at.wrapping_sub(base))
            == Some(&b':')
        {
            self.at += 1;
            return Ok(());
        }
        self.skip_whitespace()?;
        if self.consume()? != b':' {
            return Err(GiveUp);
        }
        Ok(())
    }

    /// Whether the next value is a string of exactly the bytes `plain`
    /// (which has none a string must escape), consumed if so; if not,
    /// nothing is read. Whitespace past the window's end is left to the
    /// caller's reading.
    #[inline(always)]
    fn string_expecting(&mut self, plain: &[u8]) -> bool {
        let base = self.window.base();
        let bytes = self.window.text().as_bytes();
        let mut i = self.at.wrapping_sub(base);
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(i) {
            i += 1;
        }
        let Some(rest) = bytes.get(i..) else {
            return false;
        };
        let n = plain.len();
        let same = rest.first() == Some(&b'"')
            && rest.get(n + 1) == Some(&b'"')
            && rest
                .get(1..=n)
                .is_some_and(|found| same_bytes(found, plain));
        if same {
            self.keep = base + i;
            self.at = base + i + n + 2;
        }
        same
    }

    /// A string whose opening quote was just read (inlined: most strings
    /// are keys and short values, and a call costs about as much as finding
    /// their end).
    #[inline]
    fn string(&mut self) -> Fast<Text> {
        let start = self.at;
        let base = self.window.base();
        let bytes = self.window.text().as_bytes();
        let end = special_byte(bytes, start.wrapping_sub(base));
        match bytes.get(end) {
            Some(b'"') => {
                self.at = base + end + 1;
                Ok(Text::At(start, base + end))
            }
            Some(_) => self.escaped_string(start, base + end),
            None => self.string_beyond(start),
        }
    }

    /// [`Self::string`] where the window ends inside the string.
    #[cold]
    #[inline(never)]
    fn string_beyond(&mut self, start: usize) -> Fast<Text> {
        let end = self.special_from(start)?;
        if self.byte_at(end)? == Some(b'"') {
            self.at = end + 1;
            return Ok(Text::At(start, end));
        }
        self.escaped_string(start, end)
    }

    /// The rest of a string from `start` that has a special byte at `end`:
    /// an escape, unescaped by serde_json, so escapes mean what they mean
    /// there, surrogates included; or a control character or the end of
    /// the text, which serde_json refuses.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, mut end: usize) -> Fast<Text> {
        // Find the closing quote: every escape is a backslash and the byte
        // after it (the rest of `\uXXXX` is plain hex).
        loop {
            match self.byte_at(end)? {
                Some(b'\\') => {
                    // The escaped byte must be there (a backslash at the end
                    // of the text is refused below, as the end is).
                    if self.byte_at(end + 1)?.is_none() {
                        return Err(GiveUp);
                    }
                    end = self.special_from(end + 2)?;
                }
                Some(b'"') => break,
                _ => return Err(GiveUp),
            }
        }
        self.at = end + 1;
        let quoted = slice(&self.window, start - 1, end + 1)?;
        serde_json::from_str::<String>(quoted)
            .map(Text::Unescaped)
            .map_err(|_| GiveUp)
    }

    /// A number starting at `start` (its first byte already read). An
    /// integer of up to 18 digits is read here; any other number is read by
    /// serde_json from its own text, so a float is the same float there.
    fn number(&mut self, start: usize) -> Fast<Value> {
        // Most numbers end inside the window: read them there.
        let base = self.window.base();
        let bytes = self.window.text().as_bytes();
        let first = start.wrapping_sub(base);
        let negative = bytes.get(first) == Some(&b'-');
        let digits_start = first + usize::from(negative);
        let mut end = digits_start;
        let mut magnitude: i64 = 0;
        while let Some(&digit @ b'0'..=b'9') = bytes.get(end) {
            if end - digits_start == 18 {
                return self.other_number(start);
            }
            magnitude = magnitude * 10 + i64::from(digit - b'0');
            end += 1;
        }
        let Some(&after) = bytes.get(end) else {
            return self.number_beyond(start);
        };
        let digits = end - digits_start;
        let leading_zero = digits > 1 && bytes.get(digits_start) == Some(&b'0');
        let fraction_or_exponent = matches!(after, b'.' | b'e' | b'E');
        // `-0` is a float to serde_json (negative zero), so it is left to it.
        if digits == 0 || leading_zero || fraction_or_exponent || (negative && magnitude == 0) {
            return self.other_number(start);
        }
        self.at = base + end;
        Ok(Value::Int(if negative { -magnitude } else { magnitude }))
    }

    /// [`Self::number`] where the window ends inside the number (or just
    /// after it).
    #[cold]
    #[inline(never)]
    fn number_beyond(&mut self, start: usize) -> Fast<Value> {
        let negative = self.byte_at(start)? == Some(b'-');
        let digits_start = start + usize::from(negative);
        let mut end = digits_start;
        let mut magnitude: i64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.byte_at(end)? {
            if end - digits_start == 18 {
                return self.other_number(start);
            }
            magnitude = magnitude * 10 + i64::from(digit - b'0');
            end += 1;
        }
        let digits = end - digits_start;
        let leading_zero = digits > 1 && self.byte_at(digits_start)? == Some(b'0');
        let fraction_or_exponent = matches!(self.byte_at(end)?, Some(b'.' | b'e' | b'E'));
        // `-0` is a float to serde_json (negative zero), so it is left to it.
        if digits == 0 || leading_zero || fraction_or_exponent || (negative && magnitude == 0) {
            return self.other_number(start);
        }
        self.at = end;
        Ok(Value::Int(if negative { -magnitude } else { magnitude }))
    }

    fn other_number(&mut self, start: usize) -> Fast<Value> {
        let mut end = start + 1;
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.byte_at(end)? {
            end += 1;
        }
        let text = slice(&self.window, start, end)?;
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
