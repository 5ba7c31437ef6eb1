//! Reading evidence bundles: files, stdin, and `NAME=FILE` mounts.

use super::{plain_error, split_assignment, NoDecision};
use crate::eval::{parse_json, LoadLimits, Value};
use crate::report::Style;
use miette::{Diagnostic, NamedSource, SourceSpan};
use std::io::Read;
use std::rc::Rc;

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("invalid evidence JSON in `{file}`: {message}")]
#[diagnostic(code(clearance::evidence::invalid_json))]
struct InvalidJson {
    file: String,
    message: String,
    #[label("{message}")]
    span: SourceSpan,
    #[source_code]
    source_code: NamedSource<String>,
}

use crate::eval::projection::Projection;
use crate::report::{Evidence, EvidenceText};

fn read_all(path: &str, max_bytes: u64) -> Result<String, NoDecision> {
    let bytes = if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(max_bytes + 1)
            .read_to_end(&mut buf)
            .map_err(|e| plain_error(format!("cannot read evidence from standard input: {e}")))?;
        buf
    } else {
        let meta = std::fs::metadata(path)
            .map_err(|e| plain_error(format!("cannot read evidence `{path}`: {e}")))?;
        if meta.is_dir() {
            return Err(plain_error(format!(
                "cannot read evidence `{path}`: it is a directory, not a file"
            )));
        }
        if meta.len() > max_bytes {
            return Err(plain_error(format!(
                "evidence `{path}` is {} bytes, over the limit of {max_bytes} bytes (raise it with `--max-evidence-bytes`)",
                meta.len()
            )));
        }
        std::fs::read(path)
            .map_err(|e| plain_error(format!("cannot read evidence `{path}`: {e}")))?
    };
    if bytes.len() as u64 > max_bytes {
        return Err(plain_error(format!(
            "evidence `{}` is over the limit of {max_bytes} bytes (raise it with `--max-evidence-bytes`)",
            display_name(path)
        )));
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        plain_error(format!(
            "evidence `{}` is not valid UTF-8 (invalid byte at offset {})",
            display_name(path),
            e.utf8_error().valid_up_to()
        ))
    })
}

fn display_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// Byte offset of a 1-based line and column as serde_json reports them.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return (offset + col_bytes).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

fn parse(
    name: &str,
    text: &str,
    style: Style,
    limits: &crate::limits::Limits,
    projection: Option<&Projection>,
    for_decision: bool,
) -> Result<Value, NoDecision> {
    let load = LoadLimits {
        max_depth: limits.evidence_depth,
        max_string: limits.string_bytes,
    };
    match projection {
        Some(p) if for_decision => crate::eval::projection::parse_for_decision(text, load, p),
        Some(p) => crate::eval::projection::parse_projected(text, load, p),
        None => parse_json(text, load),
    }
    .map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the label shows the place.
        let message = match message.rfind(" at line ") {
            Some(i) => message.get(..i).unwrap_or(&message).to_string(),
            None => message,
        };
        let at = offset_of(text, e.line(), e.column());
        let at = at.min(text.len());
        let len = text
            .get(at..)
            .and_then(|s| s.chars().next())
            .map(char::len_utf8)
            .unwrap_or(0);
        if !crate::report::fits_snippet(text, at) {
            return NoDecision(format!(
                "error: invalid evidence JSON in `{}`: {message}\n  at {}:{}:{}\n",
                name,
                name,
                e.line(),
                e.column()
            ));
        }
        let diag = InvalidJson {
            file: name.to_string(),
            message,
            span: (at, len).into(),
            source_code: NamedSource::new(name, text.to_string()),
        };
        let mut out = String::new();
        if crate::report::handler(style)
            .render_report(&mut out, &diag)
            .is_err()
        {
            out = format!("error: {diag}\n");
        }
        NoDecision(out)
    })
}

/// Builds the evidence bundle from `--evidence` arguments.
/// Loads the bundle; with a projection, only what the rules can read is built.
pub fn load(
    args: &[String],
    style: Style,
    limits: &crate::limits::Limits,
    projection: Option<&Projection>,
) -> Result<(Value, Evidence), NoDecision> {
    let evidence = read(args, limits)?;
    let bundle = assemble(&evidence, style, limits, projection, false)?;
    Ok((bundle, evidence))
}

/// Reads the `--evidence` files (each at most once; `-` is standard input).
pub fn read(args: &[String], limits: &crate::limits::Limits) -> Result<Evidence, NoDecision> {
    let mut files = Vec::new();
    let mut stdin_used = false;
    for arg in args {
        let (mount, path) = match split_assignment(arg) {
            Some((name, path)) if !std::path::Path::new(arg).exists() => (Some(name), path),
            _ => (None, arg.as_str()),
        };
        if path == "-" {
            if stdin_used {
                return Err(plain_error("standard input (`-`) can be read only once"));
            }
            stdin_used = true;
        }
        let name = display_name(path).to_string();
        let text = read_all(path, limits.evidence_bytes)?;
        files.push(EvidenceText {
            mount: mount.map(str::to_string),
            name,
            text: std::sync::Arc::new(text),
        });
    }
    Ok(Evidence { files })
}

/// Parses the files read by [`read`] into one bundle, mounting named files
/// at `evidence.NAME`. `for_decision` leaves out the fields no rule reads
/// (see [`crate::eval::projection::parse_for_decision`]).
pub fn assemble(
    evidence: &Evidence,
    style: Style,
    limits: &crate::limits::Limits,
    projection: Option<&Projection>,
    for_decision: bool,
) -> Result<Value, NoDecision> {
    let mut root: Option<Value> = None;
    let mut mounts: Vec<(String, Value)> = Vec::new();
    for file in &evidence.files {
        let mount = file.mount.as_deref();
        // A mounted file is `evidence.NAME`: its projection is that field's.
        let part = match (projection, mount) {
            (Some(p), Some(m)) if !p.whole => Some(p.fields.get(m).cloned().unwrap_or_default()),
            (Some(p), _) => Some(p.clone()),
            (None, _) => None,
        };
        let value = parse(
            &file.name,
            &file.text,
            style,
            limits,
            part.as_ref(),
            for_decision,
        )?;
        match mount {
            Some(name) => {
                if mounts.iter().any(|(n, _)| n == name) {
                    return Err(plain_error(format!(
                        "evidence mount `{name}` is given twice"
                    )));
                }
                mounts.push((name.to_string(), value));
            }
            None => {
                if root.is_some() {
                    return Err(plain_error(
                        "more than one evidence file without a name; mount the others with `--evidence NAME=FILE`",
                    ));
                }
                root = Some(value);
            }
        }
    }
    if mounts.is_empty() {
        return root.ok_or_else(|| {
            plain_error("no evidence given: pass `--evidence FILE` (or `-` for standard input)")
        });
    }
    let mut map = match root {
        None => crate::eval::value::Object::default(),
        Some(Value::Object(m)) => m.as_ref().clone(),
        Some(other) => {
            return Err(plain_error(format!(
                "cannot mount evidence into a bundle whose top level is a {}, not an object",
                other.type_name()
            )))
        }
    };
    for (name, value) in mounts {
        if map.contains_key(name.as_str()) {
            return Err(plain_error(format!(
                "evidence mount `{name}` collides with the field `{name}` of the main bundle"
            )));
        }
        map.insert(Rc::from(name.as_str()), value);
    }
    Ok(Value::Object(Rc::new(map)))
}
