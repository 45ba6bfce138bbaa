//! Launch attributes in one spelling: capabilities, security options, restart policies
//! and bind mounts, whichever source named them.
//!
//! One `docker run` reaches crowsnest as a command line (auditd, Falco, Tetragon), a
//! create body (an authorization plugin, dockerd's debug log), inspect output, and, for
//! the same intent on other platforms, a pod spec or an ECS task definition. Each source
//! spells the attributes its own way (`cap_sys_admin`, `CAP_SYS_ADMIN`, `SYS_ADMIN`;
//! `seccomp:unconfined`, `seccomp=unconfined`; `no-new-privileges:true`,
//! `no-new-privileges`); every decoder runs them through here so a rule compares one
//! spelling.

use std::borrow::Cow;

use super::text::{sub, trim, upper};
use crate::model::{HostMount, RestartPolicy};

/// A capability as Docker and Kubernetes document it: upper case, without the `CAP_`
/// prefix (`cap_sys_admin`, `CAP_SYS_ADMIN` and `SYS_ADMIN` are all `SYS_ADMIN`; the
/// Docker daemon and the container runtimes accept each of them). `None` for an empty
/// entry. Borrowed when the source already wrote the canonical form.
pub(crate) fn capability(cap: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let cap = trim(cap);
    if cap.is_empty() {
        return None;
    }
    let prefixed = cap.len() > 4 && cap.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CAP_"));
    let bare = if prefixed {
        sub(&cap, 4, cap.len())
    } else {
        cap
    };
    Some(upper(bare))
}

/// Every capability of a list, in order, empty entries dropped.
pub(crate) fn capabilities<'a>(caps: impl IntoIterator<Item = Cow<'a, str>>) -> Vec<Cow<'a, str>> {
    caps.into_iter().filter_map(capability).collect()
}

/// Option keys the daemon also accepts with a colon (`seccomp:unconfined`, the old
/// clients' spelling, and ECS's `apparmor:PROFILE`); `mask` and `unmask` are podman's.
const COLON_KEYS: [&str; 7] = [
    "label",
    "apparmor",
    "seccomp",
    "systempaths",
    "mask",
    "unmask",
    "credentialspec",
];

/// The option Docker documents for turning privilege escalation off.
const NO_NEW_PRIVILEGES: &str = "no-new-privileges";

/// A security option in the spelling Docker documents (`docker run --security-opt`):
/// `key=value`, and `no-new-privileges` alone for the flag that is on.
///
/// - `seccomp:unconfined`, `apparmor:unconfined`, `label:disable` (old clients, ECS)
///   become `seccomp=unconfined`, `apparmor=unconfined`, `label=disable`.
/// - `no-new-privileges`, `no-new-privileges=true` and `no-new-privileges:true` (and the
///   other spellings of true Go's `strconv.ParseBool` accepts, as the daemon does) are
///   `no-new-privileges`; the false spellings are `no-new-privileges=false`, so a rule
///   looking for the flag never matches the option that turns it off.
///
/// `None` for an empty option; anything else is kept as written.
pub(crate) fn security_opt(opt: Cow<'_, str>) -> Option<Cow<'_, str>> {
    if opt.is_empty() {
        return None;
    }
    if let Some(rest) = opt.strip_prefix(NO_NEW_PRIVILEGES) {
        // `no-new-privileges` alone, or a longer word that only begins like it.
        let Some(value) = rest.strip_prefix([':', '=']) else {
            return Some(opt);
        };
        return Some(match parse_bool(value) {
            Some(true) => Cow::Borrowed(NO_NEW_PRIVILEGES),
            Some(false) => Cow::Borrowed("no-new-privileges=false"),
            None => Cow::Owned(format!("{NO_NEW_PRIVILEGES}={value}")),
        });
    }
    for key in COLON_KEYS {
        if let Some(value) = opt.strip_prefix(key).and_then(|v| v.strip_prefix(':')) {
            return Some(Cow::Owned(format!("{key}={value}")));
        }
    }
    Some(opt)
}

/// Every security option of a list, in order, empty entries dropped.
pub(crate) fn security_opts<'a>(opts: impl IntoIterator<Item = Cow<'a, str>>) -> Vec<Cow<'a, str>> {
    opts.into_iter().filter_map(security_opt).collect()
}

