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

pub mod analytics_doc;
pub mod api;
pub mod decode;
mod detector;
mod emit;
mod enrich;
pub mod explain;
pub mod framing;
// Entry points for the fuzz targets (fuzz/) and tests/fuzz_regressions.rs; not the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod inline;
pub mod model;
mod normalize;
mod pack;
pub mod pack_dir;
mod policy;
mod rules;
pub mod time;

#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
mod component;
// Not in the Redpanda module, which is built from the same crate for the same target.
#[cfg(all(target_arch = "wasm32", target_env = "p1", not(feature = "redpanda")))]
mod fluent_bit;

pub use detector::Detector;
pub use emit::attack;
pub use explain::explain;
pub use model::image_ref;
pub use pack::{check_pack, default_pack};
pub use rules::field_reference;
