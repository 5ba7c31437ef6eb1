//! Runtime values. Evidence JSON is loaded straight into [`Value`] (no
//! intermediate tree); lists and objects are shared, so binding an element to a
//! quantifier variable or a `let` never copies a subtree.

use jiff::{SignedDuration, Timestamp};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cmp::Ordering;
use std::fmt;
use std::rc::Rc;

/// Position of each key, for objects past [`Object::INDEXED_FROM`] entries.
type KeyIndex = std::collections::HashMap<Rc<str>, usize, foldhash::fast::RandomState>;

/// An object being built or changed: its entries in the key order of the
/// evidence file. A value holds it as a [`SharedObject`] (`.into()`), with
/// the entries moved into one allocation.
///
/// Evidence is mostly made of small objects (a test case, a component, an
/// approval), so entries live in one vector and a field is found by a linear
/// scan, cheaper than hashing the key. Past [`Object::INDEXED_FROM`] entries a
/// hash index (seeded per process, so evidence keys cannot be crafted to collide) is
/// built beside them. Against a map with a hash table per object this halves
/// the allocations and saves about 100 bytes per object when loading.
///
/// An object of one entry holds it in place, with no vector.
#[derive(Clone, Debug, Default)]
pub struct Object {
    entries: Entries,
}

impl Object {
    /// Objects with more entries than this get a hash index.
    pub const INDEXED_FROM: usize = 9;

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        match self.entries.index() {
            Some(index) => index.get(key).copied(),
            None => self
                .entries
                .as_slice()
                .iter()
                .position(|(k, _)| k.as_ref() == key),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key)
            .and_then(|i| self.entries.as_slice().get(i))
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Gives back the room a growing object reserved past its entries when
    /// at least half of it is unused (a reallocation per object costs
    /// loading time, worth it for a mostly empty vector, not for the one
    /// spare slot of a three-entry object), and holds a single entry in
    /// place. For an object kept with its index ([`SharedObject::from`]).
    fn shrink(&mut self) {
        self.entries.shrink();
    }

    /// Sets `key` to `value`: a new key goes last, an existing one keeps its
    /// place. Returns the value it replaced.
    pub fn insert(&mut self, key: Rc<str>, value: Value) -> Option<Value> {
        if let Some(i) = self.position(&key) {
            return self
                .entries
                .as_mut_slice()
                .get_mut(i)
                .map(|(_, v)| std::mem::replace(v, value));
        }
        let at = self.entries.len();
        if let Some(index) = self.entries.index_mut() {
            index.insert(key.clone(), at);
        }
        self.entries.push((key, value));
        if self.entries.len() >= Self::INDEXED_FROM {
            self.entries.build_index();
        }
        None
    }

    /// An object of entries whose keys the caller has checked are distinct,
    /// in their order, indexed as inserting them one by one would index it.
    pub(crate) fn from_distinct(entries: Vec<(Rc<str>, Value)>) -> Object {
        let mut entries = Entries::from(entries);
        if entries.len() >= Self::INDEXED_FROM {
            entries.build_index();
        }
        Object { entries }
    }

    /// The entries in order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&Rc<str>, &Value)> + ExactSizeIterator + Clone {
        entry_refs(self.entries.as_slice())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Rc<str>> + ExactSizeIterator + Clone {
        self.entries.as_slice().iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries.as_slice().iter().map(|(_, v)| v)
    }

    /// The entry at `i`, in key order.
    pub fn get_index(&self, i: usize) -> Option<(&Rc<str>, &Value)> {
        self.entries.as_slice().get(i).map(|(k, v)| (k, v))
    }
}

impl FromIterator<(Rc<str>, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (Rc<str>, Value)>>(items: I) -> Self {
        let mut object = Object::default();
        for (k, v) in items {
            object.insert(k, v);
        }
        object
    }
}

/// An object's entries by reference, in order.
type EntryRefs<'a> =
    std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a Rc<str>, &'a Value)>;

fn entry_refs(entries: &[Entry]) -> EntryRefs<'_> {
    entries.iter().map(|(k, v)| (k, v))
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a Rc<str>, &'a Value);
    type IntoIter = EntryRefs<'a>;
    fn into_iter(self) -> Self::IntoIter {
        entry_refs(self.entries.as_slice())
    }
}

/// An object as a [`Value`] holds it: shared, never changed again, and its
/// entries inline after the reference counts, in one allocation.
///
/// Evaluation on the large bundle waits on memory, not on instructions: a
/// test case read by a rule was one allocation for the object and another
/// for its entries, so each case cost two cache misses, the second only
/// issued once the first returned ("Round two, thirteenth step" in
/// docs/performance.md). Inline, the entries follow the counts on the same
/// lines, and loading makes one allocation an object instead of two.
///
/// An object of [`Object::INDEXED_FROM`] entries or more keeps its hash
/// index, and with it the [`Object`] it was built as: such objects are few
/// (a bundle's top levels, a config map), and their lookups are what the
/// index is for.
#[derive(Clone, Debug)]
pub struct SharedObject(Shared);

#[derive(Clone, Debug)]
enum Shared {
    Inline(Rc<[Entry]>),
    Indexed(Rc<Object>),
}

impl SharedObject {
    /// An object of entries whose keys the caller has checked are distinct,
    /// in their order. `entries` must know its length: the object is made
    /// in one allocation straight from it.
    pub(crate) fn from_distinct(entries: impl ExactSizeIterator<Item = Entry>) -> SharedObject {
        if entries.len() < Object::INDEXED_FROM {
            return SharedObject::inline(entries);
        }
        SharedObject::from(Object::from_distinct(entries.collect()))
    }

