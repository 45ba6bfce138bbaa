//! The Fluent Bit `filter_wasm` module: the engine behind Fluent Bit's C ABI, built as
//! a wasm32-wasip1 core module (`cargo build -p crowsnest-transform --release --target
//! wasm32-wasip1 --lib`, which writes `crowsnest_transform.wasm`).
//!
//! # The ABI (Fluent Bit ≥ 4.2.0, `Event_Format json`)
//!
//! For every record Fluent Bit copies the tag and the record's JSON text, each followed
//! by a NUL, into this module's memory with the module's exported `malloc`, calls
//! [`crowsnest_filter`] with their addresses and lengths (NUL excluded) and the
//! record's time, reads the returned NUL-terminated JSON object as the new record
//! body, and frees both copies with the exported `free`. The returned text lives in
//! one buffer the module owns and reuses: Fluent Bit copies it and never frees it.
//! `malloc` and `free` are the module's own allocator, exported by `build.rs`; without
//! them Fluent Bit falls back to a small fixed heap and large records vanish.
//!
//! # What comes back
//!
//! The record's text with a `crowsnest` member appended ([`crate::inline`]): the
//! normalized event, the OCSF alerts the record completed, diagnostics. Records of
//! no known source come back unchanged. A record Fluent Bit wrapped around the line a
//! source printed (`tail` with no parser gives `{"log":"<the line>"}`) is decoded from
//! the line inside, and the `crowsnest` member goes on the wrapper, so Fluent Bit's own
//! fields stay. One instance lives as long as Fluent Bit runs, so container state and
//! correlation windows span records.
//!
//! # Rule pack
//!
//! The built-in pack runs until a directory `crowsnest-pack/` is readable relative to
//! the module's working directory, that is through a `.` entry in `Accessible_Paths`
//! (Fluent Bit's default), in Fluent Bit's working directory. The directory is looked
//! at no more than once a second (WASI monotonic clock), on the next record; when its
//! files' names, sizes or modification times changed, the whole pack is read and
//! compiled. A pack that does not compile leaves the running one in place, and its
//! errors go out once, in the `crowsnest.diagnostics` of the next record, and on
//! Fluent Bit's log (stderr). Removing the directory goes back to the built-in pack.

use std::cell::RefCell;
use std::slice;
use std::time::{Duration, Instant};

use crate::api::{Alert, BatchOrigin, Diagnostic, Options, Severity};
use crate::emit::inline::{self, Findings};
use crate::pack::dir::{Change, DirWatch};
use crate::{Detector, default_pack};

/// The pack directory, relative to the preopened working directory.
const PACK_DIR: &str = "crowsnest-pack";

/// Looks at the pack directory at most this often.
const PACK_CHECK_INTERVAL: Duration = Duration::from_secs(1);

thread_local! {
    static FILTER: RefCell<Option<Filter>> = const { RefCell::new(None) };
}

/// Fluent Bit's filter callback (`Function_Name crowsnest_filter`).
///
/// # Safety
///
/// `tag` and `record` must point to `tag_len` and `record_len` readable bytes in this
/// module's memory (Fluent Bit's copies), or be null with a length of 0. The returned
/// pointer is valid until the next call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crowsnest_filter(
    tag: *const u8,
    tag_len: u32,
    _time_sec: u32,
    _time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    // SAFETY: the caller's contract above.
    let (tag, record) = unsafe { (bytes(tag, tag_len), bytes(record, record_len)) };
    FILTER.with(|cell| {
        let mut slot = cell.borrow_mut();
        slot.get_or_insert_with(Filter::new).run(tag, record)
    })
}

/// # Safety
///
/// `ptr` is null with `len == 0`, or points to `len` readable bytes.
unsafe fn bytes<'a>(ptr: *const u8, len: u32) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { slice::from_raw_parts(ptr, len as usize) }
}

struct Filter {
    detector: Detector,
    watch: DirWatch,
    /// Pack problems not yet written into a record.
    pending: Vec<Diagnostic>,
    /// The returned record; reused across calls, so its memory stays the module's.
    out: Vec<u8>,
    /// Records seen, for the `line` of alert and diagnostic origins.
    records: u32,
    /// The origin of the record being filtered: its `file` is the tag, kept across
    /// calls because a stream's records mostly share one.
    origin: BatchOrigin,
}

impl Filter {
    fn new() -> Filter {
        let mut detector = Detector::new();
        detector.set_options(Options {
            enrichment: true,
            ..Options::default()
        });
        Filter {
            detector,
            watch: DirWatch::new(PACK_DIR, PACK_CHECK_INTERVAL, None),
            pending: Vec::new(),
            out: Vec::new(),
            records: 0,
            origin: BatchOrigin::default(),
        }
    }

    fn run(&mut self, tag: &[u8], record: &[u8]) -> *const u8 {
        self.check_pack();
        self.records = self.records.wrapping_add(1);
        self.out.clear();
        match std::str::from_utf8(record) {
            Ok(text) => {
                let tag = String::from_utf8_lossy(tag);
                if self.origin.file != tag {
                    self.origin.file = tag.into_owned();
                }
                self.origin.first_line = self.records;
                self.filter(text)
            }
            // Fluent Bit writes JSON as UTF-8; anything else goes back untouched.
            Err(_) => self.out.extend_from_slice(record),
        }
        self.out.push(0);
        self.out.as_ptr()
    }

    fn filter(&mut self, text: &str) {
        let result = self.detector.process(text.as_bytes(), &self.origin);
        let Some(outcome) = result.outcomes.first() else {
            // Blank: nothing to decode, nothing to say.
            self.out.extend_from_slice(text.as_bytes());
            return;
        };
        let alerts: Vec<&Alert> = result.alerts.iter().collect();
        let diagnostics: Vec<&Diagnostic> =
            self.pending.iter().chain(&result.diagnostics).collect();
        let findings = Findings {
            outcome,
            alerts: &alerts,
            diagnostics: &diagnostics,
        };
        if inline::enrich(text, &findings, &mut self.out) == inline::Verdict::Enriched {
            self.pending.clear();
        }
    }

    /// Reload the pack directory when it changed; see the module docs.
    fn check_pack(&mut self) {
        let Some(change) = self.watch.poll(Instant::now()) else {
            return;
        };
        let dir = self.watch.dir().display().to_string();
        match change {
            Change::Updated(files) => match self.detector.configure(&files) {
                Ok(info) => eprintln!(
                    "crowsnest: rule pack {dir} loaded: {} rules, {} correlations",
                    info.rules, info.correlations
                ),
                Err(diagnostics) => {
                    eprintln!(
                        "crowsnest: rule pack {dir} rejected, the running pack stays: {} error(s)",
                        diagnostics.len()
                    );
                    for mut diagnostic in diagnostics {
                        diagnostic.file = format!("{dir}/{}", diagnostic.file);
                        eprintln!("{diagnostic}");
                        self.pending.push(diagnostic);
                    }
                }
            },
            Change::Removed => {
                // The built-in pack compiled when the engine was made: this cannot fail.
                let _ = self.detector.configure(&default_pack());
                eprintln!("crowsnest: rule pack {dir} removed; running the built-in pack");
            }
            Change::Unreadable(err) => {
                let diagnostic = Diagnostic {
                    severity: Severity::Error,
                    code: "pack.read".to_string(),
                    message: format!("cannot read the rule pack, the running pack stays: {err}"),
                    file: dir,
                    line: 1,
                    column: 1,
                };
                eprintln!("{diagnostic}");
                self.pending.push(diagnostic);
            }
        }
    }
}
