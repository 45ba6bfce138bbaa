//! `crowsnest bench`: the project's performance figures, all from one run.
//!
//! Seeded corpora (`corpus.rs`) go through, in the same process and one after another:
//! the component under wasmtime (the sandbox `replay` uses, batches as `replay` makes
//! them), the native engine (the same crate linked in, same batches), typed decoding
//! alone (decode and normalize, no rules), and the tokenizer floor
//! (`serde_json::from_slice::<IgnoredAny>` over each line). Then state memory per live
//! container, start-up times, peak memory, the rsigma command-line tool on the same
//! Kubernetes audit NDJSON with the same Sigma rules, and the Fluent Bit module through
//! `filter_wasm`'s ABI (`fluent_bit.rs`). The targets are ratios of figures measured here.
//!
//! On a terminal: a progress line while it runs, tables at the end. Piped: one JSON
//! object per measurement on stdout; notes on stderr.

pub(crate) mod corpus;
mod fluent_bit;
mod peer;
mod report;

use std::borrow::Cow;
use std::fs;
use std::hint::black_box;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use crowsnest_transform::api::{BatchOrigin, Options, PackFile};
use crowsnest_transform::decode::{self, Context, StreamState};
use crowsnest_transform::{Detector, default_pack};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{BenchArgs, GlobalArgs};
use crate::engine::backend::{Backend, EngineChoice};
use crate::engine::batch_loop::BatchLoop;
use crate::engine::component::{Limits, Runtime};
use crate::engine::session::{Session, component};
use crate::io::pack_dir;

use self::corpus::Corpus;
use self::report::{Report, Row, StatePack, Target};

/// Records per corpus, and live containers for the state rows.
struct Sizes {
    k8s_audit: usize,
    docker: usize,
    cloudtrail: usize,
    auditd: usize,
    vpc_flow: usize,
    falco: usize,
    containers: [usize; 2],
}

const FULL: Sizes = Sizes {
    k8s_audit: 40_000,
    docker: 100_000,
    cloudtrail: 25_000,
    auditd: 60_000,
    vpc_flow: 100_000,
    falco: 20_000,
    containers: [10_000, 100_000],
};

/// Small enough for a debug build in CI, large enough that every row means something.
const QUICK: Sizes = Sizes {
    k8s_audit: 800,
    docker: 2_000,
    cloudtrail: 500,
    auditd: 1_200,
    vpc_flow: 2_000,
    falco: 400,
    containers: [1_000, 10_000],
};

