//! Docker Engine API requests (`POST /v1.45/containers/create?name=web`) read as what
//! they do. An authorization plugin's request and dockerd's `Calling` debug line both
//! name the call by method and URI; this module turns the pair into an [`Action`], the
//! container or image it is about, and a `raw_action` that names the route rather than
//! the object (`POST /containers/{id}/start`), so one route is one value whatever the
//! container.
//!
//! Routes follow the Engine API reference; the `/v1.NN` version prefix is optional, as
//! it is for the daemon.

use std::borrow::Cow;

use crate::decode::uri::{form_decode, pairs};
use crate::model::ImageRef;
use crate::model::{Action, Container};

/// The routes crowsnest reads; every other route is [`Endpoint::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /containers/create`; the body says how.
    ContainerCreate,
    ContainerStart,
    ContainerRestart,
    ContainerStop,
    ContainerKill,
    /// `DELETE /containers/{id}`.
    ContainerDelete,
    /// `POST /containers/{id}/exec`; the body holds the command.
    ContainerExec,
    /// `POST /containers/{id}/attach`, `GET /containers/{id}/attach/ws`.
    ContainerAttach,
    /// `GET /containers/{id}/json`.
    ContainerInspect,
    /// `POST /containers/{id}/update`; the body holds the new limits and restart policy.
    ContainerUpdate,
    /// `GET /containers/json`: container discovery through the API.
    ContainerList,
    /// `POST /images/create?fromImage=...`.
    ImagePull,
    ImageList,
    /// `GET /events`.
    Events,
    Other,
}

impl Endpoint {
    pub(crate) fn action(self) -> Action {
        match self {
            Endpoint::ContainerCreate => Action::ContainerCreate,
            Endpoint::ContainerStart => Action::ContainerStart,
            Endpoint::ContainerRestart => Action::ContainerRestart,
            Endpoint::ContainerStop => Action::ContainerStop,
            Endpoint::ContainerKill => Action::ContainerKill,
            Endpoint::ContainerDelete => Action::ContainerDestroy,
            Endpoint::ContainerExec => Action::ContainerExec,
            Endpoint::ContainerAttach => Action::ContainerAttach,
            Endpoint::ContainerInspect => Action::ResourceGet,
            Endpoint::ContainerList | Endpoint::ImageList => Action::ResourceList,
            Endpoint::ImagePull => Action::ImagePull,
            Endpoint::Events => Action::ResourceWatch,
            Endpoint::ContainerUpdate | Endpoint::Other => Action::Other,
        }
    }

    /// Whether the call means little until its body is read.
    pub(crate) fn needs_body(self) -> bool {
        matches!(
            self,
            Endpoint::ContainerCreate | Endpoint::ContainerExec | Endpoint::ContainerUpdate
        )
    }
}

/// One API request, borrowed from the URI.
#[derive(Debug)]
pub(crate) struct ApiCall<'a> {
    pub(crate) endpoint: Endpoint,
    /// `POST /containers/{id}/start`.
    pub(crate) route: String,
    /// The container named in the path (an id or a name), for container routes.
    target: Option<&'a str>,
    query: &'a str,
}

/// Resources whose second path segment names one object, unless it is one of
/// [`COLLECTION_VERBS`].
const ID_RESOURCES: [&str; 9] = [
    "containers",
    "exec",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "services",
    "nodes",
    "tasks",
];
const COLLECTION_VERBS: [&str; 4] = ["create", "json", "prune", "ls"];
/// Resources named by a reference that may hold slashes (`/images/ops/agent:2.1/json`).
const NAME_RESOURCES: [&str; 3] = ["images", "plugins", "distribution"];
const NAME_VERBS: [&str; 9] = [
    "json", "history", "push", "tag", "get", "enable", "disable", "upgrade", "set",
];
/// Collection routes of those resources (`/images/search`, `/plugins/pull`).
const NAME_COLLECTION_VERBS: [&str; 5] = ["search", "load", "get", "pull", "privileges"];

