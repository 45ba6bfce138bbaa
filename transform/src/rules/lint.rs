//! Checks for rules that load but silently never match, or match far too much: each is
//! located at `file:line:column` and says what was probably meant when a near name exists.
//!
//! - a `logsource` no source answers to (`product: kubernets`);
//! - values outside a closed vocabulary: `action` and `source` (the model's names);
//! - a field typo close to a registry name (`workload.namepsace`): an error, where a
//!   field no source provides and nothing resembles stays a warning
//!   (`rule.field-unprovided`, in `compile`);
//! - selections the condition never uses, names the condition uses but never defines;
//! - keyword selections whose items look like `field|modifier: value` (a mis-indented
//!   map: `admin:` becomes a search for that text anywhere);
//! - ATT&CK tags and analytics ATT&CK does not have (`attack.t16O9`);
//! - rule ids used twice in the pack;
//! - policy exceptions naming rules or fields that do not exist;
//! - a correlation grouped by a field none of its rules' sources provide.

use std::collections::{HashMap, HashSet};

use rsigma_parser::{
    ConditionExpr, CorrelationRule, Detection, LogSource, SelectorPattern, SigmaRule, SigmaValue,
};

use super::coverage::{provided, sources_for};
use super::derived::DERIVED;
use crate::api::{Diagnostic, PackFile, Severity};
use crate::attack::{AttackTag, Status, analytic, classify, data_object};
use crate::decode::FORMATS;
use crate::model::fields::FIELDS;
use crate::model::{Action, Source};
use crate::pack::documents::{Document, error, find};
use crate::pack::is_policy_file;
use crate::pack::policy::Policy;
use crate::suggest::{did_you_mean, nearest};

/// Every normalized and derived field name: what a field typo is compared against.
pub(crate) fn registry_names() -> impl Iterator<Item = &'static str> {
    FIELDS
        .iter()
        .map(|f| f.name)
        .chain(DERIVED.iter().map(|f| f.name))
}

/// The registry name a field that no source provides was probably meant to be.
pub(crate) fn field_typo(field: &str) -> Option<&'static str> {
    nearest(field, registry_names())
}

fn warning(file: &str, (line, column): (u32, u32), code: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        ..error(file, (line, column), code, message)
    }
}

/// Where a YAML key's value starts on the key's line: `product: kubernets` -> the `k`.
fn value_of_key(doc: &Document<'_>, key: &str, value: &str) -> (u32, u32) {
    doc.text
        .lines()
        .enumerate()
        .find_map(|(i, line)| {
            let at = line.find(&format!("{key}:"))?;
            let col = line[at..].find(value).map(|c| at + c)?;
            Some((
                doc.first_line + u32::try_from(i).unwrap_or(0),
                u32::try_from(col).unwrap_or(0) + 1,
            ))
        })
        .or_else(|| find(doc, value))
        .unwrap_or((doc.first_line, 1))
}

/// Where `name:` is defined as a selection (the first indented line that starts with it).
fn selection_at(doc: &Document<'_>, name: &str) -> (u32, u32) {
    doc.text
        .lines()
        .enumerate()
        .find_map(|(i, line)| {
            let trimmed = line.trim_start();
            let rest = trimmed.strip_prefix(name)?;
            (line.len() > trimmed.len() && rest.trim_start().starts_with(':')).then(|| {
                (
                    doc.first_line + u32::try_from(i).unwrap_or(0),
                    u32::try_from(line.len() - trimmed.len()).unwrap_or(0) + 1,
                )
            })
        })
        .unwrap_or((doc.first_line, 1))
}

