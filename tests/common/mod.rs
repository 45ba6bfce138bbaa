//! Helpers shared by the end-to-end tests: run the built `crowsnest` binary with a time
//! limit, read its NDJSON output and its summary, make scratch directories, generate
//! Docker event records, and build the fault-injection component.
//!
//! Each test binary uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any one run of the binary may take before the test fails (instead of hanging).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root (the parent of `host-harness/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-harness is in the workspace")
        .to_path_buf()
}

pub fn samples() -> PathBuf {
    workspace().join("samples")
}

/// A `crowsnest` command whose compile cache lives in the target directory, so tests
/// neither touch `~/.cache` nor compile the component more than once per build.
pub fn crowsnest() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crowsnest"));
    cmd.env(
        "CROWSNEST_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cwasm-cache"),
    );
    cmd
}

/// What a finished run printed.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panic with both outputs unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout parsed as NDJSON.
    pub fn ndjson(&self) -> Vec<Value> {
        parse_ndjson(&self.stdout)
    }

    /// The `records: N in, M out, K reported` line of the summary, from either stream.
    pub fn balance(&self) -> Balance {
        balance(&self.stderr)
            .or_else(|| balance(&self.stdout))
            .unwrap_or_else(|| {
                panic!(
                    "no balance line\n--- stdout\n{}\n--- stderr\n{}",
                    self.stdout, self.stderr
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub records_in: u64,
    pub out: u64,
    pub reported: u64,
}

/// Parse `records: N in, M out, K reported` from a summary.
pub fn balance(text: &str) -> Option<Balance> {
    let line = text.lines().rev().find(|l| l.starts_with("records: "))?;
    let numbers: Vec<u64> = line
        .trim_start_matches("records: ")
        .split(", ")
        .map(|part| part.split(' ').next().and_then(|n| n.parse().ok()))
        .collect::<Option<_>>()?;
    match numbers[..] {
        [records_in, out, reported] => Some(Balance {
            records_in,
            out,
            reported,
        }),
        _ => None,
    }
}

/// Run `crowsnest args...` with no stdin.
pub fn run(args: &[&str]) -> Run {
    let mut cmd = crowsnest();
    cmd.args(args);
    run_command(cmd, None, RUN_TIMEOUT)
}

/// Run `crowsnest args...` with `stdin` as standard input.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut cmd = crowsnest();
    cmd.args(args);
    run_command(cmd, Some(stdin), RUN_TIMEOUT)
}

/// Spawn `cmd`, feed it `stdin`, collect its output, and kill it if it outlives
/// `timeout` (then panic with what it printed so far).
pub fn run_command(mut cmd: Command, stdin: Option<&[u8]>, timeout: Duration) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let bytes = bytes.to_vec();
        thread::spawn(move || {
            // The child may exit without reading everything; that is its business.
            let _ = pipe.write_all(&bytes);
        })
    });
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for crowsnest") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {timeout:?}\n--- stdout\n{}\n--- stderr\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    Run {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Every non-blank line of `text` as JSON; panics with the line on bad JSON.
pub fn parse_ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// One input as `crowsnest replay <dir>` reads it: its name (the path as replay shows
/// it) and its records, framed by the same code, with the line each starts on.
pub struct FramedInput {
    pub file: String,
    pub records: Vec<(u32, Vec<u8>)>,
}

/// The inputs `crowsnest replay <dir>` reads, in its order (names sorted at each level,
/// recursively, hidden entries skipped, `*.ndjson`, `*.jsonl`, `*.json`, `*.log`,
/// optionally `.gz`), each framed into records. Panics on a framing error: the
/// samples have none.
pub fn replay_inputs(dir: &Path) -> Vec<FramedInput> {
    log_files(dir)
        .into_iter()
        .map(|path| {
            let file = path.display().to_string();
            let bytes = read_log(&path);
            let records = crowsnest_transform::framing::frames(&bytes)
                .map(|frame| {
                    let frame = frame.unwrap_or_else(|e| panic!("{file}: {e}"));
                    (frame.line, frame.record.into_owned())
                })
                .collect();
            FramedInput { file, records }
        })
        .collect()
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    entries.sort();
    let mut files = Vec::new();
    for path in entries {
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            files.extend(log_files(&path));
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if [".ndjson", ".jsonl", ".json", ".log"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            files.push(path);
        }
    }
    files
}

