//! The peer: the rsigma command-line tool (crates.io `rsigma`) evaluating the same Sigma
//! rules over the same Kubernetes audit NDJSON, against crowsnest with a pack of those
//! rules.
//!
//! The rules are the SigmaHQ Kubernetes audit rules plus the shipped single-event rules
//! rsigma can evaluate as written, that is the ones over the raw audit event
//! (`product: kubernetes`); the others read crowsnest's normalized fields (`action`,
//! `container.*`) that no raw record has.

use std::env;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use crowsnest_transform::default_pack;

use super::corpus::Corpus;
use super::report::Row;
use super::{open, replay_corpus};
use crate::cli::GlobalArgs;
use crate::engine::backend::EngineChoice;
use crate::engine::session::component;
use crate::io::pack_dir;

/// `--rsigma`, else `rsigma` on PATH, else in cargo's bin directory.
pub(crate) fn find_rsigma(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = given {
        return Some(path.to_path_buf());
    }
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("rsigma"))
        .find(|p| p.is_file())
}

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn run(
    rsigma: &Path,
    sigma_dir: &Path,
    corpus: &Corpus,
    global: &GlobalArgs,
    batch: usize,
) -> Result<Vec<Row>> {
    if !sigma_dir.is_dir() {
        bail!(
            "the SigmaHQ Kubernetes audit rules are not at {} (--sigma-dir)",
            sigma_dir.display()
        );
    }
    let scratch = Scratch(env::temp_dir().join(format!("crowsnest-bench-{}", std::process::id())));
    let rules = scratch.0.join("rules");
    fs::create_dir_all(&rules).with_context(|| format!("creating {}", rules.display()))?;
    let mut names = Vec::new();
    let mut sigma: Vec<PathBuf> = fs::read_dir(sigma_dir)
        .with_context(|| format!("reading {}", sigma_dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    sigma.sort();
    for path in &sigma {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        fs::copy(path, rules.join(&name)).with_context(|| format!("copying {}", path.display()))?;
        names.push(name);
    }
    let mut shipped = Vec::new();
    for file in default_pack() {
        let raw_event_rule = file.text.contains("product: kubernetes")
            && !file.text.contains("correlation:")
            && file.text.contains("detection:");
        if raw_event_rule {
            let name = format!("shipped_{}", file.path.replace('/', "_"));
            fs::write(rules.join(&name), &file.text)?;
            shipped.push(file.path);
        }
    }
    if names.is_empty() {
        bail!("no *.yml rules in {}", sigma_dir.display());
    }
    let input = scratch.0.join("k8s_audit.ndjson");
    fs::write(&input, &corpus.bytes)?;

    let (elapsed, matches) = rsigma_eval(rsigma, &rules, &input)?;
    let mut rows = vec![Row::Info {
        what: "peer rules",
        text: format!(
            "{} SigmaHQ Kubernetes audit rules from {}; shipped rules over the raw audit event: {}",
            names.len(),
            sigma_dir.display(),
            if shipped.is_empty() {
                "none (every shipped rule reads normalized fields: action, container.*)".to_string()
            } else {
                shipped.join(", ")
            }
        ),
    }];
    rows.push(Row::throughput("rsigma", corpus, elapsed, Some(matches), 0));

    let pack = pack_dir::load(&rules)?;
    let (wasm, limits) = component(global)?;
    let choice = EngineChoice::Component {
        wasm: Some(wasm.into_owned()),
        limits,
    };
    let mut engine = open(choice, &pack, batch)?;
    let run = replay_corpus(&mut engine, corpus)?;
    rows.push(Row::throughput(
        "component+sigma",
        corpus,
        run.elapsed,
        Some(run.alerts),
        run.diagnostics,
    ));
    let mut engine = open(EngineChoice::Native, &pack, batch)?;
    let run = replay_corpus(&mut engine, corpus)?;
    rows.push(Row::throughput(
        "native+sigma",
        corpus,
        run.elapsed,
        Some(run.alerts),
        run.diagnostics,
    ));
    Ok(rows)
}

/// `rsigma engine eval -r RULES -e @INPUT`: wall time of the whole process (rule parsing
/// included; it is small next to the events) and the detections it printed.
fn rsigma_eval(rsigma: &Path, rules: &Path, input: &Path) -> Result<(Duration, u64)> {
    // Diagnostics to a file, so a chatty stderr cannot fill its pipe while stdout is read.
    let stderr_path = input.with_extension("stderr");
    let stderr_file = fs::File::create(&stderr_path)?;
    let started = Instant::now();
    let mut child = Command::new(rsigma)
        .args(["engine", "eval", "-r"])
        .arg(rules)
        .arg("-e")
        .arg(format!("@{}", input.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr_file)
        .spawn()
        .with_context(|| format!("running {}", rsigma.display()))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut matches = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            break;
        }
        matches += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    let status = child.wait()?;
    let elapsed = started.elapsed();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    if !status.success() {
        bail!(
            "{} exited with {status}: {}",
            rsigma.display(),
            stderr.lines().last().unwrap_or("")
        );
    }
    Ok((elapsed, matches))
}
