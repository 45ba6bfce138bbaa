//! Network names in one spelling: DNS names and transport protocols as rules compare
//! them, whichever sensor or log reported them.

use std::borrow::Cow;

use super::text::lower;

/// A DNS name as rules compare it: lower case, without the root's trailing dot
/// (Route 53 writes `example.com.`, Zeek and Falco `example.com`). Borrows when the name
/// needs neither change.
pub(crate) fn domain_name(name: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed_len = name.strip_suffix('.').map_or(name.len(), str::len);
    let needs_lower = name.bytes().any(|b| b.is_ascii_uppercase());
    match name {
        Cow::Borrowed(s) if !needs_lower => Cow::Borrowed(&s[..trimmed_len]),
        other => Cow::Owned(other[..trimmed_len].to_ascii_lowercase()),
    }
}

/// A transport protocol as rules compare it: `tcp`, `udp`, `icmp`, lower case, without
/// the kernel's `IPPROTO_` prefix (Tetragon writes `IPPROTO_TCP`).
pub(crate) fn protocol(name: Cow<'_, str>) -> Cow<'_, str> {
    match name.strip_prefix("IPPROTO_") {
        Some(bare) => Cow::Owned(bare.to_ascii_lowercase()),
        None => lower(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_protocols() {
        assert_eq!(domain_name(Cow::Borrowed("Evil.Example.")), "evil.example");
        assert_eq!(domain_name(Cow::Borrowed(".")), "");
        assert!(matches!(
            domain_name(Cow::Borrowed("a.example.")),
            Cow::Borrowed("a.example")
        ));
        assert_eq!(protocol(Cow::Borrowed("IPPROTO_TCP")), "tcp");
        assert_eq!(protocol(Cow::Borrowed("UDP")), "udp");
        assert!(matches!(
            protocol(Cow::Borrowed("tcp")),
            Cow::Borrowed("tcp")
        ));
    }
}
