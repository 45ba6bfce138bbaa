//! MITRE ATT&CK® Enterprise: tactics, techniques and sub-techniques (revoked and
//! deprecated ones too), the analytics that detect them, data components and sources,
//! and the ids of groups, software and campaigns, so rule checks can validate tags and
//! findings can name techniques and pair each with its own tactics.
//!
//! The table is `transform/data/attack/enterprise.tsv`, generated from MITRE's
//! published data; its README gives the source, the ATT&CK version, the regeneration
//! command and MITRE's license. It is embedded as text and read in place: its lines are
//! sorted by their first field, so a lookup is a binary search over the bytes, with
//! nothing parsed at start-up and nothing on the heap.

use std::fmt;

use crate::suggest::distance;

/// The generated table. Its header carries MITRE's copyright designation and license,
/// which every copy must reproduce, so it is embedded whole.
static TABLE: &str = include_str!("../../data/attack/enterprise.tsv");

/// The line whose first field is `key`.
fn line(key: &str) -> Option<&'static str> {
    line_at(key).map(|start| TABLE[start..].lines().next().unwrap_or(""))
}

/// Where the line whose first field is `key` starts.
fn line_at(key: &str) -> Option<usize> {
    let bytes = TABLE.as_bytes();
    // `lo` and `hi` are always the start of a line (or the end of the table).
    let (mut lo, mut hi) = (0, bytes.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = bytes[lo..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let end = bytes[start..hi]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(hi, |i| start + i);
        let text = &TABLE[start..end];
        let first = text.split('\t').next().unwrap_or(text);
        match first.cmp(key) {
            std::cmp::Ordering::Equal => return Some(start),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

/// The `n`th tab-separated field of a table line; the generator drops empty trailing
/// fields, so a missing one is empty.
fn field(line: &'static str, n: usize) -> &'static str {
    line.split('\t').nth(n).unwrap_or("")
}

/// Every line that is not a comment.
fn records() -> impl Iterator<Item = &'static str> {
    TABLE.lines().filter(|l| !l.starts_with('#'))
}

/// The ATT&CK version the table was generated from (`18.1`), as OCSF's `attack.version`
/// wants it.
pub fn version() -> &'static str {
    line("version").map_or("", |l| field(l, 1))
}

/// Whether ATT&CK still stands behind an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Current,
    /// Withdrawn without a replacement.
    Deprecated,
    /// Replaced: `by` is the current id to use instead (chains already followed).
    Revoked {
        by: &'static str,
    },
}

impl Status {
    fn parse(text: &'static str) -> Option<Self> {
        match text {
            "" => Some(Self::Current),
            "deprecated" => Some(Self::Deprecated),
            _ => text.strip_prefix("revoked:").map(|by| Self::Revoked { by }),
        }
    }
}

/// An Enterprise tactic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tactic {
    /// `TA0004`.
    pub id: &'static str,
    /// ATT&CK's short name, `privilege-escalation`: SigmaHQ's tag spelling. Lookups also
    /// take the older Sigma spelling with underscores.
    pub shortname: &'static str,
    /// `Privilege Escalation`.
    pub name: &'static str,
    /// Its column in ATT&CK's Enterprise matrix, from 0.
    column: u8,
}

impl Tactic {
    fn parse(line: &'static str) -> Option<Self> {
        Some(Self {
            id: field(line, 0),
            shortname: field(line, 1),
            name: field(line, 2),
            // A column past 31 would not fit a `TacticSet`.
            column: field(line, 3).parse().ok().filter(|c| *c < 32)?,
        })
    }
}

/// The tactics' lines, a block of the table that starts at TA0001, the lowest id.
fn tactic_lines() -> impl Iterator<Item = Tactic> {
    let start = line_at("TA0001").unwrap_or(TABLE.len());
    TABLE[start..]
        .lines()
        .take_while(|l| l.starts_with("TA"))
        .filter_map(Tactic::parse)
}

impl Tactic {
    /// Its page on attack.mitre.org.
    pub fn url(&self) -> String {
        format!("https://attack.mitre.org/tactics/{}/", self.id)
    }
}

/// Every Enterprise tactic, in the order of ATT&CK's matrix.
pub fn tactics() -> impl Iterator<Item = Tactic> {
    TacticSet(u32::MAX).iter()
}

/// Compare a tactic short name with a tag's spelling: either separator, any case.
fn same_shortname(shortname: &str, tag: &str) -> bool {
    shortname.len() == tag.len()
        && shortname
            .bytes()
            .zip(tag.bytes())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b) || (a == b'-' && b == b'_'))
}

