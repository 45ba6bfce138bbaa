//! The batch loop: framing -> batches -> outcomes -> accounting, for every command that
//! sends records to the engine (`replay`, `filter`, `rules test`, `bench`).
//!
//! A whole input is framed and batched by `crowsnest_transform::framing::batches`
//! ([`BatchLoop::input`]); `filter`, which reads a stream line by line, hands its
//! batches to [`BatchLoop::batch`]. Either way each batch goes through the session,
//! is checked against the engine's contract (one outcome per record), and every
//! record is accounted in [`Summary`]: *out* when the engine decoded it, *reported*
//! when it could not (with a located diagnostic), and a framing error is one reported
//! record with the diagnostic [`FrameError::diagnostic`] words. What a command does
//! with the alerts is its [`Sink`].
//!
//! [`FrameError::diagnostic`]: crowsnest_transform::framing::FrameError::diagnostic

use anyhow::{Result, bail};
use crowsnest_transform::api::{BatchOrigin, BatchResult, Diagnostic};
use crowsnest_transform::framing::{self, MAX_BATCH_BYTES};
use crowsnest_transform::model::Source;

use crate::engine::session::Session;
use crate::io::summary::Summary;

/// What a command does with the engine's answers for a whole input. Each method is
/// called before the answer is accounted.
pub(crate) trait Sink {
    /// One batch: its origin, the engine's result and the bytes of its records (a
    /// line break counted after each).
    fn batch(&mut self, _origin: &BatchOrigin, _result: &BatchResult, _bytes: usize) -> Result<()> {
        Ok(())
    }

    /// The end of the input: what the engine still held, placed at the input's last
    /// record (`origin.first_line`).
    fn end(&mut self, _origin: &BatchOrigin, _result: &BatchResult) -> Result<()> {
        Ok(())
    }

    /// The input could not be framed past this point: the rest of it is skipped.
    fn unreadable(&mut self, _diagnostic: &Diagnostic) -> Result<()> {
        Ok(())
    }
}

/// A sink that keeps nothing: the account is all the caller wants.
impl Sink for () {}

pub(crate) struct BatchLoop {
    pub(crate) session: Session,
    pub(crate) summary: Summary,
    /// Records per batch (`--batch`); a batch also closes at [`MAX_BATCH_BYTES`].
    batch_records: usize,
}

impl BatchLoop {
    pub(crate) fn new(session: Session, batch_records: usize) -> BatchLoop {
        BatchLoop {
            session,
            summary: Summary::default(),
            batch_records,
        }
    }

    /// Frame one whole input named `file`, whose line 1 is line `line_offset + 1` of
    /// the file, process it batch by batch, then end it.
    pub(crate) fn input(
        &mut self,
        file: &str,
        bytes: &[u8],
        line_offset: u32,
        sink: &mut impl Sink,
    ) -> Result<()> {
        self.summary.bytes_in += bytes.len() as u64;
        let mut batches = framing::batches(bytes, self.batch_records, MAX_BATCH_BYTES, line_offset);
        for batch in batches.by_ref() {
            match batch {
                Ok(batch) => {
                    let origin = batch.origin(file);
                    let result = self.batch(&batch.refs(), &origin)?;
                    sink.batch(&origin, &result, batch.bytes)?;
                }
                Err(err) => {
                    let diagnostic = err.diagnostic(file, line_offset);
                    sink.unreadable(&diagnostic)?;
                    self.summary.records_in += 1;
                    self.summary.records_reported += 1;
                    self.summary.add_diagnostic(&diagnostic);
                }
            }
        }
        let origin = BatchOrigin {
            file: file.to_string(),
            first_line: batches.last_line(),
            lines: Vec::new(),
        };
        let result = self.end(&origin)?;
        sink.end(&origin, &result)?;
        self.summary
            .files
            .push((file.to_string(), batches.records()));
        Ok(())
    }

    /// Process one batch and account its records, diagnostics and alerts.
    pub(crate) fn batch(&mut self, records: &[&[u8]], origin: &BatchOrigin) -> Result<BatchResult> {
        let result = self.session.process(records, origin)?;
        if result.outcomes.len() != records.len() {
            bail!(
                "the engine returned {} outcomes for {} records ({} from line {}): it breaks the \
                 contract of one outcome per record",
                result.outcomes.len(),
                records.len(),
                origin.file,
                origin.first_line
            );
        }
        self.summary.records_in += records.len() as u64;
        // Records of one source come in runs: one map update per run.
        let mut run: Option<(Source, u64)> = None;
        for outcome in &result.outcomes {
            let Some(source) = outcome.source else {
                self.summary.records_reported += 1;
                continue;
            };
            self.summary.records_out += 1;
            match &mut run {
                Some((current, count)) if *current == source => *count += 1,
                _ => {
                    if let Some((current, count)) = run.replace((source, 1)) {
                        *self.summary.sources.entry(current.as_str()).or_default() += count;
                    }
                }
            }
        }
        if let Some((current, count)) = run {
            *self.summary.sources.entry(current.as_str()).or_default() += count;
        }
        self.account(&result);
        Ok(result)
    }

    /// End of an input: what the engine still held, its diagnostics and alerts
    /// accounted.
    pub(crate) fn end(&mut self, origin: &BatchOrigin) -> Result<BatchResult> {
        let result = self.session.finish(origin)?;
        self.account(&result);
        Ok(result)
    }

    fn account(&mut self, result: &BatchResult) {
        for diagnostic in &result.diagnostics {
            self.summary.add_diagnostic(diagnostic);
        }
        for alert in &result.alerts {
            self.summary.count_alert(alert);
        }
    }

    /// The end of the run: the engine's own figures (instances replaced, state held)
    /// join the account.
    pub(crate) fn close(&mut self) -> Result<()> {
        self.summary.restarts = self.session.backend.restarts();
        let stats = self.session.backend.stats()?;
        self.summary.state = Some((stats.containers_tracked, stats.state_evictions));
        self.summary.correlations = Some((stats.correlation_groups, stats.correlation_evictions));
        self.summary.suppressed = stats.alerts_suppressed;
        self.summary.quieted = stats.alerts_quieted;
        Ok(())
    }
}
