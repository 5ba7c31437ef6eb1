//! JUnit XML evidence (TRUST.md section 1): any of the common dialects
//! (a `<testsuites>` root or a bare `<testsuite>`, nested suites, the
//! attributes of Surefire, TestNG, PHPUnit, pytest, jest-junit and
//! gotestsum) normalised into one shape:
//!
//! ```text
//! { tests, passed, failures, errors, skipped, flaky, time,
//!   suites: [{ name, path, tests, passed, failures, errors, skipped, flaky,
//!              time, timestamp, hostname }],
//!   cases:  [{ suite, name, classname, file, line, time, status, flaky,
//!              message, type }] }
//! ```
//!
//! Counts are computed from the `<testcase>` elements, never taken from the
//! reports' own attributes (which tools get wrong, and which a failing case
//! can contradict). A suite counts the cases of the suites nested in it.
//! Attributes that are absent are `null`; numbers (`time`, `line`) that do
//! not parse as numbers are kept as the strings the file holds.
//!
//! Events come from `quick-xml` (already in the tree through `quick-junit`),
//! which checks well-formedness and never expands entities beyond the five
//! predefined ones, so an entity bomb is an error, not a gigabyte.

use super::tree::{prune, Kids, Pos};
use super::Load;
use crate::eval::value::{object_with_capacity, Entry, Interner, SharedObject};
use crate::eval::Value;
use crate::limits::Limits;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::rc::Rc;

/// Why an XML file was refused, at a byte offset of its text.
#[derive(Debug, Clone)]
pub(crate) struct XmlError {
    pub message: String,
    pub offset: usize,
}

/// Parses a JUnit report, building the cases only when a rule can read them
/// (a 100 MB report whose rules read the totals builds no case at all).
pub(crate) fn parse(text: &str, limits: &Limits, load: Load<'_>) -> Result<Value, XmlError> {
    let (projection, drop_unread) = match load {
        Load::Full => (None, false),
        Load::Explain(p) => (Some(p), false),
        Load::Decide(p) => (Some(p), true),
    };
    let cases = match projection {
        None => CasePlan::Whole,
        Some(p) if p.whole => CasePlan::Whole,
        Some(p) => match p.fields.get("cases").or(p.items.as_deref()) {
            None => CasePlan::Skip,
            Some(c) if c.whole || !c.fields.is_empty() => CasePlan::Whole,
            Some(c) => match c.items.as_deref() {
                // `count(cases)`: the length, not the cases.
                None => CasePlan::Length,
                Some(item) if item.whole || item.items.is_some() => CasePlan::Whole,
                Some(item) => CasePlan::Fields(item),
            },
        },
    };
    let report = read(
        text,
        limits,
        Want {
            cases,
            drop_unread,
            positions: false,
        },
    )?;
    Ok(match projection {
        Some(p) => prune_root(report.value, p, drop_unread),
        None => report.value,
    })
}

/// [`prune`] for the report's root, whose cases were built already shaped
/// to the projection (pruning them again would rebuild every case).
fn prune_root(value: Value, p: &crate::eval::projection::Projection, drop_unread: bool) -> Value {
    let Value::Object(root) = &value else {
        return value;
    };
    if p.whole {
        return value;
    }
    let mut out = object_with_capacity(root.len());
    for (key, v) in root.iter() {
        match p.fields.get(key.as_ref()).or(p.items.as_deref()) {
            Some(_) if key.as_ref() == "cases" => {
                out.insert(key.clone(), v.clone());
            }
            Some(sub) => {
                out.insert(key.clone(), prune(v.clone(), sub, drop_unread));
            }
            None if drop_unread => {}
            None => {
                out.insert(key.clone(), Value::Null);
            }
        }
    }
    Value::Object(out.into())
}

/// Where each value of the normalised report is in `text`: a count at the
/// element it counts, an attribute's value at that attribute, a case's
/// `status` at the `<failure>`/`<error>`/`<skipped>` that decided it.
pub(crate) fn positions(text: &str) -> Option<Pos> {
    read(
        text,
        &crate::limits::DEFAULT,
        Want {
            cases: CasePlan::Whole,
            drop_unread: false,
            positions: true,
        },
    )
    .ok()
    .and_then(|r| r.positions)
}

