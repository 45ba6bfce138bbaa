//! RFC 3339 timestamps to and from nanoseconds since the Unix epoch.
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

/// Nanoseconds since the epoch as RFC 3339 UTC, with the fraction trimmed to what is set
/// (`2024-05-01T10:00:00.5Z`, `2024-05-01T10:00:00Z`).
pub fn format_rfc3339(ns: i64) -> String {
    let mut out = format_rfc3339_seconds(ns);
    let nanos = ns.rem_euclid(1_000_000_000);
    if nanos != 0 {
        out.pop();
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
        out.push('Z');
    }
    out
}

/// Nanoseconds since the epoch as RFC 3339 UTC to the second (`2024-05-01T10:00:00Z`).
pub fn format_rfc3339_seconds(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::{format_rfc3339, format_rfc3339_seconds, parse_rfc3339_ns};

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

    #[test]
    fn formatting_round_trips() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_540_489_114_902_914_000),
            "2018-10-25T17:38:34.902914Z"
        );
        assert_eq!(
            format_rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339_seconds(1_540_489_114_902_914_000),
            "2018-10-25T17:38:34Z"
        );
        assert_eq!(format_rfc3339_seconds(-1), "1969-12-31T23:59:59Z");
        for text in [
            "2024-05-14T09:12:03.398127436Z",
            "1969-12-31T23:59:59.5Z",
            "2100-03-01T00:00:00Z",
        ] {
            assert_eq!(format_rfc3339(parse_rfc3339_ns(text).unwrap()), text);
        }
    }
}
