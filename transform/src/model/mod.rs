//! The one normalized model every decoder produces and every later stage reads: the
//! event ([`event`]), the names of its enums ([`names`]), the field registry that names
//! its fields for rules, outputs and docs ([`fields`]) and the JSON written from it
//! ([`json`]), image references ([`image_ref`]), owned copies for state ([`owned`]),
//! what the engine's state adds to an event ([`derived`]) and what a rule match says
//! about itself for the alert ([`hit`]).
//!
//! Every stage depends on the model and the model on no stage.

mod derived;
mod event;
pub mod fields;
mod hit;
pub mod image_ref;
pub(crate) mod json;
mod names;
mod owned;

pub(crate) use derived::Derived;
pub(crate) use hit::RuleHit;

pub use event::{
    Container, Event, HostMount, Network, ParentProcess, Principal, Process, RestartPolicy,
    SecurityContext, Workload,
};
pub use image_ref::ImageRef;
pub use names::{Action, AlertFormat, ContainerRole, Severity, Source};