struct Want<'p> {
    cases: CasePlan<'p>,
    drop_unread: bool,
    positions: bool,
}

/// How much of each case to build.
#[derive(Clone, Copy)]
enum CasePlan<'p> {
    /// No rule reads the cases.
    Skip,
    /// Only how many there are (`count(evidence.junit.cases)`).
    Length,
    /// Only these fields of each case (the others `null`, or left out for a
    /// decision).
    Fields(&'p crate::eval::projection::Projection),
    Whole,
}

/// The fields of a case, in the order of the shape.
const CASE_FIELDS: [&str; 10] = [
    "suite",
    "name",
    "classname",
    "file",
    "line",
    "time",
    "status",
    "flaky",
    "message",
    "type",
];

/// What to do with one field of a case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Build,
    Null,
    Leave,
}

impl CasePlan<'_> {
    fn field(self, key: &str, drop_unread: bool) -> Field {
        match self {
            CasePlan::Whole => Field::Build,
            CasePlan::Fields(p) if p.fields.contains_key(key) => Field::Build,
            _ if drop_unread => Field::Leave,
            _ => Field::Null,
        }
    }
}

struct Report {
    value: Value,
    positions: Option<Pos>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tests: i64,
    passed: i64,
    failures: i64,
    errors: i64,
    skipped: i64,
    flaky: i64,
}

impl Counts {
    fn add(&mut self, status: Status, flaky: bool) {
        self.tests += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failures += 1,
            Status::Error => self.errors += 1,
            Status::Skipped => self.skipped += 1,
        }
        if flaky {
            self.flaky += 1;
        }
    }

    fn entries(&self) -> [(&'static str, i64); 6] {
        [
            ("tests", self.tests),
            ("passed", self.passed),
            ("failures", self.failures),
            ("errors", self.errors),
            ("skipped", self.skipped),
            ("flaky", self.flaky),
        ]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Passed = 0,
    Failed = 1,
    Error = 2,
    Skipped = 3,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }
}

/// An attribute's value and, when positions are wanted, the span of its
/// quoted value.
type Attr = (Rc<str>, (usize, usize));

struct Suite {
    name: Option<Attr>,
    path: Rc<str>,
    time: Option<Attr>,
    timestamp: Option<Attr>,
    hostname: Option<Attr>,
    counts: Counts,
    tag: (usize, usize),
}

/// The element that decided a case's status: its span, `message` and `type`.
type Outcome = (Status, (usize, usize), Option<Attr>, Option<Attr>);

#[derive(Default)]
struct Case {
    name: Option<Attr>,
    classname: Option<Attr>,
    file: Option<Attr>,
    line: Option<Attr>,
    time: Option<Attr>,
    /// The element that decided the status, and its attributes.
    outcome: Option<Outcome>,
    flaky: Option<(usize, usize)>,
    tag: (usize, usize),
}

enum Frame {
    Suite,
    Case,
    /// An element the report shape does not use (`properties`,
    /// `system-out`...), or the `<testsuites>` root.
    Other,
}

struct Parse<'t, 'w> {
    text: &'t str,
    want: &'w Want<'w>,
    /// What to do with each of [`CASE_FIELDS`], and their interned keys.
    case_plan: [Field; 10],
    case_keys: [Rc<str>; 10],
    /// The four status strings, shared by every case.
    statuses: [Value; 4],
    /// The entries of the case being built, gathered here and moved into
    /// the case's one allocation.
    case_entries: Vec<Entry>,
    limits: &'t Limits,
    interner: Interner,
    suites: Vec<Suite>,
    cases: Vec<Value>,
    case_positions: Vec<Pos>,
    root: Counts,
    root_tag: (usize, usize),
    root_time: Option<Attr>,
    root_is_suites: bool,
    /// The `time` of each suite directly under a `<testsuites>` root.
    top_level_times: Vec<Rc<str>>,
    stack: Vec<Frame>,
    /// Indexes into `suites` of the suites enclosing the current element.
    open_suites: Vec<usize>,
    case: Option<Case>,
}

