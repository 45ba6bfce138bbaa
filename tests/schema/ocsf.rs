//! OCSF event validation with the checks of the OCSF server's validator
//! (`ocsf/ocsf-server`, `lib/schema/validator2.ex`), against the compiled definitions in
//! `ocsf-<version>.json`. README.md maps each check to the server's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Issue, excerpt, json_type, pointer, pointer_index};

/// The vendored compiled schemas, oldest first.
const VENDORED: &[(&str, &str)] = &[
    ("1.3.0", include_str!("ocsf-1.3.0.json")),
    ("1.8.0", include_str!("ocsf-1.8.0.json")),
];

pub fn vendored_versions() -> Vec<&'static str> {
    VENDORED.iter().map(|(v, _)| *v).collect()
}

/// The vendored schema of `version`, parsed once.
pub fn schema(version: &str) -> Option<&'static Schema> {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        VENDORED
            .iter()
            .map(|(v, text)| {
                let schema = Schema::from_json(text)
                    .unwrap_or_else(|e| panic!("tests/schema/ocsf-{v}.json: {e}"));
                assert_eq!(schema.version, *v, "tests/schema/ocsf-{v}.json");
                schema
            })
            .collect()
    });
    all.iter().find(|s| s.version == version)
}

/// Validate `doc` against the vendored schema of the version it claims in
/// `metadata.version`; a version with no vendored schema is an error, and the document is
/// then checked against the newest vendored one.
pub fn validate(doc: &Value) -> Vec<Issue> {
    let claimed = doc
        .pointer("/metadata/version")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(schema) = schema(claimed) {
        return schema.validate(doc);
    }
    let newest = *vendored_versions().last().expect("a vendored schema");
    let mut issues = schema(newest).expect("newest schema").validate(doc);
    if !claimed.is_empty() {
        issues.insert(
            0,
            Issue::error(
                "version_not_vendored",
                "/metadata/version",
                format!(
                    "no vendored OCSF schema for version {claimed:?}; checked against {newest}"
                ),
                format!(
                    "vendored versions: {} (tests/schema/generate.py makes others)",
                    vendored_versions().join(", ")
                ),
            ),
        );
    }
    issues
}

#[derive(Debug, Deserialize)]
pub struct Schema {
    pub version: String,
    /// By class uid.
    classes: BTreeMap<String, Item>,
    objects: BTreeMap<String, Item>,
    types: BTreeMap<String, TypeDef>,
    profiles: BTreeMap<String, Profile>,
    #[serde(skip)]
    regexes: HashMap<String, Regex>,
}

#[derive(Debug, Deserialize)]
struct Item {
    caption: String,
    name: Option<String>,
    #[serde(default)]
    constraints: BTreeMap<String, Vec<String>>,
    deprecated: Option<Deprecated>,
    attributes: BTreeMap<String, Attribute>,
}

#[derive(Debug, Deserialize)]
struct Attribute {
    #[serde(rename = "type")]
    data_type: Option<String>,
    object: Option<String>,
    #[serde(default)]
    array: bool,
    #[serde(default)]
    requirement: Requirement,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(rename = "enum")]
    values: Option<BTreeMap<String, EnumValue>>,
    sibling: Option<String>,
    deprecated: Option<Deprecated>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Requirement {
    Required,
    Recommended,
    #[default]
    Optional,
}

#[derive(Debug, Deserialize)]
struct EnumValue {
    caption: String,
    deprecated: Option<Deprecated>,
}

#[derive(Debug, Deserialize)]
struct Deprecated {
    since: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct TypeDef {
    base: Option<String>,
    regex: Option<String>,
    range: Option<[f64; 2]>,
    max_len: Option<usize>,
    values: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    caption: String,
    attributes: Vec<String>,
}

/// Where an attribute map comes from, for messages.
#[derive(Clone, Copy)]
enum Owner<'a> {
    Class(&'a str, &'a Item),
    Object(&'a str, &'a Item),
}

