//! `crowsnest replay`: frame every input into records, send them to the engine in
//! batches, write the alerts, and account for every record.
//!
//! Each batch is its records joined by `\n`, with a [`BatchOrigin`] that carries the
//! exact line of each record, so the engine's diagnostics and alerts point at the
//! input's real lines (also for pretty-printed JSON arrays and inputs with blank lines).

use std::borrow::Cow;
use std::fs;
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};
use std::mem;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use crowsnest_transform::api::{AlertFormat, BatchOrigin, Diagnostic, Options, Severity};
use crowsnest_transform::framing;

use crate::backend::{Backend, EngineChoice};
use crate::cli::{Format, GlobalArgs, ReplayArgs};
use crate::component::Limits;
use crate::filter::StateFile;
use crate::input::{self, Input};
use crate::output::AlertWriter;
use crate::pack_dir;
use crate::progress::Progress;
use crate::summary::Summary;
use crate::watch::PackWatch;

/// A batch is sent early once its records reach this many bytes, whatever `--batch`
/// says, so a batch of large records stays well inside the component's memory cap.
const MAX_BATCH_BYTES: usize = 4 << 20;

pub(crate) fn run(global: &GlobalArgs, args: &ReplayArgs) -> Result<ExitCode> {
    let stdout_is_terminal = io::stdout().is_terminal();
    let format = global.format.unwrap_or(if stdout_is_terminal {
        Format::Table
    } else {
        Format::Ocsf
    });

    let watch = PackWatch::for_run(global.rules.as_deref(), args.watch)?;
    let mut backend = Backend::open(engine_choice(global)?)?;
    if let Some(dir) = &global.rules
        && !install_pack(&mut backend, dir)?
    {
        return Ok(ExitCode::from(2));
    }
    backend.set_options(&Options {
        alert_format: if format == Format::Ecs {
            AlertFormat::Ecs
        } else {
            AlertFormat::Ocsf
        },
        force_source: global.source,
        vpc_flow_format: global.vpc_flow_format.clone(),
        ..Options::default()
    })?;
    let mut state = match &args.state {
        Some(path) => match StateFile::open(path, &mut backend, args.discard_bad_state)? {
            Some(state) => Some(state),
            None => return Ok(ExitCode::from(2)),
        },
        None => None,
    };

    let (inputs, input_errors) = input::expand(&args.inputs);
    let mut failed = false;
    for err in &input_errors {
        eprintln!("crowsnest: {}: {}", err.path.display(), err.error);
        failed = true;
    }

    let total: u64 = inputs.iter().filter_map(Input::len_on_disk).sum();
    let streaming_to_terminal = format != Format::Table && stdout_is_terminal;
    let mut replay = Replay {
        backend,
        writer: AlertWriter::new(format),
        streaming: format != Format::Table,
        out: BufWriter::new(io::stdout().lock()),
        summary: Summary::default(),
        progress: Progress::new(total, global.quiet, streaming_to_terminal),
        batch_records: global.batch as usize,
        watch,
    };
    let started = Instant::now();
    for input in &inputs {
        let bytes = match input.read() {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("crowsnest: {}: {err}", input.name());
                failed = true;
                continue;
            }
        };
        replay.summary.bytes_in += bytes.len() as u64;
        replay.progress.start_file(input.len_on_disk(), bytes.len());
        replay.file(&input.name(), &bytes)?;
        replay.progress.finish_file();
    }
    let engine = if global.native { "native" } else { "component" };
    replay.summary.elapsed = Some((started.elapsed(), engine));
    replay.finish(format, global.quiet, state.as_mut())?;
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn engine_choice(global: &GlobalArgs) -> Result<EngineChoice> {
    if global.native {
        return Ok(EngineChoice::Native);
    }
    let wasm = match &global.component {
        Some(path) => {
            Some(fs::read(path).with_context(|| format!("reading component {}", path.display()))?)
        }
        None => None,
    };
    let limits = Limits {
        memory_bytes: (global.memory_limit as usize) << 20,
        deadline_ms: global.deadline_ms,
    };
    Ok(EngineChoice::Component { wasm, limits })
}

/// Load and install `--rules`; on pack errors print them and return false.
pub(crate) fn install_pack(backend: &mut Backend, dir: &Path) -> Result<bool> {
    let files = pack_dir::load(dir)?;
    match backend.configure(&files)? {
        Ok(info) => {
            for warning in info.warnings {
                eprintln!("{}", in_pack(dir, warning));
            }
            Ok(true)
        }
        Err(diagnostics) => {
            let count = diagnostics.len();
            for diagnostic in diagnostics {
                eprintln!("{}", in_pack(dir, diagnostic));
            }
            eprintln!(
                "crowsnest: the rule pack in {} has {count} error(s); nothing was replayed",
                dir.display()
            );
            Ok(false)
        }
    }
}

/// A pack diagnostic with its file shown under the pack directory.
pub(crate) fn in_pack(dir: &Path, mut diagnostic: Diagnostic) -> Diagnostic {
    diagnostic.file = pack_dir::display_path(dir, &diagnostic.file);
    diagnostic
}

