//! A rule pack read from a directory: every `*.yml` / `*.yaml` file below it,
//! recursively, sorted by path, each named by its path relative to the directory with
//! `/` separators (the name diagnostics use). Hidden entries (`.git`, editor swap files)
//! are skipped. Which files are rules, policy or rule tests is the engine's decision.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use crowsnest_transform::api::{Diagnostic, PackFile};

/// Read the pack under `dir`. An unreadable directory or file, a file that is not
/// UTF-8, or a directory with no YAML file at all is an error.
pub(crate) fn load(dir: &Path) -> Result<Vec<PackFile>> {
    let meta = fs::metadata(dir).with_context(|| format!("reading rule pack {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("rule pack {} is not a directory", dir.display());
    }
    let mut paths = Vec::new();
    collect(dir, &mut paths).with_context(|| format!("listing rule pack {}", dir.display()))?;
    if paths.is_empty() {
        bail!("rule pack {} has no *.yml or *.yaml files", dir.display());
    }
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        files.push(PackFile {
            path: relative_name(dir, &path),
            text,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The path shown to people for a pack file: `<dir>/<relative path>`.
pub(crate) fn display_path(dir: &Path, relative: &str) -> String {
    dir.join(relative).display().to_string()
}

/// A pack diagnostic with its file shown under the pack directory.
pub(crate) fn in_pack(dir: &Path, mut diagnostic: Diagnostic) -> Diagnostic {
    diagnostic.file = display_path(dir, &diagnostic.file);
    diagnostic
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Symlinked directories are not followed (no cycles); symlinked files are read.
        if fs::symlink_metadata(&path)?.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yml" || e == "yaml")
        {
            out.push(path);
        }
    }
    Ok(())
}

fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_yaml_recursively_sorted_relative() {
        let dir = std::env::temp_dir().join(format!("crowsnest-pack-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("k8s/tests")).unwrap();
        fs::create_dir_all(dir.join(".git")).unwrap();
        for (name, text) in [
            ("policy.yml", "p"),
            ("k8s/b.yaml", "b"),
            ("k8s/a.yml", "a"),
            ("k8s/tests/t.yml", "t"),
            ("README.md", "r"),
            (".git/x.yml", "x"),
        ] {
            fs::write(dir.join(name), text).unwrap();
        }
        let files = load(&dir).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            names,
            ["k8s/a.yml", "k8s/b.yaml", "k8s/tests/t.yml", "policy.yml"]
        );
        assert_eq!(files[0].text, "a");
        assert_eq!(
            display_path(&dir, "k8s/a.yml"),
            dir.join("k8s").join("a.yml").display().to_string()
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_and_missing_dirs_are_errors() {
        let dir = std::env::temp_dir().join(format!("crowsnest-pack-empty-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert!(load(&dir).unwrap_err().to_string().contains("no *.yml"));
        assert!(load(&dir.join("missing")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
