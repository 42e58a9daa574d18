//! Ids and timestamps as Claude Code and the API write them: `msg_01…`, `req_011C…`, UUIDs,
//! `2026-11-21T06:03:49.820Z`.

use crate::demo::det::Rng;

/// `len` lowercase hex digits.
pub fn hex(out: &mut Vec<u8>, rng: &mut Rng, len: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut word = 0u64;
    for i in 0..len {
        if i % 16 == 0 {
            word = rng.next_u64();
        }
        out.push(DIGITS[(word & 15) as usize]);
        word >>= 4;
    }
}

/// An id like Anthropic's: `prefix` then `len` base-62 characters.
pub fn base62(rng: &mut Rng, prefix: &str, len: usize) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    for _ in 0..len {
        id.push(char::from(DIGITS[(rng.next_u64() % 62) as usize]));
    }
    id
}

/// A random UUID (v4 layout).
pub fn uuid(rng: &mut Rng) -> String {
    let mut out = Vec::with_capacity(36);
    for (i, n) in [8, 4, 4, 4, 12].iter().enumerate() {
        if i > 0 {
            out.push(b'-');
        }
        hex(&mut out, rng, *n);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Milliseconds since the epoch as `2026-11-21T06:03:49.820Z`.
pub fn timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_jiff() {
        for ms in [0i64, 1_795_240_997_306, 951_782_400_000, 1_709_251_199_999] {
            let ours = timestamp(ms);
            let theirs = jiff::Timestamp::from_millisecond(ms)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(ours, theirs);
        }
    }
}