fn read(text: &str, limits: &Limits, want: Want<'_>) -> Result<Report, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut interner = Interner::default();
    let case_keys = CASE_FIELDS.map(|k| interner.get(k));
    let case_plan = CASE_FIELDS.map(|k| want.cases.field(k, want.drop_unread));
    let statuses = [
        Status::Passed,
        Status::Failed,
        Status::Error,
        Status::Skipped,
    ]
    .map(|s| Value::Str(interner.get(s.name())));
    let mut p = Parse {
        text,
        want: &want,
        case_entries: Vec::with_capacity(CASE_FIELDS.len()),
        case_plan,
        case_keys,
        statuses,
        limits,
        interner,
        suites: Vec::new(),
        cases: Vec::new(),
        case_positions: Vec::new(),
        root: Counts::default(),
        root_tag: (0, 0),
        root_time: None,
        root_is_suites: false,
        top_level_times: Vec::new(),
        stack: Vec::new(),
        open_suites: Vec::new(),
        case: None,
    };
    let mut root_seen = false;
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError {
            message: e.to_string(),
            offset: reader.error_position() as usize,
        })?;
        let end = reader.buffer_position() as usize;
        match event {
            Event::Start(e) | Event::Empty(e) if p.stack.is_empty() && root_seen => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(XmlError {
                    message: format!("a second root element `<{name}>` after the report"),
                    offset: start,
                });
            }
            Event::Start(e) => {
                root_seen = true;
                p.open(&reader, &e, (start, end))?;
            }
            Event::Empty(e) => {
                root_seen = true;
                p.open(&reader, &e, (start, end))?;
                p.close(end)?;
            }
            Event::End(_) => p.close(end)?,
            Event::Text(t) if p.stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(not_a_report(start, "text outside any element"));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(not_a_report(0, "the file holds no XML element"));
    }
    if !p.stack.is_empty() {
        return Err(XmlError {
            message: "the file ends before its elements are closed (truncated?)".into(),
            offset: text.len(),
        });
    }
    Ok(p.finish())
}

fn not_a_report(offset: usize, why: &str) -> XmlError {
    XmlError {
        message: format!("not a JUnit test report: {why}"),
        offset,
    }
}

