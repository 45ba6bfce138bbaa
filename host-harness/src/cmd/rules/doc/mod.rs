//! `crowsnest rules doc [DIR] [--scenarios DIR]`: print `docs/analytics.md`, the map from
//! each analytic to its techniques, data sources, rules, scenarios and false-positive
//! guards, rendered (`analytics.rs`) from the pack's metadata (the built-in pack when no
//! directory is given) and the scenarios' `expected.txt` files and READMEs.
//!
//! Links to scenarios are written relative to `docs/`, for the scenarios directory as
//! given: run it from the repository root with a relative `--scenarios`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use crowsnest_transform::default_pack;

use crate::io::pack_dir;

use self::analytics::DocInput;

mod analytics;

/// How the built-in pack is named in the document.
const BUILT_IN: &str = "transform/rules";

pub(crate) fn run(dir: Option<&Path>, scenarios: Option<&Path>) -> Result<ExitCode> {
    let (pack, pack_name) = match dir {
        Some(dir) => (pack_dir::load(dir)?, slashed(dir)),
        None => (default_pack(), BUILT_IN.to_string()),
    };
    let (scenario_list, readmes) = match scenarios {
        Some(root) => analytics::load_scenarios(root)
            .with_context(|| format!("reading scenarios under {}", root.display()))?,
        None => (Vec::new(), Vec::new()),
    };
    let scenarios_dir = scenarios.map_or_else(|| "samples/scenarios".to_string(), slashed);
    let text = analytics::render(&DocInput {
        pack: &pack,
        pack_name: &pack_name,
        scenarios: &scenario_list,
        readmes: &readmes,
        scenarios_dir: &scenarios_dir,
    });
    let mut out = io::stdout().lock();
    write!(out, "{text}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A path as the document shows it: `/` separators, no trailing `/`.
fn slashed(path: &Path) -> String {
    let text = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    text.trim_end_matches('/').to_string()
}
