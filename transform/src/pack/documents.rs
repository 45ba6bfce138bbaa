//! A pack file's YAML documents, each with the line it starts on, and locating a problem
//! inside one: rsigma reports rule errors without positions, so the position is recovered
//! by finding the offending key or token in the document's text.

use crate::api::{Diagnostic, Severity};

/// One YAML document of a file, with the 1-based line it starts on.
pub(crate) struct Document<'t> {
    pub(crate) text: &'t str,
    pub(crate) first_line: u32,
}

/// Split on `---` separator lines. A file that uses Sigma collection actions (a
/// top-level `action: global`) needs its documents together, so it stays whole; an
/// indented `action:` is a selection on the normalized `action` field.
pub(crate) fn documents(text: &str) -> Vec<Document<'_>> {
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
pub(crate) fn find(doc: &Document<'_>, needle: &str) -> Option<(u32, u32)> {
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
pub(crate) fn locate(doc: &Document<'_>, message: &str) -> (u32, u32) {
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

/// An error diagnostic at `(line, column)` of `file`.
pub(crate) fn error(
    file: &str,
    (line, column): (u32, u32),
    code: &str,
    message: String,
) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: code.to_string(),
        message,
        file: file.to_string(),
        line,
        column,
    }
}