    /// [`Self::from_distinct`] with no hash index however many entries
    /// there are: for objects of a fixed, small shape (a JUnit case has ten
    /// fields), where a scan of ten interned keys is cheaper than a hash
    /// table per object.
    pub(crate) fn inline(entries: impl ExactSizeIterator<Item = Entry>) -> SharedObject {
        // `collect` into `Rc<[_]>` sizes the allocation from the iterator's
        // exact length (no vector first) for a drain or a vector's
        // `into_iter`.
        SharedObject(Shared::Inline(entries.collect()))
    }

    fn entries(&self) -> &[Entry] {
        match &self.0 {
            Shared::Inline(entries) => entries,
            Shared::Indexed(object) => object.entries.as_slice(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.0 {
            Shared::Inline(entries) => entries
                .iter()
                .find(|(k, _)| k.as_ref() == key)
                .map(|(_, v)| v),
            Shared::Indexed(object) => object.get(key),
        }
    }

    /// [`Object::get`] for the evaluator's hot path. `seen` remembers the
    /// address of the key text this lookup last matched, and a small object
    /// is first searched by that address: evidence keys are interned, so
    /// every `status` of a list of test cases is the same allocation, and the
    /// lookup compares pointers instead of bytes. `remember` must be true only
    /// when this object outlives every later use of `seen` (evidence,
    /// constants, params), so the remembered address stays that of a live key
    /// with this text and cannot be reused by another string.
    #[inline]
    pub(crate) fn get_remembered(
        &self,
        key: &str,
        seen: &std::cell::Cell<usize>,
        remember: bool,
    ) -> Option<&Value> {
        let entries = match &self.0 {
            Shared::Inline(entries) => entries,
            Shared::Indexed(object) => return object.get(key),
        };
        let address = seen.get();
        if address != 0 {
            if let Some((_, v)) = entries
                .iter()
                .find(|(k, _)| k.as_ptr() as usize == address && k.len() == key.len())
            {
                return Some(v);
            }
        }
        let (k, v) = entries.iter().find(|(k, _)| k.as_ref() == key)?;
        if remember {
            seen.set(k.as_ptr() as usize);
        }
        Some(v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries in order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&Rc<str>, &Value)> + ExactSizeIterator + Clone {
        entry_refs(self.entries())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Rc<str>> + ExactSizeIterator + Clone {
        self.entries().iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries().iter().map(|(_, v)| v)
    }

    /// The entry at `i`, in key order.
    pub fn get_index(&self, i: usize) -> Option<(&Rc<str>, &Value)> {
        self.entries().get(i).map(|(k, v)| (k, v))
    }

    /// A copy to change: a new list of entries, whose keys and values are
    /// shared with this object's (reference counts, not copies).
    pub fn to_object(&self) -> Object {
        match &self.0 {
            Shared::Inline(entries) => Object::from_distinct(entries.to_vec()),
            Shared::Indexed(object) => Object::clone(object),
        }
    }

    /// The address of the object's one allocation: the same for clones of
    /// one object, different for objects alive at the same time.
    pub(crate) fn address(&self) -> usize {
        match &self.0 {
            Shared::Inline(entries) => Rc::as_ptr(entries) as *const u8 as usize,
            Shared::Indexed(object) => Rc::as_ptr(object) as *const u8 as usize,
        }
    }

    /// Whether the two are the same object in memory (clones of one).
    pub fn ptr_eq(a: &SharedObject, b: &SharedObject) -> bool {
        a.address() == b.address()
    }

    /// The one entry of an object of one entry.
    fn single(&self) -> Option<&Entry> {
        match self.entries() {
            [entry] => Some(entry),
            _ => None,
        }
    }
}

impl From<Object> for SharedObject {
    /// The object's entries moved into one allocation of their size, or,
    /// for an object with a hash index, the object as it is, its spare room
    /// given back.
    fn from(mut object: Object) -> SharedObject {
        if object.entries.index().is_some() {
            object.shrink();
            return SharedObject(Shared::Indexed(Rc::new(object)));
        }
        let inline: Rc<[Entry]> = match object.entries {
            Entries::Empty => Rc::new([]),
            Entries::One(entry) => Rc::new([entry]),
            Entries::Many { entries, .. } => entries.into_iter().collect(),
        };
        SharedObject(Shared::Inline(inline))
    }
}

impl Default for SharedObject {
    fn default() -> Self {
        SharedObject::from(Object::default())
    }
}

impl<'a> IntoIterator for &'a SharedObject {
    type Item = (&'a Rc<str>, &'a Value);
    type IntoIter = EntryRefs<'a>;
    fn into_iter(self) -> Self::IntoIter {
        entry_refs(self.entries())
    }
}

/// An empty object with room for `n` entries.
pub fn object_with_capacity(n: usize) -> Object {
    Object {
        entries: Entries::with_capacity(n),
    }
}

pub(crate) type Entry = (Rc<str>, Value);

/// An object's entries: none, one in place, or a vector, with the hash
/// index once there are [`Object::INDEXED_FROM`] of them. The index lives
/// beside the vector, not in every object, so an object is 48 bytes (64
/// with its reference counts).
#[derive(Clone, Debug, Default)]
enum Entries {
    #[default]
    Empty,
    One(Entry),
    Many {
        entries: Vec<Entry>,
        // Boxed: 8 bytes instead of 64, as most objects never get one.
        #[allow(clippy::box_collection)]
        index: Option<Box<KeyIndex>>,
    },
}

impl Entries {
    fn with_capacity(n: usize) -> Self {
        if n <= 1 {
            Entries::Empty
        } else {
            Entries::Many {
                entries: Vec::with_capacity(n),
                index: None,
            }
        }
    }

    fn as_slice(&self) -> &[Entry] {
        match self {
            Entries::Empty => &[],
            Entries::One(entry) => std::slice::from_ref(entry),
            Entries::Many { entries, .. } => entries,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Entry] {
        match self {
            Entries::Empty => &mut [],
            Entries::One(entry) => std::slice::from_mut(entry),
            Entries::Many { entries, .. } => entries,
        }
    }

    fn index(&self) -> Option<&KeyIndex> {
        match self {
            Entries::Many {
                index: Some(index), ..
            } => Some(index),
            _ => None,
        }
    }

    fn index_mut(&mut self) -> Option<&mut KeyIndex> {
        match self {
            Entries::Many {
                index: Some(index), ..
            } => Some(index),
            _ => None,
        }
    }

    /// Indexes every key by its position, if not indexed yet.
    fn build_index(&mut self) {
        if let Entries::Many {
            entries,
            index: index @ None,
        } = self
        {
            *index = Some(Box::new(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            ));
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Appends `entry`; the caller keeps the index, if any, in step.
    fn push(&mut self, entry: Entry) {
        match self {
            Entries::Many { entries, .. } => entries.push(entry),
            Entries::One(_) => {
                if let Entries::One(first) = std::mem::take(self) {
                    *self = Entries::Many {
                        entries: vec![first, entry],
                        index: None,
                    };
                }
            }
            Entries::Empty => *self = Entries::One(entry),
        }
    }

    /// Gives back room a growing vector reserved past its entries when most
    /// of it is unused, and a vector of one entry for the entry in place.
    fn shrink(&mut self) {
        if let Entries::Many { entries, .. } = self {
            if entries.len() <= 1 {
                *self = Entries::from(std::mem::take(entries));
            } else if entries.len() <= entries.capacity() / 2 {
                entries.shrink_to_fit();
            }
        }
    }
}

impl From<Vec<Entry>> for Entries {
    fn from(mut entries: Vec<Entry>) -> Self {
        match entries.len() {
            0 => Entries::Empty,
            1 => entries.pop().map_or(Entries::Empty, Entries::One),
            _ => Entries::Many {
                entries,
                index: None,
            },
        }
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<[Value]>),
    Object(SharedObject),
    Duration(SignedDuration),
    Time(Timestamp),
    Version(Rc<semver::Version>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::from(items))
    }

    /// A list of `count` nulls: the elements of a list no rule reads one by
    /// one, kept for its length. Made in place, with no vector first.
    pub(crate) fn nulls(count: usize) -> Value {
        Value::List(std::iter::repeat_n(Value::Null, count).collect())
    }

    /// The type's name as users read it in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Object(_) => "object",
            Value::Duration(_) => "duration",
            Value::Time(_) => "time",
            Value::Version(_) => "version",
        }
    }

    /// Deep equality: `1 == 1.0`, objects equal regardless of key order.
    pub fn deep_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                num_cmp(self, other) == Some(Ordering::Equal)
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.deep_eq(y))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k).is_some_and(|w| v.deep_eq(w)))
            }
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Version(a), Value::Version(b)) => a.cmp_precedence(b) == Ordering::Equal,
            _ => false,
        }
    }

    /// Ordering for `<`-style comparisons; None when the two are not comparable.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                num_cmp(self, other)
            }
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            (Value::Version(a), Value::Version(b)) => Some(a.cmp_precedence(b)),
            _ => None,
        }
    }

    /// A total order used by `sort`, `distinct`, `min` and `max` on mixed input:
    /// by type first, then by value, so results never depend on input order.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Int(_) | Value::Float(_) => 2,
                Value::Str(_) => 3,
                Value::Duration(_) => 4,
                Value::Time(_) => 5,
                Value::Version(_) => 6,
                Value::List(_) => 7,
                Value::Object(_) => 8,
            }
        }
        match rank(self).cmp(&rank(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.total_cmp(y) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Object(_), Value::Object(_)) => self.to_string().cmp(&other.to_string()),
            (Value::Version(a), Value::Version(b)) => {
                a.cmp_precedence(b).then_with(|| a.build.cmp(&b.build))
            }
            _ => self.compare(other).unwrap_or(Ordering::Equal),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as JSON, for the JSON report. Durations, times and versions
    /// become the strings users wrote them as.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Duration(_) | Value::Time(_) | Value::Version(_) => {
                serde_json::Value::String(self.to_string())
            }
        }
    }

    /// Display shortened to about `max` characters, for labels.
    pub fn short(&self, max: usize) -> String {
        let full = self.to_string();
        if full.chars().count() <= max {
            return full;
        }
        let mut s: String = full.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Float(y)) => int_float_cmp(*x, *y),
        (Value::Float(x), Value::Int(y)) => int_float_cmp(*y, *x).map(Ordering::reverse),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        _ => None,
    }
}