pub(crate) fn run(global: &GlobalArgs, args: &BenchArgs) -> Result<ExitCode> {
    let sizes = if args.quick { &QUICK } else { &FULL };
    let mut report = Report::new(io::stdout().is_terminal());
    let progress = Steps::new(!global.quiet && io::stderr().is_terminal());

    progress.step("generating corpora");
    let seed = args.seed;
    let mut corpora = vec![
        corpus::k8s_audit(seed, sizes.k8s_audit),
        corpus::docker_events(seed, sizes.docker),
        corpus::cloudtrail_ecs(seed, sizes.cloudtrail),
        corpus::auditd(seed, sizes.auditd),
        corpus::vpc_flow(seed, sizes.vpc_flow),
    ];
    match corpus::falco_replicated(&args.falco_dir, sizes.falco) {
        Ok((falco, notes)) => {
            for note in notes {
                progress.note(&format!("falco corpus: {note}"));
            }
            corpora.push(falco);
        }
        Err(why) => progress.note(&format!(
            "skipping the Falco Kubernetes audit corpus: {why} (--falco-dir)"
        )),
    }
    report.push(Row::Info {
        what: "corpora (average record size)",
        text: corpora
            .iter()
            .map(|c| format!("{} {:.0} B", c.name, c.average_bytes()))
            .collect::<Vec<_>>()
            .join(", "),
    });
    if let Some(dir) = &args.corpus_out {
        write_corpora(dir, &corpora)?;
        progress.note(&format!("corpora written to {}", dir.display()));
    }

    let pack = match &global.rules {
        Some(dir) => pack_dir::load(dir)?,
        None => default_pack(),
    };
    // `--native` does not apply to the bench: it runs both engines.
    let choice = || -> Result<EngineChoice> {
        let (wasm, limits) = component(global)?;
        Ok(EngineChoice::Component {
            wasm: match wasm {
                Cow::Owned(bytes) => Some(bytes),
                Cow::Borrowed(_) => None,
            },
            limits,
        })
    };
    let batch = global.batch as usize;

    progress.step("start-up times");
    startup(global, &pack, args.quick, &mut report)?;

    for corpus in &corpora {
        progress.step(&format!("{}: tokenizer floor and decode", corpus.name));
        if corpus.bytes.first() == Some(&b'{') {
            let (elapsed, errors) = floor(corpus);
            report.push(Row::throughput("floor", corpus, elapsed, None, errors));
        }
        let (elapsed, errors) = decode_only(corpus);
        report.push(Row::throughput("decode", corpus, elapsed, None, errors));

        progress.step(&format!("{}: native engine", corpus.name));
        let mut native = open(EngineChoice::Native, &pack, batch)?;
        let run = replay_corpus(&mut native, corpus)?;
        report.push(Row::throughput(
            "native",
            corpus,
            run.elapsed,
            Some(run.alerts),
            run.diagnostics,
        ));

        progress.step(&format!("{}: component", corpus.name));
        let mut component = open(choice()?, &pack, batch)?;
        let run = replay_corpus(&mut component, corpus)?;
        report.push(Row::throughput(
            "component",
            corpus,
            run.elapsed,
            Some(run.alerts),
            run.diagnostics,
        ));
        if let Backend::Component(sandbox) = &component.session.backend {
            report.note_linear_memory(sandbox.memory_bytes());
        }
    }

    // The container table alone (a pack whose one rule never matches), then with the pack's
    // correlation windows, which hold a window per container for every launch a
    // correlation step matched.
    let table_only = vec![PackFile {
        path: "never.yml".to_string(),
        text: NEVER_MATCHING_RULE.to_string(),
    }];
    for containers in sizes.containers {
        progress.step(&format!("state: {containers} live containers"));
        state(
            global,
            &table_only,
            StatePack::TableOnly,
            seed,
            containers,
            &mut report,
        )?;
        state(
            global,
            &pack,
            StatePack::Given,
            seed,
            containers,
            &mut report,
        )?;
    }

    progress.step("peer: rsigma");
    match peer::find_rsigma(args.rsigma.as_deref()) {
        Some(rsigma) => {
            let k8s = &corpora[0];
            match peer::run(&rsigma, &args.sigma_dir, k8s, global, batch) {
                Ok(rows) => rows.into_iter().for_each(|row| report.push(row)),
                Err(err) => progress.note(&format!("skipping the rsigma peer: {err:#}")),
            }
        }
        None => progress.note(
            "skipping the rsigma peer: no `rsigma` on PATH or in ~/.cargo/bin; install it with \
             `cargo install rsigma --version 0.23.0 --locked` (0.23 builds with rustc 1.95) or \
             pass --rsigma PATH",
        ),
    }

    progress.step("Fluent Bit module");
    match &args.fluent_bit_module {
        Some(path) => {
            for corpus in corpora.iter().take(5) {
                report.push(fluent_bit_row(path, corpus)?);
            }
        }
        None => progress.note(
            "skipping the Fluent Bit rows: pass --fluent-bit-module with the wasm32-wasip1 build \
             of transform (cargo build -p crowsnest-transform --release --target wasm32-wasip1 --lib)",
        ),
    }

    report.push(Row::Memory {
        what: "peak resident set (getrusage max RSS)",
        bytes: max_rss_bytes(),
    });
    progress.finish();
    let targets = Target::evaluate(&report);
    report.finish(&targets, args.quick, seed)?;
    Ok(ExitCode::SUCCESS)
}

