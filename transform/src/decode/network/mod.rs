//! Network telemetry: Zeek's connection and DNS logs, AWS VPC Flow Logs and Route 53
//! Resolver query logs.

pub(crate) mod route53_resolver;
pub(crate) mod vpc_flow;
pub(crate) mod zeek;
