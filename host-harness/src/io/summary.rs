//! The end-of-run account: where records came from, what they decoded as, which rules
//! fired, which records were reported and why, and the balance
//! `records: N in, M out, K reported`, where `in = out + reported` always holds:
//! *out* are records the engine decoded, *reported* are records it could not (each with
//! a located diagnostic: bad JSON, unknown shape, a framing error, a record that made
//! the component fault).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use crowsnest_transform::api::{Alert, Diagnostic};

/// Record diagnostics printed in full; the rest are counted.
const MAX_LISTED_DIAGNOSTICS: usize = 50;

#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Records framed per input, in input order.
    pub(crate) files: Vec<(String, u64)>,
    /// Records decoded per source name.
    pub(crate) sources: BTreeMap<&'static str, u64>,
    /// Alerts per (rule title, rule id).
    pub(crate) rules: BTreeMap<(String, String), u64>,
    pub(crate) alerts: u64,
    /// Alerts the policy dropped (exceptions and infrastructure entries), and those the
    /// infrastructure catalogue quieted, per entry.
    pub(crate) suppressed: u64,
    pub(crate) quieted: Vec<(String, u64)>,
    /// The first [`MAX_LISTED_DIAGNOSTICS`] record diagnostics.
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) diagnostics_total: u64,
    pub(crate) records_in: u64,
    pub(crate) records_out: u64,
    pub(crate) records_reported: u64,
    /// Component instances replaced after a fault.
    pub(crate) restarts: u64,
    /// Containers the engine tracks at the end, and how many it evicted.
    pub(crate) state: Option<(u64, u64)>,
    /// Correlation windows open at the end, and how many the state bound evicted.
    pub(crate) correlations: Option<(u64, u64)>,
    /// Bytes of record text framed (decompressed).
    pub(crate) bytes_in: u64,
    /// Wall time from the first input read to the last batch, and which engine ran.
    pub(crate) elapsed: Option<(Duration, &'static str)>,
}

impl Summary {
    pub(crate) fn count_alert(&mut self, alert: &Alert) {
        self.alerts += 1;
        *self
            .rules
            .entry((alert.rule_title.clone(), alert.rule_id.clone()))
            .or_default() += 1;
    }

    pub(crate) fn add_diagnostic(&mut self, diagnostic: &Diagnostic) {
        self.diagnostics_total += 1;
        if self.diagnostics.len() < MAX_LISTED_DIAGNOSTICS {
            self.diagnostics.push(diagnostic.clone());
        }
    }

    /// The balance line.
    pub(crate) fn balance(&self) -> String {
        format!(
            "records: {} in, {} out, {} reported",
            self.records_in, self.records_out, self.records_reported
        )
    }

    pub(crate) fn write(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "inputs:")?;
        let width = self
            .files
            .iter()
            .map(|(name, _)| name.chars().count())
            .max()
            .unwrap_or(0);
        for (name, records) in &self.files {
            writeln!(out, "  {name:<width$}  {records:>8} records")?;
        }
        if !self.sources.is_empty() {
            writeln!(out, "sources:")?;
            for (source, records) in &self.sources {
                writeln!(out, "  {source:<16}  {records:>8}")?;
            }
        }
        writeln!(out, "alerts: {}", self.alerts)?;
        let mut rules: Vec<_> = self.rules.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        for ((title, id), count) in rules {
            writeln!(out, "  {count:>6}  {title} ({id})")?;
        }
        if self.suppressed > 0 {
            let by_entries: u64 = self.quieted.iter().map(|(_, n)| n).sum();
            writeln!(
                out,
                "quieted: {} (infrastructure entries {by_entries}, exceptions {})",
                self.suppressed,
                self.suppressed.saturating_sub(by_entries)
            )?;
            let mut entries: Vec<_> = self.quieted.iter().collect();
            entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            for (name, count) in entries {
                writeln!(out, "  {count:>6}  {name}")?;
            }
        }
        if self.diagnostics_total > 0 {
            writeln!(out, "diagnostics: {}", self.diagnostics_total)?;
            for diagnostic in &self.diagnostics {
                writeln!(out, "  {diagnostic}")?;
            }
            let more = self.diagnostics_total - self.diagnostics.len() as u64;
            if more > 0 {
                writeln!(out, "  ... and {more} more")?;
            }
        }
        if self.restarts > 0 {
            writeln!(
                out,
                "sandbox: {} instance(s) replaced after a fault",
                self.restarts
            )?;
        }
        if let Some((tracked, evicted)) = self.state {
            writeln!(
                out,
                "state: {tracked} containers tracked, {evicted} evicted"
            )?;
        }
        if let Some((open, evicted)) = self.correlations {
            writeln!(
                out,
                "correlations: {open} windows open, {evicted} evicted at the state bound"
            )?;
        }
        if let Some(line) = self.throughput() {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{}", self.balance())
    }

    /// `time: 0.81 s, 24987 records/s, 43.5 MB/s (component)`.
    fn throughput(&self) -> Option<String> {
        let (elapsed, engine) = self.elapsed?;
        let secs = elapsed.as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        Some(format!(
            "time: {secs:.2} s, {:.0} records/s, {:.1} MB/s ({engine})",
            self.records_in as f64 / secs,
            self.bytes_in as f64 / secs / 1e6,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crowsnest_transform::api::Severity;

    use super::*;

    fn diag(line: u32) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: "decode.syntax".into(),
            message: "bad".into(),
            file: "a.ndjson".into(),
            line,
            column: 3,
        }
    }

    #[test]
    fn diagnostics_are_capped_with_a_count() {
        let mut s = Summary::default();
        for line in 1..=53 {
            s.add_diagnostic(&diag(line));
        }
        let mut out = Vec::new();
        s.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  a.ndjson:1:3: error[decode.syntax]: bad\n"));
        assert!(text.contains("a.ndjson:50:3:"));
        assert!(!text.contains("a.ndjson:51:3:"));
        assert!(text.contains("  ... and 3 more\n"));
    }

    #[test]
    fn throughput_in_records_and_megabytes() {
        let s = Summary {
            records_in: 20_000,
            bytes_in: 40_000_000,
            elapsed: Some((Duration::from_secs(2), "component")),
            ..Summary::default()
        };
        assert_eq!(
            s.throughput().as_deref(),
            Some("time: 2.00 s, 10000 records/s, 20.0 MB/s (component)")
        );
    }

    #[test]
    fn balance_line_is_last() {
        let s = Summary {
            records_in: 40,
            records_out: 39,
            records_reported: 1,
            ..Summary::default()
        };
        let mut out = Vec::new();
        s.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().last(),
            Some("records: 40 in, 39 out, 1 reported")
        );
    }
}
