//! The component's standard error, kept in memory so a trap can be explained.
//!
//! A Rust guest that panics prints `panicked at src/x.rs:L:C:\nmessage` to stderr and
//! then executes `unreachable`: the trap itself only says "unreachable executed". The
//! harness keeps the tail of what the guest wrote and puts the panic message into the
//! diagnostic. Writes never fail and never block (wasmtime's `MemoryOutputPipe` traps the
//! guest once it is full), and only the last [`CAPACITY`] bytes are kept, so a chatty
//! guest can neither fill the host's memory nor fail its own writes.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes of guest stderr kept; a panic message with its location fits easily.
const CAPACITY: usize = 8 * 1024;

/// Room offered to each write; any amount works, the tail keeps what fits.
const WRITE_BUDGET: usize = 64 * 1024;

/// A cloneable handle: one clone goes into the WASI context, one stays with the host.
#[derive(Debug, Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<Vec<u8>>>);

impl StderrTail {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn append(&self, bytes: &[u8]) {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = &bytes[bytes.len().saturating_sub(CAPACITY)..];
        let overflow = (buf.len() + bytes.len()).saturating_sub(CAPACITY);
        buf.drain(..overflow);
        buf.extend_from_slice(bytes);
    }

    /// What the guest wrote since the last call, emptying the buffer.
    pub(crate) fn take(&self) -> String {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let text = String::from_utf8_lossy(&buf).into_owned();
        buf.clear();
        text
    }
}

/// The panic message in a guest's stderr, on one line: `panicked at src/x.rs:1:2: boom`.
pub(crate) fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let text = &stderr[start..];
    let end = text.find("\nnote: ").unwrap_or(text.len());
    let line = text[..end].split_whitespace().collect::<Vec<_>>().join(" ");
    Some(truncate(&line, 240))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for StderrTail {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for StderrTail {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail() {
        let tail = StderrTail::new();
        tail.append(&vec![b'a'; CAPACITY]);
        tail.append(b"end");
        let text = tail.take();
        assert_eq!(text.len(), CAPACITY);
        assert!(text.ends_with("aend"));
        assert_eq!(tail.take(), "");
        tail.append(&vec![b'b'; CAPACITY * 2]);
        assert_eq!(tail.take().len(), CAPACITY);
    }

    #[test]
    fn panic_message_is_one_line() {
        let stderr = "\nthread '<unnamed>' panicked at transform/src/detector.rs:300:9:\n\
                      crowsnest-fault:trap\nnote: run with `RUST_BACKTRACE=1` environment variable\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("panicked at transform/src/detector.rs:300:9: crowsnest-fault:trap")
        );
        assert_eq!(panic_message("nothing here"), None);
    }
}
