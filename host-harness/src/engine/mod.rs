//! The engine as the commands see it: a [`session::Session`] (the sandboxed component
//! or the native engine behind one [`backend::Backend`], its pack, options and state)
//! and the one [`batch_loop::BatchLoop`] that frames, batches and accounts records.
//!
//! Below them: the sandbox that survives traps, timeouts and memory blow-ups
//! (`sandbox`), the wasmtime runtime and instances (`component`) with their compile cache
//! (`cache`), the WIT bindings (`bindings`) and their conversion to the engine's `api`
//! types (`convert`), and `--watch`'s reloading of the pack directory (`watch`).

pub(crate) mod backend;
pub(crate) mod batch_loop;
mod bindings;
mod cache;
pub(crate) mod component;
mod convert;
mod sandbox;
pub(crate) mod session;
mod watch;
