//! First sightings: images, registries and principals seen for the first time, after the
//! policy's learning period.

use super::table::{ContainerTable, slot, str_heap};
use crate::model::{Derived, Event};

impl ContainerTable {
    /// Whether a value is sighted for the first time (after the learning period);
    /// `learn` records the sighting, else it is only looked up.
    pub(super) fn first_seen(
        &mut self,
        kind: &str,
        value: &str,
        now_s: i64,
        learn: bool,
    ) -> Option<bool> {
        let first = match self.first_event_s {
            Some(first) => first,
            None if learn => *self.first_event_s.insert(now_s),
            None => now_s,
        };
        self.scratch.clear();
        self.scratch.push_str(kind);
        self.scratch.push(':');
        self.scratch
            .extend(value.chars().map(|c| c.to_ascii_lowercase()));
        let new =
            self.seen.len() < self.limits.max_entries && !self.seen.contains(self.scratch.as_str());
        if new && learn {
            self.seen_bytes += slot::<Box<str>>() + str_heap(&self.scratch);
            self.seen.insert(Box::from(self.scratch.as_str()));
        }
        let learning = now_s < first.saturating_add(self.limits.learning_period_secs);
        Some(new && !learning)
    }

    pub(super) fn note_sightings(
        &mut self,
        event: &Event<'_>,
        now_s: i64,
        derived: &mut Derived,
        learn: bool,
    ) {
        for c in &event.containers {
            if let Some(image) = &c.image {
                let name = image.full_name();
                derived.image_first_seen = merge_any(
                    derived.image_first_seen,
                    self.first_seen("image", &name, now_s, learn),
                );
                derived.registry_first_seen = merge_any(
                    derived.registry_first_seen,
                    self.first_seen("registry", &image.registry, now_s, learn),
                );
            }
        }
        if let Some(p) = &event.principal
            && !p.name.is_empty()
        {
            derived.principal_first_seen = self.first_seen("principal", &p.name, now_s, learn);
        }
    }
}

fn merge_any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a || b),
    }
}
