//! Failure isolation around the component (architecture.md, "Sandbox and failure rules").
//!
//! Every call runs under the memory cap and the epoch deadline (`component.rs`). When a
//! call faults (a trap, a timeout, a memory-cap growth failure) the instance is poisoned:
//! the sandbox drops it, makes a fresh one from the pre-linked component, sends it the
//! current rule pack and options, and brings its state back (below). A batch that
//! faulted is then retried record by record; each record that faults alone is a poison
//! record, reported as a located `sandbox.*` diagnostic with no decoded source, and every
//! other record is processed normally. Nothing is dropped silently.
//!
//! ## Keeping state across a fault
//!
//! The engine's state (container table, correlation windows) lives inside the instance
//! and dies with it. To get it back the sandbox keeps a *checkpoint*, a `snapshot()` of
//! the instance, plus a *journal* of every batch processed since. A fresh instance
//! restores the checkpoint and replays the journal (results discarded: they were
//! reported the first time), which rebuilds the state the dead instance had before the
//! faulting call, because the engine is deterministic in its input (it runs on event
//! time, not wall time). The journal is folded into a new checkpoint every
//! [`JOURNAL_MAX_BATCHES`] batches or [`JOURNAL_MAX_BYTES`] bytes, so replay stays short.
//! If state cannot be rebuilt (a replayed batch faults, the snapshot is refused) the
//! sandbox says so on stderr and goes on with what it could restore.

use std::mem;

use anyhow::{Context, Result, bail};
use crowsnest_transform::api::{
    BatchOrigin, BatchResult, Diagnostic, Options, PackFile, PackInfo, RecordOutcome, Severity,
    Stats,
};

use crate::engine::component::{Fault, Instance, Limits, Runtime};

/// Fold the journal into a checkpoint after this many batches...
const JOURNAL_MAX_BATCHES: usize = 256;
/// ...or this many bytes of input, whichever comes first.
const JOURNAL_MAX_BYTES: usize = 16 << 20;

/// A component instance that survives faults.
pub(crate) struct Sandbox {
    runtime: Runtime,
    instance: Instance,
    /// The pack sent with `configure`; `None` runs the component's built-in pack.
    pack: Option<Vec<PackFile>>,
    options: Option<Options>,
    recovery: Recovery,
    /// Instances replaced after a fault.
    restarts: u64,
    /// Checkpoints taken so far; a caller that persists state watches it change.
    checkpoints: u64,
}

/// What a fresh instance needs to continue where a poisoned one stopped.
#[derive(Default)]
struct Recovery {
    checkpoint: Option<Vec<u8>>,
    journal: Vec<(Vec<u8>, BatchOrigin)>,
    journal_bytes: usize,
    /// Set when a snapshot could not be taken: from then on a fault loses state, and the
    /// journal is no longer kept (it would grow without bound).
    disabled: bool,
}

impl Sandbox {
    pub(crate) fn new(wasm: &[u8], limits: Limits) -> Result<Sandbox> {
        let runtime = Runtime::new(wasm, limits)?;
        let instance = runtime.instantiate()?;
        Ok(Sandbox {
            runtime,
            instance,
            pack: None,
            options: None,
            recovery: Recovery::default(),
            restarts: 0,
            checkpoints: 0,
        })
    }

    /// Instances replaced after a fault so far.
    pub(crate) fn restarts(&self) -> u64 {
        self.restarts
    }

