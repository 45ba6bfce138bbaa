//! `crowsnest bench --quick`: it runs, and prints every measurement as one JSON object
//! per line when piped, with the five targets computed from them.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{crowsnest, fluent_bit_module, run_command, workspace};
use serde_json::Value;

const GENERATED: [&str; 5] = [
    "k8s_audit",
    "docker_event",
    "cloudtrail",
    "auditd",
    "vpc_flow",
];

#[test]
fn quick_bench_prints_every_row() {
    let mut cmd = crowsnest();
    // The default --sigma-dir and --falco-dir are relative to the repository root.
    cmd.current_dir(workspace()).args([
        "bench",
        "--quick",
        "--fluent-bit-module",
        fluent_bit_module().to_str().expect("a UTF-8 path"),
    ]);
    let run = run_command(cmd, None, Duration::from_secs(600));
    run.expect_code(0);
    let rows = run.ndjson();
    let of = |kind: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| r["measurement"] == kind)
            .collect::<Vec<_>>()
    };

    for corpus in GENERATED {
        for kind in ["decode", "native", "component", "fluent-bit"] {
            let row = of(kind)
                .into_iter()
                .find(|r| r["corpus"] == corpus)
                .unwrap_or_else(|| panic!("no {kind} row for {corpus}:\n{}", run.stdout));
            assert!(row["records"].as_u64().unwrap() > 0, "{row}");
            assert!(row["records_per_s"].as_f64().unwrap() > 0.0, "{row}");
            assert!(row["mb_per_s"].as_f64().unwrap() > 0.0, "{row}");
            assert!(row["us_per_record"].as_f64().unwrap() > 0.0, "{row}");
            // The generated records all decode: no diagnostics, in any engine.
            assert_eq!(row["errors"], 0, "{row}");
        }
    }
    let floors: BTreeSet<&str> = of("floor")
        .iter()
        .filter_map(|r| r["corpus"].as_str())
        .collect();
    for corpus in ["k8s_audit", "docker_event", "cloudtrail"] {
        assert!(floors.contains(corpus), "no floor row for {corpus}");
    }
    // A few per cent of the Kubernetes audit records are risky: rules fire.
    let alerts = |kind: &str| {
        of(kind)
            .into_iter()
            .find(|r| r["corpus"] == "k8s_audit")
            .and_then(|r| r["alerts"].as_u64())
            .unwrap()
    };
    assert!(alerts("native") > 0);
    assert_eq!(
        alerts("native"),
        alerts("component"),
        "same alerts natively and in the component"
    );

    if run.stderr.contains("skipping the Falco") {
        println!("skipped the Falco corpus rows: ../shared/data/falco-k8s-audit is absent");
    } else {
        assert!(
            of("component")
                .iter()
                .any(|r| r["corpus"] == "falco_k8s_audit")
        );
    }
    if run.stderr.contains("skipping the rsigma peer") {
        assert!(
            run.stderr.contains("cargo install rsigma"),
            "{}",
            run.stderr
        );
        println!("skipped the rsigma rows: no rsigma binary");
    } else {
        for kind in ["rsigma", "component+sigma", "native+sigma"] {
            assert_eq!(of(kind).len(), 1, "no {kind} row");
        }
    }

    let state = of("state");
    assert_eq!(
        state.len(),
        8,
        "native and component, table only and with the pack, at two sizes: {state:?}"
    );
    for pack in ["table only", "pack"] {
        assert_eq!(
            state.iter().filter(|r| r["pack"] == pack).count(),
            4,
            "{pack}: {state:?}"
        );
    }
    for row in &state {
        assert!(row["tracked"].as_u64().unwrap() > 0, "{row}");
        assert!(row["state_bytes"].as_u64().unwrap() > 0, "{row}");
    }
    assert!(
        state
            .iter()
            .any(|r| r["engine"] == "component"
                && r["linear_memory_growth_bytes"].as_u64().is_some())
    );

    let times: Vec<&str> = of("time")
        .iter()
        .filter_map(|r| r["what"].as_str())
        .collect();
    // Compiling is measured in the full run only (tens of seconds in a debug build).
    for what in ["load", "instantiate", "configure"] {
        assert!(
            times.iter().any(|t| t.contains(what)),
            "no {what} time in {times:?}"
        );
    }
    let memory: Vec<&str> = of("memory")
        .iter()
        .filter_map(|r| r["what"].as_str())
        .collect();
    assert!(memory.iter().any(|m| m.contains("max RSS")), "{memory:?}");
    assert!(
        memory.iter().any(|m| m.contains("linear memory peak")),
        "{memory:?}"
    );

    let targets = of("target");
    assert_eq!(targets.len(), 5, "{targets:?}");
    for target in targets {
        let name = target["target"].as_str().unwrap();
        if name.contains("rsigma") && run.stderr.contains("skipping the rsigma peer") {
            assert!(target["met"].is_null(), "{target}");
        } else {
            assert!(target["met"].is_boolean(), "measured: {target}");
        }
    }
}
