//! What the YAML and JUnit readers share: where each value of the shape they
//! build is in the file ([`Pos`]), and narrowing a value they built to what
//! the rules read ([`prune`]), the way the projected JSON load does while
//! parsing.

use crate::eval::projection::Projection;
use crate::eval::Value;

/// Where one value is in its file (a byte span), and where its children are.
#[derive(Debug, Clone)]
pub(crate) struct Pos {
    pub start: usize,
    pub end: usize,
    pub kids: Kids,
}

#[derive(Debug, Clone)]
pub(crate) enum Kids {
    /// A scalar, or a value whose children have no place of their own.
    Leaf,
    /// A YAML alias: everything under it is shown at the alias, where the
    /// file uses the value (the anchored node may be far away).
    Alias,
    Map(Vec<(String, Pos)>),
    Seq(Vec<Pos>),
}

impl Pos {
    pub(crate) fn leaf(start: usize, end: usize) -> Pos {
        Pos {
            start,
            end,
            kids: Kids::Leaf,
        }
    }

    /// The span of the value at `pointer` (RFC 6901), relative to this one.
    pub(crate) fn at(&self, pointer: &str) -> Option<(usize, usize)> {
        let mut node = self;
        if !pointer.is_empty() {
            for raw in pointer.strip_prefix('/')?.split('/') {
                let token = raw.replace("~1", "/").replace("~0", "~");
                node = match &node.kids {
                    Kids::Alias => return Some((node.start, node.end)),
                    Kids::Leaf => return None,
                    Kids::Map(members) => {
                        members.iter().find(|(k, _)| *k == token).map(|(_, p)| p)?
                    }
                    Kids::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
                };
            }
        }
        Some((node.start, node.end))
    }
}

/// `value` narrowed to `projection`, as the projected JSON load builds it: a
/// field no rule reads is `null` (or left out, with `drop_unread`), a list
/// not read element by element keeps its length with `null` elements, and a
/// list read as an object is kept whole so the rule's type error shows it.
pub(crate) fn prune(value: Value, projection: &Projection, drop_unread: bool) -> Value {
    if projection.whole {
        return value;
    }
    match value {
        Value::Object(object) => {
            let mut out = crate::eval::value::object_with_capacity(object.len());
            for (key, v) in object.iter() {
                match projection
                    .fields
                    .get(key.as_ref())
                    .or(projection.items.as_deref())
                {
                    Some(p) => {
                        out.insert(key.clone(), prune(v.clone(), p, drop_unread));
                    }
                    None if drop_unread => {}
                    None => {
                        out.insert(key.clone(), Value::Null);
                    }
                }
            }
            Value::Object(out.into())
        }
        Value::List(items) if projection.fields.is_empty() => match &projection.items {
            Some(p) => Value::list(
                items
                    .iter()
                    .map(|v| prune(v.clone(), p, drop_unread))
                    .collect(),
            ),
            None => Value::nulls(items.len()),
        },
        other => other,
    }
}

/// The value at `pointer` (RFC 6901) in `value`.
pub(crate) fn at_pointer(value: &Value, pointer: &str) -> Option<Value> {
    let mut node = value;
    if !pointer.is_empty() {
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            node = match node {
                Value::Object(o) => o.get(&token)?,
                Value::List(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
    }
    Some(node.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        crate::eval::parse_json(text, Default::default()).expect("test JSON")
    }

    /// Pruning a full value gives what the projected JSON load gives for the
    /// same projection, with and without the unread fields.
    #[test]
    fn prune_agrees_with_the_projected_json_load() {
        let text = r#"{"a": {"b": 1, "c": [1, 2]}, "d": [{"e": 1, "f": 2}], "g": "x", "h": [1]}"#;
        let mut p = Projection::default();
        let a = p.fields.entry("a".into()).or_default();
        a.fields.entry("b".into()).or_default().whole = true;
        let d = p.fields.entry("d".into()).or_default();
        let mut item = Projection::default();
        item.fields.entry("f".into()).or_default().whole = true;
        d.items = Some(Box::new(item));
        p.fields.entry("h".into()).or_default();
        for drop_unread in [false, true] {
            let parsed = if drop_unread {
                crate::eval::projection::parse_for_decision(text, Default::default(), &p)
            } else {
                crate::eval::projection::parse_projected(text, Default::default(), &p)
            }
            .expect("test JSON");
            let pruned = prune(json(text), &p, drop_unread);
            assert_eq!(
                pruned.to_json(),
                parsed.to_json(),
                "drop_unread {drop_unread}"
            );
        }
    }

    #[test]
    fn pointers() {
        let v = json(r#"{"a": [10, {"b/c": 2}]}"#);
        assert_eq!(
            at_pointer(&v, "/a/1/b~1c").map(|v| v.to_json()),
            Some(json("2").to_json())
        );
        assert!(at_pointer(&v, "/a/2").is_none());
        assert!(at_pointer(&v, "").is_some());
    }
}
