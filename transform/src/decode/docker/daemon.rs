//! dockerd's own log, read for the API calls it records at debug level.
//!
//! With `--debug` (or `"debug": true` in `daemon.json`) the daemon's request middleware
//! (moby `api/server/middleware/debug.go`) logs every call as `Calling <METHOD>
//! <RequestURI>` and, for a JSON `POST` body of at most 4096 bytes, a second line `form
//! data: <the body re-encoded as JSON>` (keys sorted; `password`, `secret`, `jointoken`
//! and `unlockkey` values masked). A call that fails with a server error adds `Handler
//! for <METHOD> <path> returned error: <message>`, and one an authorization plugin
//! refuses `AuthZRequest for <METHOD> <URI> returned error: <message>`; both become an
//! unevaluated event with the message as `error`. The lines come in three framings,
//! all read here:
//!
//! - logrus text, the default: `time="2024-05-01T10:00:00.123456789Z" level=debug
//!   msg="Calling POST /v1.45/containers/create?name=web"`, values that need it quoted
//!   with Go's `%q` (so a body's quotes arrive as `\"`), other fields after `msg`;
//! - the same behind a syslog or journald prefix: `May 01 10:00:00 node-1
//!   dockerd[812]: time="..." level=debug msg="..."`, whose host becomes `event.host`;
//! - logrus JSON (`--log-format json`): `{"level":"debug","msg":"...","time":"..."}`.
//!
//! A `Calling` line tells the endpoint; the `form data:` line that follows it in the
//! same file carries the body, so the last `POST` of each file that still waits for
//! its body is kept in [`Calls`] and the create (or exec) event is emitted on the
//! `form data:` line. A
//! `Calling` line whose meaning is complete without a body (a start, a container
//! listing) is an event of its own; one that waits for its body decodes to an
//! unevaluated `other` event, so every line is accounted for. A create whose body was
//! over 4096 bytes (many labels or environment variables) is therefore never seen
//! here. Every other line of the daemon is an unevaluated `other` event, with its
//! message as `error` when logged at level `error` or worse.
//!
//! Only lines that are plainly dockerd's are claimed: text lines with logrus's layout
//! (`time="..." level=... msg=...`, or a syslog prefix naming `dockerd`), and JSON lines
//! whose message is one of the API lines above. Any Go service using logrus writes the
//! same JSON for its other messages, so those are left to other decoders unless the
//! source is forced.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;

use super::api::{ApiCall, Endpoint};
use super::create_body::{CreateBody, ExecBody};
use crate::decode::{Context, DecodeError, Decoded, Decoder, Detect, Format, Keys, json_message};
use crate::model::{Action, Event, Source};
use crate::normalize::borrowed::{Str, non_empty};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::DockerDaemon,
    logsource: ("docker", "daemon"),
    about: "dockerd's log (`Calling POST ...`, `form data: {...}`)",
    detect: Detect {
        // Any Go service using logrus writes `msg` and `level`: only dockerd's API lines
        // are claimed.
        json: &[Keys {
            all: &["\"msg\":", "\"level\":"],
            without: &[],
            check: Some(sniff_json),
        }],
        text: Some(|text, _, _| sniff_text(text)),
    },
    raw_roots: &["level", "msg", "time"],
    decode: Decoder::Stream(|text, state, ctx| decode(text, &mut state.docker_daemon, ctx)),
};

/// Files whose pending call is remembered; past this many the oldest are dropped.
const MAX_FILES: usize = 1024;

/// The API call each daemon log is in the middle of: the last `POST` whose `form data:`
/// line has not come yet, per file.
#[derive(Default)]
pub(crate) struct Calls {
    pending: HashMap<String, PendingCall>,
}

struct PendingCall {
    method: String,
    uri: String,
}

impl Calls {
    fn remember(&mut self, file: &str, method: &str, uri: &str) {
        if self.pending.len() >= MAX_FILES && !self.pending.contains_key(file) {
            self.pending.clear();
        }
        self.pending.insert(
            file.to_string(),
            PendingCall {
                method: method.to_string(),
                uri: uri.to_string(),
            },
        );
    }
}

const CALLING: &str = "Calling ";
const FORM_DATA: &str = "form data: ";
const HANDLER_FOR: &str = "Handler for ";
const AUTHZ_REQUEST_FOR: &str = "AuthZRequest for ";
const RETURNED_ERROR: &str = " returned error: ";