/// Go's `strconv.ParseBool`, which the daemon parses option values with.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A restart policy as the source names it (`always`, `on-failure`; Kubernetes
/// `Always`, `OnFailure`, `Never`). `None` when it is unset, empty or Docker's `no`; the
/// retry limit only when one above 0 is set (0 means unlimited).
pub(crate) fn restart_policy(
    name: Cow<'_, str>,
    max_retries: Option<i64>,
) -> Option<RestartPolicy<'_>> {
    if name.is_empty() || name == "no" {
        return None;
    }
    Some(RestartPolicy {
        name,
        max_retries: max_retries
            .filter(|&n| n > 0)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
    })
}

/// Docker's `--restart` value: `always`, `unless-stopped`, `on-failure[:N]`, `no`.
pub(crate) fn restart_flag<'a>(value: &Cow<'a, str>) -> Option<RestartPolicy<'a>> {
    let (name, retries) = match value.split_once(':') {
        Some((name, n)) => (name, n.trim().parse::<i64>().ok()),
        None => (&**value, None),
    };
    restart_policy(sub(value, 0, name.len()), retries)
}

/// A bind mount written `SRC:DST[:OPTIONS]` (`docker run -v`, `HostConfig.Binds`) when
/// `SRC` is a host path (it starts with `/`, `.` or `~`): a bare name is a named volume
/// and a lone path an anonymous one. `ro` (or `readonly`) among the comma-separated
/// options makes it read-only.
pub(crate) fn bind<'a>(spec: &Cow<'a, str>) -> Option<HostMount<'a>> {
    let mut parts = spec.splitn(3, ':');
    let src = parts.next().filter(|s| s.starts_with(['/', '.', '~']))?;
    let dst = parts.next().filter(|d| !d.is_empty())?;
    let read_only = parts
        .next()
        .is_some_and(|opts| opts.split(',').any(|o| o == "ro" || o == "readonly"));
    let dst_at = src.len() + 1;
    Some(HostMount {
        host_path: sub(spec, 0, src.len()),
        container_path: Some(sub(spec, dst_at, dst_at + dst.len())),
        read_only,
    })
}

