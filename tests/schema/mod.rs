//! Validators for crowsnest's findings against the official OCSF and ECS schemas, offline:
//! the compiled definitions the checks need are vendored next to this file
//! (`ocsf-<version>.json`, `ecs-<version>.json`, made by `generate.py`; see `README.md`).
//!
//! Both validators take a `serde_json::Value` document and return located [`Issue`]s: a
//! JSON pointer into the document, what is wrong, and what the schema says.
//!
//! Each test binary uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod ecs;
pub mod ocsf;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of a validator about one place in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    /// The class of problem, e.g. `attribute_required_missing` (named after the OCSF
    /// server's validation messages where one exists).
    pub kind: &'static str,
    /// JSON pointer (RFC 6901) to the value, or to where the missing one belongs.
    pub path: String,
    /// What is wrong, in the document's terms.
    pub message: String,
    /// What the schema says.
    pub schema: String,
}

impl Issue {
    pub fn error(kind: &'static str, path: &str, message: String, schema: String) -> Issue {
        Issue {
            severity: Severity::Error,
            kind,
            path: path.to_string(),
            message,
            schema,
        }
    }

    pub fn warning(kind: &'static str, path: &str, message: String, schema: String) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(kind, path, message, schema)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The class and the place with array indices folded, so the same mistake in every
    /// element of every document counts as one: `attribute_required_missing
    /// /evidences/*/container/image/uid`.
    pub fn class(&self) -> String {
        let path: Vec<&str> = self
            .path
            .split('/')
            .map(|segment| {
                if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    segment
                }
            })
            .collect();
        format!("{} {}", self.kind, path.join("/"))
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(
            f,
            "{severity}[{}] {path}: {} (schema: {})",
            self.kind, self.message, self.schema
        )
    }
}

/// `parent` + `/key`, with `~` and `/` escaped as RFC 6901 says.
pub fn pointer(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

pub fn pointer_index(parent: &str, index: usize) -> String {
    format!("{parent}/{index}")
}

/// The JSON type of a value, for "expected X, got Y" messages.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value shortened for a message.
pub fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{head}...")
    } else {
        text
    }
}

/// How many warning classes a report lists (recommended attributes left out are many).
const WARNING_CLASSES_SHOWN: usize = 12;

/// Issues of many documents, grouped by [`Issue::class`], most frequent first, each
/// group with the documents (by label, e.g. `file:line`) it occurred in.
#[derive(Default)]
pub struct Tally {
    pub documents: usize,
    pub documents_with_errors: usize,
    groups: BTreeMap<String, Group>,
}

#[derive(Default)]
struct Group {
    severity: Option<Severity>,
    count: usize,
    examples: Vec<(String, Issue)>,
}

impl Tally {
    pub fn add(&mut self, label: &str, issues: &[Issue]) {
        self.documents += 1;
        if issues.iter().any(Issue::is_error) {
            self.documents_with_errors += 1;
        }
        for issue in issues {
            let group = self.groups.entry(issue.class()).or_default();
            group.severity = Some(issue.severity);
            group.count += 1;
            // One record often raises several findings with the same mistake: the
            // examples are of different records.
            if group.examples.len() < 3 && group.examples.iter().all(|(l, _)| l != label) {
                group.examples.push((label.to_string(), issue.clone()));
            }
        }
    }

    pub fn errors(&self) -> usize {
        self.groups
            .values()
            .filter(|g| g.severity == Some(Severity::Error))
            .map(|g| g.count)
            .sum()
    }

    /// Error classes with their counts, most frequent first, then the first warning
    /// classes; then the first examples of each error class.
    pub fn report(&self, title: &str) -> String {
        let mut out = format!(
            "{title}: {} documents, {} with at least one error, {} errors\n",
            self.documents,
            self.documents_with_errors,
            self.errors()
        );
        let mut sorted: Vec<(&String, &Group)> = self.groups.iter().collect();
        sorted.sort_by(|a, b| {
            (a.1.severity, std::cmp::Reverse(a.1.count), a.0).cmp(&(
                b.1.severity,
                std::cmp::Reverse(b.1.count),
                b.0,
            ))
        });
        let (errors, mut warnings): (Vec<_>, Vec<_>) = sorted
            .iter()
            .partition(|(_, g)| g.severity == Some(Severity::Error));
        // Warnings other than recommended attributes left out first, then those nearest
        // the top of the document.
        warnings.sort_by_key(|(class, group)| {
            (
                class.starts_with("attribute_recommended_missing "),
                class.matches('/').count(),
                std::cmp::Reverse(group.count),
            )
        });
        for (class, group) in &errors {
            out.push_str(&format!("  {:>6}  error    {class}\n", group.count));
        }
        let total: usize = warnings.iter().map(|(_, g)| g.count).sum();
        if !warnings.is_empty() {
            out.push_str(&format!(
                "  warnings: {total} in {} classes; the first:\n",
                warnings.len()
            ));
        }
        for (class, group) in warnings.iter().take(WARNING_CLASSES_SHOWN) {
            out.push_str(&format!("  {:>6}  warning  {class}\n", group.count));
        }
        if !errors.is_empty() {
            out.push_str("examples:\n");
        }
        for (_, group) in errors {
            for (label, issue) in &group.examples {
                out.push_str(&format!("  {label}: {issue}\n"));
            }
        }
        out
    }
}
