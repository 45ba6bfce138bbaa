//! `crowsnest rules test DIR`: run the rule tests of a pack and say which pass.
//!
//! # Test files
//!
//! Every `*.yml` / `*.yaml` file in a `tests` directory of the pack (the engine never
//! reads those as rules) holds tests:
//!
//! ```yaml
//! tests:
//!   - name: privileged pod created with kubectl run
//!     input: |                       # NDJSON (or text) lines, one record per line
//!       {"kind":"Event","apiVersion":"audit.k8s.io/v1", ...}
//!     files: [../../samples/x.ndjson]  # and/or input files, relative to this file
//!     source: k8s_audit                # optional: decode every record as this source
//!     expect:
//!       - rule: 82c9a43a-11c4-49bb-9066-db66975c2886
//!         count: 1                     # default 1
//!         fields:
//!           principal: alice@example.com
//!           containers: [priv-debug]
//!           finding_info.analytic.uid: AN0693
//!   - name: an unprivileged pod raises nothing
//!     input: |
//!       {...}
//!     expect: []
//! ```
//!
//! Each test runs on a fresh engine with the pack installed, through the same backend as
//! `replay` (the sandboxed component, or the native engine with `--native`). It passes
//! when the alerts are exactly the expected ones: every expectation claims `count`
//! alerts of its rule whose fields match (expectations are matched in the order
//! written), and no alert is left over. A field is one of the alert's own (`rule_id`,
//! `rule_title`, `level`, `analytic`, `techniques`, `source`, `action`, `principal`,
//! `namespace`, `containers`, `image`, `summary`) or a dotted path into its OCSF
//! document (`finding_info.analytic.uid`, `resources.0.name`). A single value matches a
//! list that contains it, a list matches a list element by element, a map matches an
//! object that has those members, and `null` matches a field that is absent. A record
//! the engine cannot read fails the test, so a typo in an input cannot make a test
//! that expects no alert pass.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use crowsnest_transform::api::{
    Alert, AlertFormat, BatchOrigin, BatchResult, Diagnostic, Options, PackFile,
};
use crowsnest_transform::check_pack;
use crowsnest_transform::model::Source;
use serde::Deserialize;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::engine::batch_loop::{BatchLoop, Sink};
use crate::engine::session::Session;
use crate::io::input::Input;
use crate::io::pack_dir::{self, in_pack};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    tests: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    name: String,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    source: Option<String>,
    expect: Vec<Expectation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    rule: String,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    fields: BTreeMap<String, yaml_serde::Value>,
}

fn one() -> u32 {
    1
}

/// One test's verdict, for the table.
struct Verdict {
    /// `file:line` of the test.
    place: String,
    name: String,
    /// Located reasons; empty when the test passed.
    failures: Vec<String>,
}

pub(crate) fn run(global: &GlobalArgs, dir: &Path) -> Result<ExitCode> {
    let files = pack_dir::load(dir)?;
    if let Err(diagnostics) = check_pack(&files) {
        let count = diagnostics.len();
        for diagnostic in diagnostics {
            eprintln!("{}", in_pack(dir, diagnostic));
        }
        eprintln!(
            "crowsnest: {count} error(s) in the rule pack {}; no test was run",
            dir.display()
        );
        return Ok(ExitCode::from(1));
    }
    let test_files: Vec<&PackFile> = files.iter().filter(|f| is_test_file(&f.path)).collect();
    if test_files.is_empty() {
        eprintln!(
            "crowsnest: the rule pack {} has no tests (*.yml files in a tests/ directory)",
            dir.display()
        );
        return Ok(ExitCode::from(1));
    }

    let runner = Runner {
        global,
        pack: &files,
    };
    let mut verdicts = Vec::new();
    for file in test_files {
        let path = dir.join(&file.path);
        let shown = pack_dir::display_path(dir, &file.path);
        runner.file(&path, &shown, &file.text, &mut verdicts)?;
    }
    report(&verdicts, global.quiet)
}

/// Whether a pack file holds rule tests: it sits in a `tests` directory.
fn is_test_file(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts.contains(&"tests")
}

