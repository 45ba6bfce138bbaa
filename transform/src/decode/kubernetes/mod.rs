//! Kubernetes: API server audit events (raw, EKS, the AKS wrapper) and `Event` objects,
//! and what they share with GKE's Cloud Audit Logs: the objects a request is about and
//! the exec parameters of its URI.

pub(crate) mod aks;
pub(crate) mod audit;
pub(crate) mod events;
pub(crate) mod exec_uri;
pub(crate) mod objects;
