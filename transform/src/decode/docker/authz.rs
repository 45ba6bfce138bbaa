//! Docker authorization-plugin requests: the `AuthZPlugin.AuthZReq` message dockerd
//! sends to each plugin before it runs an API call, as plugins log it.
//!
//! The message is the Go `authorization.Request` (docker/go-plugins-helpers
//! `authorization/api.go`): `User` and `UserAuthNMethod` (set when the client
//! authenticated, by TLS certificate for instance; empty over the local socket),
//! `RequestMethod`, `RequestUri` (`/v1.45/containers/create?name=web`), `RequestBody`
//! (the raw body, base64 because Go encodes `[]byte` so) and `RequestHeaders`. The
//! `AuthZPlugin.AuthZRes` message that follows the call repeats them and adds
//! `ResponseStatusCode` and `ResponseBody`.
//!
//! This is where a Docker launch is seen with who asked for it: the create body holds
//! every security setting (`create_body.rs`). A request is evaluated; a response
//! is decoded for its status code and the id the daemon gave a new container, but not
//! evaluated again, so one call raises one alert. A response that says the call failed
//! teaches the engine's state nothing. dockerd omits bodies over 1 MiB, and
//! a create without a body says nothing about privileges.
//!
//! Plugins that log requests usually add their logger's timestamp; a top-level `time`
//! (RFC 3339) is read when it is there, since the message itself carries none.

use std::borrow::Cow;

use serde::Deserialize;

use super::api::{ApiCall, Endpoint};
use super::create_body::{CreateBody, CreateResponse, ExecBody};
use crate::decode::base64::decode as base64_decode;
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::{Event, Principal, Source};
use crate::normalize::borrowed::{Str, non_empty};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::DockerAuthz,
    logsource: ("docker", "authz"),
    about: "authorization-plugin requests (`AuthZReq`)",
    detect: Detect {
        json: &[Keys::all(&["\"RequestMethod\":"])],
        text: None,
    },
    raw_roots: &[
        "User",
        "UserAuthNMethod",
        "RequestMethod",
        "RequestUri",
        "RequestBody",
        "RequestHeaders",
        "RequestPeerCertificates",
        "ResponseStatusCode",
        "ResponseBody",
        "ResponseHeaders",
    ],
    decode: Decoder::One(decode),
};

#[derive(Deserialize)]
struct RawRequest<'a> {
    #[serde(rename = "User", borrow)]
    user: Option<Str<'a>>,
    #[serde(rename = "UserAuthNMethod", borrow)]
    authn_method: Option<Str<'a>>,
    #[serde(rename = "RequestMethod", borrow)]
    method: Option<Str<'a>>,
    /// `RequestUri` on the wire; `RequestURI` as the Go field is named.
    #[serde(rename = "RequestUri", alias = "RequestURI", borrow)]
    uri: Option<Str<'a>>,
    /// Base64 of the body.
    #[serde(rename = "RequestBody", borrow)]
    body: Option<Str<'a>>,
    #[serde(rename = "RequestHeaders", borrow)]
    headers: Option<RawHeaders<'a>>,
    #[serde(rename = "ResponseStatusCode")]
    status: Option<i64>,
    /// Base64 of the daemon's answer.
    #[serde(rename = "ResponseBody", borrow)]
    response_body: Option<Str<'a>>,
    #[serde(borrow)]
    time: Option<Str<'a>>,
}

/// Go's canonical header names.
#[derive(Deserialize)]
struct RawHeaders<'a> {
    #[serde(rename = "User-Agent", borrow)]
    user_agent: Option<Str<'a>>,
}

/// The `message` of an Engine API error answer.
#[derive(Deserialize)]
struct ErrorResponse {
    message: Option<String>,
}

