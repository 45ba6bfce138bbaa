//! Elastic Common Schema conformance of a document, against the field definitions of
//! `ecs-<version>.json` (from elastic/ecs `generated/ecs/ecs_flat.yml`).
//!
//! Every field is an ECS field or under a declared custom namespace; values have the
//! field's Elasticsearch type; fields ECS normalizes to arrays are arrays and the others
//! are not; field sets are objects, never arrays of objects (only `nested` fields hold
//! those); `allowed_values` hold (with `event.type` among the types its `event.category`
//! expects); ECS's required fields, and any the caller requires, are present.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Issue, excerpt, json_type, pointer, pointer_index};

pub const VERSION: &str = "9.4.0";
const VENDORED: &str = include_str!("ecs-9.4.0.json");

/// What a producer adds to ECS: its own top-level namespaces, and the fields it promises
/// beyond ECS's required ones.
pub struct Options<'a> {
    /// Custom field namespaces (`crowsnest` allows `crowsnest` and `crowsnest.*`).
    pub custom: &'a [&'a str],
    /// Dotted names of fields every document must have.
    pub required: &'a [&'a str],
}

pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = Schema::from_json(VENDORED)
            .unwrap_or_else(|e| panic!("tests/schema/ecs-{VERSION}.json: {e}"));
        assert_eq!(schema.version, VERSION);
        schema
    })
}

pub fn validate(doc: &Value, options: &Options<'_>) -> Vec<Issue> {
    schema().validate(doc, options)
}

#[derive(Deserialize)]
pub struct Schema {
    pub version: String,
    fields: HashMap<String, Field>,
    /// Every proper prefix of a field name: the field sets and their objects.
    #[serde(skip)]
    prefixes: HashSet<String>,
    #[serde(skip)]
    patterns: HashMap<String, Regex>,
}

#[derive(Deserialize)]
struct Field {
    #[serde(rename = "type")]
    data_type: String,
    #[serde(default)]
    array: bool,
    #[serde(default)]
    required: bool,
    /// Allowed value → the `event.type` values it expects (for `event.category`).
    allowed: Option<BTreeMap<String, Vec<String>>>,
    expected: Option<Vec<String>>,
    pattern: Option<String>,
}

impl Schema {
    pub fn from_json(text: &str) -> Result<Schema, String> {
        let mut schema: Schema = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (name, field) in &schema.fields {
            let mut end = 0;
            while let Some(dot) = name[end..].find('.') {
                end += dot;
                schema.prefixes.insert(name[..end].to_string());
                end += 1;
            }
            if let Some(p) = &field.pattern {
                let regex = Regex::new(p).map_err(|e| format!("{name}: pattern: {e}"))?;
                schema.patterns.insert(name.clone(), regex);
            }
        }
        Ok(schema)
    }

    pub fn validate(&self, doc: &Value, options: &Options<'_>) -> Vec<Issue> {
        let mut run = Run {
            schema: self,
            options,
            present: BTreeSet::new(),
            values: HashMap::new(),
            issues: Vec::new(),
        };
        for custom in options.custom {
            if self.fields.contains_key(*custom) || self.prefixes.contains(*custom) {
                run.issues.push(Issue::error(
                    "custom_namespace_collides",
                    "",
                    format!("custom namespace {custom} is an ECS name"),
                    format!(
                        "ECS {} defines {custom}; custom fields go under their own name",
                        self.version
                    ),
                ));
            }
        }
        match doc {
            Value::Object(map) => run.object(map, "", ""),
            other => run.issues.push(Issue::error(
                "document_not_object",
                "",
                format!("the document is a JSON {}", json_type(other)),
                "an ECS document is a JSON object".into(),
            )),
        }
        run.finish();
        run.issues
    }
}

struct Run<'a> {
    schema: &'a Schema,
    options: &'a Options<'a>,
    /// Dotted names of the fields the document has.
    present: BTreeSet<String>,
    /// Values of the fields checked after the walk (`event.category` with `event.type`,
    /// `ecs.version`), with their pointers.
    values: HashMap<&'static str, Vec<(String, String)>>,
    issues: Vec<Issue>,
}

