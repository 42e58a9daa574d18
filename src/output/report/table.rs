//! The report as terminal tables: categories, models, totals, memory, KV, warnings.

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::attribute::findings::most_severe_first;
use crate::attribute::{Summary, UsageTotals};
use crate::observation::Category;
use crate::output::colour;

/// The report's sections, in the order `--by` puts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// The rows `--by` asked for (days, projects, models, …) with their overhead share.
    Rows,
    Category,
    Model,
    Turn,
}

/// Writes the human-readable report, leading with what `--by` asked for (the summary's
/// `rows_by`).
pub fn write(summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    let source = &summary.source;
    writeln!(
        out,
        "agentprof report — {} ({}, {:.1} s)",
        source.traces.join(", "),
        source.started_at.as_deref().unwrap_or("unknown start"),
        source.duration_s
    )?;

    let by = summary.rows_by.by.as_str();
    let order: &[Section] = match by {
        "category" => &[Section::Category, Section::Model, Section::Turn],
        "turn" => &[Section::Turn, Section::Category],
        "model" => &[Section::Rows, Section::Category],
        _ => &[Section::Rows, Section::Category, Section::Model],
    };
    for section in order {
        match section {
            Section::Rows => super::rows_table::write(summary, out)?,
            Section::Turn => write_turns(summary, by == "turn", out)?,
            Section::Category => {
                writeln!(out, "\nBy category")?;
                // Categories in their fixed order, the user's own work first.
                let rows = Category::ALL
                    .iter()
                    .filter_map(|c| summary.categories.get(c.as_str()).map(|v| (c.as_str(), v)));
                writeln!(out, "{}", usage_table("category", rows, &summary.totals))?;
            }
            Section::Model => {
                writeln!(out, "\nBy model")?;
                let rows = summary.models.iter().map(|(k, v)| (k.as_str(), v));
                writeln!(out, "{}", usage_table("model", rows, &summary.totals))?;
            }
        }
    }

    let c = &summary.classification;
    let method = |m: &str| c.by_method.get(m).copied().unwrap_or(0);
    let codex = c.by_decider.keys().any(|d| {
        d.starts_with("transcript:codex:") || d.starts_with("transcript:agent:thread_spawn")
    }) || summary.import.as_ref().is_some_and(|i| i.agent == "codex");
    let gemini = c
        .by_decider
        .keys()
        .any(|d| d.starts_with("transcript:gemini:"))
        || summary.import.as_ref().is_some_and(|i| i.agent == "gemini");
    if method("transcript") > 0 && codex {
        // An imported Codex history: each rollout's session_meta source says whose calls.
        writeln!(
            out,
            "\nClassified from the rollouts: {} calls by their thread's session_meta source",
            method("transcript"),
        )?;
    } else if method("transcript") > 0 && gemini {
        // An imported Gemini CLI history: main session files hold the main loop, sub-agent
        // files their agent's calls.
        let subagents = c
            .by_decider
            .iter()
            .filter(|(d, _)| d.starts_with("transcript:agent:"))
            .map(|(_, n)| n)
            .sum::<u64>();
        writeln!(
            out,
            "\nClassified from the chat files: {} calls of main sessions, {} of sub-agents' files",
            method("transcript").saturating_sub(subagents),
            subagents,
        )?;
    } else if method("transcript") > 0 {
        // Imported history: every call was classified from the transcript itself.
        let query_source = c
            .by_decider
            .iter()
            // Only transcript deciders: a live trace reported with an import has rule and
            // telemetry deciders too, which are no querySource.
            .filter(|(d, _)| {
                d.starts_with("transcript:") && !d.starts_with("transcript:isSidechain")
            })
            .map(|(_, n)| n)
            .sum::<u64>();
        writeln!(
            out,
            "\nClassified from the transcripts: {} calls by their api-request querySource, {} by isSidechain (versions without api-request records)",
            query_source,
            method("transcript").saturating_sub(query_source),
        )?;
    } else {
        writeln!(
            out,
            "\nClassified by the agent's telemetry: {} calls ({} joined by request id, {} by counts); by rules: {}; unclassified: {}",
            method("telemetry"),
            c.joined_by_request_id,
            c.joined_by_fallback,
            method("rule"),
            method("unclassified"),
        )?;
    }
    if !summary.subagent_types.is_empty() {
        let types: Vec<String> = summary
            .subagent_types
            .iter()
            .map(|(t, u)| format!("{t} {} calls, {} tokens", u.requests, u.total_tokens()))
            .collect();
        writeln!(out, "Sub-agent types: {}", types.join("; "))?;
    }
    if !summary.agent_roles.is_empty() {
        let roles: Vec<String> = summary
            .agent_roles
            .iter()
            .map(|(r, u)| format!("{r} {} calls, {} tokens", u.requests, u.total_tokens()))
            .collect();
        writeln!(
            out,
            "By the agent's own role (its telemetry): {}",
            roles.join("; ")
        )?;
    }
    if summary.other_requests.requests > 0 {
        writeln!(
            out,
            "Other requests (not model calls, in no category): {}",
            summary.other_requests.describe(5)
        )?;
    }
    if let Some(import) = &summary.import {
        let d = &import.duplicates;
        if import.agent == "gemini" {
            writeln!(
                out,
                "Imported {} calls from {} session and {} sub-agent chat files ({}, {} lines); not counted again: {} records repeating a message, {} copies in another file of the session",
                import.calls,
                import.files.sessions,
                import.files.subagents,
                bytes(import.bytes),
                import.lines,
                d.repeated_lines,
                d.copies,
            )?;
        } else if import.agent == "codex" {
            writeln!(
                out,
                "Imported {} calls from {} session and {} sub-agent rollouts ({}, {} lines); not counted again: {} repeated token counts, {} replayed from forks' parents",
                import.calls,
                import.files.sessions,
                import.files.subagents,
                bytes(import.bytes),
                import.lines,
                d.repeated_lines,
                d.replays,
            )?;
        } else {
            writeln!(
                out,
                "Imported {} calls from {} session and {} sub-agent files ({}, {} lines); not counted again: {} repeated lines ({} placeholders replaced), {} copies, {} replays; {} <synthetic> entries",
                import.calls,
                import.files.sessions,
                import.files.subagents,
                bytes(import.bytes),
                import.lines,
                d.repeated_lines,
                d.placeholders_replaced,
                d.copies,
                d.replays,
                import.synthetic_entries,
            )?;
        }
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
    write_findings(summary, out)?;

    let kv = &summary.kv;
    writeln!(
        out,
        "\nServer KV cache (assumed profile {}, {} bytes/token): peak {}, {:.1} GiB·s ({:.1} in flight, {:.1} resident in the prompt cache)",
        kv.profile,
        kv.bytes_per_token,
        bytes(kv.peak_bytes),
        kv.byte_seconds / GIB,
        kv.in_flight_byte_seconds / GIB,
        kv.resident_byte_seconds / GIB,
    )?;
    let kv_by_category: Vec<String> = Category::ALL
        .iter()
        .filter_map(|c| {
            let v = *kv.by_category_byte_seconds.get(c.as_str())?;
            (v > 0.0).then(|| format!("{c} {:.0} %", v * 100.0 / kv.byte_seconds.max(1.0)))
        })
        .collect();
    if !kv_by_category.is_empty() {
        writeln!(
            out,
            "Server KV byte-seconds by category: {}",
            kv_by_category.join(", ")
        )?;
    }

    for assumption in &summary.assumptions {
        writeln!(out, "assumption: {assumption}")?;
    }
    for warning in &summary.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// Up to this many turns are listed unless the turn breakdown was asked for.
const TURNS_SHOWN: usize = 20;

fn write_turns(summary: &Summary, all: bool, out: &mut impl Write) -> std::io::Result<()> {
    if summary.turns.is_empty() {
        return writeln!(
            out,
            "\nTurns: none detected (no user prompt on a main loop)"
        );
    }
    let shown = if all {
        summary.turns.len()
    } else {
        summary.turns.len().min(TURNS_SHOWN)
    };
    writeln!(
        out,
        "\nBy turn (user's own calls vs. everything the turn caused)"
    )?;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    colour::table(&mut table);
    table.set_header(
        [
            "turn",
            "started",
            "user calls",
            "user tokens",
            "overhead calls",
            "overhead tokens",
            "overhead ×",
            "overhead share",
            "cost $",
            "RSS growth",
        ]
        .map(colour::header),
    );
    for turn in &summary.turns[..shown] {
        let user = turn.user.total_tokens();
        let overhead = turn.overhead.total_tokens();
        let cost = match (turn.user.cost_usd, turn.overhead.cost_usd) {
            (Some(u), Some(o)) => format!("{:.4}", u + o),
            _ => "n/a".into(),
        };
        table.add_row(vec![
            Cell::new(turn.index),
            Cell::new(turn.started_at.get(11..19).unwrap_or(&turn.started_at)),
            right(turn.user.requests.to_string()),
            right(user.to_string()),
            right(turn.overhead.requests.to_string()),
            right(overhead.to_string()),
            right(if user > 0 {
                format!("{:.2}", overhead as f64 / user as f64)
            } else {
                "n/a".into()
            }),
            right(if user + overhead > 0 {
                format!(
                    "{:.1} %",
                    overhead as f64 * 100.0 / (user + overhead) as f64
                )
            } else {
                "n/a".into()
            }),
            right(cost),
            right(turn.rss_growth_bytes.map_or("n/a".into(), signed_bytes)),
        ]);
    }
    writeln!(out, "{table}")?;
    if shown < summary.turns.len() {
        writeln!(
            out,
            "({} more turns: agentprof report --by turn)",
            summary.turns.len() - shown
        )?;
    }
    Ok(())
}

fn signed_bytes(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "+" };
    format!("{sign}{}", bytes(value.unsigned_abs()))
}

/// One line per finding, most severe first: what, where, how fast, since when.
fn write_findings(summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    for finding in most_severe_first(&summary.findings) {
        let since = finding
            .since
            .as_deref()
            .map_or(String::new(), |s| format!(" since {s}"));
        writeln!(
            out,
            "finding ({}): {}{since} [{}]",
            finding.severity,
            finding.headline(),
            finding.place.trace
        )?;
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
    colour::table(&mut table);
    table.set_header(
        ["", "peak RSS", "peak PSS", "p50 RSS", "p95 RSS", "p99 RSS"].map(colour::header),
    );
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
    writeln!(out, "{table}")?;
    let growth = memory
        .growth_per_turn_bytes
        .map_or("n/a".into(), |g| signed_bytes(g.round() as i64));
    let idle = memory.idle_growth_bytes_per_hour.map_or("n/a".into(), |g| {
        format!("{}/h", signed_bytes(g.round() as i64))
    });
    writeln!(
        out,
        "RSS growth per turn (mean): {growth}; while idle: {idle}"
    )?;
    let during: Vec<String> = Category::ALL
        .iter()
        .filter_map(|c| {
            let g = *memory.by_category_growth_bytes.get(c.as_str())?;
            (g != 0).then(|| format!("{c} {}", signed_bytes(g)))
        })
        .collect();
    if !during.is_empty() {
        writeln!(out, "RSS growth during calls: {}", during.join(", "))?;
    }
    Ok(())
}

fn usage_table<'a>(
    key: &str,
    rows: impl Iterator<Item = (&'a str, &'a UsageTotals)>,
    totals: &'a UsageTotals,
) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    colour::table(&mut table);
    table.set_header(
        [
            key,
            "calls",
            "errors",
            "input",
            "cache write",
            "cache read",
            "output",
            "cost $",
            "share",
        ]
        .map(colour::header),
    );
    let grand = totals.total_tokens().max(1) as f64;
    for (name, usage) in rows.chain(std::iter::once(("total", totals))) {
        table.add_row(vec![
            colour::name(name),
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

const GIB: f64 = (1u64 << 30) as f64;

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
