//! Enrichment: what one record cannot say about itself, filled in from what earlier
//! records said.

mod container_state;

pub(crate) use container_state::{ContainerTable, Limits, StateSnapshot};
