//! AWS CloudTrail (ECS).

use super::{DecodeError, Decoded};
use crate::model::Source;

pub(super) fn decode(text: &str) -> Result<Vec<Decoded<'_>>, DecodeError> {
    let _ = text;
    Err(DecodeError::shape(
        Source::CloudTrail,
        1,
        "this format is not decoded yet",
    ))
}
