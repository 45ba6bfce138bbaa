//! The engine behind one interface, sandboxed or native, so replay does not care which.
//!
//! The native engine is the same crate the component is built from, linked into the
//! harness: it exists for side-by-side comparison (`--native`) and has no sandbox, so a
//! bug that would trap the component panics the harness instead.

use anyhow::Result;
use crowsnest_transform::Detector;
use crowsnest_transform::api::{
    BatchOrigin, BatchResult, Diagnostic, Options, PackFile, PackInfo, Stats,
};

use crate::engine::component::Limits;
use crate::engine::sandbox::Sandbox;

/// The component built by `build.rs` from this workspace's `transform` crate.
pub(crate) static EMBEDDED_COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/crowsnest.wasm"));

pub(crate) enum Backend {
    Component(Box<Sandbox>),
    Native(Box<Detector>),
}

/// Which engine to run, and with what.
pub(crate) enum EngineChoice {
    /// The built-in component, or the bytes of another one.
    Component {
        wasm: Option<Vec<u8>>,
        limits: Limits,
    },
    Native,
}

impl Backend {
    pub(crate) fn open(choice: EngineChoice) -> Result<Backend> {
        Ok(match choice {
            EngineChoice::Component { wasm, limits } => {
                let wasm = wasm.as_deref().unwrap_or(EMBEDDED_COMPONENT);
                Backend::Component(Box::new(Sandbox::new(wasm, limits)?))
            }
            EngineChoice::Native => Backend::Native(Box::new(Detector::new())),
        })
    }

    /// Install a rule pack: the inner `Err` is the pack's diagnostics (nothing changed);
    /// the outer one is a fatal engine failure.
    pub(crate) fn configure(
        &mut self,
        files: &[PackFile],
    ) -> Result<Result<PackInfo, Vec<Diagnostic>>> {
        match self {
            Backend::Component(sandbox) => sandbox.configure(files),
            Backend::Native(detector) => Ok(detector.configure(files)),
        }
    }

    pub(crate) fn set_options(&mut self, options: &Options) -> Result<()> {
        match self {
            Backend::Component(sandbox) => sandbox.set_options(options),
            Backend::Native(detector) => {
                detector.set_options(options.clone());
                Ok(())
            }
        }
    }

    /// Process one batch of records (each without line breaks) from `origin`.
    pub(crate) fn process(
        &mut self,
        records: &[&[u8]],
        origin: &BatchOrigin,
    ) -> Result<BatchResult> {
        match self {
            Backend::Component(sandbox) => sandbox.process(records, origin),
            Backend::Native(detector) => Ok(detector.process(&records.join(&b'\n'), origin)),
        }
    }

    /// End of one input: evaluate what the engine still holds for it.
    pub(crate) fn finish(&mut self, origin: &BatchOrigin) -> Result<BatchResult> {
        match self {
            Backend::Component(sandbox) => sandbox.finish(origin),
            Backend::Native(detector) => Ok(detector.finish(origin)),
        }
    }

    pub(crate) fn stats(&mut self) -> Result<Stats> {
        match self {
            Backend::Component(sandbox) => sandbox.stats(),
            Backend::Native(detector) => Ok(detector.stats()),
        }
    }

    /// The engine's state (container table, open correlation windows) as a blob.
    pub(crate) fn snapshot(&mut self) -> Result<Vec<u8>> {
        match self {
            Backend::Component(sandbox) => sandbox.snapshot(),
            Backend::Native(detector) => Ok(detector.snapshot()),
        }
    }

    /// Bring back state from [`Backend::snapshot`]; the inner `Err` says why the blob
    /// was refused (nothing changed).
    pub(crate) fn restore(&mut self, blob: &[u8]) -> Result<Result<(), String>> {
        match self {
            Backend::Component(sandbox) => sandbox.restore(blob),
            Backend::Native(detector) => Ok(detector.restore(blob)),
        }
    }

    /// Checkpoints the sandbox took so far (always 0 natively: nothing to recover).
    pub(crate) fn checkpoints(&self) -> u64 {
        match self {
            Backend::Component(sandbox) => sandbox.checkpoints(),
            Backend::Native(_) => 0,
        }
    }

    /// Instances replaced after a fault (always 0 natively).
    pub(crate) fn restarts(&self) -> u64 {
        match self {
            Backend::Component(sandbox) => sandbox.restarts(),
            Backend::Native(_) => 0,
        }
    }
}
