//! One engine session: the backend (the sandboxed component or the native engine), the
//! rule pack installed in it, its options, and where its state lives between runs.
//! Every command that sends records to the engine sets it up here, the same way.
//!
//! - **Engine**: `--native`, or the component (`--component` or the built-in one) under
//!   the caps `--memory-limit` and `--deadline-ms` give.
//! - **Pack**: `--rules DIR`, or the built-in pack. A pack that does not compile is
//!   printed, located under the pack directory, and nothing runs.
//! - **`--watch`**: the pack directory is looked at between batches (`watch.rs`).
//! - **`--state FILE`**: the engine's state is restored from FILE at start and written
//!   back only after the output it covers is out (`io/state_file.rs`).

use std::borrow::Cow;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use crowsnest_transform::api::{
    AlertFormat, BatchOrigin, BatchResult, Diagnostic, Options, PackFile, PackInfo,
};

use crate::cli::{Format, GlobalArgs};
use crate::engine::backend::{Backend, EMBEDDED_COMPONENT, EngineChoice};
use crate::engine::component::Limits;
use crate::engine::watch::PackWatch;
use crate::io::pack_dir::{self, in_pack};
use crate::io::state_file::StateFile;

/// What a long-running command (`replay`, `filter`) keeps beside the engine.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Keep<'a> {
    /// `--watch`.
    pub(crate) watch: bool,
    /// `--state FILE`.
    pub(crate) state: Option<&'a Path>,
    /// `--discard-bad-state`.
    pub(crate) discard_bad_state: bool,
}

pub(crate) struct Session {
    pub(crate) backend: Backend,
    /// `--watch`: the pack directory, looked at between batches.
    watch: Option<PackWatch>,
    /// `--state FILE`.
    state: Option<StateFile>,
}

impl Session {
    /// The engine `global` asks for, with no pack installed yet.
    pub(crate) fn engine(global: &GlobalArgs) -> Result<Session> {
        Session::with(engine_choice(global)?)
    }

    /// A session on the given engine, with no pack installed yet.
    pub(crate) fn with(choice: EngineChoice) -> Result<Session> {
        Ok(Session {
            backend: Backend::open(choice)?,
            watch: None,
            state: None,
        })
    }

    /// `replay`'s and `filter`'s session: the engine, `--rules` installed, `options`
    /// set, then `--watch` and `--state` as `keep` says. `None` when it cannot start
    /// (the pack has errors, the state file cannot be restored): the reasons have been
    /// printed and the command exits with 2.
    pub(crate) fn open(
        global: &GlobalArgs,
        options: &Options,
        keep: Keep<'_>,
    ) -> Result<Option<Session>> {
        let watch = PackWatch::for_run(global.rules.as_deref(), keep.watch)?;
        let mut session = Session::engine(global)?;
        if let Some(dir) = &global.rules
            && !session.install_pack_dir(dir)?
        {
            return Ok(None);
        }
        session.backend.set_options(options)?;
        session.watch = watch;
        if let Some(path) = keep.state {
            let backend = &mut session.backend;
            match StateFile::open(path, keep.discard_bad_state, |blob| backend.restore(blob))? {
                Some(state) => {
                    session.state = Some(state.at_checkpoints(session.backend.checkpoints()))
                }
                None => return Ok(None),
            }
        }
        Ok(Some(session))
    }

    /// Install the pack in `dir`; on pack errors print them and return false.
    fn install_pack_dir(&mut self, dir: &Path) -> Result<bool> {
        let files = pack_dir::load(dir)?;
        match self.backend.configure(&files)? {
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

    /// Install `pack` (already loaded) and set `options`: the inner `Err` is the
    /// pack's diagnostics.
    pub(crate) fn configure(
        &mut self,
        pack: &[PackFile],
        options: &Options,
    ) -> Result<Result<PackInfo, Vec<Diagnostic>>> {
        let info = self.backend.configure(pack)?;
        if info.is_ok() {
            self.backend.set_options(options)?;
        }
        Ok(info)
    }

    /// Process one batch, after picking up a changed pack under `--watch`.
    pub(crate) fn process(
        &mut self,
        records: &[&[u8]],
        origin: &BatchOrigin,
    ) -> Result<BatchResult> {
        if let Some(watch) = &mut self.watch {
            watch.reload_if_changed(&mut self.backend)?;
        }
        if records.is_empty() {
            return Ok(BatchResult::default());
        }
        self.backend.process(records, origin)
    }

    /// End of one input: what the engine still holds for it.
    pub(crate) fn finish(&mut self, origin: &BatchOrigin) -> Result<BatchResult> {
        self.backend.finish(origin)
    }

    /// An idle input: a changed pack is picked up without waiting for records, and the
    /// state of what was written out is saved once it is due.
    pub(crate) fn idle(&mut self) -> Result<()> {
        if let Some(watch) = &mut self.watch {
            watch.reload_if_changed(&mut self.backend)?;
        }
        if let Some(state) = &mut self.state
            && state.due()
        {
            save(state, &mut self.backend);
        }
        Ok(())
    }

    /// The output of a batch is out: its state may be saved. A sandbox checkpoint is a
    /// snapshot taken anyway, so one taken since the last save is persisted now.
    pub(crate) fn batch_written(&mut self) -> Result<()> {
        if let Some(state) = &mut self.state {
            state.mark_dirty();
            if self.backend.checkpoints() != state.checkpoints() {
                save(state, &mut self.backend);
            }
        }
        Ok(())
    }

    /// Everything is out: save the state (`--state`).
    pub(crate) fn save_state(&mut self) -> Result<()> {
        if let Some(state) = &mut self.state {
            save(state, &mut self.backend);
        }
        Ok(())
    }
}

fn save(state: &mut StateFile, backend: &mut Backend) {
    let snapshot = backend.snapshot();
    state.save(snapshot, backend.checkpoints());
}

/// The engine options of a command that writes alerts in `format`: the alert document,
/// `--source` and `--vpc-flow-format`; everything else as the engine defaults it.
pub(crate) fn alert_options(global: &GlobalArgs, format: Format) -> Options {
    Options {
        alert_format: if format == Format::Ecs {
            AlertFormat::Ecs
        } else {
            AlertFormat::Ocsf
        },
        force_source: global.source,
        vpc_flow_format: global.vpc_flow_format.clone(),
        ..Options::default()
    }
}

/// The engine `global` asks for: `--native`, or the component under its caps.
pub(crate) fn engine_choice(global: &GlobalArgs) -> Result<EngineChoice> {
    if global.native {
        return Ok(EngineChoice::Native);
    }
    let (wasm, limits) = component(global)?;
    Ok(EngineChoice::Component {
        wasm: match wasm {
            Cow::Owned(bytes) => Some(bytes),
            Cow::Borrowed(_) => None,
        },
        limits,
    })
}

/// The component's bytes (`--component` or the built-in one) and the caps
/// `--memory-limit` and `--deadline-ms` give.
pub(crate) fn component(global: &GlobalArgs) -> Result<(Cow<'static, [u8]>, Limits)> {
    let wasm = match &global.component {
        Some(path) => Cow::Owned(
            fs::read(path).with_context(|| format!("reading component {}", path.display()))?,
        ),
        None => Cow::Borrowed(EMBEDDED_COMPONENT),
    };
    let limits = Limits {
        memory_bytes: (global.memory_limit as usize) << 20,
        deadline_ms: global.deadline_ms,
    };
    Ok((wasm, limits))
}
