//! Docker: the daemon's events, `docker inspect` output, an authorization plugin's
//! requests and dockerd's own log, and what they share: the Engine API's routes
//! ([`api`]), the bodies of its create and exec requests ([`create_body`]) and the
//! Kubernetes labels a pod's containers carry ([`labels`]).

pub(crate) mod api;
pub(crate) mod authz;
pub(crate) mod create_body;
pub(crate) mod daemon;
pub(crate) mod events;
pub(crate) mod inspect;
mod labels;
