//! Compiled components, cached on disk so only the first run pays for Cranelift.
//!
//! Compiling the component takes on the order of a second; loading the compiled
//! artifact (`.cwasm`) takes well under a millisecond plus an `mmap`. The cache lives in
//! `$CROWSNEST_CACHE_DIR`, else `$XDG_CACHE_HOME/crowsnest`, else `$HOME/.cache/crowsnest`.
//! A file's name is the SHA-256 of the engine's [`precompile_compatibility_hash`] (wasmtime
//! version, compiler settings, target CPU features) followed by the component's bytes,
//! so a new component or a new harness never picks up a stale artifact, and old files
//! are simply never read again.
//!
//! The cache only ever makes things faster: a directory that cannot be created, a file
//! that cannot be read, written or deserialized, all fall back to compiling in memory.
//!
//! [`precompile_compatibility_hash`]: wasmtime::Engine::precompile_compatibility_hash

use std::env;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The compiled form of `wasm` for `engine`, from the cache when possible.
pub(crate) fn load(engine: &Engine, wasm: &[u8]) -> Result<Component> {
    let path = cache_dir().map(|dir| dir.join(format!("{}.cwasm", key(engine, wasm))));
    if let Some(path) = path.as_deref().filter(|p| p.is_file()) {
        // SAFETY: `deserialize_file` trusts the file to be an artifact wasmtime produced
        // for a compatible engine; it checks the header (version, settings) but cannot
        // check the machine code. The file was written by `store` below, atomically (temp
        // file + rename, so never partially), from `precompile_component` output for
        // exactly these component bytes and this engine configuration, which is what its
        // name hashes. The directory is the user's own cache: anyone who can plant a file
        // there can already run code as the user.
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(component) => return Ok(component),
            // Unreadable or from an incompatible build: drop it and compile afresh.
            Err(_) => {
                let _ = fs::remove_file(path);
            }
        }
    }
    let compiled = engine
        .precompile_component(wasm)
        .map_err(anyhow::Error::from)
        .context(
            "compiling the component (is it a WebAssembly component built for wasm32-wasip2?)",
        )?;
    if let Some(path) = &path {
        let _ = store(path, &compiled);
    }
    // SAFETY: `compiled` was produced just now by `precompile_component` on this engine.
    unsafe { Component::deserialize(engine, &compiled) }
        .map_err(anyhow::Error::from)
        .context("loading the compiled component")
}

/// Where compiled components go, if anywhere.
fn cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| {
        env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    non_empty("CROWSNEST_CACHE_DIR")
        .or_else(|| non_empty("XDG_CACHE_HOME").map(|d| d.join("crowsnest")))
        .or_else(|| non_empty("HOME").map(|d| d.join(".cache").join("crowsnest")))
}

/// Hex SHA-256 of the engine's compatibility hash and the component bytes.
fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let mut digest = hasher.0;
    digest.update((wasm.len() as u64).to_le_bytes());
    digest.update(wasm);
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Feeds `Hash` output into SHA-256: `std`'s hashers are not stable across Rust
/// releases, and a cache key must not change between two builds of the same harness.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(
            digest[..8]
                .try_into()
                .expect("SHA-256 digests are 32 bytes"),
        )
    }
}

/// Write `bytes` to `path` so that readers see the old state or the whole new file.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("cwasm"),
        std::process::id()
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_component_bytes_only_through_content() {
        let engine = Engine::default();
        assert_eq!(key(&engine, b"abc"), key(&engine, b"abc"));
        assert_ne!(key(&engine, b"abc"), key(&engine, b"abd"));
        assert_eq!(key(&engine, b"abc").len(), 64);
    }

    #[test]
    fn store_replaces_atomically() {
        let dir = env::temp_dir().join(format!("crowsnest-cache-test-{}", std::process::id()));
        let path = dir.join("x.cwasm");
        store(&path, b"one").unwrap();
        store(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp files left behind"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
