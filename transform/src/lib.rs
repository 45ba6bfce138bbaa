//! crowsnest's detection engine.
//!
//! ```text
//! raw lines (NDJSON bytes)
//!   -> decode      detect the format per record; typed, borrowed serde structs (decode/)
//!   -> normalize   what several formats say alike, spelled one way (normalize/), into the
//!                  one Event model (model/)
//!   -> enrich      image reference parts, container state joins (enrich/)
//!   -> evaluate    Sigma rules through rsigma over the typed event (rules/)
//!   -> emit        OCSF Detection Finding 2004 or ECS alerts, enrichment JSON (emit/)
//! ```
//!
//! The same crate builds natively (tests, the harness's `--native` mode), as a
//! wasm32-wasip2 component exporting `wit/crowsnest.wit`, and later as a Fluent Bit
//! core module. Everything below the export is plain Rust with no host dependencies.

pub mod api;
pub mod decode;
mod detector;
mod emit;
mod enrich;
mod fnv;
pub mod framing;
// Entry points for the fuzz targets (fuzz/) and tests/fuzz_regressions.rs; not the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod model;
mod normalize;
mod pack;
mod rules;
mod shims;
mod suggest;
pub mod time;

pub use detector::{Detector, explain};
pub use emit::{attack, inline};
pub use model::image_ref;
pub use pack::default_pack;
// The pack directory a host watches (`crowsnest --rules`, the Fluent Bit module).
pub use pack::dir as pack_dir;
pub use rules::explain;
pub use rules::{check_pack, field_reference};
