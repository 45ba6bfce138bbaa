//! RFC 3339 timestamps to nanoseconds since the Unix epoch.
//!
//! Docker (`Created`, `State.StartedAt`) writes Go's `RFC3339Nano`
//! (`2024-05-14T09:12:03.123456789Z`); the Kubernetes API server writes microseconds
//! (`2024-05-14T09:12:03.123456Z`). Both are parsed here by hand: the format is small,
//! and a date crate would be the engine's only reason to carry one (and its wasm
//! feature flags).

/// Parse an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) to
/// nanoseconds since the Unix epoch.
///
/// Accepts `T`, `t` or a space between date and time, `Z` or `z` for UTC, and a fraction
/// of any length (digits past the ninth are dropped, not rounded). A leap second (`:60`)
/// reads as the first second of the next minute. Returns `None` for anything else, and
/// for instants outside what an `i64` of nanoseconds holds (years 1678 to 2261), such as
/// Go's zero time `0001-01-01T00:00:00Z`, which Docker writes for "never".
pub(crate) fn parse_rfc3339_ns(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }

    let mut at = 19;
    let mut nanos: i64 = 0;
    if b[at] == b'.' {
        at += 1;
        let start = at;
        let mut scale = 100_000_000;
        while at < b.len() && b[at].is_ascii_digit() {
            nanos += i64::from(b[at] - b'0') * scale;
            scale /= 10;
            at += 1;
        }
        if at == start {
            return None;
        }
    }

    let offset_seconds: i64 = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() && b[at + 3] == b':' => {
            let oh = digits(b, at + 1, 2)?;
            let om = digits(b, at + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = oh * 3600 + om * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };

    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// `len` ASCII digits at `at`, as a number.
fn digits(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let slice = b.get(at..at + len)?;
    slice.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, <https://howardhinnant.github.io/date_algorithms.html>).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339_ns;

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        // date -u -d 2024-05-14T09:12:03Z +%s = 1715677923
        assert_eq!(
            parse_rfc3339_ns("2024-05-14T09:12:03.123456789Z"),
            Some(1_715_677_923_123_456_789)
        );
        assert_eq!(
            parse_rfc3339_ns("2024-05-14T09:12:03.123456Z"),
            Some(1_715_677_923_123_456_000)
        );
        assert_eq!(
            parse_rfc3339_ns("2024-02-29t00:00:00z"),
            Some(1_709_164_800_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns("1969-12-31T23:59:59.5Z"),
            Some(-500_000_000)
        );
    }

    #[test]
    fn offsets_and_long_fractions() {
        let utc = parse_rfc3339_ns("2024-05-14T09:12:03Z");
        assert_eq!(parse_rfc3339_ns("2024-05-14T11:12:03+02:00"), utc);
        assert_eq!(parse_rfc3339_ns("2024-05-14T04:42:03-04:30"), utc);
        assert_eq!(parse_rfc3339_ns("2024-05-14 09:12:03Z"), utc);
        assert_eq!(
            parse_rfc3339_ns("2024-05-14T09:12:03.1234567891234Z"),
            parse_rfc3339_ns("2024-05-14T09:12:03.123456789Z")
        );
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for bad in [
            "",
            "2024-05-14",
            "2024-05-14T09:12:03",
            "2024-05-14T09:12:03.Z",
            "2024-13-14T09:12:03Z",
            "2023-02-29T09:12:03Z",
            "2024-05-14T24:00:00Z",
            "2024-05-14T09:12:03+0200",
            "2024-05-14T09:12:03Zjunk",
            "2024-05-14T09:12:03.12x45Z",
            "２024-05-14T09:12:03Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339_ns(bad), None, "{bad:?}");
        }
    }
}
