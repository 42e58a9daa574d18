//! Units for axes and cells: which binary byte unit or time unit fits a range, and how
//! dollars and token counts read at a glance.
//!
//! Every axis label names its unit (`RSS (MiB)`, `cost ($)`), so a chart read without its
//! page still says what it shows.

const KIB: f64 = 1024.0;
const MIB: f64 = KIB * 1024.0;
const GIB: f64 = MIB * 1024.0;
const TIB: f64 = GIB * 1024.0;

/// A unit to divide values by before plotting them, and its name for the axis label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub divisor: f64,
    pub unit: &'static str,
}

impl Scale {
    pub fn of(self, value: f64) -> f64 {
        value / self.divisor
    }
}

/// Bytes: MiB up to a few GiB (how people read process memory), GiB above, TiB for fleets.
pub fn bytes(max: f64) -> Scale {
    let (divisor, unit) = if max >= 4.0 * TIB {
        (TIB, "TiB")
    } else if max >= 4.0 * GIB {
        (GIB, "GiB")
    } else if max >= MIB {
        (MIB, "MiB")
    } else {
        (KIB, "KiB")
    };
    Scale { divisor, unit }
}

/// Seconds since the start of a trace: seconds, minutes or hours by the span.
pub fn time(span_s: f64) -> Scale {
    let (divisor, unit) = if span_s >= 3.0 * 3600.0 {
        (3600.0, "h")
    } else if span_s >= 180.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    };
    Scale { divisor, unit }
}

/// Tokens: plain, thousands or millions; `unit` is what the axis adds (`tokens (×1,000)`).
pub fn tokens(max: f64) -> Scale {
    let (divisor, unit) = if max >= 5e6 {
        (1e6, "tokens (×1,000,000)")
    } else if max >= 5e3 {
        (1e3, "tokens (×1,000)")
    } else {
        (1.0, "tokens")
    };
    Scale { divisor, unit }
}

/// A token count in a few characters: `950`, `12.3k`, `4.56M`.
pub fn token_count(value: f64) -> String {
    if value >= 1e6 {
        format!("{}M", tick(value / 1e6))
    } else if value >= 1e3 {
        format!("{}k", tick(value / 1e3))
    } else {
        tick(value)
    }
}

/// Dollars with the precision a value needs: `$1,234`, `$12.35`, `$0.0123`.
pub fn dollars(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1000.0 {
        format!("${}", thousands(value.round() as i64))
    } else if abs >= 1.0 {
        format!("${value:.2}")
    } else {
        format!("${value:.4}")
    }
}

/// A cost that may be unknown: unknown reads `unpriced`, never `$0`.
pub fn cost(value: Option<f64>) -> String {
    value.map_or_else(|| "unpriced".to_string(), dollars)
}

/// An integer with thin separators every three digits: `1,234,567`.
pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes as a cell reads them (`60.9 MiB`).
pub fn byte_text(value: u64) -> String {
    crate::output::report::table::bytes(value)
}

/// Seconds as a cell reads them: `0.25 ms`, `850 ms`, `2.31 s`, `4.0 min`.
pub fn duration(seconds: f64) -> String {
    if seconds < 0.01 {
        format!("{} ms", tick(seconds * 1000.0))
    } else if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 120.0 {
        format!("{seconds:.2} s")
    } else {
        format!("{:.1} min", seconds / 60.0)
    }
}

/// A tick label with at most three significant digits and no trailing zeros.
pub fn tick(value: f64) -> String {
    let abs = value.abs();
    let text = if abs == 0.0 || !abs.is_finite() {
        return "0".to_string();
    } else if abs >= 100.0 {
        format!("{value:.0}")
    } else if abs >= 10.0 {
        format!("{value:.1}")
    } else if abs >= 1.0 {
        format!("{value:.2}")
    } else {
        // Three significant digits however small: 0.125, 0.00025.
        let decimals = ((-abs.log10()).ceil() as usize + 2).min(12);
        format!("{value:.decimals$}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_follow_the_range() {
        assert_eq!(bytes(60.0 * MIB).unit, "MiB");
        assert_eq!(bytes(20.0 * GIB).unit, "GiB");
        assert_eq!(bytes(100.0 * KIB).unit, "KiB");
        assert_eq!(time(3.4).unit, "s");
        assert_eq!(time(3600.0).unit, "min");
        assert_eq!(time(86400.0).unit, "h");
        assert_eq!(tokens(3e5).unit, "tokens (×1,000)");
        assert_eq!(token_count(123_456.0), "123k");
        assert_eq!(bytes(60.0 * MIB).of(60.0 * MIB), 60.0);
    }

    #[test]
    fn unknown_cost_is_unpriced_never_zero() {
        assert_eq!(cost(None), "unpriced");
        assert_eq!(cost(Some(0.0)), "$0.0000");
        assert_eq!(dollars(1234.4), "$1,234");
        assert_eq!(dollars(12.345), "$12.35");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(2.50), "2.5");
        assert_eq!(tick(125.0), "125");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(0.00002), "0.00002");
        assert_eq!(tick(0.0005), "0.0005");
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(0.00025), "0.25 ms");
    }
}
