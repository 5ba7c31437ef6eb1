//! Evidence: from what the caller names (a file, standard input, `NAME=FILE`
//! mounts, text already in memory) to one loaded bundle.
//!
//! Two steps, so a decision can load the same bytes twice (lean, then with
//! what explanations show) without reading any file twice:
//!
//! 1. [`read`] reads every [`Source`] once, through one bounded reader that
//!    stops at `--max-evidence-bytes` and refuses devices, and keeps the text
//!    ([`Evidence`]) for locations and digests; a regular JSON file of at
//!    least [`STREAM_FROM`] bytes is left unread instead, to be streamed by
//!    each load and read whole only when a report cites it (`stream`);
//! 2. [`assemble`] parses each file with the reader of its [`Format`] (under
//!    a [`Load`] that says how much of it to build) and mounts named files at
//!    `evidence.NAME`.
//!
//! A reader for another format plugs in as a [`Format`] variant and an arm in
//! [`Format::parse`]; nothing above this module changes.

mod error;
mod junit;
pub(crate) mod source;
pub(crate) mod stream;
pub(crate) mod tree;
mod yaml;

pub use crate::report::{Evidence, EvidenceText};
pub use error::EvidenceError;
pub use source::{read, read_limited, Source};
pub use stream::STREAM_FROM;

use crate::eval::projection::{self, Projection};
use crate::eval::{LoadLimits, Value};
use crate::limits::Limits;
use std::rc::Rc;

/// How much of the evidence to build.
#[derive(Clone, Copy, Debug)]
pub enum Load<'a> {
    /// Everything in the file.
    Full,
    /// What the rules read or their explanations show
    /// ([`projection::parse_projected`]).
    Explain(&'a Projection),
    /// Only what the rules read: enough to decide, not to explain
    /// ([`projection::parse_for_decision`]).
    Decide(&'a Projection),
}

impl<'a> Load<'a> {
    /// The same kind of load narrowed to `projection`.
    fn with(self, projection: &'a Projection) -> Load<'a> {
        match self {
            Load::Full => Load::Full,
            Load::Explain(_) => Load::Explain(projection),
            Load::Decide(_) => Load::Decide(projection),
        }
    }

    fn projection(self) -> Option<&'a Projection> {
        match self {
            Load::Full => None,
            Load::Explain(p) | Load::Decide(p) => Some(p),
        }
    }
}

/// The formats evidence can be written in, chosen by the file's extension
/// (TRUST.md section 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON (RFC 8259): any name that no other format claims, and standard input.
    Json,
    /// YAML 1.2, core schema (`.yaml`, `.yml`).
    Yaml,
    /// A JUnit XML test report (`.xml`), read into the normalised report shape.
    Junit,
}

impl Format {
    /// The format of a file named `name`.
    pub fn of(name: &str) -> Format {
        let extension = std::path::Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("yaml" | "yml") => Format::Yaml,
            Some("xml") => Format::Junit,
            _ => Format::Json,
        }
    }

    /// How diagnostics name the format.
    pub fn label(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Junit => "JUnit XML",
        }
    }

    /// Parses `text` (from the file `name`) into evidence.
    pub fn parse(
        self,
        name: &str,
        text: &std::sync::Arc<String>,
        limits: &Limits,
        load: Load<'_>,
    ) -> Result<Value, EvidenceError> {
        match self {
            Format::Json => {
                load_json(text, limits, load, None).map_err(|e| EvidenceError::json(name, text, &e))
            }
            Format::Yaml => {
                let value = yaml::parse(text, limits)
                    .map_err(|e| EvidenceError::at(self, name, text, e.offset, e.message))?;
                Ok(match load {
                    Load::Full => value,
                    Load::Explain(p) => tree::prune(value, p, false),
                    Load::Decide(p) => tree::prune(value, p, true),
                })
            }
            Format::Junit => junit::parse(text, limits, load)
                .map_err(|e| EvidenceError::at(self, name, text, e.offset, e.message)),
        }
    }

    /// Where each value of a YAML or JUnit file is (JSON is located by
    /// scanning its text, see [`crate::report::locate`]).
    pub(crate) fn positions(self, text: &str) -> Option<tree::Pos> {
        match self {
            Format::Json => None,
            Format::Yaml => yaml::positions(text),
            Format::Junit => junit::positions(text),
        }
    }
}

