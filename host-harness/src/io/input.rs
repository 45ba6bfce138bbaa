//! Which bytes to replay: the command line's inputs expanded to files, read whole.
//!
//! A directory stands for the log files below it, recursively, in name order so runs
//! are reproducible: `*.ndjson`, `*.jsonl`, `*.json`, `*.log`, each optionally `.gz`.
//! Hidden entries (`.git`, editor files) are skipped, and so is anything else, such as
//! a README or the expected alerts kept next to samples. A file named on the command
//! line is always read, whatever its name. `-` is standard input. A `.gz` file is
//! decompressed (all members, as `logrotate` and `cat a.gz b.gz` produce).
//!
//! Files are read whole: framing needs the whole text to tell a JSON array from NDJSON
//! and to give exact line numbers, and replay inputs are files, not endless streams.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// Extensions a directory walk picks up (before an optional `.gz`).
const LOG_EXTENSIONS: &[&str] = &["ndjson", "jsonl", "json", "log"];

/// One input to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name used in diagnostics and the summary.
    pub(crate) fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// Bytes on disk, for the progress bar; `None` for stdin.
    pub(crate) fn len_on_disk(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File(path) => fs::metadata(path).ok().map(|m| m.len()),
        }
    }

    /// The whole input, decompressed when it is gzip.
    pub(crate) fn read(&self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match self {
            Input::Stdin => {
                io::stdin().lock().read_to_end(&mut bytes)?;
            }
            Input::File(path) if is_gzip(path) => {
                MultiGzDecoder::new(fs::File::open(path)?).read_to_end(&mut bytes)?;
            }
            Input::File(path) => bytes = fs::read(path)?,
        }
        Ok(bytes)
    }
}

/// An input that could not be listed (a directory that cannot be read, a missing path).
#[derive(Debug)]
pub(crate) struct InputError {
    pub(crate) path: PathBuf,
    pub(crate) error: io::Error,
}

/// Expand the command line's inputs into files, in order; problems are returned beside
/// the inputs that could be listed so the rest still runs.
pub(crate) fn expand(args: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match fs::metadata(arg) {
            Ok(meta) if meta.is_dir() => walk(arg, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(arg.clone())),
            Err(error) => errors.push(InputError {
                path: arg.clone(),
                error,
            }),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(InputError {
                path: dir.to_path_buf(),
                error,
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) if !entry.file_name().to_string_lossy().starts_with('.') => {
                paths.push(entry.path())
            }
            Ok(_) => {}
            Err(error) => errors.push(InputError {
                path: dir.to_path_buf(),
                error,
            }),
        }
    }
    paths.sort();
    for path in paths {
        // Symlinked directories are not followed (no cycles); symlinked files are read.
        let is_dir = fs::symlink_metadata(&path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if is_dir {
            walk(&path, inputs, errors);
        } else if is_log_file(&path) {
            inputs.push(Input::File(path));
        }
    }
}

fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn is_log_file(path: &Path) -> bool {
    let stem = if is_gzip(path) {
        path.file_stem().map(Path::new)
    } else {
        Some(path)
    };
    stem.and_then(Path::extension)
        .and_then(|e| e.to_str())
        .is_some_and(|e| LOG_EXTENSIONS.iter().any(|l| e.eq_ignore_ascii_case(l)))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("crowsnest-input-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn log_file_names() {
        for yes in [
            "a.ndjson",
            "a.jsonl",
            "a.json",
            "a.log",
            "a.ndjson.gz",
            "A.JSON",
            "a.log.GZ",
        ] {
            assert!(is_log_file(Path::new(yes)), "{yes}");
        }
        for no in ["README.md", "a.gz", "expected.yml", "a.txt.gz", "json"] {
            assert!(!is_log_file(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn directories_expand_sorted_and_recursive() {
        let dir = scratch("walk");
        fs::create_dir_all(dir.join("b/nested")).unwrap();
        fs::create_dir_all(dir.join(".hidden")).unwrap();
        for f in [
            "b/nested/z.ndjson",
            "b/a.json",
            "c.log",
            "a.jsonl.gz",
            "README.md",
            ".hidden/x.ndjson",
            ".y.json",
        ] {
            fs::write(dir.join(f), "").unwrap();
        }
        let (inputs, errors) = expand(&[dir.clone(), PathBuf::from("-"), dir.join("README.md")]);
        assert!(errors.is_empty());
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::Stdin => "-".to_string(),
                Input::File(p) => p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "a.jsonl.gz",
                "b/a.json",
                "b/nested/z.ndjson",
                "c.log",
                "-",
                "README.md"
            ]
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_paths_are_reported_not_fatal() {
        let dir = scratch("missing");
        fs::write(dir.join("ok.ndjson"), "{}\n").unwrap();
        let (inputs, errors) = expand(&[dir.join("nope.ndjson"), dir.join("ok.ndjson")]);
        assert_eq!(inputs, [Input::File(dir.join("ok.ndjson"))]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].error.kind(), io::ErrorKind::NotFound);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn gzip_members_are_all_read() {
        let dir = scratch("gz");
        let path = dir.join("a.ndjson.gz");
        let mut bytes = Vec::new();
        for part in ["{\"a\":1}\n", "{\"b\":2}\n"] {
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            gz.write_all(part.as_bytes()).unwrap();
            bytes.extend(gz.finish().unwrap());
        }
        fs::write(&path, bytes).unwrap();
        assert_eq!(Input::File(path).read().unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
        fs::remove_dir_all(dir).unwrap();
    }
}