impl Parse<'_, '_> {
    fn open(
        &mut self,
        reader: &Reader<&[u8]>,
        e: &BytesStart<'_>,
        tag: (usize, usize),
    ) -> Result<(), XmlError> {
        if self.stack.len() >= self.limits.evidence_depth {
            return Err(XmlError {
                message: format!(
                    "evidence nested deeper than {} levels",
                    self.limits.evidence_depth
                ),
                offset: tag.0,
            });
        }
        let local = e.local_name();
        let name = local.as_ref();
        let frame = match (self.stack.last(), name) {
            (None, b"testsuites") => {
                self.root_tag = tag;
                self.root_time = self.attrs(reader, e, tag, &["time"])?.pop().flatten();
                self.root_is_suites = true;
                Frame::Other
            }
            (None, b"testsuite") | (Some(Frame::Suite | Frame::Other), b"testsuite")
                if self.case.is_none() =>
            {
                if self.stack.is_empty() {
                    self.root_tag = tag;
                }
                let mut a =
                    self.attrs(reader, e, tag, &["name", "time", "timestamp", "hostname"])?;
                let hostname = a.pop().flatten();
                let timestamp = a.pop().flatten();
                let time = a.pop().flatten();
                let name = a.pop().flatten();
                if self.stack.is_empty() {
                    self.root_time = time.clone();
                } else if self.stack.len() == 1 && self.root_is_suites {
                    self.top_level_times
                        .extend(time.as_ref().map(|(t, _)| t.clone()));
                }
                let own = name.as_ref().map_or("", |(n, _)| n.as_ref());
                let path = match self.open_suites.last().and_then(|i| self.suites.get(*i)) {
                    Some(parent) => Rc::<str>::from(format!("{} / {own}", parent.path)),
                    None => Rc::from(own),
                };
                self.suites.push(Suite {
                    name,
                    path,
                    time,
                    timestamp,
                    hostname,
                    counts: Counts::default(),
                    tag,
                });
                self.open_suites.push(self.suites.len() - 1);
                Frame::Suite
            }
            (None, other) => {
                return Err(not_a_report(
                    tag.0,
                    &format!(
                        "its root element is `<{}>`, not `<testsuites>` or `<testsuite>`",
                        String::from_utf8_lossy(other)
                    ),
                ))
            }
            (Some(Frame::Suite | Frame::Other), b"testcase") if self.case.is_none() => {
                let keep = [1, 2, 3, 4, 5].map(|i| self.case_plan[i] == Field::Build);
                let mut a = self.attrs_kept(
                    reader,
                    e,
                    tag,
                    &["name", "classname", "file", "line", "time"],
                    &keep,
                )?;
                let time = a.pop().flatten();
                let line = a.pop().flatten();
                let file = a.pop().flatten();
                let classname = a.pop().flatten();
                let name = a.pop().flatten();
                self.case = Some(Case {
                    name,
                    classname,
                    file,
                    line,
                    time,
                    tag,
                    ..Case::default()
                });
                Frame::Case
            }
            (Some(Frame::Case), b"failure" | b"error" | b"skipped") => {
                let status = match name {
                    b"failure" => Status::Failed,
                    b"error" => Status::Error,
                    _ => Status::Skipped,
                };
                let keep = [8, 9].map(|i| self.case_plan[i] == Field::Build);
                let mut a = self.attrs_kept(reader, e, tag, &["message", "type"], &keep)?;
                let kind = a.pop().flatten();
                let message = a.pop().flatten();
                if let Some(case) = &mut self.case {
                    // The first failure or error decides; a skip only when nothing failed.
                    let decided = match &case.outcome {
                        None => true,
                        Some((Status::Skipped, ..)) => status != Status::Skipped,
                        Some(_) => false,
                    };
                    if decided {
                        case.outcome = Some((status, tag, message, kind));
                    }
                }
                Frame::Other
            }
            (Some(Frame::Case), b"flakyFailure" | b"flakyError") => {
                if let Some(case) = &mut self.case {
                    case.flaky.get_or_insert(tag);
                }
                Frame::Other
            }
            (Some(Frame::Case), b"testcase" | b"testsuite") => {
                return Err(not_a_report(
                    tag.0,
                    &format!(
                        "a `<{}>` inside a `<testcase>`",
                        String::from_utf8_lossy(name)
                    ),
                ))
            }
            _ => Frame::Other,
        };
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: usize) -> Result<(), XmlError> {
        match self.stack.pop() {
            Some(Frame::Suite) => {
                self.open_suites.pop();
            }
            Some(Frame::Case) => {
                if let Some(case) = self.case.take() {
                    self.finish_case(case, end);
                }
            }
            Some(Frame::Other) | None => {}
        }
        Ok(())
    }

