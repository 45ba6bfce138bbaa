//! Alerts and enrichment out: OCSF Detection Finding 2004 (default) or ECS, and the
//! normalized event as JSON (written by `model::json`, keyed by the rules' field names).
//!
//! Alerts are rare next to records, so rendering builds `serde_json` values freely;
//! the per-record path never comes here unless enrichment was asked for.

pub mod attack;
mod ecs;
pub mod inline;
mod ocsf;

use serde_json::{Map, Value};

use crate::api::AlertFormat;
use crate::model::json;
use crate::model::{Container, Event, RuleHit};

/// Everything a rendered alert says.
pub(crate) struct AlertInput<'x, 'a> {
    pub hit: &'x RuleHit,
    pub event: &'x Event<'a>,
    /// Indices into `event.containers` the rule matched on.
    pub containers: &'x [usize],
    pub summary: &'x str,
    pub file: &'x str,
    pub line: u32,
}

impl AlertInput<'_, '_> {
    fn matched(&self) -> impl Iterator<Item = &Container<'_>> {
        self.containers
            .iter()
            .filter_map(|&i| self.event.containers.get(i))
    }

    /// A stable id: the same rule on the same record gives the same id, so a replayed
    /// or retried batch does not create new findings downstream.
    fn uid(&self) -> String {
        let mut h = Fnv::default();
        h.write(self.hit.rule_id.as_bytes());
        h.write(self.event.source.as_str().as_bytes());
        h.write(self.event.raw_action.as_bytes());
        if let Some(id) = &self.event.request_id {
            h.write(id.as_bytes());
        }
        h.write(&self.event.time_ns.unwrap_or(0).to_le_bytes());
        for c in self.matched() {
            for v in [&c.id, &c.name].into_iter().flatten() {
                h.write(v.as_bytes());
            }
        }
        format!("{:016x}", h.0)
    }
}

pub(crate) fn render(format: AlertFormat, alert: &AlertInput<'_, '_>) -> String {
    let value = match format {
        AlertFormat::Ocsf => ocsf::render(alert),
        AlertFormat::Ecs => ecs::render(alert),
    };
    value.to_string()
}

/// FNV-1a, 64-bit: tiny, deterministic on every target.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 ^= 0xff;
    }
}

fn opt<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

/// The enrichment record: the normalized event plus where it came from (`model::json`
/// describes the format).
pub(crate) fn enrichment(e: &Event<'_>, file: &str, line: u32) -> String {
    json::event_text(e, Some((file, line)))
}