impl<'a> Owner<'a> {
    fn item(&self) -> &'a Item {
        match self {
            Owner::Class(_, item) | Owner::Object(_, item) => item,
        }
    }

    fn describe(&self) -> String {
        match self {
            Owner::Class(uid, item) => format!("class {} ({uid})", item.caption),
            Owner::Object(name, item) => format!("object {} ({name})", item.caption),
        }
    }
}

struct Run<'a> {
    schema: &'a Schema,
    /// `metadata.profiles` of the document.
    profiles: BTreeSet<String>,
    issues: Vec<Issue>,
}

impl Schema {
    pub fn from_json(text: &str) -> Result<Schema, String> {
        let mut schema: Schema = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (name, t) in &schema.types {
            if let Some(pattern) = &t.regex {
                // The server matches with Erlang's PCRE on bytes, unanchored: the same here.
                let regex = RegexBuilder::new(pattern)
                    .unicode(false)
                    .build()
                    .map_err(|e| format!("type {name}: regex: {e}"))?;
                schema.regexes.insert(name.clone(), regex);
            }
        }
        for item in schema.classes.values().chain(schema.objects.values()) {
            for (attr, a) in &item.attributes {
                match (&a.data_type, &a.object) {
                    (Some(t), None) if schema.types.contains_key(t) => {}
                    (None, Some(o)) if schema.objects.contains_key(o) => {}
                    _ => return Err(format!("{}.{attr}: unknown type", item.caption)),
                }
            }
        }
        Ok(schema)
    }

    pub fn class_uids(&self) -> Vec<&str> {
        self.classes.keys().map(String::as_str).collect()
    }

    pub fn validate(&self, doc: &Value) -> Vec<Issue> {
        let mut run = Run {
            schema: self,
            profiles: BTreeSet::new(),
            issues: Vec::new(),
        };
        run.event(doc);
        run.issues
    }
}

impl<'a> Run<'a> {
    fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    fn event(&mut self, doc: &'a Value) {
        let Some(event) = doc.as_object() else {
            self.push(Issue::error(
                "event_not_object",
                "",
                format!("the event is a JSON {}", json_type(doc)),
                "an OCSF event is a JSON object".into(),
            ));
            return;
        };
        let Some((uid, class)) = self.class(event) else {
            return;
        };
        self.profiles(event);
        if let Some(d) = &class.deprecated {
            self.push(Issue::warning(
                "class_deprecated",
                "",
                format!("class {} ({uid}) is deprecated", class.caption),
                format!("deprecated since {}: {}", d.since, d.message),
            ));
        }
        let owner = Owner::Class(uid, class);
        self.attributes(event, "", owner);
        self.version(event);
        self.type_uid(event);
        self.constraints(event, "", owner);
        self.observables(event, class);
    }

    fn class(&mut self, event: &Map<String, Value>) -> Option<(&'a str, &'a Item)> {
        let known = format!(
            "classes in the vendored OCSF {}: {}",
            self.schema.version,
            self.schema.class_uids().join(", ")
        );
        match event.get("class_uid") {
            None | Some(Value::Null) => {
                self.push(Issue::error(
                    "attribute_required_missing",
                    "/class_uid",
                    "required attribute class_uid is missing; nothing else can be checked".into(),
                    "class_uid is required in every event".into(),
                ));
                None
            }
            Some(v) if v.as_i64().is_none() => {
                self.push(Issue::error(
                    "attribute_wrong_type",
                    "/class_uid",
                    format!("class_uid is a {}: {}", json_type(v), excerpt(v)),
                    "class_uid is an integer_t".into(),
                ));
                None
            }
            Some(v) => {
                let uid = v.as_i64().unwrap_or_default().to_string();
                match self.schema.classes.get_key_value(&uid) {
                    Some((uid, class)) => Some((uid.as_str(), class)),
                    None => {
                        self.push(Issue::error(
                            "class_uid_unknown",
                            "/class_uid",
                            format!("no class is defined for class_uid {uid}"),
                            known,
                        ));
                        None
                    }
                }
            }
        }
    }

