//! `crowsnest filter` as a pipeline runs it: the samples piped through it, a stream
//! stopped with SIGTERM halfway, and a rule pack edited while records flow. What is
//! checked is what the next stage of the pipeline sees: one line per line, in order,
//! each record whole with its `crowsnest` member, the alerts, and nothing lost.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{TempDir, arg, crowsnest, docker_events, parse_ndjson, run_with_stdin, samples};
use serde_json::Value;

/// Every JSON sample log (`*.json`, `*.jsonl`, `*.ndjson`, at any depth), sorted by
/// path, as `cat` would list them.
fn json_samples() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["json", "jsonl", "ndjson"].contains(&e))
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&samples(), &mut files);
    files.sort();
    files
}

/// `cat` of `files`: their bytes, back to back.
fn cat(files: &[PathBuf]) -> Vec<u8> {
    files.iter().flat_map(|f| fs::read(f).unwrap()).collect()
}

/// Whether a sample is NDJSON (one record per line) rather than pretty-printed JSON.
fn is_ndjson(path: &Path) -> bool {
    let text = fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object()))
}

/// The lines of `bytes` as the filter counts them: split at `\n`, a last line without
/// one included.
fn lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    lines
}

/// Check that `output` is `input` line for line: each input line unchanged, or the
/// same JSON object with a `crowsnest` member appended, or wrapped as `message`.
fn assert_corresponds(input: &[String], output: &[String]) {
    assert_eq!(
        output.len(),
        input.len(),
        "one output line per input line (with alerts elsewhere)"
    );
    for (i, (inp, out)) in input.iter().zip(output).enumerate() {
        let n = i + 1;
        let inp = inp.strip_suffix('\r').unwrap_or(inp);
        if out == inp {
            continue;
        }
        let value: Value = serde_json::from_str(out)
            .unwrap_or_else(|e| panic!("line {n}: changed but not JSON ({e}):\n{out}"));
        assert!(value["crowsnest"].is_object(), "line {n}: {out}");
        let appended = out.starts_with(inp.trim_end().trim_end_matches('}'));
        let wrapped = value["message"] == inp;
        assert!(
            appended || wrapped,
            "line {n} is not its input line:\n in: {inp}\nout: {out}"
        );
    }
}

