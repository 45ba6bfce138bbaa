//! `--watch`: reload the `--rules` directory while records flow.
//!
//! The directory is looked at between batches, at most once per [`INTERVAL`]; a look
//! lists the pack's files with their sizes and modification times
//! (`crowsnest_transform::pack_dir`), and only a listing that differs from the last one
//! is read and sent to the engine. The engine compiles the whole pack before it
//! replaces the running one, so a batch runs entirely under the old pack or entirely
//! under the new one: no record is dropped or processed twice, and container state
//! and correlation windows carry over. A pack that does not compile is reported on
//! stderr, located (`file:line:column`), and the old pack keeps running; it is not
//! reported again until its files change. A directory that disappears (a checkout in
//! progress) also leaves the running pack in place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use crowsnest_transform::pack_dir::{Change, DirWatch, Listing};

use crate::engine::backend::Backend;
use crate::io::pack_dir::in_pack;

/// Looks at the pack directory at most this often.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);

/// The watched pack directory of one run.
pub(crate) struct PackWatch {
    dir: PathBuf,
    watch: DirWatch,
}

impl PackWatch {
    /// The watch a run asked for: `--watch` needs `--rules DIR`. (Checked here rather
    /// than by clap, which does not see a global `--rules` given before the subcommand
    /// when it checks the subcommand's requirements.)
    pub(crate) fn for_run(rules: Option<&Path>, watch: bool) -> Result<Option<PackWatch>> {
        match (rules, watch) {
            (Some(dir), true) => Ok(Some(PackWatch::new(dir))),
            (None, true) => bail!("--watch reloads the --rules directory: give --rules DIR"),
            (_, false) => Ok(None),
        }
    }

    /// Watch `dir`, whose current files are the pack just installed.
    pub(crate) fn new(dir: &Path) -> PackWatch {
        let current = Listing::of(dir).ok();
        PackWatch {
            dir: dir.to_path_buf(),
            watch: DirWatch::new(dir, INTERVAL, current),
        }
    }

    /// Between batches: install the directory's pack if it changed since the last look.
    /// An error is a fault of the engine itself (the component faulted while compiling);
    /// a bad pack is only reported.
    pub(crate) fn reload_if_changed(&mut self, backend: &mut Backend) -> Result<()> {
        let Some(change) = self.watch.poll(Instant::now()) else {
            return Ok(());
        };
        let dir = self.dir.display();
        match change {
            Change::Updated(files) => match backend.configure(&files)? {
                Ok(info) => {
                    for warning in info.warnings {
                        eprintln!("{}", in_pack(&self.dir, warning));
                    }
                    eprintln!(
                        "crowsnest: rule pack {dir} reloaded: {} rules, {} correlations",
                        info.rules, info.correlations
                    );
                }
                Err(diagnostics) => {
                    let count = diagnostics.len();
                    for diagnostic in diagnostics {
                        eprintln!("{}", in_pack(&self.dir, diagnostic));
                    }
                    eprintln!(
                        "crowsnest: the rule pack in {dir} has {count} error(s); the running pack stays"
                    );
                }
            },
            Change::Removed => {
                eprintln!("crowsnest: rule pack {dir} is gone; the running pack stays");
            }
            Change::Unreadable(err) => {
                eprintln!("crowsnest: cannot read rule pack {dir}: {err}; the running pack stays");
            }
        }
        Ok(())
    }
}
