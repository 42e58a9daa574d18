//! How `top` and `statusline` write figures: short, fixed-width-friendly, never inventing a
//! number (an unknown cost is `?`, a partly known one ends in `+?`).

use crate::attribute::live_tally::Sums;

/// Dollars: cents above $1, four decimals below (a utility call costs a fraction of a cent).
pub fn usd(value: f64) -> String {
    if value.abs() >= 1.0 {
        format!("${value:.2}")
    } else {
        format!("${value:.4}")
    }
}

/// A sum's cost: `?` when none of its calls was priced, `$x+?` when some were not.
pub fn cost(sums: &Sums) -> String {
    match sums.known_cost() {
        None => "?".into(),
        Some(cost) if sums.unpriced_calls > 0 => format!("{}+?", usd(cost)),
        Some(cost) => usd(cost),
    }
}

/// A rate in dollars per hour, `?` when unknown.
pub fn usd_per_hour(value: Option<f64>) -> String {
    value.map_or("?".into(), |v| format!("{}/h", usd(v)))
}

/// Token counts: exact below 10,000, then k / M with one decimal.
pub fn tokens(value: u64) -> String {
    match value {
        0..10_000 => value.to_string(),
        10_000..10_000_000 => format!("{:.1}k", value as f64 / 1e3),
        _ => format!("{:.1}M", value as f64 / 1e6),
    }
}

/// A rate of tokens.
pub fn tokens_rate(value: f64) -> String {
    tokens(value.round().max(0.0) as u64)
}

/// Seconds as `1h02m`, `3m07s`, `12.3s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

/// Bytes in binary units.
pub fn bytes(value: u64) -> String {
    crate::output::report::table::bytes(value)
}

/// A signed byte rate per hour.
pub fn bytes_per_hour(value: f64) -> String {
    let sign = if value < 0.0 { "-" } else { "+" };
    format!("{sign}{}/h", bytes(value.abs() as u64))
}

/// A share of a whole, `-` when the whole is 0.
pub fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0}%", part * 100.0 / whole)
    } else {
        "-".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_short_and_unknown_costs_are_never_zero() {
        assert_eq!(usd(0.01234), "$0.0123");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(tokens(9_999), "9999");
        assert_eq!(tokens(123_456), "123.5k");
        assert_eq!(tokens(12_345_678), "12.3M");
        assert_eq!(duration(75.0), "1m15s");
        assert_eq!(duration(3_725.0), "1h02m");
        assert_eq!(percent(1.0, 0.0), "-");
        assert_eq!(bytes_per_hour(-1024.0 * 1024.0), "-1.0 MiB/h");
        let mut sums = Sums {
            calls: 1,
            unpriced_calls: 1,
            ..Sums::default()
        };
        assert_eq!(cost(&sums), "?");
        sums.priced_calls = 1;
        sums.cost_usd = 0.5;
        assert_eq!(cost(&sums), "$0.5000+?");
        assert_eq!(usd_per_hour(None), "?");
    }
}