/// Exact comparison of an integer with a float (no rounding of large integers).
fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as f64 is exact; every i64 is below it.
    if f >= 9_223_372_036_854_775_808.0 {
        return Some(Ordering::Less);
    }
    if f < -9_223_372_036_854_775_808.0 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64; // exact: t is integral and within range
    match i.cmp(&ti) {
        Ordering::Equal => {
            if f > t {
                Some(Ordering::Less)
            } else if f < t {
                Some(Ordering::Greater)
            } else {
                Some(Ordering::Equal)
            }
        }
        o => Some(o),
    }
}

/// `90m` -> "1h 30m"; the unit breakdown users write durations in.
pub fn format_duration(d: SignedDuration) -> String {
    let mut nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
        nanos = -nanos;
    }
    let units: [(i128, &str); 5] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
    ];
    // Under two days, hours read better than "1d 2h" (users write `24h`, `36h`).
    let skip_days = nanos < 2 * 86_400_000_000_000;
    let mut parts = Vec::new();
    for (size, unit) in units {
        if skip_days && unit == "d" {
            continue;
        }
        let n = nanos / size;
        if n > 0 {
            parts.push(format!("{n}{unit}"));
            nanos -= n * size;
        }
    }
    if nanos > 0 || parts.is_empty() {
        parts.push(format!("{nanos}ns"));
    }
    out.push_str(&parts.join(" "));
    out
}

fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    // serde_json's escaping, so displayed strings read like the evidence file.
    match serde_json::to_string(s) {
        Ok(q) => f.write_str(&q),
        Err(_) => write!(f, "\"{s}\""),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => write!(f, "{n}"),
                None => write!(f, "{x}"),
            },
            Value::Str(s) => write_json_str(f, s),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Object(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_json_str(f, k)?;
                    write!(f, ": {v}")?;
                }
                f.write_str("}")
            }
            Value::Duration(d) => f.write_str(&format_duration(*d)),
            Value::Time(t) => write!(f, "{t}"),
            Value::Version(v) => write!(f, "{v}"),
        }
    }
}

// ───── loading evidence ─────

/// Limits applied while reading evidence JSON.
#[derive(Clone, Copy, Debug)]
pub struct LoadLimits {
    /// Deepest array/object nesting accepted.
    pub max_depth: usize,
    /// Longest single string accepted, in bytes.
    pub max_string: usize,
}

impl LoadLimits {
    /// The depth one level below `depth`, or the error that stops loading.
    /// Both the building and the skipping reader go through it, so projected
    /// and full loads refuse the same files with the same message.
    pub(crate) fn deeper<E: de::Error>(&self, depth: usize) -> Result<usize, E> {
        if depth >= self.max_depth {
            return Err(E::custom(format!(
                "evidence nested deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(depth + 1)
    }
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_depth: 128,
            max_string: 64 * 1024 * 1024,
        }
    }
}

/// Why evidence JSON was refused, with the 1-based line and column.
#[derive(Debug, Clone)]
pub struct LoadError {
    message: String,
    line: usize,
    column: usize,
}

impl LoadError {
    pub fn line(&self) -> usize {
        self.line
    }

    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for LoadError {}

impl From<serde_json::Error> for LoadError {
    fn from(e: serde_json::Error) -> Self {
        let text = e.to_string();
        // serde_json appends " at line L column C"; the fields hold it.
        let message = match text.rfind(" at line ") {
            Some(i) => text.get(..i).unwrap_or(&text).to_string(),
            None => text,
        };
        LoadError {
            message,
            line: e.line(),
            column: e.column(),
        }
    }
}

thread_local! {
    /// Set when a number of magnitude 2^63 or more was read: serde_json
    /// hands integer literals beyond 64 bits over as floats, so only then is
    /// the text searched for one ([`out_of_range_integer`]).
    static BIG_NUMBER_SEEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Notes a float the JSON parser produced (see [`BIG_NUMBER_SEEN`]).
pub(crate) fn note_float(f: f64) {
    // 2^63: every integer beyond 64 bits that became a float is at least this large.
    if f.abs() >= 9_223_372_036_854_775_808.0 {
        BIG_NUMBER_SEEN.with(|seen| seen.set(true));
    }
}

/// Runs one load of `text`: serde_json's own depth limit replaced by ours,
/// the whole text consumed, and integers beyond 64 bits refused wherever
/// the parser turned them into floats.
pub(crate) fn load_text<T>(
    text: &str,
    load: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, LoadError> {
    BIG_NUMBER_SEEN.with(|seen| seen.set(false));
    let mut de = serde_json::Deserializer::from_str(text);
    // serde_json's own limit stops at 127 levels; ours (`max_depth`, at most
    // 128) is checked on every array and object, read or skipped.
    de.disable_recursion_limit();
    let value = load(&mut de)?;
    de.end()?;
    if BIG_NUMBER_SEEN.with(|seen| seen.replace(false)) {
        if let Some((start, end)) = out_of_range_integer(text) {
            let (line, column) = crate::syntax::span::line_col(text, start);
            return Err(LoadError {
                message: format!(
                    "integer {} does not fit in 64 bits (Clearance keeps integers exact)",
                    text.get(start..end).unwrap_or("")
                ),
                line,
                column,
            });
        }
    }
    Ok(value)
}

/// The first JSON number written as an integer (no fraction, no exponent)
/// outside the 64-bit range, as a byte range of `text`.
fn out_of_range_integer(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                let mut integer = true;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'0'..=b'9' => {}
                        b'.' | b'e' | b'E' | b'+' | b'-' => integer = false,
                        _ => break,
                    }
                    i += 1;
                }
                let token = text.get(start..i).unwrap_or("");
                if integer && token.parse::<i64>().is_err() && token != "-" {
                    return Some((start, i));
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Parses evidence JSON into a [`Value`]. Duplicate keys, integers beyond 64
/// bits and nesting beyond the limit are errors (with the line and column),
/// never silently resolved.
pub fn parse_json(text: &str, limits: LoadLimits) -> Result<Value, LoadError> {
    parse_json_noting(text, limits, None)
}

/// [`parse_json`], noting where large values are for reports (left as
/// they were when serde_json has to read the file).
pub(crate) fn parse_json_noting(
    text: &str,
    limits: LoadLimits,
    landmarks: Option<&mut super::json::Landmarks>,
) -> Result<Value, LoadError> {
    let shape = super::json::Shape::Whole;
    if let Some(value) = super::json::load_noting(text, limits, shape, landmarks) {
        return Ok(value);
    }
    parse_json_with_serde(text, limits)
}

/// [`parse_json`] by serde_json alone: what every file the fast reader
/// leaves loads by, and says what is wrong with.
pub(crate) fn parse_json_with_serde(text: &str, limits: LoadLimits) -> Result<Value, LoadError> {
    load_text(text, |de| {
        let loading = Loading::new();
        let value = ValueSeed {
            depth: 0,
            limits,
            loading: &loading,
        }
        .deserialize(de);
        Loading::finish(loading);
        value
    })
}

/// Shares the text of repeated keys and short strings ("status", "passed"):
/// evidence repeats them hundreds of thousands of times.
#[derive(Default)]
pub(crate) struct Interner {
    set: std::collections::HashSet<Rc<str>, foldhash::fast::RandomState>,
    /// The string last interned in each of a few slots, by a hash of its
    /// length and three of its bytes: most strings are the one a slot saw
    /// last (the same few keys and statuses, object after object), and
    /// comparing with it is cheaper than hashing the whole string.
    recent: Recent,
}

const RECENT_SLOTS: usize = 64;

struct Recent([Option<Rc<str>>; RECENT_SLOTS]);

impl Default for Recent {
    fn default() -> Self {
        Recent(std::array::from_fn(|_| None))
    }
}

/// Strings at most this long are interned.
const INTERN_MAX: usize = 32;

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Rc<str> {
        let bytes = s.as_bytes();
        let slot = match (bytes.first(), bytes.get(bytes.len() / 2), bytes.last()) {
            (Some(&a), Some(&m), Some(&z)) => {
                (bytes.len() ^ usize::from(a) << 1 ^ usize::from(m) << 2 ^ usize::from(z) << 3)
                    % RECENT_SLOTS
            }
            _ => 0,
        };
        if let Some(Some(r)) = self.recent.0.get(slot) {
            if same_bytes(r.as_bytes(), bytes) {
                return r.clone();
            }
        }
        let r = match self.set.get(s) {
            Some(r) => r.clone(),
            None => {
                let r: Rc<str> = Rc::from(s);
                // INVARIANT: the set stays small: keys and short values only.
                if self.set.len() < 1 << 16 {
                    self.set.insert(r.clone());
                }
                r
            }
        };
        if let Some(recent) = self.recent.0.get_mut(slot) {
            *recent = Some(r.clone());
        }
        r
    }
}

/// Whether two short byte strings are equal, compared in place: `==` on
/// slices calls `memcmp`, whose call costs more than comparing the few
/// bytes of a key. From 4 to 16 bytes, two words that overlap in the
/// middle cover them: their first and their last 4 or 8 bytes.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    fn ends<const N: usize>(s: &[u8]) -> Option<(&[u8; N], &[u8; N])> {
        Some((s.first_chunk::<N>()?, s.last_chunk::<N>()?))
    }
    if let (Some(x), Some(y)) = (ends::<8>(a), ends::<8>(b)) {
        let word = u64::from_ne_bytes;
        return word(*x.0) == word(*y.0) && word(*x.1) == word(*y.1);
    }
    if let (Some(x), Some(y)) = (ends::<4>(a), ends::<4>(b)) {
        let word = u32::from_ne_bytes;
        return word(*x.0) == word(*y.0) && word(*x.1) == word(*y.1);
    }
    let mut same = true;
    for (x, y) in a.iter().zip(b) {
        same &= x == y;
    }
    same
}

/// What one JSON load shares down its recursion: the interned strings, and
/// the stacks every object's entries and every list's items are gathered on
/// until the container ends, to be moved into a vector of exactly their
/// number. Grown in place instead, each vector was reallocated at every
/// doubling and kept up to half its room unused (a few percent of a batch
/// run, and a tenth of a large bundle's memory).
#[derive(Default)]
pub(crate) struct Loading {
    pub(crate) strings: Interner,
    entries: Vec<(Rc<str>, Value)>,
    items: Vec<Value>,
    shared: SharedObjects,
    /// Every empty list of the load: a third of a large SBOM's components
    /// list no vulnerabilities, each an allocation of its own before.
    empty_list: Rc<[Value]>,
}

/// Objects of one entry whose value is a scalar (`{"status": "passed"}`),
/// one object for each key and value, as strings are: a test report
/// repeats the same few a million times, and each copy was an allocation
/// of 64 bytes, the fault of fresh memory to hold it and a free at the end.
/// Values are never changed once loaded, and nothing tells two equal
/// objects apart (the evaluator remembers addresses only to find the same
/// answer again for the same contents), so sharing changes no result.
///
/// A slot per hash of the key's interned text and the value, each holding
/// the last object made for it: bounded, and the few shapes a file
/// repeats stay in their slots.
#[derive(Default)]
struct SharedObjects(Vec<Option<SharedObject>>);

const SHARED_OBJECT_SLOTS: usize = 1024;

impl SharedObjects {
    fn object(&mut self, key: Rc<str>, value: Value) -> SharedObject {
        let Some(fingerprint) = scalar_fingerprint(&value) else {
            return SharedObject(Shared::Inline(Rc::new([(key, value)])));
        };
        let key_address = Rc::as_ptr(&key) as *const u8 as usize;
        let slot = (key_address ^ fingerprint).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54;
        if self.0.is_empty() {
            self.0.resize(SHARED_OBJECT_SLOTS, None);
        }
        if let Some(Some(shared)) = self.0.get(slot) {
            if let Some((k, v)) = shared.single() {
                if Rc::ptr_eq(k, &key) && same_scalar(v, &value) {
                    return shared.clone();
                }
            }
        }
        let object = SharedObject(Shared::Inline(Rc::new([(key, value)])));
        if let Some(slot) = self.0.get_mut(slot) {
            *slot = Some(object.clone());
        }
        object
    }
}

/// A hash of a scalar that can be shared, and `None` for any other value.
fn scalar_fingerprint(value: &Value) -> Option<usize> {
    Some(match value {
        Value::Null => 1,
        Value::Bool(b) => 2 + usize::from(*b),
        Value::Int(i) => (*i as usize).rotate_left(17) ^ 5,
        Value::Float(f) => (f.to_bits() as usize).rotate_left(29) ^ 7,
        // Only the very same (interned) text is shared: its address is its hash.
        Value::Str(s) => Rc::as_ptr(s) as *const u8 as usize,
        _ => return None,
    })
}

/// Whether two scalars are the same value, to the float's bits and the
/// string's text in memory.
fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
        (Value::Str(a), Value::Str(b)) => Rc::ptr_eq(a, b),
        _ => false,
    }
}

