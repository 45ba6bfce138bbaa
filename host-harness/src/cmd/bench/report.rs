//! The bench's measurements, the targets computed from them, and how they are written:
//! tables on a terminal, one JSON object per measurement when piped.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use serde_json::{Value, json};

use super::corpus::Corpus;

/// Which pack a state row ran with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatePack {
    /// One rule that never matches: the container table alone.
    TableOnly,
    /// The pack under test (the built-in one unless `--rules`), correlation windows included.
    Given,
}

impl StatePack {
    fn name(self) -> &'static str {
        match self {
            StatePack::TableOnly => "table only",
            StatePack::Given => "pack",
        }
    }
}

pub(crate) enum Row {
    /// Records through one engine (or pass) over one corpus.
    Throughput {
        measurement: &'static str,
        corpus: &'static str,
        records: u64,
        bytes: u64,
        seconds: f64,
        alerts: Option<u64>,
        /// Records reported as diagnostics (or not decoded, or not tokenized).
        errors: u64,
        /// The guest's linear memory after the run, where there is one.
        linear_memory: Option<u64>,
    },
    /// Live containers fed to a fresh engine.
    State {
        engine: &'static str,
        pack: StatePack,
        containers: usize,
        tracked: u64,
        evictions: u64,
        state_bytes: u64,
        linear_growth: Option<u64>,
    },
    Time {
        what: &'static str,
        seconds: f64,
    },
    Memory {
        what: &'static str,
        bytes: u64,
    },
    Info {
        what: &'static str,
        text: String,
    },
}

impl Row {
    pub(crate) fn throughput(
        measurement: &'static str,
        corpus: &Corpus,
        elapsed: Duration,
        alerts: Option<u64>,
        errors: u64,
    ) -> Row {
        Row::Throughput {
            measurement,
            corpus: corpus.name,
            records: corpus.records as u64,
            bytes: corpus.bytes.len() as u64,
            seconds: elapsed.as_secs_f64(),
            alerts,
            errors,
            linear_memory: None,
        }
    }

    pub(crate) fn time(what: &'static str, elapsed: Duration) -> Row {
        Row::Time {
            what,
            seconds: elapsed.as_secs_f64(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Row::Throughput {
                measurement,
                corpus,
                records,
                bytes,
                seconds,
                alerts,
                errors,
                linear_memory,
            } => json!({
                "measurement": measurement, "corpus": corpus, "records": records,
                "bytes": bytes, "seconds": seconds,
                "records_per_s": per_second(*records as f64, *seconds),
                "mb_per_s": per_second(*bytes as f64 / 1e6, *seconds),
                "us_per_record": seconds * 1e6 / (*records).max(1) as f64,
                "alerts": alerts, "errors": errors, "linear_memory_bytes": linear_memory,
            }),
            Row::State {
                engine,
                pack,
                containers,
                tracked,
                evictions,
                state_bytes,
                linear_growth,
            } => json!({
                "measurement": "state", "engine": engine, "pack": pack.name(),
                "containers": containers,
                "tracked": tracked, "evictions": evictions, "state_bytes": state_bytes,
                "state_bytes_per_container": *state_bytes as f64 / (*tracked).max(1) as f64,
                "linear_memory_growth_bytes": linear_growth,
                "linear_memory_growth_per_container":
                    linear_growth.map(|g| g as f64 / (*tracked).max(1) as f64),
            }),
            Row::Time { what, seconds } => json!({
                "measurement": "time", "what": what, "seconds": seconds,
            }),
            Row::Memory { what, bytes } => json!({
                "measurement": "memory", "what": what, "bytes": bytes,
            }),
            Row::Info { what, text } => json!({
                "measurement": "info", "what": what, "text": text,
            }),
        }
    }
}

fn per_second(amount: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { amount / seconds } else { 0.0 }
}

pub(crate) struct Report {
    rows: Vec<Row>,
    terminal: bool,
    linear_peak: usize,
}

impl Report {
    pub(crate) fn new(terminal: bool) -> Report {
        Report {
            rows: Vec::new(),
            terminal,
            linear_peak: 0,
        }
    }

    pub(crate) fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub(crate) fn note_linear_memory(&mut self, bytes: usize) {
        self.linear_peak = self.linear_peak.max(bytes);
    }