fn report(verdicts: &[Verdict], quiet: bool) -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    let width = verdicts.iter().map(|v| v.place.len()).max().unwrap_or(0);
    let failed = verdicts.iter().filter(|v| !v.failures.is_empty()).count();
    for v in verdicts {
        let status = if v.failures.is_empty() {
            if quiet {
                continue;
            }
            "pass"
        } else {
            "FAIL"
        };
        writeln!(out, "{status}  {:width$}  {}", v.place, v.name)?;
        for failure in &v.failures {
            writeln!(out, "      {failure}")?;
        }
    }
    writeln!(
        out,
        "{} tests: {} passed, {failed} failed",
        verdicts.len(),
        verdicts.len() - failed
    )?;
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

struct Runner<'a> {
    global: &'a GlobalArgs,
    pack: &'a [PackFile],
}

/// An alert with the input line that raised it.
struct Raised {
    alert: Alert,
    at: String,
}

impl Runner<'_> {
    /// Run every test of one file. A file that cannot be read as tests is one failure.
    fn file(&self, path: &Path, shown: &str, text: &str, out: &mut Vec<Verdict>) -> Result<()> {
        let parsed: TestFile = match yaml_serde::from_str(text) {
            Ok(parsed) => parsed,
            Err(err) => {
                let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
                out.push(Verdict {
                    place: format!("{shown}:{line}"),
                    name: "(test file)".into(),
                    failures: vec![format!("{shown}:{line}:{column}: {err}")],
                });
                return Ok(());
            }
        };
        let layout = Layout::of(text, parsed.tests.len());
        for (index, test) in parsed.tests.iter().enumerate() {
            let lines = layout.test(index);
            let mut failures = Vec::new();
            match self.alerts(path, shown, test, &lines, &mut failures) {
                Ok(raised) => check(shown, test, &lines, raised, &mut failures),
                Err(err) => failures.push(format!("{shown}:{}: {err:#}", lines.test)),
            }
            out.push(Verdict {
                place: format!("{shown}:{}", lines.test),
                name: test.name.clone(),
                failures,
            });
        }
        Ok(())
    }

    /// Run one test's input through a fresh engine with the pack installed.
    fn alerts(
        &self,
        path: &Path,
        shown: &str,
        test: &TestCase,
        lines: &TestLines,
        failures: &mut Vec<String>,
    ) -> Result<Vec<Raised>> {
        let force_source = match &test.source {
            None => self.global.source,
            Some(name) => Some(Source::from_name(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown source `{name}` (one of {})",
                    Source::ALL.map(Source::as_str).join(", ")
                )
            })?),
        };
        if test.input.is_none() && test.files.is_empty() {
            anyhow::bail!("the test has neither `input` nor `files`");
        }
        let mut session = Session::engine(self.global)?;
        let options = Options {
            alert_format: AlertFormat::Ocsf,
            force_source,
            vpc_flow_format: self.global.vpc_flow_format.clone(),
            ..Options::default()
        };
        if let Err(diagnostics) = session.configure(self.pack, &options)? {
            anyhow::bail!(
                "the engine rejected the pack: {}",
                diagnostics
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
        }
        let mut engine = BatchLoop::new(session, self.global.batch as usize);
        let mut sink = Collect {
            raised: Vec::new(),
            failures,
        };
        if let Some(input) = &test.input {
            // Line k of the block is line `first + k - 1` of the test file.
            let first = lines.input.unwrap_or(lines.test);
            engine.input(shown, input.as_bytes(), first - 1, &mut sink)?;
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for name in &test.files {
            let file: PathBuf = base.join(name);
            let bytes = match Input::File(file.clone()).read() {
                Ok(bytes) => bytes,
                Err(err) => {
                    sink.failures.push(format!(
                        "{shown}:{}: cannot read input file {}: {err}",
                        lines.files.unwrap_or(lines.test),
                        file.display()
                    ));
                    continue;
                }
            };
            engine.input(&file.display().to_string(), &bytes, 0, &mut sink)?;
        }
        Ok(sink.raised)
    }
}

/// A test's alerts, each with the input line that raised it; a record the engine
/// could not read, or an input that cannot be framed, is a failure of the test.
struct Collect<'f> {
    raised: Vec<Raised>,
    failures: &'f mut Vec<String>,
}