struct Replay {
    backend: Backend,
    writer: AlertWriter,
    /// Alerts go out as each batch finishes (flushed), rather than at the end.
    streaming: bool,
    out: BufWriter<StdoutLock<'static>>,
    summary: Summary,
    progress: Progress,
    batch_records: usize,
    /// `--watch`: the pack directory, looked at between batches.
    watch: Option<PackWatch>,
}

impl Replay {
    /// Frame one input and process it batch by batch.
    fn file(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut records: Vec<Cow<'_, [u8]>> = Vec::with_capacity(self.batch_records);
        let mut lines: Vec<u32> = Vec::with_capacity(self.batch_records);
        let mut batch_bytes = 0;
        let mut count = 0u64;
        let mut last_line = 1;
        for frame in framing::frames(bytes) {
            count += 1;
            self.summary.records_in += 1;
            match frame {
                Ok(frame) => {
                    batch_bytes += frame.record.len() + 1;
                    last_line = frame.line;
                    records.push(frame.record);
                    lines.push(frame.line);
                    if records.len() >= self.batch_records || batch_bytes >= MAX_BATCH_BYTES {
                        self.batch(name, &mut records, &mut lines)?;
                        batch_bytes = 0;
                    }
                }
                Err(err) => {
                    self.summary.records_reported += 1;
                    self.summary.add_diagnostic(Diagnostic {
                        severity: Severity::Error,
                        code: err.code().to_string(),
                        message: format!(
                            "invalid JSON, the rest of the input is skipped: {}",
                            err.message
                        ),
                        file: name.to_string(),
                        line: err.line,
                        column: err.column,
                    });
                }
            }
        }
        self.batch(name, &mut records, &mut lines)?;
        self.end_of_file(name, last_line)?;
        self.summary.files.push((name.to_string(), count));
        Ok(())
    }

    /// Send the pending records, account for each one, write the alerts.
    fn batch(
        &mut self,
        file: &str,
        records: &mut Vec<Cow<'_, [u8]>>,
        lines: &mut Vec<u32>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if let Some(watch) = &mut self.watch {
            watch.reload_if_changed(&mut self.backend)?;
        }
        let origin = BatchOrigin {
            file: file.to_string(),
            first_line: lines[0],
            lines: mem::take(lines),
        };
        let refs: Vec<&[u8]> = records.iter().map(AsRef::as_ref).collect();
        let result = self.backend.process(&refs, &origin)?;
        if result.outcomes.len() != refs.len() {
            bail!(
                "the engine returned {} outcomes for {} records ({file} from line {}): it breaks the \
                 contract of one outcome per record",
                result.outcomes.len(),
                refs.len(),
                origin.first_line
            );
        }
        for outcome in &result.outcomes {
            match outcome.source {
                Some(source) => {
                    self.summary.records_out += 1;
                    *self.summary.sources.entry(source.as_str()).or_default() += 1;
                }
                None => self.summary.records_reported += 1,
            }
        }
        for diagnostic in result.diagnostics {
            self.summary.add_diagnostic(diagnostic);
        }
        for alert in &result.alerts {
            let line = origin.line_of(alert.record_index as usize);
            self.writer.alert(&mut self.out, alert, file, line)?;
            self.summary.count_alert(alert);
        }
        if self.streaming && !result.alerts.is_empty() {
            self.out.flush()?;
        }
        self.progress
            .advance(refs.iter().map(|r| r.len() as u64 + 1).sum());
        records.clear();
        Ok(())
    }

    /// Alerts from what the engine still held when the input ended, placed at the
    /// input's last line.
    fn end_of_file(&mut self, file: &str, last_line: u32) -> Result<()> {
        let origin = BatchOrigin {
            file: file.to_string(),
            first_line: last_line,
            lines: Vec::new(),
        };
        let result = self.backend.finish(&origin)?;
        for diagnostic in result.diagnostics {
            self.summary.add_diagnostic(diagnostic);
        }
        for alert in &result.alerts {
            self.writer.alert(&mut self.out, alert, file, last_line)?;
            self.summary.count_alert(alert);
        }
        Ok(())
    }

    /// The table (if any), then the summary: after the table on stdout, or on stderr
    /// when stdout carries machine output.
    /// With `--state`, the engine's state is written last, after every alert is out.
    fn finish(mut self, format: Format, quiet: bool, state: Option<&mut StateFile>) -> Result<()> {
        self.progress.finish();
        self.summary.restarts = self.backend.restarts();
        let stats = self.backend.stats()?;
        self.summary.state = Some((stats.containers_tracked, stats.state_evictions));
        self.summary.correlations = Some((stats.correlation_groups, stats.correlation_evictions));
        self.writer.finish(&mut self.out)?;
        if !quiet {
            if format == Format::Table {
                writeln!(self.out)?;
                self.summary.write(&mut self.out)?;
            } else {
                self.out.flush()?;
                self.summary.write(&mut io::stderr().lock())?;
            }
        }
        self.out.flush()?;
        if let Some(state) = state {
            state.save(&mut self.backend)?;
        }
        Ok(())
    }
}