    /// The running instance's linear memory, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.instance.memory_bytes()
    }

    /// Checkpoints taken so far (after a pack, options, a restore, a long journal).
    pub(crate) fn checkpoints(&self) -> u64 {
        self.checkpoints
    }

    /// The engine's state now, as `snapshot()` exports it; it also becomes the
    /// checkpoint a fault recovers from.
    pub(crate) fn snapshot(&mut self) -> Result<Vec<u8>> {
        match self.instance.snapshot() {
            Ok(blob) => {
                if !self.recovery.disabled {
                    self.recovery.checkpoint = (!blob.is_empty()).then(|| blob.clone());
                    self.recovery.journal.clear();
                    self.recovery.journal_bytes = 0;
                }
                Ok(blob)
            }
            Err(fault) => {
                self.recover()?;
                bail!("the component faulted while taking a snapshot: {fault}")
            }
        }
    }

    /// Bring back state from a `snapshot()` blob. The inner `Err` is the component
    /// refusing the blob (nothing changed); the outer one a fault.
    pub(crate) fn restore(&mut self, blob: &[u8]) -> Result<Result<(), String>> {
        match self.instance.restore(blob) {
            Ok(Ok(())) => {
                self.checkpoint();
                Ok(Ok(()))
            }
            Ok(Err(why)) => Ok(Err(why)),
            Err(fault) => {
                self.recover()?;
                bail!("the component faulted while restoring a snapshot: {fault}")
            }
        }
    }

    /// Compile and install a rule pack. A fault here is a bug in the component, not in
    /// the pack, and is fatal; the running instance is replaced first so it stays usable.
    pub(crate) fn configure(
        &mut self,
        files: &[PackFile],
    ) -> Result<Result<PackInfo, Vec<Diagnostic>>> {
        match self.instance.configure(files) {
            Ok(Ok(info)) => {
                self.pack = Some(files.to_vec());
                self.checkpoint();
                Ok(Ok(info))
            }
            Ok(Err(diagnostics)) => Ok(Err(diagnostics)),
            Err(fault) => {
                self.recover()?;
                bail!("the component faulted while compiling the rule pack: {fault}")
            }
        }
    }

    pub(crate) fn set_options(&mut self, options: &Options) -> Result<()> {
        match self.instance.set_options(options) {
            Ok(()) => {
                self.options = Some(options.clone());
                self.checkpoint();
                Ok(())
            }
            Err(fault) => {
                self.recover()?;
                bail!("the component faulted while setting options: {fault}")
            }
        }
    }

    /// Process one batch. `records` are the batch's records (no line breaks inside),
    /// `origin` says where each one is. The result has one outcome per record whatever
    /// happened; poison records have no source and a `sandbox.*` diagnostic.
    pub(crate) fn process(
        &mut self,
        records: &[&[u8]],
        origin: &BatchOrigin,
    ) -> Result<BatchResult> {
        let batch = records.join(&b'\n');
        match self.instance.process(&batch, origin) {
            Ok(result) => {
                self.journal(batch, origin);
                Ok(result)
            }
            Err(_) => {
                self.recover()?;
                self.isolate(records, origin)
            }
        }
    }

    /// End of a stream: what the engine still held (an incomplete auditd event). A fault
    /// here loses only that pending event, which is said on stderr.
    pub(crate) fn finish(&mut self, origin: &BatchOrigin) -> Result<BatchResult> {
        match self.instance.finish(origin) {
            Ok(result) => {
                self.checkpoint();
                Ok(result)
            }
            Err(fault) => {
                self.recover()?;
                eprintln!(
                    "crowsnest: warning: the component faulted at the end of {} ({fault}); \
                     events still pending there were dropped",
                    origin.file
                );
                Ok(BatchResult::default())
            }
        }
    }

    pub(crate) fn stats(&mut self) -> Result<Stats> {
        match self.instance.stats() {
            Ok(stats) => Ok(stats),
            Err(fault) => {
                self.recover()?;
                bail!("the component faulted while reporting stats: {fault}")
            }
        }
    }

    /// Retry a faulted batch one record at a time.
    fn isolate(&mut self, records: &[&[u8]], origin: &BatchOrigin) -> Result<BatchResult> {
        let mut out = BatchResult::default();
        for (index, record) in records.iter().enumerate() {
            let line = origin.line_of(index);
            let single = BatchOrigin {
                file: origin.file.clone(),
                first_line: line,
                lines: vec![line],
            };
            match self.instance.process(record, &single) {
                Ok(result) => {
                    self.journal(record.to_vec(), &single);
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    out.outcomes.extend(result.outcomes);
                    out.alerts
                        .extend(result.alerts.into_iter().map(|mut alert| {
                            alert.record_index = alert.record_index.saturating_add(index);
                            alert
                        }));
                    out.diagnostics.extend(result.diagnostics);
                }
                Err(fault) => {
                    self.recover()?;
                    out.outcomes.push(RecordOutcome::default());
                    out.diagnostics
                        .push(poison_diagnostic(&fault, &origin.file, line));
                }
            }
        }
        Ok(out)
    }

    /// Replace the poisoned instance and bring it to where the old one was before the
    /// faulting call. Failing to instantiate or to reinstall the pack is fatal.
    fn recover(&mut self) -> Result<()> {
        self.restarts += 1;
        self.instance = self.fresh_instance()?;
        if let Some(checkpoint) = &self.recovery.checkpoint {
            match self.instance.restore(checkpoint) {
                Ok(Ok(())) => {}
                Ok(Err(why)) => {
                    warn_state_lost(&format!("the component refused its own snapshot ({why})"))
                }
                Err(fault) => {
                    warn_state_lost(&format!("restoring the snapshot faulted ({fault})"));
                    self.instance = self.fresh_instance()?;
                    self.recovery = Recovery {
                        disabled: self.recovery.disabled,
                        ..Recovery::default()
                    };
                    return Ok(());
                }
            }
        }
        let journal = mem::take(&mut self.recovery.journal);
        for (batch, origin) in &journal {
            if let Err(fault) = self.instance.process(batch, origin) {
                // Deterministic input replayed should not fault; a timeout on a busy
                // machine can. Keep what the checkpoint gave and carry on.
                warn_state_lost(&format!(
                    "replaying {} journaled batches faulted ({fault})",
                    journal.len()
                ));
                self.instance = self.fresh_instance()?;
                if let Some(checkpoint) = &self.recovery.checkpoint
                    && !matches!(self.instance.restore(checkpoint), Ok(Ok(())))
                {
                    self.instance = self.fresh_instance()?;
                }
                self.recovery.journal_bytes = 0;
                return Ok(());
            }
        }
        self.recovery.journal = journal;
        Ok(())
    }

    /// A new instance with the current pack and options installed.
    fn fresh_instance(&self) -> Result<Instance> {
        let mut instance = self
            .runtime
            .instantiate()
            .context("replacing the component instance after a fault")?;
        if let Some(options) = &self.options {
            instance.set_options(options).map_err(|fault| {
                anyhow::anyhow!("a fresh instance faulted on set-options: {fault}")
            })?;
        }
        if let Some(pack) = &self.pack {
            match instance.configure(pack) {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => {
                    bail!("a fresh component instance rejected the rule pack it accepted before")
                }
                Err(fault) => bail!(
                    "a fresh component instance faulted while compiling the rule pack: {fault}"
                ),
            }
        }
        Ok(instance)
    }

    /// Remember a processed batch, folding the journal into a checkpoint when it is long.
    fn journal(&mut self, batch: Vec<u8>, origin: &BatchOrigin) {
        if self.recovery.disabled {
            return;
        }
        self.recovery.journal_bytes += batch.len();
        self.recovery.journal.push((batch, origin.clone()));
        if self.recovery.journal.len() >= JOURNAL_MAX_BATCHES
            || self.recovery.journal_bytes >= JOURNAL_MAX_BYTES
        {
            self.checkpoint();
        }
    }

    /// Snapshot the instance and clear the journal. A snapshot that faults is recovered
    /// from (with the old checkpoint and journal) and turns checkpointing off.
    fn checkpoint(&mut self) {
        if self.recovery.disabled {
            return;
        }
        match self.instance.snapshot() {
            Ok(blob) => {
                self.recovery.checkpoint = (!blob.is_empty()).then_some(blob);
                self.recovery.journal.clear();
                self.recovery.journal_bytes = 0;
                self.checkpoints += 1;
            }
            Err(fault) => {
                eprintln!(
                    "crowsnest: warning: the component faulted while taking a snapshot ({fault}); \
                     state will not survive a later fault"
                );
                if let Err(err) = self.recover() {
                    eprintln!("crowsnest: warning: {err:#}");
                }
                self.recovery = Recovery {
                    disabled: true,
                    ..Recovery::default()
                };
            }
        }
    }
}

fn warn_state_lost(why: &str) {
    eprintln!("crowsnest: warning: {why}; detection state since the last checkpoint is lost");
}

/// The diagnostic for a record the component cannot process.
fn poison_diagnostic(fault: &Fault, file: &str, line: u32) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: fault.kind.code().to_string(),
        message: format!(
            "record not processed: the component faulted on it: {}",
            fault.reason
        ),
        file: file.to_string(),
        line,
        column: 1,
    }
}