/// A logsource that reaches no source: every rule with it is never evaluated.
fn logsource(path: &str, doc: &Document<'_>, ls: &LogSource, out: &mut Vec<Diagnostic>) {
    if (ls.product.is_none() && ls.service.is_none()) || !sources_for(ls).is_empty() {
        return;
    }
    let products: Vec<&str> = {
        let mut p: Vec<&str> = FORMATS.iter().map(|f| f.logsource.0).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    if let Some(product) = &ls.product
        && !products.iter().any(|p| p.eq_ignore_ascii_case(product))
    {
        out.push(error(
            path,
            value_of_key(doc, "product", product),
            "rule.logsource",
            format!(
                "logsource product `{product}` is not one any source answers to, so the rule is never evaluated{} (products: {})",
                did_you_mean(product, products.iter().copied()),
                products.join(", ")
            ),
        ));
        return;
    }
    let services: Vec<&str> = FORMATS
        .iter()
        .filter(|f| {
            ls.product
                .as_deref()
                .is_none_or(|p| p.eq_ignore_ascii_case(f.logsource.0))
        })
        .map(|f| f.logsource.1)
        .collect();
    let service = ls.service.as_deref().unwrap_or_default();
    out.push(error(
        path,
        value_of_key(doc, "service", service),
        "rule.logsource",
        format!(
            "logsource service `{service}`{} reaches no source, so the rule is never evaluated{} (services: {})",
            ls.product
                .as_deref()
                .map_or_else(String::new, |p| format!(" of product `{p}`")),
            did_you_mean(service, services.iter().copied()),
            services.join(", ")
        ),
    ));
}

/// Values of `action` and `source` that are not in the model's vocabulary.
fn vocabulary(path: &str, doc: &Document<'_>, rule: &SigmaRule, out: &mut Vec<Diagnostic>) {
    fn walk<'d>(d: &'d Detection, found: &mut Vec<(&'d str, &'d str)>) {
        match d {
            Detection::AllOf(items) => {
                for item in items {
                    let Some(field) = item.field.name.as_deref() else {
                        continue;
                    };
                    // Only exact matches compare against the vocabulary: `|contains`,
                    // `|re` and the like look for parts.
                    if !matches!(field, "action" | "source")
                        || !item
                            .field
                            .modifiers
                            .iter()
                            .all(|m| matches!(m, rsigma_parser::Modifier::Cased))
                    {
                        continue;
                    }
                    for value in &item.values {
                        if let SigmaValue::String(s) = value
                            && s.is_plain()
                        {
                            found.push((field, s.original.as_str()));
                        }
                    }
                }
            }
            Detection::AnyOf(subs) => subs.iter().for_each(|s| walk(s, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for detection in rule.detection.named.values() {
        walk(detection, &mut found);
    }
    found.sort_unstable();
    found.dedup();
    for (field, value) in found {
        let names: Vec<&str> = if field == "action" {
            Action::ALL.iter().map(|a| a.as_str()).collect()
        } else {
            Source::ALL.iter().map(|s| s.as_str()).collect()
        };
        if names.iter().any(|n| n.eq_ignore_ascii_case(value)) {
            continue;
        }
        let kind = if field == "action" {
            "an action"
        } else {
            "a source"
        };
        out.push(error(
            path,
            find(doc, value).unwrap_or((doc.first_line, 1)),
            "rule.vocabulary",
            format!(
                "rule '{}': `{value}` is not {kind}, so `{field}: {value}` never matches{} ({field}s: {})",
                rule.title,
                did_you_mean(value, names.iter().copied()),
                names.join(", ")
            ),
        ));
    }
}

/// The names a condition uses, and whether it uses them all (`all of them`).
fn condition_names(expr: &ConditionExpr, names: &mut Vec<String>, patterns: &mut Vec<String>) {
    match expr {
        ConditionExpr::And(xs) | ConditionExpr::Or(xs) => {
            xs.iter().for_each(|x| condition_names(x, names, patterns))
        }
        ConditionExpr::Not(x) => condition_names(x, names, patterns),
        ConditionExpr::Identifier(name) => names.push(name.clone()),
        ConditionExpr::Selector { pattern, .. } => match pattern {
            SelectorPattern::Them => patterns.push("*".into()),
            SelectorPattern::Pattern(p) => patterns.push(p.clone()),
        },
    }
}

/// `*` glob over selection names, as Sigma's `1 of selection_*` uses it.
fn glob_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len() + tail.len()
                && name.starts_with(head)
                && glob_matches_rest(tail, &name[head.len()..])
        }
    }
}

fn glob_matches_rest(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return name.ends_with(pattern);
    }
    (0..=name.len())
        .filter(|i| name.is_char_boundary(*i))
        .any(|i| glob_matches(pattern, &name[i..]))
}

