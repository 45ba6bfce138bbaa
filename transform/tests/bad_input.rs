//! Bad records get a located diagnostic each and the batch goes on.

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Options};

const GOOD: &str = r#"{"Type":"container","Action":"start","Actor":{"ID":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Attributes":{"image":"nginx","name":"web"}},"scope":"local","time":1714557600,"timeNano":1714557600000000000}"#;

fn origin() -> BatchOrigin {
    BatchOrigin {
        file: "in.ndjson".into(),
        first_line: 10,
        lines: Vec::new(),
    }
}

#[test]
fn each_bad_record_is_reported_at_its_line_and_the_rest_decode() {
    let mut batch = Vec::new();
    batch.extend_from_slice(GOOD.as_bytes());
    batch.extend_from_slice(b"\n{\"Type\":\"container\",\"Action\":\n"); // truncated
    batch.extend_from_slice(b"\n"); // blank: not a record, still a line
    batch.extend_from_slice(
        b"{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"\xff\xfe\"}}\n",
    );
    batch.extend_from_slice(b"{\"hello\":\"world\"}\n");
    batch.extend_from_slice(GOOD.as_bytes());
    let mut d = Detector::new();
    let r = d.process(&batch, &origin());
    assert_eq!(r.outcomes.len(), 5, "the blank line is not a record");
    let decoded: Vec<bool> = r.outcomes.iter().map(|o| o.source.is_some()).collect();
    assert_eq!(decoded, vec![true, false, false, false, true]);
    let located: Vec<(u32, &str)> = r
        .diagnostics
        .iter()
        .map(|d| (d.line, d.code.as_str()))
        .collect();
    assert_eq!(
        located,
        vec![
            (11, "decode.syntax"),
            (13, "decode.utf8"),
            (14, "decode.unknown")
        ]
    );
    assert_eq!(r.diagnostics[1].column, 53, "the first invalid byte");
    assert!(r.diagnostics.iter().all(|d| d.file == "in.ndjson"));
}

#[test]
fn records_over_the_size_limit_are_reported_not_decoded() {
    let mut d = Detector::new();
    d.set_options(Options {
        max_record_bytes: 64,
        ..Options::default()
    });
    let r = d.process(GOOD.as_bytes(), &origin());
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].code, "decode.too-large");
    assert_eq!(r.diagnostics[0].line, 10);
}

#[test]
fn deep_nesting_neither_crashes_nor_loses_the_record() {
    // 10,000 levels inside a body the decoder skips, read again by a rule that walks
    // the raw record: both walks are bounded, so the stack holds and the record is
    // accounted for.
    let deep = format!(
        "{{\"auditID\":\"x\",\"verb\":\"get\",\"objectRef\":{{\"resource\":\"pods\"}},\"requestObject\":{{\"a\":{}{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let rule = "title: Deep\nid: deep\nlogsource:\n  product: kubernetes\ndetection:\n  sel:\n    requestObject.a.b: x\n  condition: sel\nlevel: low\n";
    let mut d = Detector::new();
    d.configure(&[crowsnest_transform::api::PackFile {
        path: "deep.yml".into(),
        text: rule.into(),
    }])
    .unwrap();
    let r = d.process(deep.as_bytes(), &origin());
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes.len() as u64, d.stats().records);
    assert!(r.alerts.is_empty());
}
