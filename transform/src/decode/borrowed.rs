//! Borrowed strings for the format decoders.

use std::borrow::Cow;

use serde::Deserialize;

/// A string borrowed from the record when it holds no escapes.
///
/// serde only borrows a `Cow<str>` that is a field of its own (`Option<Cow<str>>` and
/// `Vec<Cow<str>>` always allocate), so optional and repeated strings go through this.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Str<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

/// `Option<Str>` to `Option<Cow>`, treating `""` as absent: Docker writes empty strings
/// for unset fields.
pub(crate) fn non_empty(s: Option<Str<'_>>) -> Option<Cow<'_, str>> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}