impl Collect<'_> {
    fn collect(&mut self, result: &BatchResult, line_of: impl Fn(&Alert) -> u32, file: &str) {
        for diagnostic in &result.diagnostics {
            self.failures
                .push(format!("the engine could not read a record: {diagnostic}"));
        }
        for alert in &result.alerts {
            self.raised.push(Raised {
                alert: alert.clone(),
                at: format!("{file}:{}", line_of(alert)),
            });
        }
    }
}

impl Sink for Collect<'_> {
    fn batch(&mut self, origin: &BatchOrigin, result: &BatchResult, _bytes: usize) -> Result<()> {
        self.collect(
            result,
            |alert| origin.line_of(alert.record_index as usize),
            &origin.file,
        );
        Ok(())
    }

    fn end(&mut self, origin: &BatchOrigin, result: &BatchResult) -> Result<()> {
        self.collect(result, |_| origin.first_line, &origin.file);
        Ok(())
    }

    fn unreadable(&mut self, diagnostic: &Diagnostic) -> Result<()> {
        self.failures.push(diagnostic.to_string());
        Ok(())
    }
}

/// Compare the alerts with the expectations; every difference is a located failure.
fn check(
    shown: &str,
    test: &TestCase,
    lines: &TestLines,
    raised: Vec<Raised>,
    failures: &mut Vec<String>,
) {
    let views: Vec<AlertView> = raised.iter().map(AlertView::of).collect();
    let mut claimed = vec![false; raised.len()];
    for (index, expectation) in test.expect.iter().enumerate() {
        let place = lines.expectation(index);
        let mut got = 0u32;
        // The closest miss: the first unclaimed alert of the rule whose fields differ.
        let mut miss: Option<String> = None;
        for (i, view) in views.iter().enumerate() {
            if got == expectation.count {
                break;
            }
            if claimed[i] || raised[i].alert.rule_id != expectation.rule {
                continue;
            }
            match view.mismatch(&expectation.fields) {
                None => {
                    claimed[i] = true;
                    got += 1;
                }
                Some((field, why)) => {
                    if miss.is_none() {
                        let line = lines.field(index, &field).unwrap_or(place);
                        miss = Some(format!(
                            "{shown}:{line}: the alert from {} does not match: {why}",
                            raised[i].at
                        ));
                    }
                }
            }
        }
        if got < expectation.count {
            let with = if expectation.fields.is_empty() {
                String::new()
            } else {
                " with these fields".to_string()
            };
            failures.push(format!(
                "{shown}:{place}: expected {} alert(s) of rule {}{with}, got {got}",
                expectation.count, expectation.rule
            ));
            failures.extend(miss);
        }
    }
    for (i, raised) in raised.iter().enumerate() {
        if !claimed[i] {
            let a = &raised.alert;
            failures.push(format!(
                "{shown}:{}: unexpected alert {} ({}) from {}: {}",
                lines.expect, a.rule_id, a.rule_title, raised.at, a.summary
            ));
        }
    }
}

/// An alert as the fields a test can name: its typed fields, then its OCSF document.
struct AlertView {
    typed: serde_json::Map<String, Value>,
    document: Option<Value>,
}

impl AlertView {
    fn of(raised: &Raised) -> AlertView {
        let mut typed = match serde_json::to_value(&raised.alert) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        typed.remove("document");
        typed.remove("record_index");
        AlertView {
            typed,
            document: serde_json::from_str(&raised.alert.document).ok(),
        }
    }