    fn throughput(&self, measurement: &str, corpus: &str) -> Option<(u64, f64)> {
        self.rows.iter().find_map(|row| match row {
            Row::Throughput {
                measurement: m,
                corpus: c,
                records,
                seconds,
                ..
            } if *m == measurement && *c == corpus => Some((*records, *seconds)),
            _ => None,
        })
    }

    fn rate(&self, measurement: &str, corpus: &str) -> Option<f64> {
        self.throughput(measurement, corpus)
            .map(|(records, seconds)| per_second(records as f64, seconds))
    }

    pub(crate) fn finish(mut self, targets: &[Target], quick: bool, seed: u64) -> io::Result<()> {
        if self.linear_peak > 0 {
            self.rows.push(Row::Memory {
                what: "component linear memory peak (largest instance)",
                bytes: self.linear_peak as u64,
            });
        }
        let mut out = BufWriter::new(io::stdout().lock());
        if self.terminal {
            self.table(&mut out, targets, quick, seed)?;
        } else {
            for row in &self.rows {
                writeln!(out, "{}", row.json())?;
            }
            for target in targets {
                writeln!(out, "{}", target.json())?;
            }
        }
        out.flush()
    }

    fn table(
        &self,
        out: &mut impl Write,
        targets: &[Target],
        quick: bool,
        seed: u64,
    ) -> io::Result<()> {
        let mode = if quick { "--quick" } else { "full" };
        writeln!(out, "crowsnest bench ({mode}, seed {seed})\n")?;
        writeln!(
            out,
            "{:<16} {:<16} {:>8} {:>8} {:>12} {:>9} {:>10} {:>7} {:>7}",
            "corpus",
            "measurement",
            "records",
            "MB",
            "records/s",
            "MB/s",
            "µs/record",
            "alerts",
            "errors"
        )?;
        for row in &self.rows {
            if let Row::Throughput {
                measurement,
                corpus,
                records,
                bytes,
                seconds,
                alerts,
                errors,
                ..
            } = row
            {
                writeln!(
                    out,
                    "{:<16} {:<16} {:>8} {:>8.1} {:>12.0} {:>9.1} {:>10.2} {:>7} {:>7}",
                    corpus,
                    measurement,
                    records,
                    *bytes as f64 / 1e6,
                    per_second(*records as f64, *seconds),
                    per_second(*bytes as f64 / 1e6, *seconds),
                    seconds * 1e6 / (*records).max(1) as f64,
                    alerts.map_or("-".to_string(), |a| a.to_string()),
                    errors
                )?;
            }
        }
        writeln!(out, "\nstate per live container")?;
        writeln!(
            out,
            "{:<10} {:<10} {:>10} {:>9} {:>9} {:>12} {:>11} {:>14} {:>11}",
            "engine",
            "rules",
            "containers",
            "tracked",
            "evicted",
            "state bytes",
            "B/container",
            "linear growth",
            "B/container"
        )?;
        for row in &self.rows {
            if let Row::State {
                engine,
                pack,
                containers,
                tracked,
                evictions,
                state_bytes,
                linear_growth,
            } = row
            {
                let per = |b: u64| b as f64 / (*tracked).max(1) as f64;
                writeln!(
                    out,
                    "{:<10} {:<10} {:>10} {:>9} {:>9} {:>12} {:>11.0} {:>14} {:>11}",
                    engine,
                    pack.name(),
                    containers,
                    tracked,
                    evictions,
                    state_bytes,
                    per(*state_bytes),
                    linear_growth.map_or("-".to_string(), |g| g.to_string()),
                    linear_growth.map_or("-".to_string(), |g| format!("{:.0}", per(g)))
                )?;
            }
        }
        writeln!(out, "\ntimes and memory")?;
        for row in &self.rows {
            match row {
                Row::Time { what, seconds } => {
                    writeln!(out, "  {what:<66} {:>10.3} ms", seconds * 1e3)?
                }
                Row::Memory { what, bytes } => writeln!(
                    out,
                    "  {what:<66} {:>10.1} MiB",
                    *bytes as f64 / f64::from(1 << 20)
                )?,
                Row::Info { what, text } => writeln!(out, "  {what}: {text}")?,
                _ => {}
            }
        }
        writeln!(out, "\ntargets")?;
        for target in targets {
            writeln!(
                out,
                "  {:<58} {:<36} {}",
                target.name,
                target.measured,
                match target.met {
                    Some(true) => "met",
                    Some(false) => "MISSED",
                    None => "not measured",
                }
            )?;
        }
        Ok(())
    }
}

/// One project target, as measured in this run.
pub(crate) struct Target {
    name: &'static str,
    measured: String,
    met: Option<bool>,
}

impl Target {
    fn json(&self) -> Value {
        json!({"measurement": "target", "target": self.name, "measured": self.measured, "met": self.met})
    }

