//! `crowsnest filter`: the engine as a step of a log pipeline. Records come in on
//! stdin, one per line, and go out on stdout as they are processed, each with the
//! engine's findings written into it (`crowsnest_transform::inline`).
//!
//! # Contract
//!
//! - **One line out per line in, in order.** A JSON object line gets a `crowsnest`
//!   member (normalized event, alerts, diagnostics); a line the engine does not
//!   recognize, and a blank line, go out unchanged; a line that is not a JSON object
//!   but has findings (an auditd text record, malformed JSON) goes out as
//!   `{"message":"<the line>","crowsnest":{...}}`.
//! - **Alerts** go out once on stdout: inside the `crowsnest` member of the record that
//!   completed them. With `--alerts FILE` they are also written to FILE as lines of
//!   their own, in `--format` (OCSF by default). Alerts raised at the end of the input
//!   (an event the input never completed) have no record to go into: they are written
//!   as lines of their own, to FILE or else on stdout after the last line.
//! - **Batches.** Records go to the engine `--batch` at a time (default 256), or
//!   sooner, `--flush-ms` (default 50) after the first record of a batch arrived, so a
//!   quiet stream is not held back. Every batch runs in the sandbox: a record that
//!   makes the component fault is retried alone, reported in its own `crowsnest`
//!   member and passed on.
//! - **End.** At the end of the input, and on SIGTERM or SIGINT, the filter drains:
//!   after a signal it reads what is already in the pipe (for at most
//!   [`DRAIN_LIMIT`]), then processes every line it has read, including a last line
//!   without its line break, writes everything out, prints its summary on stderr
//!   (unless `--quiet`) and exits 0. Nothing it read is lost.
//! - **`--watch`** reloads the `--rules` directory between batches (`engine/watch.rs`).
//! - **`--state FILE`** keeps the engine's state across restarts, at least once: the
//!   state is restored from FILE at start, and written to it (temp file, fsync,
//!   rename) only after every output line it covers is flushed: when the sandbox takes
//!   a checkpoint, when the input has been idle for a second after records, and
//!   at a clean exit. A filter killed between two writes comes back with the state of
//!   the last one, so the shipper must re-send what it sent since (records it has no
//!   acknowledgement for); those records are processed again and may alert again, but
//!   no correlation step that happened before the last write is lost.
//!
//! Input is read with `poll(2)` and `read(2)` on the main thread, so a signal never
//! finds bytes read but not yet handed on, and only the bytes already read are in
//! flight when the filter decides to stop.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, StdinLock, StdoutLock, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use crowsnest_transform::api::{Alert, BatchOrigin, Diagnostic, Options};
use crowsnest_transform::framing::MAX_BATCH_BYTES;
use crowsnest_transform::inline::{self, Findings};

use crate::cli::{FilterArgs, Format, GlobalArgs};
use crate::engine::batch_loop::BatchLoop;
use crate::engine::session::{self, Keep, Session};
use crate::io::output::AlertWriter;

/// The input's name in diagnostics, alerts and the summary.
const INPUT: &str = "<stdin>";

/// Bytes asked for per `read(2)`.
const READ_CHUNK: usize = 64 * 1024;

/// How long the loop sleeps in `poll(2)` with nothing to do: the latency of noticing a
/// changed rule pack on an idle stream.
const IDLE_TICK: Duration = Duration::from_millis(100);

/// After SIGTERM, input already waiting in the pipe is still read for at most this
/// long, so a writer that never stops cannot hold the filter up.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(5);

pub(crate) fn run(global: &GlobalArgs, args: &FilterArgs) -> Result<ExitCode> {
    // First, so that a supervisor stopping the filter while it starts still gets a drain.
    shutdown::install().context("installing the SIGTERM handler")?;
    let format = match global.format.unwrap_or(Format::Ocsf) {
        Format::Table => bail!("filter writes NDJSON: pick --format ocsf, ecs or jsonl"),
        format => format,
    };
    let options = Options {
        enrichment: true,
        ..session::alert_options(global, format)
    };
    let keep = Keep {
        watch: args.watch,
        state: args.state.as_deref(),
        discard_bad_state: args.discard_bad_state,
    };
    let Some(session) = Session::open(global, &options, keep)? else {
        return Ok(ExitCode::from(2));
    };
    let alerts_file = match &args.alerts {
        Some(path) => Some(BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {} for alerts", path.display()))?,
        )),
        None => None,
    };
    let mut filter = Filter {
        engine: BatchLoop::new(session, global.batch as usize),
        writer: AlertWriter::new(format),
        out: BufWriter::with_capacity(READ_CHUNK, io::stdout().lock()),
        alerts_file,
        batch: Batch::default(),
        max_records: global.batch as usize,
        flush_after: Duration::from_millis(args.flush_ms),
        line: Vec::new(),
    };
    let started = Instant::now();
    let lines = filter.stream(&mut io::stdin().lock())?;
    let engine = if global.native { "native" } else { "component" };
    filter.engine.summary.elapsed = Some((started.elapsed(), engine));
    filter.finish(lines, global.quiet)?;
    Ok(ExitCode::SUCCESS)
}

