//! Owned copies of the model, for state that outlives the record it was read from (the
//! container table, events decoded from text the engine unescaped itself).

use std::borrow::Cow;

use super::event::{
    Container, Event, HostMount, Network, ParentProcess, Principal, Process, RestartPolicy,
    SecurityContext, Workload,
};
use super::image_ref::ImageRef;

/// Owned copies, for state that outlives the record it was read from.
impl Container<'_> {
    pub fn into_owned(self) -> Container<'static> {
        Container {
            id: self.id.map(own),
            name: self.name.map(own),
            image: self.image.map(ImageRef::into_owned),
            role: self.role,
            security: self.security.into_owned(),
        }
    }
}

impl SecurityContext<'_> {
    pub fn into_owned(self) -> SecurityContext<'static> {
        SecurityContext {
            privileged: self.privileged,
            host_pid: self.host_pid,
            host_network: self.host_network,
            host_ipc: self.host_ipc,
            cap_add: self.cap_add.into_iter().map(own).collect(),
            security_opt: self.security_opt.into_iter().map(own).collect(),
            devices: self.devices.into_iter().map(own).collect(),
            host_mounts: self
                .host_mounts
                .into_iter()
                .map(|m| HostMount {
                    host_path: own(m.host_path),
                    container_path: m.container_path.map(own),
                    read_only: m.read_only,
                })
                .collect(),
            user: self.user.map(own),
            restart_policy: self.restart_policy.map(|r| RestartPolicy {
                name: own(r.name),
                max_retries: r.max_retries,
            }),
            entrypoint: self.entrypoint.map(|v| v.into_iter().map(own).collect()),
            command: self.command.map(|v| v.into_iter().map(own).collect()),
        }
    }
}

impl Workload<'_> {
    pub fn into_owned(self) -> Workload<'static> {
        Workload {
            kind: own(self.kind),
            name: self.name.map(own),
            namespace: self.namespace.map(own),
            uid: self.uid.map(own),
            owner: self.owner.map(own),
        }
    }
}

impl Principal<'_> {
    pub fn into_owned(self) -> Principal<'static> {
        Principal {
            name: own(self.name),
            uid: self.uid.map(own),
            groups: self.groups.into_iter().map(own).collect(),
            kind: self.kind.map(own),
            source_ip: self.source_ip.map(own),
            user_agent: self.user_agent.map(own),
        }
    }
}

impl Process<'_> {
    pub fn into_owned(self) -> Process<'static> {
        Process {
            pid: self.pid,
            name: self.name.map(own),
            executable: self.executable.map(own),
            args: self.args.into_iter().map(own).collect(),
            command_line: self.command_line.map(own),
            user: self.user.map(own),
            login_user: self.login_user.map(own),
            cwd: self.cwd.map(own),
            exit_code: self.exit_code,
            parent: self.parent.map(|p| ParentProcess {
                pid: p.pid,
                name: p.name.map(own),
                executable: p.executable.map(own),
                command_line: p.command_line.map(own),
            }),
            ancestors: self.ancestors.into_iter().map(own).collect(),
        }
    }
}

impl Network<'_> {
    pub fn into_owned(self) -> Network<'static> {
        Network {
            src_ip: self.src_ip.map(own),
            src_port: self.src_port,
            dst_ip: self.dst_ip.map(own),
            dst_port: self.dst_port,
            protocol: self.protocol.map(own),
            domain: self.domain.map(own),
            bytes: self.bytes,
            packets: self.packets,
            disposition: self.disposition.map(own),
            dns_query_type: self.dns_query_type.map(own),
            dns_rcode: self.dns_rcode.map(own),
            dns_answers: self.dns_answers.into_iter().map(own).collect(),
        }
    }
}

impl Event<'_> {
    /// An event that owns all its strings: for records decoded from text the engine
    /// unescaped itself (a wrapper's embedded JSON string), and for state.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            source: self.source,
            action: self.action,
            raw_action: own(self.raw_action),
            time_ns: self.time_ns,
            host: self.host.map(own),
            cluster: self.cluster.map(own),
            request_id: self.request_id.map(own),
            response_code: self.response_code,
            error: self.error.map(own),
            reason: self.reason.map(own),
            count: self.count,
            account: self.account.map(own),
            region: self.region.map(own),
            principal: self.principal.map(Principal::into_owned),
            workload: self.workload.map(Workload::into_owned),
            containers: self
                .containers
                .into_iter()
                .map(Container::into_owned)
                .collect(),
            process: self.process.map(Process::into_owned),
            network: self.network.map(Network::into_owned),
        }
    }
}

fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}