    fn profiles(&mut self, event: &Map<String, Value>) {
        let Some(Value::Array(list)) = event.get("metadata").and_then(|m| m.get("profiles")) else {
            return; // missing, or the wrong type (the attribute check reports that)
        };
        for (i, p) in list.iter().enumerate() {
            let Some(name) = p.as_str() else { continue };
            if self.schema.profiles.contains_key(name) {
                self.profiles.insert(name.to_string());
            } else {
                let known: Vec<&str> = self.schema.profiles.keys().map(String::as_str).collect();
                self.push(Issue::error(
                    "profile_unknown",
                    &pointer_index("/metadata/profiles", i),
                    format!("no profile is defined for {name:?}"),
                    format!("profiles: {}", known.join(", ")),
                ));
            }
        }
    }

    /// Whether the document's profiles enable an attribute (one without profiles always is).
    fn enabled(&self, attribute: &Attribute) -> bool {
        attribute.profiles.is_empty()
            || attribute.profiles.iter().any(|p| self.profiles.contains(p))
    }

    fn attributes(&mut self, map: &'a Map<String, Value>, path: &str, owner: Owner<'a>) {
        let item = owner.item();
        for (name, attribute) in &item.attributes {
            if !self.enabled(attribute) {
                continue;
            }
            let at = pointer(path, name);
            match map.get(name) {
                None | Some(Value::Null) => self.requirement(&at, name, attribute, owner),
                Some(value) => {
                    if let Some(d) = &attribute.deprecated {
                        self.push(Issue::warning(
                            "attribute_deprecated",
                            &at,
                            format!("attribute {name} is deprecated"),
                            format!("deprecated since {}: {}", d.since, d.message),
                        ));
                    }
                    if attribute.array {
                        self.array(value, &at, name, attribute);
                    } else {
                        self.value(value, &at, name, attribute);
                    }
                }
            }
        }
        // An object with no attributes at all (`object`, used by `unmapped`) takes any.
        if !item.attributes.is_empty() {
            for key in map.keys() {
                match item.attributes.get(key) {
                    Some(a) if self.enabled(a) => {}
                    Some(a) => self.push(Issue::error(
                        "profile_not_declared",
                        &pointer(path, key),
                        format!(
                            "attribute {key} is added by the {} profile, which metadata.profiles does not declare",
                            a.profiles.join(" or ")
                        ),
                        format!(
                            "{} has {key} only with profile {}",
                            owner.describe(),
                            a.profiles.join(" or ")
                        ),
                    )),
                    None => self.push(Issue::error(
                        "attribute_unknown",
                        &pointer(path, key),
                        format!("attribute {key} is not defined"),
                        format!("{} defines: {}", owner.describe(), names(item)),
                    )),
                }
            }
        }
        self.enums(map, path, owner);
    }

    fn requirement(&mut self, at: &str, name: &str, attribute: &Attribute, owner: Owner<'_>) {
        match attribute.requirement {
            Requirement::Required => self.push(Issue::error(
                "attribute_required_missing",
                at,
                format!("required attribute {name} is missing"),
                format!("{} requires {name}", owner.describe()),
            )),
            Requirement::Recommended => self.push(Issue::warning(
                "attribute_recommended_missing",
                at,
                format!("recommended attribute {name} is missing"),
                format!("{} recommends {name}", owner.describe()),
            )),
            Requirement::Optional => {}
        }
    }

    fn array(&mut self, value: &'a Value, at: &str, name: &str, attribute: &'a Attribute) {
        let Value::Array(elements) = value else {
            self.push(Issue::error(
                "attribute_wrong_type",
                at,
                format!("{name} is a {}: {}", json_type(value), excerpt(value)),
                format!("{name} is an array of {}", type_name(attribute)),
            ));
            return;
        };
        for (i, element) in elements.iter().enumerate() {
            self.value(element, &pointer_index(at, i), name, attribute);
        }
    }

