//! The model's enums, each variant named once: its Rust name, the name rules and outputs
//! use (`source: k8s_audit`, `action: container-exec`) and, where the WIT contract
//! spells it otherwise, its WIT name.
//!
//! [`named_enum_table!`](crate::named_enum_table) holds the table. It is expanded twice
//! here and in `api.rs` ([`define_named_enums!`](crate::define_named_enums): the enums,
//! `ALL`, `as_str`, `from_name`), and once on each side of the component boundary
//! ([`wit_conversions!`](crate::wit_conversions): `From` both ways between an enum and
//! the type `wit-bindgen` or wasmtime's `bindgen!` generated for it), so a variant added
//! to the table is added everywhere, and one missing from `wit/crowsnest.wit` fails the
//! build on both sides.

/// The enums of the model and of the API, as one table; expands `$callback` (a macro of
/// this crate) with `($args)` and the table.
#[macro_export]
#[doc(hidden)]
macro_rules! named_enum_table {
    ($callback:ident ($($args:tt)*)) => {
        $crate::$callback! {
            ($($args)*)

            /// Which telemetry format a record was decoded from. Each one is described
            /// by its format file under `decode/`.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum Source {
                /// `docker events --format '{{json .}}'` / `GET /events`.
                DockerEvent = "docker_event",
                /// `docker inspect` / `GET /containers/{id}/json` output.
                DockerInspect = "docker_inspect",
                /// A Docker authorization plugin's request (`AuthZReq`).
                DockerAuthz = "docker_authz",
                /// dockerd's own log.
                DockerDaemon = "docker_daemon",
                /// Kubernetes API server audit events, raw or as EKS writes them.
                K8sAudit = "k8s_audit",
                /// Kubernetes audit events in the AKS diagnostic-settings wrapper.
                AksAudit = "aks_audit",
                /// Kubernetes audit events as GKE writes them (Cloud Audit Logs).
                GkeAudit = "gke_audit",
                /// Kubernetes `Event` objects.
                K8sEvent = "k8s_event",
                /// AWS CloudTrail records (ECS and ECR API calls).
                CloudTrail = "cloudtrail" as Cloudtrail,
                /// Azure Activity Log records (Container Instances).
                AzureActivity = "azure_activity",
                /// GCP Cloud Audit Logs other than GKE's Kubernetes API.
                GcpAudit = "gcp_audit",
                /// Linux audit records, grouped by event serial.
                Auditd = "auditd",
                /// Falco JSON alerts.
                Falco = "falco",
                /// Cilium Tetragon JSON events.
                Tetragon = "tetragon",
                /// Zeek `conn.log` as JSON.
                ZeekConn = "zeek_conn",
                /// Zeek `dns.log` as JSON.
                ZeekDns = "zeek_dns",
                /// AWS VPC Flow Logs.
                VpcFlow = "vpc_flow",
                /// Amazon Route 53 Resolver query logs.
                Route53Resolver = "route53_resolver",
            }

            /// What happened, in one vocabulary across sources.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum Action {
                ContainerCreate = "container-create",
                /// Created and started by one command (`docker run`, `podman run`).
                ContainerRun = "container-run",
                ContainerStart = "container-start",
                ContainerRestart = "container-restart",
                ContainerStop = "container-stop",
                ContainerDie = "container-die",
                ContainerKill = "container-kill",
                ContainerDestroy = "container-destroy",
                ContainerExec = "container-exec",
                ContainerAttach = "container-attach",
                /// A later look at a container already known (a repeated `docker inspect`).
                ContainerInspect = "container-inspect",
                /// The orchestrator holding back a crashing container (Kubernetes `BackOff`).
                ContainerBackoff = "container-backoff",
                ImagePull = "image-pull",
                WorkloadCreate = "workload-create",
                WorkloadUpdate = "workload-update",
                WorkloadPatch = "workload-patch",
                WorkloadDelete = "workload-delete",
                ResourceGet = "resource-get",
                ResourceList = "resource-list",
                ResourceWatch = "resource-watch",
                /// A process started, in a container or on a host (execve).
                ProcessStart = "process-start",
                /// An outbound connection attempt seen at the socket (connect).
                NetworkConnect = "network-connect",
                /// A connection summarized by a flow log or sensor (Zeek conn, VPC flow).
                NetworkFlow = "network-flow",
                DnsQuery = "dns-query",
                Other = "other",
            }

            /// Where in a pod a container sits.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
            #[serde(rename_all = "lowercase")]
            pub enum ContainerRole {
                #[default]
                Main = "main",
                Init = "init",
                Ephemeral = "ephemeral",
            }

            /// How bad a diagnostic is.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
            #[serde(rename_all = "lowercase")]
            pub enum Severity {
                Error = "error",
                Warning = "warning",
                Info = "info",
            }

            /// The document an alert is rendered as.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
            pub enum AlertFormat {
                /// OCSF Detection Finding, class 2004.
                #[default]
                Ocsf = "ocsf",
                /// Elastic Common Schema.
                Ecs = "ecs",
            }
        }
    };
}

