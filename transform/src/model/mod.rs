//! The one normalized model every decoder produces and every later stage reads: the
//! event ([`event`]), the names of its enums ([`names`]), image references
//! ([`image_ref`]) and owned copies for state ([`owned`]).
//!
//! Every stage depends on the model and the model on no stage.

mod event;
pub mod image_ref;
mod names;
mod owned;

pub use event::{
    Container, Event, HostMount, Network, ParentProcess, Principal, Process, RestartPolicy,
    SecurityContext, Workload,
};
pub use image_ref::ImageRef;
pub use names::{Action, AlertFormat, ContainerRole, Severity, Source};