/// Whether a JSON record is one of dockerd's API lines in logrus JSON: a `msg` that
/// is a `Calling`, `Handler for` or `AuthZRequest for` line naming an HTTP method and a
/// path, or a `form data:` line holding an object.
fn sniff_json(text: &str) -> bool {
    const MSG: &str = "\"msg\":\"";
    text.match_indices(MSG)
        .any(|(at, _)| text.get(at + MSG.len()..).is_some_and(is_api_message))
}

fn is_api_message(msg: &str) -> bool {
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];
    if let Some(body) = msg.strip_prefix(FORM_DATA) {
        return body.starts_with('{');
    }
    [CALLING, HANDLER_FOR, AUTHZ_REQUEST_FOR]
        .iter()
        .find_map(|prefix| msg.strip_prefix(prefix))
        .and_then(|call| call.split_once(' '))
        .is_some_and(|(method, uri)| METHODS.contains(&method) && uri.starts_with('/'))
}

/// Whether a text line is dockerd's logrus text: behind a syslog prefix that names
/// dockerd, or bare with logrus's own layout (`time="..." level=... msg=...`).
fn sniff_text(text: &str) -> bool {
    match split_prefix(text) {
        Some((prefix, rest)) => {
            let has_fields = rest.contains(" level=") && rest.contains(" msg=")
                || rest.starts_with("level=") && rest.contains(" msg=");
            let ours = if prefix.is_empty() {
                rest.starts_with("time=\"")
            } else {
                process_of(prefix).is_some()
            };
            has_fields && ours
        }
        None => false,
    }
}

/// The line split before its logrus fields (`time="` or `level=`), when it has them.
fn split_prefix(text: &str) -> Option<(&str, &str)> {
    let at = [text.find("time=\""), text.find("level=")]
        .into_iter()
        .flatten()
        .min()?;
    let (prefix, rest) = text.split_at(at);
    (prefix.is_empty() || prefix.ends_with(' ')).then_some((prefix, rest))
}

/// The host of a syslog prefix that names dockerd (`May 01 10:00:00 node-1
/// dockerd[812]: `): the word before the process.
fn process_of(prefix: &str) -> Option<Option<&str>> {
    let mut words = prefix.split_whitespace().rev();
    let process = words.next()?;
    let name = process.trim_end_matches(':');
    let name = name.split_once('[').map_or(name, |(n, _)| n);
    (process.ends_with(':') && (name == "dockerd" || name.ends_with("/dockerd")))
        .then(|| words.next())
}

/// The fields read from a line, whichever framing it came in.
struct Line<'a> {
    time: Option<Cow<'a, str>>,
    level: Option<Cow<'a, str>>,
    msg: Cow<'a, str>,
    host: Option<&'a str>,
}

#[derive(Deserialize)]
struct RawJsonLine<'a> {
    #[serde(borrow)]
    level: Option<Str<'a>>,
    #[serde(borrow)]
    msg: Option<Str<'a>>,
    #[serde(borrow)]
    time: Option<Str<'a>>,
}

fn decode<'a>(
    text: &'a str,
    state: &mut Calls,
    ctx: &Context<'_>,
) -> Result<Vec<Decoded<'a>>, DecodeError> {
    let line = if text.trim_start().starts_with('{') {
        json_line(text)?
    } else {
        text_line(text)?
    };
    let msg = line.msg.as_ref();
    let mut decoded = if let Some(call) = msg.strip_prefix(CALLING) {
        calling(call, state, ctx)
    } else if let Some(body) = msg.strip_prefix(FORM_DATA) {
        form_data(body, state, ctx)?
    } else if let Some(rest) = msg
        .strip_prefix(HANDLER_FOR)
        .or_else(|| msg.strip_prefix(AUTHZ_REQUEST_FOR))
        && let Some((call, error)) = rest.split_once(RETURNED_ERROR)
    {
        handler_error(call, error)
    } else {
        let mut event = Event::new(Source::DockerDaemon, Action::Other, "log");
        if line
            .level
            .as_deref()
            .is_some_and(|l| matches!(l, "error" | "fatal" | "panic"))
        {
            event.error = Some(Cow::Owned(msg.to_string()));
        }
        Decoded {
            event,
            evaluate: false,
            settles: false,
            evaluate_once: false,
            raw: None,
        }
    };
    decoded.event.time_ns = line.time.as_deref().and_then(parse_rfc3339_ns);
    decoded.event.host = line.host.map(Cow::Borrowed);
    Ok(vec![decoded])
}