fn read_log(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        bytes
    }
}

/// A scratch directory under the target directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating a scratch directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write `contents` to `name` (parent directories created) and return its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("creating parent directories");
        }
        std::fs::write(&path, contents).expect("writing a scratch file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `path` as a `&str` for an argument list.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// Docker events (`docker events --format '{{json .}}'`, the shape of
/// `samples/docker/events.ndjson`): for each of `containers` containers, create, start,
/// an exec of `/bin/sh -c id`, exec_start and die. Five records per container, each on
/// its own line, one second apart.
pub fn docker_events(containers: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut time = 1_715_677_900u64;
    for c in 0..containers {
        let id = format!("{:064x}", 0xc0ffee_u64 * 1000 + c as u64);
        let name = format!("web-{c}");
        for action in [
            "create",
            "start",
            "exec_create: /bin/sh -c id",
            "exec_start: /bin/sh -c id",
            "die",
        ] {
            time += 1;
            let extra = match action {
                "die" => r#","exitCode":"0""#.to_string(),
                a if a.starts_with("exec_") => format!(r#","execID":"{:064x}""#, time),
                _ => String::new(),
            };
            lines.push(format!(
                r#"{{"status":"{action}","id":"{id}","from":"nginx:1.25.3","Type":"container","Action":"{action}","Actor":{{"ID":"{id}","Attributes":{{"image":"nginx:1.25.3","name":"{name}"{extra}}}}},"scope":"local","time":{time},"timeNano":{time}000000000}}"#
            ));
        }
    }
    lines
}

/// Put `label` into a generated Docker event as a label value (`com.example.note`).
pub fn with_label_value(record: &str, value: &str) -> String {
    record.replacen(
        r#""Attributes":{"#,
        &format!(r#""Attributes":{{"com.example.note":"{value}","#),
        1,
    )
}

/// The transform component built with the `fault-injection` feature (traps on a record
/// containing `crowsnest-fault:trap`, spins on one containing `crowsnest-fault:loop`).
/// Built once per test binary, into its own target directory so it never waits on the
/// lock of the build that is running these tests.
pub fn fault_component() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        build_transform(
            "wasm32-wasip2",
            &["--features", "fault-injection"],
            "fault-component",
        )
    })
}

/// The Fluent Bit `filter_wasm` module: the transform crate's library for wasm32-wasip1,
/// release, as `examples/fluent-bit/README.md` builds it. Built once per test binary.
pub fn fluent_bit_module() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| build_transform("wasm32-wasip1", &["--lib"], "fluent-bit-module"))
}

/// `cargo build -p crowsnest-transform --release --target <target> <extra>` in a target
/// directory of its own under the test's, with the outer build's settings removed (as
/// `host-harness/build.rs` does); the path of `crowsnest_transform.wasm`.
fn build_transform(target: &str, extra: &[&str], dir: &str) -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace())
        .args([
            "build",
            "-p",
            "crowsnest-transform",
            "--release",
            "--target",
            target,
        ])
        .args(extra)
        .arg("--target-dir")
        .arg(&target_dir);
    // What the build running these tests set for itself (flags, wrappers, jobserver,
    // cargo's per-package variables); the user's cargo home and network settings stay.
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "MAKEFLAGS",
        "MFLAGS",
    ];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_setting = (key.starts_with("CARGO_") && !KEEP.iter().any(|k| key.starts_with(k)))
            || key.starts_with("__CARGO");
        if cargo_setting || EXACT.contains(&key) {
            cmd.env_remove(key);
        }
    }
    let run = run_command(cmd, None, Duration::from_secs(1200));
    assert!(
        run.status.success(),
        "building the transform crate for {target} failed:\n{}",
        run.stderr
    );
    target_dir
        .join(target)
        .join("release")
        .join("crowsnest_transform.wasm")
}