    fn value(&mut self, value: &'a Value, at: &str, name: &str, attribute: &'a Attribute) {
        if let Some(object_name) = &attribute.object {
            let object = &self.schema.objects[object_name];
            let Value::Object(map) = value else {
                self.push(Issue::error(
                    "attribute_wrong_type",
                    at,
                    format!("{name} is a {}: {}", json_type(value), excerpt(value)),
                    format!("{name} is a {} object ({object_name})", object.caption),
                ));
                return;
            };
            if let Some(d) = &object.deprecated {
                self.push(Issue::warning(
                    "object_deprecated",
                    at,
                    format!("object {} is deprecated", object.caption),
                    format!("deprecated since {}: {}", d.since, d.message),
                ));
            }
            let owner = Owner::Object(object_name, object);
            self.attributes(map, at, owner);
            self.constraints(map, at, owner);
            return;
        }
        let type_name = attribute.data_type.as_deref().unwrap_or_default();
        self.scalar(value, at, name, type_name);
    }

    /// A value of a dictionary type: its primitive JSON type, then the constraints of the
    /// type (or, when it has none, of its base type): values, range, max_len, regex.
    fn scalar(&mut self, value: &Value, at: &str, name: &str, type_name: &str) {
        let types = &self.schema.types;
        let t = &types[type_name];
        let base = t.base.as_deref();
        let primitive = base.unwrap_or(type_name);
        let ok = match primitive {
            "boolean_t" => value.is_boolean(),
            "float_t" => value.is_f64(),
            // integer_t: -2^63..2^63-1; long_t is wider in the schema, but JSON integers
            // past 64 bits do not reach here as integers either way.
            "integer_t" => value.is_i64(),
            "long_t" => value.is_i64() || value.is_u64(),
            "string_t" => value.is_string(),
            "json_t" => true,
            other => {
                self.push(Issue::error(
                    "schema_bug_primitive_type_unknown",
                    at,
                    format!("type {type_name} has the unknown primitive type {other}"),
                    "the vendored schema is inconsistent".into(),
                ));
                return;
            }
        };
        let described = match base {
            Some(b) => format!("{type_name} ({b})"),
            None => type_name.to_string(),
        };
        if !ok {
            self.push(Issue::error(
                "attribute_wrong_type",
                at,
                format!("{name} is a {}: {}", json_type(value), excerpt(value)),
                format!("{name} is a {described}"),
            ));
            return;
        }
        // The type's own constraint wins; a subtype without one inherits its base's.
        let constraint = |pick: &dyn Fn(&TypeDef) -> bool| -> Option<(&str, &TypeDef)> {
            if pick(t) {
                Some((type_name, t))
            } else {
                base.and_then(|b| types.get_key_value(b))
                    .filter(|(_, bt)| pick(bt))
                    .map(|(n, bt)| (n.as_str(), bt))
            }
        };
        if let Some((owner, def)) = constraint(&|d| d.values.is_some()) {
            let values = def.values.as_deref().unwrap_or_default();
            if !values.contains(value) {
                self.push(Issue::error(
                    "attribute_value_not_in_type_values",
                    at,
                    format!("{name} is {}", excerpt(value)),
                    format!("type {owner} allows {}", Value::from(values.to_vec())),
                ));
            }
        }
        if let Some((owner, def)) = constraint(&|d| d.range.is_some()) {
            let [low, high] = def.range.unwrap_or_default();
            let number = value.as_f64().unwrap_or_default();
            if number < low || number > high {
                self.push(Issue::error(
                    "attribute_value_exceeds_range",
                    at,
                    format!("{name} is {}", excerpt(value)),
                    format!("type {owner} ranges from {low} to {high}"),
                ));
            }
        }
        if let Some(text) = value.as_str() {
            if let Some((owner, def)) = constraint(&|d| d.max_len.is_some()) {
                let max = def.max_len.unwrap_or_default();
                let len = text.chars().count();
                if len > max {
                    self.push(Issue::error(
                        "attribute_value_exceeds_max_len",
                        at,
                        format!("{name} is {len} characters long"),
                        format!("type {owner} is at most {max} characters"),
                    ));
                }
            }
            if let Some((owner, def)) = constraint(&|d| d.regex.is_some()) {
                // The OCSF server reports this one as a warning; a timestamp, address or
                // UUID in the wrong format is as unusable to a consumer as a wrong type.
                if !self.schema.regexes[owner].is_match(text.as_bytes()) {
                    self.push(Issue::error(
                        "attribute_value_regex_not_matched",
                        at,
                        format!(
                            "{name} is {} and does not have the {owner} format",
                            excerpt(value)
                        ),
                        format!(
                            "type {owner} matches /{}/",
                            def.regex.as_deref().unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }

    fn enums(&mut self, map: &Map<String, Value>, path: &str, owner: Owner<'a>) {
        for (name, attribute) in &owner.item().attributes {
            let (Some(values), true) = (&attribute.values, self.enabled(attribute)) else {
                continue;
            };
            let Some(value) = map.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            let at = pointer(path, name);
            let allowed = || {
                let list: Vec<String> = values
                    .iter()
                    .map(|(k, v)| format!("{k} {}", v.caption))
                    .collect();
                format!("{name} of {}: {}", owner.describe(), list.join(", "))
            };
            if attribute.array {
                let Value::Array(elements) = value else {
                    continue;
                };
                for (i, element) in elements.iter().enumerate() {
                    let element_at = pointer_index(&at, i);
                    let kind = "attribute_enum_array_value_unknown";
                    if let Some(entry) =
                        self.enum_entry(&element_at, element, name, values, kind, &allowed)
                    {
                        self.array_sibling(map, path, name, attribute, i, element, entry);
                    }
                }
            } else if let Some(entry) = self.enum_entry(
                &at,
                value,
                name,
                values,
                "attribute_enum_value_unknown",
                &allowed,
            ) {
                self.sibling(map, path, name, attribute, value, entry);
            }
        }
    }

    /// The definition of an enum value: unknown is an error, deprecated a warning.
    fn enum_entry<'v>(
        &mut self,
        at: &str,
        value: &Value,
        name: &str,
        values: &'v BTreeMap<String, EnumValue>,
        unknown: &'static str,
        allowed: &dyn Fn() -> String,
    ) -> Option<&'v EnumValue> {
        let Some(entry) = enum_key(value).and_then(|k| values.get(&k)) else {
            self.push(Issue::error(
                unknown,
                at,
                format!("{} is not a value of {name}", excerpt(value)),
                allowed(),
            ));
            return None;
        };
        if let Some(d) = &entry.deprecated {
            self.push(Issue::warning(
                "attribute_enum_value_deprecated",
                at,
                format!("value {} ({}) is deprecated", excerpt(value), entry.caption),
                format!("deprecated since {}: {}", d.since, d.message),
            ));
        }
        Some(entry)
    }

    /// The caption sibling of an enum (`severity` of `severity_id`) should carry the
    /// value's caption; for 99 (Other) it carries the source's own label instead.
    fn sibling(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        name: &str,
        attribute: &Attribute,
        value: &Value,
        entry: &EnumValue,
    ) {
        let Some(sibling) = &attribute.sibling else {
            return;
        };
        let Some(sibling_value) = map.get(sibling) else {
            return;
        };
        let matches = sibling_value.as_str() == Some(entry.caption.as_str());
        let at = pointer(path, sibling);
        if value.as_i64() == Some(99) {
            if matches {
                self.push(Issue::warning(
                    "attribute_enum_sibling_suspicious_other",
                    &at,
                    format!("{sibling} is {:?} while {name} is 99", entry.caption),
                    format!(
                        "with {name} 99 ({}), {sibling} carries the source's own value",
                        entry.caption
                    ),
                ));
            }
        } else if !matches {
            self.push(Issue::warning(
                "attribute_enum_sibling_incorrect",
                &at,
                format!(
                    "{sibling} is {} while {name} is {}",
                    excerpt(sibling_value),
                    excerpt(value)
                ),
                format!("{sibling} is the caption of {name}: {:?}", entry.caption),
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn array_sibling(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        name: &str,
        attribute: &Attribute,
        index: usize,
        value: &Value,
        entry: &EnumValue,
    ) {
        if value.as_i64() == Some(99) {
            return;
        }
        let Some(sibling) = &attribute.sibling else {
            return;
        };
        let Some(sibling_values) = map.get(sibling) else {
            return;
        };
        let at = pointer_index(&pointer(path, sibling), index);
        match sibling_values.as_array().and_then(|a| a.get(index)) {
            None => self.push(Issue::error(
                "attribute_enum_array_sibling_missing",
                &at,
                format!(
                    "{sibling} has no element {index} for {name}[{index}] = {}",
                    excerpt(value)
                ),
                format!(
                    "{sibling}[{index}] is the caption of {name}[{index}]: {:?}",
                    entry.caption
                ),
            )),
            Some(s) if s.as_str() != Some(entry.caption.as_str()) => self.push(Issue::error(
                "attribute_enum_array_sibling_incorrect",
                &at,
                format!(
                    "{sibling}[{index}] is {} while {name}[{index}] is {}",
                    excerpt(s),
                    excerpt(value)
                ),
                format!(
                    "{sibling}[{index}] is the caption of {name}[{index}]: {:?}",
                    entry.caption
                ),
            )),
            Some(_) => {}
        }
    }

    fn constraints(&mut self, map: &Map<String, Value>, path: &str, owner: Owner<'_>) {
        for (kind, keys) in &owner.item().constraints {
            let present = keys.iter().filter(|k| map.contains_key(*k)).count();
            let (ok, wanted) = match kind.as_str() {
                "at_least_one" => (present >= 1, "at least one of"),
                "just_one" => (present == 1, "exactly one of"),
                other => {
                    self.push(Issue::error(
                        "constraint_unknown",
                        path,
                        format!(
                            "the schema has a constraint {other:?} this validator does not know"
                        ),
                        format!("{} constraint {other}", owner.describe()),
                    ));
                    continue;
                }
            };
            if !ok {
                self.push(Issue::error(
                    "constraint_failed",
                    path,
                    format!("{present} of {} present", keys.join(", ")),
                    format!(
                        "{} needs {wanted} {} ({kind})",
                        owner.describe(),
                        keys.join(", ")
                    ),
                ));
            }
        }
    }

    fn version(&mut self, event: &Map<String, Value>) {
        let Some(claimed) = event
            .get("metadata")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
        else {
            return; // missing or not a string: the attribute checks report it
        };
        let ours = &self.schema.version;
        let (Some(event_v), Some(schema_v)) = (parse_version(claimed), parse_version(ours)) else {
            self.push(Issue::error(
                "version_invalid",
                "/metadata/version",
                format!("{claimed:?} is not a semantic version"),
                format!("the schema is OCSF {ours}"),
            ));
            return;
        };
        let at = "/metadata/version";
        if event_v == schema_v {
        } else if event_v < schema_v {
            if event_v.major == 0 {
                self.push(Issue::error(
                    "version_incompatible_initial_development",
                    at,
                    format!("{claimed} is an initial development version"),
                    format!("validated against OCSF {ours}; 0.x versions have no compatibility guarantee"),
                ));
            } else if event_v.pre.is_some() {
                self.push(Issue::error(
                    "version_incompatible_prerelease",
                    at,
                    format!("{claimed} is a prerelease version"),
                    format!(
                        "validated against OCSF {ours}; prereleases are incompatible with releases"
                    ),
                ));
            } else {
                self.push(Issue::warning(
                    "version_earlier",
                    at,
                    format!("{claimed} is earlier than the schema"),
                    format!("validated against OCSF {ours}"),
                ));
            }
        } else {
            self.push(Issue::error(
                "version_incompatible_later",
                at,
                format!("{claimed} is later than the schema"),
                format!("validated against OCSF {ours}"),
            ));
        }
    }

    fn type_uid(&mut self, event: &Map<String, Value>) {
        let get = |k: &str| event.get(k).and_then(Value::as_i64);
        let (Some(class_uid), Some(activity_id), Some(type_uid)) =
            (get("class_uid"), get("activity_id"), get("type_uid"))
        else {
            return; // missing or mistyped: the attribute checks report it
        };
        let expected = class_uid * 100 + activity_id;
        if type_uid != expected {
            self.push(Issue::error(
                "type_uid_incorrect",
                "/type_uid",
                format!("type_uid is {type_uid}"),
                format!("type_uid = class_uid {class_uid} * 100 + activity_id {activity_id} = {expected}"),
            ));
        }
    }

    /// Each `observables[].name` is an attribute path (`resources[].uid`) of the class.
    fn observables(&mut self, event: &Map<String, Value>, class: &'a Item) {
        let Some(Value::Array(list)) = event.get("observables") else {
            return;
        };
        for (i, observable) in list.iter().enumerate() {
            let Some(name) = observable.get("name").and_then(Value::as_str) else {
                continue;
            };
            if !self.resolves(class, name) {
                self.push(Issue::error(
                    "observable_name_invalid_reference",
                    &pointer(&pointer_index("/observables", i), "name"),
                    format!("{name:?} is not an attribute path of the class"),
                    format!(
                        "observables[].name names an attribute of class {}",
                        class.caption
                    ),
                ));
            }
        }
    }

    fn resolves(&self, class: &Item, name: &str) -> bool {
        let mut item = class;
        let segments = split_observable_name(name);
        for (i, segment) in segments.iter().enumerate() {
            let (key, indexed) = match segment.find('[') {
                Some(at) if segment.ends_with(']') => (&segment[..at], true),
                _ => (segment.as_str(), false),
            };
            let Some(attribute) = item.attributes.get(key).filter(|a| self.enabled(a)) else {
                return false;
            };
            if i + 1 == segments.len() {
                return true;
            }
            if indexed && !attribute.array {
                return false;
            }
            match &attribute.object {
                Some(object) => item = &self.schema.objects[object],
                None => return false,
            }
        }
        false
    }
}

/// Dots outside brackets split: `resources[0].name` is `resources[0]`, `name`.
fn split_observable_name(name: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().expect("one segment").push(c);
    }
    out
}

/// The enum key of a value, as the server's `to_string` makes it.
fn enum_key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            Some(if f.fract() == 0.0 {
                format!("{f:.1}")
            } else {
                f.to_string()
            })
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn type_name(attribute: &Attribute) -> String {
    match (&attribute.object, &attribute.data_type) {
        (Some(object), _) => format!("{object} objects"),
        (None, Some(t)) => t.clone(),
        (None, None) => "?".into(),
    }
}

fn names(item: &Item) -> String {
    let list: Vec<&str> = item.attributes.keys().map(String::as_str).collect();
    list.join(", ")
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// A release sorts after its prereleases.
    release: bool,
    pre: Option<String>,
}

fn parse_version(text: &str) -> Option<Version> {
    let (core, pre) = match text.split_once('-') {
        Some((c, p)) => (c, Some(p.to_string())),
        None => (text, None),
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let version = Version {
        major: parts.next()??,
        minor: parts.next()??,
        patch: parts.next()??,
        release: pre.is_none(),
        pre,
    };
    parts.next().is_none().then_some(version)
}
