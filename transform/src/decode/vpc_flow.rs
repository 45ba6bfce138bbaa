//! AWS VPC Flow Logs.

use super::{Context, DecodeError, Decoded};
use crate::model::Source;

/// The field layout of each file that declared one.
#[derive(Default)]
pub(super) struct Layouts;

impl Layouts {
    pub(super) fn sniff(&self, text: &str, ctx: &Context<'_>) -> bool {
        let _ = (text, ctx);
        false
    }
}

pub(super) fn decode<'a>(
    text: &'a str,
    state: &mut Layouts,
    ctx: &Context<'_>,
) -> Result<Vec<Decoded<'a>>, DecodeError> {
    let _ = (text, state, ctx);
    Err(DecodeError::shape(
        Source::VpcFlow,
        1,
        "this format is not decoded yet",
    ))
}