/// Rule ids in a record line's `crowsnest.alerts` (OCSF documents).
fn member_rules(record: &Value) -> Vec<String> {
    record["crowsnest"]["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    d["finding_info"]["analytic"]["uid"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn cat_samples_gives_one_line_per_input_line_in_order_and_the_alerts() {
    let dir = TempDir::new("filter-cat");
    let alerts_file = dir.path().join("alerts.ndjson");
    let input = cat(&json_samples());
    let run = run_with_stdin(
        &["filter", "--format", "jsonl", "--alerts", arg(&alerts_file)],
        &input,
    );
    run.expect_code(0);
    let input_lines = lines(&input);
    let output_lines = lines(run.stdout.as_bytes());
    assert_corresponds(&input_lines, &output_lines);

    let alerts = parse_ndjson(&fs::read_to_string(&alerts_file).unwrap());
    assert!(!alerts.is_empty(), "the samples raise alerts");
    for alert in &alerts {
        let line = alert["line"].as_u64().unwrap() as usize;
        let record: Value = serde_json::from_str(&output_lines[line - 1]).unwrap();
        let rule = alert["rule_id"].as_str().unwrap();
        assert!(
            member_rules(&record).iter().any(|r| r == rule),
            "alert {rule} on line {line} is also in that record's crowsnest.alerts:\n{}",
            output_lines[line - 1]
        );
    }
    let balance = run.balance();
    assert_eq!(balance.records_in, balance.out + balance.reported);
}

#[test]
fn alerts_are_the_ones_replay_raises_each_once_in_its_record() {
    let files: Vec<PathBuf> = json_samples()
        .into_iter()
        .filter(|f| is_ndjson(f))
        .collect();
    let input = cat(&files);
    let replay = run_with_stdin(&["replay", "--format", "jsonl", "--quiet", "-"], &input);
    replay.expect_code(0);
    let mut expected: Vec<(u64, String)> = replay
        .ndjson()
        .iter()
        .map(|a| {
            (
                a["line"].as_u64().unwrap(),
                a["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    expected.sort();
    assert!(!expected.is_empty());

    let filter = run_with_stdin(&["filter", "--format", "jsonl", "--quiet"], &input);
    filter.expect_code(0);
    let input_lines = lines(&input);
    let records = lines(filter.stdout.as_bytes());
    // Without --alerts each alert is on stdout once: in its record, never also as a line.
    assert_corresponds(&input_lines, &records);
    let mut got = Vec::new();
    for (index, line) in records.iter().enumerate() {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(
            value.get("rule_id").is_none(),
            "an alert line on stdout: {line}"
        );
        for rule in member_rules(&value) {
            got.push((index as u64 + 1, rule));
        }
    }
    got.sort();
    assert_eq!(got, expected, "filter (left) and replay (right) alerts");
}

#[test]
fn lines_that_are_not_records_keep_their_place() {
    let events = docker_events(1);
    let input = format!(
        "{}\n\nplain text from an application\n{{\"Type\":\"container\",\"Action\":\n{}\n",
        events[0], events[1]
    );
    let run = run_with_stdin(&["filter", "--quiet"], input.as_bytes());
    run.expect_code(0);
    let out = lines(run.stdout.as_bytes());
    assert_eq!(out.len(), 5, "{}", run.stdout);
    assert!(out[0].contains(r#""crowsnest":{"source":"docker_event""#));
    assert_eq!(out[1], "");
    assert_eq!(out[2], "plain text from an application");
    let broken: Value = serde_json::from_str(&out[3]).unwrap();
    assert_eq!(broken["message"], r#"{"Type":"container","Action":"#);
    assert_eq!(
        broken["crowsnest"]["diagnostics"][0]["line"], 4,
        "located on its input line: {}",
        out[3]
    );
    assert!(out[4].contains(r#""crowsnest":{"source":"docker_event""#));
}

/// A running `crowsnest filter` whose output is read as it comes.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Live {
    fn start(args: &[&str]) -> Live {
        let mut child = crowsnest()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning crowsnest filter");
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap().push(line);
                }
            });
            lines
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Live {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
        }
    }

    fn write_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Wait until `done` holds for the output lines so far (panic after a minute).
    fn wait_stdout(&self, what: &str, done: impl Fn(&[String]) -> bool) {
        self.wait(&self.stdout, what, done)
    }

    fn wait_stderr(&self, what: &str, done: impl Fn(&[String]) -> bool) {
        self.wait(&self.stderr, what, done)
    }

    fn wait(&self, lines: &Mutex<Vec<String>>, what: &str, done: impl Fn(&[String]) -> bool) {
        let started = Instant::now();
        while !done(&lines.lock().unwrap()) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout.lock().unwrap().join("\n"),
                self.stderr.lock().unwrap().join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success());
    }

    /// Wait for the exit (closing stdin first when `close`); its status and stdout.
    fn finish(mut self, close: bool) -> (std::process::ExitStatus, Vec<String>, String) {
        if close {
            drop(self.stdin.take());
        }
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!(
                    "crowsnest filter did not exit\n--- stderr\n{}",
                    self.stderr.lock().unwrap().join("\n")
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads take the last lines.
        thread::sleep(Duration::from_millis(200));
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().join("\n");
        drop(self.stdin.take());
        (status, stdout, stderr)
    }
}

#[test]
fn sigterm_mid_stream_drains_every_line_read() {
    let events = docker_events(40);
    let mut live = Live::start(&["filter", "--alerts", "/dev/null"]);
    // The first record proves the filter is up (and its SIGTERM handler installed).
    live.write_line(&events[0]);
    live.wait_stdout("the first record", |out| !out.is_empty());
    // The rest in one go, then SIGTERM while the writer still holds stdin open.
    for event in &events[1..] {
        live.write_line(event);
    }
    live.signal("TERM");
    let (status, stdout, stderr) = live.finish(false);
    assert_eq!(status.code(), Some(0), "a drain is a clean exit:\n{stderr}");
    assert_eq!(
        stdout.len(),
        events.len(),
        "every line written before SIGTERM comes out:\n{stderr}"
    );
    for (out, event) in stdout.iter().zip(&events) {
        assert!(
            out.starts_with(event.strip_suffix('}').unwrap()),
            "in order:\n in: {event}\nout: {out}"
        );
    }
    let balance = common::balance(&stderr).expect("the summary is printed on the way out");
    assert_eq!(balance.records_in, events.len() as u64, "{stderr}");
}

/// A rule on every container start, under the id `id`.
fn start_rule(id: &str) -> String {
    format!(
        "title: Container started ({id})\nid: {id}\nlogsource:\n  category: container\n\
         detection:\n  start:\n    action: container-start\n  condition: start\nlevel: low\n"
    )
}

const OLD: &str = "0ad0a0a0-0000-4000-8000-000000000001";
const NEW: &str = "0ad0a0a0-0000-4000-8000-000000000002";

#[test]
fn a_pack_edited_while_records_flow_applies_to_later_records() {
    let dir = TempDir::new("filter-watch");
    let pack = dir.path().join("pack");
    dir.write("pack/start.yml", start_rule(OLD));
    let events = docker_events(8);
    let mut live = Live::start(&[
        "filter",
        "--rules",
        arg(&pack),
        "--watch",
        "--format",
        "jsonl",
    ]);
    let (first, second) = events.split_at(20);
    // Half the stream, slowly, under the old pack.
    for event in first {
        live.write_line(event);
        thread::sleep(Duration::from_millis(10));
    }
    live.wait_stdout("the first half", |out| {
        out.iter().filter(|l| l.contains("\"crowsnest\"")).count() == first.len()
    });
    // A broken edit is reported and changes nothing...
    dir.write("pack/broken.yml", "title: Broken\ndetection: [\n");
    live.wait_stderr("the rejected pack", |err| {
        err.iter()
            .any(|l| l.contains("broken.yml:") && l.contains("error"))
    });
    // ...then a good one replaces the pack (the broken file goes last, so no look
    // sees the old rule alone).
    dir.write("pack/start.yml", start_rule(NEW));
    fs::remove_file(pack.join("broken.yml")).unwrap();
    live.wait_stderr("the reload", |err| {
        err.iter().any(|l| l.contains("reloaded"))
    });
    for event in second {
        live.write_line(event);
        thread::sleep(Duration::from_millis(10));
    }
    let (status, stdout, stderr) = live.finish(true);
    assert_eq!(status.code(), Some(0), "{stderr}");

    let mut records = 0;
    let mut alerts = Vec::new();
    for line in &stdout {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(
            value.get("crowsnest").is_some(),
            "only records on stdout: {line}"
        );
        records += 1;
        for rule in member_rules(&value) {
            alerts.push((records as u64, rule));
        }
    }
    assert_eq!(records, events.len(), "count in == count out:\n{stderr}");
    let starts_in = |half: &[String], offset: usize| -> Vec<u64> {
        half.iter()
            .enumerate()
            .filter(|(_, e)| e.contains(r#""Action":"start""#))
            .map(|(i, _)| (offset + i + 1) as u64)
            .collect()
    };
    let mut expected: Vec<(u64, String)> = starts_in(first, 0)
        .into_iter()
        .map(|l| (l, OLD.to_string()))
        .chain(
            starts_in(second, first.len())
                .into_iter()
                .map(|l| (l, NEW.to_string())),
        )
        .collect();
    expected.sort();
    alerts.sort();
    assert_eq!(
        alerts, expected,
        "old pack first, new pack after the reload"
    );
    let balance = common::balance(&stderr).unwrap();
    assert_eq!(balance.records_in, events.len() as u64);
    assert_eq!(
        balance.records_in,
        balance.out + balance.reported,
        "in = out + reported under a reload: {stderr}"
    );
    assert_eq!(balance.reported, 0, "{stderr}");
}

#[test]
fn watch_without_a_rules_directory_is_refused() {
    let run = run_with_stdin(&["filter", "--watch"], b"");
    run.expect_code(2);
    assert!(run.stderr.contains("--rules"), "{}", run.stderr);
    // Given before the subcommand, --rules is seen.
    let dir = TempDir::new("filter-watch-global");
    dir.write("pack/start.yml", start_rule(OLD));
    let pack = dir.path().join("pack");
    let run = run_with_stdin(
        &["--rules", arg(&pack), "filter", "--watch", "--quiet"],
        b"",
    );
    run.expect_code(0);
}

#[test]
fn throughput_of_a_long_stream() {
    let events = docker_events(4000);
    let input = events.join("\n") + "\n";
    let run = run_with_stdin(&["filter", "--alerts", "/dev/null"], input.as_bytes());
    run.expect_code(0);
    assert_eq!(lines(run.stdout.as_bytes()).len(), events.len());
    let time = run
        .stderr
        .lines()
        .find(|l| l.starts_with("time: "))
        .expect("the summary says how long it took");
    println!(
        "crowsnest filter, {} docker events ({} bytes): {time}",
        events.len(),
        input.len()
    );
}

/// The shipped risky-launch correlation (AN0693): a privileged pod created through the
/// Kubernetes API, its container started, then a shell in it (Falco).
const RISKY_LAUNCH: &str = "b5f8e2c4-7a3d-4c19-9d6e-2f1a8c5b3e70";

fn risky_launch_parts() -> (Vec<String>, Vec<String>) {
    let dir = samples().join("scenarios/an0693-risky-launch/attack-k8s-privileged-pod-shell");
    let read = |name: &str| -> Vec<String> {
        fs::read_to_string(dir.join(name))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut launch = read("1-k8s-audit.ndjson");
    launch.extend(read("2-k8s-events.ndjson"));
    (launch, read("3-falco.ndjson"))
}

/// Rule ids of the alert lines (not record lines) in filter output.
/// Rule ids of the alerts on stdout: in the records' `crowsnest.alerts`, where each is
/// written once.
fn alert_rules(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .flat_map(|v| member_rules(&v))
        .collect()
}

#[test]
fn a_killed_filter_restored_from_its_state_file_completes_the_correlation() {
    let dir = TempDir::new("filter-state");
    let state = dir.path().join("crowsnest.state");
    let (launch, shell) = risky_launch_parts();

    // The launch steps, then SIGKILL once the state covering them is on disk.
    let mut live = Live::start(&["filter", "--state", arg(&state), "--format", "jsonl"]);
    for line in &launch {
        live.write_line(line);
    }
    live.wait_stdout("the launch records", |out| {
        out.iter().filter(|l| l.contains("\"crowsnest\"")).count() == launch.len()
    });
    let started = Instant::now();
    while !state.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no state file written after the records went out"
        );
        thread::sleep(Duration::from_millis(20));
    }
    live.signal("KILL");
    let (status, before_kill, _) = live.finish(false);
    assert_eq!(status.code(), None, "killed by a signal, not exited");
    assert!(
        !alert_rules(&before_kill).contains(&RISKY_LAUNCH.to_string()),
        "the launch alone does not complete the correlation"
    );
    assert!(
        !dir.path().join("crowsnest.tmp").exists(),
        "the temporary file was renamed into place"
    );

    // A new filter with the same state file gets the shell: the correlation fires once.
    let restored = run_with_stdin(
        &["filter", "--state", arg(&state), "--format", "jsonl"],
        shell.join("\n").as_bytes(),
    );
    restored.expect_code(0);
    let out = lines(restored.stdout.as_bytes());
    let fired = alert_rules(&out)
        .iter()
        .filter(|r| *r == RISKY_LAUNCH)
        .count();
    assert_eq!(fired, 1, "{}", restored.stdout);
    let balance = restored.balance();
    assert_eq!(balance.records_in, shell.len() as u64);
    assert_eq!(balance.records_in, balance.out + balance.reported);

    // Without the state file the shell alone completes nothing.
    let fresh = run_with_stdin(
        &["filter", "--format", "jsonl", "--quiet"],
        shell.join("\n").as_bytes(),
    );
    fresh.expect_code(0);
    assert!(
        !alert_rules(&lines(fresh.stdout.as_bytes())).contains(&RISKY_LAUNCH.to_string()),
        "{}",
        fresh.stdout
    );
}

#[test]
fn an_unreadable_state_file_stops_the_filter_unless_told_to_discard_it() {
    let dir = TempDir::new("filter-bad-state");
    let state = dir.write("crowsnest.state", "not a snapshot");
    let events = docker_events(1).join("\n") + "\n";
    let run = run_with_stdin(&["filter", "--state", arg(&state)], events.as_bytes());
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "nothing processed: {}", run.stdout);
    assert!(
        run.stderr
            .contains(&format!("{}: cannot restore", state.display())),
        "{}",
        run.stderr
    );

    let run = run_with_stdin(
        &["filter", "--state", arg(&state), "--discard-bad-state"],
        events.as_bytes(),
    );
    run.expect_code(0);
    assert!(
        run.stderr.contains("starting with empty state"),
        "{}",
        run.stderr
    );
    let balance = run.balance();
    assert_eq!((balance.records_in, balance.out), (5, 5), "{}", run.stderr);
    // The clean exit replaced the bad file with a state the next run restores.
    let again = run_with_stdin(&["filter", "--state", arg(&state), "--quiet"], b"");
    again.expect_code(0);
}

#[test]
fn a_state_file_that_cannot_be_written_is_a_warning_and_the_stream_goes_on() {
    let dir = TempDir::new("filter-unwritable-state");
    let state = dir.path().join("missing-dir/crowsnest.state");
    let events = docker_events(2).join("\n") + "\n";
    let run = run_with_stdin(
        &["filter", "--state", arg(&state), "--alerts", "/dev/null"],
        events.as_bytes(),
    );
    run.expect_code(0);
    assert!(
        run.stderr.contains("the engine state was not saved"),
        "{}",
        run.stderr
    );
    assert_eq!(lines(run.stdout.as_bytes()).len(), 10);
    let balance = run.balance();
    assert_eq!((balance.records_in, balance.out), (10, 10));
}