/// Add a host mount unless one with the same host and container path is there already
/// (inspect output lists a bind under both `Mounts` and `HostConfig.Binds`).
pub(crate) fn push_mount<'a>(mounts: &mut Vec<HostMount<'a>>, mount: HostMount<'a>) {
    let seen = mounts
        .iter()
        .any(|m| m.host_path == mount.host_path && m.container_path == mount.container_path);
    if !seen {
        mounts.push(mount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(s: &'static str) -> Option<String> {
        capability(Cow::Borrowed(s)).map(Cow::into_owned)
    }

    fn opt(s: &'static str) -> Option<String> {
        security_opt(Cow::Borrowed(s)).map(Cow::into_owned)
    }

    #[test]
    fn capabilities_are_spelled_one_way() {
        assert_eq!(cap("SYS_ADMIN").as_deref(), Some("SYS_ADMIN"));
        assert_eq!(cap("CAP_SYS_PTRACE").as_deref(), Some("SYS_PTRACE"));
        assert_eq!(cap("cap_net_admin").as_deref(), Some("NET_ADMIN"));
        assert_eq!(cap(" net_raw ").as_deref(), Some("NET_RAW"));
        assert_eq!(cap("ALL").as_deref(), Some("ALL"));
        assert_eq!(cap("CAP_").as_deref(), Some("CAP_"));
        assert_eq!(cap("cap").as_deref(), Some("CAP"));
        assert_eq!(cap("abcé_x").as_deref(), Some("ABCé_X"));
        assert_eq!(cap("  "), None);
        assert!(matches!(
            capability(Cow::Borrowed("CAP_SYS_ADMIN")),
            Some(Cow::Borrowed("SYS_ADMIN"))
        ));
    }

    #[test]
    fn security_options_are_spelled_as_docker_documents_them() {
        assert_eq!(
            opt("seccomp:unconfined").as_deref(),
            Some("seccomp=unconfined")
        );
        assert_eq!(
            opt("apparmor:unconfined").as_deref(),
            Some("apparmor=unconfined")
        );
        assert_eq!(opt("label:disable").as_deref(), Some("label=disable"));
        assert_eq!(
            opt("label=type:svirt_t").as_deref(),
            Some("label=type:svirt_t")
        );
        assert_eq!(
            opt("systempaths=unconfined").as_deref(),
            Some("systempaths=unconfined")
        );
        for on in [
            "no-new-privileges",
            "no-new-privileges=true",
            "no-new-privileges:true",
            "no-new-privileges=1",
            "no-new-privileges:True",
        ] {
            assert_eq!(opt(on).as_deref(), Some("no-new-privileges"), "{on}");
        }
        for off in [
            "no-new-privileges=false",
            "no-new-privileges:false",
            "no-new-privileges=0",
        ] {
            assert_eq!(
                opt(off).as_deref(),
                Some("no-new-privileges=false"),
                "{off}"
            );
        }
        assert_eq!(
            opt("no-new-privileges:maybe").as_deref(),
            Some("no-new-privileges=maybe")
        );
        assert_eq!(opt(""), None);
        assert!(matches!(
            security_opt(Cow::Borrowed("seccomp=unconfined")),
            Some(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn restart_policies() {
        let flag = |s: &'static str| restart_flag(&Cow::Borrowed(s));
        let on_failure = flag("on-failure:3").unwrap();
        assert_eq!(
            (&*on_failure.name, on_failure.max_retries),
            ("on-failure", Some(3))
        );
        assert_eq!(flag("on-failure:0").unwrap().max_retries, None);
        assert_eq!(flag("on-failure:x").unwrap().max_retries, None);
        assert_eq!(flag("always").unwrap().name, "always");
        assert_eq!(flag("no"), None);
        assert_eq!(flag(":3"), None);
        assert_eq!(
            restart_policy(Cow::Borrowed("Never"), None).unwrap().name,
            "Never"
        );
        assert_eq!(restart_policy(Cow::Borrowed(""), Some(2)), None);
        assert_eq!(
            restart_policy(Cow::Borrowed("on-failure"), Some(i64::MAX))
                .unwrap()
                .max_retries,
            Some(u32::MAX)
        );
    }

    #[test]
    fn binds() {
        let parse = |s: &'static str| {
            bind(&Cow::Borrowed(s)).map(|m| {
                (
                    m.host_path.into_owned(),
                    m.container_path.map(Cow::into_owned),
                    m.read_only,
                )
            })
        };
        assert_eq!(
            parse("/etc:/host/etc"),
            Some(("/etc".into(), Some("/host/etc".into()), false))
        );
        assert_eq!(
            parse("/:/host:ro,rslave"),
            Some(("/".into(), Some("/host".into()), true))
        );
        assert_eq!(
            parse("~/.ssh:/root/.ssh:readonly,Z"),
            Some(("~/.ssh".into(), Some("/root/.ssh".into()), true))
        );
        assert_eq!(parse("data:/data"), None);
        assert_eq!(parse("/data"), None);
        assert_eq!(parse("/data:"), None);
    }

    #[test]
    fn a_mount_is_listed_once() {
        let mut mounts = Vec::new();
        for _ in 0..2 {
            push_mount(
                &mut mounts,
                HostMount {
                    host_path: "/".into(),
                    container_path: Some("/host".into()),
                    read_only: false,
                },
            );
        }
        assert_eq!(mounts.len(), 1);
    }
}
