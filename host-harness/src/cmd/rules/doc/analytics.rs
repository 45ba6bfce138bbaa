//! `docs/analytics.md`: what a pack detects, rendered from the pack's own metadata.
//!
//! [`render`] reads every Sigma document of a pack (with `rsigma_parser`) and the attack
//! scenarios and benign look-alikes under `samples/scenarios/`, and writes Markdown that
//! maps each analytic to its techniques, data sources, rules and scenarios, with the
//! false-positive guards of every rule. Nothing in it is written by hand, so it cannot
//! drift from the rules: `crowsnest rules doc` prints it and a test compares it with the
//! committed file.
//!
//! - **Groups.** A rule or correlation belongs to the analytic its top-level `analytic:`
//!   key names (`AN1317`); one without it to its first ATT&CK technique (`T1053.007`),
//!   else to "Other rules". A rule a correlation references is a step of that
//!   correlation and is shown under it.
//! - **Techniques and tactics** come from `tags` (`attack.t1204.003`, `attack.execution`).
//! - **Sources** come from `logsource` (the `source` names of `docs/fields.md` that a
//!   `product`/`service` routes to; `category: container` alone means every source) and
//!   from the `source:` values the detection names. The scenarios' input files add the
//!   sources the group is exercised with (`1-auditd.log` is `auditd`).
//! - **Rules**: id, title, level and the rationale written as `# ...` comment lines right
//!   after `level:`.
//! - **Scenarios**: the ones whose `expected.txt` lists the rule, with how many alerts.
//!   A scenario whose name contains `benign` is a look-alike of the group its folder
//!   names (`an1317-ci-chain/`), or, in a folder that names no group (`ds0032-container/`),
//!   of the group its technique prefix names (`t1204-...`); it is listed when it raises
//!   none of the group's rules.
//! - **False-positive guards**: the rule's `falsepositives`, the selections its condition
//!   negates (`not controller`, shown with what they match) and, for a correlation, its
//!   window and grouping.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use rsigma_parser::{
    ConditionExpr, CorrelationCondition, Detection, DetectionItem, SigmaValue, parse_sigma_yaml,
};

use crowsnest_transform::api::PackFile;
use crowsnest_transform::framing::BATCH_RECORDS;
use crowsnest_transform::model::Source;

use crate::engine::backend::EngineChoice;
use crate::engine::batch_loop::BatchLoop;
use crate::engine::session::Session;
use crate::io::summary::Summary;

/// One scenario directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scenario {
    /// Relative to the scenarios root, `/`-separated: `an1317-ci-chain/attack-document-docker-run`.
    pub(crate) path: String,
    /// Its input files' names, in replay order.
    pub(crate) inputs: Vec<String>,
    /// The sources its records decode as (`auditd`, `falco`), sorted.
    pub(crate) sources: Vec<String>,
    /// Its `expected.txt`: `<file>:<line> <rule id>  # <title>` per alert.
    pub(crate) expected: String,
}

/// A scenario folder's `README.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Readme {
    /// The folder, relative to the scenarios root: `an1317-ci-chain`.
    pub(crate) path: String,
    pub(crate) text: String,
}

/// What [`render`] works from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocInput<'a> {
    pub(crate) pack: &'a [PackFile],
    /// How the pack is named in the text (`transform/rules`, the built-in pack).
    pub(crate) pack_name: &'a str,
    pub(crate) scenarios: &'a [Scenario],
    pub(crate) readmes: &'a [Readme],
    /// The scenarios root relative to the repository (`samples/scenarios`); links are
    /// written relative to `docs/`.
    pub(crate) scenarios_dir: &'a str,
}

