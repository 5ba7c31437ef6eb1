//! YAML evidence (TRUST.md section 1): YAML 1.2 with the core schema only.
//!
//! A file with one document is that document; several (`---`) are a list
//! of them in order. Plain scalars resolve by the core schema's rules
//! (`null`, `true`, `0x1F`, `1.5e3`...); quoted and block scalars are
//! strings. Anything that would make the evidence ambiguous is refused with
//! its line and column: a tag outside the core schema, a key that is not a
//! scalar, a duplicate key, an integer beyond 64 bits, `.inf` and `.nan`
//! (JSON cannot hold them, and every report is JSON underneath). Anchors and
//! aliases are allowed; the aliased value is shared, not copied, but what
//! each alias expands to counts against `--max-evidence-bytes` and the
//! depth limit, so a "billion laughs" file is refused, not built.
//!
//! Events come from `saphyr-parser` (see Cargo.toml); this module only
//! resolves them into values, and on the denied path into positions
//! ([`positions`]).

use super::tree::{Kids, Pos};
use crate::eval::value::{object_with_capacity, Interner};
use crate::eval::Value;
use crate::limits::Limits;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;

/// Why a YAML file was refused, at a byte offset of its text.
#[derive(Debug, Clone)]
pub(crate) struct YamlError {
    pub message: String,
    pub offset: usize,
}

/// Parses `text` into evidence, under the evidence limits.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Value, YamlError> {
    Reader::new(text, limits, false).run().map(|(v, _)| v)
}

/// Where each value of `text` is; `None` if it does not parse (it did when
/// it was loaded, so that does not happen).
pub(crate) fn positions(text: &str) -> Option<Pos> {
    let limits = crate::limits::DEFAULT;
    Reader::new(text, &limits, true)
        .run()
        .ok()
        .and_then(|(_, p)| p)
}

/// A value built from an anchored node, kept for its aliases.
struct Anchored {
    value: Value,
    /// What the value costs where an alias repeats it (see [`weight`]).
    weight: u64,
    /// Nesting levels inside the value (0 for a scalar).
    height: usize,
}

struct Built {
    value: Value,
    weight: u64,
    height: usize,
    pos: Option<Pos>,
}

struct Reader<'t> {
    text: &'t str,
    parser: Parser<'t, saphyr_parser::StrInput<'t>>,
    anchors: HashMap<usize, Anchored>,
    /// What the aliases have expanded to so far, added to the file's size.
    expanded: u64,
    max_bytes: u64,
    max_depth: usize,
    max_string: usize,
    interner: Interner,
    with_positions: bool,
    offsets: Offsets,
}

impl<'t> Reader<'t> {
    fn new(text: &'t str, limits: &Limits, with_positions: bool) -> Self {
        Reader {
            text,
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            expanded: text.len() as u64,
            max_bytes: limits.evidence_bytes,
            max_depth: limits.evidence_depth,
            max_string: limits.string_bytes,
            interner: Interner::default(),
            with_positions,
            offsets: Offsets::new(text),
        }
    }

    fn error(&mut self, span: &Span, message: impl Into<String>) -> YamlError {
        YamlError {
            message: message.into(),
            offset: self.offsets.byte(self.text, span.start.index()),
        }
    }

