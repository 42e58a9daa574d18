//! Transcript timestamps (`2026-11-21T06:03:49.820Z`) as milliseconds since the Unix epoch.
//!
//! Every assistant line carries one, so the common shape — UTC, `Z`, up to millisecond digits
//! — is parsed by hand; anything else goes through jiff's full RFC 3339 parser.

/// Milliseconds since the epoch, or `None` when the text is not a timestamp.
pub fn parse_millis(text: &[u8]) -> Option<i64> {
    fast(text).or_else(|| {
        let text = std::str::from_utf8(text).ok()?;
        text.parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_millisecond())
    })
}

fn fast(t: &[u8]) -> Option<i64> {
    if t.len() < 20 || t[4] != b'-' || t[7] != b'-' || t[10] != b'T' || t[13] != b':' {
        return None;
    }
    if t[16] != b':' || *t.last()? != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        t.get(range)?.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let millis = match &t[19..t.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            // Milliseconds are the first three digits; finer digits are truncated.
            let mut ms = 0i64;
            for k in 0..3 {
                ms = ms * 10 + digits.get(k).map_or(0, |&b| i64::from(b - b'0'));
            }
            ms
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
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
    use super::*;

    #[test]
    fn fast_path_agrees_with_jiff() {
        for text in [
            "2026-11-21T06:03:49.820Z",
            "2024-02-29T23:59:59.999Z",
            "1999-12-31T00:00:00Z",
            "2025-01-01T00:00:00.5Z",
            "2025-03-01T12:34:56.123456Z",
        ] {
            let jiff = text.parse::<jiff::Timestamp>().unwrap().as_millisecond();
            assert_eq!(fast(text.as_bytes()), Some(jiff), "{text}");
        }
    }

    #[test]
    fn other_shapes_fall_back_or_fail() {
        let with_offset = "2026-11-21T07:03:49.820+01:00";
        assert_eq!(fast(with_offset.as_bytes()), None);
        assert_eq!(
            parse_millis(with_offset.as_bytes()),
            parse_millis(b"2026-11-21T06:03:49.820Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-21T06:03:49.Z",
        ] {
            assert_eq!(parse_millis(bad.as_bytes()), None, "{bad}");
        }
    }
}