/// A keyword item that reads like a field map: `principal.name|expand: x` or a bare
/// `principal.name|expand`.
fn looks_like_field(text: &str) -> bool {
    let key = text.split_once(':').map_or(text, |(k, _)| k).trim();
    let (name, modifiers) = key.split_once('|').unwrap_or((key, ""));
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name.starts_with(|c: char| c.is_ascii_alphabetic());
    is_name
        && (text.contains(':') || !modifiers.is_empty() || name.contains('.'))
        && (!modifiers.is_empty() || name.contains('.') || text.contains(": "))
}

/// Selections the condition never uses, names it uses that are not defined, keyword
/// selections that were meant as field maps.
fn selections(
    path: &str,
    doc: &Document<'_>,
    rule: &SigmaRule,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    let (mut names, mut patterns) = (Vec::new(), Vec::new());
    for expr in &rule.detection.conditions {
        condition_names(expr, &mut names, &mut patterns);
    }
    let defined: Vec<&str> = rule.detection.named.keys().map(String::as_str).collect();
    names.sort();
    names.dedup();
    for name in &names {
        if !defined.contains(&name.as_str()) {
            errors.push(error(
                path,
                find(doc, "condition:").unwrap_or((doc.first_line, 1)),
                "rule.condition-undefined",
                format!(
                    "rule '{}': the condition uses `{name}`, which no selection defines{}",
                    rule.title,
                    did_you_mean(name, defined.iter().copied())
                ),
            ));
        }
    }
    let mut sorted = defined.clone();
    sorted.sort_unstable();
    for name in sorted {
        let used =
            names.iter().any(|n| n == name) || patterns.iter().any(|p| glob_matches(p, name));
        let detection = &rule.detection.named[name];
        if looks_like_field(name) {
            errors.push(error(
                path,
                selection_at(doc, name),
                "rule.keyword-selection",
                format!(
                    "rule '{}': `{name}` is a selection of its own, not a field of the selection above it: \
                     indent it under the selection it belongs to",
                    rule.title
                ),
            ));
            continue;
        }
        if let Detection::Keywords(values) = detection
            && let Some(text) = values.iter().find_map(|v| match v {
                SigmaValue::String(s) if looks_like_field(&s.original) => Some(&s.original),
                _ => None,
            })
        {
            errors.push(error(
                path,
                find(doc, text).unwrap_or_else(|| selection_at(doc, name)),
                "rule.keyword-selection",
                format!(
                    "rule '{}': selection `{name}` is a keyword search for the text `{text}` anywhere in \
                     the record, not a field match; write it as a map (`{name}:` then, indented, \
                     `{}: <value>`, without the leading `- `)",
                    rule.title,
                    text.split_once(':').map_or(text.as_str(), |(k, _)| k).trim()
                ),
            ));
            continue;
        }
        if !used {
            warnings.push(warning(
                path,
                selection_at(doc, name),
                "rule.selection-unused",
                format!(
                    "rule '{}': selection `{name}` is defined but the condition never uses it",
                    rule.title
                ),
            ));
        }
    }
}

/// `attack.stealth`: letters and separators only, so no technique, group or software id.
fn looks_like_tactic_name(tag: &str) -> bool {
    let name = tag.trim_start_matches("attack.");
    name.len() > 3
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
}