thread_local! {
    /// What the loads this thread made before leave to the next one: the
    /// strings they interned, and the stacks' room. `batch` and the service
    /// load bundle after bundle of the same shape on each worker, and would
    /// otherwise intern every key of every bundle anew (a hash table built
    /// and an allocation per distinct string, each time). Bounded like any
    /// interner (at most 65,536 strings of at most 32 bytes), and it only
    /// ever shares text: the values loaded are the same with it.
    static LEFT_BY_LAST_LOAD: std::cell::RefCell<Loading> = std::cell::RefCell::default();
}

impl Loading {
    /// The state for a new load, starting from what this thread's last
    /// load left.
    pub(crate) fn new() -> std::cell::RefCell<Loading> {
        let loading = LEFT_BY_LAST_LOAD.with(|kept| std::mem::take(&mut *kept.borrow_mut()));
        std::cell::RefCell::new(loading)
    }

    /// Leaves the interned strings and the stacks' room to the thread's
    /// next load. A load that failed can leave entries on the stacks: they
    /// are dropped here.
    pub(crate) fn finish(loading: std::cell::RefCell<Loading>) {
        let mut loading = loading.into_inner();
        loading.entries.clear();
        loading.items.clear();
        LEFT_BY_LAST_LOAD.with(|kept| *kept.borrow_mut() = loading);
    }
}

