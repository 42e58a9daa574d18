//! LiteLLM's price-file format (`model_prices_and_context_window.json`): the bundled snapshot
//! and `--prices FILE`.
//!
//! The file is one JSON object; each member is a model id and its prices in USD **per token**.
//! Read here: `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
//! `cache_creation_input_token_cost` (5-minute write), `cache_creation_input_token_cost_above_1hr`
//! (1-hour write), each of them again as `<field>_above_<N>k_tokens` / `<field>_above_<N>_tokens`
//! (a prompt-size tier), `litellm_provider`, `mode` and `max_input_tokens`; every other field is
//! ignored. Skipped, never an error: `sample_spec` (LiteLLM's documentation entry), entries
//! whose `mode` is not `chat`, `responses` or `completion` (embeddings, images, audio), and
//! entries with neither an input nor an output price. The member `agentprof_snapshot`, which
//! `scripts/update-prices` writes, carries the label of a snapshot.
//!
//! Prices are kept per million tokens, converted from the file's decimal text by moving its
//! exponent (`4e-06` → `4e0`), so they are exactly the decimal the file wrote and a million
//! tokens at `4e-06` cost exactly $4. A value that is negative, not finite or not a number is
//! refused with its file and line; `null` is no price, as in LiteLLM.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::origin::{Origin, PriceError};
use super::price::{ModelPrice, PriceOrigin, Rates, Tier};

/// The member that labels a snapshot written by `scripts/update-prices`.
pub const SNAPSHOT_KEY: &str = "agentprof_snapshot";
/// LiteLLM's documentation entry: field descriptions, not prices.
const SAMPLE_SPEC: &str = "sample_spec";
/// Modes whose calls an agent makes.
const MODES: [&str; 3] = ["chat", "responses", "completion"];

/// What a LiteLLM file holds, once read.
pub(super) struct LiteLlmFile {
    /// `(as_of, source)` from the `agentprof_snapshot` member, when there is one.
    pub label: Option<(String, String)>,
    pub models: Vec<ModelPrice>,
}

/// The label member, as `scripts/update-prices` writes it.
#[derive(Deserialize)]
struct Snapshot {
    litellm_version: String,
    released: String,
    source: String,
    generated_by: String,
}

/// Which price a field names.
#[derive(Clone, Copy)]
enum Price {
    Input,
    Output,
    CacheRead,
    Write5m,
    Write1h,
}

/// Field names of the prices; the 1-hour write comes before the 5-minute one because its
/// name extends it (`…_cost_above_1hr` vs `…_cost`).
const PRICES: [(&str, Price); 5] = [
    ("input_cost_per_token", Price::Input),
    ("output_cost_per_token", Price::Output),
    ("cache_read_input_token_cost", Price::CacheRead),
    ("cache_creation_input_token_cost_above_1hr", Price::Write1h),
    ("cache_creation_input_token_cost", Price::Write5m),
];

/// The object members in file order, each value left as its raw text (borrowed from the file,
/// so its position, and with it its line, is known).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads a LiteLLM price file.
pub(super) fn parse(origin: &Origin<'_>, from: PriceOrigin) -> Result<LiteLlmFile, PriceError> {
    let top = members(origin, origin.text)?;
    let mut file = LiteLlmFile {
        label: None,
        models: Vec::new(),
    };
    // Later members replace earlier ones with the same id, as when LiteLLM loads the file.
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    for (id, value) in top.0 {
        if id == SAMPLE_SPEC {
            continue;
        }
        if id == SNAPSHOT_KEY {
            file.label = Some(label(origin, value)?);
            continue;
        }
        let Some(price) = model(origin, &id, value, from)? else {
            continue;
        };
        match position.get(&id) {
            Some(&i) => file.models[i] = price,
            None => {
                position.insert(id, file.models.len());
                file.models.push(price);
            }
        }
    }
    Ok(file)
}

/// The members of the object `text` (a slice of the file), or a located error.
fn members<'a>(origin: &Origin<'_>, text: &'a str) -> Result<Members<'a>, PriceError> {
    serde_json::from_str(text).map_err(|e| {
        let position = format!(" at line {} column {}", e.line(), e.column());
        let message = e.to_string().replace(&position, "");
        // serde_json counts lines from the start of `text`, which is a slice of the file.
        let line = origin.line_at(origin.offset_of(text)) + e.line().saturating_sub(1);
        PriceError::Invalid {
            file: origin.name.clone(),
            line: Some(line),
            message,
        }
    })
}

fn label(origin: &Origin<'_>, value: &RawValue) -> Result<(String, String), PriceError> {
    let at = origin.offset_of(value.get());
    let s: Snapshot = serde_json::from_str(value.get())
        .map_err(|e| origin.error_at(at, format!("{SNAPSHOT_KEY}: {e}")))?;
    Ok((
        format!("litellm {} ({})", s.litellm_version, s.released),
        format!(
            "LiteLLM's {} (litellm {}), filtered by {}",
            s.source, s.litellm_version, s.generated_by
        ),
    ))
}