fn json_line(text: &str) -> Result<Line<'_>, DecodeError> {
    let raw: RawJsonLine<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::DockerDaemon, e))?;
    let msg = raw
        .msg
        .ok_or_else(|| DecodeError::shape(Source::DockerDaemon, 1, "missing field `msg`"))?;
    Ok(Line {
        time: non_empty(raw.time),
        level: non_empty(raw.level),
        msg: msg.0,
        host: None,
    })
}

fn text_line(text: &str) -> Result<Line<'_>, DecodeError> {
    let (prefix, rest) = split_prefix(text).ok_or_else(|| {
        DecodeError::shape(
            Source::DockerDaemon,
            1,
            "no logrus `time=` or `level=` field",
        )
    })?;
    let host = if prefix.is_empty() {
        None
    } else {
        process_of(prefix).ok_or_else(|| {
            DecodeError::shape(Source::DockerDaemon, 1, "the line is not from dockerd")
        })?
    };
    let (mut time, mut level, mut msg) = (None, None, None);
    for field in Fields::new(rest, prefix.len()) {
        let (key, value) = field?;
        match key {
            "time" => time = Some(value),
            "level" => level = Some(value),
            "msg" => msg = Some(value),
            _ => {}
        }
    }
    let msg = msg.ok_or_else(|| {
        DecodeError::shape(Source::DockerDaemon, text.len(), "missing field `msg`")
    })?;
    Ok(Line {
        time,
        level,
        msg,
        host,
    })
}

/// A `Calling METHOD URI` line.
fn calling<'a>(call: &str, state: &mut Calls, ctx: &Context<'_>) -> Decoded<'a> {
    let (method, uri) = call.split_once(' ').unwrap_or((call, ""));
    let api = ApiCall::parse(method, uri.trim());
    // Any POST may be followed by its body; the line that follows is matched to it.
    if method.eq_ignore_ascii_case("POST") {
        state.remember(ctx.file, method, uri.trim());
    }
    if api.endpoint.needs_body() {
        let event = Event::new(Source::DockerDaemon, Action::Other, api.route);
        return Decoded {
            event,
            evaluate: false,
            settles: false,
            evaluate_once: false,
            raw: None,
        };
    }
    let mut event = Event::new(
        Source::DockerDaemon,
        api.endpoint.action(),
        api.route.clone(),
    );
    if api.endpoint == Endpoint::ImagePull {
        event
            .containers
            .extend(api.pulled_image().map(|image| crate::model::Container {
                image: Some(image),
                ..Default::default()
            }));
    } else {
        event.containers.extend(api.container());
    }
    Decoded::evaluated(event.into_owned())
}

/// A `form data: {...}` line: the body of the file's pending call. Without one, a body
/// with an `Image` or a `HostConfig` can only be a container create.
fn form_data<'a>(
    body: &str,
    state: &mut Calls,
    ctx: &Context<'_>,
) -> Result<Decoded<'a>, DecodeError> {
    let pending = state.pending.remove(ctx.file);
    let api = pending.as_ref().map(|p| ApiCall::parse(&p.method, &p.uri));
    let endpoint = match &api {
        Some(api) => api.endpoint,
        None if body.contains("\"HostConfig\":") || body.contains("\"Image\":") => {
            Endpoint::ContainerCreate
        }
        None => Endpoint::Other,
    };
    let route = api
        .as_ref()
        .map_or_else(|| "form data".to_string(), |a| a.route.clone());
    let shape = |e: serde_json::Error| {
        DecodeError::shape(
            Source::DockerDaemon,
            1,
            format!("form data at column {}: {}", e.column(), json_message(&e)),
        )
    };
    let mut event = Event::new(Source::DockerDaemon, endpoint.action(), route);
    let evaluate = match endpoint {
        Endpoint::ContainerCreate => {
            let name = api.as_ref().and_then(|a| a.param("name"));
            let (workload, container) = serde_json::from_str::<CreateBody<'_>>(body)
                .map_err(shape)?
                .into_container(name);
            event.workload = workload;
            event.containers.push(container);
            true
        }
        Endpoint::ContainerExec => {
            let process = serde_json::from_str::<ExecBody<'_>>(body)
                .map_err(shape)?
                .into_process();
            event.process = Some(process);
            event
                .containers
                .extend(api.as_ref().and_then(ApiCall::container));
            true
        }
        _ => false,
    };
    Ok(Decoded {
        event: event.into_owned(),
        evaluate,
        settles: evaluate,
        evaluate_once: false,
        raw: Some(Cow::Owned(body.to_string())),
    })
}

