//! The Fluent Bit module, loaded in wasmtime and called exactly the way Fluent Bit's
//! `filter_wasm` calls it (`src/wasm/flb_wasm.c`, JSON event format): the tag and the
//! record are copied into the module's memory with the module's own `malloc`, each
//! followed by a NUL; the filter function gets their addresses, lengths and the record
//! time; the result is read as a NUL-terminated string; both copies are freed.
//!
//! Every sample record must raise the alerts `crowsnest replay` raises for it, a 200 KB
//! record must come back whole, and a rule pack dropped next to the module must be
//! picked up (and a broken one reported once). The per-record cost under wasmtime is
//! printed (`cargo test --test fluent_bit_abi -- --nocapture`).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{TempDir, arg, docker_events, replay_inputs, run, samples, with_label_value};
use serde_json::Value;
use wasmtime::{Engine, Linker, Memory, Module, Store, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// `Function_Name` in the Fluent Bit configuration.
const FUNCTION: &str = "crowsnest_filter";

/// The module compiled once for every test in this binary.
fn compiled() -> &'static (Engine, Module) {
    static COMPILED: OnceLock<(Engine, Module)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let module = Module::from_file(&engine, common::fluent_bit_module())
            .expect("the Fluent Bit module is a valid core module");
        (engine, module)
    })
}

/// One module instance, as Fluent Bit keeps one for its whole run.
struct FluentBit {
    store: Store<WasiP1Ctx>,
    memory: Memory,
    malloc: TypedFunc<u32, u32>,
    free: TypedFunc<u32, ()>,
    filter: TypedFunc<(u32, u32, u32, u32, u32, u32), u32>,
}

impl FluentBit {
    /// An instance whose working directory (`Accessible_Paths .`) is `dir`, if any.
    fn new(dir: Option<&Path>) -> FluentBit {
        let (engine, module) = compiled();
        let mut wasi = WasiCtxBuilder::new();
        wasi.inherit_stderr();
        if let Some(dir) = dir {
            wasi.preopened_dir(dir, ".", FsPerms::ReadOnly)
                .expect("preopening the working directory");
        }
        let mut store = Store::new(engine, wasi.build_p1());
        let mut linker: Linker<WasiP1Ctx> = Linker::new(engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).expect("linking WASI p1");
        let instance = linker
            .instantiate(&mut store, module)
            .expect("the module instantiates with WASI preview 1 alone");
        // WAMR runs a reactor's `_initialize` before anything else, when there is one.
        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
            init.call(&mut store, ()).expect("_initialize");
        }
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("the module exports its memory");
        let malloc = instance
            .get_typed_func(&mut store, "malloc")
            .expect("the module exports malloc(size) -> ptr");
        let free = instance
            .get_typed_func(&mut store, "free")
            .expect("the module exports free(ptr)");
        let filter = instance
            .get_typed_func(&mut store, FUNCTION)
            .expect("the filter takes Fluent Bit's six i32 arguments and returns a pointer");
        FluentBit {
            store,
            memory,
            malloc,
            free,
            filter,
        }
    }

    /// One record through the filter, as `flb_wasm_call_function_format_json` does it.
    /// `None` when the module returned NULL or an empty string (Fluent Bit drops it).
    fn call(&mut self, tag: &str, record: &[u8]) -> Option<String> {
        let tag_ptr = self.dup_data(tag.as_bytes());
        let record_ptr = self.dup_data(record);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let out = self
            .filter
            .call(
                &mut self.store,
                (
                    tag_ptr,
                    len32(tag.as_bytes()),
                    now.as_secs() as u32,
                    now.subsec_nanos(),
                    record_ptr,
                    len32(record),
                ),
            )
            .expect("the filter function does not trap");
        let result = self.c_string(out);
        self.free.call(&mut self.store, tag_ptr).expect("free(tag)");
        self.free
            .call(&mut self.store, record_ptr)
            .expect("free(record)");
        result
    }

    /// `wasm_runtime_module_dup_data(data, len + 1)`: the bytes and their NUL.
    fn dup_data(&mut self, bytes: &[u8]) -> u32 {
        let ptr = self
            .malloc
            .call(&mut self.store, len32(bytes) + 1)
            .expect("malloc does not trap");
        assert_ne!(ptr, 0, "malloc({}) failed", bytes.len() + 1);
        let at = ptr as usize;
        self.memory
            .write(&mut self.store, at, bytes)
            .expect("malloc'd memory is in bounds");
        self.memory
            .write(&mut self.store, at + bytes.len(), &[0])
            .expect("malloc'd memory is in bounds");
        ptr
    }

    /// The module's linear memory, in MiB.
    fn memory_mib(&self) -> f64 {
        self.memory.data_size(&self.store) as f64 / f64::from(1 << 20)
    }

    /// The NUL-terminated string at `ptr`, as `flb_strdup` copies it.
    fn c_string(&self, ptr: u32) -> Option<String> {
        if ptr == 0 {
            return None;
        }
        let data = &self.memory.data(&self.store)[ptr as usize..];
        let len = data
            .iter()
            .position(|&b| b == 0)
            .expect("the result is NUL-terminated inside memory");
        let text = String::from_utf8(data[..len].to_vec()).expect("the result is UTF-8");
        (!text.is_empty()).then_some(text)
    }
}