/// A tactic by its Sigma tag name: `privilege-escalation` or `privilege_escalation`.
pub fn tactic_by_shortname(name: &str) -> Option<Tactic> {
    tactic_lines().find(|t| same_shortname(t.shortname, name))
}

/// A tactic by its id, `TA0004` (any case).
pub fn tactic_by_id(id: &str) -> Option<Tactic> {
    tactic_lines().find(|t| t.id.eq_ignore_ascii_case(id))
}

/// `(id, name)` of a tactic by its Sigma tag name (`privilege_escalation`).
pub fn tactic(tag: &str) -> Option<(&'static str, &'static str)> {
    tactic_by_shortname(tag).map(|t| (t.id, t.name))
}

/// A set of tactics; iterates in matrix order.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct TacticSet(u32);

impl TacticSet {
    /// The tactics a rule's tags name (other tags are ignored).
    pub fn from_tags<'t>(tags: impl IntoIterator<Item = &'t str>) -> Self {
        let mut set = Self::default();
        for tag in tags {
            let name = tag.strip_prefix("attack.").unwrap_or(tag);
            if let Some(t) = tactic_by_shortname(name) {
                set.insert(&t);
            }
        }
        set
    }

    pub fn insert(&mut self, tactic: &Tactic) {
        self.0 |= 1 << tactic.column;
    }

    pub fn contains(self, tactic: &Tactic) -> bool {
        self.0 & (1 << tactic.column) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The tactics in both sets.
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Tactic> {
        (0..32u8)
            .filter(move |c| self.0 & (1 << c) != 0)
            .map_while(|c| tactic_lines().find(|t| t.column == c))
    }
}

impl fmt::Debug for TacticSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|t| t.shortname))
            .finish()
    }
}

/// An Enterprise technique or sub-technique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Technique {
    /// `T1543.005`.
    pub id: &'static str,
    /// `Container Service`.
    pub name: &'static str,
    /// The tactics ATT&CK's matrix places it under (none once revoked).
    pub tactics: TacticSet,
    /// A sub-technique's technique: `T1543` for `T1543.005`.
    pub parent: Option<&'static str>,
    pub status: Status,
    /// `AN0612-0615,AN0620`: the ATT&CK analytics that detect it.
    analytics: &'static str,
}

impl Technique {
    fn parse(line: &'static str) -> Option<Self> {
        let id = field(line, 0);
        let mut tactics = TacticSet::default();
        for code in field(line, 3).split(',').filter(|c| !c.is_empty()) {
            // The table writes TA0004 as `04`.
            let tactic = tactic_lines().find(|t| t.id.strip_prefix("TA00") == Some(code))?;
            tactics.insert(&tactic);
        }
        Some(Self {
            id,
            name: field(line, 1),
            tactics,
            parent: id.split_once('.').map(|(parent, _)| parent),
            status: Status::parse(field(line, 2))?,
            analytics: field(line, 4),
        })
    }

    /// Its page on attack.mitre.org (a sub-technique's is under its technique's:
    /// `techniques/T1543/005/`).
    pub fn url(&self) -> String {
        format!(
            "https://attack.mitre.org/techniques/{}/",
            self.id.replace('.', "/")
        )
    }

    /// Whether the ATT&CK analytic numbered `number` (`AN0693`: 693) detects it.
    pub fn detected_by(&self, number: u16) -> bool {
        in_ranges(self.analytics, "AN", number)
    }
}

fn is_technique_id(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(1..5),
        9 => b[0] == b'T' && digits(1..5) && b[5] == b'.' && digits(6..9),
        _ => false,
    }
}

/// A technique or sub-technique by id, `T1611` or `T1543.005` (upper case, as ATT&CK
/// writes them), whatever its status.
pub fn technique(id: &str) -> Option<Technique> {
    if !is_technique_id(id) {
        return None;
    }
    line(id).and_then(Technique::parse)
}

