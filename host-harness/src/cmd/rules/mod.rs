//! `crowsnest rules`: check a pack, run its tests, document it, explain a rule.

pub(crate) mod check;
pub(crate) mod doc;
pub(crate) mod explain;
pub(crate) mod test;