    fn finish_case(&mut self, case: Case, _end: usize) {
        let status = case.outcome.as_ref().map_or(Status::Passed, |o| o.0);
        // Failed and then passed on a rerun: it passed, and it is flaky.
        let flaky = case.flaky.is_some() && status == Status::Passed;
        self.root.add(status, flaky);
        for i in &self.open_suites {
            if let Some(s) = self.suites.get_mut(*i) {
                s.counts.add(status, flaky);
            }
        }
        match self.want.cases {
            CasePlan::Skip => return,
            CasePlan::Length if !self.want.positions => {
                self.cases.push(Value::Null);
                return;
            }
            _ => {}
        }
        let suite = self
            .open_suites
            .last()
            .and_then(|i| self.suites.get(*i))
            .filter(|_| self.case_plan[0] == Field::Build || self.want.positions)
            .map(|s| (s.path.clone(), s.tag));
        let (message, kind) = match &case.outcome {
            Some((_, _, m, k)) => (m.clone(), k.clone()),
            None => (None, None),
        };
        for (i, key) in self.case_keys.clone().into_iter().enumerate() {
            let value = match self.case_plan[i] {
                Field::Leave => continue,
                Field::Null => Value::Null,
                Field::Build => match i {
                    0 => suite
                        .as_ref()
                        .map_or(Value::Null, |(p, _)| Value::Str(p.clone())),
                    1 => self.string(&case.name),
                    2 => self.string(&case.classname),
                    3 => self.string(&case.file),
                    4 => integer(&case.line),
                    5 => number(&case.time),
                    6 => self.statuses[status as usize].clone(),
                    7 => Value::Bool(flaky),
                    8 => self.string(&message),
                    _ => self.string(&kind),
                },
            };
            self.case_entries.push((key, value));
        }
        let object = SharedObject::inline(self.case_entries.drain(..));
        self.cases.push(Value::Object(object));
        if self.want.positions {
            let tag = case.tag;
            let at = |a: &Option<Attr>| a.as_ref().map_or(tag, |(_, s)| *s);
            let status_at = case.outcome.as_ref().map_or(tag, |o| o.1);
            let (message_at, type_at) = match &case.outcome {
                Some((_, t, m, k)) => (
                    m.as_ref().map_or(*t, |a| a.1),
                    k.as_ref().map_or(*t, |a| a.1),
                ),
                None => (tag, tag),
            };
            let members = vec![
                ("suite", suite.map_or(tag, |(_, t)| t)),
                ("name", at(&case.name)),
                ("classname", at(&case.classname)),
                ("file", at(&case.file)),
                ("line", at(&case.line)),
                ("time", at(&case.time)),
                ("status", status_at),
                ("flaky", case.flaky.unwrap_or(tag)),
                ("message", message_at),
                ("type", type_at),
            ];
            self.case_positions.push(map_pos(tag, members));
        }
    }

    fn string(&mut self, a: &Option<Attr>) -> Value {
        match a {
            None => Value::Null,
            Some((s, _)) if s.len() <= 32 => Value::Str(self.interner.get(s)),
            Some((s, _)) => Value::Str(s.clone()),
        }
    }

    /// The attributes `names` of `e`, unescaped, in that order (`None` when
    /// absent), each with the span of its value when positions are wanted.
    fn attrs(
        &mut self,
        reader: &Reader<&[u8]>,
        e: &BytesStart<'_>,
        tag: (usize, usize),
        names: &[&str],
    ) -> Result<Vec<Option<Attr>>, XmlError> {
        self.attrs_kept(reader, e, tag, names, &[true; 5])
    }

