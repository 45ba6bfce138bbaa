//! The command-line parsers, through [`parse`] and [`apply`] as the decoders call them.

use std::borrow::Cow;

use super::*;
use crate::model::{ContainerRole, HostMount};

fn argv(line: &str) -> Vec<Cow<'_, str>> {
    line.split_whitespace().map(Cow::Borrowed).collect()
}

fn parse_line(line: &str) -> Invocation<'_> {
    parse(&argv(line)).unwrap_or_else(|| panic!("not a container command: {line}"))
}

fn only(invocation: &Invocation<'_>) -> Container<'static> {
    assert_eq!(invocation.containers.len(), 1, "{invocation:?}");
    invocation.containers[0].clone().into_owned()
}

#[test]
fn the_risky_docker_run() {
    let line = "docker run --privileged --pid=host -v /:/host --cap-add SYS_ADMIN \
                --security-opt apparmor=unconfined --restart always --entrypoint /bin/sh \
                registry.example.com:5000/x:1 -c id";
    let inv = parse_line(line);
    assert_eq!(inv.action, Action::ContainerRun);
    assert_eq!(inv.raw_action, "docker run");
    let c = only(&inv);
    let image = c.image.as_ref().unwrap();
    assert_eq!(image.registry, "registry.example.com:5000");
    assert_eq!(image.repository, "x");
    assert_eq!(image.tag.as_deref(), Some("1"));
    let s = &c.security;
    assert_eq!(s.privileged, Some(true));
    assert_eq!(s.host_pid, Some(true));
    assert_eq!(s.host_network, None, "not said");
    assert_eq!(s.host_ipc, None);
    assert_eq!(s.cap_add, ["SYS_ADMIN"]);
    assert_eq!(s.security_opt, ["apparmor=unconfined"]);
    assert_eq!(
        s.host_mounts,
        [HostMount {
            host_path: "/".into(),
            container_path: Some("/host".into()),
            read_only: false
        }]
    );
    assert_eq!(s.restart_policy.as_ref().unwrap().name, "always");
    assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
    assert_eq!(s.command.as_deref(), Some(&["-c".into(), "id".into()][..]));
}

#[test]
fn equals_and_space_forms_are_the_same() {
    let a = only(&parse_line(
        "docker run --network=host --ipc=host --user=0 --name=x --restart=on-failure:3 alpine",
    ));
    let b = only(&parse_line(
        "docker run --network host --ipc host --user 0 --name x --restart on-failure:3 alpine",
    ));
    assert_eq!(a, b);
    assert_eq!(a.security.host_network, Some(true));
    assert_eq!(a.security.host_ipc, Some(true));
    assert_eq!(a.security.user.as_deref(), Some("0"));
    assert_eq!(a.name.as_deref(), Some("x"));
    let policy = a.security.restart_policy.unwrap();
    assert_eq!((&*policy.name, policy.max_retries), ("on-failure", Some(3)));
    let net = only(&parse_line("docker run --net=bridge alpine"));
    assert_eq!(net.security.host_network, Some(false));
}

#[test]
fn value_flags_do_not_become_the_image() {
    let c = only(&parse_line(
        "docker run -d -it --rm -e FOO=bar -p 8080:80 -w /srv --label a=b --log-opt max-size=1m \
         --memory 512m --gpus all --ulimit nofile=1024 --add-host h:1.2.3.4 nginx:1.25 nginx -g daemon",
    ));
    assert_eq!(c.image.as_ref().unwrap().reference, "nginx:1.25");
    assert_eq!(
        c.security.command.unwrap(),
        ["nginx", "-g", "daemon"].map(Cow::Borrowed)
    );
    // An unknown flag takes a value, as every non-boolean `docker run` flag does.
    let c = only(&parse_line("docker run --some-new-flag value alpine"));
    assert_eq!(c.image.as_ref().unwrap().reference, "alpine");
}

#[test]
fn combined_short_flags() {
    let c = only(&parse_line(
        "docker run -itd -v/etc:/host/etc:ro -uroot alpine sh",
    ));
    assert_eq!(c.image.as_ref().unwrap().reference, "alpine");
    assert_eq!(c.security.user.as_deref(), Some("root"));
    assert_eq!(c.security.host_mounts[0].host_path, "/etc");
    assert!(c.security.host_mounts[0].read_only);
    // The command's own flags belong to the command.
    let c = only(&parse_line("docker run alpine ls -la --privileged"));
    assert_eq!(c.security.privileged, None);
    assert_eq!(c.security.command.unwrap().len(), 3);
}

#[test]
fn volumes_and_mounts() {
    let c = only(&parse_line(
        "podman run -v data:/data -v /anon -v ./src:/src:z -v ~/.ssh:/root/.ssh:ro,Z \
         --mount type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock \
         --mount type=volume,source=cache,target=/cache \
         --mount type=bind,source=/etc,target=/host/etc,readonly alpine",
    ));
    let mounts: Vec<(&str, Option<&str>, bool)> = c
        .security
        .host_mounts
        .iter()
        .map(|m| (&*m.host_path, m.container_path.as_deref(), m.read_only))
        .collect();
    assert_eq!(
        mounts,
        [
            ("./src", Some("/src"), false),
            ("~/.ssh", Some("/root/.ssh"), true),
            ("/var/run/docker.sock", Some("/var/run/docker.sock"), false),
            ("/etc", Some("/host/etc"), true),
        ]
    );
}

#[test]
fn capabilities_security_options_devices() {
    let c = only(&parse_line(
        "docker run --cap-add=cap_sys_ptrace --cap-add NET_ADMIN,ALL --security-opt label:disable \
         --security-opt seccomp=unconfined --security-opt no-new-privileges:true \
         --userns=host --device /dev/sda:/dev/xvda:rwm --device=/dev/kmsg alpine",
    ));
    let s = c.security;
    assert_eq!(s.cap_add, ["SYS_PTRACE", "NET_ADMIN", "ALL"]);
    assert_eq!(
        s.security_opt,
        [
            "label=disable",
            "seccomp=unconfined",
            "no-new-privileges",
            "userns=host"
        ]
    );
    assert_eq!(s.devices, ["/dev/sda", "/dev/kmsg"]);
}

#[test]
fn wrappers_paths_globals_and_management_commands() {
    let inv = parse_line(
        "sudo -u root -E /usr/local/bin/docker -H tcp://10.0.0.5:2375 --tls container run --privileged alpine",
    );
    assert_eq!(inv.action, Action::ContainerRun);
    assert_eq!(inv.raw_action, "docker container run");
    assert_eq!(only(&inv).security.privileged, Some(true));
    let net = inv.endpoint.unwrap();
    assert_eq!(net.dst_ip.as_deref(), Some("10.0.0.5"));
    assert_eq!(net.dst_port, Some(2375));

    let inv =
        parse_line("env DOCKER_BUILDKIT=1 nerdctl --namespace k8s.io create --net=host busybox");
    assert_eq!(inv.action, Action::ContainerCreate);
    assert_eq!(only(&inv).security.host_network, Some(true));

    let inv = parse_line("docker --host=ssh://ops@Build-1.example.com ps -a");
    assert_eq!(inv.action, Action::ResourceList);
    assert_eq!(
        inv.endpoint.unwrap().domain.as_deref(),
        Some("build-1.example.com")
    );
    assert_eq!(
        parse_line("docker -H unix:///run/docker.sock ps").endpoint,
        None
    );
    assert_eq!(
        parse_line("docker container ls").action,
        Action::ResourceList
    );
    assert_eq!(parse_line("docker image ls").raw_action, "docker image ls");
    assert_eq!(parse_line("podman images").action, Action::ResourceList);
    assert_eq!(parse_line("docker version").action, Action::Other);
    assert!(parse(&argv("docker")).is_none());
    assert!(parse(&argv("sudo ls /root")).is_none());
    assert!(parse(&argv("dockerd --debug")).is_none());
    assert!(parse(&[]).is_none());
}

#[test]
fn pull_start_exec() {
    let inv = parse_line("docker pull --platform linux/amd64 203.0.113.9:5000/tools/miner:latest");
    assert_eq!(inv.action, Action::ImagePull);
    let image = only(&inv).image.unwrap();
    assert_eq!(image.registry, "203.0.113.9:5000");

    let inv = parse_line("docker start -a web db");
    assert_eq!(inv.action, Action::ContainerStart);
    let names: Vec<_> = inv.containers.iter().map(|c| c.name.as_deref()).collect();
    assert_eq!(names, [Some("web"), Some("db")]);

    let inv = parse_line("docker exec -it -u 0 --privileged web sh -c id");
    assert_eq!(inv.action, Action::ContainerExec);
    let c = only(&inv);
    assert_eq!(c.name.as_deref(), Some("web"));
    assert_eq!(c.security.privileged, Some(true));
    let exec = inv.exec.unwrap();
    assert_eq!(exec.args, ["sh", "-c", "id"].map(Cow::Borrowed));
    assert_eq!(exec.user.as_deref(), Some("0"));
}

#[test]
fn kubectl_exec_and_attach() {
    let inv = parse_line("kubectl exec -it web-1 -c init-setup -n shop -- sh -c id");
    assert_eq!(inv.action, Action::ContainerExec);
    let w = inv.workload.as_ref().unwrap();
    assert_eq!(
        (&*w.kind, w.name.as_deref(), w.namespace.as_deref()),
        ("Pod", Some("web-1"), Some("shop"))
    );
    assert_eq!(only(&inv).name.as_deref(), Some("init-setup"));
    assert_eq!(
        inv.exec.unwrap().args,
        ["sh", "-c", "id"].map(Cow::Borrowed)
    );

    // Flags after `--` are the command's; the legacy form without `--`.
    let inv = parse_line("kubectl --namespace=shop exec deploy/web -- ls -la");
    assert_eq!(inv.workload.as_ref().unwrap().kind, "Deployment");
    assert_eq!(inv.exec.unwrap().args, ["ls", "-la"].map(Cow::Borrowed));
    let inv = parse_line("kubectl exec web-1 ls");
    assert_eq!(inv.exec.unwrap().args, ["ls"].map(Cow::Borrowed));
    assert!(inv.containers.is_empty());

    let inv = parse_line("kubectl attach web-1 -c app -i");
    assert_eq!(inv.action, Action::ContainerAttach);
    assert!(inv.exec.is_none());
}

#[test]
fn kubectl_get_list_watch() {
    let inv = parse_line("kubectl get secrets -A");
    assert_eq!(inv.action, Action::ResourceList);
    let w = inv.workload.unwrap();
    assert_eq!((&*w.kind, w.namespace.as_deref()), ("Secret", None));

    let inv = parse_line("kubectl -n kube-system get po");
    let w = inv.workload.unwrap();
    assert_eq!(
        (&*w.kind, w.namespace.as_deref()),
        ("Pod", Some("kube-system"))
    );

    let inv = parse_line("kubectl get secret/db-creds -o yaml");
    assert_eq!(inv.action, Action::ResourceGet);
    assert_eq!(inv.workload.unwrap().name.as_deref(), Some("db-creds"));
    let inv = parse_line("kubectl get deployments.apps web");
    assert_eq!(inv.action, Action::ResourceGet);
    assert_eq!(inv.workload.unwrap().kind, "Deployment");
    assert_eq!(
        parse_line("kubectl get pods --watch").action,
        Action::ResourceWatch
    );
    let inv = parse_line("kubectl get nodes,pods");
    assert_eq!(inv.workload.unwrap().kind, "Node");
    let inv = parse_line("kubectl get widgets.example.com");
    assert_eq!(inv.workload.unwrap().kind, "widgets");
}

#[test]
fn kubectl_run_create_apply() {
    let inv = parse_line(
        "kubectl run pwn --image=alpine --privileged --restart=Never -n default --command -- sleep infinity",
    );
    assert_eq!(inv.action, Action::WorkloadCreate);
    let w = inv.workload.as_ref().unwrap();
    assert_eq!((&*w.kind, w.name.as_deref()), ("Pod", Some("pwn")));
    let c = only(&inv);
    assert_eq!(c.security.privileged, Some(true));
    assert_eq!(c.security.restart_policy.unwrap().name, "Never");
    assert_eq!(
        c.security.entrypoint.unwrap(),
        ["sleep", "infinity"].map(Cow::Borrowed)
    );
    assert_eq!(c.security.command, None);

    let c = only(&parse_line("kubectl run web --image nginx -- --port 80"));
    assert_eq!(c.security.privileged, None);
    assert_eq!(
        c.security.command.unwrap(),
        ["--port", "80"].map(Cow::Borrowed)
    );

    let inv = parse_line("kubectl create cronjob miner --image=x/y --schedule=*/5 -- /bin/run");
    assert_eq!(inv.action, Action::WorkloadCreate);
    assert_eq!(inv.workload.as_ref().unwrap().kind, "CronJob");
    assert_eq!(
        only(&inv).security.entrypoint.unwrap(),
        ["/bin/run"].map(Cow::Borrowed)
    );
    assert_eq!(
        parse_line("kubectl create -f pod.yaml").action,
        Action::Other
    );
    assert_eq!(
        parse_line("kubectl apply -f pod.yaml").action,
        Action::Other
    );
    assert_eq!(
        parse_line("kubectl apply -f pod.yaml").raw_action,
        "kubectl apply"
    );
}

#[test]
fn kubectl_debug() {
    let inv = parse_line("kubectl debug -it web-1 --image=busybox --target=app -c dbg -- sh");
    assert_eq!(inv.action, Action::ContainerExec);
    let c = only(&inv);
    assert_eq!(c.role, ContainerRole::Ephemeral);
    assert_eq!(c.name.as_deref(), Some("dbg"));
    assert_eq!(c.image.unwrap().reference, "busybox");
    assert_eq!(inv.exec.unwrap().args, ["sh"].map(Cow::Borrowed));

    let inv = parse_line("kubectl debug node/worker-1 -it --image=ubuntu --profile=sysadmin");
    assert_eq!(inv.action, Action::WorkloadCreate);
    let c = only(&inv);
    assert_eq!(c.security.privileged, Some(true));
    assert_eq!(c.security.host_pid, Some(true));
    assert_eq!(c.security.host_mounts[0].host_path, "/");
    assert_eq!(
        inv.workload.unwrap().owner.as_deref(),
        Some("Node/worker-1")
    );
    let inv = parse_line("microk8s kubectl get pods");
    assert_eq!(inv.action, Action::ResourceList);
    let inv = parse_line("kubectl --server https://10.0.0.1:6443 get pods");
    assert_eq!(inv.endpoint.unwrap().dst_port, Some(6443));
}

#[test]
fn exec_moves_the_cli_to_the_parent() {
    let mut event = Event::new(crate::model::Source::Auditd, Action::ProcessStart, "execve");
    event.process = Some(Process {
        pid: Some(4321),
        name: Some("kubectl".into()),
        executable: Some("/usr/local/bin/kubectl".into()),
        command_line: Some("kubectl exec web-1 -- id".into()),
        user: Some("alice".into()),
        login_user: Some("alice".into()),
        parent: Some(ParentProcess {
            pid: Some(1200),
            executable: Some("/usr/bin/bash".into()),
            ..ParentProcess::default()
        }),
        ..Process::default()
    });
    let args = argv("kubectl exec web-1 -- id");
    assert!(apply(&mut event, &args));
    assert_eq!(event.action, Action::ContainerExec);
    let p = event.process.unwrap();
    assert_eq!(p.executable.as_deref(), Some("id"));
    assert_eq!(p.command_line.as_deref(), Some("id"));
    assert_eq!(p.user, None);
    assert_eq!(p.login_user.as_deref(), Some("alice"));
    let parent = p.parent.unwrap();
    assert_eq!(parent.pid, Some(4321));
    assert_eq!(parent.executable.as_deref(), Some("/usr/local/bin/kubectl"));
    assert_eq!(p.ancestors, ["/usr/bin/bash"]);

    let mut event = Event::new(crate::model::Source::Auditd, Action::ProcessStart, "execve");
    assert!(!apply(&mut event, &argv("ls -la")));
    assert_eq!(event.action, Action::ProcessStart);
}

#[test]
fn odd_input_never_panics() {
    for line in [
        "docker run",
        "docker run -",
        "docker run --",
        "docker run -v",
        "docker run --mount",
        "docker run -- alpine",
        "docker container",
        "kubectl",
        "kubectl exec",
        "kubectl get",
        "kubectl debug",
        "sudo",
        "sudo -u",
        "env A=1",
        "docker -H",
        "docker run -é alpine",
        "docker run -v :: --mount ,,= --restart : --device : alpine",
        "docker -H tcp://[::1 ps",
        "docker -H tcp://:2375 ps",
    ] {
        let _ = parse(&argv(line));
    }
}
