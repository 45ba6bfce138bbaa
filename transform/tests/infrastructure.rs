//! The built-in infrastructure catalogue (`infrastructure:` in `transform/rules/policy.yml`)
//! on the busy-cluster corpus (`samples/scenarios/infrastructure/busy-cluster/`).
//!
//! - The corpus raises nothing above `low`, and the attack scenarios replayed after it
//!   through the same engine still raise every alert their `expected.txt` lists.
//! - Per entry: its legitimate launch (or exec) from the corpus raises nothing and is
//!   counted under the entry's name; each look-alike (another namespace, a person as the
//!   creator, a template a person wrote, a look-alike registry, one capability more, a
//!   person's exec) is not quieted by it, and alerts.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crowsnest_transform::Detector;
use crowsnest_transform::api::{Alert, BatchOrigin};
use crowsnest_transform::framing;
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> Vec<Value> {
    let path = root().join("samples/scenarios/infrastructure/busy-cluster/1-k8s-audit.ndjson");
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
        .collect()
}

/// What a fresh built-in engine says about `lines`, replayed in order.
struct Outcome {
    alerts: Vec<Alert>,
    /// Alerts per line, by index.
    per_line: Vec<Vec<Alert>>,
    quieted: BTreeMap<String, u64>,
}

fn replay(detector: &mut Detector, lines: &[Value]) -> Outcome {
    let mut per_line = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let origin = BatchOrigin {
            file: "corpus".into(),
            first_line: u32::try_from(i + 1).unwrap(),
            lines: Vec::new(),
        };
        let result = detector.process(line.to_string().as_bytes(), &origin);
        assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
        per_line.push(result.alerts);
    }
    Outcome {
        alerts: per_line.iter().flatten().cloned().collect(),
        per_line,
        quieted: detector.stats().alerts_quieted.into_iter().collect(),
    }
}

fn run(lines: &[Value]) -> Outcome {
    replay(&mut Detector::new(), lines)
}

fn above_low(alerts: &[Alert]) -> Vec<String> {
    alerts
        .iter()
        .filter(|a| !matches!(a.level.as_str(), "informational" | "low"))
        .map(|a| format!("{} {} ({})", a.level, a.rule_title, a.summary))
        .collect()
}

fn by_level(alerts: &[Alert]) -> BTreeMap<String, usize> {
    let mut levels = BTreeMap::new();
    for a in alerts {
        *levels.entry(a.level.clone()).or_default() += 1;
    }
    levels
}

#[test]
fn the_busy_cluster_raises_nothing_above_low() {
    let lines = corpus();
    let out = run(&lines);
    println!("busy cluster: alerts by level {:?}", by_level(&out.alerts));
    println!("quieted by entry: {:?}", out.quieted);
    let loud = above_low(&out.alerts);
    assert!(loud.is_empty(), "{loud:#?}");
    assert!(out.quieted.values().sum::<u64>() > 0);
}

/// Scenario directories whose name says they are attacks, with their input files.
fn attack_scenarios() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let analytics = fs::read_dir(root().join("samples/scenarios")).expect("scenarios");
    for analytic in analytics.flatten() {
        let Ok(dirs) = fs::read_dir(analytic.path()) else {
            continue;
        };
        for dir in dirs.flatten() {
            let name = dir.file_name().to_string_lossy().to_string();
            if !name.contains("attack") {
                continue;
            }
            let mut files: Vec<PathBuf> = fs::read_dir(dir.path())
                .expect("scenario")
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| ["ndjson", "jsonl", "json", "log"].iter().any(|x| e == *x))
                })
                .collect();
            files.sort();
            out.push((dir.path(), files));
        }
    }
    out.sort();
    out
}

