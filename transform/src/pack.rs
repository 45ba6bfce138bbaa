//! Rule packs: parse every file, locate every problem, compile all or nothing.
//!
//! A pack is a set of Sigma files (multi-document allowed). Each YAML document is parsed
//! on its own so a problem is reported at `file:line:column` of the document that has it;
//! rsigma reports rule errors without positions, so the position is recovered by finding
//! the offending key or token in the document's text. Nothing is swapped in unless the
//! whole pack compiled: the caller keeps the running pack on any error.

use std::collections::HashMap;

use rsigma_eval::pipeline::{Pipeline, Transformation, TransformationItem};
use rsigma_eval::{CorrelationConfig, CorrelationEngine, RuleFieldSet};
use rsigma_parser::{
    Detection, Modifier, SigmaCollection, SigmaRule, SigmaValue, parse_sigma_yaml,
};

use crate::api::{Diagnostic, PackFile, PackInfo, Severity};
use crate::policy::Policy;
use crate::rules::{RuleSet, coverage};

/// The policy of the built-in pack, also used by packs that bring none.
const BUILT_IN_POLICY: &str = include_str!("../rules/policy.yml");

/// The pack built into every engine: `transform/rules/`.
pub fn default_pack() -> Vec<PackFile> {
    const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/default_pack.rs"));
    FILES
        .iter()
        .map(|(path, text)| PackFile {
            path: (*path).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// Compile `files` as a pack without running it: what `configure` would say.
pub fn check_pack(files: &[PackFile]) -> Result<PackInfo, Vec<Diagnostic>> {
    compile(files).map(|(_, info)| info)
}

/// Whether a pack file is the pack's policy.
fn is_policy_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "policy.yml" | "policy.yaml") && !path.split('/').any(|part| part == "tests")
}

/// The pack's policy: its `policy.yml`, or the built-in one when it has none.
fn load_policy(files: &[PackFile], diagnostics: &mut Vec<Diagnostic>) -> Policy {
    let mut policies = files.iter().filter(|f| is_policy_file(&f.path));
    let Some(file) = policies.next() else {
        return Policy::parse(BUILT_IN_POLICY).expect("the built-in policy parses");
    };
    for extra in policies {
        diagnostics.push(error(
            &extra.path,
            (1, 1),
            "policy.duplicate",
            format!("a pack has one policy; {} is already it", file.path),
        ));
    }
    match Policy::parse(&file.text) {
        Ok(policy) => policy,
        Err(errors) => {
            diagnostics.extend(
                errors
                    .into_iter()
                    .map(|e| error(&file.path, (e.line, e.column), "policy.parse", e.message)),
            );
            Policy::default()
        }
    }
}

/// The pipeline that expands `%name%` placeholders with the policy's lists.
fn policy_pipeline(policy: &Policy) -> Pipeline {
    let vars: HashMap<String, Vec<String>> = policy
        .vars()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Pipeline {
        name: "crowsnest policy".into(),
        priority: 0,
        vars,
        transformations: vec![TransformationItem {
            id: Some("policy-placeholders".into()),
            transformation: Transformation::ValuePlaceholders,
            rule_conditions: Vec::new(),
            rule_cond_expr: None,
            detection_item_conditions: Vec::new(),
            field_name_conditions: Vec::new(),
            field_name_cond_not: false,
        }],
        finalizers: Vec::new(),
        source_refs: Vec::new(),
    }
}

/// `%name%` placeholders in a document that the policy does not define: left alone they
/// would match only the literal text, silently.
fn unknown_placeholders(doc: &Document<'_>, known: &[&str]) -> Vec<((u32, u32), String)> {
    let mut out = Vec::new();
    for (i, line) in doc.text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        let mut rest = line;
        let mut offset = 0;
        while let Some(start) = rest.find('%') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('%') else { break };
            let name = &after[..end];
            // A name starts with a letter: `%2fbin%2fsh` is URL encoding, not a placeholder.
            let is_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if is_name && !known.contains(&name) {
                let line_no = doc.first_line + u32::try_from(i).unwrap_or(0);
                let col = u32::try_from(offset + start).unwrap_or(0) + 1;
                out.push(((line_no, col), name.to_string()));
            }
            let consumed = start + 1 + end + 1;
            offset += consumed;
            rest = &rest[consumed..];
        }
    }
    out
}