pub fn technique_name(id: &str) -> Option<&'static str> {
    technique(id).map(|t| t.name)
}

/// A data component (`DC0077`, ATT&CK v18's detection building blocks) or data source
/// (`DS0032`, deprecated since v18), named as an analytic group might name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataObject {
    pub id: &'static str,
    pub name: &'static str,
    pub status: Status,
}

/// `DC0077` (Container Start) or `DS0032` (Container).
pub fn data_object(id: &str) -> Option<DataObject> {
    if !(id.starts_with("DC") || id.starts_with("DS")) {
        return None;
    }
    let l = line(id)?;
    Some(DataObject {
        id: field(l, 0),
        name: field(l, 1),
        status: Status::parse(field(l, 2))?,
    })
}

/// The technique an ATT&CK analytic (`AN0693`, ATT&CK v18's detection analytics) is
/// written for.
pub fn analytic(id: &str) -> Option<Technique> {
    let number = numbered(id, "AN")?;
    records()
        .filter(|l| l.starts_with('T') && !l.starts_with("TA"))
        .filter_map(Technique::parse)
        .find(|t| t.detected_by(number))
}

/// The number of `AN0693` (prefix `AN`): 693.
fn numbered(id: &str, prefix: &str) -> Option<u16> {
    let digits = id.strip_prefix(prefix)?;
    (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Whether `G0001-0096,G0098` (prefix `G`) includes `number`.
fn in_ranges(ranges: &str, prefix: &str, number: u16) -> bool {
    ranges.split(',').any(|part| {
        let (first, last) = part.split_once('-').unwrap_or((part, ""));
        let Some(first) = numbered(first, prefix) else {
            return false;
        };
        let last = if last.is_empty() {
            first
        } else {
            last.parse().unwrap_or(first)
        };
        (first..=last).contains(&number)
    })
}

/// The kinds of ATT&CK objects Sigma tags name besides tactics and techniques.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    /// `attack.g0016`
    Group,
    /// `attack.s0001`
    Software,
    /// `attack.c0001`
    Campaign,
}

impl EntityKind {
    fn of(prefix: u8) -> Option<(Self, &'static str)> {
        match prefix {
            b'G' => Some((Self::Group, "groups")),
            b'S' => Some((Self::Software, "software")),
            b'C' => Some((Self::Campaign, "campaigns")),
            _ => None,
        }
    }
}

/// What an `attack.*` tag names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttackTag {
    Tactic(Tactic),
    /// A technique of the table; check its `status` for revoked and deprecated ones.
    Technique(Technique),
    /// A group, software or campaign; `status` is `None` when ATT&CK has no such id.
    Entity {
        kind: EntityKind,
        /// Upper case, as ATT&CK writes it: `G0016`.
        id: String,
        status: Option<Status>,
    },
    /// Nothing ATT&CK has. `suggestion` is the tag probably meant (`attack.t1609` for
    /// `attack.t16O9`); a tactic keeps the tag's separator (`privilege_escalation` for
    /// `privilege_escalaton`).
    Unknown {
        suggestion: Option<String>,
    },
}

/// Classify a rule tag: `None` when it is not in the `attack.` namespace.
pub fn classify(tag: &str) -> Option<AttackTag> {
    let name = tag.strip_prefix("attack.")?;
    Some(classify_name(name).unwrap_or_else(|| AttackTag::Unknown {
        suggestion: suggest(name).map(|s| format!("attack.{s}")),
    }))
}

fn classify_name(name: &str) -> Option<AttackTag> {
    if let Some(t) = tactic_by_shortname(name) {
        return Some(AttackTag::Tactic(t));
    }
    let upper = name.to_ascii_uppercase();
    if let Some(t) = technique(&upper) {
        return Some(AttackTag::Technique(t));
    }
    let (kind, list) = EntityKind::of(*upper.as_bytes().first()?)?;
    let number = numbered(&upper, &upper[..1])?;
    let status = match line(&upper) {
        Some(l) => Status::parse(field(l, 2)),
        None => line(list)
            .is_some_and(|l| in_ranges(field(l, 1), &upper[..1], number))
            .then_some(Status::Current),
    };
    Some(AttackTag::Entity {
        kind,
        id: upper,
        status,
    })
}

