//! The Fluent Bit module (the `wasm32-wasip1` core-module build of the engine) driven the
//! way Fluent Bit's `filter_wasm` drives it (`src/wasm/flb_wasm.c`, JSON event format):
//! tag and record copied into the module's memory with its own `malloc`, each followed
//! by a NUL; the filter function called with their addresses, lengths and the record
//! time; the result read as a NUL-terminated string; both copies freed.
//!
//! One instance for the whole run, as Fluent Bit keeps one per filter.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use wasmtime::{Engine, Linker, Memory, Module, Store, TypedFunc};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

/// `Function_Name` in the Fluent Bit configuration of `examples/`.
const FUNCTION: &str = "crowsnest_filter";

pub(crate) struct FluentBit {
    store: Store<WasiP1Ctx>,
    memory: Memory,
    malloc: TypedFunc<u32, u32>,
    free: TypedFunc<u32, ()>,
    filter: TypedFunc<(u32, u32, u32, u32, u32, u32), u32>,
}

impl FluentBit {
    /// Compile and instantiate the module at `path` with WASI preview 1 and nothing
    /// preopened (so it runs its built-in pack).
    pub(crate) fn load(path: &Path) -> Result<FluentBit> {
        let engine = Engine::default();
        let module = Module::from_file(&engine, path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading the Fluent Bit module {}", path.display()))?;
        let mut store = Store::new(&engine, WasiCtxBuilder::new().build_p1());
        let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)
            .map_err(anyhow::Error::from)?;
        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(anyhow::Error::from)
            .context("instantiating the Fluent Bit module with WASI preview 1")?;
        // WAMR runs a reactor's `_initialize` first, when there is one.
        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
            init.call(&mut store, ())
                .map_err(anyhow::Error::from)
                .context("_initialize")?;
        }
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("the module does not export its memory"))?;
        let malloc = instance
            .get_typed_func(&mut store, "malloc")
            .map_err(anyhow::Error::from)
            .context("the module exports malloc(size) -> ptr")?;
        let free = instance
            .get_typed_func(&mut store, "free")
            .map_err(anyhow::Error::from)
            .context("the module exports free(ptr)")?;
        let filter = instance
            .get_typed_func(&mut store, FUNCTION)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("the module exports {FUNCTION} with Fluent Bit's signature")
            })?;
        Ok(FluentBit {
            store,
            memory,
            malloc,
            free,
            filter,
        })
    }

    /// One record through the filter; the length of what came back (0: dropped).
    pub(crate) fn call(&mut self, tag: &[u8], record: &[u8], time_sec: u32) -> Result<usize> {
        let tag_ptr = self.dup_data(tag)?;
        let record_ptr = self.dup_data(record)?;
        let out = self
            .filter
            .call(
                &mut self.store,
                (
                    tag_ptr,
                    len32(tag)?,
                    time_sec,
                    0,
                    record_ptr,
                    len32(record)?,
                ),
            )
            .map_err(anyhow::Error::from)
            .context("the filter function trapped")?;
        let len = self.c_string_len(out)?;
        self.free
            .call(&mut self.store, tag_ptr)
            .map_err(anyhow::Error::from)?;
        self.free
            .call(&mut self.store, record_ptr)
            .map_err(anyhow::Error::from)?;
        Ok(len)
    }

    /// The module's linear memory, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// `wasm_runtime_module_dup_data(data, len + 1)`: the bytes and their NUL.
    fn dup_data(&mut self, bytes: &[u8]) -> Result<u32> {
        let ptr = self
            .malloc
            .call(&mut self.store, len32(bytes)? + 1)
            .map_err(anyhow::Error::from)?;
        if ptr == 0 {
            bail!("malloc({}) failed in the module", bytes.len() + 1);
        }
        let at = ptr as usize;
        self.memory
            .write(&mut self.store, at, bytes)
            .and_then(|()| self.memory.write(&mut self.store, at + bytes.len(), &[0]))
            .map_err(|e| anyhow!("malloc returned memory out of bounds: {e}"))?;
        Ok(ptr)
    }

    /// The length of the NUL-terminated string at `ptr`, as `flb_strdup` reads it.
    fn c_string_len(&self, ptr: u32) -> Result<usize> {
        if ptr == 0 {
            return Ok(0);
        }
        let data = self
            .memory
            .data(&self.store)
            .get(ptr as usize..)
            .ok_or_else(|| anyhow!("the filter returned a pointer out of bounds"))?;
        data.iter()
            .position(|&b| b == 0)
            .ok_or_else(|| anyhow!("the filter's result is not NUL-terminated"))
    }
}

fn len32(bytes: &[u8]) -> Result<u32> {
    u32::try_from(bytes.len()).map_err(|_| anyhow!("a record over 4 GiB"))
}
