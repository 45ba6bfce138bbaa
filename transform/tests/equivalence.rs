//! One action, every source that can express it, one normalized shape.
//!
//! The table tests run one container launch (and one exec) through each source that can
//! report it: the Docker CLI's argv as auditd, Falco and Tetragon see it, the API request
//! an authorization plugin and dockerd's debug log see, `docker inspect` of the result, a
//! Kubernetes pod create (raw, AKS-wrapped, GKE), and an ECS task definition. Each source
//! spells the launch its own way (`cap_sys_admin`, `CAP_SYS_ADMIN`, `SYS_ADMIN`;
//! `apparmor:unconfined`; `no-new-privileges:true`); every field a source can express must
//! come out identical to every other source's. The sample tests below check the same on
//! the shipped samples, as a user replaying them sees it.

use std::fs;
use std::path::Path;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Options};
use crowsnest_transform::framing;
use serde_json::{Value, json};

/// The normalized events of `records` (one record per line), as enrichment.
fn normalize(file: &str, records: &str) -> Vec<Value> {
    let mut d = Detector::new();
    d.set_options(Options {
        enrichment: true,
        ..Options::default()
    });
    let origin = BatchOrigin {
        file: file.into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let result = d.process(records.as_bytes(), &origin);
    assert!(
        result.diagnostics.is_empty(),
        "{file}: {:?}",
        result.diagnostics
    );
    let mut events: Vec<Value> = result
        .outcomes
        .iter()
        .filter_map(|o| o.enrichment.as_deref())
        .flat_map(|text| match serde_json::from_str(text).expect("JSON") {
            Value::Array(many) => many,
            one => vec![one],
        })
        .collect();
    let end = d.finish(&origin);
    assert!(end.diagnostics.is_empty(), "{file}: {:?}", end.diagnostics);
    events.extend(
        end.outcomes
            .iter()
            .filter_map(|o| o.enrichment.as_deref())
            .map(|text| serde_json::from_str(text).expect("JSON")),
    );
    events
}

/// The containers of an event.
fn containers(event: &Value) -> Vec<Value> {
    event["container"].as_array().cloned().unwrap_or_default()
}

/// A container's normalized field, by the name rules use after `container.`.
fn field(container: &Value, name: &str) -> Value {
    container[name].clone()
}

/// A process's normalized field, by the name rules use after `process.`.
fn process_field(event: &Value, name: &str) -> Value {
    event[format!("process.{name}").as_str()].clone()
}

/// `docker run` of the launch every table case describes.
const DOCKER_RUN: &[&str] = &[
    "docker",
    "run",
    "-d",
    "--name",
    "agent",
    "--privileged",
    "--pid=host",
    "--cap-add",
    "cap_sys_admin",
    "--security-opt",
    "apparmor:unconfined",
    "--security-opt",
    "no-new-privileges:true",
    "--restart",
    "on-failure:3",
    "-v",
    "/:/host:ro",
    "--device",
    "/dev/kmsg",
    "-u",
    "0",
    "--entrypoint",
    "/bin/sh",
    "alpine:3.19",
    "-c",
    "id",
];

/// The launch, normalized: what every source must agree on.
fn launch() -> Vec<(&'static str, Value)> {
    vec![
        ("image", json!("alpine:3.19")),
        ("image.registry", json!("docker.io")),
        ("image.repository", json!("library/alpine")),
        ("image.tag", json!("3.19")),
        ("name", json!("agent")),
        ("privileged", json!(true)),
        ("host_pid", json!(true)),
        ("cap_add", json!(["SYS_ADMIN"])),
        (
            "security_opt",
            json!(["apparmor=unconfined", "no-new-privileges"]),
        ),
        ("restart_policy", json!("on-failure")),
        ("restart_policy.max_retries", json!(3)),
        ("host_mounts", json!(["/"])),
        ("host_mounts.container_path", json!(["/host"])),
        ("host_mounts.read_only", json!([true])),
        ("devices", json!(["/dev/kmsg"])),
        ("user", json!("0")),
        ("entrypoint", json!(["/bin/sh"])),
        ("command", json!(["-c", "id"])),
    ]
}

/// What Docker's platform expresses and Kubernetes' does not: Docker's restart policy
/// vocabulary, devices and security options have no pod-spec counterpart crowsnest reads.
const NOT_IN_A_POD: &[&str] = &[
    "restart_policy",
    "restart_policy.max_retries",
    "devices",
    "security_opt",
];
/// ECS task definitions have no restart policy crowsnest reads.
const NOT_IN_A_TASK: &[&str] = &["restart_policy", "restart_policy.max_retries"];

/// `docker run` as the CLI sends it to the daemon: the create body.
fn create_body() -> Value {
    json!({
        "Hostname": "", "User": "0", "AttachStdin": false, "Tty": false, "Env": [],
        "Cmd": ["-c", "id"], "Image": "alpine:3.19", "Volumes": {}, "WorkingDir": "",
        "Entrypoint": ["/bin/sh"], "OnBuild": null, "Labels": {},
        "HostConfig": {
            "Binds": ["/:/host:ro"], "NetworkMode": "default",
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
            "CapAdd": ["cap_sys_admin"], "CapDrop": null, "IpcMode": "", "PidMode": "host",
            "Privileged": true,
            "SecurityOpt": ["apparmor:unconfined", "no-new-privileges:true"],
            "Devices": [{"PathOnHost": "/dev/kmsg", "PathInContainer": "/dev/kmsg",
                         "CgroupPermissions": "rwm"}],
            "Mounts": null
        },
        "NetworkingConfig": {"EndpointsConfig": {}}
    })
}

/// The pod a Kubernetes user creates for the same launch.
fn pod() -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "agent-pod", "namespace": "ops"},
        "spec": {
            "hostPID": true,
            "restartPolicy": "OnFailure",
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "containers": [{
                "name": "agent", "image": "alpine:3.19",
                "command": ["/bin/sh"], "args": ["-c", "id"],
                "securityContext": {"privileged": true, "runAsUser": 0,
                                    "capabilities": {"add": ["sys_admin"]}},
                "volumeMounts": [{"name": "root", "mountPath": "/host", "readOnly": true}]
            }]
        }
    })
}