/// Defines the enums of [`named_enum_table!`](crate::named_enum_table) with `ALL` (every
/// variant, in order), `as_str` and `from_name`.
#[macro_export]
#[doc(hidden)]
macro_rules! define_named_enums {
    (() $(
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(as $wit:ident)?, )*
        }
    )*) => {
        $(
            $(#[$meta])*
            pub enum $name {
                $( $(#[$vmeta])* $variant, )*
            }

            impl $name {
                /// Every variant, in declaration order.
                pub const ALL: [$name; 0 $( + $crate::define_named_enums!(@one $variant) )*] =
                    [$( $name::$variant ),*];

                /// The name rules, outputs and snapshots use.
                pub fn as_str(self) -> &'static str {
                    match self {
                        $( $name::$variant => $text, )*
                    }
                }

                /// The variant [`Self::as_str`] names.
                pub fn from_name(name: &str) -> Option<Self> {
                    Self::ALL.into_iter().find(|v| v.as_str() == name)
                }
            }
        )*
    };
    (@one $variant:ident) => { 1 };
}

/// `From` both ways between each enum of [`named_enum_table!`](crate::named_enum_table)
/// and its namesake in `$wit`, a module of generated WIT types (`wit-bindgen` in the
/// component, wasmtime's `bindgen!` in a host).
///
/// ```ignore
/// crowsnest_transform::named_enum_table!(wit_conversions(wit));
/// ```
#[macro_export]
macro_rules! wit_conversions {
    (($wit:ident) $(
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(as $witv:ident)?, )*
        }
    )*) => {
        $(
            impl From<$crate::model::$name> for $wit::$name {
                fn from(value: $crate::model::$name) -> Self {
                    match value {
                        $( $crate::model::$name::$variant =>
                            $crate::wit_conversions!(@variant $wit $name $variant $(as $witv)?), )*
                    }
                }
            }

            impl From<$wit::$name> for $crate::model::$name {
                fn from(value: $wit::$name) -> Self {
                    match value {
                        $( $crate::wit_conversions!(@variant $wit $name $variant $(as $witv)?) =>
                            $crate::model::$name::$variant, )*
                    }
                }
            }
        )*
    };
    (@variant $wit:ident $name:ident $variant:ident) => { $wit::$name::$variant };
    (@variant $wit:ident $name:ident $variant:ident as $witv:ident) => { $wit::$name::$witv };
}

crate::named_enum_table!(define_named_enums());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for source in Source::ALL {
            assert_eq!(Source::from_name(source.as_str()), Some(source));
        }
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.as_str()), Some(action));
        }
        assert_eq!(Source::CloudTrail.as_str(), "cloudtrail");
        assert_eq!(Action::ContainerExec.as_str(), "container-exec");
        assert_eq!(ContainerRole::default(), ContainerRole::Main);
        assert_eq!(Source::from_name("nope"), None);
    }
}
