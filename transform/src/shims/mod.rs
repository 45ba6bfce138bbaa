//! The engine behind each host's interface, built only for that host's target: the
//! WASI component's exports (wasm32-wasip2, [`component`]) and Fluent Bit's
//! `filter_wasm` C ABI (wasm32-wasip1, [`fluent_bit`]). The Redpanda Data Transforms
//! module is a binary of its own (`src/bin/redpanda.rs`). A shim converts and carries;
//! every decision is the engine's.

#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
mod component;
// Not in the Redpanda module, which is built from the same crate for the same target.
#[cfg(all(target_arch = "wasm32", target_env = "p1", not(feature = "redpanda")))]
mod fluent_bit;