fn audit_event(
    id: &str,
    stage: &str,
    verb: &str,
    uri: &str,
    object: &Value,
    extra: Value,
) -> Value {
    let mut event = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": id, "stage": stage, "requestURI": uri, "verb": verb,
        "user": {"username": "mallory", "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.77"],
        "objectRef": object,
        "requestReceivedTimestamp": "2024-05-14T09:45:10.386512Z",
        "stageTimestamp": "2024-05-14T09:45:10.402871Z"
    });
    if let (Some(event), Value::Object(extra)) = (event.as_object_mut(), extra) {
        event.extend(extra);
    }
    event
}

fn pod_create_audit() -> Value {
    audit_event(
        "5b1c9d2e-0000-4000-8000-000000000001",
        "ResponseComplete",
        "create",
        "/api/v1/namespaces/ops/pods",
        &json!({"resource": "pods", "namespace": "ops", "name": "agent-pod", "apiVersion": "v1"}),
        json!({"requestObject": pod(), "responseStatus": {"code": 201}}),
    )
}

fn aks(event: &Value) -> Value {
    json!({
        "category": "kube-audit",
        "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "properties": {"log": event.to_string(), "pod": "kube-apiserver-0", "stream": "stdout"},
        "resourceId": "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD",
        "time": "2024-05-14T09:45:10.4Z"
    })
}

