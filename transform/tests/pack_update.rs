//! Rule pack updates are all or nothing: a pack with one broken rule among ten is
//! rejected with a diagnostic at the broken rule's file:line:column and the running pack
//! keeps alerting; a good pack takes effect on the very next batch.

use crowsnest_transform::Detector;
use crowsnest_transform::api::{Alert, BatchOrigin, Diagnostic, PackFile, Severity};

const CONTAINER: &str = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
const IMAGE: &str = "registry.example.com:5000/ops/node-agent:2.1";

/// `docker exec` of `command` into the node-agent container at `time` (seconds), as
/// `docker events --format '{{json .}}'` prints it.
fn docker_exec(command: &str, time: i64) -> String {
    format!(
        r#"{{"status":"exec_create: {command}","id":"{CONTAINER}","from":"{IMAGE}","Type":"container","Action":"exec_create: {command}","Actor":{{"ID":"{CONTAINER}","Attributes":{{"execID":"3844a75657fa0f33c31f53ffe503a11f7854af01c48bd471d9455dc99b3a35ff","image":"{IMAGE}","name":"node-agent"}}}},"scope":"local","time":{time},"timeNano":{time}000000000}}"#
    )
}

fn batch(d: &mut Detector, file: &str, lines: &[String]) -> Vec<Alert> {
    let origin = BatchOrigin {
        file: file.into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let result = d.process(lines.join("\n").as_bytes(), &origin);
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    result.alerts
}

fn rule_ids(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule_id.as_str()).collect()
}

/// The pack running before the update: one rule on every exec.
const OLD_ID: &str = "31dcb66c-8ce3-4950-8192-985c2b21ff49";
const OLD_PACK: &str = "\
title: Command executed in a running container
id: 31dcb66c-8ce3-4950-8192-985c2b21ff49
logsource:
  category: container
detection:
  exec:
    action: container-exec
  condition: exec
level: medium
";

/// The tools the ten new rules look for in an exec's command line.
const TOOLS: [&str; 10] = [
    "curl", "wget", "nc", "nmap", "socat", "python", "perl", "base64", "chmod", "mount",
];

fn new_rule_id(i: usize) -> String {
    format!("6f2d0c1e-0000-4000-8000-0000000000{i:02}")
}

/// One rule per tool.
fn new_rule(i: usize, modifier: &str) -> String {
    format!(
        "title: {tool} run inside a container\nid: {id}\nlogsource:\n  category: container\n\
         detection:\n  exec:\n    action: container-exec\n  tool:\n    process.command_line|{modifier}: ' {tool} '\n\
         \x20 condition: exec and tool\nlevel: high\n",
        tool = TOOLS[i],
        id = new_rule_id(i),
    )
}

/// The ten rules as one multi-document file; the rules numbered in `broken` spell their
/// modifier `containz`.
fn new_pack(broken: &[usize]) -> String {
    (0..TOOLS.len())
        .map(|i| {
            let modifier = if broken.contains(&i) {
                "containz"
            } else {
                "contains"
            };
            new_rule(i, modifier)
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The 1-based line and column of the `n`-th (0-based) occurrence of `needle` in `text`.
fn position(text: &str, needle: &str, n: usize) -> (u32, u32) {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| line.find(needle).map(|col| (i + 1, col + 1)))
        .nth(n)
        .map(|(l, c)| (l as u32, c as u32))
        .unwrap_or_else(|| panic!("no {needle:?} #{n} in\n{text}"))
}

fn configured(text: &str) -> Detector {
    let mut d = Detector::new();
    d.configure(&[PackFile {
        path: "exec.yml".into(),
        text: text.into(),
    }])
    .expect("the old pack compiles");
    d
}

#[test]
fn one_broken_rule_rejects_the_update_and_the_old_pack_keeps_alerting() {
    let mut d = configured(OLD_PACK);
    let before = batch(&mut d, "b1", &[docker_exec("/bin/sh -c curl -s x", 100)]);
    assert_eq!(rule_ids(&before), [OLD_ID]);

    // Ten rules; the seventh (perl) is broken.
    let text = new_pack(&[6]);
    let update = [PackFile {
        path: "container/tools.yml".into(),
        text: text.clone(),
    }];
    let errors: Vec<Diagnostic> = d
        .configure(&update)
        .expect_err("a broken rule rejects the pack");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.file, "container/tools.yml");
    // The only `|containz` in the file is the broken rule's; the diagnostic points at it.
    assert_eq!((e.line, e.column), position(&text, "|containz", 0), "{e}");
    assert!(e.to_string().starts_with(&format!(
        "container/tools.yml:{}:{}: error[",
        e.line, e.column
    )));
    assert!(e.message.contains("containz"), "{e}");
    assert_eq!(d.pack_info().rules, 1, "the running pack is unchanged");

    // The next batch still runs the old pack, and none of the nine good new rules.
    let after = batch(
        &mut d,
        "b2",
        &[
            docker_exec("/bin/sh -c curl -s x", 200),
            docker_exec("/bin/sh -c perl -e 1 ", 201),
        ],
    );
    assert_eq!(rule_ids(&after), [OLD_ID, OLD_ID]);
}

#[test]
fn every_broken_rule_is_reported_at_its_place() {
    let mut d = configured(OLD_PACK);
    let text = new_pack(&[2, 8]);
    let errors = d
        .configure(&[PackFile {
            path: "tools.yml".into(),
            text: text.clone(),
        }])
        .expect_err("rejected");
    let places: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        places,
        [
            position(&text, "|containz", 0),
            position(&text, "|containz", 1)
        ],
        "{errors:#?}"
    );
    assert_eq!(
        rule_ids(&batch(&mut d, "b", &[docker_exec("id", 5)])),
        [OLD_ID]
    );
}

#[test]
fn a_good_update_takes_effect_on_the_next_batch() {
    let mut d = configured(OLD_PACK);
    assert_eq!(
        rule_ids(&batch(
            &mut d,
            "b1",
            &[docker_exec("/bin/sh -c nc -l 4444", 100)]
        )),
        [OLD_ID]
    );
    let info = d
        .configure(&[PackFile {
            path: "container/tools.yml".into(),
            text: new_pack(&[]),
        }])
        .expect("the fixed pack compiles");
    assert_eq!((info.rules, info.correlations), (10, 0));

    let alerts = batch(
        &mut d,
        "b2",
        &[
            docker_exec("/bin/sh -c nc -l 4444", 101),
            docker_exec("/bin/sh -c id", 102),
            docker_exec("/bin/sh -c base64 -d /tmp/x ", 103),
        ],
    );
    let fired: Vec<(u32, &str)> = alerts
        .iter()
        .map(|a| (a.record_index, a.rule_id.as_str()))
        .collect();
    let (nc, base64) = (new_rule_id(2), new_rule_id(7));
    assert_eq!(fired, [(0, nc.as_str()), (2, base64.as_str())]);
    assert_eq!(alerts[0].rule_title, "nc run inside a container");
    assert_eq!(alerts[0].level, "high");
}
