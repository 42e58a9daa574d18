//! Report settings shared by the commands that compute figures: prices, the KV profile and
//! the rows.

use std::path::Path;

use crate::attribute::cost::PriceTable;
use crate::attribute::findings::Thresholds;
use crate::attribute::findings::cache_ttl::TtlThresholds;
use crate::attribute::findings::category_jump::JumpThresholds;
use crate::attribute::findings::idle_spend::IdleSpendThresholds;
use crate::attribute::findings::leak::LeakThresholds;
use crate::attribute::findings::subagent_peak::PeakThresholds;
use crate::attribute::findings::turn_growth::TurnGrowthThresholds;
use crate::attribute::kv::KvProfile;
use crate::attribute::period::{TimeWindow, zone_named};
use crate::attribute::rows::{Columns, RowBy, RowsSpec};
use crate::cli::{BreakdownColumns, By, FindingArgs, RowArgs};
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

/// The finding thresholds of `--leak-*` and the other finding flags, each checked: a window of
/// no length or a coverage above one would judge nothing and say so never.
pub fn findings(args: &FindingArgs) -> anyhow::Result<Thresholds> {
    let check = |ok: bool, flag: &str, value: f64, what: &str| match ok {
        true => Ok(()),
        false => Err(InputError::new(format!("--{flag} {value}: {what}"))),
    };
    let at_least_0 = |v: f64| v.is_finite() && v >= 0.0;
    let above_0 = |v: f64| v.is_finite() && v > 0.0;
    for (ok, flag, value, what) in [
        (
            at_least_0(args.leak_warmup),
            "leak-warmup",
            args.leak_warmup,
            "must be 0 seconds or more",
        ),
        (
            above_0(args.leak_window),
            "leak-window",
            args.leak_window,
            "must be more than 0 seconds",
        ),
        (
            args.leak_windows >= 1,
            "leak-windows",
            args.leak_windows as f64,
            "must be 1 or more",
        ),
        (
            at_least_0(args.leak_min_rate),
            "leak-min-rate",
            args.leak_min_rate,
            "must be 0 MiB/h or more",
        ),
        (
            at_least_0(args.leak_min_percent),
            "leak-min-percent",
            args.leak_min_percent,
            "must be 0 % or more",
        ),
        (
            args.leak_coverage > 0.0 && args.leak_coverage <= 1.0,
            "leak-coverage",
            args.leak_coverage,
            "must be above 0 and at most 1",
        ),
        (
            at_least_0(args.turn_growth_min),
            "turn-growth-min",
            args.turn_growth_min,
            "must be 0 MiB or more",
        ),
        (
            args.turn_growth_turns >= 1,
            "turn-growth-turns",
            args.turn_growth_turns as f64,
            "must be 1 or more",
        ),
        (
            above_0(args.subagent_peak_limit),
            "subagent-peak-limit",
            args.subagent_peak_limit,
            "must be more than 0 MiB",
        ),
        (
            at_least_0(args.idle_grace),
            "idle-grace",
            args.idle_grace,
            "must be 0 seconds or more",
        ),
        (
            above_0(args.idle_min),
            "idle-min",
            args.idle_min,
            "must be more than 0 seconds",
        ),
        (
            at_least_0(args.idle_min_spend),
            "idle-min-spend",
            args.idle_min_spend,
            "must be 0 USD per hour or more",
        ),
        (
            at_least_0(args.idle_min_tokens),
            "idle-min-tokens",
            args.idle_min_tokens,
            "must be 0 tokens per hour or more",
        ),
        (
            at_least_0(args.jump_points),
            "jump-points",
            args.jump_points,
            "must be 0 points or more",
        ),
        (
            at_least_0(args.jump_ratio),
            "jump-ratio",
            args.jump_ratio,
            "must be 0 or more",
        ),
        (
            args.jump_window >= 1,
            "jump-window",
            args.jump_window as f64,
            "must be 1 turn or more",
        ),
        (
            at_least_0(args.ttl_min_spend),
            "ttl-min-spend",
            args.ttl_min_spend,
            "must be 0 USD or more",
        ),
    ] {
        check(ok, flag, value, what)?;
    }
    const MIB: f64 = 1024.0 * 1024.0;
    Ok(Thresholds {
        leak: LeakThresholds {
            warmup_s: args.leak_warmup,
            window_s: args.leak_window,
            consecutive_windows: args.leak_windows,
            min_bytes_per_hour: args.leak_min_rate * MIB,
            min_percent_per_hour: args.leak_min_percent,
            min_coverage: args.leak_coverage,
        },
        turn_growth: TurnGrowthThresholds {
            min_turns: args.turn_growth_turns,
            min_bytes_per_turn: args.turn_growth_min * MIB,
            ..TurnGrowthThresholds::default()
        },
        subagent_peak: PeakThresholds {
            limit_bytes: (args.subagent_peak_limit * MIB) as u64,
        },
        idle_spend: IdleSpendThresholds {
            grace_s: args.idle_grace,
            min_idle_s: args.idle_min,
            min_usd_per_idle_hour: args.idle_min_spend,
            min_tokens_per_idle_hour: args.idle_min_tokens,
        },
        category_jump: JumpThresholds {
            window_turns: args.jump_window,
            baseline_turns: args.jump_window,
            min_points: args.jump_points,
            min_ratio: args.jump_ratio,
        },
        cache_ttl: TtlThresholds {
            min_usd: args.ttl_min_spend,
            min_tokens: args.ttl_min_tokens,
        },
    })
}
