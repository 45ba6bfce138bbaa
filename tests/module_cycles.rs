//! No module of either crate depends, directly or through others, on a module that
//! depends on it: dependencies between the modules of one folder run one way.
//!
//! The modules of a folder are its files and subfolders (`mod.rs`, `lib.rs` and
//! `main.rs` are the folder itself). Module `a` depends on its sibling `b` when a line of
//! `a`'s code (before its `#[cfg(test)]` module) names `crate::<folder>::b`, directly or
//! in a `use crate::<folder>::{...}` group.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

/// Every `.rs` file under `path` (the file itself when it is one).
fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(path).expect("readable source folder") {
        let entry = entry.expect("directory entry").path();
        if entry.is_dir() {
            out.extend(files(&entry));
        } else if entry.extension().is_some_and(|e| e == "rs") {
            out.push(entry);
        }
    }
    out
}

/// A file's code without its test module and comments.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("readable source file");
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        out.push_str(line.split("//").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// The sibling modules each module of `folder` names.
fn edges(folder: &Path, prefix: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(folder).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir()
            || (path.extension().is_some_and(|e| e == "rs")
                && !["mod", "lib", "main"].contains(&name.as_str()))
        {
            modules.insert(name, path);
        }
    }
    let direct = Regex::new(&format!(r"crate::{prefix}([a-z_][a-z0-9_]*)")).unwrap();
    let group = Regex::new(&format!(r"crate::{prefix}\{{([^}}]*)\}}")).unwrap();
    let first = Regex::new(r"(?:^|,)\s*([a-z_][a-z0-9_]*)").unwrap();
    let mut graph = BTreeMap::new();
    for (name, path) in &modules {
        let text: String = files(path).iter().map(|f| code(f)).collect();
        let mut named = BTreeSet::new();
        for c in direct.captures_iter(&text) {
            named.insert(c[1].to_string());
        }
        for g in group.captures_iter(&text) {
            for c in first.captures_iter(&g[1]) {
                named.insert(c[1].to_string());
            }
        }
        named.retain(|other| other != name && modules.contains_key(other));
        graph.insert(name.clone(), named);
    }
    graph
}

/// The modules of `graph` that reach themselves again.
fn cyclic(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    graph
        .keys()
        .filter(|start| {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&String> = graph[*start].iter().collect();
            while let Some(at) = stack.pop() {
                if at == *start {
                    return true;
                }
                if seen.insert(at) {
                    stack.extend(graph.get(at).into_iter().flatten());
                }
            }
            false
        })
        .cloned()
        .collect()
}

/// Every folder under `src` with its `crate::` path prefix.
fn folders(src: &Path, prefix: String, out: &mut Vec<(PathBuf, String)>) {
    out.push((src.to_path_buf(), prefix.clone()));
    for entry in fs::read_dir(src).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            folders(&path, format!("{prefix}{name}::"), out);
        }
    }
}

#[test]
fn module_dependencies_run_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for krate in ["transform/src", "host-harness/src"] {
        let mut all = Vec::new();
        folders(&root.join(krate), String::new(), &mut all);
        for (folder, prefix) in all {
            let graph = edges(&folder, &prefix);
            let cycle = cyclic(&graph);
            if !cycle.is_empty() {
                let shown: Vec<String> = cycle
                    .iter()
                    .map(|m| format!("{m} -> {:?}", graph[m]))
                    .collect();
                problems.push(format!("{}: {}", folder.display(), shown.join("; ")));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "module cycles:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_string(), to.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(cyclic(&graph), ["a", "b", "c"]);
}