fn len32(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).expect("records are under 4 GiB")
}

/// The record body Fluent Bit would hand over for one line of a log file: the line
/// itself when it is a JSON object (a `json` parser on the input), else `tail`'s record
/// without a parser, `{"log":"<line>"}`.
fn fluent_bit_record(line: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(line);
    if text.trim_start().starts_with('{') {
        line.to_vec()
    } else {
        serde_json::to_vec(&serde_json::json!({ "log": text })).unwrap()
    }
}

/// Rule ids of the alerts in a filtered record's `crowsnest.alerts` (OCSF documents).
fn alert_rules(record: &Value) -> Vec<String> {
    record["crowsnest"]["alerts"]
        .as_array()
        .map(|alerts| {
            alerts
                .iter()
                .map(|a| {
                    a["finding_info"]["analytic"]["uid"]
                        .as_str()
                        .expect("an OCSF alert names its rule")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

type AlertsByRecord = BTreeMap<(String, u64), Vec<String>>;

fn insert(map: &mut AlertsByRecord, file: String, line: u64, rule: String) {
    let rules = map.entry((file, line)).or_default();
    rules.push(rule);
    rules.sort();
}

#[test]
fn every_sample_raises_the_alerts_replay_raises() {
    let samples = samples();
    let replay = run(&["replay", "--format", "jsonl", "--quiet", arg(&samples)]);
    replay.expect_code(0);
    let mut expected = AlertsByRecord::new();
    // Alerts replay raises at the end of an input (`finish`: an event the input never
    // completed) have no counterpart in Fluent Bit, whose stream does not end.
    let at_end = u64::from(u32::MAX);
    for alert in replay
        .ndjson()
        .into_iter()
        .filter(|a| a["record_index"].as_u64() != Some(at_end))
    {
        insert(
            &mut expected,
            alert["file"].as_str().unwrap().to_string(),
            alert["line"].as_u64().unwrap(),
            alert["rule_id"].as_str().unwrap().to_string(),
        );
    }
    assert!(
        !expected.is_empty(),
        "the samples raise alerts under replay"
    );

    let mut fluent_bit = FluentBit::new(None);
    let mut got = AlertsByRecord::new();
    let (mut records, mut bytes, mut busy) = (0u32, 0usize, Duration::ZERO);
    for input in replay_inputs(&samples) {
        let name = input.file;
        for (line, text) in &input.records {
            let record = fluent_bit_record(text);
            let started = Instant::now();
            let out = fluent_bit.call("samples", &record);
            busy += started.elapsed();
            records += 1;
            bytes += record.len();
            let out = out.unwrap_or_else(|| panic!("{name}:{line}: the record was dropped"));
            let value: Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{name}:{line}: not JSON ({e}): {out}"));
            assert!(value.is_object(), "{name}:{line}: {out}");
            for rule in alert_rules(&value) {
                insert(&mut got, name.clone(), u64::from(*line), rule);
            }
        }
    }
    assert_eq!(
        got, expected,
        "alerts per record (file, line): Fluent Bit module (left) vs replay (right)"
    );
    println!(
        "fluent bit module under wasmtime: {records} sample records ({:.0} B average), {:.1} µs per record",
        bytes as f64 / f64::from(records),
        busy.as_secs_f64() * 1e6 / f64::from(records)
    );
}

#[test]
fn per_record_cost_in_a_steady_stream() {
    let mut fluent_bit = FluentBit::new(None);
    let at_start = fluent_bit.memory_mib();
    // Warm up: the first call builds the engine and compiles the built-in pack.
    let started = Instant::now();
    fluent_bit.call("docker", b"{}");
    let first = started.elapsed();
    let with_engine = fluent_bit.memory_mib();
    let events = docker_events(400);
    let plain = r#"{"log":"GET /healthz HTTP/1.1 200\n","stream":"stdout","time":"2024-05-14T09:12:03.398127436Z"}"#;
    for (label, records) in [
        ("docker events (1 in 5 alerts)", events.clone()),
        (
            "unrecognized application lines",
            vec![plain.to_string(); 2000],
        ),
    ] {
        let started = Instant::now();
        for record in &records {
            assert!(fluent_bit.call("docker", record.as_bytes()).is_some());
        }
        let per = started.elapsed().as_secs_f64() * 1e6 / records.len() as f64;
        println!("fluent bit module under wasmtime: {label}: {per:.1} µs per record");
    }
    println!(
        "fluent bit module under wasmtime: first call (engine and built-in pack): {:.0} ms",
        first.as_secs_f64() * 1e3
    );
    println!(
        "fluent bit module memory: {at_start:.1} MiB at start, {with_engine:.1} MiB with the \
         engine, {:.1} MiB after 400 containers",
        fluent_bit.memory_mib()
    );
}

#[test]
fn records_come_back_whole_with_the_crowsnest_member() {
    let mut fluent_bit = FluentBit::new(None);
    let events = docker_events(1);
    // create, start, exec_create: the exec alerts.
    for record in &events[..2] {
        let out = fluent_bit.call("docker.events", record.as_bytes()).unwrap();
        let head = record.strip_suffix('}').unwrap();
        assert!(
            out.starts_with(head),
            "the record's own text comes first: {out}"
        );
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["crowsnest"]["source"], "docker_event", "{out}");
        assert!(value["crowsnest"]["event"].is_object(), "{out}");
        assert!(value["crowsnest"].get("alerts").is_none(), "{out}");
    }
    let exec = fluent_bit
        .call("docker.events", events[2].as_bytes())
        .unwrap();
    let value: Value = serde_json::from_str(&exec).unwrap();
    assert_eq!(
        alert_rules(&value),
        ["31dcb66c-8ce3-4950-8192-985c2b21ff49"],
        "{exec}"
    );
    assert_eq!(value["crowsnest"]["alerts"][0]["class_uid"], 2004);

    // What `tail` makes of a container's stdout with no parser: the event inside `log`.
    let wrapped = serde_json::json!({
        "log": format!("{}\n", events[3]),
        "stream": "stdout",
        "time": "2024-05-14T09:12:03.398127436Z",
    })
    .to_string();
    let out = fluent_bit.call("kube.var.log", wrapped.as_bytes()).unwrap();
    let value: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["stream"], "stdout", "{out}");
    assert_eq!(value["log"], format!("{}\n", events[3]));
    assert_eq!(value["crowsnest"]["source"], "docker_event", "{out}");

    // An application's own line is none of crowsnest's business: byte for byte.
    let plain = r#"{"log":"listening on :8080\n","stream":"stderr"}"#;
    assert_eq!(
        fluent_bit.call("kube.var.log", plain.as_bytes()).as_deref(),
        Some(plain)
    );
}

#[test]
fn a_200_kb_record_comes_back_whole() {
    let mut fluent_bit = FluentBit::new(None);
    let note = "x".repeat(200 * 1024);
    let events = docker_events(1);
    let record = with_label_value(&events[2], &note);
    assert!(record.len() > 200 * 1024);
    let out = fluent_bit
        .call("docker.events", record.as_bytes())
        .expect("a 200 KB record is not dropped");
    assert!(out.starts_with(record.strip_suffix('}').unwrap()));
    let value: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["Actor"]["Attributes"]["com.example.note"], note);
    assert_eq!(
        alert_rules(&value),
        ["31dcb66c-8ce3-4950-8192-985c2b21ff49"],
        "the exec in the large record alerts"
    );
    // The buffers are reused: a small record after it is answered normally.
    let out = fluent_bit
        .call("docker.events", events[3].as_bytes())
        .unwrap();
    assert!(out.len() < 16 * 1024, "{} bytes", out.len());
}

/// A rule that fires on every container start, under its own id.
const START_RULE: &str = "title: Container started
id: 5a3c0e0e-1111-4c1e-9a8b-000000000001
logsource:
  category: container
detection:
  start:
    action: container-start
  condition: start
level: low
";

#[test]
fn a_pack_directory_is_picked_up_and_a_broken_one_reported_once() {
    let dir = TempDir::new("fluent-bit-pack");
    let mut fluent_bit = FluentBit::new(Some(dir.path()));
    let events = docker_events(4);
    let start = |c: usize| events[c * 5 + 1].as_bytes();
    let rules_of = |fluent_bit: &mut FluentBit, record: &[u8]| {
        let out = fluent_bit.call("docker", record).unwrap();
        let value: Value = serde_json::from_str(&out).unwrap();
        (alert_rules(&value), value)
    };

    // No pack directory: the built-in pack, which has no rule on a plain start.
    assert!(rules_of(&mut fluent_bit, start(0)).0.is_empty());

    // A pack appears; it is looked at again at most once a second.
    dir.write("crowsnest-pack/start.yml", START_RULE);
    thread::sleep(Duration::from_millis(1100));
    let (rules, _) = rules_of(&mut fluent_bit, start(1));
    assert_eq!(rules, ["5a3c0e0e-1111-4c1e-9a8b-000000000001"]);

    // A broken edit: the next record says so, once, and the running pack stays.
    dir.write(
        "crowsnest-pack/broken.yml",
        "title: Broken\nlogsource:\n  category: container\ndetection:\n  sel: [unclosed\n  condition: sel\n",
    );
    thread::sleep(Duration::from_millis(1100));
    let (rules, value) = rules_of(&mut fluent_bit, start(2));
    assert_eq!(rules, ["5a3c0e0e-1111-4c1e-9a8b-000000000001"]);
    let diagnostics = value["crowsnest"]["diagnostics"]
        .as_array()
        .expect("the rejected pack is reported in the record");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["file"], "crowsnest-pack/broken.yml");
    assert!(
        diagnostics[0]["line"].as_u64().unwrap() >= 5,
        "{diagnostics:?}"
    );
    assert!(
        rules_of(&mut fluent_bit, start(3)).1["crowsnest"]
            .get("diagnostics")
            .is_none(),
        "reported once"
    );

    // Removing the directory goes back to the built-in pack.
    fs::remove_dir_all(dir.path().join("crowsnest-pack")).unwrap();
    thread::sleep(Duration::from_millis(1100));
    assert!(rules_of(&mut fluent_bit, start(0)).0.is_empty());
}
