//! Real heap per live container in the engine's state, against what `state_bytes` says.
//!
//! A counting allocator wraps the system one; the engine (`Detector::new()`, the default
//! pack) is fed N container lifecycles as NDJSON, natively, and the live heap it keeps
//! after the last batch is divided by the containers it tracks:
//!
//! - `docker`: `docker inspect` output (privileged, a capability, four host mounts,
//!   entrypoint and command, one of 20 images) and a `start` event per container;
//! - `k8s`: a Kubernetes audit `create` of a pod with a spec (hostPath volume, command,
//!   arguments), one per pod.
//!
//! Each runs twice: with a pack whose one rule never matches (the heap kept is the
//! container table's) and with the default pack (its correlation windows included).
//!
//! "requested" counts the bytes asked of the allocator; "with malloc overhead" rounds
//! each allocation as glibc does (8-byte header, 16-byte granule, 32 bytes at least).
//! Run with `cargo run --release -p crowsnest-transform --example state_memory [docker|k8s] [N...]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, PackFile};

/// A pack whose one rule never matches: no correlation windows, so the heap the engine
/// keeps is the container table's.
const TABLE_ONLY: &str = "title: Never matches
id: 00000000-0000-4000-8000-000000000002
status: test
level: low
logsource:
  category: container
detection:
  sel:
    action.raw: never-an-action
  condition: sel
";

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static LIVE_CHUNKS: AtomicIsize = AtomicIsize::new(0);

fn chunk(size: usize) -> isize {
    (size + 8).div_ceil(16).max(2) as isize * 16
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        LIVE_CHUNKS.fetch_add(chunk(layout.size()), Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        LIVE_CHUNKS.fetch_sub(chunk(layout.size()), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        LIVE_CHUNKS.fetch_add(chunk(new_size) - chunk(layout.size()), Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const INSPECT: &str = include_str!("../../samples/docker/inspect.json");
const PODS: &str = include_str!("../../samples/k8s-audit/risky.ndjson");

/// `docker inspect` of container `n` and its `start` event, one line each.
fn docker_lifecycle(template: &serde_json::Value, n: usize, out: &mut Vec<u8>) {
    let id = format!("{:016x}{:048x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15), n);
    let name = format!("node-agent-{n}");
    let image = format!(
        "registry.example.com:5000/ops/service-{}:2.{}",
        n % 20,
        n % 3
    );
    let mut v = template.clone();
    v["Id"] = id.clone().into();
    v["Name"] = format!("/{name}").into();
    v["Config"]["Hostname"] = id[..12].into();
    v["Config"]["Image"] = image.clone().into();
    serde_json::to_writer(&mut *out, &v).unwrap();
    out.push(b'\n');
    let t = 1_715_677_918 + n as i64;
    let start = serde_json::json!({
        "status": "start", "id": id, "from": image, "Type": "container", "Action": "start",
        "Actor": {"ID": id, "Attributes": {"image": image, "name": name}},
        "scope": "local", "time": t, "timeNano": t * 1_000_000_000,
    });
    serde_json::to_writer(&mut *out, &start).unwrap();
    out.push(b'\n');
}

fn k8s_lifecycle(template: &str, n: usize, out: &mut Vec<u8>) {
    let line = template
        .replace(
            "runner-x7k2p-project-42-concurrent-0",
            &format!("runner-{n:06}-project-42"),
        )
        .replace("6a9d2c41-0b7e-4f35-8c12-e4d7a9b3f562", &format!("{n:036}"));
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
}

fn measure(kind: &str, n: usize, table_only: bool) {
    let inspect: serde_json::Value = serde_json::from_str(INSPECT).unwrap();
    let mut template = inspect[0].clone();
    // Four host mounts.
    let binds = template["HostConfig"]["Binds"].as_array_mut().unwrap();
    binds.push("/var/log:/host/var/log:ro".into());
    binds.push("/proc:/host/proc:ro".into());
    let pod = PODS
        .lines()
        .find(|l| l.contains("runner-x7k2p-project-42-concurrent-0") && l.contains("\"create\""))
        .expect("the pod create sample");
    let origin = BatchOrigin {
        file: kind.into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let mut d = Detector::new();
    if table_only {
        d.configure(&[PackFile {
            path: "rules/never.yml".into(),
            text: TABLE_ONLY.into(),
        }])
        .expect("the pack compiles");
    }
    // Warm up: the pack's lazy structures.
    d.process(b"{}\n", &origin);
    let (base, base_chunks) = (LIVE.load(Relaxed), LIVE_CHUNKS.load(Relaxed));
    let mut peak = 0isize;
    let mut batch = Vec::new();
    let mut alerts = 0;
    for start in (0..n).step_by(1_000) {
        batch.clear();
        for i in start..(start + 1_000).min(n) {
            match kind {
                "docker" => docker_lifecycle(&template, i, &mut batch),
                _ => k8s_lifecycle(pod, i, &mut batch),
            }
        }
        let r = d.process(&batch, &origin);
        alerts += r.alerts.len();
        if let Some(bad) = r.outcomes.iter().find(|o| o.source.is_none()) {
            panic!("a record did not decode: {bad:?}");
        }
        drop(r);
        peak = peak.max(LIVE.load(Relaxed) - base);
    }
    drop(batch);
    let live = LIVE.load(Relaxed) - base;
    let chunks = LIVE_CHUNKS.load(Relaxed) - base_chunks;
    let s = d.stats();
    let tracked = s.containers_tracked.max(1) as f64;
    println!(
        "{kind:>6} {:<13} N={n:>7}: tracked {:>7}, evicted {:>6}, alerts {alerts:>6}; live heap {:>6.0} B/container requested, {:>6.0} with malloc overhead; state_bytes {:>6.0} B/container ({:.1} MiB); peak {:.1} MiB",
        if table_only {
            "table only"
        } else {
            "default pack"
        },
        s.containers_tracked,
        s.state_evictions,
        live as f64 / tracked,
        chunks as f64 / tracked,
        s.state_bytes as f64 / tracked,
        s.state_bytes as f64 / (1 << 20) as f64,
        peak as f64 / (1 << 20) as f64,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kinds: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| matches!(*a, "docker" | "k8s"))
        .collect();
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let kinds = if kinds.is_empty() {
        vec!["docker", "k8s"]
    } else {
        kinds
    };
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for kind in kinds {
        for &n in &sizes {
            measure(kind, n, true);
            measure(kind, n, false);
        }
    }
}
