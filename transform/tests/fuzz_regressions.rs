//! Fuzzing regressions: hostile inputs for each fuzz target (`fuzz/`) — deep nesting,
//! numbers out of range, invalid UTF-8, cut-short auditd events, broken rule files and
//! policies — run through the entry point the target drives, each with the located
//! diagnostic (or the clean decode) it must get.
//!
//! The entry points (`crowsnest_transform::fuzzing`) check the engine's promises themselves (located
//! errors, one outcome per record, JSON out) and panic when one breaks.

use std::path::Path;

use crowsnest_transform::decode::DecodeError;
use crowsnest_transform::fuzzing::{self, Record};
use crowsnest_transform::model::Source;

/// Every decoder target and the source it forces.
const DECODERS: [(&str, Source); 17] = [
    ("decode_auditd", Source::Auditd),
    ("decode_aws_cloudtrail", Source::CloudTrail),
    ("decode_azure_activity", Source::AzureActivity),
    ("decode_docker_authz", Source::DockerAuthz),
    ("decode_docker_daemon", Source::DockerDaemon),
    ("decode_docker_events", Source::DockerEvent),
    ("decode_docker_inspect", Source::DockerInspect),
    ("decode_falco", Source::Falco),
    ("decode_gcp_audit", Source::GkeAudit),
    ("decode_k8s_audit", Source::K8sAudit),
    ("decode_k8s_audit_aks", Source::AksAudit),
    ("decode_k8s_event", Source::K8sEvent),
    ("decode_route53_resolver", Source::Route53Resolver),
    ("decode_tetragon", Source::Tetragon),
    ("decode_vpc_flow", Source::VpcFlow),
    ("decode_zeek", Source::ZeekConn),
    ("decode_zeek", Source::ZeekDns),
];

/// A record each decoder reads, from `samples/`.
fn sample(source: Source) -> String {
    let file = match source {
        Source::Auditd => "auditd/benign.log",
        Source::CloudTrail => "cloudtrail-ecs/events.ndjson",
        Source::AzureActivity => "azure-aci/activity-log.ndjson",
        Source::DockerAuthz => "docker-authz/benign.ndjson",
        Source::DockerDaemon => "docker-daemon/dockerd-json.log",
        Source::DockerEvent => "docker/events.ndjson",
        Source::DockerInspect => "docker/inspect.json",
        Source::Falco => "falco/benign.ndjson",
        Source::GkeAudit | Source::GcpAudit => "gke-audit/benign.ndjson",
        Source::K8sAudit => "k8s-audit/benign.ndjson",
        Source::AksAudit => "aks-audit/kube-audit.ndjson",
        Source::K8sEvent => "k8s-events/kubelet.ndjson",
        Source::Route53Resolver => "route53-resolver/query-log.ndjson",
        Source::Tetragon => "tetragon/benign.ndjson",
        Source::VpcFlow => "vpc-flow/default-v2.log",
        Source::ZeekConn => "zeek/conn.ndjson",
        Source::ZeekDns => "zeek/dns.ndjson",
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if source == Source::DockerInspect {
        // An array of pretty-printed objects: its first, on one line.
        let all: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        return all[0].to_string();
    }
    text.lines().next().unwrap().to_string()
}

fn failed(records: &[Record]) -> Vec<&DecodeError> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Failed(e) => Some(e),
            Record::Decoded { .. } => None,
        })
        .collect()
}

#[test]
fn invalid_utf8_is_located_and_the_next_record_still_decodes() {
    for (target, source) in DECODERS {
        let good = sample(source);
        let at = good.len() / 2;
        let mut bad = good.clone().into_bytes();
        bad[at] = 0xff;
        let input = [&bad[..], b"\n", good.as_bytes(), b"\n"].concat();
        let (records, _) = fuzzing::decode_lines(Some(source), &input, None);
        assert_eq!(records.len(), 2, "{target}: {records:?}");
        assert_eq!(
            records[0],
            Record::Failed(DecodeError::Utf8 {
                column: at as u32 + 1
            }),
            "{target}"
        );
        assert!(
            matches!(records[1], Record::Decoded { .. }),
            "{target}: {:?}",
            records[1]
        );
    }
}

