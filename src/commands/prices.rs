//! `agentprof prices [MODEL…] [--prices FILE] [--trace TRACE]… [--json]`: what a model costs,
//! which entry prices it and how its id was matched, where that price came from — and which
//! model ids in a trace have no price.
//!
//! The answer is built once as data (`Answer`, serialised as `agentprof.prices/v1` by
//! `--json`) and `text` renders the same data for a terminal. Exit code 1 when a model asked
//! for or named in a trace has no price: scripts can check a model before a run.

mod text;

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::options;
use crate::attribute::cost::{Match, ModelPrice, PriceOrigin, PriceTable, Rates};
use crate::cli::PricesArgs;
use crate::error::InputError;
use crate::output::html::units;
use crate::output::trace::read_trace;

/// The `schema` of the JSON document.
const SCHEMA: &str = "agentprof.prices/v1";

/// The whole answer.
#[derive(Debug, Serialize)]
struct Answer {
    schema: &'static str,
    table: Label,
    /// The models asked for, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    models: Vec<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    traces: Option<TraceModels>,
    /// Every entry, when neither models nor traces were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    entries: Option<Vec<Entry>>,
}

#[derive(Debug, Serialize)]
struct Label {
    as_of: String,
    source: String,
    override_file: Option<String>,
    models: usize,
}

/// One model id and what prices it.
#[derive(Debug, Serialize)]
struct Lookup {
    model: String,
    /// `exact`, `normalised` or `prefix`; absent when unpriced.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    how: Option<&'static str>,
    /// The form of the id that matched (normalised), or the entry id it extends (prefix).
    #[serde(skip_serializing_if = "Option::is_none")]
    matched_as: Option<String>,
    /// `null` when no entry prices the model: its costs are null.
    entry: Option<Entry>,
}

/// One price entry, prices in USD per million tokens with every fallback applied.
#[derive(Debug, Serialize)]
struct Entry {
    id: String,
    provider: String,
    /// `bundled` or `override`.
    origin: &'static str,
    /// The bundled snapshot's label, or the override file.
    source: String,
    max_input_tokens: Option<u64>,
    /// Prices of a prompt below every tier.
    usd_per_million: Prices,
    /// Which of those prices the entry does not set itself (LiteLLM's fallbacks filled them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fallbacks: Vec<&'static str>,
    tiers: Vec<TierPrices>,
}

#[derive(Debug, Serialize)]
struct TierPrices {
    /// The tier applies to prompts of more than this many tokens (xAI: this many or more).
    above_prompt_tokens: u64,
    /// The smallest prompt billed at it.
    from_prompt_tokens: u64,
    usd_per_million: Prices,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fallbacks: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct Prices {
    // `null`: the entry has no such price and no fallback gives one (calls with such tokens
    // cost null).
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
    cache_write_5m: Option<f64>,
    cache_write_1h: Option<f64>,
}

/// The models the traces' calls name.
#[derive(Debug, Serialize)]
struct TraceModels {
    files: Vec<String>,
    calls: u64,
    /// Calls that name no model (their cost is unknown when they have usage).
    calls_without_model: u64,
    models: Vec<TraceModel>,
}

#[derive(Debug, Serialize)]
struct TraceModel {
    calls: u64,
    #[serde(flatten)]
    lookup: Lookup,
}

/// The `prices` command.
pub fn run(args: PricesArgs) -> anyhow::Result<i32> {
    let table = options::prices(args.prices.as_deref())?;
    let traces = (!args.trace.is_empty())
        .then(|| trace_models(&table, &args.trace))
        .transpose()?;
    let listing = args.models.is_empty() && traces.is_none();
    let answer = Answer {
        schema: SCHEMA,
        table: Label {
            as_of: table.as_of().to_string(),
            source: table.source().to_string(),
            override_file: table.override_file().map(str::to_string),
            models: table.models().len(),
        },
        models: args.models.iter().map(|m| lookup(&table, m)).collect(),
        traces,
        entries: listing.then(|| table.models().iter().map(|m| entry(&table, m)).collect()),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &answer)?;
        writeln!(out)?;
    } else {
        text::write(&answer, &mut out)?;
    }
    out.flush()?;
    let unpriced = answer.models.iter().any(|l| l.entry.is_none())
        || answer
            .traces
            .iter()
            .flat_map(|t| &t.models)
            .any(|m| m.lookup.entry.is_none());
    Ok(i32::from(unpriced))
}

