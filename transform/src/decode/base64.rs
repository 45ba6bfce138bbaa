//! Standard base64, for the formats and wrappers that carry a JSON document in it: Docker
//! authorization-plugin bodies (Go's `[]byte`) and Pub/Sub push messages (`message.data`).

/// Standard base64 (RFC 4648 §4, Go's `encoding/base64.StdEncoding` that encodes a
/// `[]byte` in JSON), padding optional, as UTF-8 text. `None` for anything else: another
/// alphabet, a stray byte, or bytes that are not UTF-8 (a JSON body always is).
pub(crate) fn decode(text: &str) -> Option<String> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let data = text.trim_end_matches('=').as_bytes();
    if text.len() - data.len() > 2 || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    String::from_utf8(out).ok()
}

/// Standard base64 of `s`, for building test records.
#[cfg(test)]
pub(crate) fn encode(s: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            n |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "{\"Image\":\"é\"}",
            r#"{"HostConfig":{"Privileged":true,"Binds":["/:/host"]}}"#,
        ] {
            assert_eq!(decode(&encode(s)).as_deref(), Some(s), "{s}");
            assert_eq!(
                decode(encode(s).trim_end_matches('=')).as_deref(),
                Some(s),
                "unpadded {s}"
            );
        }
        assert_eq!(decode("e30="), Some("{}".into()));
        for bad in ["e30-", "e", "e30===", "e3 0", "_w==", "/w=="] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
