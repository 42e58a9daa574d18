//! One model's prices and the formula that turns a call's `Usage` into USD.
//!
//! Prices are absolute, per model, in USD per million tokens: input (uncached), output, cache
//! read, 5-minute cache write and 1-hour cache write, plus prompt-size tiers. The rules are
//! LiteLLM's (`generic_cost_per_token` and `_get_token_base_cost` in
//! `litellm/litellm_core_utils/llm_cost_calc/utils.py`, litellm 1.110.2), so a figure here is
//! the figure LiteLLM and ccusage would give for the same usage:
//!
//! - **Tiers.** A tier `above N` applies when the whole prompt (uncached input + cache writes +
//!   cache reads) is strictly greater than N tokens (xAI: N or more); the whole request, output
//!   included, is then billed at it. Tiers are applied in ascending order, each replacing the
//!   prices it names, so with several exceeded the highest wins and a price it lacks comes from
//!   the next lower exceeded tier, else from the base prices.
//! - **Missing prices.** No cache-read or cache-write price: the (tiered) input price — a
//!   provider that publishes no cache price bills cached tokens as input. No 1-hour write
//!   price: the (tiered) 5-minute write price. An explicit 0 is a price. No input or output
//!   price: LiteLLM bills 0; agentprof does not guess — a call with tokens of a kind the entry
//!   has no price for costs `None` (`null` in reports), like a call to an unknown model.
//! - **Writes.** `Usage` keeps `cache_creation_1h_input_tokens` apart; every other written
//!   token is a 5-minute write (LiteLLM's "unattributed" writes bill at the base write price).
//! - **Not applied** (standard on-demand pricing is assumed): batch, flex, priority, ultrafast
//!   and off-peak prices, regional and fast-mode uplifts, per-reasoning-token and per-modality
//!   (audio, image) prices — `Usage` has no such split, and LiteLLM bills an unsplit output at
//!   the output price too.

use crate::observation::Usage;

/// Tokens per price unit: prices are USD per million tokens.
pub const PER_MILLION: f64 = 1_000_000.0;

/// Prices as an entry gives them (USD per million tokens); `None` where it gives none.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub input: Option<f64>,
    pub output: Option<f64>,
    pub cache_read: Option<f64>,
    pub cache_write_5m: Option<f64>,
    pub cache_write_1h: Option<f64>,
}

/// Prices for requests whose prompt exceeds `above` tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tier {
    pub above: u64,
    pub rates: Rates,
}

/// Which file an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceOrigin {
    /// The snapshot compiled into the binary.
    Bundled,
    /// The `--prices FILE` laid over it.
    Override,
}

/// Prices of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    /// The entry's id as its file writes it (LiteLLM's key).
    pub id: String,
    /// LiteLLM's `litellm_provider` (`anthropic`, `bedrock_converse`, …), or the TOML `provider`.
    pub provider: String,
    pub base: Rates,
    /// Prompt-size tiers, ascending by `above`.
    pub tiers: Vec<Tier>,
    /// LiteLLM's `max_input_tokens`, when given (shown, never used to bill).
    pub max_input_tokens: Option<u64>,
    pub origin: PriceOrigin,
}

/// The prices one request is billed at, every fallback applied (USD per million tokens);
/// `None` where the entry gives no price and no fallback applies (no input or output price).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Billed {
    pub input: Option<f64>,
    pub output: Option<f64>,
    pub cache_read: Option<f64>,
    pub cache_write_5m: Option<f64>,
    pub cache_write_1h: Option<f64>,
}

impl ModelPrice {
    fn tier_applies(&self, tier: &Tier, prompt: u64) -> bool {
        prompt >= self.first_prompt_of(tier)
    }

    /// The prices the entry itself sets for a request with `prompt` prompt tokens: tiers
    /// applied, fallbacks not (`None` where the entry has no price of its own).
    pub fn own_at(&self, prompt: u64) -> Rates {
        let mut own = self.base;
        for tier in self.tiers.iter().filter(|t| self.tier_applies(t, prompt)) {
            let r = &tier.rates;
            own = Rates {
                input: r.input.or(own.input),
                output: r.output.or(own.output),
                cache_read: r.cache_read.or(own.cache_read),
                cache_write_5m: r.cache_write_5m.or(own.cache_write_5m),
                cache_write_1h: r.cache_write_1h.or(own.cache_write_1h),
            };
        }
        own
    }

    /// The prices a request with `prompt` prompt tokens is billed at.
    pub fn billed_at(&self, prompt: u64) -> Billed {
        let own = self.own_at(prompt);
        let write = own.cache_write_5m.or(own.input);
        Billed {
            input: own.input,
            output: own.output,
            cache_read: own.cache_read.or(own.input),
            cache_write_5m: write,
            cache_write_1h: own.cache_write_1h.or(write),
        }
    }

    /// The smallest prompt billed at `tier`: its threshold plus one, as a tier is for prompts
    /// strictly above it — except xAI's, from the threshold on (LiteLLM's
    /// `_INCLUSIVE_THRESHOLD_PROVIDERS`).
    pub fn first_prompt_of(&self, tier: &Tier) -> u64 {
        if self.provider == "xai" {
            tier.above
        } else {
            tier.above.saturating_add(1)
        }
    }

    /// USD for one call's usage; `None` when it has tokens of a kind the entry has no price for.
    pub fn cost(&self, usage: &Usage) -> Option<f64> {
        cost_at(&self.billed_at(usage.prompt_tokens()), usage)
    }

    /// The largest prompt still billed at the base prices: where the lowest tier starts
    /// (`None` when the model has no tier).
    pub fn base_limit(&self) -> Option<u64> {
        let lowest = self.tiers.first()?;
        Some(self.first_prompt_of(lowest).saturating_sub(1))
    }

    /// USD for usage summed over calls that were all billed at the base prices (`long` false)
    /// or all at the lowest tier (`long` true): the simulator tallies calls on either side of
    /// `base_limit` and prices each side once. (No bundled model has more than one tier.)
    pub fn cost_in_tier(&self, usage: &Usage, long: bool) -> Option<f64> {
        let prompt = match self.tiers.first() {
            Some(lowest) if long => self.first_prompt_of(lowest),
            _ => 0,
        };
        cost_at(&self.billed_at(prompt), usage)
    }

    /// Whether the entry prices cache writes itself (else they bill as input, see the module
    /// docs — which is why the simulator can count them as input).
    pub fn prices_cache_writes(&self) -> bool {
        self.base.cache_write_5m.is_some()
    }
}

/// USD for `usage` at the prices `b`; `None` if some tokens have no price.
fn cost_at(b: &Billed, usage: &Usage) -> Option<f64> {
    let write_1h = usage.cache_creation_1h_input_tokens;
    // Writes without a TTL split are 5-minute writes (the API default), so whatever part of
    // the total is not 1-hour is billed as 5-minute even if the split field was left at 0.
    let write_5m = usage
        .cache_creation_5m_input_tokens
        .max(usage.cache_creation_input_tokens.saturating_sub(write_1h));
    let mut weighted = 0.0;
    for (tokens, price) in [
        (usage.input_tokens, b.input),
        (write_5m, b.cache_write_5m),
        (write_1h, b.cache_write_1h),
        (usage.cache_read_input_tokens, b.cache_read),
        (usage.output_tokens, b.output),
    ] {
        if tokens > 0 {
            weighted += tokens as f64 * price?;
        }
    }
    Some(weighted / PER_MILLION)
}