fn gke(method: &str, resource_name: &str, request: Value) -> Value {
    json!({
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "k8s.io", "methodName": method, "resourceName": resource_name,
            "authenticationInfo": {"principalEmail": "mallory@example.com"},
            "requestMetadata": {"callerIp": "203.0.113.77"},
            "request": request, "status": {}
        },
        "resource": {"type": "k8s_cluster", "labels": {"project_id": "p", "location": "europe-west1", "cluster_name": "c"}},
        "timestamp": "2024-05-14T09:45:10.4Z", "insertId": "1"
    })
}

fn register_task_definition() -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333"},
        "eventTime": "2024-05-14T09:20:11Z", "eventSource": "ecs.amazonaws.com",
        "eventName": "RegisterTaskDefinition", "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15.30",
        "requestParameters": {
            "family": "agent", "pidMode": "host",
            "volumes": [{"name": "root", "host": {"sourcePath": "/"}}],
            "containerDefinitions": [{
                "name": "agent", "image": "alpine:3.19",
                "entryPoint": ["/bin/sh"], "command": ["-c", "id"], "user": "0",
                "privileged": true, "essential": true,
                "mountPoints": [{"sourceVolume": "root", "containerPath": "/host", "readOnly": true}],
                "linuxParameters": {"capabilities": {"add": ["CAP_SYS_ADMIN"]},
                                    "devices": [{"hostPath": "/dev/kmsg", "containerPath": "/dev/kmsg"}]},
                "dockerSecurityOptions": ["apparmor:unconfined", "no-new-privileges"]
            }]
        },
        "responseElements": {"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/agent:1"}},
        "requestID": "r1", "eventID": "e1", "readOnly": false, "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    })
}

fn docker_inspect() -> Value {
    let body = create_body();
    json!({
        "Id": "7c1e4b9a0f3d2c5e8b6a4d1f0e9c8b7a6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a",
        "Created": "2024-05-14T10:02:19.512Z", "Name": "/agent",
        "Config": {"Image": "alpine:3.19", "Entrypoint": ["/bin/sh"], "Cmd": ["-c", "id"], "User": "0"},
        "HostConfig": body["HostConfig"],
        "Mounts": [{"Type": "bind", "Source": "/", "Destination": "/host", "RW": false}]
    })
}

fn authz(method: &str, uri: &str, body: &Value) -> Value {
    json!({
        "User": "ci-runner-7", "UserAuthNMethod": "TLS",
        "RequestMethod": method, "RequestUri": uri,
        "RequestBody": base64(body.to_string().as_bytes()),
        "RequestHeaders": {"Content-Type": "application/json"},
        "time": "2024-05-14T10:02:19.407Z"
    })
}

/// dockerd's debug log of one API call with its body, in logrus text format.
fn dockerd(uri: &str, body: &Value) -> String {
    let quoted = serde_json::to_string(&format!("form data: {body}")).expect("a string");
    format!(
        "time=\"2024-05-14T10:11:07.405260118Z\" level=debug msg=\"Calling POST {uri}\"\n\
         time=\"2024-05-14T10:11:07.405411502Z\" level=debug msg={quoted}"
    )
}

/// The records auditd writes for an `execve` of `argv` by `exe`: every argument in hex,
/// as the kernel writes one that holds a space or a quote.
fn auditd(serial: u32, exe: &str, argv: &[&str]) -> String {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02X}")).collect::<String>();
    let head = format!("msg=audit(1714557602.347:{serial}):");
    let args: Vec<String> = argv
        .iter()
        .enumerate()
        .map(|(i, a)| format!("a{i}={}", hex(a)))
        .collect();
    let comm = exe.rsplit('/').next().unwrap_or(exe);
    format!(
        "type=SYSCALL {head} arch=c000003e syscall=59 success=yes exit=0 ppid=1200 pid={serial} auid=1000 uid=0 gid=0 euid=0 comm=\"{comm}\" exe=\"{exe}\" key=\"cli\"\n\
         type=EXECVE {head} argc={} {}\n\
         type=PROCTITLE {head} proctitle={}\n\
         type=EOE {head} ",
        argv.len(),
        args.join(" "),
        hex(&argv.join("\0")),
    )
}