/// An engine with `pack` installed and `replay`'s options, in batches of
/// `batch_records`.
fn open(choice: EngineChoice, pack: &[PackFile], batch_records: usize) -> Result<BatchLoop> {
    let mut session = Session::with(choice)?;
    if let Err(diagnostics) = session.configure(pack, &Options::default())? {
        bail!(
            "the rule pack does not compile: {}",
            diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(BatchLoop::new(session, batch_records))
}

pub(crate) struct EngineRun {
    pub(crate) elapsed: Duration,
    pub(crate) alerts: u64,
    pub(crate) diagnostics: u64,
}

/// Send the corpus through the batch loop, in `replay`'s batches; the time from the
/// first frame to the end-of-input call.
pub(crate) fn replay_corpus(engine: &mut BatchLoop, corpus: &Corpus) -> Result<EngineRun> {
    let (alerts, diagnostics) = (engine.summary.alerts, engine.summary.diagnostics_total);
    let started = Instant::now();
    engine.input(corpus.name, &corpus.bytes, 0, &mut ())?;
    let elapsed = started.elapsed();
    Ok(EngineRun {
        elapsed,
        alerts: engine.summary.alerts - alerts,
        diagnostics: engine.summary.diagnostics_total - diagnostics,
    })
}

/// The floor: tokenize each line with serde_json and keep nothing.
fn floor(corpus: &Corpus) -> (Duration, u64) {
    let mut errors = 0;
    let started = Instant::now();
    for line in corpus.lines() {
        if serde_json::from_slice::<serde::de::IgnoredAny>(black_box(line)).is_err() {
            errors += 1;
        }
    }
    (started.elapsed(), errors)
}

/// Typed decoding and normalization alone: what every record costs before rules.
fn decode_only(corpus: &Corpus) -> (Duration, u64) {
    let mut state = StreamState::default();
    let ctx = Context {
        file: corpus.name,
        vpc_flow_format: None,
    };
    let mut errors = 0;
    let started = Instant::now();
    for line in corpus.lines() {
        let decoded = std::str::from_utf8(line)
            .ok()
            .map(|text| decode::decode(text, &mut state, &ctx));
        match decoded {
            Some(Ok(record)) => {
                black_box(&record);
            }
            _ => errors += 1,
        }
    }
    black_box(state.flush());
    (started.elapsed(), errors)
}

/// Compile, load, instantiate and configure times for the component; build and
/// configure times for the native engine.
fn startup(global: &GlobalArgs, pack: &[PackFile], quick: bool, report: &mut Report) -> Result<()> {
    let (wasm, limits) = component(global)?;
    report.push(Row::Memory {
        what: "component size",
        bytes: wasm.len() as u64,
    });

    // Compiling takes tens of seconds in a debug build: the full run only.
    if !quick {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config).map_err(anyhow::Error::from)?;
        let started = Instant::now();
        let compiled = wasmtime::component::Component::new(&engine, &wasm)
            .map_err(anyhow::Error::from)
            .context("compiling the component")?;
        report.push(Row::time(
            "component: compile with Cranelift (first run only)",
            started.elapsed(),
        ));
        drop(compiled);
    }

    // The first `Runtime::new` may compile and fill the cache; the second loads from it.
    drop(Runtime::new(&wasm, limits)?);
    let started = Instant::now();
    let runtime = Runtime::new(&wasm, limits)?;
    report.push(Row::time(
        "component: load the cached .cwasm and link",
        started.elapsed(),
    ));

    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        drop(black_box(runtime.instantiate()?));
    }
    report.push(Row::time(
        "component: instantiate",
        started.elapsed() / rounds,
    ));

    let mut instance = runtime.instantiate()?;
    let started = Instant::now();
    instance
        .set_options(&Options::default())
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    report.push(Row::time(
        "component: first call (builds the engine with the built-in pack)",
        started.elapsed(),
    ));
    let started = Instant::now();
    instance
        .configure(pack)
        .map_err(|f| anyhow::anyhow!("{f}"))?
        .map_err(|d| anyhow::anyhow!("the pack does not compile: {d:?}"))?;
    report.push(Row::time(
        "component: configure the pack",
        started.elapsed(),
    ));

    let started = Instant::now();
    let mut detector = black_box(Detector::new());
    report.push(Row::time(
        "native: new engine with the built-in pack",
        started.elapsed(),
    ));
    let started = Instant::now();
    detector
        .configure(pack)
        .map_err(|d| anyhow::anyhow!("the pack does not compile: {d:?}"))?;
    report.push(Row::time("native: configure the pack", started.elapsed()));
    Ok(())
}

/// A rule no record matches: the engine decodes and keeps state, and evaluates nothing
/// that could open a correlation window.
const NEVER_MATCHING_RULE: &str = "title: Never\nid: 00000000-0000-4000-8000-00000000beef\n\
logsource:\n  product: docker\ndetection:\n  sel:\n    action.raw: never-an-action\n  \
condition: sel\nlevel: informational\n";

