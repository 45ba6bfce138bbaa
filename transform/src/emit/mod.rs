//! Alerts and enrichment out: OCSF Detection Finding 2004 (default) or ECS, and the
//! normalized event as JSON (written by `model::json`, keyed by the rules' field names).
//!
//! Alerts are rare next to records, so rendering builds `serde_json` values freely;
//! the per-record path never comes here unless enrichment was asked for.

pub mod attack;
mod ecs;
pub mod inline;
mod ocsf;

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::api::AlertFormat;
use crate::fnv::Fnv;
use crate::model::json;
use crate::model::{Container, Event, RuleHit, Source};

/// Everything a rendered alert says.
pub(crate) struct AlertInput<'x, 'a> {
    pub hit: &'x RuleHit,
    pub event: &'x Event<'a>,
    /// Indices into `event.containers` the rule matched on.
    pub containers: &'x [usize],
    pub summary: &'x str,
    pub file: &'x str,
    pub line: u32,
    /// The content hash of the pack that raised it (`pack::content_hash`).
    pub pack: &'x str,
}

impl AlertInput<'_, '_> {
    fn matched(&self) -> impl Iterator<Item = &Container<'_>> {
        self.containers
            .iter()
            .filter_map(|&i| self.event.containers.get(i))
    }

    /// A stable id: the same rule on the same record gives the same id, so a replayed
    /// or retried batch does not create new findings downstream.
    fn uid(&self) -> String {
        let mut h = Fnv::default();
        h.write(self.hit.rule_id.as_bytes());
        h.write(self.event.source.as_str().as_bytes());
        h.write(self.event.raw_action.as_bytes());
        if let Some(id) = &self.event.request_id {
            h.write(id.as_bytes());
        }
        h.write(&self.event.time_ns.unwrap_or(0).to_le_bytes());
        for c in self.matched() {
            for v in [&c.id, &c.name].into_iter().flatten() {
                h.write(v.as_bytes());
            }
        }
        h.hex()
    }
}

pub(crate) fn render(format: AlertFormat, alert: &AlertInput<'_, '_>) -> String {
    let value = match format {
        AlertFormat::Ocsf => ocsf::render(alert),
        AlertFormat::Ecs => ecs::render(alert),
    };
    value.to_string()
}

/// A rule's level as both formats grade it: OCSF's `severity_id` (ECS `event.severity`)
/// and a 0-100 risk score (ECS `event.risk_score`, Elastic's defaults per level).
pub(crate) struct Severity {
    pub id: u8,
    pub name: &'static str,
    pub risk_score: u8,
}

pub(crate) fn severity(level: &str) -> Severity {
    let (id, name, risk_score) = match level {
        "informational" => (1, "Informational", 1),
        "low" => (2, "Low", 21),
        "medium" => (3, "Medium", 47),
        "high" => (4, "High", 73),
        "critical" => (5, "Critical", 99),
        _ => (0, "Unknown", 47),
    };
    Severity {
        id,
        name,
        risk_score,
    }
}

/// One ATT&CK entry of a finding: a technique with one of its own tactics, a technique
/// with none (ATT&CK does not know it, or revoked it), or a tactic the rule tags that none
/// of its techniques is placed under.
pub(crate) struct AttackPair<'h> {
    /// The technique or sub-technique as the rule tags it, `T1543.005`.
    pub technique_id: Option<&'h str>,
    pub tactic: Option<attack::Tactic>,
}

impl AttackPair<'_> {
    /// The technique's id and what ATT&CK says of it: the parent of a sub-technique.
    pub fn technique(&self) -> Option<(&str, Option<attack::Technique>)> {
        let id = self.technique_id?;
        let parent = id.split_once('.').map_or(id, |(p, _)| p);
        Some((parent, attack::technique(parent)))
    }

    /// The sub-technique, when the rule tags one.
    pub fn sub_technique(&self) -> Option<(&str, Option<attack::Technique>)> {
        let id = self.technique_id.filter(|id| id.contains('.'))?;
        Some((id, attack::technique(id)))
    }
}

/// The rule's techniques, each paired with its own tactics from ATT&CK's matrix: those of
/// the rule's tactics ATT&CK places it under, or all of its own when the rule tags none of
/// them; then each tactic the rule tags that no technique was paired with. Both formats
/// read their ATT&CK fields from here.
pub(crate) fn attack_pairs(hit: &RuleHit) -> Vec<AttackPair<'_>> {
    pairs(&hit.techniques, &hit.tactics)
}

