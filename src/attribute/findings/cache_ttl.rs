//! Prompt-cache writes paid again because the cached prefix expired between two calls.
//!
//! A prompt cache lives 5 minutes after its last use (an hour for the 1-hour cache). A user
//! who steps away longer comes back to a cold cache: the next call writes the whole prefix
//! again, at the write price (1.25x input, 2x for the 1-hour cache) instead of the read price
//! (0.1x). Per cache key (session, agent, model — as the server-KV model keys it), a call that
//! writes cache after a gap longer than the key's TTL re-wrote at most the prefix the key held
//! before; what that cost over reading it is the dollars lost to the TTL. It assumes the
//! prefix was unchanged (a prefix that changed would have been written anyway), so it is an
//! upper bound on what a longer TTL would have saved.

use std::collections::HashMap;

use super::{Context, Finding, severity};
use crate::attribute::attribution::AttributedTrace;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::{CACHE_TTL_1H, CACHE_TTL_5M, CacheKey};
use crate::observation::Usage;

/// When TTL rewrites are a finding. Defaults: [`TtlThresholds::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TtlThresholds {
    /// Dollars paid again over cache reads, in one trace, from which it is a finding…
    pub min_usd: f64,
    /// …or, when a price is unknown, tokens written again.
    pub min_tokens: u64,
}

impl Default for TtlThresholds {
    fn default() -> Self {
        TtlThresholds {
            min_usd: 0.5,
            min_tokens: 1_000_000,
        }
    }
}

/// Critical from this many dollars paid again in one trace.
const CRITICAL_USD: f64 = 5.0;

/// What one key held after its last cache-using call.
#[derive(Debug, Clone, Copy)]
struct Held {
    end: f64,
    prefix: u64,
    ttl: f64,
}

/// One rewrite of an expired prefix.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rewrite {
    t: f64,
    gap_s: f64,
    tokens: u64,
    /// Paid over reading the same tokens; `None` when the model's price is unknown.
    usd: Option<f64>,
}

/// The finding on one trace's rewrites after an expiry, if they pass `limits`.
pub fn find(
    attributed: &AttributedTrace<'_>,
    context: &Context,
    prices: &PriceTable,
    limits: &TtlThresholds,
) -> Option<Finding> {
    let mut held: HashMap<CacheKey<'_>, Held> = HashMap::new();
    let mut rewrites = Vec::new();
    for a in &attributed.calls {
        let call = a.call;
        let Some(usage) = call.usage else { continue };
        let prefix = usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
        if prefix == 0 {
            continue;
        }
        let key = (
            call.session_id.as_deref(),
            call.agent_id.as_deref(),
            call.model.as_deref(),
        );
        let before = held.get(&key).copied();
        if let Some(before) = before
            && usage.cache_creation_input_tokens > 0
            && call.t_start - before.end > before.ttl
        {
            let tokens = usage.cache_creation_input_tokens.min(before.prefix);
            let usd = match (
                prices.cost(call.model.as_deref(), &usage),
                prices.cost(call.model.as_deref(), &read_instead(&usage, tokens)),
            ) {
                (Some(paid), Some(reading)) => Some(paid - reading),
                _ => None,
            };
            rewrites.push(Rewrite {
                t: call.t_start,
                gap_s: call.t_start - before.end,
                tokens,
                usd,
            });
        }
        // A key that ever wrote 1-hour cache keeps its prefix an hour: reads refresh it.
        let one_hour = usage.cache_creation_1h_input_tokens > 0
            || before.is_some_and(|b| b.ttl == CACHE_TTL_1H);
        held.insert(
            key,
            Held {
                end: call.t_end.unwrap_or(call.t_start),
                prefix,
                ttl: if one_hour { CACHE_TTL_1H } else { CACHE_TTL_5M },
            },
        );
    }
    let first = rewrites.first()?;
    let tokens: u64 = rewrites.iter().map(|r| r.tokens).sum();
    let usd: Option<f64> = rewrites.iter().map(|r| r.usd).sum();
    let passes = match usd {
        Some(usd) => usd >= limits.min_usd,
        None => tokens >= limits.min_tokens,
    };
    if !passes {
        return None;
    }
    let longest = rewrites.iter().map(|r| r.gap_s).fold(0.0, f64::max);
    let paid = match usd {
        Some(usd) => format!("${usd:.2} more than reading them"),
        None => "dollars unknown (a model has no price)".to_string(),
    };
    Some(Finding {
        kind: "cache_ttl_rewrite".into(),
        severity: severity(usd.is_some_and(|usd| usd >= CRITICAL_USD)),
        place: context.place("trace"),
        rate: usd.unwrap_or(tokens as f64),
        rate_unit: if usd.is_some() { "usd" } else { "tokens" }.into(),
        rate_percent_per_hour: None,
        cost_usd: usd,
        since: context.at(first.t),
        confidence: 1.0,
        detail: format!(
            "{} calls wrote the prompt cache again after it expired between calls (gaps up to {:.0} min, over the 5 min or 1 h TTL): {tokens} tokens written again, {paid} (assumes each prefix was unchanged)",
            rewrites.len(),
            longest / 60.0
        ),
    })
}

/// `usage` with `tokens` of its cache writes read from cache instead.
fn read_instead(usage: &Usage, tokens: u64) -> Usage {
    let mut read = *usage;
    read.cache_creation_input_tokens -= tokens;
    read.cache_read_input_tokens += tokens;
    let from_5m = tokens.min(read.cache_creation_5m_input_tokens);
    read.cache_creation_5m_input_tokens -= from_5m;
    read.cache_creation_1h_input_tokens = read
        .cache_creation_1h_input_tokens
        .saturating_sub(tokens - from_5m);
    read
}
