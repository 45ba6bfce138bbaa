//! Alerts on stdout: a table for people, or one JSON object per line for machines.
//!
//! # Formats
//!
//! - `table`: collected, then printed as aligned columns (time, level, rule, principal,
//!   namespace/container, image, summary) once the run is over.
//! - `ocsf` / `ecs`: the alert's `document`, exactly as the engine rendered it, one per
//!   line, written as each batch finishes so a pipe sees alerts as they are found.
//! - `jsonl`: the whole crowsnest alert record (every typed field of [`Alert`] plus the
//!   rendered `document`, as the JSON object it is), with the `file` and `line` of the record that
//!   completed the finding, one per line. `record_index` is that record's index in the
//!   batch it was sent in, which depends on `--batch`; `file` and `line` do not.

use std::io::{self, Write};

use crowsnest_transform::api::Alert;
use crowsnest_transform::time::format_rfc3339_seconds;
use serde::Serialize;

use crate::cli::Format;

/// Writes alerts in one [`Format`].
pub(crate) enum AlertWriter {
    Table(Vec<Row>),
    Document,
    Jsonl,
}

/// One table line, already rendered to text.
pub(crate) struct Row([String; 7]);

const HEADERS: [&str; 7] = [
    "TIME",
    "LEVEL",
    "RULE",
    "PRINCIPAL",
    "NAMESPACE/CONTAINER",
    "IMAGE",
    "SUMMARY",
];
/// Widest a column may get before its text is cut; the last column is never cut.
const MAX_WIDTHS: [usize; 6] = [20, 13, 44, 28, 36, 40];

/// The `jsonl` line: where, then the alert's own fields.
#[derive(Serialize)]
struct JsonlAlert<'a> {
    file: &'a str,
    line: u32,
    #[serde(flatten)]
    alert: &'a Alert,
}

/// The `jsonl` line of `alert`: its `document` is the object the engine rendered, not
/// that object's text in a string. (A document that is not JSON, which the engine
/// never renders, stays a string rather than being dropped.)
fn jsonl_value(alert: &Alert, file: &str, line: u32) -> serde_json::Result<serde_json::Value> {
    let mut value = serde_json::to_value(JsonlAlert { file, line, alert })?;
    if let Ok(document) = serde_json::from_str::<serde_json::Value>(&alert.document) {
        value["document"] = document;
    }
    Ok(value)
}

impl AlertWriter {
    pub(crate) fn new(format: Format) -> Self {
        match format {
            Format::Table => AlertWriter::Table(Vec::new()),
            Format::Ocsf | Format::Ecs => AlertWriter::Document,
            Format::Jsonl => AlertWriter::Jsonl,
        }
    }

    /// Write (or keep, for the table) one alert found in record `line` of `file`.
    pub(crate) fn alert(
        &mut self,
        out: &mut impl Write,
        alert: &Alert,
        file: &str,
        line: u32,
    ) -> io::Result<()> {
        match self {
            AlertWriter::Table(rows) => {
                rows.push(row(alert));
                Ok(())
            }
            AlertWriter::Document => {
                // The engine renders compact JSON; a stray line break would split the record.
                if alert.document.contains('\n') {
                    writeln!(out, "{}", alert.document.replace(['\n', '\r'], " "))
                } else {
                    writeln!(out, "{}", alert.document)
                }
            }
            AlertWriter::Jsonl => {
                serde_json::to_writer(&mut *out, &jsonl_value(alert, file, line)?)?;
                writeln!(out)
            }
        }
    }

    /// Print what was kept (the table); nothing for the streaming formats.
    pub(crate) fn finish(self, out: &mut impl Write) -> io::Result<()> {
        match self {
            AlertWriter::Table(rows) => print_table(out, &rows),
            AlertWriter::Document | AlertWriter::Jsonl => Ok(()),
        }
    }
}

fn row(alert: &Alert) -> Row {
    let place = match (&alert.namespace, alert.containers.is_empty()) {
        (Some(ns), false) => format!("{ns}/{}", alert.containers.join(",")),
        (Some(ns), true) => ns.clone(),
        (None, false) => alert.containers.join(","),
        (None, true) => "-".to_string(),
    };
    Row([
        alert
            .time_ns
            .map_or_else(|| "-".to_string(), format_rfc3339_seconds),
        alert.level.clone(),
        alert.rule_title.clone(),
        alert.principal.clone().unwrap_or_else(|| "-".to_string()),
        place,
        alert.image.clone().unwrap_or_else(|| "-".to_string()),
        alert.summary.clone(),
    ])
}

fn print_table(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no alerts");
    }
    let mut widths = HEADERS.map(|h| h.chars().count());
    for Row(cells) in rows {
        for (i, cell) in cells.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for (width, max) in widths.iter_mut().zip(MAX_WIDTHS) {
        *width = (*width).min(max);
    }
    let line = |cells: [&str; 7]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let cell = truncate(cell, widths[i]);
                text.push_str(&cell);
                text.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        text.trim_end().to_string()
    };
    writeln!(out, "{}", line(HEADERS))?;
    for Row(cells) in rows {
        writeln!(out, "{}", line(cells.each_ref().map(String::as_str)))?;
    }
    Ok(())
}

/// `text` cut to `width` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use crowsnest_transform::model::{Action, Source};

    use super::*;

    fn alert() -> Alert {
        Alert {
            record_index: 3,
            rule_id: "r-1".into(),
            rule_title: "Privileged container".into(),
            level: "high".into(),
            analytic: None,
            techniques: vec!["T1610".into()],
            time_ns: Some(1_714_564_800_123_000_000),
            source: Source::DockerEvent,
            action: Action::ContainerStart,
            principal: None,
            namespace: Some("prod".into()),
            containers: vec!["web".into()],
            image: Some("nginx:1.25".into()),
            summary: "privileged start of web".into(),
            document: "{\"class_uid\":2004}".into(),
        }
    }

    #[test]
    fn document_formats_write_the_document() {
        let mut out = Vec::new();
        let mut w = AlertWriter::new(Format::Ocsf);
        w.alert(&mut out, &alert(), "f", 4).unwrap();
        w.finish(&mut out).unwrap();
        assert_eq!(out, b"{\"class_uid\":2004}\n");
    }

    #[test]
    fn jsonl_has_location_and_every_field() {
        let mut out = Vec::new();
        AlertWriter::new(Format::Jsonl)
            .alert(&mut out, &alert(), "a.ndjson", 9)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["file"], "a.ndjson");
        assert_eq!(v["line"], 9);
        assert_eq!(v["rule_id"], "r-1");
        assert_eq!(v["source"], "docker_event");
        assert_eq!(
            v["document"]["class_uid"], 2004,
            "the document is an object"
        );
    }

    #[test]
    fn table_aligns_and_cuts() {
        let mut out = Vec::new();
        let mut w = AlertWriter::new(Format::Table);
        let mut long = alert();
        long.rule_title = "x".repeat(80);
        w.alert(&mut out, &alert(), "f", 1).unwrap();
        w.alert(&mut out, &long, "f", 2).unwrap();
        w.finish(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("TIME "));
        assert!(lines[1].contains("prod/web") && lines[1].contains("nginx:1.25"));
        assert!(lines[2].contains('…'));
        let col = |l: &str| l.find("high").unwrap();
        assert_eq!(col(lines[1]), col(lines[2]));
    }

    #[test]
    fn empty_table_says_so() {
        let mut out = Vec::new();
        AlertWriter::new(Format::Table).finish(&mut out).unwrap();
        assert_eq!(out, b"no alerts\n");
    }
}
