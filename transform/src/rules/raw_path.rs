//! Read one dotted path (`objectRef.resource`) out of a record's original JSON text
//! without building a DOM.
//!
//! Rules written against a source's raw shape (the SigmaHQ Kubernetes audit rules read
//! `verb`, `objectRef.resource`, `requestURI`) fall back to this when the field is not
//! part of the normalized model. The walk deserializes only along the path and skips
//! every other value with `IgnoredAny`, so a miss costs one tokenizer pass and a hit
//! allocates only the value it returns. Arrays fan out: `spec.containers.image` yields
//! every container's image, matching Sigma's any-element semantics.

use std::borrow::Cow;
use std::fmt;

use rsigma_eval::EventValue;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Deeper values than this are not returned (they are still skipped safely).
const MAX_VALUE_DEPTH: usize = 32;

/// Look up `path` in `raw`. `None` when absent (or when `raw` is not valid JSON).
pub(crate) fn lookup<'r>(raw: &'r str, path: &str) -> Option<EventValue<'r>> {
    if raw.is_empty() || path.is_empty() {
        return None;
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut de = serde_json::Deserializer::from_str(raw);
    let mut out = Vec::new();
    PathSeed {
        segments: &segments,
        out: &mut out,
    }
    .deserialize(&mut de)
    .ok()?;
    match out.len() {
        0 => None,
        1 => out.pop(),
        _ => Some(EventValue::Array(out)),
    }
}

/// Follows the remaining `segments`; pushes every value found at the end.
struct PathSeed<'s, 'o, 'r> {
    segments: &'s [&'s str],
    out: &'o mut Vec<EventValue<'r>>,
}

impl<'de: 'r, 'r> DeserializeSeed<'de> for PathSeed<'_, '_, 'r> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        if self.segments.is_empty() {
            let value = de.deserialize_any(ValueVisitor { depth: 0 })?;
            self.out.push(value);
            Ok(())
        } else {
            de.deserialize_any(self)
        }
    }
}

impl<'de: 'r, 'r> Visitor<'de> for PathSeed<'_, '_, 'r> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (head, rest) = (self.segments[0], &self.segments[1..]);
        let mut found = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if !found && key == head {
                found = true;
                map.next_value_seed(PathSeed {
                    segments: rest,
                    out: &mut *self.out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // An array on the way: apply the same remaining path to every element.
        while seq
            .next_element_seed(PathSeed {
                segments: self.segments,
                out: &mut *self.out,
            })?
            .is_some()
        {}
        Ok(())
    }

    // Scalars where an object was expected: the path is absent.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Materializes the value at the end of the path, borrowing strings where possible.
struct ValueVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = EventValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(EventValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(EventValue::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(EventValue::Float(v as f64), EventValue::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(EventValue::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(EventValue::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(EventValue::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(EventValue::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(EventValue::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(EventValue::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        if self.depth >= MAX_VALUE_DEPTH {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(EventValue::Array(items));
        }
        while let Some(v) = seq.next_element_seed(ValueSeed {
            depth: self.depth + 1,
        })? {
            items.push(v);
        }
        Ok(EventValue::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        if self.depth >= MAX_VALUE_DEPTH {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(EventValue::Map(entries));
        }
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value = map.next_value_seed(ValueSeed {
                depth: self.depth + 1,
            })?;
            entries.push((key, value));
        }
        Ok(EventValue::Map(entries))
    }
}

struct ValueSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = EventValue<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(ValueVisitor { depth: self.depth })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIT: &str = r#"{"verb":"create","objectRef":{"resource":"pods","namespace":"kube-system"},
        "responseStatus":{"code":201},"sourceIPs":["10.0.0.1","192.0.2.7"],
        "requestObject":{"spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"x\"y"}]}},
        "annotations":{"k":null}}"#;

    #[test]
    fn nested_scalar_values() {
        assert_eq!(
            lookup(AUDIT, "verb"),
            Some(EventValue::Str("create".into()))
        );
        assert_eq!(
            lookup(AUDIT, "objectRef.namespace"),
            Some(EventValue::Str("kube-system".into()))
        );
        assert_eq!(
            lookup(AUDIT, "responseStatus.code"),
            Some(EventValue::Int(201))
        );
        assert_eq!(lookup(AUDIT, "annotations.k"), Some(EventValue::Null));
    }

    #[test]
    fn arrays_fan_out_and_escapes_are_decoded() {
        assert_eq!(
            lookup(AUDIT, "requestObject.spec.containers.image"),
            Some(EventValue::Array(vec![
                EventValue::Str("nginx".into()),
                EventValue::Str("x\"y".into())
            ]))
        );
        assert_eq!(
            lookup(AUDIT, "sourceIPs"),
            Some(EventValue::Array(vec![
                EventValue::Str("10.0.0.1".into()),
                EventValue::Str("192.0.2.7".into())
            ]))
        );
    }

    #[test]
    fn absent_paths_and_bad_input_are_none() {
        assert_eq!(lookup(AUDIT, "objectRef.name"), None);
        assert_eq!(lookup(AUDIT, "verb.deeper"), None);
        assert_eq!(lookup(AUDIT, "nothing"), None);
        assert_eq!(lookup("{\"verb\": ", "verb"), None);
        assert_eq!(lookup("", "verb"), None);
    }
}
