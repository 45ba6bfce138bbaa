//! What the engine's state knows about an event beyond the event itself: the history the
//! container table joins onto it. The enrichment stage answers it; the `crowsnest.*`
//! fields rules read are computed from it. `None` means "not known", never "no".

/// The history of an event's containers and of what it names.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Derived {
    /// On a start: how long the container had been stopped, in seconds.
    pub stopped_for_secs: Option<i64>,
    /// On a process or network event: seconds since its container started or was created.
    pub since_start_secs: Option<i64>,
    /// Whether this is the first process or connection seen from its container.
    pub first_action: Option<bool>,
    /// Who created the container, from state.
    pub created_by: Option<String>,
    /// Who last wrote the workload template (a DaemonSet's, a Deployment's) a pod or
    /// ReplicaSet was made from: the top of its owner chain the state saw.
    pub template_by: Option<String>,
    /// First sighting of the image, its registry, the principal (after the learning period).
    pub image_first_seen: Option<bool>,
    pub registry_first_seen: Option<bool>,
    pub principal_first_seen: Option<bool>,
}
