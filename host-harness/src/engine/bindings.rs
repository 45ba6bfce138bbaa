//! The `bindgen!` types of `wit/crowsnest.wit`: the component's interface as wasmtime
//! sees it. `component.rs` calls through them; `convert.rs` maps them to the engine's
//! `api` types.

wasmtime::component::bindgen!({ path: "../wit", world: "transform" });

/// The WIT types, for `convert.rs`.
pub(crate) use self::crowsnest::detect::types as wit;