struct Filter {
    /// The session, and the account of every record.
    engine: BatchLoop,
    writer: AlertWriter,
    out: BufWriter<StdoutLock<'static>>,
    /// `--alerts FILE`; `None` writes alert lines to stdout.
    alerts_file: Option<BufWriter<File>>,
    batch: Batch,
    max_records: usize,
    flush_after: Duration,
    /// The output line being built; reused.
    line: Vec<u8>,
}

impl Filter {
    /// Read, batch and process until the input ends or a signal asks to stop; the
    /// number of lines read.
    fn stream(&mut self, stdin: &mut StdinLock<'_>) -> Result<u32> {
        let mut input = LineBuffer::default();
        let mut drain_until: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if drain_until.is_none() && shutdown::requested() {
                drain_until = Some(now + DRAIN_LIMIT);
            }
            let wait = match (drain_until, self.batch.due(self.flush_after)) {
                (Some(_), _) => Duration::ZERO,
                (None, Some(due)) => due.saturating_duration_since(now).min(IDLE_TICK),
                (None, None) => IDLE_TICK,
            };
            let readable = wait_readable(wait).context("waiting for standard input")?;
            let mut eof = false;
            if readable {
                let read = input.fill(stdin).context("reading standard input")?;
                self.engine.summary.bytes_in += read as u64;
                eof = read == 0;
                while let Some((number, line)) = input.next_line() {
                    self.batch.push(line, number);
                    if self.batch.records >= self.max_records
                        || self.batch.text.len() >= MAX_BATCH_BYTES
                    {
                        self.send()?;
                    }
                }
            }
            let drained = drain_until.is_some_and(|until| !readable || Instant::now() >= until);
            if eof || drained {
                // The input ends here, so a last line without its line break is whole.
                if let Some((number, rest)) = input.take_rest() {
                    self.batch.push(rest, number);
                }
                self.send()?;
                return Ok(input.lines());
            }
            if self
                .batch
                .due(self.flush_after)
                .is_some_and(|due| Instant::now() >= due)
            {
                self.send()?;
            } else if self.batch.is_empty() {
                // Idle: a changed pack is picked up without waiting for records, and the
                // state of what was written out is saved.
                self.engine.session.idle()?;
            }
        }
    }

    /// Process the batch and write its lines and alerts.
    fn send(&mut self) -> Result<()> {
        if self.batch.entries.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let records: Vec<&[u8]> = batch.records().map(|e| batch.bytes(e)).collect();
        let lines: Vec<u32> = batch.records().map(|e| e.line).collect();
        let origin = BatchOrigin {
            file: INPUT.to_string(),
            first_line: lines.first().copied().unwrap_or(1),
            lines,
        };
        let result = self.engine.batch(&records, &origin)?;

        // What belongs to which record: alerts by index, diagnostics by line.
        let mut alerts: Vec<Vec<&Alert>> = vec![Vec::new(); records.len()];
        let mut unplaced: Vec<&Alert> = Vec::new();
        for alert in &result.alerts {
            match alerts.get_mut(alert.record_index as usize) {
                Some(of_record) => of_record.push(alert),
                None => unplaced.push(alert),
            }
        }
        let mut diagnostics: HashMap<u32, Vec<&Diagnostic>> = HashMap::new();
        for diagnostic in &result.diagnostics {
            diagnostics
                .entry(diagnostic.line)
                .or_default()
                .push(diagnostic);
        }

        let mut index = 0;
        for entry in &batch.entries {
            let bytes = batch.bytes(entry);
            if !entry.record {
                self.out.write_all(bytes)?;
                self.out.write_all(b"\n")?;
                continue;
            }
            let outcome = &result.outcomes[index];
            let text = String::from_utf8_lossy(bytes);
            let findings = Findings {
                outcome,
                alerts: &alerts[index],
                diagnostics: diagnostics.get(&entry.line).map_or(&[][..], Vec::as_slice),
            };
            self.line.clear();
            inline::enrich(&text, &findings, &mut self.line);
            self.line.push(b'\n');
            self.out.write_all(&self.line)?;
            // On stdout the record carries its alerts already.
            if let Some(file) = &mut self.alerts_file {
                for alert in &alerts[index] {
                    self.writer.alert(file, alert, INPUT, entry.line)?;
                }
            }
            index += 1;
        }
        let last_line = batch.entries.last().map_or(0, |e| e.line);
        for alert in unplaced {
            self.write_alert(alert, last_line)?;
        }
        self.flush()?;
        self.engine.session.batch_written()
    }

    fn write_alert(&mut self, alert: &Alert, line: u32) -> io::Result<()> {
        match &mut self.alerts_file {
            Some(file) => self.writer.alert(file, alert, INPUT, line),
            None => self.writer.alert(&mut self.out, alert, INPUT, line),
        }
    }

    fn flush(&mut self) -> Result<()> {
        self.out.flush()?;
        if let Some(file) = &mut self.alerts_file {
            file.flush()?;
        }
        Ok(())
    }

    /// End of input (`lines` were read): alerts the engine still held, then the
    /// summary on stderr.
    fn finish(mut self, lines: u32, quiet: bool) -> Result<()> {
        let origin = BatchOrigin {
            file: INPUT.to_string(),
            first_line: lines.max(1),
            lines: Vec::new(),
        };
        let result = self.engine.end(&origin)?;
        for alert in &result.alerts {
            self.write_alert(alert, origin.first_line)?;
        }
        self.flush()?;
        self.engine.session.save_state()?;
        let summary = &mut self.engine.summary;
        summary.files.push((INPUT.to_string(), summary.records_in));
        self.engine.close()?;
        if !quiet {
            self.engine.summary.write(&mut io::stderr().lock())?;
        }
        Ok(())
    }
}

