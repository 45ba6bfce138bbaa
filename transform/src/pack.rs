//! Rule packs: parse every file, locate every problem, compile all or nothing.
//!
//! A pack is a set of Sigma files (multi-document allowed). Each YAML document is parsed
//! on its own so a problem is reported at `file:line:column` of the document that has it;
//! rsigma reports rule errors without positions, so the position is recovered by finding
//! the offending key or token in the document's text. Nothing is swapped in unless the
//! whole pack compiled: the caller keeps the running pack on any error.

use rsigma_eval::{CorrelationConfig, CorrelationEngine};
use rsigma_parser::{SigmaCollection, parse_sigma_yaml};

use crate::api::{Diagnostic, PackFile, PackInfo, Severity};
use crate::rules::RuleSet;

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

/// Parse and compile a whole pack. `Err` carries every error found, not just the first.
pub(crate) fn compile(files: &[PackFile]) -> Result<(RuleSet, PackInfo), Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut engine = CorrelationEngine::new(CorrelationConfig::default());
    let (mut rules, mut correlations) = (0u32, 0u32);
    // Correlations reference rules by id or name, possibly in other files: add every
    // detection rule first, then every correlation.
    let mut pending = Vec::new();

    for file in files.iter().filter(|f| is_rule_file(&f.path)) {
        for doc in documents(&file.text) {
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
            for rule in &collection.rules {
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
        warnings: Vec::new(),
    };
    Ok((RuleSet::new(engine), info))
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
    }
}
