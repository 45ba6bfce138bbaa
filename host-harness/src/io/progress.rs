//! A byte progress bar on stderr, for people waiting on a long replay.
//!
//! Shown only when stderr is a terminal, `--quiet` is off, the inputs are large enough
//! to be worth it, and nothing else streams to the same terminal meanwhile (alerts in a
//! machine format on a terminal stdout would tear through the bar). Never when piped.
//! Progress counts bytes on disk; within a compressed file it is scaled from the
//! decompressed bytes processed.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a bar would help.
const MIN_BYTES: u64 = 8 << 20;

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    /// Position at the start of the current file, and its bytes on disk per processed byte.
    file_start: u64,
    file_len: u64,
    scale: f64,
    done_in_file: u64,
}

impl Progress {
    /// `total` is the bytes on disk of every input; `streaming_to_terminal` says whether
    /// alerts will be written to a terminal while the run goes on.
    pub(crate) fn new(total: u64, quiet: bool, streaming_to_terminal: bool) -> Progress {
        let show = !quiet
            && !streaming_to_terminal
            && total >= MIN_BYTES
            && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            file_start: 0,
            file_len: 0,
            scale: 1.0,
            done_in_file: 0,
        }
    }

    /// A file of `on_disk` bytes (unknown for stdin) that reads as `decoded` bytes.
    pub(crate) fn start_file(&mut self, on_disk: Option<u64>, decoded: usize) {
        let Some(bar) = &self.bar else { return };
        self.file_start = bar.position();
        self.file_len = on_disk.unwrap_or(0);
        self.scale = if decoded == 0 {
            0.0
        } else {
            self.file_len as f64 / decoded as f64
        };
        self.done_in_file = 0;
    }

    /// `bytes` more of the current file's decoded bytes are done.
    pub(crate) fn advance(&mut self, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        self.done_in_file += bytes;
        let within = ((self.done_in_file as f64 * self.scale) as u64).min(self.file_len);
        bar.set_position(self.file_start + within);
    }

    pub(crate) fn finish_file(&mut self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.file_start + self.file_len);
        }
    }

    /// Remove the bar before the table and summary are printed.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
