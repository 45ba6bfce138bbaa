//! What a rule match says about itself: made by the rules stage from the rule's
//! metadata, read by emit when it renders the alert.

/// One rule that matched, read from its metadata.
pub(crate) struct RuleHit {
    pub rule_id: String,
    pub title: String,
    pub level: String,
    pub analytic: Option<String>,
    /// ATT&CK technique ids, `T1610`.
    pub techniques: Vec<String>,
    /// ATT&CK tactic names as tagged, `privilege_escalation`.
    pub tactics: Vec<String>,
    pub description: Option<String>,
    /// For a correlation: the normalized events that made it, oldest first (when the
    /// correlation keeps them: `rsigma.correlation_event_mode: full`).
    pub chain: Vec<serde_json::Value>,
    /// Engine index of the detection rule (none for correlations); only the rules stage
    /// reads it, to find which containers the rule matched on.
    pub(crate) rule_index: Option<usize>,
}
