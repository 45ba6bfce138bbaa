//! What the harness reads and writes around the engine: inputs (`input`), rule pack
//! directories (`pack_dir`), alerts (`output`), the end-of-run account (`summary`), the
//! progress bar (`progress`), the `--state` file (`state_file`) and the component's
//! captured stderr (`stderr_tail`). Nothing here calls the engine.

pub(crate) mod input;
pub(crate) mod output;
pub(crate) mod pack_dir;
pub(crate) mod progress;
pub(crate) mod state_file;
pub(crate) mod stderr_tail;
pub(crate) mod summary;