fn pairs<'h>(techniques: &'h [String], tactics: &[String]) -> Vec<AttackPair<'h>> {
    let tagged = attack::TacticSet::from_tags(tactics.iter().map(String::as_str));
    let mut paired = attack::TacticSet::default();
    let mut out = Vec::new();
    for id in techniques {
        let own = attack::technique(id).map(|t| t.tactics).unwrap_or_default();
        let chosen = match own.intersection(tagged) {
            both if both.is_empty() => own,
            both => both,
        };
        if chosen.is_empty() {
            out.push(AttackPair {
                technique_id: Some(id.as_str()),
                tactic: None,
            });
        }
        for tactic in chosen.iter() {
            paired.insert(&tactic);
            out.push(AttackPair {
                technique_id: Some(id.as_str()),
                tactic: Some(tactic),
            });
        }
    }
    for tactic in tagged.iter().filter(|t| !paired.contains(t)) {
        out.push(AttackPair {
            technique_id: None,
            tactic: Some(tactic),
        });
    }
    out
}

/// Whether the record is an API call: a request to the Kubernetes, cloud or Docker Engine
/// API (a Falco alert from its Kubernetes audit plugin is one; its syscall alerts, a
/// command line seen by auditd, an execve or a connection are not).
pub(crate) fn is_api_call(source: Source, raw_action: &str, has_request_id: bool) -> bool {
    match source {
        Source::K8sAudit
        | Source::AksAudit
        | Source::GkeAudit
        | Source::CloudTrail
        | Source::AzureActivity
        | Source::GcpAudit
        | Source::DockerAuthz => true,
        // dockerd's debug log names the requests it serves: `POST /containers/create`.
        Source::DockerDaemon => raw_action.contains(" /"),
        Source::Falco => has_request_id,
        _ => false,
    }
}

/// Whether the API call succeeded, as far as the record says.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    /// The record precedes the answer (a Docker authorization request, an Azure
    /// operation's Started record, a Kubernetes RequestReceived stage).
    Unknown,
}

/// The outcome of an API call (`None` for anything else).
pub(crate) fn outcome(e: &Event<'_>) -> Option<Outcome> {
    if !is_api_call(e.source, &e.raw_action, e.request_id.is_some()) {
        return None;
    }
    Some(match e.response_code {
        _ if e.error.is_some() => Outcome::Failure,
        Some(code) if code >= 400 => Outcome::Failure,
        Some(_) => Outcome::Success,
        // CloudTrail records a call once it is answered, with errorCode when it failed.
        None if e.source == Source::CloudTrail => Outcome::Success,
        None => Outcome::Unknown,
    })
}

/// How sure a finding is that what it describes took effect (OCSF `confidence_id`):
/// high when a sensor saw it or the API answered success, medium when the record
/// precedes the answer, low when the request failed or was refused (an attempt).
pub(crate) fn confidence(e: &Event<'_>) -> (u8, &'static str) {
    match outcome(e) {
        None | Some(Outcome::Success) => (3, "High"),
        Some(Outcome::Unknown) => (2, "Medium"),
        Some(Outcome::Failure) => (1, "Low"),
    }
}

/// The container orchestrator the record comes from: Kubernetes (its API, its events,
/// GKE's cluster API, or a node sensor that names the pod) or Amazon ECS. Azure Container
/// Instances and Cloud Run run containers without one the user sees.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Orchestrator {
    Kubernetes,
    AmazonEcs,
}

impl Orchestrator {
    /// ECS `orchestrator.type`.
    pub fn ecs_type(self) -> &'static str {
        match self {
            Self::Kubernetes => "kubernetes",
            Self::AmazonEcs => "ecs",
        }
    }

    /// OCSF `container.orchestrator` and the cluster resource's type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kubernetes => "Kubernetes",
            Self::AmazonEcs => "Amazon ECS",
        }
    }
}