/// Feed `containers` create/start pairs; read the engine's `state_bytes` natively and in
/// the component, and the component's linear memory growth.
fn state(
    global: &GlobalArgs,
    pack: &[PackFile],
    which: StatePack,
    seed: u64,
    containers: usize,
    report: &mut Report,
) -> Result<()> {
    let corpus = corpus::docker_live_containers(seed, containers);
    let batch = global.batch as usize;

    let mut native = open(EngineChoice::Native, pack, batch)?;
    replay_corpus(&mut native, &corpus)?;
    let stats = native.session.backend.stats()?;
    report.push(Row::State {
        engine: "native",
        pack: which,
        containers,
        tracked: stats.containers_tracked,
        evictions: stats.state_evictions,
        state_bytes: stats.state_bytes,
        linear_growth: None,
    });

    // A bare instance, not the sandbox: the sandbox's periodic snapshots would add their
    // buffers to the linear memory this row is about.
    let (wasm, limits) = component(global)?;
    let limits = Limits {
        memory_bytes: limits.memory_bytes.max(1 << 30),
        deadline_ms: limits.deadline_ms.max(10_000),
    };
    let runtime = Runtime::new(&wasm, limits)?;
    let mut instance = runtime.instantiate()?;
    let fault = |f: crate::engine::component::Fault| anyhow::anyhow!("the component faulted: {f}");
    instance.set_options(&Options::default()).map_err(fault)?;
    instance
        .configure(pack)
        .map_err(fault)?
        .map_err(|d| anyhow::anyhow!("the pack does not compile: {d:?}"))?;
    // One small batch first, so the growth below is the table, not first-call buffers.
    let warm = corpus::docker_live_containers(seed ^ 0xffff, 64);
    instance
        .process(&warm.bytes, &origin("warm-up"))
        .map_err(fault)?;
    let before = instance.memory_bytes();
    let stats_before = instance.stats().map_err(fault)?;
    let lines: Vec<&[u8]> = corpus.lines().collect();
    for chunk in lines.chunks(batch) {
        instance
            .process(&chunk.join(&b'\n'), &origin(corpus.name))
            .map_err(fault)?;
    }
    let stats = instance.stats().map_err(fault)?;
    report.push(Row::State {
        engine: "component",
        pack: which,
        containers,
        tracked: stats.containers_tracked
            - stats_before
                .containers_tracked
                .min(stats.containers_tracked),
        evictions: stats.state_evictions,
        state_bytes: stats.state_bytes - stats_before.state_bytes.min(stats.state_bytes),
        linear_growth: Some((instance.memory_bytes() - before) as u64),
    });
    report.note_linear_memory(instance.memory_bytes());
    Ok(())
}

fn origin(file: &str) -> BatchOrigin {
    BatchOrigin {
        file: file.to_string(),
        first_line: 1,
        lines: Vec::new(),
    }
}

/// Every record of `corpus` through the Fluent Bit module, one call each, as Fluent Bit
/// hands them over: a JSON line as it is, a text line as `tail` without a parser makes
/// it (`{"log":"<line>"}`).
fn fluent_bit_row(path: &Path, corpus: &Corpus) -> Result<Row> {
    let mut module = fluent_bit::FluentBit::load(path)?;
    let records: Vec<Cow<'_, [u8]>> = corpus
        .lines()
        .map(|line| {
            if line.first() == Some(&b'{') {
                Cow::Borrowed(line)
            } else {
                let text = String::from_utf8_lossy(line);
                Cow::Owned(
                    serde_json::to_vec(&serde_json::json!({ "log": text })).unwrap_or_default(),
                )
            }
        })
        .collect();
    // The first call builds the engine and compiles the built-in pack.
    module.call(b"bench", b"{}", 1_715_677_200)?;
    let mut dropped = 0u64;
    let started = Instant::now();
    for record in &records {
        if module.call(b"bench", record, 1_715_677_200)? == 0 {
            dropped += 1;
        }
    }
    let elapsed = started.elapsed();
    if dropped > 0 {
        bail!(
            "the Fluent Bit module dropped {dropped} of {} {} records",
            records.len(),
            corpus.name
        );
    }
    let mut row = Row::throughput("fluent-bit", corpus, elapsed, None, 0);
    if let Row::Throughput { linear_memory, .. } = &mut row {
        *linear_memory = Some(module.memory_bytes() as u64);
    }
    Ok(row)
}

fn write_corpora(dir: &Path, corpora: &[Corpus]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for corpus in corpora {
        let ext = if corpus.bytes.first() == Some(&b'{') {
            "ndjson"
        } else {
            "log"
        };
        let path: PathBuf = dir.join(format!("{}.{ext}", corpus.name));
        fs::write(&path, &corpus.bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The process's peak resident set, in bytes (0 where getrusage is not available).
fn max_rss_bytes() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage writes into the zeroed struct we pass and reads nothing else.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            // Linux reports kilobytes.
            return u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
        }
    }
    0
}

/// The progress line on a terminal; notes always go to stderr.
struct Steps {
    bar: Option<ProgressBar>,
}

impl Steps {
    fn new(show: bool) -> Steps {
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Steps { bar }
    }

    fn step(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(what.to_string()),
            None => eprintln!("crowsnest bench: {what}"),
        }
    }

    fn note(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("crowsnest bench: {what}")),
            None => eprintln!("crowsnest bench: {what}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