/// `attack.*` tags and the `analytic:` attribute against the ATT&CK table.
fn attack(
    path: &str,
    doc: &Document<'_>,
    title: &str,
    tags: &[String],
    analytic_id: Option<&str>,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    for tag in tags {
        let at = find(doc, tag).unwrap_or((doc.first_line, 1));
        match classify(tag) {
            None | Some(AttackTag::Tactic(_)) => {}
            // A name close to a known one is a typo; a name like no id and near nothing
            // (`attack.stealth`) may be a tactic of an ATT&CK newer than the built-in
            // table, so it is only a warning.
            Some(AttackTag::Unknown { suggestion: None }) if looks_like_tactic_name(tag) => {
                warnings.push(warning(
                    path,
                    at,
                    "rule.attack-tag",
                    format!(
                        "rule '{title}': `{tag}` is no tactic of ATT&CK {} (the built-in table); \
                         if a newer ATT&CK defines it, findings will not name it",
                        crate::attack::version()
                    ),
                ))
            }
            Some(AttackTag::Unknown { suggestion }) => errors.push(error(
                path,
                at,
                "rule.attack-tag",
                format!(
                    "rule '{title}': `{tag}` is no ATT&CK Enterprise tactic or technique{}",
                    suggestion.map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
                ),
            )),
            Some(AttackTag::Technique(t)) => match t.status {
                Status::Current => {}
                Status::Deprecated => warnings.push(warning(
                    path,
                    at,
                    "rule.attack-tag",
                    format!("rule '{title}': ATT&CK deprecated {} ({})", t.id, t.name),
                )),
                Status::Revoked { by } => warnings.push(warning(
                    path,
                    at,
                    "rule.attack-tag",
                    format!(
                        "rule '{title}': ATT&CK revoked {} ({}); use `attack.{}`",
                        t.id,
                        t.name,
                        by.to_ascii_lowercase()
                    ),
                )),
            },
            Some(AttackTag::Entity { id, status, .. }) => {
                if status.is_none() {
                    errors.push(error(
                        path,
                        at,
                        "rule.attack-tag",
                        format!("rule '{title}': ATT&CK has no {id}"),
                    ));
                }
            }
        }
    }
    if let Some(id) = analytic_id
        && analytic(id).is_none()
        && data_object(id).is_none()
    {
        errors.push(error(
            path,
            value_of_key(doc, "analytic", id),
            "rule.attack-tag",
            format!(
                "rule '{title}': `{id}` is no ATT&CK analytic (`AN0693`) or data component (`DC0077`)"
            ),
        ));
    }
}

/// What the pack-wide checks need to know of each detection rule.
struct Known {
    key: String,
    name: Option<String>,
    title: String,
    sources: Vec<Source>,
    at: (String, u32, u32),
}

