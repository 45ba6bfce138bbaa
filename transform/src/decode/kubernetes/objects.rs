//! The objects a Kubernetes request is about, read from its bodies: the request and
//! response bodies of an audit event (`requestObject`, `responseObject`) and of a GKE
//! Cloud Audit Log entry (`request`, `response`).
//!
//! Bodies are kept as raw JSON while the record is decoded and read into typed structs
//! only for the resources that carry a pod spec (pods and the workloads that template
//! one), so a ConfigMap, a custom resource or a JSON-patch array never meets the
//! pod-spec types. At `Metadata` level there is no body and `containers` stays empty:
//! "not logged", not "not privileged".
//!
//! A `patch` body is the patch document, in one of four formats, and each is read for
//! what it sets: a strategic merge or JSON merge patch is a partial object (the
//! containers it names carry the fields it sets), an apply patch is an object that holds
//! only the fields its manager owns (read the same way: what it leaves out is not
//! changed, so it stays `None`), and a JSON patch is a list of operations, of which the
//! `add` and `replace` operations whose path reaches the pod spec are read.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::DecodeError;
use crate::model::{Container, Source, Workload};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::kubernetes::{EPHEMERAL, Target, pod_spec_at};
use crate::normalize::pod_spec::{self, RawContainer, RawPodSpec, json_patch_spec};

/// A request or response body, when only its identity is wanted.
#[derive(Deserialize)]
struct RawObjectHead<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<RawObjectMeta<'a>>,
}

/// A request or response body of a resource that carries a pod spec.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPodObject<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<RawObjectMeta<'a>>,
    /// The pod spec itself (Pod), or the workload spec that templates one.
    #[serde(borrow)]
    spec: Option<RawPodSpec<'a>>,
    /// The `EphemeralContainers` body of the `ephemeralcontainers` subresource in
    /// Kubernetes 1.16-1.22 lists them at the top; since 1.23 the body is a Pod.
    #[serde(borrow)]
    ephemeral_containers: Option<Vec<RawContainer<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObjectMeta<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    generate_name: Option<Str<'a>>,
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    #[serde(borrow)]
    owner_references: Option<Vec<RawOwnerReference<'a>>>,
}

#[derive(Deserialize)]
struct RawOwnerReference<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    /// At most one owner is the managing controller.
    controller: Option<bool>,
}

/// `responseObject` and `requestObject` (GKE: `response` and `request`), still raw.
#[derive(Clone, Copy)]
pub(crate) struct Bodies<'a> {
    pub(crate) response: Option<&'a RawValue>,
    pub(crate) request: Option<&'a RawValue>,
    /// The names errors inside the bodies are reported under.
    pub(crate) response_field: &'static str,
    pub(crate) request_field: &'static str,
    pub(crate) source: Source,
}

/// A body that holds the target's pod spec, with what was read from it.
struct PodObject<'a> {
    kind: Option<Str<'a>>,
    metadata: Option<RawObjectMeta<'a>>,
    containers: Vec<Container<'a>>,
}

/// What the bodies of a request say about its target object.
#[derive(Default)]
pub(crate) struct TargetObject<'a> {
    kind: Option<Cow<'a, str>>,
    /// The name, or the `generateName` prefix the server completes.
    name: Option<Cow<'a, str>>,
    namespace: Option<Cow<'a, str>>,
    uid: Option<Cow<'a, str>>,
    /// The controlling owner reference, `Kind/name`.
    owner: Option<Cow<'a, str>>,
    pub(crate) containers: Vec<Container<'a>>,
}

impl<'a> TargetObject<'a> {
    fn new(kind: Option<Str<'a>>, meta: Option<RawObjectMeta<'a>>) -> Self {
        let meta = meta.unwrap_or_default();
        TargetObject {
            kind: kind.map(|k| k.0),
            name: non_empty(meta.name).or(non_empty(meta.generate_name)),
            namespace: non_empty(meta.namespace),
            uid: non_empty(meta.uid),
            owner: owner(meta.owner_references),
            containers: Vec::new(),
        }
    }

    /// The workload, named from the request's own target first (`objectRef`, GKE's
    /// `resourceName`), then from the body. The kind is the built-in kind of the
    /// resource, else the body's kind, else the resource name.
    pub(crate) fn workload(
        self,
        known: Option<&'static str>,
        resource: Cow<'a, str>,
        name: Option<Cow<'a, str>>,
        namespace: Option<Cow<'a, str>>,
        uid: Option<Cow<'a, str>>,
    ) -> Workload<'a> {
        let kind = match (known, self.kind) {
            (Some(known), _) => Cow::Borrowed(known),
            (None, Some(kind)) => kind,
            (None, None) => resource,
        };
        Workload {
            kind,
            name: name.or(self.name),
            namespace: namespace.or(self.namespace),
            uid: uid.or(self.uid),
            owner: self.owner,
        }
    }
}

