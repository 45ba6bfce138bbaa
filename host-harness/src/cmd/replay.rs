//! `crowsnest replay`: frame every input into records, send them to the engine in
//! batches, write the alerts, and account for every record.
//!
//! Each batch is its records joined by `\n`, with a [`BatchOrigin`] that carries the
//! exact line of each record, so the engine's diagnostics and alerts point at the
//! input's real lines (also for pretty-printed JSON arrays and inputs with blank lines).

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use crowsnest_transform::api::{BatchOrigin, BatchResult};

use crate::cli::{Format, GlobalArgs, ReplayArgs};
use crate::engine::batch_loop::{BatchLoop, Sink};
use crate::engine::session::{self, Keep, Session};
use crate::io::input::{self, Input};
use crate::io::output::AlertWriter;
use crate::io::progress::Progress;

pub(crate) fn run(global: &GlobalArgs, args: &ReplayArgs) -> Result<ExitCode> {
    let stdout_is_terminal = io::stdout().is_terminal();
    let format = global.format.unwrap_or(if stdout_is_terminal {
        Format::Table
    } else {
        Format::Ocsf
    });

    let options = session::alert_options(global, format);
    let keep = Keep {
        watch: args.watch,
        state: args.state.as_deref(),
        discard_bad_state: args.discard_bad_state,
    };
    let Some(session) = Session::open(global, &options, keep)? else {
        return Ok(ExitCode::from(2));
    };

    let (inputs, input_errors) = input::expand(&args.inputs);
    let mut failed = false;
    for err in &input_errors {
        eprintln!("crowsnest: {}: {}", err.path.display(), err.error);
        failed = true;
    }

    let total: u64 = inputs.iter().filter_map(Input::len_on_disk).sum();
    let streaming_to_terminal = format != Format::Table && stdout_is_terminal;
    let mut engine = BatchLoop::new(session, global.batch as usize);
    let mut out = Out {
        writer: AlertWriter::new(format),
        streaming: format != Format::Table,
        out: BufWriter::new(io::stdout().lock()),
        progress: Progress::new(total, global.quiet, streaming_to_terminal),
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
        out.progress.start_file(input.len_on_disk(), bytes.len());
        engine.input(&input.name(), &bytes, 0, &mut out)?;
        out.progress.finish_file();
    }
    let engine_name = if global.native { "native" } else { "component" };
    engine.summary.elapsed = Some((started.elapsed(), engine_name));
    out.finish(engine, format, global.quiet)?;
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Where replay's alerts go.
struct Out {
    writer: AlertWriter,
    /// Alerts go out as each batch finishes (flushed), rather than at the end.
    streaming: bool,
    out: BufWriter<StdoutLock<'static>>,
    progress: Progress,
}

impl Sink for Out {
    fn batch(&mut self, origin: &BatchOrigin, result: &BatchResult, bytes: usize) -> Result<()> {
        for alert in &result.alerts {
            let line = origin.line_of(alert.record_index as usize);
            self.writer
                .alert(&mut self.out, alert, &origin.file, line)?;
        }
        if self.streaming && !result.alerts.is_empty() {
            self.out.flush()?;
        }
        self.progress.advance(bytes as u64);
        Ok(())
    }

    /// Alerts from what the engine still held when the input ended, placed at the
    /// input's last line.
    fn end(&mut self, origin: &BatchOrigin, result: &BatchResult) -> Result<()> {
        for alert in &result.alerts {
            self.writer
                .alert(&mut self.out, alert, &origin.file, origin.first_line)?;
        }
        Ok(())
    }
}

impl Out {
    /// The table (if any), then the summary: after the table on stdout, or on stderr
    /// when stdout carries machine output.
    /// With `--state`, the engine's state is written last, after every alert is out.
    fn finish(mut self, mut engine: BatchLoop, format: Format, quiet: bool) -> Result<()> {
        self.progress.finish();
        engine.close()?;
        self.writer.finish(&mut self.out)?;
        if !quiet {
            if format == Format::Table {
                writeln!(self.out)?;
                engine.summary.write(&mut self.out)?;
            } else {
                self.out.flush()?;
                engine.summary.write(&mut io::stderr().lock())?;
            }
        }
        self.out.flush()?;
        engine.session.save_state()
    }
}