    fn next(&mut self) -> Result<(Event<'t>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(e)) => Err(YamlError {
                message: e.info().to_string(),
                offset: self.offsets.byte(self.text, e.marker().index()),
            }),
            None => Err(YamlError {
                message: "unexpected end of the YAML stream".into(),
                offset: self.text.len(),
            }),
        }
    }

    fn run(mut self) -> Result<(Value, Option<Pos>), YamlError> {
        let mut documents = Vec::new();
        let mut spans = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    let (event, span) = self.next()?;
                    let built = self.node(event, span, 0)?;
                    documents.push(built.value);
                    spans.extend(built.pos);
                    // Anchors are scoped to their document.
                    self.anchors.clear();
                }
                Event::StreamEnd => break,
                _ => return Err(self.error(&span, "unexpected YAML event outside a document")),
            }
        }
        let start = spans.first().map_or(0, |p| p.start);
        let end = spans.last().map_or(0, |p| p.end);
        match documents.len() {
            0 => Err(YamlError {
                message: "the file holds no YAML document".into(),
                offset: 0,
            }),
            1 => Ok((documents.remove(0), spans.pop())),
            _ => Ok((
                Value::list(documents),
                self.with_positions.then_some(Pos {
                    start,
                    end,
                    kids: Kids::Seq(spans),
                }),
            )),
        }
    }

    fn span_of(&mut self, span: &Span) -> (usize, usize) {
        let start = self.offsets.byte(self.text, span.start.index());
        let end = self.offsets.byte(self.text, span.end.index()).max(start);
        (start, end)
    }

    fn node(&mut self, event: Event<'t>, span: Span, depth: usize) -> Result<Built, YamlError> {
        let (anchor, built) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(&text, style, tag.as_deref(), &span)?;
                let pos = self.with_positions.then(|| {
                    let (s, e) = self.span_of(&span);
                    Pos::leaf(s, e)
                });
                let weight = 1 + text.len() as u64;
                (
                    anchor,
                    Built {
                        value,
                        weight,
                        height: 0,
                        pos,
                    },
                )
            }
            Event::SequenceStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "seq", &span)?;
                let built = self.sequence(span, depth)?;
                (anchor, built)
            }
            Event::MappingStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "map", &span)?;
                let built = self.mapping(span, depth)?;
                (anchor, built)
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(self.error(&span, "an alias to an unknown anchor"));
                };
                let (value, weight, height) =
                    (anchored.value.clone(), anchored.weight, anchored.height);
                self.expanded = self.expanded.saturating_add(weight);
                if self.expanded > self.max_bytes {
                    return Err(self.error(
                        &span,
                        format!(
                            "aliases expand the evidence past --max-evidence-bytes ({} bytes)",
                            self.max_bytes
                        ),
                    ));
                }
                if depth + height > self.max_depth {
                    return Err(self.deep(&span));
                }
                let pos = self.with_positions.then(|| {
                    let (s, e) = self.span_of(&span);
                    Pos {
                        start: s,
                        end: e,
                        kids: Kids::Alias,
                    }
                });
                return Ok(Built {
                    value,
                    weight,
                    height,
                    pos,
                });
            }
            _ => return Err(self.error(&span, "unexpected YAML event where a value belongs")),
        };
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    value: built.value.clone(),
                    weight: built.weight,
                    height: built.height,
                },
            );
        }
        Ok(built)
    }

    /// Where a sequence or mapping is, from its start event to its end
    /// event, when positions are wanted.
    fn container_pos(
        &mut self,
        start: &Span,
        end: &Span,
        kids: impl FnOnce() -> Kids,
    ) -> Option<Pos> {
        self.with_positions.then(|| {
            let (s, _) = self.span_of(start);
            let (_, e) = self.span_of(end);
            Pos {
                start: s,
                end: e,
                kids: kids(),
            }
        })
    }

    fn deep(&mut self, span: &Span) -> YamlError {
        let message = format!("evidence nested deeper than {} levels", self.max_depth);
        self.error(span, message)
    }

    fn sequence(&mut self, start: Span, depth: usize) -> Result<Built, YamlError> {
        if depth >= self.max_depth {
            return Err(self.deep(&start));
        }
        let mut items = Vec::new();
        let mut positions = Vec::new();
        let (mut weight, mut height) = (1u64, 0usize);
        let end = loop {
            let (event, span) = self.next()?;
            if let Event::SequenceEnd = event {
                break span;
            }
            let item = self.node(event, span, depth + 1)?;
            weight = weight.saturating_add(item.weight);
            height = height.max(item.height + 1);
            items.push(item.value);
            positions.extend(item.pos);
        };
        let pos = self.container_pos(&start, &end, || Kids::Seq(positions));
        Ok(Built {
            value: Value::list(items),
            weight,
            height: height.max(1),
            pos,
        })
    }

    fn mapping(&mut self, start: Span, depth: usize) -> Result<Built, YamlError> {
        if depth >= self.max_depth {
            return Err(self.deep(&start));
        }
        let mut object = object_with_capacity(0);
        let mut positions = Vec::new();
        let (mut weight, mut height) = (1u64, 0usize);
        let end = loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd => break span,
                Event::Scalar(text, _, _, tag) => {
                    self.key_tag(tag.as_deref(), &span)?;
                    text
                }
                Event::Alias(_) => {
                    return Err(self.error(
                        &span,
                        "an alias as a mapping key (keys must be written out)",
                    ))
                }
                _ => {
                    return Err(self.error(
                        &span,
                        "a mapping key that is not a scalar (evidence keys are strings)",
                    ))
                }
            };
            if object.contains_key(&key) {
                return Err(self.error(
                    &span,
                    format!("duplicate key `{key}` (ambiguous evidence is rejected)"),
                ));
            }
            let key_span = span;
            let (event, span) = self.next()?;
            let value = self.node(event, span, depth + 1)?;
            weight = weight
                .saturating_add(1 + key.len() as u64)
                .saturating_add(value.weight);
            height = height.max(value.height + 1);
            if let Some(mut pos) = value.pos {
                // A null written as nothing (`key:`) has no span of its own: show the key.
                if pos.start == pos.end {
                    let (s, e) = self.span_of(&key_span);
                    pos = Pos::leaf(s, e);
                }
                positions.push((key.to_string(), pos));
            }
            let key = self.interner.get(&key);
            object.insert(key, value.value);
        };
        let pos = self.container_pos(&start, &end, || Kids::Map(positions));
        Ok(Built {
            value: Value::Object(object.into()),
            weight,
            height: height.max(1),
            pos,
        })
    }

    fn collection_tag(
        &mut self,
        tag: Option<&Tag>,
        core: &str,
        span: &Span,
    ) -> Result<(), YamlError> {
        match tag {
            None => Ok(()),
            Some(t) if t.is_yaml_core_schema() && t.suffix == core => Ok(()),
            Some(t) => Err(self.error(span, not_core(t))),
        }
    }

    fn key_tag(&mut self, tag: Option<&Tag>, span: &Span) -> Result<(), YamlError> {
        match tag {
            None => Ok(()),
            Some(t) if t.is_yaml_core_schema() && t.suffix == "str" => Ok(()),
            Some(t) => Err(self.error(
                span,
                format!("the tag `{t}` on a mapping key (evidence keys are strings)"),
            )),
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<Value, YamlError> {
        if text.len() > self.max_string {
            return Err(self.error(
                span,
                format!(
                    "a string longer than --max-string-bytes ({} bytes)",
                    self.max_string
                ),
            ));
        }
        let resolved = match tag {
            None if style == ScalarStyle::Plain => core_plain(text),
            None => Ok(Scalar::Str),
            // `! value`: the non-specific tag, which makes a plain scalar a string.
            Some(t) if t.handle == "!" && t.suffix.is_empty() => Ok(Scalar::Str),
            Some(t) if t.is_yaml_core_schema() => match t.suffix.as_str() {
                "str" => Ok(Scalar::Str),
                "null" | "bool" | "int" | "float" => match core_plain(text) {
                    Ok(Scalar::Int(i)) if t.suffix == "float" => Ok(Scalar::Float(i as f64)),
                    Ok(s) if s.tag() == t.suffix => Ok(s),
                    Ok(_) => Err(format!("`{text}` is not a valid `!!{}`", t.suffix)),
                    Err(e) => Err(e),
                },
                _ => Err(not_core(t)),
            },
            Some(t) => Err(not_core(t)),
        };
        Ok(match resolved.map_err(|m| self.error(span, m))? {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::Int(i),
            Scalar::Float(f) => Value::Float(f),
            Scalar::Str if text.len() <= 32 => Value::Str(self.interner.get(text)),
            Scalar::Str => Value::str(text),
        })
    }
}

fn not_core(tag: &Tag) -> String {
    format!("the tag `{tag}` is not in the YAML core schema (only null, booleans, integers, floats, strings, lists and mappings are evidence)")
}

enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

impl Scalar {
    fn tag(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "bool",
            Scalar::Int(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Str => "str",
        }
    }
}

/// A plain scalar resolved by the YAML 1.2 core schema (section 10.3.2).
fn core_plain(s: &str) -> Result<Scalar, String> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Scalar::Null),
        "true" | "True" | "TRUE" => return Ok(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Scalar::Bool(false)),
        _ => {}
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let too_big =
        || format!("integer {s} does not fit in 64 bits (Clearance keeps integers exact)");
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map(Scalar::Int).map_err(|_| too_big());
    }
    for (prefix, radix) in [("0o", 8), ("0x", 16)] {
        if let Some(digits) = s.strip_prefix(prefix) {
            if !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)) {
                return i64::from_str_radix(digits, radix)
                    .map(Scalar::Int)
                    .map_err(|_| too_big());
            }
        }
    }
    if matches!(
        unsigned,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    ) {
        return Err(format!(
            "`{s}` is not a finite number (evidence is JSON underneath, which cannot hold it)"
        ));
    }
    if is_core_float(unsigned) {
        if let Ok(f) = s.parse::<f64>() {
            if f.is_finite() {
                return Ok(Scalar::Float(f));
            }
            return Err(format!("`{s}` is too large for a 64-bit float"));
        }
    }
    Ok(Scalar::Str)
}