    /// [`Self::attrs`], keeping only the attributes `keep` marks: the others
    /// are checked exactly the same (so every load accepts the same files)
    /// but not copied.
    fn attrs_kept(
        &mut self,
        reader: &Reader<&[u8]>,
        e: &BytesStart<'_>,
        tag: (usize, usize),
        names: &[&str],
        keep: &[bool],
    ) -> Result<Vec<Option<Attr>>, XmlError> {
        let mut out: Vec<Option<Attr>> = vec![None; names.len()];
        for attr in e.attributes() {
            let attr = attr.map_err(|err| attribute_error(&err, tag))?;
            let key = attr.key.local_name();
            let Some(slot) = names.iter().position(|n| n.as_bytes() == key.as_ref()) else {
                continue;
            };
            let value = attr
                .decode_and_unescape_value(reader.decoder())
                .map_err(|err| {
                    let name = names.get(slot).copied().unwrap_or_default();
                    let at = attribute_span(self.text, tag, name).map_or(tag.0, |s| s.0 + 1);
                    let why = match &err {
                        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, entity)) => {
                            format!("the entity `&{entity};` (only the five predefined XML entities are read; a DOCTYPE's own are not)")
                        }
                        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnterminatedEntity(_)) => {
                            "an `&` that starts no entity (write `&amp;`)".to_string()
                        }
                        other => other.to_string(),
                    };
                    XmlError {
                        message: format!("in the attribute `{name}`: {why}"),
                        offset: at,
                    }
                })?;
            if value.len() > self.limits.string_bytes {
                return Err(XmlError {
                    message: format!(
                        "a string longer than --max-string-bytes ({} bytes)",
                        self.limits.string_bytes
                    ),
                    offset: tag.0,
                });
            }
            if !self.want.positions && !keep.get(slot).copied().unwrap_or(true) {
                continue;
            }
            let span = if self.want.positions {
                attribute_span(self.text, tag, names[slot]).unwrap_or(tag)
            } else {
                tag
            };
            if let Some(s) = out.get_mut(slot) {
                *s = Some((Rc::from(value.as_ref()), span));
            }
        }
        Ok(out)
    }

    fn finish(mut self) -> Report {
        let mut suites = Vec::with_capacity(self.suites.len());
        let mut suite_positions = Vec::new();
        for s in std::mem::take(&mut self.suites) {
            let mut o = object_with_capacity(11);
            o.insert(self.interner.get("name"), self.string(&s.name));
            o.insert(self.interner.get("path"), Value::Str(s.path.clone()));
            for (k, n) in s.counts.entries() {
                o.insert(self.interner.get(k), Value::Int(n));
            }
            o.insert(self.interner.get("time"), number(&s.time));
            o.insert(self.interner.get("timestamp"), self.string(&s.timestamp));
            o.insert(self.interner.get("hostname"), self.string(&s.hostname));
            suites.push(Value::Object(o.into()));
            if self.want.positions {
                let tag = s.tag;
                let at = |a: &Option<Attr>| a.as_ref().map_or(tag, |(_, s)| *s);
                let mut members = vec![("name", at(&s.name)), ("path", tag)];
                members.extend(s.counts.entries().iter().map(|(k, _)| (*k, tag)));
                members.push(("time", at(&s.time)));
                members.push(("timestamp", at(&s.timestamp)));
                members.push(("hostname", at(&s.hostname)));
                suite_positions.push(map_pos(tag, members));
            }
        }
        // A `<testsuites>` root without its own `time` takes the sum of its
        // suites' (those that give one), as the report's total.
        let root_time = match (&self.root_time, self.root_is_suites) {
            (Some(t), _) => number(&Some(t.clone())),
            (None, true) => {
                let times: Vec<f64> = self
                    .top_level_times
                    .iter()
                    .filter_map(|t| t.trim().parse::<f64>().ok())
                    .collect();
                if times.is_empty() {
                    Value::Null
                } else {
                    Value::Float(times.iter().sum())
                }
            }
            (None, false) => Value::Null,
        };
        let mut root = object_with_capacity(9);
        for (k, n) in self.root.entries() {
            root.insert(self.interner.get(k), Value::Int(n));
        }
        root.insert(self.interner.get("time"), root_time);
        root.insert(self.interner.get("suites"), Value::list(suites));
        let cases = if !matches!(self.want.cases, CasePlan::Skip) {
            Value::list(std::mem::take(&mut self.cases))
        } else {
            Value::Null
        };
        root.insert(self.interner.get("cases"), cases);
        let positions = self.want.positions.then(|| {
            let tag = self.root_tag;
            let mut members: Vec<(String, Pos)> = self
                .root
                .entries()
                .iter()
                .map(|(k, _)| (k.to_string(), Pos::leaf(tag.0, tag.1)))
                .collect();
            let time = self.root_time.as_ref().map_or(tag, |a| a.1);
            members.push(("time".into(), Pos::leaf(time.0, time.1)));
            members.push((
                "suites".into(),
                Pos {
                    start: tag.0,
                    end: tag.1,
                    kids: Kids::Seq(suite_positions),
                },
            ));
            members.push((
                "cases".into(),
                Pos {
                    start: tag.0,
                    end: tag.1,
                    kids: Kids::Seq(std::mem::take(&mut self.case_positions)),
                },
            ));
            Pos {
                start: tag.0,
                end: tag.1,
                kids: Kids::Map(members),
            }
        });
        Report {
            value: Value::Object(root.into()),
            positions,
        }
    }
}

