//! Detection: which format a record is, guessed from the keys only one format has (JSON)
//! or from a sniff of the line (text), in the registry's order.
//!
//! Keys can be chosen by whoever writes a record (Docker labels are keys of
//! `Attributes`), so detection is only a first guess: `decode` tries the other formats
//! when the guess does not decode.
//!
//! Detection runs on every record, and in the component there is no SIMD to hide a
//! rebuilt searcher, so each distinct key of the registry gets one [`Finder`], built once;
//! within one record a key is searched for at most once, however many formats name it.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::{Context, FORMATS, Format, Keys, StreamState};
use crate::model::Source;

/// The registry's detection keys, each distinct key with one searcher, and each
/// format's key sets as bit sets over them. At most 64 keys, so one record's answers fit
/// in a `u64`.
struct Finders {
    finders: Vec<Finder<'static>>,
    /// Per format, in registry order: its key sets.
    sets: Vec<Vec<KeyBits>>,
}

/// A [`Keys`] as bit sets over [`Finders::finders`].
struct KeyBits {
    all: u64,
    without: u64,
    check: Option<fn(&str) -> bool>,
}

static FINDERS: LazyLock<Finders> = LazyLock::new(|| {
    let mut keys: Vec<&'static str> = Vec::new();
    let mut bits = |names: &'static [&'static str]| -> u64 {
        names.iter().fold(0, |mask, name| {
            let at = keys.iter().position(|k| k == name).unwrap_or_else(|| {
                keys.push(name);
                keys.len() - 1
            });
            assert!(at < 64, "detection keys fit a u64 bit set");
            mask | 1 << at
        })
    };
    let sets = FORMATS
        .iter()
        .map(|f| {
            f.detect
                .json
                .iter()
                .map(|k: &Keys| KeyBits {
                    all: bits(k.all),
                    without: bits(k.without),
                    check: k.check,
                })
                .collect()
        })
        .collect();
    Finders {
        finders: keys.into_iter().map(Finder::new).collect(),
        sets,
    }
});

/// Which keys one record has, each searched for on first use.
struct Seen<'t> {
    text: &'t [u8],
    searched: u64,
    found: u64,
}

impl Seen<'_> {
    /// Whether the record has every key of `mask`; stops at the first one missing.
    fn has_all(&mut self, finders: &[Finder<'static>], mask: u64) -> bool {
        if self.searched & mask & !self.found != 0 {
            return false;
        }
        let mut todo = mask & !self.searched;
        while todo != 0 {
            let at = todo.trailing_zeros();
            todo &= todo - 1;
            if !self.probe(finders, at) {
                return false;
            }
        }
        true
    }

    /// Whether the record has any key of `mask`; stops at the first one found.
    fn has_any(&mut self, finders: &[Finder<'static>], mask: u64) -> bool {
        if self.found & mask != 0 {
            return true;
        }
        let mut todo = mask & !self.searched;
        while todo != 0 {
            let at = todo.trailing_zeros();
            todo &= todo - 1;
            if self.probe(finders, at) {
                return true;
            }
        }
        false
    }

    /// Search for key `at` (not searched yet) and remember the answer.
    fn probe(&mut self, finders: &[Finder<'static>], at: u32) -> bool {
        let bit = 1u64 << at;
        self.searched |= bit;
        let found = finders[at as usize].find(self.text).is_some();
        if found {
            self.found |= bit;
        }
        found
    }
}

/// The first format, in registry order, whose keys a JSON record has.
pub(super) fn json_format(text: &str) -> Option<&'static Format> {
    let Finders { finders, sets } = &*FINDERS;
    let mut seen = Seen {
        text: text.as_bytes(),
        searched: 0,
        found: 0,
    };
    FORMATS.iter().zip(sets).find_map(|(format, sets)| {
        sets.iter()
            .any(|keys| {
                seen.has_all(finders, keys.all)
                    && !seen.has_any(finders, keys.without)
                    && keys.check.is_none_or(|check| check(text))
            })
            .then_some(*format)
    })
}

/// The first format, in registry order, that claims a line that is not JSON.
pub(super) fn text_format(
    text: &str,
    state: &StreamState,
    ctx: &Context<'_>,
) -> Option<&'static Format> {
    FORMATS
        .iter()
        .copied()
        .find(|f| f.detect.text.is_some_and(|sniff| sniff(text, state, ctx)))
}

