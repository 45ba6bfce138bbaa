//! Normalization: the meanings several formats share, each computed in one place.
//!
//! Decoders (`decode/`) read a format's own shape; where two formats say the same thing
//! in different words, the decoders hand the words to this module and take back one
//! spelling: a capability, a security option, a restart policy, a bind mount
//! ([`security`]), a pod spec ([`pod_spec`]), a container command line ([`cli`]), a
//! command's argv and line ([`process`], [`text`]), a Kubernetes resource, verb or user
//! ([`kubernetes`]), a DNS name or protocol ([`network`]). So one launch reads the same
//! whichever log saw it (`transform/tests/equivalence.rs` runs one launch through every
//! source that can express it).
//!
//! Nothing here depends on a format: stages depend one way, decode → normalize → model.

pub(crate) mod borrowed;
pub(crate) mod cli;
pub(crate) mod kubernetes;
pub(crate) mod network;
pub(crate) mod pod_spec;
pub(crate) mod process;
pub(crate) mod security;
pub(crate) mod text;