/// Past this many entries an object being loaded checks new keys against a
/// hash set of its keys instead of comparing them one by one.
const FEW_KEYS: usize = 16;

/// The keys of one object being loaded, from `start` on the entry stack,
/// checked for duplicates.
pub(crate) struct NewObject {
    start: usize,
    many: Option<std::collections::HashSet<Rc<str>, foldhash::fast::RandomState>>,
}

impl Loading {
    /// Starts an object: its entries go on the stack from here.
    pub(crate) fn begin_object(&self) -> NewObject {
        NewObject {
            start: self.entries.len(),
            many: None,
        }
    }

    /// Adds `key: value` to the object `at`; `Err` with the key if the
    /// object already has it.
    pub(crate) fn add_entry(
        &mut self,
        at: &mut NewObject,
        key: Rc<str>,
        value: Value,
    ) -> Result<(), Rc<str>> {
        let mine = self.entries.get(at.start..).unwrap_or(&[]);
        let duplicate = match &mut at.many {
            Some(set) => !set.insert(key.clone()),
            None => {
                let seen = mine.iter().any(|(k, _)| **k == *key);
                if !seen && mine.len() + 1 > FEW_KEYS {
                    let mut set: std::collections::HashSet<_, _> =
                        mine.iter().map(|(k, _)| k.clone()).collect();
                    set.insert(key.clone());
                    at.many = Some(set);
                }
                seen
            }
        };
        if duplicate {
            return Err(key);
        }
        self.entries.push((key, value));
        Ok(())
    }

    /// Adds `key: value` to the object being loaded, its keys checked for
    /// duplicates by the caller.
    pub(crate) fn push_entry(&mut self, key: Rc<str>, value: Value) {
        self.entries.push((key, value));
    }

    /// A key for [`Self::add_entry`] or [`Self::push_entry`], shared with
    /// the load's other copies of it.
    pub(crate) fn key(&mut self, key: &str) -> Rc<str> {
        self.strings.get(key)
    }

    /// Whether the object `at` has `key` so far.
    pub(crate) fn has_key(&self, at: &NewObject, key: &str) -> bool {
        match &at.many {
            Some(set) => set.contains(key),
            None => self
                .entries
                .get(at.start..)
                .unwrap_or(&[])
                .iter()
                .any(|(k, _)| k.as_ref() == key),
        }
    }

    /// Ends the object `at`: its entries leave the stack for one vector of
    /// their size.
    pub(crate) fn end_object(&mut self, at: NewObject) -> Value {
        if self.entries.len() == at.start + 1 {
            // One entry, held in place: no vector to make.
            if let Some((key, value)) = self.entries.pop() {
                return Value::Object(self.shared.object(key, value));
            }
        }
        Value::Object(SharedObject::from_distinct(self.entries.drain(at.start..)))
    }

    /// A string value: short ones shared with the load's other copies.
    pub(crate) fn string_value(&mut self, s: &str) -> Value {
        if s.len() <= INTERN_MAX {
            return Value::Str(self.strings.get(s));
        }
        Value::str(s)
    }

    /// Starts a list: its items go on the stack from here.
    pub(crate) fn begin_list(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn add_item(&mut self, value: Value) {
        self.items.push(value);
    }

    /// Ends the list begun at `start`.
    pub(crate) fn end_list(&mut self, start: usize) -> Value {
        if self.items.len() == start {
            return Value::List(Rc::clone(&self.empty_list));
        }
        // Straight from the stack into the list's one allocation (reference
        // counts and items together): `Drain` knows its length.
        Value::List(self.items.drain(start..).collect())
    }
}

#[derive(Clone, Copy)]
pub(crate) struct ValueSeed<'i> {
    depth: usize,
    limits: LoadLimits,
    loading: &'i std::cell::RefCell<Loading>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'i> ValueSeed<'i> {
    pub(crate) fn at(
        depth: usize,
        limits: LoadLimits,
        loading: &'i std::cell::RefCell<Loading>,
    ) -> Self {
        ValueSeed {
            depth,
            limits,
            loading,
        }
    }

