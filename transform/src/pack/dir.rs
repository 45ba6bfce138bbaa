//! A rule pack directory on disk, watched for changes.
//!
//! Hosts that keep running while people edit rules (the Fluent Bit module, `crowsnest
//! filter --watch`) look at the pack directory now and then and reload it when it
//! changed. A look is cheap: it lists the YAML files and their sizes and modification
//! times ([`Listing`]); the files are read only when the listing differs from the last
//! one. Only std's file system API is used, so the same code runs natively and inside
//! a WASI preview 1 module, where the directory must be reachable through a preopened
//! path (Fluent Bit's `Accessible_Paths`).
//!
//! Which files belong to the pack: every `*.yml` / `*.yaml` below the directory,
//! recursively, named by their path relative to it with `/` separators. Hidden entries
//! are skipped, so an editor's swap files and a Kubernetes ConfigMap volume's
//! `..data` and timestamped directories are not read twice; symlinked files are read
//! (a ConfigMap's keys are symlinks), symlinked directories are not followed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::api::PackFile;

/// The pack files under a directory, with what a change would move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl Listing {
    /// List the pack files under `dir`, sorted by name.
    pub fn of(dir: &Path) -> io::Result<Listing> {
        let mut entries = Vec::new();
        collect(dir, dir, &mut entries)?;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Listing { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Read every listed file. A file that is not UTF-8 is an error.
    pub fn read(&self) -> io::Result<Vec<PackFile>> {
        self.entries
            .iter()
            .map(|e| {
                let text = fs::read_to_string(&e.path).map_err(|err| {
                    io::Error::new(err.kind(), format!("{}: {err}", e.path.display()))
                })?;
                Ok(PackFile {
                    path: e.name.clone(),
                    text,
                })
            })
            .collect()
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        if file_name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if fs::symlink_metadata(&path)?.is_dir() {
            collect(root, &path, out)?;
            continue;
        }
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yml" || e == "yaml");
        if !is_yaml {
            continue;
        }
        let meta = fs::metadata(&path)?;
        if !meta.is_file() {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        out.push(Entry {
            name,
            len: meta.len(),
            modified: meta.modified().ok(),
            path,
        });
    }
    Ok(())
}

/// What changed in a watched directory since the last look.
#[derive(Debug)]
pub enum Change {
    /// The directory appeared or its files changed: the pack to install, all of it.
    Updated(Vec<PackFile>),
    /// The directory is gone (or was never there and the watch started from a pack).
    Removed,
    /// The directory or one of its files could not be read; the running pack stays.
    Unreadable(io::Error),
}

/// Looks at a pack directory at most once per interval and says when it changed.
#[derive(Debug)]
pub struct DirWatch {
    dir: PathBuf,
    interval: Duration,
    last_look: Option<Instant>,
    /// The listing last reported (`None`: the directory was absent).
    seen: Option<Listing>,
    /// The last read error reported, so a lasting one is reported once.
    failed: Option<String>,
}

impl DirWatch {
    /// Watch `dir`. `current` is the listing of the pack running now (`None` when it
    /// did not come from `dir`); the first look reports a change only against it.
    pub fn new(dir: impl Into<PathBuf>, interval: Duration, current: Option<Listing>) -> Self {
        DirWatch {
            dir: dir.into(),
            interval,
            last_look: None,
            seen: current,
            failed: None,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Look at the directory if the interval has passed since the last look at `now`.
    /// A change is reported once: the next look compares against it, so a pack that
    /// failed to compile is not reported again until it is edited.
    pub fn poll(&mut self, now: Instant) -> Option<Change> {
        if let Some(last) = self.last_look
            && now.saturating_duration_since(last) < self.interval
        {
            return None;
        }
        self.last_look = Some(now);
        self.look()
    }

    /// Look now, whatever the interval.
    pub fn look(&mut self) -> Option<Change> {
        let listing = match Listing::of(&self.dir) {
            Ok(listing) => Some(listing),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => return self.unreadable(err),
        };
        if listing == self.seen {
            return None;
        }
        let change = match &listing {
            None => Change::Removed,
            Some(listing) => match listing.read() {
                Ok(files) => Change::Updated(files),
                // A file vanished or was half-written between listing and reading:
                // keep the old listing so the next look tries again.
                Err(err) => return self.unreadable(err),
            },
        };
        self.seen = listing;
        self.failed = None;
        Some(change)
    }

    fn unreadable(&mut self, err: io::Error) -> Option<Change> {
        let message = err.to_string();
        if self.failed.as_ref() == Some(&message) {
            return None;
        }
        self.failed = Some(message);
        Some(Change::Unreadable(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("crowsnest-pack-dir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn lists_yaml_recursively_sorted_skipping_hidden() {
        let dir = scratch("list");
        fs::create_dir_all(dir.join("k8s")).unwrap();
        fs::create_dir_all(dir.join("..data")).unwrap();
        for (name, text) in [
            ("k8s/b.yaml", "b"),
            ("a.yml", "a"),
            ("README.md", "r"),
            ("..data/a.yml", "x"),
            (".a.yml.swp", "s"),
        ] {
            fs::write(dir.join(name), text).unwrap();
        }
        let files = Listing::of(&dir).unwrap().read().unwrap();
        let names: Vec<(&str, &str)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.text.as_str()))
            .collect();
        assert_eq!(names, [("a.yml", "a"), ("k8s/b.yaml", "b")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_change_is_reported_once() {
        let dir = scratch("watch");
        let mut watch = DirWatch::new(&dir, Duration::from_secs(3600), None);
        let now = Instant::now();
        // An empty directory is a listing too: an (empty) pack appeared.
        assert!(matches!(watch.poll(now), Some(Change::Updated(f)) if f.is_empty()));
        fs::write(dir.join("a.yml"), "one").unwrap();
        // Within the interval nothing is looked at...
        assert!(watch.poll(now).is_none());
        // ...a look sees the new file, once.
        assert!(matches!(watch.look(), Some(Change::Updated(f)) if f[0].text == "one"));
        assert!(watch.look().is_none());
        // A rewrite is seen through its size or modification time.
        std::thread::sleep(Duration::from_millis(20));
        fs::write(dir.join("a.yml"), "two!").unwrap();
        assert!(matches!(watch.look(), Some(Change::Updated(f)) if f[0].text == "two!"));
        fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(watch.look(), Some(Change::Removed)));
        assert!(watch.look().is_none());
    }

    #[test]
    fn starting_from_the_current_listing_reports_nothing() {
        let dir = scratch("current");
        fs::write(dir.join("a.yml"), "one").unwrap();
        let listing = Listing::of(&dir).unwrap();
        let mut watch = DirWatch::new(&dir, Duration::ZERO, Some(listing));
        assert!(watch.look().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
