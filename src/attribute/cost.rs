//! Dollar cost of calls: the price table and the formula that turns one call's `Usage` into USD.
//!
//! The bundled prices are a snapshot of LiteLLM's price file (the community standard ccusage
//! also uses), filtered by `scripts/update-prices` and compiled in (`cost/litellm_prices.json`);
//! `--prices FILE` lays LiteLLM's JSON (the whole upstream file or any subset) or agentprof's
//! TOML over it. Prices are absolute and per model, with prompt-size tiers; the formula and its
//! fallbacks mirror LiteLLM's (`price`), ids resolve through a ladder of spellings (`matching`).
//! A model that no entry prices has no cost (`None`), never a cost of 0, so reports say
//! "unknown" instead of under-counting. docs/prices.md is the user's guide.

mod file;
mod litellm;
mod matching;
mod origin;
mod price;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bundled;
#[cfg(test)]
mod tests_files;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

pub use matching::Match;
use origin::Origin;
pub use origin::PriceError;
pub use price::{Billed, ModelPrice, PER_MILLION, PriceOrigin, Rates, Tier};

use crate::observation::Usage;

/// The bundled snapshot, compiled into the binary.
const BUNDLED: &str = include_str!("cost/litellm_prices.json");
const BUNDLED_NAME: &str = "bundled litellm_prices.json";

/// Model prices plus the labels reports print next to every dollar figure. Cloning is cheap
/// (the contents are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable(Arc<Contents>);

#[derive(Debug, PartialEq)]
struct Contents {
    as_of: String,
    source: String,
    /// The `--prices FILE` laid over the bundled prices, if any.
    override_file: Option<String>,
    models: Vec<ModelPrice>,
    index: matching::Index,
}

impl PriceTable {
    /// The snapshot compiled into the binary (parsed once per process).
    pub fn bundled() -> PriceTable {
        static TABLE: LazyLock<PriceTable> = LazyLock::new(|| match parse_bundled() {
            Ok(table) => table,
            // Unreachable in a release: a unit test parses the snapshot. Should it ever
            // break, every model reads as unpriced and the label says why, not a panic.
            Err(e) => PriceTable::new("unknown".into(), format!("no prices: {e}"), None, vec![]),
        });
        TABLE.clone()
    }

    /// The bundled prices with `path` (the `--prices FILE` option) laid over them. The file is
    /// LiteLLM's JSON or agentprof's TOML, told apart by its content; its entries replace
    /// bundled entries with the same (case-insensitive) id or add new ones, and its label
    /// (TOML `as_of`, JSON `agentprof_snapshot`), if it has one, replaces the bundled label.
    pub fn with_overrides(path: &Path) -> Result<PriceTable, PriceError> {
        let text = std::fs::read_to_string(path).map_err(|source| PriceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.display().to_string();
        let origin = Origin {
            name: name.clone(),
            text: &text,
        };
        let over = parse_any(&origin, PriceOrigin::Override)?;
        let base = PriceTable::bundled();
        let source = match over.source {
            Some(s) => format!("{s} (from {name})"),
            None => format!("{}; with overrides from {name}", base.source()),
        };
        let as_of = over.as_of.unwrap_or_else(|| base.as_of().to_string());
        let models = merge(base.models().to_vec(), over.models);
        Ok(PriceTable::new(as_of, source, Some(name), models))
    }

    fn new(
        as_of: String,
        source: String,
        override_file: Option<String>,
        models: Vec<ModelPrice>,
    ) -> PriceTable {
        let index = matching::Index::build(&models);
        PriceTable(Arc::new(Contents {
            as_of,
            source,
            override_file,
            models,
            index,
        }))
    }

    /// What the prices are (label for reports), e.g. `litellm 1.110.2 (2026-11-20)`.
    pub fn as_of(&self) -> &str {
        &self.0.as_of
    }

    /// Where the prices come from (label for reports; names the override file when one was used).
    pub fn source(&self) -> &str {
        &self.0.source
    }

    /// The `--prices FILE` in use, if any.
    pub fn override_file(&self) -> Option<&str> {
        self.0.override_file.as_deref()
    }

    /// Every priced model: bundled entries sorted by id, then entries an override file added.
    pub fn models(&self) -> &[ModelPrice] {
        &self.0.models
    }

    /// The entry that prices `model` and how it was found (see `matching` for the ladder).
    pub fn resolve(&self, model: &str) -> Option<(&ModelPrice, Match)> {
        let (i, how) = self.0.index.find(model)?;
        Some((self.0.models.get(i)?, how))
    }

    /// The entry that prices `model`, if any.
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        self.resolve(model).map(|(price, _)| price)
    }

    /// USD for one call, or `None` when the call names no model or an unpriced one.
    pub fn cost(&self, model: Option<&str>, usage: &Usage) -> Option<f64> {
        model
            .and_then(|m| self.lookup(m))
            .and_then(|price| price.cost(usage))
    }
}

/// Labels and models of one file.
struct Parsed {
    as_of: Option<String>,
    source: Option<String>,
    models: Vec<ModelPrice>,
}

fn parse_bundled() -> Result<PriceTable, PriceError> {
    let origin = Origin {
        name: BUNDLED_NAME.to_string(),
        text: BUNDLED,
    };
    let parsed = parse_any(&origin, PriceOrigin::Bundled)?;
    Ok(PriceTable::new(
        parsed.as_of.unwrap_or_else(|| "unknown".to_string()),
        parsed
            .source
            .unwrap_or_else(|| "unlabelled price table".to_string()),
        None,
        parsed.models,
    ))
}

/// Reads a price file in either format: a JSON object starts with `{`, which no TOML document
/// can (so the extension does not matter).
fn parse_any(origin: &Origin<'_>, from: PriceOrigin) -> Result<Parsed, PriceError> {
    if origin
        .text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
    {
        let file = litellm::parse(origin, from)?;
        let (as_of, source) = file.label.unzip();
        Ok(Parsed {
            as_of,
            source,
            models: file.models,
        })
    } else {
        let file = file::to_models(file::parse(origin)?, from);
        Ok(Parsed {
            as_of: file.as_of,
            source: file.source,
            models: file.models,
        })
    }
}

/// `over`'s entries replace `base`'s with the same case-insensitive id — in place, which keeps
/// listings in bundled order — or are appended.
fn merge(mut base: Vec<ModelPrice>, over: Vec<ModelPrice>) -> Vec<ModelPrice> {
    let mut position: HashMap<String, usize> = base
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.to_ascii_lowercase(), i))
        .collect();
    for model in over {
        let key = model.id.to_ascii_lowercase();
        match position.get(&key) {
            Some(&i) => base[i] = model,
            None => {
                position.insert(key, base.len());
                base.push(model);
            }
        }
    }
    base
}

/// The warning for calls whose model has no price (reports and the simulator): it names the
/// model and the way out.
pub fn unpriced_warning(model: &str, calls: Option<u64>) -> String {
    let count = calls.map(|n| format!(" ({n} calls)")).unwrap_or_default();
    format!(
        "no price for model {model:?}{count}: its costs are null; check with `agentprof prices {model}`, then pass --prices FILE (LiteLLM's model_prices_and_context_window.json or a TOML table, docs/prices.md)"
    )
}

/// The assumption line about prices every report and simulation carries.
pub fn prices_assumption(as_of: &str, source: &str) -> String {
    format!(
        "prices: {as_of} — {source}; standard on-demand prices (batch, flex, priority, regional and fast-mode prices are not applied)"
    )
}