/// `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, the core
/// schema's float without its sign.
fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i, i - from)
    };
    let (mut i, whole) = digits(0);
    if b.get(i) == Some(&b'.') {
        let (j, fraction) = digits(i + 1);
        if whole == 0 && fraction == 0 {
            return false;
        }
        i = j;
    } else if whole == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let (j, n) = digits(i);
        if n == 0 {
            return false;
        }
        i = j;
    }
    i == b.len()
}

/// Byte offsets of the parser's character indexes: events arrive in file
/// order, so a cursor moving forward is linear over the whole file.
struct Offsets {
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        Offsets {
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, text: &str, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(text.len());
        }
        if char_index < self.chars {
            self.chars = 0;
            self.bytes = 0;
        }
        let rest = text.get(self.bytes..).unwrap_or("");
        for c in rest.chars() {
            if self.chars == char_index {
                break;
            }
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<serde_json::Value, String> {
        parse(text, &crate::limits::DEFAULT)
            .map(|v| v.to_json())
            .map_err(|e| e.message)
    }

    #[test]
    fn core_schema_scalars() {
        let v = load(
            "a: ~\nb: null\nc: True\nd: 0x1F\ne: 0o17\nf: -12\ng: 1.5e3\nh: .5\ni: yes\nj: '12'\nk: 1_000\nl: \"true\"\nm: !!str 12\nn: !!float 3\no:\n",
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": null, "b": null, "c": true, "d": 31, "e": 15, "f": -12,
                "g": 1500.0, "h": 0.5, "i": "yes", "j": "12", "k": "1_000", "l": "true",
                "m": "12", "n": 3.0, "o": null})
        );
    }

    #[test]
    fn several_documents_are_a_list() {
        assert_eq!(
            load("a: 1\n---\nb: 2\n").unwrap(),
            serde_json::json!([{"a": 1}, {"b": 2}])
        );
        assert_eq!(load("--- [1, 2]\n").unwrap(), serde_json::json!([1, 2]));
    }

    #[test]
    fn ambiguous_evidence_is_refused() {
        for (text, message) in [
            ("a: 1\na: 2\n", "duplicate key `a`"),
            ("? [a]\n: 1\n", "not a scalar"),
            (
                "a: !custom 1\n",
                "the tag `!custom` is not in the YAML core schema",
            ),
            ("a: !!binary aGk=\n", "not in the YAML core schema"),
            ("a: !!int x\n", "not a valid `!!int`"),
            ("a: 99999999999999999999\n", "does not fit in 64 bits"),
            ("a: .inf\n", "not a finite number"),
            ("a: -.NaN\n", "not a finite number"),
            ("", "no YAML document"),
            ("a: [1, 2\n", ""),
        ] {
            let err = load(text).expect_err(text);
            assert!(err.contains(message), "{text:?}: {err}");
        }
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = load(&text).expect_err("a billion laughs");
        assert!(err.contains("--max-evidence-bytes"), "{err}");
        // A few aliases are fine, and share their value.
        assert_eq!(
            load("base: &b {x: 1}\nstaging: *b\n").unwrap(),
            serde_json::json!({"base": {"x": 1}, "staging": {"x": 1}})
        );
    }

    /// The evidence limits hold for YAML as for JSON: depth (also through
    /// an alias, whose value nests inside the place it is used) and string size.
    #[test]
    fn the_evidence_limits_apply() {
        let limits = crate::limits::Limits {
            evidence_depth: 3,
            string_bytes: 8,
            ..crate::limits::DEFAULT
        };
        let load = |text: &str| parse(text, &limits).map(|_| ()).map_err(|e| e.message);
        assert!(load("a: {b: [1]}\n").is_ok());
        assert!(load("a: {b: [[1]]}\n")
            .unwrap_err()
            .contains("deeper than 3"));
        assert!(load("x: &x [[1]]\na: {b: *x}\n")
            .unwrap_err()
            .contains("deeper than 3"));
        assert!(load("a: 12345678\n").is_ok());
        assert!(load("a: '123456789'\n")
            .unwrap_err()
            .contains("--max-string-bytes"));
    }

    #[test]
    fn positions_are_byte_spans_of_the_values() {
        let text = "name: é\nlist:\n  - 1\n  - \"two\"\nempty:\n";
        let pos = positions(text).unwrap();
        let at = |p: &str| pos.at(p).and_then(|(s, e)| text.get(s..e));
        assert_eq!(at("/name"), Some("é"));
        assert_eq!(at("/list/1"), Some("\"two\""));
        assert_eq!(at("/list/0"), Some("1"));
        assert_eq!(at("/empty"), Some("empty"));
        assert_eq!(at("/nope"), None);
    }
}