fn lookup(table: &PriceTable, model: &str) -> Lookup {
    let Some((price, how)) = table.resolve(model) else {
        return Lookup {
            model: model.to_string(),
            how: None,
            matched_as: None,
            entry: None,
        };
    };
    let (how, matched_as) = match how {
        Match::Exact => ("exact", None),
        Match::Normalised(form) => ("normalised", Some(form)),
        Match::Prefix(id) => ("prefix", Some(id)),
    };
    Lookup {
        model: model.to_string(),
        how: Some(how),
        matched_as,
        entry: Some(entry(table, price)),
    }
}

fn entry(table: &PriceTable, m: &ModelPrice) -> Entry {
    let (origin, source) = match m.origin {
        PriceOrigin::Bundled => (
            "bundled",
            format!("bundled snapshot, {}", PriceTable::bundled().as_of()),
        ),
        PriceOrigin::Override => (
            "override",
            table.override_file().unwrap_or("--prices").to_string(),
        ),
    };
    Entry {
        id: m.id.clone(),
        provider: m.provider.clone(),
        origin,
        source,
        max_input_tokens: m.max_input_tokens,
        usd_per_million: prices_at(m, 0),
        fallbacks: fallbacks(&m.own_at(0)),
        tiers: m
            .tiers
            .iter()
            .map(|t| {
                let from = m.first_prompt_of(t);
                TierPrices {
                    above_prompt_tokens: t.above,
                    from_prompt_tokens: from,
                    usd_per_million: prices_at(m, from),
                    fallbacks: fallbacks(&m.own_at(from)),
                }
            })
            .collect(),
    }
}

fn prices_at(m: &ModelPrice, prompt: u64) -> Prices {
    // Per-million prices come from decimal text; rounding to 1e-9 hides float noise from the
    // TOML format's multiplications without touching any real price.
    let round = |x: Option<f64>| x.map(|x| (x * 1e9).round() / 1e9);
    let b = m.billed_at(prompt);
    Prices {
        input: round(b.input),
        output: round(b.output),
        cache_read: round(b.cache_read),
        cache_write_5m: round(b.cache_write_5m),
        cache_write_1h: round(b.cache_write_1h),
    }
}

/// The prices an entry leaves unset (in `Prices` field names).
fn fallbacks(own: &Rates) -> Vec<&'static str> {
    [
        ("input", own.input),
        ("output", own.output),
        ("cache_read", own.cache_read),
        ("cache_write_5m", own.cache_write_5m),
        ("cache_write_1h", own.cache_write_1h),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.is_none().then_some(name))
    .collect()
}

/// Every model id the traces' calls name, with its count and price, most calls first.
fn trace_models(table: &PriceTable, paths: &[std::path::PathBuf]) -> anyhow::Result<TraceModels> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut calls, mut without) = (0, 0);
    for path in paths {
        let trace = read_trace(path).map_err(|e| InputError::new(format!("--trace: {e}")))?;
        for call in &trace.calls {
            calls += 1;
            match &call.model {
                Some(model) => *counts.entry(model.clone()).or_default() += 1,
                None => without += 1,
            }
        }
    }
    let mut models: Vec<TraceModel> = counts
        .into_iter()
        .map(|(model, calls)| TraceModel {
            calls,
            lookup: lookup(table, &model),
        })
        .collect();
    models.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then(a.lookup.model.cmp(&b.lookup.model))
    });
    Ok(TraceModels {
        files: paths.iter().map(|p| p.display().to_string()).collect(),
        calls,
        calls_without_model: without,
        models,
    })
}

/// USD per million tokens as text: no trailing zeros (`4`, `0.2`, `0.125`).
fn usd(x: Option<f64>) -> String {
    let Some(x) = x else {
        return "n/a".to_string();
    };
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Whole numbers with thousands separators (`100,000`).
fn thousands(n: u64) -> String {
    units::thousands(i64::try_from(n).unwrap_or(i64::MAX))
}
