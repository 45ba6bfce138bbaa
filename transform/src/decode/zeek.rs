//! Zeek `conn.log` and `dns.log` as JSON.

use super::{DecodeError, Decoded};
use crate::model::Source;

pub(super) fn decode_conn(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let _ = text;
    Err(DecodeError::shape(
        Source::ZeekConn,
        1,
        "this format is not decoded yet",
    ))
}

pub(super) fn decode_dns(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let _ = text;
    Err(DecodeError::shape(
        Source::ZeekDns,
        1,
        "this format is not decoded yet",
    ))
}
