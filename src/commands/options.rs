//! Report settings shared by the commands that compute figures: prices, the KV profile and
//! the rows.

use std::path::Path;

use crate::attribute::cost::PriceTable;
use crate::attribute::findings::leak::LeakThresholds;
use crate::attribute::kv::KvProfile;
use crate::attribute::period::{TimeWindow, zone_named};
use crate::attribute::rows::{Columns, RowBy, RowsSpec};
use crate::cli::{BreakdownColumns, By, LeakArgs, RowArgs};
use crate::error::InputError;

/// The price table: bundled, or with `--prices FILE` applied.
pub fn prices(path: Option<&Path>) -> anyhow::Result<PriceTable> {
    match path {
        Some(path) => PriceTable::with_overrides(path)
            .map_err(|e| InputError::new(format!("--prices: {e}")).into()),
        None => Ok(PriceTable::bundled()),
    }
}

/// A KV profile by name (`--kv-profile`).
pub fn kv_profile(name: &str) -> anyhow::Result<&'static KvProfile> {
    KvProfile::from_name(name).map_err(|e| InputError::new(format!("--kv-profile: {e}")).into())
}

/// How the report's rows are grouped and which days it covers (`--by`, `--breakdown`,
/// `--since`, `--until`, `--timezone`).
pub fn rows(args: &RowArgs) -> anyhow::Result<RowsSpec> {
    let zone = zone_named(args.timezone.as_deref()).map_err(InputError::new)?;
    let window = TimeWindow::new(args.since, args.until, &zone).map_err(InputError::new)?;
    Ok(RowsSpec {
        by: match args.by {
            By::Day => RowBy::Day,
            By::Week => RowBy::Week,
            By::Month => RowBy::Month,
            By::Project => RowBy::Project,
            By::Session => RowBy::Session,
            By::Model => RowBy::Model,
            By::Category => RowBy::Category,
            By::Turn => RowBy::Turn,
            By::Agent => RowBy::Agent,
        },
        columns: match args.breakdown {
            BreakdownColumns::Category => Columns::Category,
            BreakdownColumns::Model => Columns::Model,
        },
        zone,
        window,
    })
}

/// The leak thresholds of `--leak-*`, each checked: a window of no length or a coverage above
/// one would judge nothing and say so never.
pub fn leak(args: &LeakArgs) -> anyhow::Result<LeakThresholds> {
    let check = |ok: bool, flag: &str, value: f64, what: &str| match ok {
        true => Ok(()),
        false => Err(InputError::new(format!("--{flag} {value}: {what}"))),
    };
    let finite = |v: f64| v.is_finite();
    check(
        finite(args.leak_warmup) && args.leak_warmup >= 0.0,
        "leak-warmup",
        args.leak_warmup,
        "must be 0 seconds or more",
    )?;
    check(
        finite(args.leak_window) && args.leak_window > 0.0,
        "leak-window",
        args.leak_window,
        "must be more than 0 seconds",
    )?;
    check(
        args.leak_windows >= 1,
        "leak-windows",
        args.leak_windows as f64,
        "must be 1 or more",
    )?;
    check(
        finite(args.leak_min_rate) && args.leak_min_rate >= 0.0,
        "leak-min-rate",
        args.leak_min_rate,
        "must be 0 MiB/h or more",
    )?;
    check(
        finite(args.leak_min_percent) && args.leak_min_percent >= 0.0,
        "leak-min-percent",
        args.leak_min_percent,
        "must be 0 % or more",
    )?;
    check(
        args.leak_coverage > 0.0 && args.leak_coverage <= 1.0,
        "leak-coverage",
        args.leak_coverage,
        "must be above 0 and at most 1",
    )?;
    Ok(LeakThresholds {
        warmup_s: args.leak_warmup,
        window_s: args.leak_window,
        consecutive_windows: args.leak_windows,
        min_bytes_per_hour: args.leak_min_rate * 1024.0 * 1024.0,
        min_percent_per_hour: args.leak_min_percent,
        min_coverage: args.leak_coverage,
    })
}
