//! Borrowed strings, for the format decoders and the wire shapes read here (pod specs).

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

/// The strings of a list, borrowed where the record allows.
pub(crate) fn strings(list: Vec<Str<'_>>) -> Vec<Cow<'_, str>> {
    list.into_iter().map(|s| s.0).collect()
}
