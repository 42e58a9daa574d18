//! `agentprof compare`'s outputs: the verdicts and a table of every row (terminal), or one
//! JSON document (`agentprof.compare/v1`).

use std::io::Write;
use std::path::PathBuf;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use serde::Serialize;

use crate::attribute::compare::{Comparison, Row};
use crate::output::colour;
use crate::output::report::table::bytes;

pub const SCHEMA: &str = "agentprof.compare/v1";

#[derive(Debug, Serialize)]
struct Document<'a> {
    schema: &'static str,
    a: &'a [PathBuf],
    b: &'a [PathBuf],
    #[serde(flatten)]
    comparison: &'a Comparison,
}

pub fn write_json(
    a: &[PathBuf],
    b: &[PathBuf],
    comparison: &Comparison,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let document = Document {
        schema: SCHEMA,
        a,
        b,
        comparison,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

pub fn write_table(
    a: &[PathBuf],
    b: &[PathBuf],
    comparison: &Comparison,
    out: &mut impl Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "agentprof compare — A: {} run(s), B: {} run(s); B − A with a {:.0} % confidence interval \
         (Welch) where both sides have two runs or more",
        a.len(),
        b.len(),
        comparison.confidence * 100.0
    )?;
    if comparison.verdicts.is_empty() {
        writeln!(out, "\nno category's cost differs")?;
    } else {
        writeln!(out)?;
        for verdict in &comparison.verdicts {
            writeln!(out, "  {verdict}")?;
        }
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    colour::table(&mut table);
    table.set_header(
        [
            "scope",
            "figure",
            "A mean ± sd",
            "B mean ± sd",
            "B − A",
            "95 % interval",
            "B / A",
        ]
        .map(colour::header),
    );
    for row in &comparison.rows {
        table.add_row(vec![
            colour::name(&row.scope),
            Cell::new(row.figure),
            right(side(row, row.a.mean, row.a.sd)),
            right(side(row, row.b.mean, row.b.sd)),
            right(signed(row, row.difference.delta)),
            right(row.difference.interval.map_or("-".into(), |(lo, hi)| {
                format!("{} … {}", signed(row, lo), signed(row, hi))
            })),
            right(
                row.difference
                    .ratio
                    .map_or("-".into(), |r| format!("{r:.3}×")),
            ),
        ]);
    }
    writeln!(out, "\n{table}")?;
    if !comparison.unknown.is_empty() {
        writeln!(
            out,
            "not compared (unknown in some run: an unpriced model, no memory samples): {}",
            comparison.unknown.join(", ")
        )?;
    }
    Ok(())
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn side(row: &Row, mean: f64, sd: Option<f64>) -> String {
    match sd {
        Some(sd) => format!("{} ± {}", value(row, mean), value(row, sd)),
        None => value(row, mean),
    }
}

/// A figure's value in its unit, with a minus sign when negative (the table and the page).
pub fn value(row: &Row, v: f64) -> String {
    if v < 0.0 {
        return format!("−{}", magnitude(row, -v));
    }
    magnitude(row, v)
}

fn magnitude(row: &Row, v: f64) -> String {
    match row.figure {
        "cost" | "user_cost" | "overhead_cost" => format!("${v:.4}"),
        "rss_peak" | "kv_peak" | "rss_growth" => bytes(v.round() as u64),
        "rss_idle_growth" => format!("{}/h", bytes(v.round() as u64)),
        "kv_byte_seconds" => format!("{}·s", bytes(v.round() as u64)),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

fn signed(row: &Row, v: f64) -> String {
    if v < 0.0 {
        value(row, v)
    } else {
        format!("+{}", magnitude(row, v))
    }
}