/// The lines waiting for the engine, blank ones included so output keeps input order.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    entries: Vec<Entry>,
    records: usize,
    /// When the first line of this batch arrived.
    opened: Option<Instant>,
}

struct Entry {
    start: usize,
    end: usize,
    /// 1-based line of the input.
    line: u32,
    /// Blank lines are not records: they are written back as they came.
    record: bool,
}

impl Batch {
    fn push(&mut self, line: &[u8], number: u32) {
        let start = self.text.len();
        self.text.extend_from_slice(line);
        let record = !line.iter().all(u8::is_ascii_whitespace);
        self.records += usize::from(record);
        self.entries.push(Entry {
            start,
            end: self.text.len(),
            line: number,
            record,
        });
        self.opened.get_or_insert_with(Instant::now);
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// When the batch must go out, if it has anything in it.
    fn due(&self, flush_after: Duration) -> Option<Instant> {
        self.opened.map(|opened| opened + flush_after)
    }

    fn records(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.record)
    }

    fn bytes(&self, entry: &Entry) -> &[u8] {
        &self.text[entry.start..entry.end]
    }
}

/// Bytes read from stdin and not yet split into lines.
#[derive(Default)]
struct LineBuffer {
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out as lines.
    taken: usize,
    /// Lines handed out so far.
    lines: u32,
}

impl LineBuffer {
    /// One `read(2)`: the bytes read, 0 at the end of the input.
    fn fill(&mut self, stdin: &mut impl Read) -> io::Result<usize> {
        if self.taken > 0 {
            self.buf.drain(..self.taken);
            self.taken = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        let n = loop {
            match stdin.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(len + n);
        Ok(n)
    }

    /// The next complete line with its 1-based number, without its `\n` (and `\r`).
    fn next_line(&mut self) -> Option<(u32, &[u8])> {
        let start = self.taken;
        let end = start + memchr::memchr(b'\n', &self.buf[start..])?;
        self.taken = end + 1;
        self.lines += 1;
        let line = &self.buf[start..end];
        Some((self.lines, line.strip_suffix(b"\r").unwrap_or(line)))
    }

    /// What follows the last line break, if anything: a last line without its `\n`.
    fn take_rest(&mut self) -> Option<(u32, &[u8])> {
        let start = self.taken;
        if start == self.buf.len() {
            return None;
        }
        self.taken = self.buf.len();
        self.lines += 1;
        let rest = &self.buf[start..];
        Some((self.lines, rest.strip_suffix(b"\r").unwrap_or(rest)))
    }

    /// Lines handed out so far.
    fn lines(&self) -> u32 {
        self.lines
    }
}

/// Wait up to `timeout` for standard input; `true` when a read will not block (data,
/// end of input or an error to report). A signal cuts the wait short with `false`.
fn wait_readable(timeout: Duration) -> io::Result<bool> {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid `pollfd` that outlives the call.
    let n = unsafe { libc::poll(&mut fd, 1, ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(err)
        };
    }
    Ok(n > 0)
}

/// SIGTERM and SIGINT set a flag the loop reads; nothing else happens in the handler.
mod shutdown {
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};

    static REQUESTED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_: libc::c_int) {
        REQUESTED.store(true, Ordering::SeqCst);
    }

    pub(super) fn install() -> io::Result<()> {
        for signal in [libc::SIGTERM, libc::SIGINT] {
            // SAFETY: an all-zero `sigaction` is a valid value to fill in; the handler
            // only stores to an atomic, which is async-signal-safe.
            let status = unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut())
            };
            if status != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    pub(super) fn requested() -> bool {
        REQUESTED.load(Ordering::SeqCst)
    }
}
