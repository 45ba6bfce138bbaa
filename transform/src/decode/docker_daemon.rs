//! dockerd's log.

use super::{Context, DecodeError, Decoded};
use crate::model::Source;

/// The API call each daemon log is in the middle of.
#[derive(Default)]
pub(super) struct Calls;

pub(super) fn sniff_json(text: &str) -> bool {
    text.contains("form data: ") || text.contains("Calling ")
}

pub(super) fn sniff_text(text: &str) -> bool {
    text.contains("msg=\"form data: ") || text.contains("msg=\"Calling ")
}

pub(super) fn decode<'a>(
    text: &'a str,
    state: &mut Calls,
    ctx: &Context<'_>,
) -> Result<Vec<Decoded<'a>>, DecodeError> {
    let _ = (text, state, ctx);
    Err(DecodeError::shape(
        Source::DockerDaemon,
        1,
        "this format is not decoded yet",
    ))
}