/// Pack-wide checks, fed one document at a time, then finished.
#[derive(Default)]
pub(crate) struct Lint {
    rules: Vec<Known>,
    correlations: Vec<(String, u32, String, CorrelationRule)>,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Lint {
    /// Check one detection rule of `doc`.
    pub(crate) fn rule(&mut self, path: &str, doc: &Document<'_>, rule: &SigmaRule) {
        logsource(path, doc, &rule.logsource, &mut self.errors);
        vocabulary(path, doc, rule, &mut self.errors);
        selections(path, doc, rule, &mut self.errors, &mut self.warnings);
        let analytic_id = rule
            .custom_attributes
            .get("analytic")
            .and_then(|v| v.as_str());
        attack(
            path,
            doc,
            &rule.title,
            &rule.tags,
            analytic_id,
            &mut self.errors,
            &mut self.warnings,
        );
        let key = rule.id.clone().unwrap_or_else(|| rule.title.clone());
        let at = rule
            .id
            .as_deref()
            .map_or((doc.first_line, 1), |id| value_of_key(doc, "id", id));
        if let Some(first) = self
            .rules
            .iter()
            .find(|k| k.key == key && rule.id.is_some())
        {
            self.errors.push(error(
                path,
                at,
                "rule.duplicate-id",
                format!(
                    "rule '{}' has the id {key} of '{}' ({}:{}:{}): alerts, tests and exceptions \
                     could not tell them apart; give each rule its own id",
                    rule.title, first.title, first.at.0, first.at.1, first.at.2
                ),
            ));
        }
        self.rules.push(Known {
            key,
            name: rule.name.clone(),
            title: rule.title.clone(),
            sources: sources_for(&rule.logsource),
            at: (path.to_string(), at.0, at.1),
        });
    }

    /// Check one correlation of `doc` (its group-by is checked once every rule is known).
    pub(crate) fn correlation(&mut self, path: &str, doc: &Document<'_>, corr: &CorrelationRule) {
        attack(
            path,
            doc,
            &corr.title,
            &corr.tags,
            None,
            &mut self.errors,
            &mut self.warnings,
        );
        self.correlations.push((
            path.to_string(),
            doc.first_line,
            doc.text.to_string(),
            corr.clone(),
        ));
    }

    /// The checks that need the whole pack: correlation group-by fields and the policy's
    /// exceptions.
    pub(crate) fn finish(&mut self, files: &[PackFile], policy: &Policy) {
        for (path, first_line, text, corr) in std::mem::take(&mut self.correlations) {
            let doc = Document {
                text: &text,
                first_line,
            };
            self.group_by(&path, &doc, &corr);
        }
        self.exceptions(files, policy);
    }

    fn group_by(&mut self, path: &str, doc: &Document<'_>, corr: &CorrelationRule) {
        let referenced: Vec<&Known> = corr
            .rules
            .iter()
            .filter_map(|r| {
                self.rules
                    .iter()
                    .find(|k| k.key == *r || k.name.as_deref() == Some(r.as_str()))
            })
            .collect();
        if referenced.is_empty() {
            return;
        }
        let aliases: HashSet<&str> = corr.aliases.iter().map(|a| a.alias.as_str()).collect();
        for field in &corr.group_by {
            if aliases.contains(field.as_str())
                || referenced.iter().any(|k| provided(field, &k.sources))
            {
                continue;
            }
            let at = find(doc, field).unwrap_or((doc.first_line, 1));
            let message = format!(
                "correlation '{}' is grouped by `{field}`, which no source of its rules provides \
                 ({}): every event would fall in one group",
                corr.title,
                referenced
                    .iter()
                    .map(|k| k.title.as_str())
                    .collect::<Vec<_>>()
                    .join("', '")
            );
            match field_typo(field) {
                Some(meant) => self.errors.push(error(
                    path,
                    at,
                    "rule.group-by-unprovided",
                    format!("{message}; did you mean `{meant}`?"),
                )),
                None => self
                    .warnings
                    .push(warning(path, at, "rule.group-by-unprovided", message)),
            }
        }
    }

    fn exceptions(&mut self, files: &[PackFile], policy: &Policy) {
        let Some(file) = files.iter().find(|f| is_policy_file(&f.path)) else {
            return;
        };
        let doc = Document {
            text: &file.text,
            first_line: 1,
        };
        let keys: Vec<&str> = self.rules.iter().map(|k| k.key.as_str()).collect();
        let by_key: HashMap<&str, &Known> =
            self.rules.iter().map(|k| (k.key.as_str(), k)).collect();
        for exception in policy.exceptions() {
            let rule = by_key.get(exception.rule.as_str());
            if rule.is_none() {
                self.errors.push(error(
                    &file.path,
                    value_of_key(&doc, "rule", &exception.rule),
                    "policy.exception-rule",
                    format!(
                        "the exception names rule `{}`, which is not in the pack, so it suppresses nothing{}",
                        exception.rule,
                        did_you_mean(&exception.rule, keys.iter().copied())
                    ),
                ));
            }
            let sources = rule.map_or_else(|| Source::ALL.to_vec(), |k| k.sources.clone());
            for field in exception.when.keys() {
                if provided(field, &sources) {
                    continue;
                }
                self.errors.push(error(
                    &file.path,
                    find(&doc, &format!("{field}:")).unwrap_or((1, 1)),
                    "policy.exception-field",
                    format!(
                        "the exception for `{}` matches on `{field}`, which no source of the rule provides, \
                         so it suppresses nothing{}",
                        exception.rule,
                        did_you_mean(field, registry_names())
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::compile::compile;

    /// A rule as a SOC engineer writes one: a shell opened in a payments pod by anyone
    /// but the platform admins.
    const EXEC_RULE: &str = "\
title: Shell opened in a payments pod by a non-admin
id: 7c1e4a52-3b9d-4f0e-8a21-5d6c9e0b1f34
status: experimental
description: |
  Someone other than the platform admins ran a command in a payments pod.
author: SOC team
date: 2026-11-30
tags:
  - attack.execution
  - attack.t1609
logsource:
  product: kubernetes
  service: audit
detection:
  exec:
    action: container-exec
    workload.namespace: payments
  admin:
    principal.name|expand: '%admin_principals%'
  condition: exec and not admin
falsepositives:
  - Incident response by the on-call admin
level: high
";

    const POLICY: &str = "\
registries:
  approved: [registry.acme.internal]
principals:
  admins: [alice@acme.com, 'system:serviceaccount:platform:*']
";

    fn check(files: &[(&str, &str)]) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
        let files: Vec<PackFile> = files
            .iter()
            .map(|(path, text)| PackFile {
                path: (*path).into(),
                text: (*text).into(),
            })
            .collect();
        match compile(&files) {
            Ok((_, info)) => (Vec::new(), info.warnings),
            Err(errors) => (errors, Vec::new()),
        }
    }

    /// The one diagnostic with `code`, asserting where it is and what it suggests.
    fn only<'d>(found: &'d [Diagnostic], code: &str) -> &'d Diagnostic {
        let hits: Vec<&Diagnostic> = found.iter().filter(|d| d.code == code).collect();
        assert_eq!(hits.len(), 1, "one {code} in {found:#?}");
        hits[0]
    }

    fn with(old: &str, new: &str) -> String {
        assert!(EXEC_RULE.contains(old), "{old}");
        EXEC_RULE.replace(old, new)
    }

    #[test]
    fn the_rule_as_written_is_clean() {
        let (errors, warnings) = check(&[("exec.yml", EXEC_RULE), ("policy.yml", POLICY)]);
        assert!(
            errors.is_empty() && warnings.is_empty(),
            "{errors:#?} {warnings:#?}"
        );
    }

    #[test]
    fn a_product_no_source_answers_to() {
        let rule = with("product: kubernetes", "product: kubernets");
        let (errors, _) = check(&[("exec.yml", &rule)]);
        let d = only(&errors, "rule.logsource");
        assert_eq!(
            (d.file.as_str(), d.line, d.column),
            ("exec.yml", 12, 12),
            "{d}"
        );
        assert!(d.message.contains("did you mean `kubernetes`?"), "{d}");
        let rule = with("service: audit", "service: audits");
        let (errors, _) = check(&[("exec.yml", &rule)]);
        let d = only(&errors, "rule.logsource");
        assert_eq!((d.line, d.column), (13, 12), "{d}");
        assert!(d.message.contains("did you mean `audit`?"), "{d}");
    }

    #[test]
    fn an_action_outside_the_vocabulary() {
        let rule = with("action: container-exec", "action: container_exec");
        let (errors, _) = check(&[("exec.yml", &rule)]);
        let d = only(&errors, "rule.vocabulary");
        assert_eq!((d.line, d.column), (16, 13), "{d}");
        assert!(d.message.contains("did you mean `container-exec`?"), "{d}");
        let rule = with("    workload.namespace: payments", "    source: k8s-audit");
        let (errors, _) = check(&[("exec.yml", &rule)]);
        assert!(
            only(&errors, "rule.vocabulary")
                .message
                .contains("did you mean `k8s_audit`?"),
            "{errors:#?}"
        );
    }

    #[test]
    fn a_level_or_status_outside_sigmas_lists() {
        let rule = with("level: high", "level: hihg");
        let (errors, _) = check(&[("exec.yml", &rule)]);
        let d = only(&errors, "rule.parse");
        assert_eq!((d.line, d.column), (23, 8), "{d}");
        assert!(d.message.contains("did you mean `high`?"), "{d}");
    }

    #[test]
    fn a_field_typo_is_an_error_with_the_field_meant() {
        let rule = with(
            "workload.namespace: payments",
            "workload.namepsace: payments",
        );
        let (errors, _) = check(&[("exec.yml", &rule)]);
        let d = only(&errors, "rule.field-unknown");
        assert_eq!((d.line, d.column), (17, 5), "{d}");
        assert!(
            d.message.contains("did you mean `workload.namespace`?"),
            "{d}"
        );
    }

    #[test]
    fn two_rules_with_one_id() {
        let copy = with(
            "title: Shell opened in a payments pod by a non-admin",
            "title: Shell opened in a billing pod",
        )
        .replace("payments", "billing");
        let (errors, _) = check(&[("exec.yml", EXEC_RULE), ("more/billing.yml", &copy)]);
        let d = only(&errors, "rule.duplicate-id");
        assert_eq!(
            (d.file.as_str(), d.line, d.column),
            ("more/billing.yml", 2, 5),
            "{d}"
        );
        assert!(d.message.contains("exec.yml:2:5"), "{d}");
    }

    #[test]
    fn a_mis_indented_field_under_a_selection() {
        // The field slid left: `admin` is empty and the field became a selection.
        let rule = with(
            "  admin:\n    principal.name|expand",
            "  admin:\n  principal.name|expand",
        );
        let (errors, _) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        let d = only(&errors, "rule.keyword-selection");
        assert_eq!((d.line, d.column), (19, 3), "{d}");
        // A list item written as text: `admin` searches for that text anywhere.
        let rule = with(
            "    principal.name|expand: '%admin_principals%'",
            "    - 'principal.name|expand: %admin_principals%'",
        );
        let (errors, _) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        let d = only(&errors, "rule.keyword-selection");
        assert_eq!(d.line, 19, "{d}");
        assert!(d.message.contains("keyword search"), "{d}");
        assert!(
            d.message.contains("`principal.name|expand: <value>`"),
            "{d}"
        );
    }

    #[test]
    fn selections_unused_and_names_undefined() {
        let rule = with("condition: exec and not admin", "condition: exec");
        let (errors, warnings) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        assert!(errors.is_empty(), "{errors:#?}");
        let d = only(&warnings, "rule.selection-unused");
        assert_eq!((d.line, d.column), (18, 3), "{d}");
        assert!(d.message.contains("`admin`"), "{d}");
        let rule = with(
            "condition: exec and not admin",
            "condition: exec and not admins",
        );
        let (errors, _) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        let d = only(&errors, "rule.condition-undefined");
        assert_eq!(d.line, 20, "{d}");
        assert!(d.message.contains("did you mean `admin`?"), "{d}");
        assert!(
            !errors.iter().any(|e| e.code == "rule.compile"),
            "{errors:#?}"
        );
        // `1 of` patterns use what they match.
        let rule = with(
            "condition: exec and not admin",
            "condition: exec and not 1 of adm*",
        );
        let (errors, warnings) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        assert!(
            errors.is_empty() && warnings.is_empty(),
            "{errors:#?} {warnings:#?}"
        );
    }

    #[test]
    fn attack_tags_and_analytics_att_and_ck_does_not_have() {
        let rule = with("attack.t1609", "attack.t16O9");
        let (errors, _) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        let d = only(&errors, "rule.attack-tag");
        assert_eq!((d.line, d.column), (10, 5), "{d}");
        assert!(d.message.contains("did you mean `attack.t1609`?"), "{d}");
        let rule = with("attack.execution", "attack.executon");
        let (errors, _) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        assert!(
            only(&errors, "rule.attack-tag")
                .message
                .contains("`attack.execution`"),
            "{errors:#?}"
        );
        // A tactic name near no known one may come from a newer ATT&CK: a warning.
        let rule = with("attack.execution", "attack.stealth");
        let (errors, warnings) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        assert!(
            !errors.iter().any(|e| e.code == "rule.attack-tag"),
            "{errors:#?}"
        );
        assert!(
            only(&warnings, "rule.attack-tag")
                .message
                .contains("no tactic of ATT&CK 18.1"),
            "{warnings:#?}"
        );
        let rule = with(
            "status: experimental",
            "status: experimental\nanalytic: AN9999",
        );
        let (errors, _) = check(&[("exec.yml", &rule), ("policy.yml", POLICY)]);
        assert_eq!(only(&errors, "rule.attack-tag").line, 4, "{errors:#?}");
    }

    #[test]
    fn exceptions_naming_rules_or_fields_that_do_not_exist() {
        let policy = format!(
            "{POLICY}exceptions:\n  - rule: 7c1e4a52-3b9d-4f0e-8a21-5d6c9e0b1f43\n    when:\n      principal.name: oncall@acme.com\n    reason: on-call\n  - rule: 7c1e4a52-3b9d-4f0e-8a21-5d6c9e0b1f34\n    when:\n      principal.nmae: oncall@acme.com\n    reason: on-call\n"
        );
        let (errors, _) = check(&[("exec.yml", EXEC_RULE), ("policy.yml", &policy)]);
        let d = only(&errors, "policy.exception-rule");
        assert_eq!(
            (d.file.as_str(), d.line, d.column),
            ("policy.yml", 6, 11),
            "{d}"
        );
        assert!(
            d.message
                .contains("did you mean `7c1e4a52-3b9d-4f0e-8a21-5d6c9e0b1f34`?"),
            "{d}"
        );
        let d = only(&errors, "policy.exception-field");
        assert_eq!((d.line, d.column), (12, 7), "{d}");
        assert!(d.message.contains("did you mean `principal.name`?"), "{d}");
    }

    #[test]
    fn a_correlation_grouped_by_a_field_its_rules_lack() {
        let step = with("condition: exec and not admin", "condition: exec")
            .replace(
                "  admin:\n    principal.name|expand: '%admin_principals%'\n",
                "",
            )
            .replace("level: high", "name: payments-exec\nlevel: high");
        let correlation = "\
title: Repeated shells in one payments pod
id: 2f9b6d1e-8c4a-4e73-b5d0-9a1c7e3f5b28
status: experimental
correlation:
  type: event_count
  rules: [payments-exec]
  group-by: [crowsnest.subjet]
  timespan: 10m
  condition:
    gte: 3
level: high
";
        let (errors, _) = check(&[("exec.yml", &step), ("burst.yml", correlation)]);
        let d = only(&errors, "rule.group-by-unprovided");
        assert_eq!(
            (d.file.as_str(), d.line, d.column),
            ("burst.yml", 7, 14),
            "{d}"
        );
        assert!(
            d.message.contains("did you mean `crowsnest.subject`?"),
            "{d}"
        );
        let raw = correlation.replace("crowsnest.subjet", "HostConfig.Privileged");
        let (errors, warnings) = check(&[("exec.yml", &step), ("burst.yml", &raw)]);
        assert!(errors.is_empty(), "{errors:#?}");
        only(&warnings, "rule.group-by-unprovided");
    }

    #[test]
    fn keyword_items_that_read_like_fields() {
        assert!(looks_like_field(
            "principal.name|expand: '%admin_principals%'"
        ));
        assert!(looks_like_field("principal.name|expand"));
        assert!(looks_like_field("workload.namespace: kube-system"));
        assert!(!looks_like_field("mimikatz"));
        assert!(!looks_like_field("curl http://x | sh"));
        assert!(!looks_like_field("Invoke-Expression"));
        assert!(!looks_like_field("xmrig --donate-level 1"));
    }

    #[test]
    fn selection_globs() {
        assert!(glob_matches("selection_*", "selection_exec"));
        assert!(glob_matches("*", "anything"));
        assert!(glob_matches("sel*_b", "sel_a_b"));
        assert!(!glob_matches("filter_*", "selection"));
    }
}