    fn ratio(
        name: &'static str,
        ratio: Option<f64>,
        ok: impl Fn(f64) -> bool,
        missing: &str,
    ) -> Target {
        match ratio {
            Some(r) => Target {
                name,
                measured: format!("{r:.2}×"),
                met: Some(ok(r)),
            },
            None => Target {
                name,
                measured: missing.to_string(),
                met: None,
            },
        }
    }

    pub(crate) fn evaluate(report: &Report) -> Vec<Target> {
        let k8s = "k8s_audit";
        let mut targets = Vec::new();
        let component = report.rate("component", k8s);
        let native = report.rate("native", k8s);
        targets.push(Target::ratio(
            "component ≥ 0.75 × native engine (k8s_audit)",
            component.zip(native).map(|(c, n)| c / n),
            |r| r >= 0.75,
            "no k8s_audit rows",
        ));
        let peer = report
            .rate("component+sigma", k8s)
            .zip(report.rate("rsigma", k8s));
        targets.push(Target::ratio(
            "component ≥ 3 × rsigma CLI (k8s_audit, same rules)",
            peer.map(|(c, r)| c / r),
            |r| r >= 3.0,
            "rsigma not run",
        ));
        let pipeline = report.throughput("native", k8s).map(|t| t.1);
        let floor = report.throughput("floor", k8s).map(|t| t.1);
        targets.push(Target::ratio(
            "pipeline ≤ 2.5 × tokenizer floor (k8s_audit, native)",
            pipeline.zip(floor).map(|(p, f)| p / f),
            |r| r <= 2.5,
            "no k8s_audit rows",
        ));
        // The largest run: native `state_bytes` and the component's real heap growth.
        let largest = report
            .rows
            .iter()
            .filter_map(|row| match row {
                Row::State { containers, .. } => Some(*containers),
                _ => None,
            })
            .max();
        let per_container = |engine: &str, which: StatePack| {
            report.rows.iter().find_map(|row| match row {
                Row::State {
                    engine: e,
                    pack,
                    containers,
                    tracked,
                    state_bytes,
                    linear_growth,
                    ..
                } if *e == engine && *pack == which && Some(*containers) == largest => {
                    let bytes = linear_growth.unwrap_or(*state_bytes);
                    Some(bytes as f64 / (*tracked).max(1) as f64)
                }
                _ => None,
            })
        };
        // Met when the table's own estimate and the component's real heap growth are both
        // within 1 KiB; the heap with the pack's correlation windows is reported beside it.
        let table = per_container("native", StatePack::TableOnly)
            .zip(per_container("component", StatePack::TableOnly));
        let with_pack = per_container("component", StatePack::Given);
        targets.push(match table {
            Some((n, h)) => Target {
                name: "≤ 1 KiB state per live container",
                measured: format!(
                    "table: {n:.0} B (state_bytes), {h:.0} B (component heap); \
                     with the pack's correlation windows: {} B (component heap)",
                    with_pack.map_or("-".to_string(), |w| format!("{w:.0}"))
                ),
                met: Some(n.max(h) <= 1024.0),
            },
            None => Target {
                name: "≤ 1 KiB state per live container",
                measured: "no state rows".to_string(),
                met: None,
            },
        });
        let (records, seconds) = report
            .rows
            .iter()
            .filter_map(|row| match row {
                Row::Throughput {
                    measurement: "fluent-bit",
                    records,
                    seconds,
                    ..
                } => Some((*records, *seconds)),
                _ => None,
            })
            .fold((0u64, 0.0f64), |(r, s), (r2, s2)| (r + r2, s + s2));
        targets.push(match records {
            0 => Target {
                name: "Fluent Bit module ≤ 25 µs per record",
                measured: "module not given".to_string(),
                met: None,
            },
            _ => {
                let us = seconds * 1e6 / records as f64;
                Target {
                    name: "Fluent Bit module ≤ 25 µs per record",
                    measured: format!("{us:.1} µs (all generated corpora)"),
                    met: Some(us <= 25.0),
                }
            }
        });
        targets
    }
}
