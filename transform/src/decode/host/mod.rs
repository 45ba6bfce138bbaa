//! Host sensors: Linux audit records, Falco alerts and Tetragon events. Each sees
//! processes (and connections); a container CLI among them is read as the container
//! operation it asks for (`normalize::cli`).

pub(crate) mod auditd;
pub(crate) mod falco;
pub(crate) mod tetragon;
