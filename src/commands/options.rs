//! Report settings shared by the commands that compute figures: prices and the KV profile.

use std::path::Path;

use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
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
