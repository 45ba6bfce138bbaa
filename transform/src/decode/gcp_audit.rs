//! GCP Cloud Audit Logs: GKE (`k8s.io`), Cloud Run, GKE clusters.

use super::{DecodeError, Decoded};
use crate::model::Source;

pub(super) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let _ = text;
    Err(DecodeError::shape(
        Source::GkeAudit,
        1,
        "this format is not decoded yet",
    ))
}