impl Run<'_> {
    fn custom(&self, name: &str) -> bool {
        self.options.custom.iter().any(|c| {
            name == *c || (name.starts_with(c) && name.as_bytes().get(c.len()) == Some(&b'.'))
        })
    }

    fn object(&mut self, map: &Map<String, Value>, prefix: &str, at: &str) {
        for (key, value) in map {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            self.member(value, &name, &pointer(at, key));
        }
    }

    /// The fields of each object of an array, under the same names.
    fn objects(&mut self, elements: &[Value], prefix: &str, at: &str) {
        for (i, element) in elements.iter().enumerate() {
            if let Value::Object(map) = element {
                self.object(map, prefix, &pointer_index(at, i));
            }
        }
    }

    fn member(&mut self, value: &Value, name: &str, at: &str) {
        if value.is_null() || self.custom(name) {
            return; // Elasticsearch indexes nothing for null; custom fields are the producer's
        }
        let version = &self.schema.version;
        if let Some(field) = self.schema.fields.get(name) {
            self.present.insert(name.to_string());
            match field.data_type.as_str() {
                "object" | "flattened" => {
                    let ok = match value {
                        Value::Object(_) => true,
                        Value::Array(a) if field.array => a.iter().all(Value::is_object),
                        _ => false,
                    };
                    if !ok {
                        self.issues.push(Issue::error(
                            "field_wrong_type",
                            at,
                            format!("{name} is a {}: {}", json_type(value), excerpt(value)),
                            format!("{name} is an {} field", field.data_type),
                        ));
                    }
                }
                "nested" => match value {
                    Value::Object(map) => self.object(map, name, at),
                    Value::Array(elements) if elements.iter().all(Value::is_object) => {
                        self.objects(elements, name, at);
                    }
                    _ => self.issues.push(Issue::error(
                        "field_wrong_type",
                        at,
                        format!("{name} is a {}: {}", json_type(value), excerpt(value)),
                        format!("{name} is a nested field: an object or an array of objects"),
                    )),
                },
                _ => self.leaf(field, value, name, at),
            }
        } else if self.schema.prefixes.contains(name) {
            match value {
                Value::Object(map) => self.object(map, name, at),
                Value::Array(elements)
                    if !elements.is_empty() && elements.iter().all(Value::is_object) =>
                {
                    let leaves: Vec<String> = self.children(name);
                    self.issues.push(Issue::error(
                        "array_of_objects",
                        at,
                        format!("{name} is an array of {} objects", elements.len()),
                        format!(
                            "{name} is a field set, not a nested field: one object whose fields are arrays ({})",
                            leaves.join(", ")
                        ),
                    ));
                    self.objects(elements, name, at);
                }
                other => self.issues.push(Issue::error(
                    "field_set_not_object",
                    at,
                    format!("{name} is a {}: {}", json_type(other), excerpt(other)),
                    format!("{name} is a field set (an object) in ECS {version}"),
                )),
            }
        } else {
            self.issues.push(Issue::error(
                "field_unknown",
                at,
                format!("{name} is not an ECS field"),
                format!(
                    "ECS {version} has no {name}, and it is not under a custom namespace ({})",
                    self.options.custom.join(", ")
                ),
            ));
        }
    }

    /// The leaf fields directly under a field set, for messages.
    fn children(&self, prefix: &str) -> Vec<String> {
        let start = format!("{prefix}.");
        let mut out: Vec<String> = self
            .schema
            .fields
            .iter()
            .filter(|(n, f)| {
                n.starts_with(&start) && !n[start.len()..].contains('.') && f.data_type != "object"
            })
            .map(|(n, f)| if f.array { format!("{n}[]") } else { n.clone() })
            .collect();
        out.sort();
        out
    }

    fn leaf(&mut self, field: &Field, value: &Value, name: &str, at: &str) {
        match value {
            Value::Array(elements) => {
                if !field.array {
                    self.issues.push(Issue::error(
                        "array_not_expected",
                        at,
                        format!("{name} is an array: {}", excerpt(value)),
                        format!(
                            "{name} holds one {} (ECS does not normalize it to an array)",
                            field.data_type
                        ),
                    ));
                }
                for (i, element) in elements.iter().enumerate() {
                    self.scalar(field, element, name, &pointer_index(at, i));
                }
            }
            _ => {
                if field.array {
                    self.issues.push(Issue::warning(
                        "array_expected",
                        at,
                        format!(
                            "{name} is a single {}: {}",
                            json_type(value),
                            excerpt(value)
                        ),
                        format!("ECS normalizes {name} to an array: [{}]", excerpt(value)),
                    ));
                }
                self.scalar(field, value, name, at);
            }
        }
    }

    fn scalar(&mut self, field: &Field, value: &Value, name: &str, at: &str) {
        let t = field.data_type.as_str();
        let ok = match t {
            "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" | "binary" => {
                value.is_string()
            }
            "long" => value.is_i64(),
            "integer" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "short" => value.as_i64().is_some_and(|n| i16::try_from(n).is_ok()),
            "byte" => value.as_i64().is_some_and(|n| i8::try_from(n).is_ok()),
            "unsigned_long" => value.is_u64(),
            "float" | "half_float" | "scaled_float" | "double" => value.is_number(),
            "boolean" => value.is_boolean(),
            "date" => value.is_i64() || value.as_str().is_some_and(is_date),
            "ip" => value.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
            "geo_point" => value.is_object() || value.is_string() || value.is_array(),
            other => {
                self.issues.push(Issue::error(
                    "schema_type_unknown",
                    at,
                    format!("{name} has the type {other}, which this validator does not know"),
                    "an Elasticsearch field type".into(),
                ));
                return;
            }
        };
        if !ok {
            let wanted = match t {
                "date" => {
                    "a date: an ISO 8601 string (strict_date_optional_time) or epoch milliseconds"
                }
                "ip" => "an IPv4 or IPv6 address string",
                "long" | "integer" | "short" | "byte" | "unsigned_long" => {
                    "an integer in the type's range"
                }
                "float" | "half_float" | "scaled_float" | "double" => "a number",
                "boolean" => "true or false",
                _ => "a string",
            };
            self.issues.push(Issue::error(
                "field_wrong_type",
                at,
                format!("{name} is a {}: {}", json_type(value), excerpt(value)),
                format!("{name} is a {t}: {wanted}"),
            ));
            return;
        }
        let Some(text) = value.as_str() else { return };
        if let Some(allowed) = field.allowed.as_ref().filter(|a| !a.contains_key(text)) {
            let list: Vec<&str> = allowed.keys().map(String::as_str).collect();
            self.issues.push(Issue::error(
                "value_not_allowed",
                at,
                format!("{name} is {text:?}"),
                format!("{name} allows {}", list.join(", ")),
            ));
        }
        if let Some(expected) = field
            .expected
            .as_ref()
            .filter(|e| !e.iter().any(|v| v == text))
        {
            self.issues.push(Issue::warning(
                "value_not_expected",
                at,
                format!("{name} is {text:?}"),
                format!("ECS expects one of {}", expected.join(", ")),
            ));
        }
        if let Some(regex) = self.schema.patterns.get(name).filter(|r| !r.is_match(text)) {
            self.issues.push(Issue::error(
                "value_pattern_not_matched",
                at,
                format!("{name} is {text:?}"),
                format!("{name} matches /{}/", regex.as_str()),
            ));
        }
        for paired in ["event.category", "event.type", "ecs.version"] {
            if name == paired {
                self.values
                    .entry(paired)
                    .or_default()
                    .push((at.to_string(), text.to_string()));
            }
        }
    }

    fn finish(&mut self) {
        let version = self.schema.version.clone();
        let mut required: Vec<String> = self
            .schema
            .fields
            .iter()
            .filter(|(_, f)| f.required)
            .map(|(n, _)| n.clone())
            .collect();
        required.extend(self.options.required.iter().map(|s| s.to_string()));
        required.sort();
        required.dedup();
        for name in required {
            if !self.present.contains(&name) {
                let by = if self.schema.fields.get(&name).is_some_and(|f| f.required) {
                    format!("ECS {version} requires {name}")
                } else {
                    format!("{name} is required of these documents")
                };
                let at: String = name.split('.').map(|s| format!("/{s}")).collect();
                self.issues.push(Issue::error(
                    "field_required_missing",
                    &at,
                    format!("{name} is missing"),
                    by,
                ));
            }
        }
        for (at, claimed) in self.values.remove("ecs.version").unwrap_or_default() {
            if claimed != version {
                self.issues.push(Issue::error(
                    "ecs_version_mismatch",
                    &at,
                    format!("the document claims ECS {claimed}"),
                    format!("validated against the vendored ECS {version} (tests/schema/generate.py makes others)"),
                ));
            }
        }
        self.pairing();
    }

    /// Each `event.type` is one the document's `event.category` values expect.
    fn pairing(&mut self) {
        let categories = self.values.remove("event.category").unwrap_or_default();
        let types = self.values.remove("event.type").unwrap_or_default();
        let Some(allowed) = self
            .schema
            .fields
            .get("event.category")
            .and_then(|f| f.allowed.as_ref())
        else {
            return;
        };
        if categories.is_empty() {
            return;
        }
        for (at, t) in types {
            let fits = categories
                .iter()
                .any(|(_, c)| allowed.get(c).is_some_and(|expected| expected.contains(&t)));
            if !fits {
                let expected: Vec<String> = categories
                    .iter()
                    .filter_map(|(_, c)| allowed.get(c).map(|e| format!("{c}: {}", e.join(", "))))
                    .collect();
                self.issues.push(Issue::error(
                    "event_type_not_expected",
                    &at,
                    format!(
                        "event.type {t:?} does not go with event.category {:?}",
                        categories
                            .iter()
                            .map(|(_, c)| c.as_str())
                            .collect::<Vec<_>>()
                    ),
                    format!("expected event.type per category: {}", expected.join("; ")),
                ));
            }
        }
    }
}

/// Elasticsearch's `strict_date_optional_time`: a date, optionally with a time and zone.
fn is_date(text: &str) -> bool {
    static DATE: OnceLock<Regex> = OnceLock::new();
    let re = DATE.get_or_init(|| {
        Regex::new(
            r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$",
        )
        .expect("date regex")
    });
    let Some(c) = re.captures(text) else {
        return false;
    };
    let n = |i: usize| c.get(i).map(|m| m.as_str().parse::<u32>().unwrap_or(99));
    matches!(n(2), Some(1..=12))
        && matches!(n(3), Some(1..=31))
        && n(4).is_none_or(|h| h < 24)
        && n(5).is_none_or(|m| m < 60)
        && n(6).is_none_or(|s| s < 60)
}
