//! `--state FILE`: the engine's state on disk, written only after the output it covers.
//!
//! The file is replaced atomically: a temporary file next to it, written and fsynced,
//! renamed over it, and the directory fsynced. A snapshot or a write that fails is said
//! on stderr and the file keeps the last good state; the stream goes on. What the state
//! is, and when output is out, is the session's business (`engine/session.rs`).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;

/// With `--state`, state is written this long after the last write once the input is
/// idle and records were processed since.
const STATE_IDLE: Duration = Duration::from_secs(1);

pub(crate) struct StateFile {
    path: PathBuf,
    /// Records were processed since the last write.
    dirty: bool,
    /// The sandbox's checkpoint count at the last write.
    checkpoints: u64,
    written: Option<Instant>,
}

impl StateFile {
    /// Restore from `path` when it exists, with `restore` (whose inner `Err` says why
    /// the engine refused the blob). `None` when it cannot be restored and `discard` is
    /// off: the error has been printed, the command must stop.
    pub(crate) fn open(
        path: &Path,
        discard: bool,
        restore: impl FnOnce(&[u8]) -> Result<Result<(), String>>,
    ) -> Result<Option<StateFile>> {
        let refused = match fs::read(path) {
            Ok(blob) => restore(&blob)?.err(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = refused {
            if !discard {
                eprintln!(
                    "crowsnest: error: {}: cannot restore the engine state: {why} \
                     (--discard-bad-state starts with empty state instead)",
                    path.display()
                );
                return Ok(None);
            }
            eprintln!(
                "crowsnest: warning: {}: cannot restore the engine state: {why}; \
                 starting with empty state",
                path.display()
            );
        }
        Ok(Some(StateFile {
            path: path.to_path_buf(),
            dirty: false,
            checkpoints: 0,
            written: None,
        }))
    }

    /// The sandbox's checkpoint count once the state is restored.
    pub(crate) fn at_checkpoints(mut self, checkpoints: u64) -> StateFile {
        self.checkpoints = checkpoints;
        self
    }

    /// Records were processed: the state on disk is behind.
    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// The sandbox's checkpoint count at the last write.
    pub(crate) fn checkpoints(&self) -> u64 {
        self.checkpoints
    }

    /// Whether an idle input should trigger a write now.
    pub(crate) fn due(&self) -> bool {
        self.dirty && self.written.is_none_or(|at| at.elapsed() >= STATE_IDLE)
    }

    /// Write `snapshot` (taken now) and remember `checkpoints`, the sandbox's count
    /// with it. A failure is said on stderr and the next idle write waits
    /// [`STATE_IDLE`].
    pub(crate) fn save(&mut self, snapshot: Result<Vec<u8>>, checkpoints: u64) {
        let blob = match snapshot {
            Ok(blob) => blob,
            Err(err) => {
                self.failed(&format!("{err:#}"));
                return;
            }
        };
        let tmp = self.path.with_extension("tmp");
        let write = || -> io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(&blob)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            let dir = match self.path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            File::open(dir)?.sync_all()
        };
        if let Err(err) = write() {
            self.failed(&format!("writing it failed: {err}"));
            return;
        }
        self.dirty = false;
        self.checkpoints = checkpoints;
        self.written = Some(Instant::now());
    }

    /// A save that did not happen: say so, and wait [`STATE_IDLE`] before trying again
    /// on idle.
    fn failed(&mut self, why: &str) {
        eprintln!(
            "crowsnest: warning: {}: the engine state was not saved ({why}); the file keeps \
             the previous state",
            self.path.display()
        );
        self.written = Some(Instant::now());
    }
}