#[test]
fn attacks_mixed_into_the_busy_cluster_still_alert() {
    let lines = corpus();
    let scenarios = attack_scenarios();
    assert!(
        scenarios.len() >= 20,
        "{} attack scenarios",
        scenarios.len()
    );
    let mut failures = Vec::new();
    for (dir, files) in scenarios {
        let mut detector = Detector::new();
        replay(&mut detector, &lines);
        let mut got = Vec::new();
        for path in &files {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let bytes = fs::read(path).expect("scenario file");
            // In `crowsnest replay`'s batches, as the scenarios test frames them.
            let batches =
                framing::batches(&bytes, framing::BATCH_RECORDS, framing::MAX_BATCH_BYTES, 0);
            for batch in batches {
                let batch = batch.expect("scenario frames");
                let origin = batch.origin(&name);
                let result = detector.process(&batch.records.join(&b'\n'), &origin);
                got.extend(
                    result
                        .alerts
                        .iter()
                        .map(|a| format!("{name} {}", a.rule_id)),
                );
            }
            let origin = BatchOrigin {
                file: name.clone(),
                first_line: 1,
                lines: Vec::new(),
            };
            let end = detector.finish(&origin);
            got.extend(end.alerts.iter().map(|a| format!("{name} {}", a.rule_id)));
        }
        let expected = fs::read_to_string(dir.join("expected.txt")).unwrap_or_default();
        for line in expected.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((at, rule)) = line.split_once(' ') else {
                continue;
            };
            let file = at.split(':').next().unwrap_or(at);
            let want = format!("{file} {}", rule.trim());
            if !got.contains(&want) {
                failures.push(format!("{}: {want} not raised", dir.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Each catalogue entry and the owner of its pods in the corpus (exec entries: none).
const ENTRIES: &[(&str, Option<&str>)] = &[
    ("calico-node", Some("DaemonSet/calico-node")),
    (
        "calico-kube-controllers",
        Some("ReplicaSet/calico-kube-controllers-"),
    ),
    ("aws-node", Some("DaemonSet/aws-node")),
    ("cilium-agent", Some("DaemonSet/cilium")),
    ("cilium-operator", Some("ReplicaSet/cilium-operator-")),
    ("cilium-envoy", Some("DaemonSet/cilium-envoy")),
    ("kube-proxy", Some("DaemonSet/kube-proxy")),
    ("node-local-dns", Some("DaemonSet/node-local-dns")),
    ("coredns", Some("ReplicaSet/coredns-")),
    ("ebs-csi-node", Some("DaemonSet/ebs-csi-node")),
    ("efs-csi-node", Some("DaemonSet/efs-csi-node")),
    ("gce-pd-csi-node", Some("DaemonSet/csi-gce-pd-node")),
    (
        "node-exporter",
        Some("DaemonSet/kps-prometheus-node-exporter"),
    ),
    ("datadog-agent", Some("DaemonSet/datadog")),
    ("elastic-agent", Some("DaemonSet/elastic-agent")),
    ("falco", Some("DaemonSet/falco")),
    ("tetragon", Some("DaemonSet/tetragon")),
    ("fluent-bit", Some("DaemonSet/fluent-bit")),
    ("argocd-application-controller", None),
    ("flux-controllers", None),
    ("gitlab-runner-jobs", None),
    ("arc-runner-jobs", None),
];

#[test]
fn every_catalogue_entry_has_its_look_alike_test() {
    let policy: Value = yaml_serde::from_str(
        &fs::read_to_string(root().join("transform/rules/policy.yml")).expect("policy"),
    )
    .expect("policy parses");
    let names: Vec<&str> = policy["infrastructure"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    let tested: Vec<&str> = ENTRIES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, tested, "every entry, in order, has a row in ENTRIES");
}

fn owner(line: &Value) -> String {
    let o = &line["requestObject"]["metadata"]["ownerReferences"][0];
    format!(
        "{}/{}",
        o["kind"].as_str().unwrap_or(""),
        o["name"].as_str().unwrap_or("")
    )
}

fn is_pod_create(line: &Value) -> bool {
    line["verb"] == "create"
        && line["objectRef"]["resource"] == "pods"
        && line["objectRef"]["subresource"].is_null()
}

/// The lines that make one pod of `owner`: its templates (the workload a deploy
/// principal applied, the ReplicaSet its Deployment made) and the pod.
fn launch_of(lines: &[Value], owner_prefix: &str) -> Vec<Value> {
    let pod = lines
        .iter()
        .find(|l| is_pod_create(l) && owner(l).starts_with(owner_prefix))
        .unwrap_or_else(|| panic!("no pod of {owner_prefix} in the corpus"))
        .clone();
    let mut chain = vec![pod];
    loop {
        let up = owner(&chain[0]);
        let Some((kind, name)) = up.split_once('/') else {
            break;
        };
        let template = lines.iter().find(|l| {
            l["verb"] == "create"
                && l["requestObject"]["kind"] == kind
                && l["objectRef"]["name"] == name
        });
        match template {
            Some(t) => chain.insert(0, t.clone()),
            None => break,
        }
    }
    chain
}

fn set_namespace(line: &mut Value, ns: &str) {
    let old = line["objectRef"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    line["objectRef"]["namespace"] = json!(ns);
    line["requestObject"]["metadata"]["namespace"] = json!(ns);
    let uri = line["requestURI"].as_str().unwrap_or("").replace(
        &format!("/namespaces/{old}/"),
        &format!("/namespaces/{ns}/"),
    );
    line["requestURI"] = json!(uri);
}

fn set_user(line: &mut Value, name: &str) {
    line["user"] = json!({"username": name, "groups": ["oidc:developers", "system:authenticated"]});
    line["userAgent"] = json!("kubectl/v1.30.2 (linux/amd64) kubernetes/3968350");
}

fn first_container(line: &mut Value) -> &mut Value {
    &mut line["requestObject"]["spec"]["containers"][0]
}

fn exec_into(pod_line: &Value, by: &str) -> Value {
    let ns = pod_line["objectRef"]["namespace"].as_str().unwrap();
    let name = pod_line["objectRef"]["name"].as_str().unwrap();
    let mut exec = pod_line.clone();
    exec["verb"] = json!("create");
    exec["requestURI"] = json!(format!(
        "/api/v1/namespaces/{ns}/pods/{name}/exec?command=sh&stdin=true&stdout=true&tty=true"
    ));
    exec["objectRef"]["subresource"] = json!("exec");
    // The stage the API server writes when the stream opens: the one evaluated.
    exec["stage"] = json!("ResponseStarted");
    exec["responseStatus"]["code"] = json!(101);
    exec.as_object_mut().unwrap().remove("requestObject");
    set_user(&mut exec, by);
    exec
}

const HUMAN: &str = "mallory@example.com";

/// Run a variant whose last line is the look-alike pod: `entry` must not quiet it (it
/// quiets no more than the template lines before it, `baseline`), and when the entry
/// quiets the legitimate pod (`strict`), the look-alike must alert.
fn assert_not_quieted(
    entry: &str,
    what: &str,
    lines: &[Value],
    (baseline, strict): (u64, bool),
    failures: &mut Vec<String>,
) {
    let out = run(lines);
    if out.quieted.get(entry).copied().unwrap_or(0) > baseline {
        failures.push(format!("{entry}: {what}: quieted ({:?})", out.quieted));
    }
    if strict && out.per_line.last().is_none_or(Vec::is_empty) {
        failures.push(format!("{entry}: {what}: no alert"));
    }
}

#[test]
fn each_entry_quiets_its_component_and_none_of_its_look_alikes() {
    let lines = corpus();
    let mut failures = Vec::new();
    for (entry, owner) in ENTRIES {
        let Some(owner) = owner else { continue };
        let legit = launch_of(&lines, owner);
        let out = run(&legit);
        if !out.alerts.is_empty() {
            failures.push(format!(
                "{entry}: its own launch alerts: {:?}",
                out.alerts.iter().map(|a| &a.rule_title).collect::<Vec<_>>()
            ));
        }
        let others: Vec<_> = out.quieted.keys().filter(|k| k != entry).collect();
        if !others.is_empty() {
            failures.push(format!("{entry}: quieted by other entries {others:?}"));
        }
        let pod = legit.len() - 1;
        // What the entry quiets on the templates alone, and whether it quiets the pod.
        let baseline = run(&legit[..pod]).quieted.get(*entry).copied().unwrap_or(0);
        let strict = out.quieted.get(*entry).copied().unwrap_or(0) > baseline;
        let judge = (baseline, strict);
        // One capability more than any entry allows.
        let mut v = legit.clone();
        let caps = first_container(&mut v[pod])["securityContext"]["capabilities"]["add"].take();
        let mut caps: Vec<Value> = caps.as_array().cloned().unwrap_or_default();
        caps.push(json!("SYS_BOOT"));
        first_container(&mut v[pod])["securityContext"]["capabilities"]["add"] = json!(caps);
        assert_not_quieted(entry, "one capability more", &v, judge, &mut failures);
        // The same image from a look-alike registry.
        let mut v = legit.clone();
        let image = first_container(&mut v[pod])["image"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, path) = image.split_once('/').unwrap();
        first_container(&mut v[pod])["image"] = json!(format!("docker.io.evil.example/{path}"));
        assert_not_quieted(entry, "a look-alike registry", &v, judge, &mut failures);
        // Another namespace.
        let mut v = legit.clone();
        set_namespace(&mut v[pod], "default");
        assert_not_quieted(entry, "another namespace", &v, judge, &mut failures);
        // A person creates the pod, naming the real owner.
        let mut v = legit.clone();
        set_user(&mut v[pod], HUMAN);
        assert_not_quieted(entry, "a person as the creator", &v, judge, &mut failures);
        // A person applied the template the controller made the pod from.
        if pod > 0 {
            let mut v = legit.clone();
            set_user(&mut v[0], HUMAN);
            assert_not_quieted(
                entry,
                "a template a person wrote",
                &v,
                (0, strict),
                &mut failures,
            );
        }
        // A person execs into the component's pod.
        let mut v = legit.clone();
        v.push(exec_into(&legit[pod], HUMAN));
        let out = run(&v);
        if out.per_line[pod + 1].is_empty() {
            failures.push(format!("{entry}: a person's exec: no alert"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn ci_runners_exec_quietly_into_their_own_job_pods_only() {
    let lines = corpus();
    for (entry, runner_ns) in [
        ("gitlab-runner-jobs", "gitlab-runner"),
        ("arc-runner-jobs", "arc-runners"),
    ] {
        let pod = lines
            .iter()
            .find(|l| is_pod_create(l) && l["objectRef"]["namespace"] == runner_ns)
            .expect("a job pod")
            .clone();
        let exec = lines
            .iter()
            .find(|l| {
                l["objectRef"]["subresource"] == "exec"
                    && l["objectRef"]["name"] == pod["objectRef"]["name"]
            })
            .expect("the runner's exec")
            .clone();
        let out = run(&[pod.clone(), exec.clone()]);
        assert!(out.per_line[1].is_empty(), "{entry}: {:?}", out.per_line[1]);
        assert!(
            out.quieted.contains_key(entry),
            "{entry}: {:?}",
            out.quieted
        );

        // A person execs into the job pod.
        let out = run(&[pod.clone(), exec_into(&pod, HUMAN)]);
        assert!(!out.per_line[1].is_empty(), "{entry}: a person's exec");
        assert!(!out.quieted.contains_key(entry));

        // The runner execs into a pod someone else created.
        let mut foreign = pod.clone();
        set_user(&mut foreign, HUMAN);
        let out = run(&[foreign, exec.clone()]);
        assert!(
            !out.per_line[1].is_empty(),
            "{entry}: exec into another's pod"
        );
        assert!(!out.quieted.contains_key(entry));

        // The runner's exec with no pod create seen: not known to be its own.
        let out = run(std::slice::from_ref(&exec));
        assert!(
            !out.per_line[0].is_empty(),
            "{entry}: exec into an unseen pod"
        );

        // Both in another namespace.
        let (mut p, mut x) = (pod.clone(), exec.clone());
        set_namespace(&mut p, "default");
        set_namespace(&mut x, "default");
        let out = run(&[p, x]);
        assert!(!out.per_line[1].is_empty(), "{entry}: another namespace");
        assert!(!out.quieted.contains_key(entry));
    }
}

#[test]
fn agents_and_gitops_controllers_read_quietly_and_a_person_does_not() {
    let lines = corpus();
    for (entry, reader) in [
        ("datadog-agent", "system:serviceaccount:datadog:datadog"),
        ("falco", "system:serviceaccount:falco:falco"),
        (
            "argocd-application-controller",
            "system:serviceaccount:argocd:argocd-application-controller",
        ),
        (
            "flux-controllers",
            "system:serviceaccount:flux-system:kustomize-controller",
        ),
    ] {
        let reads: Vec<Value> = lines
            .iter()
            .filter(|l| l["verb"] == "list" && l["user"]["username"] == reader)
            .cloned()
            .collect();
        assert!(
            reads.len() >= 4,
            "{entry}: {} reads in the corpus",
            reads.len()
        );
        let out = run(&reads);
        assert!(out.alerts.is_empty(), "{entry}: {:?}", out.alerts);
        assert!(
            out.quieted.contains_key(entry),
            "{entry}: {:?}",
            out.quieted
        );
        // The same sweep by a person, or by a look-alike account in another namespace.
        for who in [HUMAN, "system:serviceaccount:default:datadog"] {
            let mut sweep = reads.clone();
            for l in &mut sweep {
                set_user(l, who);
            }
            let out = run(&sweep);
            assert!(!out.alerts.is_empty(), "{entry}: the sweep by {who}");
            assert!(out.quieted.is_empty(), "{entry}: {:?}", out.quieted);
        }
    }
}
