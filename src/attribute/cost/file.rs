//! agentprof's TOML price format, the second format `--prices FILE` accepts (the first is
//! LiteLLM's JSON): parsing, validation with file:line errors, and conversion to absolute prices.
//!
//! Per model: `input` and `output` in USD per million tokens; optional `cache_write_5m`,
//! `cache_write_1h` and `cache_read` as multipliers of that entry's own input price (else the
//! file's `[defaults.<provider>]`, else the built-in defaults below); optional `long_context =
//! { above_prompt_tokens = N, input, output }`, a tier whose cache prices are the same
//! multipliers of its own input price. `docs/prices.example.toml` is a documented example.
//!
//! Files are read into raw, span-carrying records first so every complaint can name the line
//! it is about; only validated records become `ModelPrice`s.

use serde::Deserialize;
use toml::Spanned;

use super::origin::{Origin, PriceError};
use super::price::{ModelPrice, PriceOrigin, Rates, Tier};
use crate::observation::Provider;

/// Multipliers used where neither the entry nor the file's `[defaults.*]` gives one.
/// Anthropic's documented cache prices: 5-minute write 1.25x input, 1-hour write 2x, read 0.1x.
const ANTHROPIC: [Option<f64>; 3] = [Some(1.25), Some(2.0), Some(0.1)];
/// OpenAI: cached input at 0.25x (the old bundled default); no write multiplier, so writes
/// bill at the input price, as LiteLLM bills a model without a write price.
const OPENAI: [Option<f64>; 3] = [None, None, Some(0.25)];
/// Gemini: implicit cache hits at 0.1x input (Gemini 2.5 and later); no write price, since
/// implicit caching charges none.
const GEMINI: [Option<f64>; 3] = [None, None, Some(0.1)];

/// One price file as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    as_of: Option<String>,
    source: Option<String>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default, rename = "model")]
    models: Vec<RawModel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    anthropic: Option<RawMultipliers>,
    openai: Option<RawMultipliers>,
    gemini: Option<RawMultipliers>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMultipliers {
    cache_write_5m: Option<Spanned<f64>>,
    cache_write_1h: Option<Spanned<f64>>,
    cache_read: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: Spanned<String>,
    provider: Provider,
    input: Spanned<f64>,
    output: Spanned<f64>,
    cache_write_5m: Option<Spanned<f64>>,
    cache_write_1h: Option<Spanned<f64>>,
    cache_read: Option<Spanned<f64>>,
    long_context: Option<RawLongContext>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLongContext {
    above_prompt_tokens: u64,
    input: Spanned<f64>,
    output: Spanned<f64>,
}

/// Parses and validates one file on its own (no merging).
pub(super) fn parse(origin: &Origin<'_>) -> Result<RawFile, PriceError> {
    let raw: RawFile = toml::from_str(origin.text)
        .map_err(|e| origin.error(e.span().as_ref(), e.message().trim_end().to_string()))?;
    validate(&raw, origin)?;
    Ok(raw)
}

fn validate(raw: &RawFile, origin: &Origin<'_>) -> Result<(), PriceError> {
    for (provider, defaults) in [
        ("anthropic", &raw.defaults.anthropic),
        ("openai", &raw.defaults.openai),
    ] {
        if let Some(d) = defaults {
            let what = format!("[defaults.{provider}]");
            check(origin, &what, "cache_write_5m", d.cache_write_5m.as_ref())?;
            check(origin, &what, "cache_write_1h", d.cache_write_1h.as_ref())?;
            check(origin, &what, "cache_read", d.cache_read.as_ref())?;
        }
    }
    let mut seen: Vec<(String, &Spanned<String>)> = Vec::new();
    for m in &raw.models {
        let id = m.id.get_ref();
        if id.trim().is_empty() {
            return Err(origin.error(Some(&m.id.span()), "model id is empty".to_string()));
        }
        let key = id.to_ascii_lowercase();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(origin.error(
                Some(&m.id.span()),
                format!(
                    "model \"{id}\" is listed twice (first on line {})",
                    origin.line_at(first.span().start)
                ),
            ));
        }
        seen.push((key, &m.id));
        let what = format!("model \"{id}\"");
        check(origin, &what, "input", Some(&m.input))?;
        check(origin, &what, "output", Some(&m.output))?;
        check(origin, &what, "cache_write_5m", m.cache_write_5m.as_ref())?;
        check(origin, &what, "cache_write_1h", m.cache_write_1h.as_ref())?;
        check(origin, &what, "cache_read", m.cache_read.as_ref())?;
        if let Some(lc) = &m.long_context {
            check(origin, &what, "long_context.input", Some(&lc.input))?;
            check(origin, &what, "long_context.output", Some(&lc.output))?;
        }
    }
    Ok(())
}

/// Rejects negative and non-finite numbers: a negative price would silently cancel real cost.
fn check(
    origin: &Origin<'_>,
    what: &str,
    field: &str,
    value: Option<&Spanned<f64>>,
) -> Result<(), PriceError> {
    let Some(value) = value else { return Ok(()) };
    let v = *value.get_ref();
    let problem = if !v.is_finite() {
        "is not a finite number"
    } else if v < 0.0 {
        "is negative"
    } else {
        return Ok(());
    };
    Err(origin.error(
        Some(&value.span()),
        format!("{what}: {field} = {v} {problem} (prices are USD per million tokens, ≥ 0)"),
    ))
}

/// A TOML file's labels and models.
pub(super) struct TomlFile {
    pub as_of: Option<String>,
    pub source: Option<String>,
    pub models: Vec<ModelPrice>,
}

/// Turns a validated file into absolute prices (see the module docs).
pub(super) fn to_models(raw: RawFile, from: PriceOrigin) -> TomlFile {
    let models = raw
        .models
        .into_iter()
        .map(|m| {
            let (own_defaults, builtin) = match m.provider {
                Provider::Anthropic => (raw.defaults.anthropic.as_ref(), ANTHROPIC),
                Provider::OpenAi => (raw.defaults.openai.as_ref(), OPENAI),
                Provider::Gemini => (raw.defaults.gemini.as_ref(), GEMINI),
            };
            let d = own_defaults.cloned().unwrap_or_default();
            let pick = |own: &Option<Spanned<f64>>, file: &Option<Spanned<f64>>, builtin| {
                own.as_ref()
                    .or(file.as_ref())
                    .map(|v| *v.get_ref())
                    .or(builtin)
            };
            let [w5, w1, read] = [
                pick(&m.cache_write_5m, &d.cache_write_5m, builtin[0]),
                pick(&m.cache_write_1h, &d.cache_write_1h, builtin[1]),
                pick(&m.cache_read, &d.cache_read, builtin[2]),
            ];
            let rates = |input: f64, output: f64| Rates {
                input: Some(input),
                output: Some(output),
                cache_read: read.map(|x| x * input),
                cache_write_5m: w5.map(|x| x * input),
                cache_write_1h: w1.map(|x| x * input),
            };
            ModelPrice {
                id: m.id.into_inner(),
                provider: m.provider.as_str().to_string(),
                base: rates(*m.input.get_ref(), *m.output.get_ref()),
                tiers: m
                    .long_context
                    .iter()
                    .map(|lc| Tier {
                        above: lc.above_prompt_tokens,
                        rates: rates(*lc.input.get_ref(), *lc.output.get_ref()),
                    })
                    .collect(),
                max_input_tokens: None,
                origin: from,
            }
        })
        .collect();
    TomlFile {
        as_of: raw.as_of,
        source: raw.source,
        models,
    }
}
