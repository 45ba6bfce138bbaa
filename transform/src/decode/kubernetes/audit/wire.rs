//! The audit `Event` as the API server writes it: borrowed serde structs that skip what
//! no rule reads, and the readers for its fields that vary between API versions.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::decode::scalar::Scalar;
use crate::normalize::borrowed::Str;

/// One audit event as the API server writes it, or the `EventList` a webhook backend
/// posts; unknown fields are skipped. Every field but `verb` may be missing: audit
/// policies and shippers trim events (`auditID`, `stage`, `requestURI`, the bodies), and
/// what is missing stays missing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawK8sAudit<'a> {
    /// `Event` or `EventList`; checked, because a `Policy` shares the API group.
    pub(super) kind: Option<EventKind>,
    /// An `EventList`'s events, each read as a record of its own.
    #[serde(borrow)]
    pub(super) items: Option<Vec<&'a RawValue>>,
    /// The same for every stage of one request.
    #[serde(rename = "auditID", borrow)]
    pub(super) audit_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) stage: Option<Str<'a>>,
    #[serde(rename = "requestURI", borrow)]
    pub(super) request_uri: Option<Str<'a>>,
    /// Required of an event (checked by the decoder, since an `EventList` has none).
    #[serde(borrow)]
    pub(super) verb: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) user: Option<RawUser<'a>>,
    /// Only the last entry is kept: the earlier ones come from `X-Forwarded-For` and
    /// `X-Real-Ip`, which the client controls; the last is the connection's peer.
    #[serde(rename = "sourceIPs", default, borrow, deserialize_with = "last_of")]
    pub(super) source_ip: Option<Str<'a>>,
    /// Client-supplied.
    #[serde(borrow)]
    pub(super) user_agent: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) object_ref: Option<RawObjectRef<'a>>,
    #[serde(borrow)]
    pub(super) response_status: Option<RawStatus<'a>>,
    /// For `patch` this is the patch document (strategic merge, JSON merge, JSON patch
    /// or apply), not the object.
    #[serde(borrow)]
    pub(super) request_object: Option<&'a RawValue>,
    #[serde(borrow)]
    pub(super) response_object: Option<&'a RawValue>,
    #[serde(borrow)]
    pub(super) request_received_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) stage_timestamp: Option<Str<'a>>,
    /// `v1beta1` only.
    #[serde(borrow)]
    pub(super) timestamp: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct RawUser<'a> {
    #[serde(borrow)]
    pub(super) username: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) uid: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) groups: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub(super) extra: Option<RawUserExtra<'a>>,
}

/// `user.extra`: a map of lists of strings, of which only EKS's IAM identity is read.
#[derive(Deserialize)]
pub(super) struct RawUserExtra<'a> {
    /// The ARN the request was signed with (an `assumed-role` session, an IAM user).
    #[serde(default, borrow, deserialize_with = "first_of")]
    pub(super) arn: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawObjectRef<'a> {
    #[serde(borrow)]
    pub(super) resource: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) namespace: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) name: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) uid: Option<Str<'a>>,
    /// Absent or `""` for the core group.
    #[serde(borrow)]
    pub(super) api_group: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) subresource: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct RawStatus<'a> {
    /// A number, or a number in a string when a shipper quoted it.
    #[serde(borrow)]
    pub(super) code: Option<Scalar<'a>>,
    /// `Forbidden`, `NotFound`, `AlreadyExists`, ... on failures.
    #[serde(borrow)]
    pub(super) reason: Option<Str<'a>>,
}

/// The top-level `kind`: only `"Event"` and `"EventList"` are accepted. Checked inside
/// serde so that the error carries the column.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    Event,
    List,
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventKindVisitor;

        impl Visitor<'_> for EventKindVisitor {
            type Value = EventKind;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("kind \"Event\" or \"EventList\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<EventKind, E> {
                match v {
                    "Event" => Ok(EventKind::Event),
                    "EventList" => Ok(EventKind::List),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }

        deserializer.deserialize_str(EventKindVisitor)
    }
}

/// The last string of an array, without collecting the array.
pub(super) fn last_of<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Str<'de>>, D::Error> {
    struct LastVisitor;

    impl<'de> Visitor<'de> for LastVisitor {
        type Value = Option<Str<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut last = None;
            while let Some(item) = seq.next_element::<Str<'de>>()? {
                last = Some(item);
            }
            Ok(last)
        }
    }

    deserializer.deserialize_any(LastVisitor)
}

/// The first string of an array (`user.extra` values are lists), or a lone string.
pub(super) fn first_of<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Str<'de>>, D::Error> {
    struct FirstVisitor;

    impl<'de> Visitor<'de> for FirstVisitor {
        type Value = Option<Str<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Str(Cow::Borrowed(v))))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Str(Cow::Owned(v.to_owned()))))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<Str<'de>>()?;
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }

    deserializer.deserialize_any(FirstVisitor)
}