fn map_pos(tag: (usize, usize), members: Vec<(&str, (usize, usize))>) -> Pos {
    Pos {
        start: tag.0,
        end: tag.1,
        kids: Kids::Map(
            members
                .into_iter()
                .map(|(k, (s, e))| (k.to_string(), Pos::leaf(s, e)))
                .collect(),
        ),
    }
}

/// A malformed attribute, at its place in the tag (the reader counts from
/// the byte after `<`).
fn attribute_error(
    err: &quick_xml::events::attributes::AttrError,
    tag: (usize, usize),
) -> XmlError {
    use quick_xml::events::attributes::AttrError;
    let (at, why) = match err {
        AttrError::ExpectedEq(at) => (*at, "an attribute without `=` and a value".to_string()),
        AttrError::ExpectedValue(at) => (*at, "an attribute without a value".to_string()),
        AttrError::UnquotedValue(at) => (*at, "an attribute value without quotes".to_string()),
        AttrError::ExpectedQuote(at, _) => (
            *at,
            "an attribute value whose quote is not closed".to_string(),
        ),
        AttrError::Duplicated(at, _) => (
            *at,
            "an attribute given twice (ambiguous evidence is rejected)".to_string(),
        ),
    };
    XmlError {
        message: why,
        offset: tag.0 + 1 + at,
    }
}

/// `time="0.52"` as a number; a value that is not one stays the string the
/// file holds (a report never shows a number the file does not).
fn number(a: &Option<Attr>) -> Value {
    match a {
        None => Value::Null,
        Some((s, _)) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => Value::Str(s.clone()),
        },
    }
}

/// `line="12"` as an integer, or the string the file holds.
fn integer(a: &Option<Attr>) -> Value {
    match a {
        None => Value::Null,
        Some((s, _)) => match s.trim().parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Str(s.clone()),
        },
    }
}

