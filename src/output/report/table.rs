//! The report as terminal tables: categories, models, totals, memory, KV, warnings.

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::attribute::{Summary, UsageTotals};
use crate::observation::Category;

/// Which breakdown comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    Category,
    Model,
    Session,
}

/// Writes the human-readable report, leading with the chosen breakdown.
pub fn write(summary: &Summary, lead: Lead, out: &mut impl Write) -> std::io::Result<()> {
    let source = &summary.source;
    writeln!(
        out,
        "agentprof report — {} ({}, {:.1} s)",
        source.traces.join(", "),
        source.started_at.as_deref().unwrap_or("unknown start"),
        source.duration_s
    )?;

    let order: &[Lead] = match lead {
        Lead::Category => &[Lead::Category, Lead::Model],
        Lead::Model => &[Lead::Model, Lead::Category],
        Lead::Session => &[Lead::Session, Lead::Category, Lead::Model],
    };
    for breakdown in order {
        let (title, key, rows) = match breakdown {
            Lead::Category => ("By category", "category", &summary.categories),
            Lead::Model => ("By model", "model", &summary.models),
            Lead::Session => ("By session", "session", &summary.sessions),
        };
        writeln!(out, "\n{title}")?;
        let table = if *breakdown == Lead::Category {
            // Categories in their fixed order, the user's own work first.
            let rows = Category::ALL
                .iter()
                .filter_map(|c| rows.get(c.as_str()).map(|v| (c.as_str(), v)));
            usage_table(key, rows, &summary.totals)
        } else {
            usage_table(
                key,
                rows.iter().map(|(k, v)| (k.as_str(), v)),
                &summary.totals,
            )
        };
        writeln!(out, "{table}")?;
    }

    let ratio = &summary.overhead_ratio;
    writeln!(
        out,
        "\nOverhead ratio (everything else ÷ user_turn): tokens {}, cost {}",
        ratio.tokens.map_or("n/a".into(), |r| format!("{r:.2}")),
        ratio.cost.map_or("n/a".into(), |r| format!("{r:.2}")),
    )?;
    writeln!(
        out,
        "Cache hit ratio (cache reads ÷ prompt tokens): {:.1} %",
        summary.totals.cache_hit_ratio() * 100.0
    )?;

    write_memory(summary, out)?;

    let kv = &summary.kv;
    writeln!(
        out,
        "\nServer KV cache (assumed profile {}, {} bytes/token): peak {}, {:.1} GiB·s",
        kv.profile,
        kv.bytes_per_token,
        bytes(kv.peak_bytes),
        kv.byte_seconds / (1u64 << 30) as f64
    )?;

    for assumption in &summary.assumptions {
        writeln!(out, "assumption: {assumption}")?;
    }
    for warning in &summary.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn write_memory(summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    let memory = &summary.memory;
    if memory.samples == 0 {
        return writeln!(out, "\nMemory: no samples in this trace");
    }
    writeln!(
        out,
        "\nMemory of the agent's process tree ({} samples, up to {} processes)",
        memory.samples, memory.peak_processes
    )?;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "", "peak RSS", "peak PSS", "p50 RSS", "p95 RSS", "p99 RSS",
    ]);
    table.add_row(vec![
        Cell::new("tree"),
        right(opt_bytes(memory.peak_rss_bytes)),
        right(opt_bytes(memory.peak_pss_bytes)),
        right(opt_bytes(memory.p50_rss_bytes)),
        right(opt_bytes(memory.p95_rss_bytes)),
        right(opt_bytes(memory.p99_rss_bytes)),
    ]);
    for (role, peaks) in &memory.by_role {
        if peaks.peak_processes == 0 {
            continue;
        }
        table.add_row(vec![
            Cell::new(role),
            right(bytes(peaks.peak_rss_bytes)),
            right(opt_bytes(peaks.peak_pss_bytes)),
            right("".into()),
            right("".into()),
            right("".into()),
        ]);
    }
    writeln!(out, "{table}")
}

fn usage_table<'a>(
    key: &str,
    rows: impl Iterator<Item = (&'a str, &'a UsageTotals)>,
    totals: &'a UsageTotals,
) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        key,
        "calls",
        "errors",
        "input",
        "cache write",
        "cache read",
        "output",
        "cost $",
        "share",
    ]);
    let grand = totals.total_tokens().max(1) as f64;
    for (name, usage) in rows.chain(std::iter::once(("total", totals))) {
        table.add_row(vec![
            Cell::new(name),
            right(usage.requests.to_string()),
            right(usage.errors.to_string()),
            right(usage.input_tokens.to_string()),
            right(usage.cache_creation_input_tokens.to_string()),
            right(usage.cache_read_input_tokens.to_string()),
            right(usage.output_tokens.to_string()),
            right(usage.cost_usd.map_or("n/a".into(), |c| format!("{c:.4}"))),
            right(format!(
                "{:.1} %",
                usage.total_tokens() as f64 * 100.0 / grand
            )),
        ]);
    }
    table
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn opt_bytes(value: Option<u64>) -> String {
    value.map_or("n/a".into(), bytes)
}

/// Formats bytes in binary units (MiB, GiB) as people read memory sizes.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut amount = value as f64;
    let mut unit = 0;
    while amount >= 1024.0 && unit < UNITS.len() - 1 {
        amount /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else {
        format!("{amount:.1} {}", UNITS[unit])
    }
}
