//! Checks on a pack's documents that need no compiled rule: placeholders the policy does
//! not define, and rules too costly to run in a pipeline.

use rsigma_parser::{Detection, Modifier, SigmaRule, SigmaValue};

use super::documents::{Document, error, find};
use crate::api::Diagnostic;

/// `%name%` placeholders in a document that the policy does not define: left alone they
/// would match only the literal text, silently.
pub(crate) fn unknown_placeholders(
    doc: &Document<'_>,
    known: &[&str],
) -> Vec<((u32, u32), String)> {
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

/// The longest regular expression a rule may hold, in bytes: the `regex` crate bounds
/// matching time, but a huge pattern still costs memory and compile time on every
/// reload inside a sandbox with a memory cap.
pub(crate) const MAX_REGEX_BYTES: usize = 4096;
/// The most values one detection item may list (an allow-list belongs in the policy).
const MAX_VALUES_PER_ITEM: usize = 10_000;
/// The most values an `|all` item may list. Values of an ordinary item share one
/// automaton, but each `|all` value is searched for on its own, so such an item costs
/// one scan of the field per value on every event: 2,000 `contains|all` values over a
/// 300 KB command line take seconds. Real rules list a handful.
const MAX_ALL_VALUES_PER_ITEM: usize = 64;

/// Rules too costly to run in a pipeline: a regex over the size limit, a value list past
/// the item limit. Errors, located at the field they are on.
pub(crate) fn cost_errors(
    path: &str,
    doc: &Document<'_>,
    rule: &SigmaRule,
    out: &mut Vec<Diagnostic>,
) {
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