/// Guess the format of one JSON record from keys only that format has.
pub fn detect(text: &str) -> Option<Source> {
    json_format(text).map(|f| f.source)
}

/// Guess the format of one line that is not JSON.
pub fn detect_text(text: &str, state: &StreamState, ctx: &Context<'_>) -> Option<Source> {
    text_format(text, state, ctx).map(|f| f.source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_keys() {
        assert_eq!(
            detect(r#"{"auditID":"a","verb":"get","stage":"ResponseComplete"}"#),
            Some(Source::K8sAudit)
        );
        assert_eq!(
            detect(r#"{"Id":"x","HostConfig":{}}"#),
            Some(Source::DockerInspect)
        );
        assert_eq!(
            detect(r#"{"RequestMethod":"POST","RequestBody":"","HostConfig":{}}"#),
            Some(Source::DockerAuthz)
        );
        assert_eq!(
            detect(r#"{"Type":"container","Action":"start","Actor":{"ID":"x"}}"#),
            Some(Source::DockerEvent)
        );
        assert_eq!(
            detect(r#"{"status":"start","id":"x","from":"nginx"}"#),
            Some(Source::DockerEvent)
        );
        assert_eq!(
            detect(r#"{"category":"kube-audit","operationName":"x","properties":{}}"#),
            Some(Source::AksAudit)
        );
        assert_eq!(
            detect(r#"{"operationName":"x","properties":{}}"#),
            Some(Source::AzureActivity)
        );
        assert_eq!(
            detect(r#"{"id.orig_h":"10.0.0.1","query":"a.example"}"#),
            Some(Source::ZeekDns)
        );
        assert_eq!(
            detect(r#"{"id.orig_h":"10.0.0.1","proto":"tcp"}"#),
            Some(Source::ZeekConn)
        );
        assert_eq!(detect(r#"{"message":"auditID: 1"}"#), None);
    }

    #[test]
    fn every_key_is_searched_once_per_record() {
        let Finders { finders, .. } = &*FINDERS;
        let mut seen = Seen {
            // The first key of the registry: AKS's `category`.
            text: br#"{"category":"a"}"#,
            searched: 0,
            found: 0,
        };
        assert!(seen.has_all(finders, 1));
        assert_eq!(seen.searched, 1);
        assert!(!seen.has_all(finders, 0b110));
        // The first missing key of a set ends the search for that set.
        assert_eq!(seen.searched.count_ones(), 2);
    }
}

#[cfg(test)]
mod claims {
    use super::*;

    /// An AKS record and an Azure Activity Log record, each with the other's keys in
    /// sight, are each claimed by their own format.
    #[test]
    fn aks_records_and_the_activity_log_are_told_apart() {
        // Split from an Event Hubs batch, `properties.log` as text, as an object, and
        // without `operationName`.
        for text in [
            r#"{"category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","properties":{"log":"{\"kind\":\"Event\",\"auditID\":\"a\",\"verb\":\"get\"}"}}"#,
            r#"{"category":"kube-audit-admin","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","properties":{"log":{"kind":"Event","auditID":"a","verb":"get"}}}"#,
            r#"{"category":"kube-audit","properties":{"log":"{}"}}"#,
            r#"{"Category":"kube-audit","log_s":"{}","Type":"AzureDiagnostics"}"#,
        ] {
            assert_eq!(detect(text), Some(Source::AksAudit), "{text}");
        }
        // An Activity Log record, even about AKS, is not an audit event.
        let activity = r#"{"time":"2024-05-14T09:12:03Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS","operationName":"MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/WRITE","category":"Administrative","resultType":"Success","properties":{"statusCode":"OK"}}"#;
        assert_eq!(detect(activity), Some(Source::AzureActivity));
    }
}