impl<'a> ApiCall<'a> {
    /// Read `method` and `uri` (path and optional query).
    pub(crate) fn parse(method: &str, uri: &'a str) -> ApiCall<'a> {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segments.first().is_some_and(|s| is_version(s)) {
            segments.remove(0);
        }
        let method = method.trim();
        let (template, target) = template(&segments);
        let endpoint = endpoint(method, &template);
        let target = matches!(segments.first(), Some(&"containers"))
            .then_some(target)
            .flatten();
        ApiCall {
            endpoint,
            route: format!("{} /{}", method.to_ascii_uppercase(), template.join("/")),
            target,
            query,
        }
    }

    /// A query parameter, percent-decoded; the first when repeated.
    pub(crate) fn param(&self, key: &str) -> Option<Cow<'a, str>> {
        pairs(self.query)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| form_decode(v))
            .filter(|v| !v.is_empty())
    }

    /// The container the path names: by id when it is one, else by name.
    pub(crate) fn container(&self) -> Option<Container<'a>> {
        let target = self.target?;
        let mut container = Container::default();
        if is_container_id(target) {
            container.id = Some(Cow::Borrowed(target));
        } else {
            container.name = Some(form_decode(target));
        }
        Some(container)
    }

    /// The image a pull asks for: `fromImage` with `tag` (a tag, or a digest as the CLI
    /// sends it for `name@sha256:...`).
    pub(crate) fn pulled_image(&self) -> Option<ImageRef<'a>> {
        let image = self.param("fromImage")?;
        let reference = match self.param("tag") {
            Some(tag) if tag.contains(':') => Cow::Owned(format!("{image}@{tag}")),
            Some(tag) => Cow::Owned(format!("{image}:{tag}")),
            None => image,
        };
        Some(ImageRef::lenient(reference))
    }
}

/// `v1.45`.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The path with the object it names replaced by `{id}` or `{name}`, and that object.
fn template<'s>(segments: &[&'s str]) -> (Vec<&'s str>, Option<&'s str>) {
    let Some((&resource, rest)) = segments.split_first() else {
        return (Vec::new(), None);
    };
    if ID_RESOURCES.contains(&resource) {
        match rest.split_first() {
            Some((&object, tail)) if !COLLECTION_VERBS.contains(&object) => {
                let mut t = vec![resource, "{id}"];
                t.extend_from_slice(tail);
                return (t, Some(object));
            }
            _ => return (segments.to_vec(), None),
        }
    }
    if NAME_RESOURCES.contains(&resource) {
        let t = match rest {
            [] => segments.to_vec(),
            [one] if COLLECTION_VERBS.contains(one) || NAME_COLLECTION_VERBS.contains(one) => {
                segments.to_vec()
            }
            [_, .., last] if NAME_VERBS.contains(last) => vec![resource, "{name}", last],
            _ => vec![resource, "{name}"],
        };
        return (t, None);
    }
    (segments.to_vec(), None)
}

fn endpoint(method: &str, template: &[&str]) -> Endpoint {
    let post = method.eq_ignore_ascii_case("POST");
    let get = method.eq_ignore_ascii_case("GET");
    let delete = method.eq_ignore_ascii_case("DELETE");
    match template {
        ["containers", "create"] if post => Endpoint::ContainerCreate,
        ["containers", "json"] if get => Endpoint::ContainerList,
        ["containers", "{id}"] if delete => Endpoint::ContainerDelete,
        ["containers", "{id}", "json"] if get => Endpoint::ContainerInspect,
        ["containers", "{id}", verb] if post => match *verb {
            "start" => Endpoint::ContainerStart,
            "restart" => Endpoint::ContainerRestart,
            "stop" => Endpoint::ContainerStop,
            "kill" => Endpoint::ContainerKill,
            "exec" => Endpoint::ContainerExec,
            "attach" => Endpoint::ContainerAttach,
            "update" => Endpoint::ContainerUpdate,
            _ => Endpoint::Other,
        },
        ["containers", "{id}", "attach", "ws"] if get => Endpoint::ContainerAttach,
        ["images", "create"] if post => Endpoint::ImagePull,
        ["images", "json"] if get => Endpoint::ImageList,
        ["events"] if get => Endpoint::Events,
        _ => Endpoint::Other,
    }
}

