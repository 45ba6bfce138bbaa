//! The engine's public surface: what goes into a [`crate::Detector`] and what comes out.
//!
//! These types mirror the WIT contract (`wit/crowsnest.wit`) one to one, so the
//! component export and any host convert field by field and every build of the engine
//! (component, Fluent Bit module, native library) returns the same values.

use serde::{Deserialize, Serialize};

use crate::model::{Action, Source};
pub use crate::model::{AlertFormat, Severity};

/// A located problem with a record or a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine-readable code: `decode.syntax`, `decode.shape`, `rule.parse`, ...
    pub code: String,
    pub message: String,
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
}

impl std::fmt::Display for Diagnostic {
    /// `file:line:column: severity[code]: message`, the shape editors and CI parse.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.file,
            self.line,
            self.column,
            self.severity.as_str(),
            self.code,
            self.message
        )
    }
}

/// Where a batch came from. Line `i` of the batch (0-based) is line `lines[i]` of `file`, or
/// `first_line + i` when `lines` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOrigin {
    pub file: String,
    pub first_line: u32,
    pub lines: Vec<u32>,
}

impl BatchOrigin {
    pub fn line_of(&self, index: usize) -> u32 {
        match self.lines.get(index) {
            Some(line) => *line,
            None => self
                .first_line
                .saturating_add(u32::try_from(index).unwrap_or(u32::MAX)),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Index of the record in its batch that completed the finding.
    pub record_index: u32,
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    pub analytic: Option<String>,
    pub techniques: Vec<String>,
    pub time_ns: Option<i64>,
    #[serde(with = "source_name")]
    pub source: Source,
    #[serde(with = "action_name")]
    pub action: Action,
    pub principal: Option<String>,
    pub namespace: Option<String>,
    pub containers: Vec<String>,
    pub image: Option<String>,
    pub summary: String,
    /// The alert rendered in the configured [`AlertFormat`].
    pub document: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordOutcome {
    /// `None` when the record was reported as a diagnostic instead of decoded.
    pub source: Option<Source>,
    /// The normalized event as a JSON object when enrichment was asked for: an array of
    /// them for a record that holds several events (a CloudTrail `Records` file), none
    /// for a line whose event is still incomplete (an auditd record awaiting the rest).
    pub enrichment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchResult {
    /// One per input record, in order.
    pub outcomes: Vec<RecordOutcome>,
    pub alerts: Vec<Alert>,
    pub diagnostics: Vec<Diagnostic>,
}

/// One file of a rule pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Relative to the pack root; shown in diagnostics.
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackInfo {
    pub rules: u32,
    pub correlations: u32,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub alert_format: AlertFormat,
    pub enrichment: bool,
    pub max_record_bytes: u32,
    pub force_source: Option<Source>,
    /// The VPC flow log format (`${version} ${account-id} ...`), for logs delivered
    /// without their header line; `None` means the default v2 format.
    pub vpc_flow_format: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alert_format: AlertFormat::Ocsf,
            enrichment: false,
            max_record_bytes: 1 << 20,
            force_source: None,
            vpc_flow_format: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub records: u64,
    pub decoded: u64,
    pub diagnostics: u64,
    pub alerts: u64,
    /// Alerts dropped by a policy exception or an infrastructure entry.
    pub alerts_suppressed: u64,
    /// Alerts quieted per infrastructure entry (policy `infrastructure`), by entry name.
    pub alerts_quieted: Vec<(String, u64)>,
    pub per_source: Vec<(Source, u64)>,
    pub containers_tracked: u64,
    pub state_evictions: u64,
    /// Approximate bytes the container table holds.
    pub state_bytes: u64,
    /// Open correlation windows (one per correlation and group-by value).
    pub correlation_groups: u64,
    /// Correlation windows evicted because the state reached its bound
    /// (policy `thresholds.correlation_max_groups`).
    pub correlation_evictions: u64,
}

mod source_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::model::Source;

    pub fn serialize<S: Serializer>(source: &Source, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(source.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Source, D::Error> {
        let name = <&str>::deserialize(d)?;
        Source::from_name(name).ok_or_else(|| D::Error::custom(format!("unknown source {name}")))
    }
}

mod action_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::model::Action;

    pub fn serialize<S: Serializer>(action: &Action, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(action.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
        let name = <&str>::deserialize(d)?;
        Action::from_name(name).ok_or_else(|| D::Error::custom(format!("unknown action {name}")))
    }
}