/// One entry, or `None` when it is skipped (see the module docs).
fn model(
    origin: &Origin<'_>,
    id: &str,
    value: &RawValue,
    from: PriceOrigin,
) -> Result<Option<ModelPrice>, PriceError> {
    let at = origin.offset_of(value.get());
    if id.trim().is_empty() {
        return Err(origin.error_at(at, "model id is empty".to_string()));
    }
    if !value.get().starts_with('{') {
        return Err(origin.error_at(at, format!("model \"{id}\": expected an object of prices")));
    }
    let fields = members(origin, value.get())?;
    let text = |name: &str| -> Result<Option<String>, PriceError> {
        let Some((_, raw)) = fields.0.iter().rev().find(|(k, _)| k == name) else {
            return Ok(None);
        };
        serde_json::from_str(raw.get()).map_err(|_| {
            origin.error_at(
                origin.offset_of(raw.get()),
                format!("model \"{id}\": {name} must be a string"),
            )
        })
    };
    if text("mode")?.is_some_and(|mode| !MODES.contains(&mode.as_str())) {
        return Ok(None);
    }
    let provider = text("litellm_provider")?.unwrap_or_default();
    let mut base = Rates::default();
    let mut tiers: BTreeMap<u64, Rates> = BTreeMap::new();
    let mut max_input_tokens = None;
    for (name, raw) in &fields.0 {
        if name == "max_input_tokens" {
            // Informative only: a value that is no token count is left out, not refused.
            max_input_tokens = serde_json::from_str::<u64>(raw.get()).ok();
            continue;
        }
        let Some((price, above)) = price_field(name) else {
            continue;
        };
        let value = usd_per_million(raw.get()).map_err(|problem| {
            origin.error_at(
                origin.offset_of(raw.get()),
                format!("model \"{id}\": {name} {problem} (USD per token, ≥ 0)"),
            )
        })?;
        let Some(value) = value else { continue };
        let rates = match above {
            None => &mut base,
            Some(n) => tiers.entry(n).or_default(),
        };
        let slot = match price {
            Price::Input => &mut rates.input,
            Price::Output => &mut rates.output,
            Price::CacheRead => &mut rates.cache_read,
            Price::Write5m => &mut rates.cache_write_5m,
            Price::Write1h => &mut rates.cache_write_1h,
        };
        *slot = Some(value);
    }
    if base.input.is_none() && base.output.is_none() {
        return Ok(None);
    }
    Ok(Some(ModelPrice {
        id: id.to_string(),
        provider,
        base,
        tiers: tiers
            .into_iter()
            .map(|(above, rates)| Tier { above, rates })
            .collect(),
        max_input_tokens,
        origin: from,
    }))
}

/// The price a field names, and its tier (`Some(N)` for `…_above_<N>[k]_tokens`).
fn price_field(name: &str) -> Option<(Price, Option<u64>)> {
    for (field, price) in PRICES {
        let Some(rest) = name.strip_prefix(field) else {
            continue;
        };
        if rest.is_empty() {
            return Some((price, None));
        }
        let Some(n) = rest
            .strip_prefix("_above_")
            .and_then(|r| r.strip_suffix("_tokens"))
        else {
            continue;
        };
        let (digits, scale) = match n.strip_suffix('k') {
            Some(d) => (d, 1000),
            None => (n, 1),
        };
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some((price, digits.parse::<u64>().ok()?.checked_mul(scale)));
        }
    }
    None
}

/// A per-token price (a JSON number, or a numeric string as LiteLLM also accepts) as USD per
/// million tokens; `None` for `null`. The error says what is wrong with the value.
pub(super) fn usd_per_million(raw: &str) -> Result<Option<f64>, String> {
    let raw = raw.trim();
    if raw == "null" {
        return Ok(None);
    }
    let decimal = if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).map_err(|_| format!("= {raw} is not a number"))?
    } else {
        raw.to_string()
    };
    let decimal = decimal.trim();
    let (mantissa, exponent) = match decimal.find(['e', 'E']) {
        Some(at) => (&decimal[..at], decimal[at + 1..].parse::<i32>().ok()),
        None => (decimal, Some(0)),
    };
    let (Ok(m), Some(e)) = (mantissa.parse::<f64>(), exponent) else {
        return Err(format!("= {raw} is not a number"));
    };
    // `inf` and `nan` parse as f64 but are no price; so does a value past f64's range.
    let shifted = format!("{mantissa}e{}", e.saturating_add(6)).parse::<f64>();
    match shifted {
        _ if !m.is_finite() => Err(format!("= {raw} is not a finite number")),
        Ok(v) if !v.is_finite() => Err(format!("= {raw} is not a finite number")),
        Ok(v) if v < 0.0 => Err(format!("= {raw} is negative")),
        // `-0` is 0: no sign should reach a report.
        Ok(v) => Ok(Some(v.abs())),
        Err(_) => Err(format!("= {raw} is not a number")),
    }
}