/// A full (64) or short (12 and more) hex container id; anything else is a name.
fn is_container_id(s: &str) -> bool {
    (12..=64).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, uri: &'static str) -> (Endpoint, String) {
        let c = ApiCall::parse(method, uri);
        (c.endpoint, c.route)
    }

    #[test]
    fn routes() {
        let id = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
        let start = format!("/v1.45/containers/{id}/start");
        let start: &'static str = Box::leak(start.into_boxed_str());
        for (method, uri, endpoint, route) in [
            (
                "POST",
                "/v1.45/containers/create?name=web",
                Endpoint::ContainerCreate,
                "POST /containers/create",
            ),
            (
                "POST",
                "/containers/create",
                Endpoint::ContainerCreate,
                "POST /containers/create",
            ),
            (
                "POST",
                start,
                Endpoint::ContainerStart,
                "POST /containers/{id}/start",
            ),
            (
                "POST",
                "/v1.45/containers/web/exec",
                Endpoint::ContainerExec,
                "POST /containers/{id}/exec",
            ),
            (
                "GET",
                "/v1.45/containers/json?all=1",
                Endpoint::ContainerList,
                "GET /containers/json",
            ),
            (
                "GET",
                "/v1.45/containers/web/json",
                Endpoint::ContainerInspect,
                "GET /containers/{id}/json",
            ),
            (
                "DELETE",
                "/v1.45/containers/web?force=1",
                Endpoint::ContainerDelete,
                "DELETE /containers/{id}",
            ),
            (
                "GET",
                "/v1.45/containers/web/attach/ws",
                Endpoint::ContainerAttach,
                "GET /containers/{id}/attach/ws",
            ),
            (
                "POST",
                "/v1.45/images/create?fromImage=alpine&tag=3.19",
                Endpoint::ImagePull,
                "POST /images/create",
            ),
            (
                "POST",
                "/v1.45/images/registry.example.com:5000/ops/agent/push?tag=2.1",
                Endpoint::Other,
                "POST /images/{name}/push",
            ),
            (
                "DELETE",
                "/v1.45/images/ops/agent:2.1",
                Endpoint::Other,
                "DELETE /images/{name}",
            ),
            (
                "GET",
                "/v1.45/images/json",
                Endpoint::ImageList,
                "GET /images/json",
            ),
            ("GET", "/_ping", Endpoint::Other, "GET /_ping"),
            ("HEAD", "/_ping", Endpoint::Other, "HEAD /_ping"),
            (
                "GET",
                "/v1.45/events?filters=%7B%7D",
                Endpoint::Events,
                "GET /events",
            ),
            (
                "POST",
                "/v1.45/exec/9a1b/start",
                Endpoint::Other,
                "POST /exec/{id}/start",
            ),
            (
                "POST",
                "/v1.45/networks/create",
                Endpoint::Other,
                "POST /networks/create",
            ),
            ("GET", "", Endpoint::Other, "GET /"),
            ("GET", "/v1.45", Endpoint::Other, "GET /"),
            (
                "post",
                "/containers/create",
                Endpoint::ContainerCreate,
                "POST /containers/create",
            ),
        ] {
            assert_eq!(call(method, uri), (endpoint, route.to_string()), "{uri}");
        }
    }

    #[test]
    fn container_from_the_path() {
        let id = "25923f70cb62";
        let uri = format!("/v1.45/containers/{id}/start");
        let c = ApiCall::parse("POST", &uri).container().unwrap();
        assert_eq!((c.id.as_deref(), c.name), (Some(id), None));
        let c = ApiCall::parse("POST", "/containers/node-agent/kill?signal=KILL")
            .container()
            .unwrap();
        assert_eq!((c.id, c.name.as_deref()), (None, Some("node-agent")));
        assert!(
            ApiCall::parse("GET", "/containers/json")
                .container()
                .is_none()
        );
        assert!(
            ApiCall::parse("POST", "/networks/abc/connect")
                .container()
                .is_none()
        );
    }

    #[test]
    fn query_parameters() {
        let c = ApiCall::parse(
            "POST",
            "/v1.45/images/create?fromImage=registry.example.com%3A5000%2Fops%2Fagent&tag=2.1&platform=",
        );
        assert_eq!(c.param("platform"), None);
        assert_eq!(
            c.pulled_image()
                .map(|i| i.reference.into_owned())
                .as_deref(),
            Some("registry.example.com:5000/ops/agent:2.1")
        );
        let c = ApiCall::parse(
            "POST",
            "/images/create?fromImage=nginx&tag=sha256%3A0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        );
        let image = c.pulled_image().unwrap();
        assert_eq!(image.tag, None);
        assert!(image.digest.is_some_and(|d| d.starts_with("sha256:0123")));
        let c = ApiCall::parse("POST", "/images/create?fromImage=alpine%3A3.19");
        assert_eq!(c.pulled_image().unwrap().tag.as_deref(), Some("3.19"));
        assert!(
            ApiCall::parse("POST", "/images/create?fromSrc=-")
                .pulled_image()
                .is_none()
        );
        let c = ApiCall::parse("POST", "/containers/create?name=my+web&x");
        assert_eq!(c.param("name").as_deref(), Some("my web"));
        assert_eq!(c.param("x"), None);
    }
}
