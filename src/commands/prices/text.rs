//! The terminal rendering of `agentprof prices`: one block per model asked for, one line per
//! model of the traces, one line per entry when listing (so `| grep` finds a model).

use std::io::{self, Write};

use super::{Answer, Entry, Lookup, Prices, TierPrices, TraceModels, thousands, usd};

/// What to do about a model without a price.
const REMEDY: &str = "check the spelling; else pass --prices FILE with an entry for it: a one-entry LiteLLM JSON or TOML file (docs/prices.md), or LiteLLM's current model_prices_and_context_window.json";

/// How LiteLLM fills a price an entry does not set (marked `*`).
const FALLBACK_NOTE: &str = "* not set by the entry; billed as LiteLLM does: cache read and 5m write at the input price, 1h write at the 5m write price, a missing input or output price at 0";

const COLUMNS: [&str; 5] = ["input", "output", "cache read", "5m write", "1h write"];

pub(super) fn write(answer: &Answer, out: &mut impl Write) -> io::Result<()> {
    let t = &answer.table;
    writeln!(out, "prices: {} — {}", t.as_of, t.source)?;
    if let Some(entries) = &answer.entries {
        return list(entries, out);
    }
    for lookup in &answer.models {
        writeln!(out)?;
        model(lookup, out)?;
    }
    if let Some(traces) = &answer.traces {
        writeln!(out)?;
        trace_models(traces, out)?;
    }
    Ok(())
}

fn model(l: &Lookup, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", l.model)?;
    let Some(e) = &l.entry else {
        writeln!(
            out,
            "  no price  no entry matches it: its costs are null (never 0)"
        )?;
        return writeln!(out, "  remedy    {REMEDY}");
    };
    writeln!(out, "  entry     {}", matched(l, e))?;
    let max = e
        .max_input_tokens
        .map(|n| format!(", max input {} tokens", thousands(n)))
        .unwrap_or_default();
    let provider = if e.provider.is_empty() {
        "(none)"
    } else {
        &e.provider
    };
    writeln!(out, "  provider  {provider}{max}")?;
    writeln!(out, "  source    {}", e.source)?;
    let mut rows = Vec::new();
    let first = match e.tiers.first() {
        None => "every prompt".to_string(),
        Some(t) => format!(
            "prompt ≤ {}",
            thousands(t.from_prompt_tokens.saturating_sub(1))
        ),
    };
    rows.push((first, cells(&e.usd_per_million, &e.fallbacks)));
    for t in &e.tiers {
        rows.push((
            format!("prompt {}", threshold(t, true)),
            cells(&t.usd_per_million, &t.fallbacks),
        ));
    }
    let head = ["USD per 1M tokens".to_string()];
    let width = rows
        .iter()
        .map(|(label, _)| label.chars().count())
        .chain(head.iter().map(|h| h.chars().count()))
        .max()
        .unwrap_or(0);
    let line = |label: &str, cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:<10}")).collect();
        format!("  {label:<width$}  {}", cells.join("  "))
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&head[0], &COLUMNS.map(str::to_string)))?;
    for (label, cells) in &rows {
        writeln!(out, "{}", line(label, cells))?;
    }
    let fell_back = !e.fallbacks.is_empty() || e.tiers.iter().any(|t| !t.fallbacks.is_empty());
    if fell_back {
        writeln!(out, "  {FALLBACK_NOTE}")?;
    }
    Ok(())
}

/// How the id found its entry, in words.
fn matched(l: &Lookup, e: &Entry) -> String {
    let form = l.matched_as.as_deref().unwrap_or_default();
    match l.how {
        Some("exact") => format!("{} (exact id)", e.id),
        Some("normalised") if form == e.id => format!("{} (normalised id)", e.id),
        Some("normalised") => format!("{} (normalised to {form}, as this entry's id is)", e.id),
        _ => format!("{} (no entry of its own: a variant of {form})", e.id),
    }
}

/// The five prices as text, `*` on those the entry does not set.
fn cells(p: &Prices, fallbacks: &[&str]) -> [String; 5] {
    let cell = |name: &str, v: Option<f64>| {
        let mark = if fallbacks.contains(&name) { "*" } else { "" };
        format!("{}{mark}", usd(v))
    };
    [
        cell("input", p.input),
        cell("output", p.output),
        cell("cache_read", p.cache_read),
        cell("cache_write_5m", p.cache_write_5m),
        cell("cache_write_1h", p.cache_write_1h),
    ]
}

fn trace_models(t: &TraceModels, out: &mut impl Write) -> io::Result<()> {
    let traces = if t.files.len() == 1 {
        "trace"
    } else {
        "traces"
    };
    writeln!(
        out,
        "models named in {} {traces} ({} calls):",
        t.files.len(),
        thousands(t.calls)
    )?;
    let width = t
        .models
        .iter()
        .map(|m| m.lookup.model.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    writeln!(out, "  {:>9}  {:<width$}  price", "calls", "model")?;
    for m in &t.models {
        let price = match &m.lookup.entry {
            None => "no price: its costs are null".to_string(),
            Some(e) => {
                let p = &e.usd_per_million;
                format!(
                    "{}: {} in / {} out per 1M",
                    matched(&m.lookup, e),
                    usd(p.input),
                    usd(p.output)
                )
            }
        };
        let calls = thousands(m.calls);
        writeln!(out, "  {calls:>9}  {:<width$}  {price}", m.lookup.model)?;
    }
    if t.calls_without_model > 0 {
        writeln!(
            out,
            "  {} calls name no model",
            thousands(t.calls_without_model)
        )?;
    }
    if t.models.iter().any(|m| m.lookup.entry.is_none()) {
        writeln!(out, "remedy for a model without a price: {REMEDY}")?;
    }
    Ok(())
}

/// Every entry, one a line: id, provider, the five prices, tiers.
fn list(entries: &[Entry], out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{} models; USD per 1M tokens: input, output, cache read, 5m write, 1h write (* not set by the entry: LiteLLM's fallback); tiers as >PROMPT:input/output",
        thousands(entries.len() as u64)
    )?;
    let id_width = entries
        .iter()
        .map(|e| e.id.chars().count())
        .max()
        .unwrap_or(0);
    let provider_width = entries
        .iter()
        .map(|e| e.provider.chars().count())
        .max()
        .unwrap_or(0);
    for e in entries {
        let cells = cells(&e.usd_per_million, &e.fallbacks).join(" ");
        let tiers: Vec<String> = e
            .tiers
            .iter()
            .map(|t| {
                let p = &t.usd_per_million;
                format!(
                    " {}:{}/{}",
                    threshold(t, false),
                    usd(p.input),
                    usd(p.output)
                )
            })
            .collect();
        let origin = if e.origin == "override" {
            " (override)"
        } else {
            ""
        };
        writeln!(
            out,
            "{:<id_width$}  {:<provider_width$}  {cells}{}{origin}",
            e.id,
            e.provider,
            tiers.concat()
        )?;
    }
    Ok(())
}

/// `> 100,000` (a tier for prompts above its threshold) or `≥ 128,000` (xAI's, from it on).
fn threshold(t: &TierPrices, spaced: bool) -> String {
    let (sign, n) = if t.from_prompt_tokens == t.above_prompt_tokens.saturating_add(1) {
        (">", t.above_prompt_tokens)
    } else {
        ("≥", t.from_prompt_tokens)
    };
    if spaced {
        format!("{sign} {}", thousands(n))
    } else {
        format!("{sign}{n}")
    }
}