/// `Kind/name` of the controller among the owner references, else of the first.
fn owner<'a>(refs: Option<Vec<RawOwnerReference<'a>>>) -> Option<Cow<'a, str>> {
    let mut refs = refs?;
    let at = refs
        .iter()
        .position(|r| r.controller == Some(true))
        .unwrap_or(0);
    if at >= refs.len() {
        return None;
    }
    let chosen = refs.swap_remove(at);
    let kind = non_empty(chosen.kind)?;
    let name = non_empty(chosen.name)?;
    Some(Cow::Owned(format!("{kind}/{name}")))
}

/// Read the bodies of a request that is not an exec or attach: the containers of the
/// resources that carry a pod spec, and the identity of any target object.
pub(crate) fn target_object<'a>(
    text: &'a str,
    bodies: Bodies<'a>,
    target: &Target<'_>,
    verb: &str,
) -> Result<TargetObject<'a>, DecodeError> {
    let is_patch = verb == "patch";
    let found = if matches!(target.subresource, None | Some(EPHEMERAL)) && target.has_pod_spec() {
        pod_object(text, bodies, target, is_patch)?
    } else {
        None
    };
    let (kind, meta, containers) = match found {
        Some(found) => (found.kind, found.metadata, found.containers),
        None => (None, None, Vec::new()),
    };
    // A body without metadata (a patch document, a bare spec): the identity from the
    // other body, when it is the target object.
    let (kind, meta) = match meta {
        Some(meta) => (kind, Some(meta)),
        None => match object_head(bodies, target, is_patch) {
            Some(head) => (kind.or(head.kind), head.metadata),
            None => (kind, None),
        },
    };
    let mut object = TargetObject::new(kind, meta);
    object.containers = containers;
    Ok(object)
}

/// The containers of the target, from `responseObject` when it holds the pod spec (the
/// API server has applied defaults and generated the name by then), else from
/// `requestObject`.
///
/// A body of the resource that does not decode as one is a `Shape` error located in the
/// record, except for a patch document: patches come in four formats and a JSON patch
/// (an array) or a merge patch that does not fit is simply skipped. A merge patch that
/// does fit is read like an object: the containers it names carry the fields it sets,
/// and what it does not set stays `None`.
fn pod_object<'a>(
    text: &'a str,
    bodies: Bodies<'a>,
    target: &Target<'_>,
    is_patch: bool,
) -> Result<Option<PodObject<'a>>, DecodeError> {
    let Some(at) = target.known.and_then(pod_spec_at) else {
        return Ok(None);
    };
    let source = bodies.source;
    let bodies = [
        (bodies.response, bodies.response_field, false),
        (bodies.request, bodies.request_field, is_patch),
    ];
    for (body, field, patch_document) in bodies {
        let Some(body) = body else {
            continue;
        };
        if patch_document && body.get().starts_with('[') {
            let Some(spec) = json_patch_spec(body, at) else {
                continue;
            };
            let containers =
                pod_spec::containers(spec, false, target.subresource == Some(EPHEMERAL));
            return Ok(Some(PodObject {
                kind: None,
                metadata: None,
                containers,
            }));
        }
        if !body.get().starts_with('{') {
            continue;
        }
        let object: RawPodObject<'a> = match serde_json::from_str(body.get()) {
            Ok(object) => object,
            Err(_) if patch_document => continue,
            Err(e) => return Err(DecodeError::nested(text, body, field, source, e)),
        };
        if !target.is_target_kind(object.kind.as_ref().map(|k| &*k.0)) {
            continue;
        }
        // The old `EphemeralContainers` body says nothing about the pod itself.
        let (spec, full_object) = if object
            .kind
            .as_ref()
            .is_some_and(|k| k.0 == "EphemeralContainers")
        {
            (
                Some(RawPodSpec::ephemeral(object.ephemeral_containers)),
                false,
            )
        } else {
            (object.spec.and_then(|s| s.at(at)), !patch_document)
        };
        let Some(spec) = spec else {
            continue;
        };
        let containers =
            pod_spec::containers(spec, full_object, target.subresource == Some(EPHEMERAL));
        return Ok(Some(PodObject {
            kind: object.kind,
            metadata: object.metadata,
            containers,
        }));
    }
    Ok(None)
}

/// Kind and metadata of the first body that is the target object itself.
fn object_head<'a>(
    bodies: Bodies<'a>,
    target: &Target<'_>,
    is_patch: bool,
) -> Option<RawObjectHead<'a>> {
    [(bodies.response, false), (bodies.request, is_patch)]
        .into_iter()
        // A patch document's metadata is the change, not the object.
        .filter(|(_, patch_document)| !patch_document)
        .filter_map(|(body, _)| body.filter(|b| b.get().starts_with('{')))
        .filter_map(|body| serde_json::from_str::<RawObjectHead<'a>>(body.get()).ok())
        .find(|head| target.is_target_kind(head.kind.as_ref().map(|k| &*k.0)))
}
