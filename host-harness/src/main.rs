//! `crowsnest`: a wasmtime host for the crowsnest detection component.
//!
//! This crate is glue: it parses flags (`cli`); each command (`cmd`) sets up one engine
//! session and sends records through the one batch loop (`engine`), which runs the
//! component under a sandbox that survives traps, timeouts and memory blow-ups; inputs,
//! alerts and the account of every record are read and written by `io`. Every decision
//! about a record is the engine's.

mod cli;
mod cmd;
mod engine;
mod io;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, RulesCommand};
#[cfg(unix)]
use crate::cmd::filter;
use crate::cmd::{bench, replay, rules};

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
        Command::Rules(RulesCommand::Check { dir, strict }) => rules::check::run(dir, *strict),
        Command::Rules(RulesCommand::Test { dir }) => rules::test::run(&cli.global, dir),
        Command::Rules(RulesCommand::Doc { dir, scenarios }) => {
            rules::doc::run(dir.as_deref(), scenarios.as_deref())
        }
        Command::Rules(RulesCommand::Explain { rule, file }) => {
            rules::explain::run(&cli.global, rule, file)
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
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