/// Whether a pack file holds Sigma rules (as opposed to policy or rule tests).
fn is_rule_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (name.ends_with(".yml") || name.ends_with(".yaml"))
        && !name.starts_with("policy.")
        && !path.split('/').any(|part| part == "tests")
}

/// One YAML document of a file, with the 1-based line it starts on.
struct Document<'t> {
    text: &'t str,
    first_line: u32,
}

/// Split on `---` separator lines. A file that uses Sigma collection actions (a
/// top-level `action: global`) needs its documents together, so it stays whole; an
/// indented `action:` is a selection on the normalized `action` field.
fn documents(text: &str) -> Vec<Document<'_>> {
    if text.lines().any(|l| l.starts_with("action:")) {
        return vec![Document {
            text,
            first_line: 1,
        }];
    }
    let mut docs = Vec::new();
    let (mut start, mut start_line, mut offset) = (0usize, 1u32, 0usize);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(i).unwrap_or(u32::MAX).saturating_add(1);
        if line.trim_end() == "---" {
            docs.push(Document {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    docs.push(Document {
        text: &text[start..],
        first_line: start_line,
    });
    docs.retain(|d| {
        d.text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

/// The 1-based (line, column) in `doc` of the first line containing `needle`.
fn find(doc: &Document<'_>, needle: &str) -> Option<(u32, u32)> {
    doc.text.lines().enumerate().find_map(|(i, line)| {
        line.find(needle).map(|col| {
            (
                doc.first_line + u32::try_from(i).unwrap_or(0),
                u32::try_from(col).unwrap_or(0) + 1,
            )
        })
    })
}

/// `(line, column)` from a message that says `line L column C` (YAML errors do).
fn location_in_message(message: &str) -> Option<(u32, u32)> {
    let at = message.find("line ")?;
    let mut words = message[at..].split_whitespace();
    let _ = words.next();
    let line = words.next()?.trim_end_matches(',').parse().ok()?;
    if words.next()? != "column" {
        return None;
    }
    let column = words
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((line, column))
}

/// Where in `doc` an error message most likely points.
fn locate(doc: &Document<'_>, message: &str) -> (u32, u32) {
    if let Some((line, column)) = location_in_message(message) {
        return (doc.first_line + line.saturating_sub(1), column);
    }
    // Quoted names in the message: a modifier, a field, a rule reference.
    for quoted in message.split('\'').skip(1).step_by(2) {
        if quoted.is_empty() {
            continue;
        }
        if let Some(at) = find(doc, &format!("|{quoted}")) {
            return at;
        }
        if let Some(at) = find(doc, quoted) {
            return at;
        }
    }
    let lower = message.to_ascii_lowercase();
    for key in [
        "condition",
        "correlation",
        "timespan",
        "detection",
        "logsource",
        "title",
    ] {
        if lower.contains(key)
            && let Some(at) = find(doc, &format!("{key}:"))
        {
            return at;
        }
    }
    (doc.first_line, 1)
}

fn error(file: &str, (line, column): (u32, u32), code: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: code.to_string(),
        message,
        file: file.to_string(),
        line,
        column,
    }
}

/// A warning for every field a document's rules read that no source they see provides:
/// such a selection can never match.
fn field_warnings(
    path: &str,
    doc: &Document<'_>,
    collection: &SigmaCollection,
    warnings: &mut Vec<Diagnostic>,
) {
    let mut sources: Vec<_> = collection
        .rules
        .iter()
        .flat_map(|r| coverage::sources_for(&r.logsource))
        .collect();
    if sources.is_empty() {
        return;
    }
    sources.sort();
    sources.dedup();
    let fields = RuleFieldSet::collect(collection, &[], false);
    for (field, origin) in fields.iter() {
        if coverage::provided(field, &sources) {
            continue;
        }
        let rules: Vec<&str> = origin.rule_titles.iter().map(String::as_str).collect();
        let (line, column) = find(doc, &format!("{field}:"))
            .or_else(|| find(doc, &format!("{field}|")))
            .or_else(|| find(doc, field))
            .unwrap_or((doc.first_line, 1));
        warnings.push(Diagnostic {
            severity: Severity::Warning,
            code: "rule.field-unprovided".into(),
            message: format!(
                "field `{field}` is provided by no source this rule sees ({}); '{}' cannot match on it",
                sources
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                rules.join("', '")
            ),
            file: path.to_string(),
            line,
            column,
        });
    }
}

/// The longest regular expression a rule may hold, in bytes: the `regex` crate bounds
/// matching time, but a huge pattern still costs memory and compile time on every
/// reload inside a sandbox with a memory cap.
const MAX_REGEX_BYTES: usize = 4096;
/// The most values one detection item may list (an allow-list belongs in the policy).
const MAX_VALUES_PER_ITEM: usize = 10_000;
/// The most values an `|all` item may list. Values of an ordinary item share one
/// automaton, but each `|all` value is searched for on its own, so such an item costs
/// one scan of the field per value on every event: 2,000 `contains|all` values over a
/// 300 KB command line take seconds. Real rules list a handful.
const MAX_ALL_VALUES_PER_ITEM: usize = 64;

/// Rules too costly to run in a pipeline: a regex over the size limit, a value list past
/// the item limit. Errors, located at the field they are on.
fn cost_errors(path: &str, doc: &Document<'_>, rule: &SigmaRule, out: &mut Vec<Diagnostic>) {
    fn walk(d: &Detection, found: &mut Vec<(String, String)>) {
        match d {
            Detection::AllOf(items) => {
                for item in items {
                    let field = item.field.name.clone().unwrap_or_default();
                    if item.values.len() > MAX_VALUES_PER_ITEM {
                        found.push((
                            field.clone(),
                            format!(
                                "{} values in one item (limit {MAX_VALUES_PER_ITEM}); move the list into policy.yml",
                                item.values.len()
                            ),
                        ));
                    }
                    if item.field.modifiers.contains(&Modifier::All)
                        && item.values.len() > MAX_ALL_VALUES_PER_ITEM
                    {
                        found.push((
                            field.clone(),
                            format!(
                                "{} values under |all (limit {MAX_ALL_VALUES_PER_ITEM}): each one is a \
                                 separate scan of the field on every event",
                                item.values.len()
                            ),
                        ));
                    }
                    if item.field.modifiers.contains(&Modifier::Re) {
                        for v in &item.values {
                            if let SigmaValue::String(s) = v
                                && s.original.len() > MAX_REGEX_BYTES
                            {
                                found.push((
                                    field.clone(),
                                    format!(
                                        "a regular expression of {} bytes (limit {MAX_REGEX_BYTES})",
                                        s.original.len()
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            Detection::AnyOf(subs) => subs.iter().for_each(|s| walk(s, found)),
            Detection::Keywords(values) if values.len() > MAX_VALUES_PER_ITEM => {
                found.push((
                    String::new(),
                    format!("{} keywords (limit {MAX_VALUES_PER_ITEM})", values.len()),
                ));
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for detection in rule.detection.named.values() {
        walk(detection, &mut found);
    }
    for (field, message) in found {
        let at = if field.is_empty() {
            find(doc, "detection:")
        } else {
            find(doc, &format!("{field}|")).or_else(|| find(doc, &field))
        };
        out.push(error(
            path,
            at.unwrap_or((doc.first_line, 1)),
            "rule.too-costly",
            format!("rule '{}': {message}", rule.title),
        ));
    }
}

/// Parse and compile a whole pack. `Err` carries every error found, not just the first.
pub(crate) fn compile(files: &[PackFile]) -> Result<(RuleSet, PackInfo), Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut warnings = Vec::new();
    let policy = load_policy(files, &mut diagnostics);
    let known: Vec<&str> = policy.vars().into_iter().map(|(k, _)| k).collect();
    // Rules referenced only by correlations are steps, not findings: they alert only
    // through the correlation (unless it says `generate: true`).
    // Correlation state is bounded deliberately (policy thresholds): a correlation
    // grouped by a field with a new value on every event (a request id, a uid) would
    // otherwise keep a window per value. rsigma evicts the stalest windows past
    // `max_state_entries`; the detector counts those evictions and reports the first.
    let thresholds = policy.thresholds;
    let mut engine = CorrelationEngine::new(CorrelationConfig {
        emit_detections: false,
        max_state_entries: thresholds.correlation_max_groups,
        max_group_entries: Some(thresholds.correlation_max_group_entries),
        ..CorrelationConfig::default()
    });
    engine.add_pipeline(policy_pipeline(&policy));
    let (mut rules, mut correlations) = (0u32, 0u32);
    // Correlations reference rules by id or name, possibly in other files: add every
    // detection rule first, then every correlation.
    let mut pending = Vec::new();

    for file in files.iter().filter(|f| is_rule_file(&f.path)) {
        for doc in documents(&file.text) {
            for (at, name) in unknown_placeholders(&doc, &known) {
                diagnostics.push(error(
                    &file.path,
                    at,
                    "rule.placeholder",
                    format!(
                        "placeholder `%{name}%` is not defined by the policy (known: {})",
                        known.join(", ")
                    ),
                ));
            }
            let collection: SigmaCollection = match parse_sigma_yaml(doc.text) {
                Ok(c) => c,
                Err(e) => {
                    let message = e.to_string();
                    diagnostics.push(error(
                        &file.path,
                        locate(&doc, &message),
                        "rule.parse",
                        message,
                    ));
                    continue;
                }
            };
            for message in &collection.errors {
                diagnostics.push(error(
                    &file.path,
                    locate(&doc, message),
                    "rule.parse",
                    message.clone(),
                ));
            }
            field_warnings(&file.path, &doc, &collection, &mut warnings);
            for rule in &collection.rules {
                cost_errors(&file.path, &doc, rule, &mut diagnostics);
                match engine.add_rule(rule) {
                    Ok(()) => rules += 1,
                    Err(e) => {
                        let message = format!("rule '{}': {e}", rule.title);
                        diagnostics.push(error(
                            &file.path,
                            locate(&doc, &e.to_string()),
                            "rule.compile",
                            message,
                        ));
                    }
                }
            }
            if !collection.filters.is_empty() {
                diagnostics.push(error(
                    &file.path,
                    find(&doc, "filter:").unwrap_or((doc.first_line, 1)),
                    "rule.unsupported",
                    "Sigma filter documents are not supported in a pack; use rule conditions"
                        .into(),
                ));
            }
            for corr in collection.correlations {
                pending.push((
                    file.path.clone(),
                    doc.first_line,
                    doc.text.to_string(),
                    corr,
                ));
            }
        }
    }
    for (path, first_line, text, corr) in pending {
        match engine.add_correlation(&corr) {
            Ok(()) => correlations += 1,
            Err(e) => {
                let doc = Document {
                    text: &text,
                    first_line,
                };
                let message = format!("correlation '{}': {e}", corr.title);
                diagnostics.push(error(
                    &path,
                    locate(&doc, &e.to_string()),
                    "rule.compile",
                    message,
                ));
            }
        }
    }
    if rules == 0 && diagnostics.is_empty() {
        diagnostics.push(error(
            files.first().map_or("<pack>", |f| f.path.as_str()),
            (1, 1),
            "pack.empty",
            "the pack has no Sigma rules".into(),
        ));
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let info = PackInfo {
        rules,
        correlations,
        warnings,
    };
    Ok((RuleSet::new(engine, policy), info))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(path: &str, text: &str) -> Vec<PackFile> {
        vec![PackFile {
            path: path.into(),
            text: text.into(),
        }]
    }

    const GOOD: &str = "title: Privileged\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n  category: container\ndetection:\n  sel:\n    container.privileged: true\n  condition: sel\nlevel: high\n";

    #[test]
    fn default_pack_compiles() {
        let (_, info) = compile(&default_pack()).expect("the shipped pack compiles");
        assert!(info.rules >= 5, "{info:?}");
        assert!(info.correlations >= 4, "{info:?}");
        assert!(info.warnings.is_empty(), "{:#?}", info.warnings);
    }

    #[test]
    fn yaml_error_is_located_in_the_right_document() {
        let text = format!(
            "{GOOD}---\ntitle: Broken\nlogsource:\n  category: container\ndetection:\n  sel: [unclosed\n  condition: sel\n"
        );
        let errs = compile(&pack("rules/a.yml", &text))
            .err()
            .expect("rejected");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].file, "rules/a.yml");
        // The broken document starts on line 11; its bad flow sequence is on line 15 or 16.
        assert!((15..=16).contains(&errs[0].line), "{}", errs[0]);
    }

    #[test]
    fn unknown_modifier_points_at_the_modifier() {
        let text = GOOD.replace("container.privileged:", "container.image|bogus:");
        let errs = compile(&pack("x.yml", &text)).err().expect("rejected");
        assert_eq!((errs[0].line, errs[0].column), (7, 20), "{}", errs[0]);
    }

    #[test]
    fn bad_condition_points_at_the_condition() {
        let text = GOOD.replace("condition: sel", "condition: sel and and");
        let errs = compile(&pack("x.yml", &text)).err().expect("rejected");
        assert_eq!(errs[0].line, 8, "{}", errs[0]);
    }

    #[test]
    fn one_bad_file_rejects_the_whole_pack() {
        let mut files = pack("good.yml", GOOD);
        files.extend(pack("bad.yml", "title: x\ndetection: [\n"));
        let errs = compile(&files).err().expect("rejected");
        assert!(errs.iter().all(|d| d.file == "bad.yml"), "{errs:?}");
    }

    #[test]
    fn policy_and_tests_are_not_rule_files() {
        assert!(is_rule_file("k8s/privileged.yml"));
        assert!(!is_rule_file("policy.yml"));
        assert!(!is_rule_file("tests/privileged.yml"));
        assert!(!is_rule_file("README.md"));
        assert!(is_policy_file("policy.yml"));
        assert!(!is_policy_file("tests/policy.yml"));
    }

    #[test]
    fn placeholders_expand_from_the_policy() {
        let rule = "title: Unapproved registry\nid: r1\nlogsource:\n  category: container\ndetection:\n  ok:\n    container.image.registry|expand: '%approved_registries%'\n  condition: not ok\nlevel: low\n";
        let policy = "registries:\n  approved: [registry.example.com, '*.azurecr.io']\n";
        let mut files = pack("r.yml", rule);
        files.extend(pack("policy.yml", policy));
        let (rules, _) = compile(&files).expect("compiles");
        let rule = &rules.engine_rules()[0];
        let text = format!("{rule:?}");
        assert!(text.contains("registry.example.com"), "{text}");
        assert!(!text.contains("%approved_registries%"), "{text}");
    }

    #[test]
    fn an_unknown_placeholder_is_an_error_at_its_place() {
        let rule = GOOD.replace(
            "container.privileged: true",
            "container.image.registry: '%aproved_registries%'",
        );
        let errs = compile(&pack("x.yml", &rule)).err().expect("rejected");
        assert_eq!(errs[0].code, "rule.placeholder");
        assert_eq!((errs[0].line, errs[0].column), (7, 32), "{}", errs[0]);
    }

    #[test]
    fn a_huge_regex_is_rejected_as_too_costly() {
        let pattern = "a".repeat(MAX_REGEX_BYTES + 1);
        let rule = GOOD.replace(
            "container.privileged: true",
            &format!("container.image|re: '{pattern}'"),
        );
        let errs = compile(&pack("x.yml", &rule)).err().expect("rejected");
        assert_eq!(errs[0].code, "rule.too-costly", "{errs:?}");
        assert_eq!((errs[0].line, errs[0].column), (7, 5), "{}", errs[0]);
    }

    #[test]
    fn a_field_no_source_provides_is_a_warning_at_the_field() {
        let rule = "title: Bare apiGroup\nid: w1\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel:\n    apiGroup: rbac.authorization.k8s.io\n    verb: create\n  condition: sel\nlevel: low\n";
        let (_, info) = compile(&pack("w.yml", rule)).expect("compiles");
        assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
        let w = &info.warnings[0];
        assert_eq!(w.code, "rule.field-unprovided");
        assert_eq!((w.line, w.column), (8, 5), "{w}");
        assert!(w.message.contains("`apiGroup`"), "{w}");
    }

    #[test]
    fn a_bad_policy_rejects_the_pack_with_its_location() {
        let mut files = pack("good.yml", GOOD);
        files.extend(pack(
            "policy.yml",
            "egress:\n  allow_cidrs: [300.0.0.0/8]\n",
        ));
        let errs = compile(&files).err().expect("rejected");
        assert_eq!(errs[0].file, "policy.yml");
        assert_eq!(errs[0].code, "policy.parse");
        assert_eq!(errs[0].line, 2);
    }
}
