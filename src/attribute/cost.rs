//! Dollar cost of calls: the price table (bundled, optionally overridden with `--prices FILE`)
//! and the formula that turns one call's `Usage` into USD.
//!
//! This module owns model-id matching, the cache-write/cache-read multipliers and the
//! long-context rule. A model that no entry prices has no cost (`None`), never a cost of 0, so
//! reports can say "unknown" instead of under-counting.

mod file;
mod matching;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::LazyLock;

use file::Origin;
pub use file::PriceError;

use crate::observation::{Provider, Usage};

/// The bundled table, compiled into the binary.
const BUNDLED: &str = include_str!("prices.toml");
const BUNDLED_NAME: &str = "bundled prices.toml";

/// Tokens per price unit: prices are USD per million tokens.
const PER_MILLION: f64 = 1_000_000.0;

/// Prices of one model, with every multiplier resolved (its own, else its provider's default).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    pub id: String,
    pub provider: Provider,
    /// USD per million uncached input tokens.
    pub input: f64,
    /// USD per million output tokens.
    pub output: f64,
    /// Multiplier of the input price for 5-minute cache writes.
    pub cache_write_5m: f64,
    /// Multiplier of the input price for 1-hour cache writes.
    pub cache_write_1h: f64,
    /// Multiplier of the input price for cache reads (OpenAI: cached input).
    pub cache_read: f64,
    pub long_context: Option<LongContext>,
}

/// Long-context pricing: above `above_prompt_tokens` prompt tokens the whole request is billed
/// at these prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongContext {
    pub above_prompt_tokens: u64,
    pub input: f64,
    pub output: f64,
}

impl ModelPrice {
    /// USD for one call's usage.
    pub fn cost(&self, usage: &Usage) -> f64 {
        // The threshold is on the whole prompt, cached or not, and it is strict: exactly N
        // prompt tokens is still a normal request.
        let long = self
            .long_context
            .is_some_and(|lc| usage.prompt_tokens() > lc.above_prompt_tokens);
        self.cost_in_tier(usage, long)
    }

    /// USD for usage billed at one tier: `long` selects the long-context prices (when the
    /// model has them). For sums over many calls whose tier was decided call by call, as the
    /// simulator keeps them.
    pub fn cost_in_tier(&self, usage: &Usage, long: bool) -> f64 {
        let (input, output) = match self.long_context {
            Some(lc) if long => (lc.input, lc.output),
            _ => (self.input, self.output),
        };
        let write_1h = usage.cache_creation_1h_input_tokens;
        // Writes without a TTL split are 5-minute writes (the API default), so whatever part of
        // the total is not 1-hour is billed as 5-minute even if the split field was left at 0.
        let write_5m = usage
            .cache_creation_5m_input_tokens
            .max(usage.cache_creation_input_tokens.saturating_sub(write_1h));
        let weighted = usage.input_tokens as f64 * input
            + write_5m as f64 * (input * self.cache_write_5m)
            + write_1h as f64 * (input * self.cache_write_1h)
            + usage.cache_read_input_tokens as f64 * (input * self.cache_read)
            + usage.output_tokens as f64 * output;
        weighted / PER_MILLION
    }
}

/// Model prices plus the labels reports print next to every dollar figure.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    as_of: String,
    source: String,
    models: Vec<ModelPrice>,
    /// Lowercased ids, index-aligned with `models`, for matching.
    ids: Vec<String>,
}

impl PriceTable {
    /// The table compiled into the binary (parsed once per process, then cloned).
    pub fn bundled() -> PriceTable {
        static TABLE: LazyLock<PriceTable> = LazyLock::new(|| {
            match PriceTable::parse(BUNDLED, BUNDLED_NAME) {
                Ok(table) => table,
                // Unreachable in a release: a unit test parses the bundled file. Should it ever
                // break, every model reads as unpriced and the label says why, not a panic.
                Err(e) => PriceTable::from_resolved(file::Resolved {
                    as_of: "unknown".to_string(),
                    source: format!("no prices: {e}"),
                    models: Vec::new(),
                }),
            }
        });
        TABLE.clone()
    }

    /// The bundled table with `path` (the `--prices FILE` option) laid over it: same format;
    /// its entries replace bundled entries with the same id or add new ones, its defaults
    /// replace bundled defaults field by field, and its `as_of`, if given, replaces the label.
    pub fn with_overrides(path: &Path) -> Result<PriceTable, PriceError> {
        let text = std::fs::read_to_string(path).map_err(|source| PriceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.display().to_string();
        let over = file::parse(&Origin {
            name: name.clone(),
            text: &text,
        })?;
        let base = file::parse(&Origin {
            name: BUNDLED_NAME.to_string(),
            text: BUNDLED,
        })?;
        Ok(Self::from_resolved(file::resolve(file::merge(
            base, over, &name,
        ))))
    }

    /// One file on its own, without the bundled table underneath.
    fn parse(text: &str, name: &str) -> Result<PriceTable, PriceError> {
        let raw = file::parse(&Origin {
            name: name.to_string(),
            text,
        })?;
        Ok(Self::from_resolved(file::resolve(raw)))
    }

    fn from_resolved(resolved: file::Resolved) -> PriceTable {
        let ids = resolved
            .models
            .iter()
            .map(|m| m.id.to_ascii_lowercase())
            .collect();
        PriceTable {
            as_of: resolved.as_of,
            source: resolved.source,
            models: resolved.models,
            ids,
        }
    }

    /// The date the prices were last checked (label for reports).
    pub fn as_of(&self) -> &str {
        &self.as_of
    }

    /// Where the prices come from (label for reports; names the override file when one was used).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every priced model, bundled order first, then entries added by an override file.
    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    /// The entry that prices `model`: exact id, else the normalised id (lowercase; date,
    /// `-latest`, gateway/Bedrock prefixes and Bedrock `-vN:M` suffix removed), else the longest
    /// id that prefixes it at a `-` boundary, unless the rest names another version or tier.
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        matching::find(&self.ids, model).and_then(|i| self.models.get(i))
    }

    /// USD for one call, or `None` when the call names no model or an unpriced one.
    pub fn cost(&self, model: Option<&str>, usage: &Usage) -> Option<f64> {
        model
            .and_then(|m| self.lookup(m))
            .map(|price| price.cost(usage))
    }
}
