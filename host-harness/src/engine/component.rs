//! The wasmtime side of the component: one [`Runtime`] (engine, pre-linked component,
//! epoch ticker) per process, and any number of short-lived [`Instance`]s made from it.
//!
//! The flow is the documented one (wasmtime `runtime/component/mod.rs`): an `Engine`
//! with epoch interruption, a `Component` (from the compile cache), a `Linker` with WASI
//! p2, and a `TransformPre` built once so each new instance costs tens of microseconds.
//! Every call into an instance runs under the store's memory cap and an epoch deadline,
//! and a failed call comes back as a [`Fault`] that says why. What to do about a fault
//! is `sandbox.rs`'s business.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context as _, Result};
use crowsnest_transform::api;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::engine::bindings::{Transform, TransformPre};
use crate::engine::cache;
use crate::engine::convert;
use crate::io::stderr_tail::{self, StderrTail};

/// How often the ticker advances the engine's epoch; the unit of every deadline.
const TICK: Duration = Duration::from_millis(10);

/// Calls that do not touch records (compiling a pack, the first call that builds the
/// engine inside a new instance, snapshots) get at least this long.
const SETUP_DEADLINE_MS: u64 = 10_000;

/// The caps every call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Linear memory per instance, bytes.
    pub(crate) memory_bytes: usize,
    /// Wall time per call for record calls (`process`).
    pub(crate) deadline_ms: u64,
}

impl Limits {
    fn record_ticks(&self) -> u64 {
        ticks(self.deadline_ms)
    }

    fn setup_ticks(&self) -> u64 {
        ticks(self.deadline_ms.max(SETUP_DEADLINE_MS))
    }
}

fn ticks(ms: u64) -> u64 {
    ms.div_ceil(TICK.as_millis() as u64).max(1)
}

/// Why a call into the component failed. The instance is unusable afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) kind: FaultKind,
    /// One line for people: the panic message, or what the runtime said.
    pub(crate) reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// The guest trapped: a panic, `unreachable`, an out-of-bounds access, stack overflow.
    Trap,
    /// The call ran past its epoch deadline.
    Timeout,
    /// The guest tried to grow its memory past the cap.
    Memory,
}

impl FaultKind {
    /// The diagnostic code a record that caused this fault is reported with.
    pub(crate) fn code(self) -> &'static str {
        match self {
            FaultKind::Trap => "sandbox.trap",
            FaultKind::Timeout => "sandbox.timeout",
            FaultKind::Memory => "sandbox.memory",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Engine, pre-linked component and epoch ticker, shared by every instance.
pub(crate) struct Runtime {
    engine: Engine,
    pre: TransformPre<HostState>,
    limits: Limits,
    _ticker: Ticker,
}

impl Runtime {
    /// Compile (or load from the cache) and link `wasm`. Errors here are fatal: the bytes
    /// are not a component, or not one that exports `crowsnest:detect/detector`.
    pub(crate) fn new(wasm: &[u8], limits: Limits) -> Result<Runtime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let component = cache::load(&engine, wasm)?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context(
                "the component's imports cannot be satisfied (it may need more than WASI p2)",
            )?;
        let pre = TransformPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export the crowsnest:detect/detector interface")?;
        let ticker =
            Ticker::start(engine.clone()).context("starting the deadline ticker thread")?;
        Ok(Runtime {
            engine,
            pre,
            limits,
            _ticker: ticker,
        })
    }

    /// A fresh instance with nothing configured: it runs the component's built-in pack.
    pub(crate) fn instantiate(&self) -> Result<Instance> {
        let stderr = StderrTail::new();
        // No files, no sockets, no environment, no arguments: the engine needs none.
        let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limits: Limiter {
                limits,
                memory_peak: 0,
            },
            stderr,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(self.limits.setup_ticks());
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "instantiating the component (memory limit {} MiB)",
                    self.limits.memory_bytes >> 20
                )
            })?;
        Ok(Instance {
            store,
            bindings,
            limits: self.limits,
        })
    }
}

/// What a store holds for the host: WASI state and the limits.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
    stderr: StderrTail,
}