pub(crate) fn orchestrator(e: &Event<'_>) -> Option<Orchestrator> {
    let placed = e.workload.is_some() || e.cluster.is_some();
    match e.source {
        Source::K8sAudit | Source::AksAudit | Source::GkeAudit | Source::K8sEvent => {
            Some(Orchestrator::Kubernetes)
        }
        Source::Falco | Source::Tetragon | Source::Auditd if placed => {
            Some(Orchestrator::Kubernetes)
        }
        // GKE's cluster API (`google.container.*`); Cloud Run has no cluster.
        Source::GcpAudit if e.cluster.is_some() => Some(Orchestrator::Kubernetes),
        Source::CloudTrail | Source::VpcFlow if placed => Some(Orchestrator::AmazonEcs),
        _ => None,
    }
}

/// The cloud a record's account and region belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Aws,
    Azure,
    Gcp,
}

impl Provider {
    /// OCSF `cloud.provider`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Azure => "Azure",
            Self::Gcp => "GCP",
        }
    }

    /// ECS `cloud.provider`.
    pub fn ecs_name(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Azure => "azure",
            Self::Gcp => "gcp",
        }
    }
}

/// The provider, when the record names an account or region and its source says whose.
pub(crate) fn cloud_provider(e: &Event<'_>) -> Option<Provider> {
    if e.account.is_none() && e.region.is_none() {
        return None;
    }
    match e.source {
        Source::CloudTrail | Source::VpcFlow | Source::Route53Resolver => Some(Provider::Aws),
        Source::AzureActivity | Source::AksAudit => Some(Provider::Azure),
        // Kubernetes Events carry a project only in GKE's Cloud Logging export.
        Source::GcpAudit | Source::GkeAudit | Source::K8sEvent => Some(Provider::Gcp),
        _ => None,
    }
}

/// The cloud service that ran the containers when no orchestrator did (ECS
/// `cloud.service.name`).
pub(crate) fn cloud_service(e: &Event<'_>) -> Option<&'static str> {
    match e.source {
        Source::AzureActivity => Some("Container Instances"),
        Source::GcpAudit if e.raw_action.starts_with("google.cloud.run.") => Some("Cloud Run"),
        _ => None,
    }
}

/// `text` when it is an IP address (both formats type the field as one).
pub(crate) fn ip(text: &str) -> Option<&str> {
    text.parse::<IpAddr>().is_ok().then_some(text)
}

/// Whether `text` is a DNS host name (labels of letters, digits and inner hyphens).
pub(crate) fn is_hostname(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn opt<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

/// The enrichment record: the normalized event plus where it came from (`model::json`
/// describes the format).
pub(crate) fn enrichment(e: &Event<'_>, file: &str, line: u32) -> String {
    json::event_text(e, Some((file, line)))
}

#[cfg(test)]
mod tests {
    use super::pairs;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// `(technique, tactic id)` of each pair.
    fn pairs_of(
        techniques: &[&str],
        tactics: &[&str],
    ) -> Vec<(Option<String>, Option<&'static str>)> {
        let techniques = strings(techniques);
        pairs(&techniques, &strings(tactics))
            .iter()
            .map(|p| (p.technique_id.map(str::to_string), p.tactic.map(|t| t.id)))
            .collect()
    }

    #[test]
    fn each_technique_goes_with_its_own_tactics_only() {
        // T1610 Deploy Container is Defense Evasion and Execution; T1611 Escape to Host is
        // Privilege Escalation: neither goes under the other's tactic.
        assert_eq!(
            pairs_of(&["T1610", "T1611"], &["execution", "privilege_escalation"]),
            vec![
                (Some("T1610".into()), Some("TA0002")),
                (Some("T1611".into()), Some("TA0004")),
            ]
        );
    }

    #[test]
    fn a_technique_whose_tactics_the_rule_does_not_tag_keeps_all_of_its_own() {
        assert_eq!(
            pairs_of(&["T1611"], &["execution"]),
            vec![
                (Some("T1611".into()), Some("TA0004")),
                (None, Some("TA0002")),
            ]
        );
    }

    #[test]
    fn a_sub_technique_uses_its_own_tactics_and_an_unknown_id_has_none() {
        assert_eq!(
            pairs_of(
                &["T1543.005", "T1999"],
                &["persistence", "privilege-escalation"]
            ),
            vec![
                (Some("T1543.005".into()), Some("TA0003")),
                (Some("T1543.005".into()), Some("TA0004")),
                (Some("T1999".into()), None),
            ]
        );
    }
}