/// The span of the quoted value of attribute `name` in the start tag at
/// `tag` (the tag is well-formed: the reader has checked it).
fn attribute_span(text: &str, tag: (usize, usize), name: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut i = tag.0 + 1;
    // The element name.
    while b
        .get(i)
        .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'>' && *c != b'/')
    {
        i += 1;
    }
    while i < tag.1 {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let key_start = i;
        while b
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'=' && *c != b'>' && *c != b'/')
        {
            i += 1;
        }
        let key = text.get(key_start..i)?;
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let quote = *b.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i;
        i += 1;
        while b.get(i).is_some_and(|c| *c != quote) {
            i += 1;
        }
        i += 1;
        let local = key.rsplit(':').next().unwrap_or(key);
        if local == name {
            return Some((value_start, i));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::projection::Projection;

    fn full(text: &str) -> serde_json::Value {
        parse(text, &crate::limits::DEFAULT, Load::Full)
            .map(|v| v.to_json())
            .unwrap_or_else(|e| panic!("{}", e.message))
    }

    const NESTED: &str = r#"<testsuites><testsuite name="a" time="1.5"><testsuite name="b">
<testcase name="t1" classname="C" time="0.1"/>
<testcase name="t2"><failure message="m" type="T">body</failure><skipped/></testcase>
</testsuite><testcase name="t3"><skipped message="later"/></testcase>
<testcase name="t4"><flakyError/></testcase></testsuite></testsuites>"#;

    #[test]
    fn counts_come_from_the_cases_and_nest() {
        let v = full(NESTED);
        assert_eq!(
            (
                &v["tests"],
                &v["passed"],
                &v["failures"],
                &v["skipped"],
                &v["flaky"]
            ),
            (&4.into(), &2.into(), &1.into(), &1.into(), &1.into())
        );
        assert_eq!(v["time"], 1.5);
        assert_eq!(v["suites"][0]["tests"], 4);
        assert_eq!(v["suites"][1]["path"], "a / b");
        assert_eq!(v["suites"][1]["tests"], 2);
        assert_eq!(v["cases"][1]["status"], "failed");
        assert_eq!(v["cases"][1]["message"], "m");
        assert_eq!(v["cases"][1]["suite"], "a / b");
        assert_eq!(v["cases"][2]["status"], "skipped");
        assert_eq!(v["cases"][3]["flaky"], true);
        assert_eq!(v["cases"][3]["status"], "passed");
        assert_eq!(v["cases"][0]["file"], serde_json::Value::Null);
    }

    /// A decision whose rules read only the totals builds no case.
    #[test]
    fn the_lean_load_builds_no_case_no_rule_reads() {
        let mut p = Projection::default();
        p.fields.entry("failures".into()).or_default();
        let decide = parse(NESTED, &crate::limits::DEFAULT, Load::Decide(&p)).unwrap();
        assert_eq!(decide.to_json(), serde_json::json!({"failures": 1}));
        let explain = parse(NESTED, &crate::limits::DEFAULT, Load::Explain(&p))
            .unwrap()
            .to_json();
        assert_eq!(explain["cases"], serde_json::Value::Null);
        assert_eq!(explain["failures"], 1);
        let mut status = Projection::default();
        status.fields.entry("status".into()).or_default();
        let cases = Projection {
            items: Some(Box::new(status)),
            ..Default::default()
        };
        let mut p = Projection::default();
        p.fields.insert("cases".into(), cases);
        let decide = parse(NESTED, &crate::limits::DEFAULT, Load::Decide(&p))
            .unwrap()
            .to_json();
        assert_eq!(decide["cases"][1], serde_json::json!({"status": "failed"}));
        // `count(cases)`: as many placeholders as cases, none built.
        let mut p = Projection::default();
        p.fields.entry("cases".into()).or_default();
        let decide = parse(NESTED, &crate::limits::DEFAULT, Load::Decide(&p))
            .unwrap()
            .to_json();
        assert_eq!(decide["cases"], serde_json::json!([null, null, null, null]));
    }

    #[test]
    fn positions_point_at_elements_and_attributes() {
        let pos = positions(NESTED).unwrap();
        let at = |p: &str| pos.at(p).and_then(|(s, e)| NESTED.get(s..e));
        assert_eq!(
            at("/cases/1/status"),
            Some(r#"<failure message="m" type="T">"#)
        );
        assert_eq!(at("/cases/1/message"), Some(r#""m""#));
        assert_eq!(at("/cases/0/classname"), Some(r#""C""#));
        assert_eq!(
            at("/cases/0"),
            Some(r#"<testcase name="t1" classname="C" time="0.1"/>"#)
        );
        assert_eq!(at("/suites/1/name"), Some(r#""b""#));
        assert_eq!(at("/failures"), Some("<testsuites>"));
        assert_eq!(at("/cases/9"), None);
    }

    #[test]
    fn the_evidence_limits_apply() {
        let limits = crate::limits::Limits {
            evidence_depth: 3,
            string_bytes: 8,
            ..crate::limits::DEFAULT
        };
        let load = |text: &str| {
            parse(text, &limits, Load::Full)
                .map(|_| ())
                .map_err(|e| e.message)
        };
        assert!(
            load("<testsuites><testsuite><testcase name=\"a\"/></testsuite></testsuites>").is_ok()
        );
        let deep =
            "<testsuites><testsuite><testsuite><testsuite/></testsuite></testsuite></testsuites>";
        assert!(load(deep).unwrap_err().contains("deeper than 3"));
        assert!(load("<testsuite name=\"123456789\"/>")
            .unwrap_err()
            .contains("--max-string-bytes"));
    }

    #[test]
    fn what_is_not_a_report_is_refused() {
        for (text, message) in [
            (
                "<project><testcase/></project>",
                "its root element is `<project>`",
            ),
            ("", "no XML element"),
            ("<testsuite><testcase>", "ends before"),
            (
                "<testsuite></testsuite><testsuite/>",
                "a second root element",
            ),
            (
                "<testsuite><testcase><testcase/></testcase></testsuite>",
                "inside a `<testcase>`",
            ),
            ("<testsuite name=\"&bomb;\"/>", ""),
            ("<testsuite></testcase>", ""),
        ] {
            let err = parse(text, &crate::limits::DEFAULT, Load::Full).expect_err(text);
            assert!(err.message.contains(message), "{text:?}: {}", err.message);
        }
    }
}