/// The store's caps, noting the largest linear memory granted (`crowsnest bench`
/// reports it: linear memory never shrinks, so it is also the current size).
struct Limiter {
    limits: StoreLimits,
    memory_peak: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let granted = self.limits.memory_growing(current, desired, maximum)?;
        if granted {
            self.memory_peak = self.memory_peak.max(desired);
        }
        Ok(granted)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One component instance with its own store. After a [`Fault`] it must be dropped.
pub(crate) struct Instance {
    store: Store<HostState>,
    bindings: Transform,
    limits: Limits,
}

impl Instance {
    /// The largest linear memory this instance was granted, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.store.data().limits.memory_peak
    }

    pub(crate) fn configure(
        &mut self,
        files: &[api::PackFile],
    ) -> Result<Result<api::PackInfo, Vec<api::Diagnostic>>, Fault> {
        let pack = convert::rule_pack_to_wit(files);
        let ticks = self.limits.setup_ticks();
        let result = self.call(ticks, |guest, store| guest.call_configure(store, &pack))?;
        Ok(result
            .map(convert::pack_info_from_wit)
            .map_err(|errs| errs.into_iter().map(convert::diagnostic_from_wit).collect()))
    }

    pub(crate) fn set_options(&mut self, options: &api::Options) -> Result<(), Fault> {
        let options = convert::options_to_wit(options);
        let ticks = self.limits.setup_ticks();
        self.call(ticks, |guest, store| {
            guest.call_set_options(store, &options)
        })
    }

    pub(crate) fn process(
        &mut self,
        batch: &[u8],
        origin: &api::BatchOrigin,
    ) -> Result<api::BatchResult, Fault> {
        let origin = convert::origin_to_wit(origin);
        let ticks = self.limits.record_ticks();
        let result = self.call(ticks, |guest, store| {
            guest.call_process(store, batch, &origin)
        })?;
        Ok(convert::batch_result_from_wit(result))
    }

    pub(crate) fn finish(&mut self, origin: &api::BatchOrigin) -> Result<api::BatchResult, Fault> {
        let origin = convert::origin_to_wit(origin);
        let ticks = self.limits.record_ticks();
        let result = self.call(ticks, |guest, store| guest.call_finish(store, &origin))?;
        Ok(convert::batch_result_from_wit(result))
    }

    pub(crate) fn snapshot(&mut self) -> Result<Vec<u8>, Fault> {
        let ticks = self.limits.setup_ticks();
        self.call(ticks, |guest, store| guest.call_snapshot(store))
    }

    pub(crate) fn restore(&mut self, blob: &[u8]) -> Result<Result<(), String>, Fault> {
        let ticks = self.limits.setup_ticks();
        self.call(ticks, |guest, store| guest.call_restore(store, blob))
    }

    pub(crate) fn stats(&mut self) -> Result<api::Stats, Fault> {
        let ticks = self.limits.setup_ticks();
        Ok(convert::stats_from_wit(
            self.call(ticks, |guest, store| guest.call_stats(store))?,
        ))
    }

    /// Run one export under the deadline; turn a failure into a [`Fault`].
    fn call<T>(
        &mut self,
        ticks: u64,
        f: impl FnOnce(
            &crate::engine::bindings::exports::crowsnest::detect::detector::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<T>,
    ) -> Result<T, Fault> {
        self.store.data().stderr.take();
        self.store.set_epoch_deadline(ticks);
        let guest = self.bindings.crowsnest_detect_detector();
        f(guest, &mut self.store).map_err(|err| self.fault(&err))
    }

    fn fault(&self, err: &wasmtime::Error) -> Fault {
        let stderr = self.store.data().stderr.take();
        let chain = format!("{err:?}");
        if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            return Fault {
                kind: FaultKind::Timeout,
                reason: format!(
                    "no result within the {} ms deadline",
                    self.limits.deadline_ms
                ),
            };
        }
        if chain.contains("forcing trap when growing memory") {
            return Fault {
                kind: FaultKind::Memory,
                reason: format!(
                    "memory limit of {} MiB reached",
                    self.limits.memory_bytes >> 20
                ),
            };
        }
        let reason = match (
            stderr_tail::panic_message(&stderr),
            err.downcast_ref::<Trap>(),
        ) {
            (Some(panic), _) => panic,
            (None, Some(trap)) => trap.to_string(),
            (None, None) => err.to_string(),
        };
        Fault {
            kind: FaultKind::Trap,
            reason,
        }
    }
}

/// Advances the engine's epoch every [`TICK`] until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Without the ticker no deadline would ever fire, so failing to start it is fatal.
    fn start(engine: Engine) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("crowsnest-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