#[test]
fn nesting_ten_thousand_deep_where_no_decoder_reads_still_decodes() {
    for (target, source) in DECODERS {
        let good = sample(source);
        let Some(end) = good.rfind('}') else {
            continue; // the text formats
        };
        let deep = format!(
            "{},\"x\":{}1{}}}",
            &good[..end],
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let (records, _) = fuzzing::decode_lines(Some(source), deep.as_bytes(), None);
        assert!(
            matches!(records[..], [Record::Decoded { events: 1, .. }]),
            "{target}: {records:?}"
        );
    }
}

#[test]
fn a_record_that_is_only_nesting_is_a_located_error() {
    let open = "[".repeat(10_000);
    let (records, _) = fuzzing::decode_lines(None, open.as_bytes(), None);
    assert_eq!(
        failed(&records),
        [&DecodeError::Syntax {
            column: 10_000,
            message: "EOF while parsing a list".into()
        }]
    );
    let closed = format!("{open}{}", "]".repeat(10_000));
    let (records, _) = fuzzing::decode_lines(None, closed.as_bytes(), None);
    assert_eq!(failed(&records), [&DecodeError::UnknownShape]);
    let object = format!("{}{}", "{\"a\":".repeat(5_000), "}".repeat(5_000));
    let (records, _) = fuzzing::decode_lines(None, object.as_bytes(), None);
    assert_eq!(records.len(), 1);
    assert!(!failed(&records).is_empty(), "{records:?}");
}

/// One record through the engine: its outcome's enrichment, or its diagnostic's code,
/// line and column.
fn through_engine(record: &str) -> Result<String, (String, u32, u32)> {
    let results = fuzzing::process(record.as_bytes());
    let batch = &results[0];
    assert_eq!(batch.outcomes.len(), 1);
    match &batch.outcomes[0].source {
        Some(_) => Ok(batch.outcomes[0].enrichment.clone().unwrap()),
        None => {
            let d = &batch.diagnostics[0];
            Err((d.code.clone(), d.line, d.column))
        }
    }
}

#[test]
fn numbers_out_of_range_are_located_errors_not_another_format() {
    const EVENT: &str = r#"{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"image":"nginx"}},"time":"#;
    // Past i64: a shape error at the number, from the detected format's decoder; no
    // other decoder may take the record instead.
    let record = format!("{EVENT}99999999999999999999}}");
    assert_eq!(
        fuzzing::decode_lines(Some(Source::DockerEvent), record.as_bytes(), None).0,
        [Record::Failed(DecodeError::Shape {
            format: Source::DockerEvent,
            column: 116,
            message: "invalid type: floating point `1e+20`, expected i64".into()
        })]
    );
    assert_eq!(
        through_engine(&record),
        Err(("decode.shape".into(), 1, 116))
    );
    // Past f64: not JSON at all.
    let record = format!("{EVENT}1e400}}");
    assert_eq!(
        through_engine(&record),
        Err(("decode.syntax".into(), 1, 101))
    );
    // i64::MAX seconds: decoded, with no time (it has no nanosecond value).
    let record = format!("{EVENT}9223372036854775807}}");
    let enrichment = through_engine(&record).unwrap();
    assert!(!enrichment.contains("\"time\""), "{enrichment}");

    let zeek = r#"{"ts":1714561200.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":99999999999,"id.resp_h":"203.0.113.5","id.resp_p":4444,"proto":"tcp"}"#;
    assert_eq!(through_engine(zeek), Err(("decode.shape".into(), 1, 76)));
    let event = r#"{"kind":"Event","involvedObject":{"kind":"Pod","name":"p","namespace":"n"},"reason":"BackOff","count":99999999999999999999}"#;
    assert_eq!(through_engine(event), Err(("decode.shape".into(), 1, 122)));
}

#[test]
fn times_past_what_nanoseconds_hold_decode_without_a_time() {
    for record in [
        "type=SYSCALL msg=audit(99999999999999999999.999:1): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=2 uid=0 comm=\"docker\" exe=\"/usr/bin/docker\"\ntype=EOE msg=audit(99999999999999999999.999:1):",
        "2 111122223333 eni-0a 10.42.0.23 10.42.1.8 51544 443 6 22 8195 99999999999999999999 9223372036854775807 ACCEPT OK",
        r#"{"ts":1e300,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"203.0.113.5","id.resp_p":4444,"proto":"tcp"}"#,
        r#"{"process_exec":{"process":{"binary":"/bin/sh","arguments":"-c id"}},"time":"9999-12-31T23:59:60.999999999999Z"}"#,
        r#"{"query_name":"a.example.","query_timestamp":"2024-13-45T99:99:99Z","query_type":"A"}"#,
    ] {
        let results = fuzzing::process(record.as_bytes());
        let batch = &results[0];
        assert!(
            batch.diagnostics.is_empty(),
            "{record}: {:?}",
            batch.diagnostics
        );
        let enrichment = batch
            .outcomes
            .last()
            .unwrap()
            .enrichment
            .as_deref()
            .unwrap();
        assert!(!enrichment.contains("\"time\""), "{enrichment}");
    }
}

#[test]
fn an_audit_serial_past_u64_is_located_on_every_line() {
    let serial = "msg=audit(1714561230.410:18446744073709551616):";
    let input = format!(
        "type=SYSCALL {serial} syscall=59 success=yes exe=\"/usr/bin/docker\"\ntype=EXECVE {serial} argc=2 a0=\"docker\" a1=\"ps\"\ntype=EOE {serial}\n"
    );
    let (records, flushed) = fuzzing::decode_lines(Some(Source::Auditd), input.as_bytes(), None);
    let columns: Vec<u32> = failed(&records).iter().map(|e| e.column()).collect();
    assert_eq!(columns, [39, 38, 35], "{records:?}");
    assert_eq!(flushed, 0);
}

#[test]
fn cut_short_auditd_events_are_completed_or_flushed() {
    let syscall = |serial: u32| {
        format!(
            "type=SYSCALL msg=audit(1714561230.410:{serial}): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=10 pid=20 uid=0 comm=\"docker\" exe=\"/usr/bin/docker\""
        )
    };
    let execve =
        |serial: u32, args: &str| format!("type=EXECVE msg=audit(1714561230.410:{serial}): {args}");
    // No EOE and no later record: the event comes out at the end of the stream.
    let input = [syscall(1), execve(1, "argc=3 a0=\"docker\" a1=\"run\"")].join("\n");
    let (records, flushed) = fuzzing::decode_lines(Some(Source::Auditd), input.as_bytes(), None);
    let pending = Record::Decoded {
        source: Source::Auditd,
        events: 0,
    };
    assert_eq!(records, [pending.clone(), pending]);
    assert_eq!(flushed, 1);
    // A newer serial completes the older event; the newer one is flushed.
    let input = [syscall(1), execve(1, "argc=2 a0=\"docker\""), syscall(2)].join("\n");
    let (records, flushed) = fuzzing::decode_lines(Some(Source::Auditd), input.as_bytes(), None);
    let events: Vec<usize> = records
        .iter()
        .map(|r| match r {
            Record::Decoded { events, .. } => *events,
            Record::Failed(e) => panic!("{e}"),
        })
        .collect();
    assert_eq!(events, [0, 0, 1]);
    assert_eq!(flushed, 1);
    // A record cut inside its header is a located error; the event around it still ends.
    let input = [
        syscall(3),
        "type=EXECVE msg=audit(1714561230.4".to_string(),
        execve(3, "argc=1 a0=\"docker\""),
        "type=EOE msg=audit(1714561230.410:3):".to_string(),
    ]
    .join("\n");
    let (records, flushed) = fuzzing::decode_lines(Some(Source::Auditd), input.as_bytes(), None);
    assert!(
        matches!(
            failed(&records)[..],
            [DecodeError::Shape {
                format: Source::Auditd,
                ..
            }]
        ),
        "{records:?}"
    );
    assert_eq!(
        records[3],
        Record::Decoded {
            source: Source::Auditd,
            events: 1
        }
    );
    assert_eq!(flushed, 0);
}

#[test]
fn a_hostile_stream_gets_one_outcome_per_record_and_located_errors() {
    let good = sample(Source::DockerEvent);
    let mut input = Vec::new();
    input.extend_from_slice(good.as_bytes()); // line 1
    input.extend_from_slice(b"\n{\"Action\":\"\xff\"}\n"); // line 2: not UTF-8
    input.extend_from_slice(format!("{}\n", "x".repeat(3000)).as_bytes()); // line 3: too large
    input.push(fuzzing::BATCH_SEPARATOR);
    input.extend_from_slice(format!("\n{}\n", "[".repeat(1500)).as_bytes()); // lines 4-5
    input.extend_from_slice(good.as_bytes()); // line 6
    let results = fuzzing::process(&input);
    let located: Vec<(String, u32, u32)> = results
        .iter()
        .flat_map(|r| &r.diagnostics)
        .map(|d| (d.code.clone(), d.line, d.column))
        .collect();
    assert_eq!(
        located,
        [
            ("decode.utf8".to_string(), 2, 12),
            ("decode.too-large".to_string(), 3, 1),
            ("decode.syntax".to_string(), 5, 1500),
        ]
    );
    assert_eq!(results[0].outcomes.len(), 3);
    assert_eq!(results[1].outcomes.len(), 2);
    assert!(results[1].outcomes[1].source.is_some());
}

#[test]
fn framing_stops_at_a_cut_short_array_with_its_place() {
    // A cut-short array cannot be split reliably, so none of its elements is yielded.
    let (records, err) = fuzzing::framing(b"[\n  {\"a\": 1},\n  {\"b\": ");
    assert_eq!(records, 0);
    let err = err.expect("a located error");
    assert_eq!((err.line, err.column), (3, 8), "{err}");
    let deep = format!("[{}", "[".repeat(10_000));
    let (records, err) = fuzzing::framing(deep.as_bytes());
    assert_eq!(records, 0);
    assert!(err.is_some());
}

#[test]
fn hostile_rule_files_are_refused_with_a_place() {
    for (text, line) in [
        (format!("title: x\ndetection: {}", "[".repeat(10_000)), 2),
        ("title: x\n\u{fffd}\u{fffd}: [\n".to_string(), 3),
        (
            "title: x\nlogsource: {product: docker}\ndetection:\n  sel: {image: 1e99999}\n  condition: sel and (((((\n".to_string(),
            5,
        ),
    ] {
        let errors = fuzzing::pack_rule(text.as_bytes()).expect_err("refused");
        assert!(
            errors.iter().any(|d| d.file == "rules/fuzz.yml" && d.line == line),
            "{text:.60}: {errors:?}"
        );
    }
    let errors = fuzzing::pack_rule(b"title: \xff\xfe\ndetection: [").expect_err("refused");
    assert!(errors.iter().all(|d| d.line >= 1 && d.column >= 1));
}

#[test]
fn hostile_policies_are_refused_with_a_place() {
    for (text, line) in [
        ("thresholds:\n  stopped_for: 99999999999999999999d\n", 2),
        ("thresholds:\n  learning_period: 9223372036854775807w\n", 2),
        (
            "approved_registries: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
            1,
        ),
        ("\u{fffd}: {a: b}\nadmins: 1e99999\n", 1),
    ] {
        let errors = fuzzing::pack_policy(text.as_bytes()).expect_err("refused");
        assert!(
            errors
                .iter()
                .any(|d| d.file == "policy.yml" && d.line == line),
            "{text}: {errors:?}"
        );
    }
}

#[test]
fn hostile_command_lines_and_api_calls() {
    // Wrappers past the limit are not looked through.
    let wrapped = format!("{}docker run --privileged alpine", "sudo ".repeat(10));
    assert!(fuzzing::command_line(wrapped.as_bytes()).is_empty());
    let plain = "sudo env A=1 docker run --privileged alpine";
    assert!(!fuzzing::command_line(plain.as_bytes()).is_empty());
    // Dangling quotes and escapes, a NUL-separated argv.
    fuzzing::command_line(b"docker run -v '/:/host alpine sh -c \"\\");
    fuzzing::command_line(b"kubectl\0exec\0-it\0pod\0--\0sh\0\xff");
    assert_eq!(
        fuzzing::docker_api(b"POST\n/v99999999999999999999.1/containers/create?name=%"),
        "POST /containers/create"
    );
    assert_eq!(
        fuzzing::docker_api(b"post\n//containers//%ZZ/start?%=%%"),
        "POST /containers/{id}/start"
    );
    assert_eq!(
        fuzzing::docker_create_body(b"{\"Cmd\":[[[[1]]]]}"),
        (false, false)
    );
    let deep = format!(
        "{{\"Image\":\"a\",\"x\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(fuzzing::docker_create_body(deep.as_bytes()), (true, true));
}