fn falco_exec(cmdline: &str, exe: &str) -> Value {
    json!({
        "hostname": "worker-1", "output": "...", "priority": "Notice", "rule": "Launch",
        "source": "syscall", "time": "2024-05-14T10:02:19.407000000Z",
        "output_fields": {"evt.type": "execve", "proc.cmdline": cmdline, "proc.exepath": exe,
                          "proc.name": exe.rsplit('/').next().unwrap_or(exe),
                          "proc.pid": 4321, "user.name": "root", "container.id": "host"}
    })
}

fn tetragon_exec(binary: &str, arguments: &str) -> Value {
    json!({
        "process_exec": {"process": {"pid": 4321, "uid": 0, "cwd": "/", "binary": binary,
                                     "arguments": arguments, "auid": 1000}},
        "node_name": "worker-1", "time": "2024-05-14T10:02:19.407Z"
    })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The container a launch created, from the first event of `source` that launched one.
fn launched(file: &str, records: &str, source: &str) -> Value {
    let launches = ["container-create", "container-run", "workload-create"];
    normalize(file, records)
        .into_iter()
        .filter(|e| e["source"] == source && launches.contains(&e["action"].as_str().unwrap_or("")))
        .find_map(|e| containers(&e).into_iter().next())
        .unwrap_or_else(|| panic!("{file}: no launch from {source}"))
}

#[test]
fn one_launch_normalizes_alike_from_every_source() {
    let docker_run = DOCKER_RUN.join(" ");
    let cases: Vec<(&str, String, &str, &[&str])> = vec![
        (
            "auditd: docker run",
            auditd(4242, "/usr/bin/docker", DOCKER_RUN),
            "auditd",
            &[],
        ),
        (
            "falco: docker run",
            falco_exec(&docker_run, "/usr/bin/docker").to_string(),
            "falco",
            &[],
        ),
        (
            "tetragon: docker run",
            tetragon_exec("/usr/bin/docker", &DOCKER_RUN[1..].join(" ")).to_string(),
            "tetragon",
            &[],
        ),
        (
            "authorization plugin: POST /containers/create",
            authz(
                "POST",
                "/v1.45/containers/create?name=agent",
                &create_body(),
            )
            .to_string(),
            "docker_authz",
            &[],
        ),
        (
            "dockerd debug log: form data",
            dockerd("/v1.45/containers/create?name=agent", &create_body()),
            "docker_daemon",
            &[],
        ),
        (
            "docker inspect",
            docker_inspect().to_string(),
            "docker_inspect",
            &[],
        ),
        (
            "Kubernetes audit: pod create",
            pod_create_audit().to_string(),
            "k8s_audit",
            NOT_IN_A_POD,
        ),
        (
            "AKS: pod create",
            aks(&pod_create_audit()).to_string(),
            "aks_audit",
            NOT_IN_A_POD,
        ),
        (
            "GKE: pod create",
            gke(
                "io.k8s.core.v1.pods.create",
                "core/v1/namespaces/ops/pods/agent-pod",
                pod(),
            )
            .to_string(),
            "gke_audit",
            NOT_IN_A_POD,
        ),
        (
            "CloudTrail: RegisterTaskDefinition",
            register_task_definition().to_string(),
            "cloudtrail",
            NOT_IN_A_TASK,
        ),
    ];
    let expected = launch();
    for (case, records, source, inexpressible) in cases {
        let container = launched(case, &records, source);
        for (name, want) in &expected {
            let have = field(&container, name);
            if inexpressible.contains(name) {
                continue;
            }
            assert_eq!(&have, want, "{case}: container.{name} in {container}");
        }
    }
}

/// The exec every exec case describes: `sh -c 'cat /etc/shadow'` in container `agent`.
const EXEC: &[&str] = &["sh", "-c", "cat /etc/shadow"];

#[test]
fn one_exec_normalizes_alike_from_every_source() {
    let exec_body = json!({"User": "", "Privileged": false, "Tty": true, "AttachStdin": true,
                           "Detach": false, "Env": null, "WorkingDir": "", "Cmd": EXEC});
    let exec_audit = audit_event(
        "5b1c9d2e-0000-4000-8000-000000000002",
        "ResponseStarted",
        "get",
        "/api/v1/namespaces/ops/pods/agent-pod/exec?command=sh&command=-c&command=cat+%2Fetc%2Fshadow&container=agent&stdin=true&tty=true",
        &json!({"resource": "pods", "namespace": "ops", "name": "agent-pod", "apiVersion": "v1", "subresource": "exec"}),
        json!({"responseStatus": {"code": 101}}),
    );
    let mut kubectl = vec![
        "kubectl",
        "exec",
        "agent-pod",
        "-n",
        "ops",
        "-c",
        "agent",
        "--",
    ];
    kubectl.extend(EXEC);
    let mut docker = vec!["docker", "exec", "agent"];
    docker.extend(EXEC);
    let cases: Vec<(&str, String, &str)> = vec![
        ("Kubernetes audit", exec_audit.to_string(), "k8s_audit"),
        ("AKS", aks(&exec_audit).to_string(), "aks_audit"),
        (
            "GKE",
            gke(
                "io.k8s.core.v1.pods.exec.create",
                "core/v1/namespaces/ops/pods/agent-pod/exec",
                json!({"@type": "core.k8s.io/v1.PodExecOptions", "command": EXEC, "container": "agent"}),
            )
            .to_string(),
            "gke_audit",
        ),
        (
            "authorization plugin",
            authz("POST", "/v1.45/containers/agent/exec", &exec_body).to_string(),
            "docker_authz",
        ),
        (
            "dockerd debug log",
            dockerd("/v1.45/containers/agent/exec", &exec_body),
            "docker_daemon",
        ),
        (
            "auditd: kubectl exec",
            auditd(4243, "/usr/local/bin/kubectl", &kubectl),
            "auditd",
        ),
        (
            "auditd: docker exec",
            auditd(4244, "/usr/bin/docker", &docker),
            "auditd",
        ),
        (
            "tetragon: kubectl exec",
            tetragon_exec(
                "/usr/local/bin/kubectl",
                "exec agent-pod -n ops -c agent -- sh -c \"cat /etc/shadow\"",
            )
            .to_string(),
            "tetragon",
        ),
    ];
    for (case, records, source) in cases {
        let exec = normalize(case, &records)
            .into_iter()
            .find(|e| e["source"] == source && e["action"] == "container-exec")
            .unwrap_or_else(|| panic!("{case}: no exec from {source}"));
        assert_eq!(
            process_field(&exec, "executable"),
            json!("sh"),
            "{case}: {exec}"
        );
        assert_eq!(process_field(&exec, "name"), json!("sh"), "{case}: {exec}");
        assert_eq!(process_field(&exec, "args"), json!(EXEC), "{case}: {exec}");
        assert_eq!(
            process_field(&exec, "command_line"),
            json!("sh -c 'cat /etc/shadow'"),
            "{case}: {exec}"
        );
        let names: Vec<Value> = containers(&exec).iter().map(|c| field(c, "name")).collect();
        assert_eq!(names, [json!("agent")], "{case}: {exec}");
    }
}

/// Every normalized event of a sample file, in order, with the source that decoded it.
fn events(sample: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(sample);
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut records = Vec::new();
    for frame in framing::frames(&bytes) {
        let frame = frame.expect("the sample frames");
        records.push(String::from_utf8(frame.record.into_owned()).expect("UTF-8"));
    }
    normalize(sample, &records.join("\n"))
}

/// The first privileged container of a launch in `sample`.
fn privileged_launch(sample: &str, source: &str) -> Value {
    let launches = [
        "container-create",
        "container-run",
        "workload-create",
        "workload-update",
    ];
    events(sample)
        .into_iter()
        .filter(|e| e["source"] == source && launches.contains(&e["action"].as_str().unwrap_or("")))
        .find_map(|e| {
            containers(&e)
                .into_iter()
                .find(|c| field(c, "privileged") == Value::Bool(true))
        })
        .unwrap_or_else(|| panic!("{sample}: no privileged launch from {source}"))
}

#[test]
fn the_samples_spell_capabilities_and_options_one_way() {
    for (sample, source) in [
        ("auditd/docker-cli.log", "auditd"),
        ("docker-authz/risky.ndjson", "docker_authz"),
        ("docker/inspect.json", "docker_inspect"),
        ("k8s-audit/risky.ndjson", "k8s_audit"),
        ("aks-audit/kube-audit.ndjson", "aks_audit"),
        ("gke-audit/risky.ndjson", "gke_audit"),
        ("cloudtrail-ecs/risky-trail.json", "cloudtrail"),
    ] {
        let c = privileged_launch(sample, source);
        for cap in field(&c, "cap_add").as_array().into_iter().flatten() {
            let cap = cap.as_str().expect("a string");
            assert!(
                !cap.starts_with("CAP_") && cap == cap.to_ascii_uppercase(),
                "{sample}: capability {cap} is not in the one spelling"
            );
        }
        for opt in field(&c, "security_opt").as_array().into_iter().flatten() {
            let opt = opt.as_str().expect("a string");
            assert!(
                !opt.contains(':') || opt.contains('='),
                "{sample}: security option {opt} is not in Docker's spelling"
            );
            assert_ne!(opt, "no-new-privileges=true", "{sample}");
        }
    }
}

#[test]
fn the_docker_cli_the_api_and_ecs_samples_agree_on_host_namespaces_mounts_and_caps() {
    // The three launch samples written to carry the same risky attributes.
    for (sample, source) in [
        ("auditd/docker-cli.log", "auditd"),
        ("docker-authz/risky.ndjson", "docker_authz"),
        ("cloudtrail-ecs/risky-trail.json", "cloudtrail"),
    ] {
        let c = privileged_launch(sample, source);
        assert_eq!(field(&c, "host_pid"), Value::Bool(true), "{sample}: {c}");
        let caps = field(&c, "cap_add");
        assert!(
            caps.as_array()
                .is_some_and(|a| a.contains(&json!("SYS_ADMIN"))),
            "{sample}: {c}"
        );
        let mounts: Vec<Value> = field(&c, "host_mounts")
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            mounts.contains(&json!("/")) || mounts.contains(&json!("/var/run/docker.sock")),
            "{sample}: {c}"
        );
        assert!(field(&c, "entrypoint").is_array(), "{sample}: {c}");
    }
}

#[test]
fn a_start_is_one_action_from_every_source() {
    let cases = [
        ("docker/lifecycle.ndjson", "docker_event"),
        ("k8s-events/kubelet.ndjson", "k8s_event"),
        ("k8s-events/gke-cloud-logging.ndjson", "k8s_event"),
        ("cloudtrail-ecs/risky-trail.json", "cloudtrail"),
        ("azure-aci/activity-log.ndjson", "azure_activity"),
        ("gcp-cloud-run/audit.ndjson", "gcp_audit"),
    ];
    for (sample, source) in cases {
        let starts: Vec<Value> = events(sample)
            .into_iter()
            .filter(|e| e["source"] == source && e["action"] == "container-start")
            .collect();
        assert!(
            !starts.is_empty(),
            "{sample}: no container-start from {source}"
        );
        for start in &starts {
            assert!(
                start["container"].is_array() || start["workload.kind"].is_string(),
                "{sample}: a start names what started: {start}"
            );
        }
    }
}