/// Input files of a scenario, as the scenario test reads them.
fn is_input(name: &str) -> bool {
    [".ndjson", ".jsonl", ".json", ".log"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// The scenarios and folder READMEs under `root`, sorted by path; each scenario's
/// records go through the batch loop (the native engine with the built-in pack) to
/// name their sources.
pub(crate) fn load_scenarios(root: &Path) -> anyhow::Result<(Vec<Scenario>, Vec<Readme>)> {
    let mut scenarios = Vec::new();
    let mut readmes = Vec::new();
    walk(root, root, &mut scenarios, &mut readmes)?;
    let mut engine = BatchLoop::new(Session::with(EngineChoice::Native)?, BATCH_RECORDS);
    for s in &mut scenarios {
        let dir = root.join(&s.path);
        engine.summary = Summary::default();
        for name in &s.inputs {
            let bytes = std::fs::read(dir.join(name))?;
            engine.input(name, &bytes, 0, &mut ())?;
        }
        s.sources = engine
            .summary
            .sources
            .keys()
            .map(|x| x.to_string())
            .collect();
    }
    scenarios.sort_by(|a, b| a.path.cmp(&b.path));
    readmes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((scenarios, readmes))
}

fn walk(
    root: &Path,
    dir: &Path,
    scenarios: &mut Vec<Scenario>,
    readmes: &mut Vec<Readme>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    let rel = dir
        .strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let inputs: Vec<String> = entries
        .iter()
        .filter(|p| p.is_file())
        .map(|p| name_of(p))
        .filter(|n| is_input(n))
        .collect();
    let expected = dir.join("expected.txt");
    if !inputs.is_empty() || expected.is_file() {
        scenarios.push(Scenario {
            path: rel.clone(),
            inputs,
            sources: Vec::new(),
            expected: std::fs::read_to_string(&expected).unwrap_or_default(),
        });
    } else if dir.join("README.md").is_file() && !rel.is_empty() {
        readmes.push(Readme {
            path: rel,
            text: std::fs::read_to_string(dir.join("README.md"))?,
        });
    }
    for p in entries.iter().filter(|p| p.is_dir()) {
        walk(root, p, scenarios, readmes)?;
    }
    Ok(())
}

/// A rule or correlation of the pack, as the document shows it.
#[derive(Debug, Default)]
struct Entry {
    file: String,
    line: u32,
    id: String,
    name: Option<String>,
    title: String,
    level: String,
    rationale: String,
    analytic: Option<String>,
    techniques: Vec<String>,
    tactics: Vec<String>,
    /// `logsource` as written, and the sources it routes to.
    logsource: String,
    routed: Vec<Source>,
    /// `source:` values of the detection.
    named_sources: Vec<String>,
    actions: Vec<String>,
    falsepositives: Vec<String>,
    /// `not <selection>`: the selection's name and what it matches.
    negated: Vec<(String, String)>,
    correlation: Option<Correlation>,
}

#[derive(Debug)]
struct Correlation {
    kind: String,
    steps: Vec<String>,
    group_by: Vec<String>,
    timespan: String,
    condition: Option<String>,
}

/// Split a rule file on `---` lines: each document with the line it starts on.
fn documents(text: &str) -> Vec<(&str, u32)> {
    let mut docs = Vec::new();
    let (mut start, mut start_line, mut offset) = (0usize, 1u32, 0usize);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.trim_end() == "---" {
            docs.push((&text[start..offset], start_line));
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    docs.push((&text[start..], start_line));
    docs.retain(|(d, _)| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

/// The `# ...` lines right after the top-level `level:` line, joined.
fn rationale(doc: &str) -> String {
    let mut lines = doc.lines().skip_while(|l| !l.starts_with("level:"));
    let Some(level) = lines.next() else {
        return String::new();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some((_, comment)) = level.split_once(" #") {
        parts.push(comment.trim().to_string());
    }
    for line in lines {
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        parts.push(comment.trim().to_string());
    }
    parts.join(" ")
}

fn is_rule_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (name.ends_with(".yml") || name.ends_with(".yaml"))
        && !name.starts_with("policy.")
        && !path.split('/').any(|part| part == "tests")
}

/// `attack.t1204.003` -> `T1204.003`; `attack.execution` -> a tactic.
fn split_tags(tags: &[String]) -> (Vec<String>, Vec<String>) {
    let mut techniques = Vec::new();
    let mut tactics = Vec::new();
    for tag in tags {
        let Some(rest) = tag
            .to_ascii_lowercase()
            .strip_prefix("attack.")
            .map(str::to_string)
        else {
            continue;
        };
        let is_technique =
            rest.starts_with('t') && rest[1..].chars().next().is_some_and(|c| c.is_ascii_digit());
        if is_technique {
            techniques.push(rest.to_ascii_uppercase());
        } else if !rest.starts_with('g') && !rest.starts_with('s') || rest.contains('_') {
            tactics.push(rest.replace('-', "_"));
        }
    }
    (techniques, tactics)
}

fn value_text(v: &SigmaValue) -> String {
    match v {
        SigmaValue::String(_) => format!("`{v}`"),
        other => format!("`{other}`"),
    }
}

/// `field|mod: value` or `field: [a, b, ... (N more)]`.
fn item_text(item: &DetectionItem) -> String {
    let mut name = item.field.name.clone().unwrap_or_else(|| "keywords".into());
    for m in &item.field.modifiers {
        let m = serde_json::to_value(m)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{m:?}").to_ascii_lowercase());
        name.push('|');
        name.push_str(&m);
    }
    const SHOWN: usize = 6;
    let values: Vec<String> = item.values.iter().take(SHOWN).map(value_text).collect();
    let more = item.values.len().saturating_sub(SHOWN);
    let list = match (values.len(), more) {
        (1, _) => values[0].clone(),
        (_, 0) => values.join(", "),
        _ => format!("{}, … ({more} more)", values.join(", ")),
    };
    format!("`{name}`: {list}")
}

fn detection_text(d: &Detection) -> String {
    match d {
        Detection::AllOf(items) => items
            .iter()
            .map(item_text)
            .collect::<Vec<_>>()
            .join(" and "),
        Detection::AnyOf(subs) => {
            let parts: Vec<String> = subs.iter().map(detection_text).collect();
            if parts.len() == 1 {
                parts[0].clone()
            } else {
                format!("one of ({})", parts.join("; "))
            }
        }
        Detection::Keywords(values) => values.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => format!("{other:?}"),
    }
}

/// Fields and values a detection names, for `source:` and `action:`.
fn values_of(d: &Detection, field: &str, out: &mut Vec<String>) {
    match d {
        Detection::AllOf(items) => {
            for item in items {
                if item.field.name.as_deref() == Some(field) {
                    out.extend(item.values.iter().map(ToString::to_string));
                }
            }
        }
        Detection::AnyOf(subs) | Detection::And(subs) => {
            for s in subs {
                values_of(s, field, out);
            }
        }
        _ => {}
    }
}

/// The identifiers under a `not`, in condition order.
fn negated(expr: &ConditionExpr, under_not: bool, out: &mut Vec<String>) {
    match expr {
        ConditionExpr::And(xs) | ConditionExpr::Or(xs) => {
            for x in xs {
                negated(x, under_not, out);
            }
        }
        ConditionExpr::Not(x) => negated(x, true, out),
        ConditionExpr::Identifier(name) => {
            if under_not && !out.contains(name) {
                out.push(name.clone());
            }
        }
        ConditionExpr::Selector { .. } => {
            if under_not {
                out.push(expr.to_string());
            }
        }
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

fn logsource_text(
    category: &Option<String>,
    product: &Option<String>,
    service: &Option<String>,
) -> String {
    let parts: Vec<String> = [
        ("category", category),
        ("product", product),
        ("service", service),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
    .collect();
    parts.join(", ")
}

fn routed(product: &Option<String>, service: &Option<String>) -> Vec<Source> {
    let eq = |want: &Option<String>, have: &str| {
        want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    Source::ALL
        .into_iter()
        .filter(|s| {
            let (p, sv) = s.logsource();
            eq(product, p) && eq(service, sv)
        })
        .collect()
}

fn entries(pack: &[PackFile]) -> (Vec<Entry>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut files: Vec<&PackFile> = pack.iter().filter(|f| is_rule_file(&f.path)).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for file in files {
        for (doc, line) in documents(&file.text) {
            let collection = match parse_sigma_yaml(doc) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("{}:{line}: {e}", file.path));
                    continue;
                }
            };
            for e in &collection.errors {
                problems.push(format!("{}:{line}: {e}", file.path));
            }
            for rule in collection.rules {
                let (techniques, tactics) = split_tags(&rule.tags);
                let mut named_sources = Vec::new();
                let mut actions = Vec::new();
                let mut names: Vec<&String> = rule.detection.named.keys().collect();
                names.sort();
                for name in names {
                    let d = &rule.detection.named[name];
                    values_of(d, "source", &mut named_sources);
                    values_of(d, "action", &mut actions);
                }
                dedup(&mut named_sources);
                dedup(&mut actions);
                let mut not = Vec::new();
                for c in &rule.detection.conditions {
                    negated(c, false, &mut not);
                }
                let negated = not
                    .into_iter()
                    .map(|n| {
                        let what = rule
                            .detection
                            .named
                            .get(&n)
                            .map(detection_text)
                            .unwrap_or_default();
                        (n, what)
                    })
                    .collect();
                let ls = &rule.logsource;
                out.push(Entry {
                    file: file.path.clone(),
                    line,
                    id: rule.id.clone().unwrap_or_else(|| rule.title.clone()),
                    name: rule.name.clone(),
                    title: rule.title.clone(),
                    level: rule
                        .level
                        .map(|l| l.as_str().to_string())
                        .unwrap_or_default(),
                    rationale: rationale(doc),
                    analytic: analytic(&rule.custom_attributes),
                    techniques,
                    tactics,
                    logsource: logsource_text(&ls.category, &ls.product, &ls.service),
                    routed: routed(&ls.product, &ls.service),
                    named_sources,
                    actions,
                    falsepositives: rule.falsepositives.clone(),
                    negated,
                    correlation: None,
                });
            }
            for c in collection.correlations {
                let (techniques, tactics) = split_tags(&c.tags);
                let condition = match &c.condition {
                    CorrelationCondition::Threshold {
                        predicates, field, ..
                    } => {
                        let preds: Vec<String> = predicates
                            .iter()
                            .map(|(op, n)| {
                                format!("{} {n}", format!("{op:?}").to_ascii_lowercase())
                            })
                            .collect();
                        let field = field
                            .as_ref()
                            .map(|f| format!(" distinct `{}`", f.join("`, `")))
                            .unwrap_or_default();
                        (!preds.is_empty()).then(|| format!("{}{field}", preds.join(" and ")))
                    }
                    CorrelationCondition::Extended(expr) => Some(expr.to_string()),
                };
                // Temporal correlations need every step; their implicit `gte 1` says nothing.
                let temporal = matches!(
                    c.correlation_type,
                    rsigma_parser::CorrelationType::Temporal
                        | rsigma_parser::CorrelationType::TemporalOrdered
                );
                let condition = condition.filter(|c| !(temporal && c == "gte 1"));
                out.push(Entry {
                    file: file.path.clone(),
                    line,
                    id: c.id.clone().unwrap_or_else(|| c.title.clone()),
                    name: c.name.clone(),
                    title: c.title.clone(),
                    level: c.level.map(|l| l.as_str().to_string()).unwrap_or_default(),
                    rationale: rationale(doc),
                    analytic: analytic(&c.custom_attributes),
                    techniques,
                    tactics,
                    falsepositives: c.falsepositives.clone(),
                    correlation: Some(Correlation {
                        kind: c.correlation_type.as_str().to_string(),
                        steps: c.rules.clone(),
                        group_by: c.group_by.clone(),
                        timespan: c.timespan.to_string(),
                        condition,
                    }),
                    ..Entry::default()
                });
            }
        }
    }
    (out, problems)
}

fn analytic(attrs: &std::collections::HashMap<String, yaml_serde::Value>) -> Option<String> {
    attrs
        .get("analytic")
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The expected alerts of every scenario: rule id -> (scenario path, count).
fn expected_by_rule(scenarios: &[Scenario]) -> BTreeMap<String, Vec<(String, usize)>> {
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for s in scenarios {
        for line in s.expected.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some(rule) = line.split_whitespace().nth(1) else {
                continue;
            };
            *out.entry(rule.to_string())
                .or_default()
                .entry(s.path.clone())
                .or_default() += 1;
        }
    }
    out.into_iter()
        .map(|(rule, by)| (rule, by.into_iter().collect()))
        .collect()
}

struct Group<'e> {
    key: String,
    top: Vec<&'e Entry>,
}

fn group_key(e: &Entry) -> String {
    e.analytic
        .clone()
        .or_else(|| e.techniques.first().cloned())
        .unwrap_or_else(|| "Other rules".to_string())
}

fn anchor(key: &str) -> String {
    key.to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Render `docs/analytics.md`.
pub(crate) fn render(input: &DocInput<'_>) -> String {
    let (all, problems) = entries(input.pack);
    let expected = expected_by_rule(input.scenarios);
    let by_ref = |r: &str| {
        all.iter()
            .find(|e| e.id == r || e.name.as_deref() == Some(r) || e.title == r)
    };
    let mut steps: BTreeSet<String> = BTreeSet::new();
    for e in &all {
        if let Some(c) = &e.correlation {
            for s in &c.steps {
                if let Some(step) = by_ref(s) {
                    steps.insert(step.id.clone());
                }
            }
        }
    }
    let mut groups: Vec<Group<'_>> = Vec::new();
    for e in all.iter().filter(|e| !steps.contains(&e.id)) {
        let key = group_key(e);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.top.push(e),
            None => groups.push(Group { key, top: vec![e] }),
        }
    }
    let rank = |k: &str| {
        if k.starts_with('T') && k[1..].starts_with(|c: char| c.is_ascii_digit()) {
            1
        } else if k == "Other rules" {
            2
        } else {
            0
        }
    };
    groups.sort_by(|a, b| (rank(&a.key), &a.key).cmp(&(rank(&b.key), &b.key)));
    let group_keys: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
    let group_of_rule: BTreeMap<&str, &str> = groups
        .iter()
        .flat_map(|g| g.top.iter().map(move |e| (e.id.as_str(), g.key.as_str())))
        .collect();
    let lookalike_groups = lookalike_groups(input.scenarios, &group_keys, &group_of_rule);

    let steps_of = |e: &Entry| -> Vec<&Entry> {
        e.correlation
            .as_ref()
            .map(|c| c.steps.iter().filter_map(|s| by_ref(s)).collect())
            .unwrap_or_default()
    };
    let scenario_sources = |path: &str| {
        input
            .scenarios
            .iter()
            .find(|s| s.path == path)
            .map(|s| s.sources.clone())
            .unwrap_or_default()
    };
    let link = |path: &str, text: &str| format!("[{text}](../{}/{path})", input.scenarios_dir);

    let mut md = String::new();
    let _ = writeln!(md, "# Analytics\n");
    let _ = writeln!(
        md,
        "What the pack `{}` detects: each analytic (a rule's `analytic:` key; rules without \
         one are grouped by their ATT&CK technique), its techniques and data sources, its \
         rules with their severity and why, the scenarios under \
         [`{dir}/`](../{dir}/) that raise each rule, and the false-positive guards: the \
         rules' `falsepositives`, the selections their conditions negate and, for \
         correlations, the window. Generated from the pack's metadata by \
         `crowsnest rules doc --scenarios {dir} > docs/analytics.md`; edit the rules, not \
         this file (`tests/rules_doc.rs` fails when it is stale).\n",
        input.pack_name,
        dir = input.scenarios_dir,
    );
    let _ = writeln!(
        md,
        "| group | techniques | rules | scenarios raising them, look-alikes aside | benign look-alikes raising none |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    let mut details = String::new();
    for g in &groups {
        let mut members: Vec<&Entry> = Vec::new();
        for e in &g.top {
            members.push(e);
            members.extend(steps_of(e));
        }
        let mut techniques: Vec<String> =
            members.iter().flat_map(|e| e.techniques.clone()).collect();
        dedup(&mut techniques);
        let mut tactics: Vec<String> = members.iter().flat_map(|e| e.tactics.clone()).collect();
        dedup(&mut tactics);
        let ids: BTreeSet<&str> = g.top.iter().map(|e| e.id.as_str()).collect();
        let raising: BTreeSet<String> = ids
            .iter()
            .flat_map(|id| {
                expected
                    .get(*id)
                    .into_iter()
                    .flatten()
                    .map(|(s, _)| s.clone())
            })
            .collect();
        let folders: BTreeSet<String> = raising
            .iter()
            .filter_map(|s| s.rsplit_once('/').map(|(f, _)| f.to_string()))
            .collect();
        let lookalikes: Vec<(&Scenario, Vec<&str>)> = input
            .scenarios
            .iter()
            .filter(|s| {
                lookalike_groups
                    .get(&s.path)
                    .is_some_and(|gs| gs.contains(&g.key))
            })
            .map(|s| {
                let raised: Vec<&str> = g
                    .top
                    .iter()
                    .filter(|e| {
                        expected
                            .get(&e.id)
                            .is_some_and(|v| v.iter().any(|(p, _)| p == &s.path))
                    })
                    .map(|e| e.title.as_str())
                    .collect();
                (s, raised)
            })
            .collect();
        let quiet = lookalikes.iter().filter(|(_, r)| r.is_empty()).count();
        let _ = writeln!(
            md,
            "| [{key}](#{a}) | {t} | {r} | {s} | {q} |",
            key = g.key,
            a = anchor(&g.key),
            t = techniques.join(", "),
            r = g.top.len(),
            s = raising
                .iter()
                .filter(|p| !lookalikes.iter().any(|(l, _)| &l.path == *p))
                .count(),
            q = if lookalikes.is_empty() {
                "—".to_string()
            } else {
                format!("{quiet} of {}", lookalikes.len())
            },
        );

        let _ = writeln!(details, "## {}\n", g.key);
        if !techniques.is_empty() {
            let links: Vec<String> = techniques
                .iter()
                .map(|t| {
                    format!(
                        "[{t}](https://attack.mitre.org/techniques/{}/)",
                        t.replace('.', "/")
                    )
                })
                .collect();
            let _ = writeln!(details, "- **Techniques:** {}", links.join(", "));
        }
        if !tactics.is_empty() {
            let _ = writeln!(details, "- **Tactics:** {}", tactics.join(", "));
        }
        let mut sources: Vec<String> = Vec::new();
        let mut every = false;
        for e in members.iter().filter(|e| e.correlation.is_none()) {
            if !e.named_sources.is_empty() {
                sources.extend(e.named_sources.iter().cloned());
            } else if e.routed.len() == Source::ALL.len() {
                every = true;
            } else {
                sources.extend(e.routed.iter().map(|s| s.as_str().to_string()));
            }
        }
        dedup(&mut sources);
        sources.sort();
        let sources_text = match (every, sources.is_empty()) {
            (true, true) => "every source (`category: container`)".to_string(),
            (true, false) => format!(
                "every source (`category: container`); named in detections: {}",
                code_list(&sources)
            ),
            (false, _) => code_list(&sources),
        };
        let _ = writeln!(details, "- **Data sources:** {sources_text}");
        let mut exercised: Vec<String> = raising
            .iter()
            .chain(lookalikes.iter().map(|(s, _)| &s.path))
            .flat_map(|p| scenario_sources(p))
            .collect();
        dedup(&mut exercised);
        exercised.sort();
        if !exercised.is_empty() {
            let _ = writeln!(
                details,
                "- **Sources in its scenarios:** {}",
                code_list(&exercised)
            );
        }
        for folder in &folders {
            if let Some(r) = input.readmes.iter().find(|r| &r.path == folder) {
                let title = r
                    .text
                    .lines()
                    .find_map(|l| l.strip_prefix("# "))
                    .unwrap_or(folder);
                let _ = writeln!(
                    details,
                    "- **Scenarios:** {}",
                    link(&format!("{folder}/README.md"), title)
                );
            }
        }
        let _ = writeln!(details);
        let _ = writeln!(details, "| rule | level | why | raised in |");
        let _ = writeln!(details, "|---|---|---|---|");
        for e in &g.top {
            let raised = expected
                .get(&e.id)
                .map(|v| {
                    v.iter()
                        .map(|(s, n)| {
                            let label = if *n > 1 {
                                format!("{s} (×{n})")
                            } else {
                                s.clone()
                            };
                            link(s, &label)
                        })
                        .collect::<Vec<_>>()
                        .join("<br>")
                })
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                details,
                "| {} (`{}`) | {} | {} | {} |",
                cell(&e.title),
                e.id,
                e.level,
                cell(&e.rationale),
                raised
            );
        }
        let _ = writeln!(details);
        for e in &g.top {
            let _ = writeln!(details, "### {}\n", e.title);
            let _ = writeln!(details, "`{}`, `{}` line {}.\n", e.id, e.file, e.line);
            if let Some(c) = &e.correlation {
                let cond = c
                    .condition
                    .as_ref()
                    .map(|c| format!(", condition {c}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    details,
                    "- **Correlation:** `{}` of {} step(s) grouped by {} within {}{cond}.",
                    c.kind,
                    c.steps.len(),
                    if c.group_by.is_empty() {
                        "nothing".to_string()
                    } else {
                        code_list(&c.group_by)
                    },
                    c.timespan,
                );
                for (i, s) in steps_of(e).iter().enumerate() {
                    let _ = writeln!(
                        details,
                        "  {}. {} (`{}`){}",
                        i + 1,
                        s.title,
                        s.id,
                        rule_line(s)
                    );
                }
            } else {
                let _ = writeln!(details, "- **Matches:**{}", rule_line(e));
            }
            let mut guards: Vec<String> = e.falsepositives.iter().map(|f| cell(f)).collect();
            for (name, what) in &e.negated {
                guards.push(format!("not `{name}`: {what}"));
            }
            for s in steps_of(e) {
                for f in &s.falsepositives {
                    guards.push(format!("step “{}”: {}", s.title, cell(f)));
                }
                for (name, what) in &s.negated {
                    guards.push(format!("step “{}”: not `{name}`: {what}", s.title));
                }
            }
            if let Some(c) = &e.correlation {
                let by = if c.group_by.is_empty() {
                    String::new()
                } else {
                    format!(" on the same {}", code_list(&c.group_by))
                };
                guards.push(format!("the steps must happen within {}{by}", c.timespan));
            }
            if guards.is_empty() {
                let _ = writeln!(
                    details,
                    "- **False-positive guards:** none beyond the selections."
                );
            } else {
                let _ = writeln!(details, "- **False-positive guards:**");
                for gd in guards {
                    let _ = writeln!(details, "  - {gd}");
                }
            }
            let _ = writeln!(details);
        }
        if !lookalikes.is_empty() {
            let _ = writeln!(details, "**Benign look-alikes:**\n");
            for (s, raised) in &lookalikes {
                let what = if raised.is_empty() {
                    "raises none of these rules".to_string()
                } else {
                    format!(
                        "raises only {}",
                        raised
                            .iter()
                            .map(|t| format!("“{t}”"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let _ = writeln!(details, "- {}: {what}", link(&s.path, &s.path));
            }
            let _ = writeln!(details);
        }
    }
    let _ = writeln!(md);
    md.push_str(&details);
    if !problems.is_empty() {
        let _ = writeln!(md, "## Documents that did not parse\n");
        for p in problems {
            let _ = writeln!(md, "- {}", cell(&p));
        }
    }
    while md.ends_with("\n\n") {
        md.pop();
    }
    md
}

/// The groups each benign scenario (a name containing `benign`) is a look-alike for: the
/// group its folder names (`an1317-ci-chain/`); in a folder that names none
/// (`ds0032-container/`), the groups whose rules every attack scenario of the folder with
/// the same name prefix (`t1204-attack-*` for `t1204-benign-*`) raises.
fn lookalike_groups(
    scenarios: &[Scenario],
    keys: &[String],
    group_of_rule: &BTreeMap<&str, &str>,
) -> BTreeMap<String, Vec<String>> {
    let split = |path: &str| -> (String, String) {
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        (folder.to_string(), name.to_string())
    };
    let raised_groups = |s: &Scenario| -> BTreeSet<String> {
        s.expected
            .lines()
            .filter_map(|l| l.split('#').next()?.split_whitespace().nth(1))
            .filter_map(|id| group_of_rule.get(id).map(|g| g.to_string()))
            .collect()
    };
    let mut out = BTreeMap::new();
    for s in scenarios {
        let (folder, name) = split(&s.path);
        if !name.contains("benign") {
            continue;
        }
        let folder_key = folder.split('-').next().unwrap_or("").to_ascii_uppercase();
        if keys.contains(&folder_key) {
            out.insert(s.path.clone(), vec![folder_key]);
            continue;
        }
        let prefix = name.split('-').next().unwrap_or("");
        let mut common: Option<BTreeSet<String>> = None;
        for sibling in scenarios {
            let (f, n) = split(&sibling.path);
            if f != folder || !n.contains("attack") || n.split('-').next() != Some(prefix) {
                continue;
            }
            let groups = raised_groups(sibling);
            common = Some(match common {
                None => groups,
                Some(c) => c.intersection(&groups).cloned().collect(),
            });
        }
        if let Some(c) = common.filter(|c| !c.is_empty()) {
            out.insert(s.path.clone(), c.into_iter().collect());
        }
    }
    out
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// ` actions a, b; level informational` for a detection rule.
fn rule_line(e: &Entry) -> String {
    let mut parts = Vec::new();
    if !e.actions.is_empty() {
        parts.push(format!("actions {}", code_list(&e.actions)));
    }
    if !e.named_sources.is_empty() {
        parts.push(format!("sources {}", code_list(&e.named_sources)));
    } else if !e.logsource.is_empty() && e.routed.len() != Source::ALL.len() {
        parts.push(format!("logsource `{}`", e.logsource));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_into_techniques_and_tactics() {
        let (t, a) = split_tags(&[
            "attack.execution".into(),
            "attack.t1204.003".into(),
            "attack.privilege-escalation".into(),
            "cve.2024-1".into(),
        ]);
        assert_eq!(t, ["T1204.003"]);
        assert_eq!(a, ["execution", "privilege_escalation"]);
    }

    #[test]
    fn rationale_is_the_comment_after_level() {
        let doc = "title: x\nlevel: high\n# high: because; confidence medium\n# and more.\n";
        assert_eq!(rationale(doc), "high: because; confidence medium and more.");
    }

    #[test]
    fn the_built_in_pack_renders_every_analytic() {
        let pack = crowsnest_transform::default_pack();
        let md = render(&DocInput {
            pack: &pack,
            pack_name: "transform/rules",
            scenarios: &[Scenario {
                path: "an1317-ci-chain/attack-x".into(),
                inputs: vec!["1-auditd.log".into(), "2-falco.ndjson".into()],
                sources: vec!["auditd".into(), "falco".into()],
                expected: "2-falco.ndjson:1 6e4b8d2a-9f3c-4e71-a5d8-2c0f7b9e3a16  # x\n".into(),
            }],
            readmes: &[],
            scenarios_dir: "samples/scenarios",
        });
        assert!(md.contains("## AN1317"), "{md}");
        assert!(
            md.contains(
                "[an1317-ci-chain/attack-x](../samples/scenarios/an1317-ci-chain/attack-x)"
            ),
            "{md}"
        );
        assert!(md.contains("`auditd`, `falco`"), "{md}");
        assert!(!md.contains("did not parse"), "{md}");
    }
}