/// A JSON load of `text` as `load` asks, noting its landmarks when given
/// where (see [`crate::eval::json::Landmarks`]).
fn load_json(
    text: &str,
    limits: &Limits,
    load: Load<'_>,
    landmarks: Option<&mut crate::eval::json::Landmarks>,
) -> Result<Value, crate::eval::value::LoadError> {
    let bounds = bounds(limits);
    match load {
        Load::Full => crate::eval::value::parse_json_noting(text, bounds, landmarks),
        Load::Explain(p) => projection::parse_with(text, bounds, p, false, landmarks),
        Load::Decide(p) => projection::parse_with(text, bounds, p, true, landmarks),
    }
}

/// Parses one file of evidence read by [`read`].
pub fn parse_file(
    file: &EvidenceText,
    limits: &Limits,
    load: Load<'_>,
) -> Result<Value, EvidenceError> {
    let format = Format::of(&file.name);
    if format != Format::Json {
        return format.parse(&file.name, file.settle()?, limits, load);
    }
    // The load notes where the file's large values are, so a report that
    // cites one of them does not scan the text up to it (`report::locate`).
    let mut landmarks = crate::eval::json::Landmarks::default();
    if let Some(deferred) = file.streaming() {
        if let Some(value) = deferred.load(bounds(limits), shape(load), &mut landmarks)? {
            file.note(landmarks);
            return Ok(value);
        }
        // Left to the whole read, which says what is wrong.
        landmarks = Default::default();
    }
    let text = file.settle()?;
    let value = load_json(text, limits, load, Some(&mut landmarks))
        .map_err(|e| EvidenceError::json(&file.name, text, &e))?;
    file.note(landmarks);
    Ok(value)
}

fn bounds(limits: &Limits) -> LoadLimits {
    LoadLimits {
        max_depth: limits.evidence_depth,
        max_string: limits.string_bytes,
    }
}

/// What the fast JSON reader builds for `load`.
fn shape(load: Load<'_>) -> crate::eval::json::Shape<'_> {
    crate::eval::json::Shape::of(load.projection(), matches!(load, Load::Decide(_)))
}

/// Parses the files read by [`read`] into one bundle, mounting named files
/// at `evidence.NAME`.
pub fn assemble(
    evidence: &Evidence,
    limits: &Limits,
    load: Load<'_>,
) -> Result<Value, EvidenceError> {
    let mut root: Option<Value> = None;
    let mut mounts: Vec<(String, Value)> = Vec::new();
    let empty = Projection::default();
    for file in &evidence.files {
        let mount = file.mount.as_deref();
        // A mounted file is `evidence.NAME`: its projection is that field's.
        let part = match (load.projection(), mount) {
            (Some(p), Some(m)) if !p.whole => Some(p.fields.get(m).unwrap_or(&empty)),
            (Some(p), _) => Some(p),
            (None, _) => None,
        };
        let value = parse_file(file, limits, part.map_or(load, |p| load.with(p)))?;
        match mount {
            Some(name) => {
                if mounts.iter().any(|(n, _)| n == name) {
                    return Err(EvidenceError::input(format!(
                        "evidence mount `{name}` is given twice"
                    )));
                }
                mounts.push((name.to_string(), value));
            }
            None => {
                if root.is_some() {
                    return Err(EvidenceError::input(
                        "more than one evidence file without a name; mount the others with `--evidence NAME=FILE`",
                    ));
                }
                root = Some(value);
            }
        }
    }
    if mounts.is_empty() {
        return root.ok_or_else(|| {
            EvidenceError::input(
                "no evidence given: pass `--evidence FILE` (or `-` for standard input)",
            )
        });
    }
    let mut map = match root {
        None => crate::eval::value::Object::default(),
        Some(Value::Object(m)) => m.to_object(),
        Some(other) => {
            return Err(EvidenceError::input(format!(
                "cannot mount evidence into a bundle whose top level is a {}, not an object",
                other.type_name()
            )))
        }
    };
    for (name, value) in mounts {
        if map.contains_key(name.as_str()) {
            return Err(EvidenceError::input(format!(
                "evidence mount `{name}` collides with the field `{name}` of the main bundle"
            )));
        }
        map.insert(Rc::from(name.as_str()), value);
    }
    Ok(Value::Object(map.into()))
}

/// Reads and loads `sources` in full: for callers that need the whole bundle
/// (`graph`, embedders); decisions go through [`crate::decide`].
pub fn load(sources: &[Source], limits: &Limits) -> Result<(Value, Evidence), EvidenceError> {
    let evidence = read(sources, limits)?;
    let bundle = assemble(&evidence, limits, Load::Full)?;
    Ok((bundle, evidence))
}
