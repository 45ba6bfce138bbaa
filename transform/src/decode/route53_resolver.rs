//! Route 53 Resolver query logs.

use super::{DecodeError, Decoded};
use crate::model::Source;

pub(super) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let _ = text;
    Err(DecodeError::shape(
        Source::Route53Resolver,
        1,
        "this format is not decoded yet",
    ))
}