    fn nested<E: de::Error>(self) -> Result<Self, E> {
        Ok(ValueSeed {
            depth: self.limits.deeper(self.depth)?,
            limits: self.limits,
            loading: self.loading,
        })
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u).map(Value::Int).map_err(|_| {
            E::custom(format!(
                "integer {u} does not fit in 64 bits (Clearance keeps integers exact)"
            ))
        })
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        // The JSON parser refuses numbers beyond the float range itself; this
        // is a second line of defence: no NaN or infinity ever enters.
        if !f.is_finite() {
            return Err(E::custom("number out of range"));
        }
        note_float(f);
        Ok(Value::Float(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        if s.len() > self.limits.max_string {
            return Err(E::custom(format!(
                "string of {} bytes exceeds the limit of {} bytes",
                s.len(),
                self.limits.max_string
            )));
        }
        Ok(self.loading.borrow_mut().string_value(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let seed = self.nested()?;
        let start = self.loading.borrow().begin_list();
        while let Some(v) = seq.next_element_seed(seed)? {
            self.loading.borrow_mut().add_item(v);
        }
        Ok(self.loading.borrow_mut().end_list(start))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let seed = self.nested()?;
        let mut object = self.loading.borrow().begin_object();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(seed)?;
            let mut loading = self.loading.borrow_mut();
            let interned = loading.key(&key);
            if let Err(key) = loading.add_entry(&mut object, interned, value) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{key}` (ambiguous evidence is rejected)"
                )));
            }
        }
        Ok(self.loading.borrow_mut().end_object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_is_slice_equality_at_every_length_and_difference() {
        for len in 0..40usize {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{len} {at}");
            }
            assert!(!same_bytes(&a, &a[..len.saturating_sub(1)]) || len == 0);
        }
    }

    /// The items of the list `text` holds, as each reader loads it, after
    /// checking that each loads the values of the text.
    fn items_by_both_readers(text: &str) -> [Rc<[Value]>; 2] {
        [
            parse_json(text, LoadLimits::default()),
            parse_json_with_serde(text, LoadLimits::default()),
        ]
        .map(|loaded| {
            let loaded = loaded.expect("loads");
            let want: serde_json::Value = serde_json::from_str(text).expect("json");
            assert_eq!(loaded.to_json().to_string(), want.to_string());
            match loaded {
                Value::List(items) => items,
                _ => panic!("a list"),
            }
        })
    }

    /// Equal one-entry objects of a scalar are one object; any other
    /// object is its own, and every value is still the one in the text.
    #[test]
    fn one_entry_objects_of_a_scalar_are_shared() {
        let text = r#"[{"s":"passed"},{"s":"passed"},{"s":"failed"},{"t":"passed"},{"s":0.0},{"s":-0.0},{"s":1},{"s":1},{"s":true},{"s":null},{"s":null},{"s":[1]},{"s":[1]},{"s":"passed","u":1},{"s":"passed","u":1}]"#;
        for items in items_by_both_readers(text) {
            let object = |i: usize| match items.get(i) {
                Some(Value::Object(o)) => o.clone(),
                _ => panic!("{i} is not an object"),
            };
            let shared = |i, j| SharedObject::ptr_eq(&object(i), &object(j));
            assert!(shared(0, 1) && shared(6, 7) && shared(9, 10));
            // Another value, another key, the other zero, a list, two entries.
            assert!(!shared(0, 2) && !shared(0, 3) && !shared(4, 5));
            assert!(!shared(11, 12) && !shared(13, 14));
        }
    }

    /// A load makes one empty list and hands it to every `[]`; lists with
    /// items are each their own, equal or not.
    #[test]
    fn empty_lists_of_a_load_are_one() {
        let text = r#"[[], {"v": []}, [], [1], [1]]"#;
        for items in items_by_both_readers(text) {
            let list = |v: Option<&Value>| match v {
                Some(Value::List(l)) => l.clone(),
                _ => panic!("not a list"),
            };
            let inner = match items.get(1) {
                Some(Value::Object(o)) => list(o.get("v")),
                _ => panic!("an object"),
            };
            assert!(Rc::ptr_eq(&list(items.first()), &list(items.get(2))));
            assert!(Rc::ptr_eq(&list(items.first()), &inner));
            assert!(!Rc::ptr_eq(&list(items.get(3)), &list(items.get(4))));
        }
    }

    /// Objects and lists are gathered on the load's shared stacks: nested
    /// ones must come out whole and in order, and a duplicate key be found
    /// wherever it falls, below and past the few keys compared one by one
    /// and the size from which an object is indexed.
    #[test]
    fn loads_build_nested_containers_and_find_every_duplicate() {
        let text = r#"{"a": {"b": 1, "c": {"d": [2, {"e": []}, {}]}}, "f": [[1, 2], [], [{"g": null}]], "h": "x"}"#;
        let loaded = parse_json(text, LoadLimits::default()).expect("loads");
        let want: serde_json::Value = serde_json::from_str(text).expect("json");
        assert_eq!(loaded.to_json(), want);
        for n in [2, 8, 9, 10, 16, 17, 40] {
            let keys: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
            let body: Vec<String> = keys
                .iter()
                .map(|k| format!(r#""{k}": {{"in": [1]}}"#))
                .collect();
            let text = format!("{{{}}}", body.join(", "));
            let Value::Object(o) = parse_json(&text, LoadLimits::default()).expect("loads") else {
                panic!("not an object")
            };
            let order: Vec<&str> = o.keys().map(|k| k.as_ref()).collect();
            assert_eq!(order, keys, "{n} keys keep their order");
            assert!(
                keys.iter().all(|k| o.get(k).is_some()),
                "{n} keys all found"
            );
            for repeated in [0, n / 2, n - 1] {
                let text = format!("{{{}, \"k{repeated}\": 0}}", body.join(", "));
                let err = parse_json(&text, LoadLimits::default()).expect_err("a duplicate");
                assert!(
                    err.to_string()
                        .contains(&format!("duplicate key `k{repeated}`")),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn ints_and_floats_compare_exactly() {
        assert!(Value::Int(1).deep_eq(&Value::Float(1.0)));
        assert_eq!(
            Value::Int(i64::MAX).compare(&Value::Float(9.223372036854776e18)),
            Some(Ordering::Less)
        );
        assert_eq!(
            Value::Float(2.5).compare(&Value::Int(2)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn json_loading_rejects_ambiguity() {
        let l = LoadLimits::default();
        assert!(parse_json(r#"{"a":1,"a":2}"#, l).is_err());
        assert!(parse_json("18446744073709551615", l).is_err());
        assert!(parse_json(&("[".repeat(200) + &"]".repeat(200)), l).is_err());
        assert!(parse_json(r#"{"a":[1,2.5,"x",null,true]}"#, l).is_ok());
    }

    #[test]
    fn durations_print_in_units() {
        assert_eq!(format_duration(SignedDuration::from_secs(5400)), "1h 30m");
        assert_eq!(format_duration(SignedDuration::from_millis(-500)), "-500ms");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod object_tests {
    use super::*;

    fn keys(o: &Object) -> Vec<&str> {
        o.keys().map(|k| k.as_ref()).collect()
    }

    #[test]
    fn insert_keeps_order_and_replaces_in_place() {
        let mut o = Object::default();
        o.insert("b".into(), Value::Int(1));
        o.insert("a".into(), Value::Int(2));
        assert!(matches!(
            o.insert("b".into(), Value::Int(3)),
            Some(Value::Int(1))
        ));
        assert_eq!(keys(&o), ["b", "a"]);
        assert!(matches!(o.get("b"), Some(Value::Int(3))));
        assert!(o.get("c").is_none());
    }

    #[test]
    fn lookups_agree_before_and_after_the_index_is_built() {
        let mut o = Object::default();
        for i in 0..(Object::INDEXED_FROM * 3) {
            o.insert(format!("k{i}").into(), Value::Int(i as i64));
            for j in 0..=i {
                assert!(
                    matches!(o.get(&format!("k{j}")), Some(Value::Int(n)) if *n == j as i64),
                    "k{j} after {i} inserts"
                );
            }
            assert!(!o.contains_key("missing"));
        }
        o.insert("k3".into(), Value::Null);
        assert!(matches!(o.get("k3"), Some(Value::Null)));
        assert_eq!(o.len(), Object::INDEXED_FROM * 3);
        assert_eq!(o.get_index(3).map(|(k, _)| k.as_ref()), Some("k3"));
    }
}

#[cfg(test)]
mod object_model {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of inserts leaves the object equal to a plain list of
        /// entries (first-insert order, last value wins), across the switch to
        /// an indexed object.
        #[test]
        fn object_matches_a_list_of_entries(ops in prop::collection::vec((0u8..24, any::<i64>()), 0..64)) {
            let mut object = Object::default();
            let mut model: Vec<(String, i64)> = Vec::new();
            for (k, v) in ops {
                let key = format!("k{k}");
                object.insert(key.as_str().into(), Value::Int(v));
                match model.iter_mut().find(|(mk, _)| *mk == key) {
                    Some(entry) => entry.1 = v,
                    None => model.push((key, v)),
                }
            }
            let got: Vec<(String, i64)> = object
                .iter()
                .map(|(k, v)| (k.to_string(), if let Value::Int(n) = v { *n } else { i64::MIN }))
                .collect();
            prop_assert_eq!(&got, &model);
            for (k, v) in &model {
                prop_assert!(matches!(object.get(k), Some(Value::Int(n)) if n == v));
            }
            prop_assert!(object.get("absent").is_none());
        }
    }
}
#[cfg(test)]
mod layout {
    use super::{Object, SharedObject, Value};
    use std::rc::Rc;

    /// The sizes the memory figures of docs/performance.md rest on: a value
    /// is 24 bytes, and an object of `n` entries (fewer than
    /// [`Object::INDEXED_FROM`]) is one allocation of 16 + 40 n bytes, the
    /// reference counts and the entries inline.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_value_is_24_bytes_and_an_object_one_allocation() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<SharedObject>(), 16);
        assert_eq!(std::mem::size_of::<(Rc<str>, Value)>(), 40);
        let entries = [("status".into(), Value::Null), ("name".into(), Value::Null)];
        let object = SharedObject::from_distinct(entries.into_iter());
        assert!(matches!(&object.0, super::Shared::Inline(e) if e.len() == 2));
        let copy = object.clone();
        assert!(SharedObject::ptr_eq(&object, &copy));
    }

    /// Past [`Object::INDEXED_FROM`] entries an object keeps its hash index,
    /// and lookups agree with the entries.
    #[test]
    fn a_large_object_keeps_its_index() {
        let entries: Vec<_> = (0..Object::INDEXED_FROM * 2)
            .map(|i| (Rc::<str>::from(format!("k{i}")), Value::Int(i as i64)))
            .collect();
        let object = SharedObject::from_distinct(entries.clone().into_iter());
        assert!(matches!(&object.0, super::Shared::Indexed(_)));
        let seen = std::cell::Cell::new(0);
        for (k, v) in &entries {
            assert!(object.get(k).is_some_and(|w| w.deep_eq(v)));
            assert!(object
                .get_remembered(k, &seen, true)
                .is_some_and(|w| w.deep_eq(v)));
        }
        assert!(object.get("absent").is_none());
        let small = SharedObject::inline(entries.into_iter());
        assert!(matches!(&small.0, super::Shared::Inline(_)));
        assert!(matches!(small.get("k3"), Some(Value::Int(3))));
    }
}