/// The tag name probably meant by `name`, which names nothing: a tactic or technique
/// id with a letter typed for a digit (`t16O9`), a tactic id or an analytic where Sigma
/// wants the tactic's or technique's tag, or the one current tactic or technique
/// within a typo or two.
fn suggest(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    // Letters that look like digits, past the leading letter: O for 0, l and I for 1.
    if let Some((first, rest)) = lower.split_at_checked(1) {
        let fixed: String = rest
            .chars()
            .map(|c| match c {
                'o' => '0',
                'l' | 'i' => '1',
                c => c,
            })
            .collect();
        let candidate = format!("{first}{fixed}");
        if candidate != lower && technique(&candidate.to_ascii_uppercase()).is_some() {
            return Some(candidate);
        }
    }
    let upper = lower.to_ascii_uppercase();
    if let Some(t) = tactic_by_id(&upper) {
        return Some(spelled_like(t.shortname, name));
    }
    if let Some(t) = analytic(&upper) {
        return Some(t.id.to_ascii_lowercase());
    }
    // The nearest current tactic or technique, if exactly one is nearest.
    let tactics = tactics().map(|t| (spelled_like(t.shortname, name), 2));
    let techniques = records()
        .filter(|l| l.starts_with('T') && !l.starts_with("TA"))
        .filter_map(Technique::parse)
        .filter(|t| t.status == Status::Current)
        .map(|t| (t.id.to_ascii_lowercase(), 1));
    let mut best: Option<(usize, String)> = None;
    let mut tied = false;
    for (candidate, most) in tactics.chain(techniques) {
        let d = distance(&lower, &candidate);
        if d > most {
            continue;
        }
        match &best {
            Some((b, _)) if d > *b => {}
            Some((b, _)) if d == *b => tied = true,
            _ => {
                best = Some((d, candidate));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(_, c)| c)
}

/// A tactic's short name in the separator the rule used (`privilege_escalation` for a
/// rule that writes `defense_evasion`).
fn spelled_like(shortname: &str, tag: &str) -> String {
    if tag.contains('_') {
        shortname.replace('-', "_")
    } else {
        shortname.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_every_line_reads() {
        let keys: Vec<&str> = records().map(|l| field(l, 0)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "lines out of order");
        assert_eq!(tactics().count(), 14);
        let mut techniques = 0;
        for l in records() {
            let id = field(l, 0);
            if is_technique_id(id) {
                let t = technique(id).unwrap_or_else(|| panic!("{l}"));
                techniques += 1;
                if let Status::Revoked { by } = t.status {
                    let by = technique(by).unwrap_or_else(|| panic!("{id} revoked by {by}"));
                    assert_eq!(by.status, Status::Current, "{id}");
                } else {
                    assert!(!t.tactics.is_empty(), "{id} has no tactic");
                }
                if let Some(parent) = t.parent {
                    assert!(technique(parent).is_some(), "{id}'s parent");
                }
                assert!(
                    t.analytics.is_empty() || t.analytics.starts_with("AN"),
                    "{l}"
                );
            } else if id.starts_with("DC") || id.starts_with("DS") {
                assert!(data_object(id).is_some(), "{l}");
            }
        }
        // ATT&CK v18.1 Enterprise: 691 current techniques and sub-techniques, 12
        // deprecated, 132 revoked.
        assert_eq!(techniques, 835);
        assert_eq!(version(), "18.1");
        assert!(TABLE.contains("The MITRE Corporation (MITRE) hereby grants you"));
    }

    #[test]
    fn every_attack_tag_of_the_built_in_pack_resolves() {
        let mut seen = Vec::new();
        for file in crate::default_pack() {
            if file.path.starts_with("tests/") || !file.path.ends_with(".yml") {
                continue;
            }
            if file.path == "policy.yml" {
                continue;
            }
            let collection = rsigma_parser::parse_sigma_yaml(&file.text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.path));
            let tags = collection
                .rules
                .iter()
                .flat_map(|r| &r.tags)
                .chain(collection.correlations.iter().flat_map(|c| &c.tags));
            for tag in tags {
                match classify(tag) {
                    Some(AttackTag::Tactic(_)) => {}
                    Some(AttackTag::Technique(t)) => {
                        assert_eq!(t.status, Status::Current, "{}: {tag}", file.path);
                    }
                    None => continue,
                    other => panic!("{}: {tag} is {other:?}", file.path),
                }
                seen.push(tag.clone());
            }
        }
        for tag in [
            "attack.t1611",
            "attack.t1543.005",
            "attack.t1053.007",
            "attack.privilege_escalation",
            "attack.discovery",
        ] {
            assert!(
                seen.iter().any(|s| s == tag),
                "the pack no longer tags {tag}"
            );
        }
    }

    #[test]
    fn the_built_in_packs_analytic_groups_are_attack_objects() {
        let id = |an| analytic(an).map(|t| t.id);
        assert_eq!(id("AN0693"), Some("T1610"));
        assert_eq!(id("AN1578"), Some("T1543"));
        assert_eq!(id("AN1317"), Some("T1204"));
        // T1611's analytics are AN0612-0615, a range in the table.
        assert_eq!(id("AN0614"), Some("T1611"));
        assert!(technique("T1611").is_some_and(|t| t.detected_by(612) && !t.detected_by(616)));
        assert_eq!(id("AN9999"), None);
        assert_eq!(id("an0693"), None, "ids are upper case");
        let dc = data_object("DC0077").expect("DC0077");
        assert_eq!((dc.name, dc.status), ("Container Start", Status::Current));
        let ds = data_object("DS0032").expect("DS0032");
        assert_eq!((ds.name, ds.status), ("Container", Status::Deprecated));
    }

    #[test]
    fn techniques_carry_their_own_tactics() {
        let escape = technique("T1611").expect("T1611");
        assert_eq!(escape.name, "Escape to Host");
        let names: Vec<&str> = escape.tactics.iter().map(|t| t.shortname).collect();
        assert_eq!(names, ["privilege-escalation"]);
        let execution = tactic_by_shortname("execution").expect("execution");
        assert!(!escape.tactics.contains(&execution));

        // A rule tagging execution and privilege escalation for T1610 and T1611: each
        // technique keeps only the rule's tactics that are its own.
        let rule = TacticSet::from_tags([
            "attack.execution",
            "attack.t1610",
            "attack.privilege_escalation",
            "attack.t1611",
        ]);
        let pair = |id| {
            let t = technique(id).expect(id);
            t.tactics
                .intersection(rule)
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(pair("T1610"), ["TA0002"]);
        assert_eq!(pair("T1611"), ["TA0004"]);

        let service = technique("T1543.005").expect("T1543.005");
        assert_eq!(service.parent, Some("T1543"));
        assert_eq!(
            technique_name("T1543"),
            Some("Create or Modify System Process")
        );
        assert_eq!(technique("T1543").map(|t| t.parent), Some(None));
        // Matrix order: persistence before privilege escalation.
        let order: Vec<&str> = service.tactics.iter().map(|t| t.id).collect();
        assert_eq!(order, ["TA0003", "TA0004"]);
        assert_eq!(technique("t1611"), None, "ids are upper case");
    }

    #[test]
    fn tactics_by_either_spelling_and_by_id() {
        let p = tactic_by_shortname("privilege-escalation").expect("hyphen");
        assert_eq!((p.id, p.name), ("TA0004", "Privilege Escalation"));
        assert_eq!(tactic_by_shortname("privilege_escalation"), Some(p));
        assert_eq!(tactic_by_shortname("Privilege_Escalation"), Some(p));
        assert_eq!(tactic_by_id("TA0004"), Some(p));
        assert_eq!(
            tactic("command_and_control"),
            Some(("TA0011", "Command and Control"))
        );
        assert_eq!(tactic("privilege escalation"), None);
        let order: Vec<&str> = tactics().map(|t| t.id).collect();
        assert_eq!(&order[..3], ["TA0043", "TA0042", "TA0001"]);
    }

    #[test]
    fn revoked_and_deprecated_techniques_say_so() {
        // Revoked by T1547.006 in ATT&CK v7.
        let t = technique("T1215").expect("T1215");
        assert_eq!(t.status, Status::Revoked { by: "T1547.006" });
        assert!(t.tactics.is_empty());
        // T1547.011 was revoked by T1647: a tag on T1150 (revoked by T1547.011) is sent
        // straight to the current technique.
        assert_eq!(
            technique("T1150").map(|t| t.status),
            Some(Status::Revoked { by: "T1647" })
        );
        let launchd = technique("T1053.004").expect("T1053.004");
        assert_eq!(launchd.status, Status::Deprecated);
        assert_eq!(classify("attack.t1215"), Some(AttackTag::Technique(t)));
    }

    #[test]
    fn tags_are_classified() {
        let tactic = |s| match classify(s) {
            Some(AttackTag::Tactic(t)) => t.id,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(tactic("attack.privilege_escalation"), "TA0004");
        assert_eq!(tactic("attack.privilege-escalation"), "TA0004");
        assert_eq!(tactic("attack.resource-development"), "TA0042");
        match classify("attack.t1611") {
            Some(AttackTag::Technique(t)) => assert_eq!(t.id, "T1611"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify("attack.g0016"),
            Some(AttackTag::Entity {
                kind: EntityKind::Group,
                id: "G0016".into(),
                status: Some(Status::Current)
            })
        );
        assert_eq!(
            classify("attack.g0118"),
            Some(AttackTag::Entity {
                kind: EntityKind::Group,
                id: "G0118".into(),
                status: Some(Status::Revoked { by: "G0016" })
            })
        );
        assert_eq!(
            classify("attack.s0001"),
            Some(AttackTag::Entity {
                kind: EntityKind::Software,
                id: "S0001".into(),
                status: Some(Status::Current)
            })
        );
        // G0097 is a gap in ATT&CK's group ids.
        assert_eq!(
            classify("attack.g0097"),
            Some(AttackTag::Entity {
                kind: EntityKind::Group,
                id: "G0097".into(),
                status: None
            })
        );
        assert_eq!(
            classify("attack.c0001").map(|t| matches!(
                t,
                AttackTag::Entity {
                    kind: EntityKind::Campaign,
                    status: Some(Status::Current),
                    ..
                }
            )),
            Some(true)
        );
        assert_eq!(classify("cve.2021-44228"), None);
        assert_eq!(classify("attack"), None);
    }

    #[test]
    fn unknown_tags_get_the_tag_probably_meant() {
        let suggestion = |s| match classify(s) {
            Some(AttackTag::Unknown { suggestion }) => suggestion,
            other => panic!("{s}: {other:?}"),
        };
        // The letter O for the digit 0.
        assert_eq!(suggestion("attack.t16O9").as_deref(), Some("attack.t1609"));
        assert_eq!(suggestion("attack.t161l").as_deref(), Some("attack.t1611"));
        assert_eq!(
            suggestion("attack.privilege_escalaton").as_deref(),
            Some("attack.privilege_escalation")
        );
        assert_eq!(
            suggestion("attack.defense-evassion").as_deref(),
            Some("attack.defense-evasion")
        );
        // A tactic id or an ATT&CK analytic where Sigma wants the tag.
        assert_eq!(
            suggestion("attack.ta0004").as_deref(),
            Some("attack.privilege-escalation")
        );
        assert_eq!(suggestion("attack.an0693").as_deref(), Some("attack.t1610"));
        // A missing `t`.
        assert_eq!(suggestion("attack.1611").as_deref(), Some("attack.t1611"));
        // A sub-technique ATT&CK does not have, one typo from several that exist
        // (T1543.001 to .005): no guess.
        assert_eq!(suggestion("attack.t1543.009"), None);
        assert_eq!(suggestion("attack.container_escape"), None);
    }

    #[test]
    fn lookups_miss_cleanly() {
        assert_eq!(technique("T9999"), None);
        assert_eq!(technique("T1611.999"), None);
        assert_eq!(technique(""), None);
        assert_eq!(technique("TA0004"), None);
        assert_eq!(line("T0000"), None);
        assert_eq!(line("zzzz"), None);
        assert_eq!(data_object("T1611"), None);
        assert_eq!(tactic_by_id("TA9999"), None);
    }
}
