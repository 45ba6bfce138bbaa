//! The command line, as clap parses it. Nothing here touches a file or the engine:
//! [`crate::run`] turns these flags into work.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use crowsnest_transform::model::Source;

/// Detect container attacks in Docker and Kubernetes logs with the crowsnest component.
#[derive(Debug, Parser)]
#[command(name = "crowsnest", version, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Load the detection component from this wasm file instead of the built-in one.
    #[arg(long, global = true, value_name = "WASM")]
    pub(crate) component: Option<PathBuf>,

    /// Use the rule pack in this directory (every *.yml/*.yaml below it) instead of the
    /// built-in pack.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) rules: Option<PathBuf>,

    /// Linear-memory cap for the component, in MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) memory_limit: u32,

    /// Time limit for each call into the component, in milliseconds.
    #[arg(long, global = true, value_name = "MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub(crate) deadline_ms: u64,

    /// Run the engine natively instead of in the sandboxed component (for comparison).
    #[arg(long, global = true, conflicts_with = "component")]
    pub(crate) native: bool,

    /// Output format [default: table on a terminal, ocsf when piped].
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,

    /// Decode every record as this source instead of detecting it per record.
    #[arg(long, global = true, value_name = "NAME", value_parser = source_parser())]
    pub(crate) source: Option<Source>,

    /// The VPC flow log format, for flow logs delivered without their header line
    /// (`${version} ${account-id} ... ${ecs-task-id}`) [default: the v2 default format].
    #[arg(long, global = true, value_name = "FORMAT")]
    pub(crate) vpc_flow_format: Option<String>,

    /// Records per call into the component.
    #[arg(long, global = true, value_name = "RECORDS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub(crate) batch: u32,

    /// Print no summary and no progress bar; alerts only.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run log files through the detector and print the alerts.
    ///
    /// Each input is a file, a directory (its *.ndjson, *.jsonl, *.json and *.log files,
    /// optionally .gz, recursively, in name order) or `-` for standard input. A file is
    /// NDJSON (one record per line) unless it starts with `[`, in which case it is a JSON
    /// array such as `docker inspect` output.
    Replay(ReplayArgs),
    /// Enrich records streaming through standard input, for a log pipeline.
    ///
    /// Reads NDJSON from stdin and writes each line to stdout as soon as its batch is
    /// processed, with a `crowsnest` member holding the normalized event, the alerts and
    /// any diagnostics: one output line per input line, in order. Lines crowsnest does
    /// not recognize go out unchanged. Each alert is on stdout once, in its record; with
    /// `--alerts` it is also written to that file as a line of its own (`--format`, OCSF
    /// by default). On end of
    /// input, SIGTERM or SIGINT, everything read is processed and written before exit.
    // Unix only: it waits for input with poll(2) and drains on SIGTERM.
    #[cfg(unix)]
    Filter(FilterArgs),
    /// Work with rule packs.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Measure throughput, memory and start-up on seeded corpora, all in one run.
    ///
    /// Generated Kubernetes audit, Docker, CloudTrail ECS, auditd and VPC flow corpora
    /// (and Falco's audit files, replicated) go through the component, the native engine,
    /// typed decoding alone and the JSON tokenizer floor; then state memory per live
    /// container, start-up times, the rsigma CLI on the same rules and, with
    /// --fluent-bit-module, the Fluent Bit module. A table on a terminal, one JSON object
    /// per measurement when piped. No thresholds: the targets are reported, not enforced.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Small corpora: seconds in a debug build (for CI).
    #[arg(long)]
    pub(crate) quick: bool,

    /// Seed of the corpus generator.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) seed: u64,

    /// The rsigma binary [default: `rsigma` on PATH or in ~/.cargo/bin].
    #[arg(long, value_name = "PATH")]
    pub(crate) rsigma: Option<PathBuf>,

    /// The SigmaHQ Kubernetes audit rules, for the rsigma comparison.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "../shared/data/sigmahq-kubernetes-audit"
    )]
    pub(crate) sigma_dir: PathBuf,

    /// Falco's Kubernetes audit files, replicated into a corpus.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "../shared/data/falco-k8s-audit"
    )]
    pub(crate) falco_dir: PathBuf,

    /// The Fluent Bit module (the wasm32-wasip1 build of transform); its rows are skipped
    /// without it.
    #[arg(long, value_name = "WASM")]
    pub(crate) fluent_bit_module: Option<PathBuf>,

    /// Also write the generated corpora to this directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) corpus_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// Files, directories, or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,

    /// Reload the --rules directory between batches when its files change (needs
    /// --rules).
    #[arg(long)]
    pub(crate) watch: bool,

    /// Continue from the engine state in FILE (containers, open correlation windows)
    /// when it exists, and write the state at the end to it, so that consecutive replays
    /// (yesterday's logs, then today's) correlate across them. A FILE that cannot be
    /// restored stops the replay (exit 2) unless --discard-bad-state.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// With --state: when FILE cannot be read or restored, say so on stderr and start
    /// with empty state instead of exiting.
    #[arg(long, requires = "state")]
    pub(crate) discard_bad_state: bool,
}