pub(crate) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawRequest<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::DockerAuthz, e))?;
    let method = non_empty(raw.method)
        .ok_or_else(|| DecodeError::shape(Source::DockerAuthz, 1, "missing `RequestMethod`"))?;
    let uri = non_empty(raw.uri)
        .ok_or_else(|| DecodeError::shape(Source::DockerAuthz, 1, "missing `RequestUri`"))?;
    // The URI is only read through `call`, which borrows it; an escaped URI (rare: a
    // `\/`) is unescaped into an owned string that the event then copies from.
    let uri_text: &str = &uri;
    let call = ApiCall::parse(&method, uri_text);
    let endpoint = call.endpoint;

    let mut event = Event::new(Source::DockerAuthz, endpoint.action(), call.route.clone());
    event.time_ns = raw.time.as_ref().and_then(|t| parse_rfc3339_ns(&t.0));
    if let Some(name) = non_empty(raw.user) {
        event.principal = Some(Principal {
            name,
            kind: non_empty(raw.authn_method),
            user_agent: raw.headers.and_then(|h| non_empty(h.user_agent)),
            ..Principal::default()
        });
    }

    let body = match &raw.body {
        Some(b) if endpoint.needs_body() && !b.0.is_empty() => Some(
            base64_decode(&b.0)
                .ok_or_else(|| body_error(text, "RequestBody", "is not base64".into()))?,
        ),
        _ => None,
    };
    match endpoint {
        Endpoint::ContainerCreate => {
            let name = call.param("name");
            let (workload, container) = match &body {
                Some(body) => serde_json::from_str::<CreateBody<'_>>(body)
                    .map_err(|e| body_error(text, "RequestBody", e.to_string()))?
                    .into_container(name.clone()),
                None => (None, Default::default()),
            };
            let mut container = container.into_owned();
            if container.name.is_none() {
                container.name = name.map(|n| Cow::Owned(n.into_owned()));
            }
            event.workload = workload.map(|w| w.into_owned());
            event.containers.push(container);
        }
        Endpoint::ContainerExec => {
            if let Some(body) = &body {
                let process = serde_json::from_str::<ExecBody<'_>>(body)
                    .map_err(|e| body_error(text, "RequestBody", e.to_string()))?
                    .into_process();
                event.process = Some(process.into_owned());
            }
            event
                .containers
                .extend(call.container().map(|c| c.into_owned()));
        }
        Endpoint::ImagePull => {
            if let Some(image) = call.pulled_image() {
                event.containers.push(crate::model::Container {
                    image: Some(image.into_owned()),
                    ..Default::default()
                });
            }
        }
        _ => event
            .containers
            .extend(call.container().map(|c| c.into_owned())),
    }

    let mut evaluate = true;
    if let Some(status) = raw.status {
        evaluate = false;
        event.response_code = u16::try_from(status).ok();
        let answer = raw
            .response_body
            .as_ref()
            .and_then(|b| base64_decode(&b.0))
            .unwrap_or_default();
        if status >= 400 {
            let message = serde_json::from_str::<ErrorResponse>(&answer)
                .ok()
                .and_then(|e| e.message)
                .unwrap_or_else(|| format!("HTTP {status}"));
            event.error = Some(Cow::Owned(message));
        } else if endpoint == Endpoint::ContainerCreate
            && let Ok(CreateResponse { id: Some(id) }) = serde_json::from_str(&answer)
            && let Some(c) = event.containers.first_mut()
        {
            c.id = non_empty(Some(id)).map(|i| Cow::Owned(i.into_owned()));
        }
    }
    let event = event.into_owned();
    Ok(Decoded {
        event,
        evaluate,
        // Plugins often log requests alone: a request is learned from, unless its
        // response says it failed.
        settles: true,
        evaluate_once: false,
        raw: None,
    })
}

