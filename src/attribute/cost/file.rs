//! The price-file format: parsing, validation with file:line errors, and merging an override
//! file over the bundled table.
//!
//! Files are read into raw, span-carrying records first so every complaint can name the line
//! it is about; only validated records are turned into the `ModelPrice`s the cost code uses.

use std::ops::Range;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{LongContext, ModelPrice};
use crate::observation::Provider;

/// Why a price file could not be used. Every message names the file, and the line when the
/// problem has one.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("{}: cannot read price file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file as given (or `bundled prices.toml`).
        file: String,
        /// 1-based line of the offending text, when the parser could locate it.
        line: Option<usize>,
        message: String,
    },
}

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

/// The text of one price file and the name used for it in messages.
pub(super) struct Origin<'a> {
    pub name: String,
    pub text: &'a str,
}

impl Origin<'_> {
    fn line_of(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        // Counting bytes is enough: '\n' is never part of a multi-byte UTF-8 sequence.
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: Option<&Range<usize>>, message: String) -> PriceError {
        PriceError::Invalid {
            file: self.name.clone(),
            line: span.map(|s| self.line_of(s)),
            message,
        }
    }
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
                    origin.line_of(&first.span())
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

/// Lays `over` on top of `base`: labels and default multipliers field by field, models by
/// (case-insensitive) id — replacing in place keeps the bundled order stable for listings.
pub(super) fn merge(mut base: RawFile, over: RawFile, over_name: &str) -> RawFile {
    base.source = Some(match (over.source, base.source) {
        (Some(s), _) => format!("{s} (from {over_name})"),
        (None, Some(b)) => format!("{b}; with overrides from {over_name}"),
        (None, None) => format!("overrides from {over_name}"),
    });
    if over.as_of.is_some() {
        base.as_of = over.as_of;
    }
    merge_multipliers(&mut base.defaults.anthropic, over.defaults.anthropic);
    merge_multipliers(&mut base.defaults.openai, over.defaults.openai);
    for model in over.models {
        let key = model.id.get_ref().to_ascii_lowercase();
        match base
            .models
            .iter_mut()
            .find(|m| m.id.get_ref().to_ascii_lowercase() == key)
        {
            Some(slot) => *slot = model,
            None => base.models.push(model),
        }
    }
    base
}

fn merge_multipliers(base: &mut Option<RawMultipliers>, over: Option<RawMultipliers>) {
    let Some(over) = over else { return };
    let b = base.get_or_insert_with(RawMultipliers::default);
    if over.cache_write_5m.is_some() {
        b.cache_write_5m = over.cache_write_5m;
    }
    if over.cache_write_1h.is_some() {
        b.cache_write_1h = over.cache_write_1h;
    }
    if over.cache_read.is_some() {
        b.cache_read = over.cache_read;
    }
}

/// The resolved table contents: labels and priced models with every multiplier filled in.
pub(super) struct Resolved {
    pub as_of: String,
    pub source: String,
    pub models: Vec<ModelPrice>,
}

pub(super) fn resolve(raw: RawFile) -> Resolved {
    let models = raw
        .models
        .into_iter()
        .map(|m| {
            let defaults = match m.provider {
                Provider::Anthropic => raw.defaults.anthropic.as_ref(),
                Provider::OpenAi => raw.defaults.openai.as_ref(),
            };
            // The bundled table defines all three defaults for every provider (a test checks
            // it) and overrides can only replace them, so the 0.0 fallback is never reached.
            let pick = |own: Option<Spanned<f64>>, default: Option<&Spanned<f64>>| {
                own.map(Spanned::into_inner)
                    .or_else(|| default.map(|d| *d.get_ref()))
                    .unwrap_or(0.0)
            };
            let d = defaults.cloned().unwrap_or_default();
            ModelPrice {
                id: m.id.into_inner(),
                provider: m.provider,
                input: m.input.into_inner(),
                output: m.output.into_inner(),
                cache_write_5m: pick(m.cache_write_5m, d.cache_write_5m.as_ref()),
                cache_write_1h: pick(m.cache_write_1h, d.cache_write_1h.as_ref()),
                cache_read: pick(m.cache_read, d.cache_read.as_ref()),
                long_context: m.long_context.map(|lc| LongContext {
                    above_prompt_tokens: lc.above_prompt_tokens,
                    input: lc.input.into_inner(),
                    output: lc.output.into_inner(),
                }),
            }
        })
        .collect();
    Resolved {
        as_of: raw.as_of.unwrap_or_else(|| "unknown".to_string()),
        source: raw
            .source
            .unwrap_or_else(|| "unlabelled price table".to_string()),
        models,
    }
}

/// Whether both defaults sections define every multiplier (checked on the bundled table).
#[cfg(test)]
pub(super) fn defaults_complete(raw: &RawFile) -> bool {
    [&raw.defaults.anthropic, &raw.defaults.openai]
        .into_iter()
        .all(|d| {
            d.as_ref().is_some_and(|d| {
                d.cache_write_5m.is_some() && d.cache_write_1h.is_some() && d.cache_read.is_some()
            })
        })
}