#[cfg(unix)]
#[derive(Debug, Args)]
pub(crate) struct FilterArgs {
    /// Also append each alert to this file as a line of its own (stdout carries it
    /// inside its record's `crowsnest` member either way).
    #[arg(long, value_name = "FILE")]
    pub(crate) alerts: Option<PathBuf>,

    /// Send a batch this long after its first record arrived, even if it holds fewer
    /// than --batch records.
    #[arg(long, value_name = "MS", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub(crate) flush_ms: u64,

    /// Reload the --rules directory between batches when its files change (needs
    /// --rules); a pack that does not compile is reported on stderr and the running one
    /// stays.
    #[arg(long)]
    pub(crate) watch: bool,

    /// Keep the engine's state (containers, open correlation windows) in FILE across
    /// restarts: restored at start when FILE exists, written atomically after the
    /// output it covers is flushed (at each sandbox checkpoint, when the input is idle,
    /// and at exit). At-least-once: after a crash the shipper must re-send the records
    /// sent since the last write; those may alert twice; no correlation step before the
    /// last write is lost. A FILE that cannot be restored stops the filter (exit 2)
    /// unless --discard-bad-state.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// With --state: when FILE cannot be read or restored, say so on stderr and start
    /// with empty state (the file is overwritten at the next write) instead of exiting.
    #[arg(long, requires = "state")]
    pub(crate) discard_bad_state: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Parse and compile a rule pack; print every problem as file:line:column.
    Check {
        /// The pack's root directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Treat warnings as errors: exit 1 when there is any.
        #[arg(long)]
        strict: bool,
    },
    /// Run the rule tests of a pack (tests/*.yml) and print which pass.
    ///
    /// Each test gives input lines (inline `input:` or `files:`) and the alerts they must
    /// raise: `expect:` lists `{rule: <id>, count: N, fields: {...}}`, or `[]` for none.
    /// A test passes when exactly those alerts are raised. Each test runs on a fresh
    /// engine, the component unless --native. Exits 1 if any test fails.
    Test {
        /// The pack's root directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print the analytics document (docs/analytics.md) of a pack: per analytic its
    /// techniques, data sources, rules with their level and its rationale, the scenarios
    /// that raise each rule, and the false-positive guards.
    ///
    /// The built-in pack unless DIR is given. Run from the repository root:
    /// `crowsnest rules doc --scenarios samples/scenarios > docs/analytics.md`.
    Doc {
        /// The pack's root directory (the built-in pack when absent).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The scenarios directory: `<analytic>/<scenario>/` folders with `expected.txt`.
        #[arg(long, value_name = "DIR")]
        scenarios: Option<PathBuf>,
    },
    /// Show why a rule matched, or did not, on each record of a file.
    ///
    /// For every record: its source and action, each selection's verdict with the
    /// normalized fields it read, and the condition's result; for a correlation rule,
    /// the detection rules it references. A debugging aid: it always runs the native
    /// engine (never the sandboxed component), with --rules or the built-in pack.
    Explain {
        /// The rule's id (or its title, for a rule without an id).
        #[arg(value_name = "RULE")]
        rule: String,
        /// The records, as `replay` reads them (NDJSON, a JSON array, `-` for stdin).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// How alerts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A table for people, then a summary.
    Table,
    /// One OCSF Detection Finding (class 2004) JSON object per line.
    Ocsf,
    /// One Elastic Common Schema alert JSON object per line.
    Ecs,
    /// One crowsnest alert record (typed fields plus the OCSF document) per line.
    Jsonl,
}

/// `--source` accepts the names rules use (`docker_event`, `k8s_audit`, ...).
fn source_parser() -> impl TypedValueParser<Value = Source> {
    PossibleValuesParser::new(Source::ALL.map(Source::as_str)).try_map(|name| {
        Source::from_name(&name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "crowsnest",
            "replay",
            "x.ndjson",
            "--source",
            "k8s_audit",
            "--format",
            "ecs",
        ])
        .unwrap();
        assert_eq!(cli.global.source, Some(Source::K8sAudit));
        assert_eq!(cli.global.format, Some(Format::Ecs));
        assert!(
            matches!(cli.command, Command::Replay(ReplayArgs { ref inputs, .. }) if inputs.len() == 1)
        );
    }

    #[cfg(unix)]
    #[test]
    fn watch_parses_with_rules_before_or_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["crowsnest", "--rules", "pack", "filter", "--watch"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Filter(FilterArgs { watch: true, .. })
        ));
        let cli =
            Cli::try_parse_from(["crowsnest", "filter", "--watch", "--rules", "pack"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Filter(FilterArgs { watch: true, .. })
        ));
    }

    #[test]
    fn unknown_source_is_rejected() {
        assert!(Cli::try_parse_from(["crowsnest", "replay", "-", "--source", "syslog"]).is_err());
    }

    #[test]
    fn native_and_component_conflict() {
        assert!(
            Cli::try_parse_from([
                "crowsnest",
                "--native",
                "--component",
                "x.wasm",
                "replay",
                "-"
            ])
            .is_err()
        );
    }
}