/// A shape error located at `field` in the record.
fn body_error(text: &str, field: &str, message: String) -> DecodeError {
    let column = text
        .find(&format!("\"{field}\""))
        .map_or(1, |at| text[..at].chars().count() + 1);
    DecodeError::shape(Source::DockerAuthz, column, format!("`{field}` {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::base64::encode as b64;
    use crate::model::{Action, RestartPolicy};

    fn request(method: &str, uri: &str, body: &str) -> String {
        format!(
            r#"{{"User":"ops-ci","UserAuthNMethod":"TLS","RequestMethod":"{method}","RequestUri":"{uri}","RequestBody":"{}","RequestHeaders":{{"Content-Type":"application/json","User-Agent":"Docker-Client/26.1.0 (linux)"}},"time":"2024-05-14T09:40:00.5Z"}}"#,
            b64(body)
        )
    }

    const PRIVILEGED: &str = r#"{"Image":"registry.example.com:5000/ops/node-agent:2.1","Entrypoint":["/bin/sh"],"Cmd":["-c","sleep infinity"],"User":"0","Labels":{},"HostConfig":{"Privileged":true,"PidMode":"host","NetworkMode":"bridge","IpcMode":"","Binds":["/:/host","/var/run/docker.sock:/var/run/docker.sock"],"CapAdd":["SYS_ADMIN"],"SecurityOpt":["apparmor=unconfined"],"RestartPolicy":{"Name":"always","MaximumRetryCount":0}}}"#;

    #[test]
    fn privileged_create() {
        let text = request(
            "POST",
            "/v1.45/containers/create?name=node-agent",
            PRIVILEGED,
        );
        assert_eq!(crate::decode::detect(&text), Some(Source::DockerAuthz));
        let decoded = decode(&text).unwrap();
        assert!(decoded.evaluate);
        let e = decoded.event;
        assert_eq!(
            (e.source, e.action),
            (Source::DockerAuthz, Action::ContainerCreate)
        );
        assert_eq!(e.raw_action, "POST /containers/create");
        assert_eq!(e.time_ns, Some(1_715_679_600_500_000_000));
        let p = e.principal.as_ref().unwrap();
        assert_eq!(p.name, "ops-ci");
        assert_eq!(p.kind.as_deref(), Some("TLS"));
        assert_eq!(
            p.user_agent.as_deref(),
            Some("Docker-Client/26.1.0 (linux)")
        );
        let c = &e.containers[0];
        assert_eq!(c.name.as_deref(), Some("node-agent"));
        assert_eq!(
            c.image.as_ref().map(|i| &*i.registry),
            Some("registry.example.com:5000")
        );
        let s = &c.security;
        assert_eq!(s.privileged, Some(true));
        assert_eq!(s.host_pid, Some(true));
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(s.security_opt, ["apparmor=unconfined"]);
        assert_eq!(
            s.restart_policy,
            Some(RestartPolicy {
                name: "always".into(),
                max_retries: None
            })
        );
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
        let hosts: Vec<&str> = s.host_mounts.iter().map(|m| &*m.host_path).collect();
        assert_eq!(hosts, ["/", "/var/run/docker.sock"]);
    }

    #[test]
    fn start_exec_pull_and_list() {
        let id = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
        let text = request("POST", &format!("/v1.45/containers/{id}/start"), "");
        let e = decode(&text).unwrap().event;
        assert_eq!(e.action, Action::ContainerStart);
        assert_eq!(e.containers[0].id.as_deref(), Some(id));
        assert!(e.containers[0].security.is_unknown());

        let text = request(
            "POST",
            "/v1.45/containers/node-agent/exec",
            r#"{"AttachStdout":true,"Cmd":["/bin/sh","-c","cat /host/etc/shadow"],"User":"","WorkingDir":""}"#,
        );
        let e = decode(&text).unwrap().event;
        assert_eq!(e.action, Action::ContainerExec);
        assert_eq!(e.containers[0].name.as_deref(), Some("node-agent"));
        let p = e.process.unwrap();
        assert_eq!(
            p.command_line.as_deref(),
            Some("/bin/sh -c 'cat /host/etc/shadow'")
        );
        assert_eq!(p.user, None);

        let text = request(
            "POST",
            "/v1.45/images/create?fromImage=203.0.113.50%3A5000%2Ftools%2Fxmr&tag=latest",
            "",
        );
        let e = decode(&text).unwrap().event;
        assert_eq!(e.action, Action::ImagePull);
        let image = e.containers[0].image.as_ref().unwrap();
        assert_eq!(
            (&*image.registry, &*image.repository, image.tag.as_deref()),
            ("203.0.113.50:5000", "tools/xmr", Some("latest"))
        );

        let text = request("GET", "/v1.45/containers/json?all=1", "");
        let e = decode(&text).unwrap().event;
        assert_eq!((e.action, e.containers.len()), (Action::ResourceList, 0));

        let text = request("GET", "/_ping", "");
        assert_eq!(decode(&text).unwrap().event.action, Action::Other);
    }

    #[test]
    fn a_local_socket_request_has_no_principal() {
        let text = r#"{"RequestMethod":"POST","RequestUri":"/containers/create","RequestBody":"eyJJbWFnZSI6ImFscGluZSJ9"}"#;
        let e = decode(text).unwrap().event;
        assert!(e.principal.is_none());
        assert_eq!(e.time_ns, None);
        assert_eq!(
            e.containers[0].image.as_ref().map(|i| &*i.repository),
            Some("library/alpine")
        );
        assert!(e.containers[0].security.is_unknown());
        // No body at all: still a create, of which nothing is known.
        let e =
            decode(r#"{"RequestMethod":"POST","RequestURI":"/v1.24/containers/create?name=x"}"#)
                .unwrap()
                .event;
        assert_eq!(e.action, Action::ContainerCreate);
        assert_eq!(e.containers[0].name.as_deref(), Some("x"));
    }

    #[test]
    fn a_response_is_decoded_but_not_evaluated() {
        let id = "840913728dd8b3c6a1c47b7c1a4a6ef3f8e2d9c5b7a6f4e3d2c1b0a9f8e7d6c5";
        let text = format!(
            r#"{{"User":"ops-ci","UserAuthNMethod":"TLS","RequestMethod":"POST","RequestUri":"/v1.45/containers/create?name=web","RequestBody":"{}","ResponseStatusCode":201,"ResponseBody":"{}"}}"#,
            b64(r#"{"Image":"nginx:1.25","HostConfig":{"Privileged":false}}"#),
            b64(&format!(r#"{{"Id":"{id}","Warnings":[]}}"#))
        );
        let d = decode(&text).unwrap();
        assert!(!d.evaluate);
        assert_eq!(d.event.response_code, Some(201));
        assert_eq!(d.event.error, None);
        assert_eq!(d.event.containers[0].id.as_deref(), Some(id));
        assert_eq!(d.event.containers[0].security.privileged, Some(false));

        let text = format!(
            r#"{{"RequestMethod":"POST","RequestUri":"/containers/web/start","ResponseStatusCode":404,"ResponseBody":"{}"}}"#,
            b64(r#"{"message":"No such container: web"}"#)
        );
        let d = decode(&text).unwrap();
        assert_eq!(d.event.response_code, Some(404));
        assert_eq!(d.event.error.as_deref(), Some("No such container: web"));
    }

    #[test]
    fn bad_records_are_located_errors() {
        // Not base64: the error points at the field.
        let text = r#"{"RequestMethod":"POST","RequestUri":"/containers/create","RequestBody":"not base64!"}"#;
        match decode(text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert_eq!(column, 59);
                assert!(message.contains("RequestBody"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // Base64 of something that is not a create body.
        let text = format!(
            r#"{{"RequestMethod":"POST","RequestUri":"/containers/create","RequestBody":"{}"}}"#,
            b64(r#"{"HostConfig":{"Privileged":"yes"}}"#)
        );
        assert!(matches!(decode(&text), Err(DecodeError::Shape { .. })));
        // Another format's record.
        let docker_event = r#"{"Type":"container","Action":"start","Actor":{"ID":"x"},"time":1}"#;
        assert!(matches!(
            decode(docker_event),
            Err(DecodeError::Shape {
                format: Source::DockerAuthz,
                ..
            })
        ));
        // Wrong types.
        assert!(matches!(
            decode(r#"{"RequestMethod":5,"RequestUri":"/x"}"#),
            Err(DecodeError::Shape { column: 18, .. })
        ));
        assert!(matches!(
            decode(r#"{"RequestMethod":"GET","RequestUri":"/x""#),
            Err(DecodeError::Syntax { .. })
        ));
    }

    /// Every line of the samples decodes, and no prefix of one makes the decoder panic.
    #[test]
    fn samples_decode_and_their_prefixes_never_panic() {
        for sample in [
            include_str!("../../../../samples/docker-authz/risky.ndjson"),
            include_str!("../../../../samples/docker-authz/benign.ndjson"),
        ] {
            for line in sample.lines() {
                assert_eq!(crate::decode::detect(line), Some(Source::DockerAuthz));
                decode(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                for (at, _) in line.char_indices() {
                    let _ = decode(&line[..at]);
                }
            }
        }
    }
}