/// `Handler for POST /v1.45/containers/{id}/start returned error: ...` and
/// `AuthZRequest for POST /v1.45/containers/create returned error: ...`.
fn handler_error<'a>(call: &str, error: &str) -> Decoded<'a> {
    let (method, uri) = call.split_once(' ').unwrap_or((call, ""));
    let api = ApiCall::parse(method, uri.trim());
    let mut event = Event::new(Source::DockerDaemon, Action::Other, api.route.clone());
    event.error = Some(Cow::Owned(error.to_string()));
    event
        .containers
        .extend(api.container().map(|c| c.into_owned()));
    Decoded {
        event: event.into_owned(),
        evaluate: false,
        settles: false,
        evaluate_once: false,
        raw: None,
    }
}

/// logfmt `key=value` pairs as logrus writes them: values bare, or in double quotes
/// with Go escapes.
struct Fields<'a> {
    text: &'a str,
    at: usize,
    /// Where `text` starts in the line, for error columns.
    offset: usize,
}

impl<'a> Fields<'a> {
    fn new(text: &'a str, offset: usize) -> Self {
        Fields {
            text,
            at: 0,
            offset,
        }
    }

    fn error(&self, at: usize, message: &str) -> DecodeError {
        DecodeError::shape(Source::DockerDaemon, self.offset + at + 1, message)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(&'a str, Cow<'a, str>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        while bytes.get(self.at).is_some_and(|b| *b == b' ') {
            self.at += 1;
        }
        if self.at >= bytes.len() {
            return None;
        }
        let start = self.at;
        let Some(eq) = self.text[start..].find(['=', ' ']).map(|i| start + i) else {
            self.at = bytes.len();
            return Some(Err(self.error(start, "a field without `=`")));
        };
        if bytes.get(eq) != Some(&b'=') {
            self.at = bytes.len();
            return Some(Err(self.error(start, "a field without `=`")));
        }
        let key = &self.text[start..eq];
        let value_start = eq + 1;
        if bytes.get(value_start) == Some(&b'"') {
            match unquote(&self.text[value_start..]) {
                Some((value, len)) => {
                    self.at = value_start + len;
                    Some(Ok((key, value)))
                }
                None => {
                    self.at = bytes.len();
                    Some(Err(self.error(value_start, "an unterminated quoted value")))
                }
            }
        } else {
            let end = self.text[value_start..]
                .find(' ')
                .map_or(bytes.len(), |i| value_start + i);
            self.at = end;
            Some(Ok((key, Cow::Borrowed(&self.text[value_start..end]))))
        }
    }
}

/// A Go `%q` string at the start of `s` (which begins with `"`): its value, borrowed
/// when it has no escapes, and how many bytes it took, quotes included. `None` when it
/// does not end or an escape is malformed.
fn unquote(s: &str) -> Option<(Cow<'_, str>, usize)> {
    let body = s.get(1..)?;
    let end = body.find(['"', '\\'])?;
    if body.as_bytes().get(end) == Some(&b'"') {
        return Some((Cow::Borrowed(&body[..end]), end + 2));
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(out), i + 2)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    '"' | '\\' | '\'' => out.push(e),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    'x' | 'u' | 'U' => {
                        let digits = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut n = 0u32;
                        for _ in 0..digits {
                            n = n * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        // `\xNN` is a byte; a lone byte of a multi-byte character is
                        // not text, and is replaced.
                        out.push(
                            char::from_u32(n)
                                .filter(|_| e != 'x' || n < 0x80)
                                .unwrap_or('\u{fffd}'),
                        );
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RestartPolicy;

    const CREATE_BODY: &str = r#"{"Cmd":["-c","sleep infinity"],"Entrypoint":["/bin/sh"],"HostConfig":{"Binds":["/var/run/docker.sock:/var/run/docker.sock","/:/host"],"CapAdd":["SYS_ADMIN"],"IpcMode":"","NetworkMode":"host","PidMode":"host","Privileged":true,"RestartPolicy":{"MaximumRetryCount":0,"Name":"always"},"SecurityOpt":["apparmor=unconfined"]},"Image":"registry.example.com:5000/ops/node-agent:2.1","Labels":{},"User":"0"}"#;

    /// `s` as Go's `%q` writes it.
    fn go_quote(s: &str) -> String {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }

    fn run(lines: &[String]) -> Vec<Decoded<'static>> {
        let mut state = Calls::default();
        let ctx = Context {
            file: "dockerd.log",
            ..Context::default()
        };
        lines
            .iter()
            .flat_map(|l| {
                decode(l, &mut state, &ctx)
                    .unwrap_or_else(|e| panic!("{e}: {l}"))
                    .into_iter()
                    .map(Decoded::into_owned)
            })
            .collect()
    }

    fn check_create(d: &Decoded<'_>) {
        assert!(d.evaluate);
        let e = &d.event;
        assert_eq!(
            (e.source, e.action),
            (Source::DockerDaemon, Action::ContainerCreate)
        );
        assert_eq!(e.raw_action, "POST /containers/create");
        let c = &e.containers[0];
        assert_eq!(c.name.as_deref(), Some("node-agent"));
        let s = &c.security;
        assert_eq!(
            (s.privileged, s.host_pid, s.host_network),
            (Some(true), Some(true), Some(true))
        );
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(s.security_opt, ["apparmor=unconfined"]);
        assert_eq!(
            s.restart_policy,
            Some(RestartPolicy {
                name: "always".into(),
                max_retries: None
            })
        );
        assert_eq!(s.host_mounts.len(), 2);
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
        assert!(d.raw.as_deref().is_some_and(|r| r.starts_with(r#"{"Cmd""#)));
    }

    #[test]
    fn text_calling_then_form_data() {
        let decoded = run(&[
            r#"time="2024-05-14T09:40:00.100000000Z" level=debug msg="Calling POST /v1.45/containers/create?name=node-agent""#.to_string(),
            format!(
                r#"time="2024-05-14T09:40:00.100200000Z" level=debug msg={}"#,
                go_quote(&format!("form data: {CREATE_BODY}"))
            ),
        ]);
        assert_eq!(decoded.len(), 2);
        assert!(!decoded[0].evaluate);
        assert_eq!(decoded[0].event.action, Action::Other);
        assert_eq!(decoded[0].event.raw_action, "POST /containers/create");
        check_create(&decoded[1]);
        assert_eq!(decoded[1].event.time_ns, Some(1_715_679_600_100_200_000));
        assert_eq!(decoded[1].event.host, None);
    }

    #[test]
    fn journald_prefix_gives_the_host() {
        let decoded = run(&[
            r#"May 14 09:40:00 node-1 dockerd[812]: time="2024-05-14T09:40:00.100000000Z" level=debug msg="Calling POST /v1.45/containers/create?name=node-agent""#.to_string(),
            format!(
                r#"May 14 09:40:00 node-1 dockerd[812]: time="2024-05-14T09:40:00.100200000Z" level=debug msg={}"#,
                go_quote(&format!("form data: {CREATE_BODY}"))
            ),
        ]);
        check_create(&decoded[1]);
        assert_eq!(decoded[1].event.host.as_deref(), Some("node-1"));
    }

    #[test]
    fn json_format() {
        let msg = serde_json::to_string(&format!("form data: {CREATE_BODY}")).unwrap();
        let lines = [
            r#"{"level":"debug","msg":"Calling POST /v1.45/containers/create?name=node-agent","time":"2024-05-14T09:40:00.100000000Z"}"#.to_string(),
            format!(r#"{{"level":"debug","msg":{msg},"time":"2024-05-14T09:40:00.100200000Z"}}"#),
        ];
        for l in &lines {
            assert_eq!(crate::decode::detect(l), Some(Source::DockerDaemon), "{l}");
        }
        check_create(&run(&lines)[1]);
    }

    #[test]
    fn calls_complete_without_a_body() {
        let id = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
        let d = run(&[
            format!(r#"time="2024-05-14T09:40:01.000000000Z" level=debug msg="Calling POST /v1.45/containers/{id}/start""#),
            r#"time="2024-05-14T09:40:02.000000000Z" level=debug msg="Calling GET /v1.45/containers/json?all=1""#.to_string(),
            r#"time="2024-05-14T09:40:03.000000000Z" level=debug msg="Calling HEAD /_ping""#.to_string(),
            r#"time="2024-05-14T09:40:04.000000000Z" level=debug msg="Calling POST /v1.45/images/create?fromImage=alpine&tag=3.19""#.to_string(),
        ]);
        assert_eq!(d[0].event.action, Action::ContainerStart);
        assert_eq!(d[0].event.containers[0].id.as_deref(), Some(id));
        assert_eq!(d[1].event.action, Action::ResourceList);
        assert_eq!(d[2].event.action, Action::Other);
        assert_eq!(d[3].event.action, Action::ImagePull);
        assert_eq!(
            d[3].event.containers[0]
                .image
                .as_ref()
                .and_then(|i| i.tag.as_deref()),
            Some("3.19")
        );
        assert!(d.iter().all(|d| d.evaluate));
    }

    #[test]
    fn exec_body() {
        let d = run(&[
            r#"time="2024-05-14T09:41:00.000000000Z" level=debug msg="Calling POST /v1.45/containers/node-agent/exec""#.to_string(),
            r#"time="2024-05-14T09:41:00.000100000Z" level=debug msg="form data: {\"AttachStderr\":true,\"AttachStdin\":false,\"AttachStdout\":true,\"Cmd\":[\"sh\",\"-c\",\"id\"],\"Detach\":false,\"DetachKeys\":\"\",\"Env\":null,\"Privileged\":false,\"Tty\":false,\"User\":\"\",\"WorkingDir\":\"\"}""#.to_string(),
            r#"time="2024-05-14T09:41:00.002000000Z" level=debug msg="Calling POST /v1.45/exec/9a1b/start""#.to_string(),
        ]);
        assert_eq!(d[1].event.action, Action::ContainerExec);
        assert_eq!(d[1].event.containers[0].name.as_deref(), Some("node-agent"));
        assert_eq!(
            d[1].event
                .process
                .as_ref()
                .and_then(|p| p.command_line.as_deref()),
            Some("sh -c id")
        );
        assert_eq!(d[2].event.action, Action::Other);
    }

    #[test]
    fn other_lines_and_errors() {
        let d = run(&[
            r#"time="2024-05-14T09:39:00.000000000Z" level=info msg="API listen on /run/docker.sock""#.to_string(),
            r#"time="2024-05-14T09:42:00.000000000Z" level=error msg="Handler for POST /v1.45/containers/create returned error: No such image: ops/agent:9" spanID=1a2b traceID=3c4d"#.to_string(),
            r#"time="2024-05-14T09:42:01.000000000Z" level=error msg="failed to mount overlay: \"no space left\"" storage-driver=overlay2"#.to_string(),
            // A form data line with no call before it and no create keys.
            r#"time="2024-05-14T09:42:02.000000000Z" level=debug msg="form data: {\"Name\":\"net1\"}""#.to_string(),
        ]);
        assert!(d.iter().all(|d| !d.evaluate));
        assert_eq!(d[0].event.raw_action, "log");
        assert_eq!(d[0].event.error, None);
        assert_eq!(d[1].event.raw_action, "POST /containers/create");
        assert_eq!(
            d[1].event.error.as_deref(),
            Some("No such image: ops/agent:9")
        );
        assert_eq!(
            d[2].event.error.as_deref(),
            Some(r#"failed to mount overlay: "no space left""#)
        );
        assert_eq!(d[3].event.raw_action, "form data");
    }

    #[test]
    fn a_form_data_line_belongs_to_its_own_file() {
        let mut state = Calls::default();
        let a = Context {
            file: "a.log",
            ..Context::default()
        };
        let b = Context {
            file: "b.log",
            ..Context::default()
        };
        let calling = r#"level=debug msg="Calling POST /containers/create?name=x""#;
        decode(calling, &mut state, &a).unwrap();
        let body = r#"level=debug msg="form data: {\"Image\":\"alpine\"}""#;
        let in_b = decode(body, &mut state, &b).unwrap().remove(0);
        assert_eq!(in_b.event.raw_action, "form data", "b.log had no call");
        assert_eq!(in_b.event.containers[0].name, None);
        let in_a = decode(body, &mut state, &a).unwrap().remove(0);
        assert_eq!(in_a.event.containers[0].name.as_deref(), Some("x"));
    }

    #[test]
    fn sniffing() {
        for yes in [
            r#"time="2024-05-14T09:39:00.000000000Z" level=info msg="Daemon has completed initialization""#,
            r#"May 14 09:40:00 node-1 dockerd[812]: time="2024-05-14T09:40:00Z" level=debug msg="Calling HEAD /_ping""#,
            r#"2024-05-14T09:40:00+00:00 node-1 /usr/bin/dockerd[812]: level=info msg="x""#,
        ] {
            assert!(sniff_text(yes), "{yes}");
        }
        for no in [
            r#"May 14 09:40:00 node-1 containerd[700]: time="2024-05-14T09:40:00Z" level=info msg="x""#,
            r#"type=EXECVE msg=audit(1715679600.000:1): argc=1 a0="docker""#,
            "plain text",
            r#"xtime="1" level=info msg=x"#,
        ] {
            assert!(!sniff_text(no), "{no}");
        }
        assert!(!sniff_json(
            r#"{"level":"info","msg":"listening","time":"2024-05-14T09:40:00Z"}"#
        ));
        assert!(
            crate::decode::detect(r#"{"level":"info","msg":"Calling me","time":"x"}"#).is_none()
        );
        assert!(sniff_json(
            r#"{"level":"error","msg":"Handler for GET /v1.45/containers/x/json returned error: boom","time":"x"}"#
        ));
        assert!(!sniff_json(
            r#"{"level":"debug","msg":"form data: none","time":"x"}"#
        ));
    }

    #[test]
    fn malformed_lines_are_located_errors() {
        let mut state = Calls::default();
        let ctx = Context::default();
        let err = |l: &str| decode(l, &mut Calls::default(), &Context::default()).unwrap_err();
        match err(r#"time="2024-05-14T09:40:00Z" level=debug msg="Calling POST"#) {
            DecodeError::Shape { column, .. } => assert_eq!(column, 45),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            err(r#"time="2024" level=debug"#),
            DecodeError::Shape { .. }
        ));
        assert!(matches!(
            err(r#"level=debug msg="\q""#),
            DecodeError::Shape { .. }
        ));
        assert!(matches!(
            err(r#"{"level":"debug"}"#),
            DecodeError::Shape { .. }
        ));
        assert!(matches!(
            err(r#"{"msg":5}"#),
            DecodeError::Shape { column: 8, .. }
        ));
        // A create body that is not one.
        decode(
            r#"level=debug msg="Calling POST /containers/create""#,
            &mut state,
            &ctx,
        )
        .unwrap();
        assert!(matches!(
            decode(
                r#"level=debug msg="form data: {\"HostConfig\":[]}""#,
                &mut state,
                &ctx
            ),
            Err(DecodeError::Shape { .. })
        ));
        // Garbage after a Calling never panics.
        for l in [
            "level=x msg=\"Calling \"",
            "level=x msg=\"Calling\"",
            "level= msg=",
            "level=\"",
            "msg=\"\\u12\"",
        ] {
            let _ = decode(l, &mut state, &ctx);
        }
    }

    #[test]
    fn go_unquoting() {
        assert_eq!(unquote(r#""plain" x"#), Some((Cow::Borrowed("plain"), 7)));
        assert_eq!(
            unquote(r#""a\"b\\c\n\t\x41\u00e9\U0001F600" rest"#).map(|(v, _)| v.into_owned()),
            Some("a\"b\\c\n\tAé😀".to_string())
        );
        assert_eq!(
            unquote(r#""\xff""#).map(|(v, _)| v.into_owned()),
            Some("\u{fffd}".into())
        );
        assert_eq!(unquote(r#""unterminated"#), None);
        assert_eq!(unquote(r#""bad \z""#), None);
        assert_eq!(unquote(r#""\u12""#), None);
    }

    /// Every line of the samples decodes, and no prefix of one makes the decoder panic.
    #[test]
    fn samples_decode_and_their_prefixes_never_panic() {
        for sample in [
            include_str!("../../../../samples/docker-daemon/dockerd-debug.log"),
            include_str!("../../../../samples/docker-daemon/journal-benign.log"),
            include_str!("../../../../samples/docker-daemon/dockerd-json.log"),
        ] {
            let mut state = Calls::default();
            let ctx = Context::default();
            for line in sample.lines() {
                let json = line.starts_with('{');
                assert!(
                    if json {
                        sniff_json(line)
                    } else {
                        sniff_text(line)
                    },
                    "{line}"
                );
                decode(line, &mut state, &ctx).unwrap_or_else(|e| panic!("{e}: {line}"));
                for (at, _) in line.char_indices() {
                    let _ = decode(&line[..at], &mut state, &ctx);
                }
            }
        }
    }
}
