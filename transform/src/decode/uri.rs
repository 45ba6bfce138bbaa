//! Request URIs as the Docker Engine API and the Kubernetes API server receive them:
//! the query string, its `key=value` pairs, and `application/x-www-form-urlencoded`
//! decoding of their values.

use std::borrow::Cow;

/// The query string of a request URI: after `?`, before any `#`.
pub(crate) fn query_of(uri: &str) -> &str {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    query.split_once('#').map_or(query, |(q, _)| q)
}

/// The `key=value` pairs of a query string, values still encoded; a key without `=` has
/// an empty value.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte. A `%`
/// not followed by two hex digits is kept as written; bytes that do not form UTF-8 are
/// replaced. Borrowed when there is nothing to decode.
pub(crate) fn form_decode(value: &str) -> Cow<'_, str> {
    if !value.contains(['%', '+']) {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
        match b {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_values() {
        assert_eq!(query_of("/x/exec?command=sh&tty#frag"), "command=sh&tty");
        assert_eq!(query_of("/x"), "");
        let p: Vec<_> = pairs("a=1&&b&c=").collect();
        assert_eq!(p, [("a", "1"), ("b", ""), ("c", "")]);
        assert!(matches!(form_decode("plain"), Cow::Borrowed("plain")));
        assert_eq!(form_decode("a%2Fb+c"), "a/b c");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%ff"), "\u{fffd}");
        assert_eq!(form_decode("%C3%A9"), "é");
        assert_eq!(form_decode("%E2%9C%93%ff"), "\u{2713}\u{fffd}");
    }
}
