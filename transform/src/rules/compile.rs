//! Compiling a pack: every rule file's documents parsed, checked and added to one
//! correlation engine with the policy's placeholders expanded, all or nothing.

use std::collections::HashMap;

use rsigma_eval::pipeline::{Pipeline, Transformation, TransformationItem};
use rsigma_eval::{CorrelationConfig, CorrelationEngine, RuleFieldSet};
use rsigma_parser::{SigmaCollection, parse_sigma_yaml};

use super::lint::{Lint, field_typo};
use super::{RuleSet, coverage};
use crate::api::{Diagnostic, PackFile, PackInfo, Severity};
use crate::pack::checks::{cost_errors, unknown_placeholders};
use crate::pack::documents::{Document, documents, error, find, locate};
use crate::pack::policy::Policy;
use crate::pack::{content_hash, is_rule_file, load_policy};
use crate::suggest::did_you_mean;

/// Compile `files` as a pack without running it: what `configure` would say.
pub fn check_pack(files: &[PackFile]) -> Result<PackInfo, Vec<Diagnostic>> {
    compile(files).map(|(_, info)| info)
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

/// Every field a document's rules read that no source they see provides: such a
/// selection can never match. An error when the field is a near miss of a registry name
/// (`workload.namepsace`), a warning otherwise (a raw field of a source the rule does not
/// reach, such as SigmaHQ's bare `apiGroup`).
fn field_warnings(
    path: &str,
    doc: &Document<'_>,
    collection: &SigmaCollection,
    errors: &mut Vec<Diagnostic>,
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
        if let Some(meant) = field_typo(field) {
            errors.push(error(
                path,
                (line, column),
                "rule.field-unknown",
                format!(
                    "field `{field}` is not a field any source provides; did you mean `{meant}`? ('{}' cannot match on it)",
                    rules.join("', '")
                ),
            ));
            continue;
        }
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

/// rsigma says `invalid level: 'hihg'` for a value outside Sigma's closed lists of levels
/// and statuses: add the value probably meant.
fn closed_value_hint(message: &str) -> String {
    const CLOSED: [(&str, &[&str]); 2] = [
        (
            "invalid level: '",
            &["informational", "low", "medium", "high", "critical"],
        ),
        (
            "invalid status: '",
            &[
                "stable",
                "test",
                "experimental",
                "deprecated",
                "unsupported",
            ],
        ),
    ];
    CLOSED
        .iter()
        .find_map(|(prefix, values)| {
            let value = message.strip_prefix(prefix)?.strip_suffix('\'')?;
            Some(format!(
                "{} (one of: {})",
                did_you_mean(value, values.iter().copied()),
                values.join(", ")
            ))
        })
        .unwrap_or_default()
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
    let mut lint = Lint::default();

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
                    format!("{message}{}", closed_value_hint(message)),
                ));
            }
            field_warnings(
                &file.path,
                &doc,
                &collection,
                &mut diagnostics,
                &mut warnings,
            );
            for rule in &collection.rules {
                cost_errors(&file.path, &doc, rule, &mut diagnostics);
                let before = lint.errors.len();
                lint.rule(&file.path, &doc, rule);
                let undefined_reported = lint.errors[before..]
                    .iter()
                    .any(|d| d.code == "rule.condition-undefined");
                match engine.add_rule(rule) {
                    Ok(()) => rules += 1,
                    // Already said, with a suggestion.
                    Err(rsigma_eval::EvalError::UnknownDetection(_)) if undefined_reported => {}
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
                lint.correlation(&file.path, &doc, &corr);
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
    lint.finish(files, &policy);
    diagnostics.append(&mut lint.errors);
    warnings.append(&mut lint.warnings);
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
    Ok((RuleSet::new(engine, policy, content_hash(files)), info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::checks::MAX_REGEX_BYTES;
    use crate::pack::default_pack;

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
