//! MITRE ATT&CK names for the ids rules tag, so alerts read without a lookup.

/// Enterprise tactics: Sigma tag name, id, display name.
const TACTICS: &[(&str, &str, &str)] = &[
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resource_development", "TA0042", "Resource Development"),
    ("initial_access", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilege_escalation", "TA0004", "Privilege Escalation"),
    ("defense_evasion", "TA0005", "Defense Evasion"),
    ("credential_access", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateral_movement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("command_and_control", "TA0011", "Command and Control"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("impact", "TA0040", "Impact"),
];

/// The techniques the container analytics use (ATT&CK v17 names).
const TECHNIQUES: &[(&str, &str)] = &[
    ("T1053", "Scheduled Task/Job"),
    ("T1053.007", "Container Orchestration Job"),
    ("T1204", "User Execution"),
    ("T1204.003", "Malicious Image"),
    ("T1543", "Create or Modify System Process"),
    ("T1543.005", "Container Service"),
    ("T1609", "Container Administration Command"),
    ("T1610", "Deploy Container"),
    ("T1611", "Escape to Host"),
    ("T1612", "Build Image on Host"),
    ("T1613", "Container and Resource Discovery"),
    ("T1552.007", "Container API"),
    ("T1078", "Valid Accounts"),
];

/// `(id, name)` of a tactic by its Sigma tag name (`privilege_escalation`).
pub(crate) fn tactic(tag: &str) -> Option<(&'static str, &'static str)> {
    // SigmaHQ moved from `privilege_escalation` to `privilege-escalation`; accept both.
    let tag = tag.replace('-', "_");
    TACTICS
        .iter()
        .find(|(t, _, _)| *t == tag)
        .map(|(_, id, name)| (*id, *name))
}

pub(crate) fn technique_name(id: &str) -> Option<&'static str> {
    TECHNIQUES
        .iter()
        .find(|(t, _)| *t == id)
        .map(|(_, name)| *name)
}
