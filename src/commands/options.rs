//! Report settings shared by the commands that compute figures: prices, the KV profile and
//! the rows.

use std::path::Path;

use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::attribute::period::{TimeWindow, zone_named};
use crate::attribute::rows::{Columns, RowBy, RowsSpec};
use crate::cli::{BreakdownColumns, By, RowArgs};
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