    fn get(&self, field: &str) -> Option<&Value> {
        if let Some(value) = self.typed.get(field) {
            return Some(value);
        }
        let mut at = self.document.as_ref()?;
        for part in field.split('.') {
            at = match at {
                Value::Object(map) => map.get(part)?,
                Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// The first expected field this alert does not have, and why.
    fn mismatch(&self, fields: &BTreeMap<String, yaml_serde::Value>) -> Option<(String, String)> {
        for (field, expected) in fields {
            let expected = match serde_json::to_value(expected) {
                Ok(value) => value,
                Err(err) => return Some((field.clone(), format!("{field}: {err}"))),
            };
            let actual = self.get(field);
            if !matches(&expected, actual) {
                let got = actual.map_or_else(|| "nothing".to_string(), Value::to_string);
                return Some((
                    field.clone(),
                    format!("{field}: expected {expected}, got {got}"),
                ));
            }
        }
        None
    }
}

/// Whether an actual value satisfies an expected one (see the module docs).
fn matches(expected: &Value, actual: Option<&Value>) -> bool {
    match (expected, actual) {
        (Value::Null, None | Some(Value::Null)) => true,
        (_, None) => false,
        (Value::Array(want), Some(Value::Array(have))) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| matches(w, Some(h)))
        }
        (Value::Object(want), Some(Value::Object(have))) => {
            want.iter().all(|(k, w)| matches(w, have.get(k)))
        }
        (Value::Array(_) | Value::Object(_), Some(_)) => false,
        (scalar, Some(Value::Array(items))) => items.iter().any(|h| matches(scalar, Some(h))),
        (Value::Number(w), Some(Value::Number(h))) => w.as_f64() == h.as_f64(),
        (scalar, Some(have)) => match (scalar_text(scalar), scalar_text(have)) {
            (Some(w), Some(h)) => w == h,
            _ => false,
        },
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Where the parts of each test are in a test file's text. YAML parsers keep no
/// positions for parsed values, so they are found from the block layout the files use
/// (`tests:` then `- name: ...` items, `expect:` then `- rule: ...` items); anything
/// the layout cannot place is reported at the nearest line it can.
struct Layout<'t> {
    lines: Vec<&'t str>,
    /// 1-based line of each test item, and the line after the tests block.
    tests: Vec<u32>,
    end: u32,
}

/// The lines of one test.
struct TestLines {
    test: u32,
    /// First line of the `input:` block.
    input: Option<u32>,
    files: Option<u32>,
    expect: u32,
    /// Each expectation's first line and the line after it.
    expectations: Vec<(u32, u32)>,
    /// Field lines within each expectation: (expectation, field, line).
    fields: Vec<(usize, String, u32)>,
}

impl TestLines {
    fn expectation(&self, index: usize) -> u32 {
        self.expectations
            .get(index)
            .map_or(self.expect, |&(line, _)| line)
    }

    fn field(&self, index: usize, field: &str) -> Option<u32> {
        self.fields
            .iter()
            .find(|(i, f, _)| *i == index && f == field)
            .map(|(_, _, line)| *line)
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn is_item(line: &str) -> bool {
    let t = line.trim_start();
    t == "-" || t.starts_with("- ")
}

/// The key of a mapping line (`key: ...`, `- key: ...`, `'key': ...`), if any.
fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").unwrap_or(t).trim_start();
    let (key, _) = t.split_once(':')?;
    Some(key.trim().trim_matches(|c| c == '\'' || c == '"'))
}

impl<'t> Layout<'t> {
    fn of(text: &'t str, count: usize) -> Layout<'t> {
        let lines: Vec<&str> = text.lines().collect();
        let n = lines.len() as u32;
        let mut tests = Vec::new();
        let mut end = n + 1;
        if let Some(start) = lines
            .iter()
            .position(|l| indent(l) == 0 && key_of(l) == Some("tests"))
        {
            let items = sequence_items(&lines, start + 1, lines.len());
            tests = items.0.iter().map(|&i| i as u32 + 1).collect();
            end = items.1 as u32 + 1;
        }
        if tests.len() != count {
            tests = vec![1; count];
        }
        Layout { lines, tests, end }
    }

    fn test(&self, index: usize) -> TestLines {
        let start = self.tests.get(index).copied().unwrap_or(1);
        let stop = self.tests.get(index + 1).copied().unwrap_or(self.end);
        let (from, to) = ((start - 1) as usize, (stop - 1) as usize);
        let range = &self.lines[from.min(self.lines.len())..to.min(self.lines.len())];
        let key_indent = range
            .first()
            .map_or(0, |l| indent(l) + if is_item(l) { 2 } else { 0 });
        let key_line = |key: &str| {
            range.iter().enumerate().find_map(|(i, l)| {
                let at_key = i == 0 || (indent(l) == key_indent && !is_item(l));
                (at_key && key_of(l) == Some(key)).then_some(i)
            })
        };
        let input = key_line("input").map(|i| {
            let rest = range[i].split_once(':').map_or("", |(_, r)| r).trim();
            let block = rest.starts_with('|') || rest.starts_with('>');
            (from + i + 1 + usize::from(block)) as u32
        });
        let files = key_line("files").map(|i| (from + i + 1) as u32);
        let mut lines = TestLines {
            test: start,
            input,
            files,
            expect: start,
            expectations: Vec::new(),
            fields: Vec::new(),
        };
        if let Some(i) = key_line("expect") {
            lines.expect = (from + i + 1) as u32;
            let rest = range[i].split_once(':').map_or("", |(_, r)| r).trim();
            if rest.is_empty() {
                let (items, stop) = sequence_items(range, i + 1, range.len());
                for (k, &item) in items.iter().enumerate() {
                    let next = items.get(k + 1).copied().unwrap_or(stop);
                    lines
                        .expectations
                        .push(((from + item + 1) as u32, (from + next + 1) as u32));
                    for (j, l) in range[item..next].iter().enumerate() {
                        if let Some(key) = key_of(l) {
                            lines
                                .fields
                                .push((k, key.to_string(), (from + item + j + 1) as u32));
                        }
                    }
                }
            }
        }
        lines
    }
}

/// The 0-based lines of a block sequence's items starting at or after `from`, and the
/// line where the sequence ends.
fn sequence_items(lines: &[&str], from: usize, to: usize) -> (Vec<usize>, usize) {
    let mut items = Vec::new();
    let mut item_indent = None;
    for (i, line) in lines.iter().enumerate().take(to).skip(from) {
        if !is_content(line) {
            continue;
        }
        match item_indent {
            None if is_item(line) => {
                item_indent = Some(indent(line));
                items.push(i);
            }
            None => return (items, i),
            Some(m) => {
                let ind = indent(line);
                if ind < m || (ind == m && !is_item(line)) {
                    return (items, i);
                }
                if ind == m {
                    items.push(i);
                }
            }
        }
    }
    (items, to)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `text` with its lines numbered, for assertion messages.
    fn numbered(text: &str) -> String {
        text.lines()
            .enumerate()
            .map(|(i, l)| format!("{:3} {l}\n", i + 1))
            .collect()
    }

    const FILE: &str = "\
# exec rules
tests:
  - name: exec into a container
    input: |
      {\"a\": 1}
      {\"b\": 2}
    expect:
      - rule: r1
        count: 2
        fields:
          principal: alice
      - rule: r2
  - name: nothing
    files:
      - x.ndjson
    expect: []
";

    #[test]
    fn layout_places_tests_inputs_and_expectations() {
        let parsed: TestFile = yaml_serde::from_str(FILE).unwrap();
        assert_eq!(parsed.tests.len(), 2);
        assert_eq!(parsed.tests[0].expect[0].count, 2);
        assert_eq!(parsed.tests[0].expect[1].count, 1);
        let layout = Layout::of(FILE, 2);
        let first = layout.test(0);
        assert_eq!(first.test, 3, "{}", numbered(FILE));
        assert_eq!(first.input, Some(5));
        assert_eq!(first.expect, 7);
        assert_eq!(first.expectations, [(8, 12), (12, 13)]);
        assert_eq!(first.field(0, "principal"), Some(11));
        let second = layout.test(1);
        assert_eq!(
            (second.test, second.files, second.expect),
            (13, Some(14), 16)
        );
        assert!(second.expectations.is_empty());
    }

    #[test]
    fn test_files_are_the_ones_under_tests() {
        assert!(is_test_file("tests/exec.yml"));
        assert!(is_test_file("k8s/tests/exec.yml"));
        assert!(!is_test_file("container/exec.yml"));
        assert!(!is_test_file("tests.yml"));
    }

    #[test]
    fn values_match_as_documented() {
        assert!(matches(&json!("a"), Some(&json!(["b", "a"]))));
        assert!(matches(&json!(["a", "b"]), Some(&json!(["a", "b"]))));
        assert!(!matches(&json!(["a"]), Some(&json!(["a", "b"]))));
        assert!(matches(&json!(201), Some(&json!(201.0))));
        assert!(matches(&json!("201"), Some(&json!(201))));
        assert!(matches(&json!(null), None));
        assert!(!matches(&json!("x"), None));
        assert!(matches(
            &json!({"uid": "AN0693"}),
            Some(&json!({"uid": "AN0693", "name": "x"}))
        ));
        assert!(!matches(&json!("alice"), Some(&json!("Alice"))));
    }
}
