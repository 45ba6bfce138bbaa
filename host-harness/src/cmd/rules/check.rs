//! `crowsnest rules check DIR`: compile a rule pack with the same engine code the
//! component runs (natively, no sandbox needed for rules the user wrote) and report every
//! problem as `DIR/relative/path.yml:line:column: error[code]: message`.
//!
//! Exit status: 0 when the pack compiles (warnings allowed, unless `--strict`), 1 when it
//! has errors (or, with `--strict`, warnings), 2 when the directory cannot be read.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use crowsnest_transform::check_pack;

use crate::io::pack_dir::{self, in_pack};

pub(crate) fn run(dir: &Path, strict: bool) -> Result<ExitCode> {
    let files = pack_dir::load(dir)?;
    match check_pack(&files) {
        Ok(info) if strict && !info.warnings.is_empty() => {
            let count = info.warnings.len();
            for warning in info.warnings {
                eprintln!("{}", in_pack(dir, warning));
            }
            eprintln!(
                "crowsnest: {count} warning(s) in the rule pack {}, errors under --strict",
                dir.display()
            );
            Ok(ExitCode::from(1))
        }
        Ok(info) => {
            for warning in info.warnings {
                eprintln!("{}", in_pack(dir, warning));
            }
            writeln!(
                io::stdout(),
                "ok: {} rules, {} correlations",
                info.rules,
                info.correlations
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            let count = diagnostics.len();
            for diagnostic in diagnostics {
                eprintln!("{}", in_pack(dir, diagnostic));
            }
            eprintln!(
                "crowsnest: {count} error(s) in the rule pack {}",
                dir.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}
