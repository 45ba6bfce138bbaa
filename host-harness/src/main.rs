//! `crowsnest`: a wasmtime host for the crowsnest detection component.
//!
//! This crate is glue: it parses flags (`cli`), finds and frames input (`input`, and
//! `crowsnest_transform::framing`), runs the component under a sandbox that survives
//! traps, timeouts and memory blow-ups (`component`, `sandbox`, with a compile cache in
//! `cache`), and prints alerts and an account of every record (`output`, `summary`).
//! Every decision about a record is the engine's.

mod backend;
mod batch_loop;
mod bench;
mod bindings;
mod cache;
mod cli;
mod component;
mod convert;
#[cfg(unix)]
mod filter;
mod input;
mod output;
mod pack_dir;
mod progress;
mod replay;
mod rules_check;
mod rules_doc;
mod rules_explain;
mod rules_test;
mod sandbox;
mod session;
mod state_file;
mod stderr_tail;
mod summary;
mod watch;

use std::io;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, RulesCommand};

fn main() -> ExitCode {
    run(Cli::parse())
}

/// Exit status: 0 ok (alerts or not), 1 `rules check` found errors or a `rules test`
/// failed, 2 a fatal error
/// (unreadable component or input, bad rule pack for `replay`). A closed stdout (`| head`)
/// ends the run quietly with 0.
fn run(cli: Cli) -> ExitCode {
    let result = match &cli.command {
        Command::Replay(args) => replay::run(&cli.global, args),
        #[cfg(unix)]
        Command::Filter(args) => filter::run(&cli.global, args),
        Command::Bench(args) => bench::run(&cli.global, args),
        Command::Rules(RulesCommand::Check { dir }) => rules_check::run(dir),
        Command::Rules(RulesCommand::Test { dir }) => rules_test::run(&cli.global, dir),
        Command::Rules(RulesCommand::Doc { dir, scenarios }) => {
            rules_doc::run(dir.as_deref(), scenarios.as_deref())
        }
        Command::Rules(RulesCommand::Explain { rule, file }) => {
            rules_explain::run(&cli.global, rule, file)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crowsnest: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
