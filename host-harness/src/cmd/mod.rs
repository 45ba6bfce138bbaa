//! The subcommands: each parses nothing (that is `cli`), sets up its session and hands
//! records to the batch loop (`crate::engine`), and writes what it was asked for.

pub(crate) mod bench;
#[cfg(unix)]
pub(crate) mod filter;
pub(crate) mod replay;
pub(crate) mod rules;
