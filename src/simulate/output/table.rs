//! The simulation as terminal tables: one block per run, a comparison table for a sweep,
//! and the calibration's validation.

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::observation::Category;
use crate::output::colour;
use crate::simulate::calibrate::Validation;
use crate::simulate::results::{Run, Simulation};

/// Writes every run; a comparison when there are several; the validation when calibrated.
pub fn write(simulation: &Simulation, out: &mut impl Write) -> std::io::Result<()> {
    if let Some(calibration) = &simulation.calibration {
        writeln!(out, "Calibrated from {}:", calibration.trace)?;
        let fitted: Vec<String> = calibration
            .fitted
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        for line in wrap(&fitted.join(", "), 96) {
            writeln!(out, "  {line}")?;
        }
        for note in &calibration.notes {
            writeln!(out, "  note: {note}")?;
        }
        writeln!(out)?;
    }
    if simulation.runs.len() > 1 {
        comparison(&simulation.runs, out)?;
    }
    for run in &simulation.runs {
        run_block(run, out)?;
    }
    if let Some(validation) = &simulation.validation {
        validation_block(validation, out)?;
    }
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    colour::table(&mut table);
    table.set_header(header.iter().map(|h| colour::header(h)));
    table
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text.to_string()).set_alignment(CellAlignment::Right)
}

fn run_block(run: &Run, out: &mut impl Write) -> std::io::Result<()> {
    let p = &run.params;
    writeln!(
        out,
        "agentprof simulate — {}: {} agent sessions ({} developers, up to {} agents each{}), {} days, {} trials, seed {}",
        run.name,
        p["sessions"],
        run.developers,
        p["agents"],
        if p["daemon"] == true {
            ", the first a daemon"
        } else {
            ""
        },
        p["days"],
        run.trials,
        p["seed"]
    )?;
    writeln!(
        out,
        "model {} (utility {}), context window {}, compaction at {} of it, cache TTL {}",
        p["model"]["main"].as_str().unwrap_or("?"),
        p["model"]["small"].as_str().unwrap_or("?"),
        p["model"]["context_window"],
        p["compaction"]["threshold"],
        p["model"]["cache_ttl"].as_str().unwrap_or("?")
    )?;
    writeln!(out, "\nPer developer-day")?;
    let mut t = table(&[
        "category",
        "calls",
        "input",
        "cache write",
        "cache read",
        "output",
        "tokens",
        "cost $",
    ]);
    let day = &run.per_user_day;
    for category in Category::ALL {
        let key = category.as_str();
        let types = day.token_types.get(key);
        t.add_row(vec![
            colour::name(key),
            right(format!(
                "{:.1}",
                day.requests.get(key).copied().unwrap_or(0.0)
            )),
            right(types.map_or(0, |t| t.input_tokens)),
            right(types.map_or(0, |t| t.cache_creation_input_tokens)),
            right(types.map_or(0, |t| t.cache_read_input_tokens)),
            right(types.map_or(0, |t| t.output_tokens)),
            right(day.tokens.get(key).copied().unwrap_or(0)),
            right(dollars(day.cost_usd.get(key).copied().flatten())),
        ]);
    }
    let calls: f64 = day.requests.values().sum();
    t.add_row(vec![
        Cell::new("total"),
        right(format!("{calls:.1}")),
        right(""),
        right(""),
        right(""),
        right(""),
        right(day.total_tokens),
        right(dollars(day.total_cost_usd)),
    ]);
    writeln!(out, "{t}")?;
    if let Some(ratio) = day.overhead_ratio.tokens {
        let cost = day
            .overhead_ratio
            .cost
            .map_or("n/a".to_string(), |c| format!("{c:.2}"));
        writeln!(
            out,
            "Overhead ratio (everything else ÷ user_turn): tokens {ratio:.2}, cost {cost}"
        )?;
    }
    let events: Vec<String> = run
        .events_per_user_day
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect();
    for line in wrap(
        &format!("Events per developer-day: {}", events.join(", ")),
        100,
    ) {
        writeln!(out, "{line}")?;
    }
    let kv = &run.server_kv;
    writeln!(
        out,
        "\nServer KV cache of the fleet (assumed profile {}, {} B/token): peak {}, mean {}, {:.1} GiB·h",
        kv.profile,
        kv.bytes_per_token,
        bytes(kv.peak_bytes),
        bytes(kv.mean_bytes),
        kv.gib_hours
    )?;
    let ram = &run.client_ram;
    writeln!(
        out,
        "Client RAM of agent processes per workstation: p50 {}, p95 {}, p99 {}, max {}",
        bytes(ram.p50_bytes),
        bytes(ram.p95_bytes),
        bytes(ram.p99_bytes),
        bytes(ram.max_bytes)
    )?;
    writeln!(
        out,
        "Recommended workstation RAM: {} GiB (p99 of agent RAM + {} GiB for OS, IDE and browser, rounded up to a standard size)",
        run.recommended_workstation_ram_gib, p["ram"]["allowance_gib"]
    )?;
    for a in &run.assumptions {
        writeln!(out, "assumption: {a}")?;
    }
    for w in &run.warnings {
        writeln!(out, "warning: {w}")?;
    }
    writeln!(out)
}

fn comparison(runs: &[Run], out: &mut impl Write) -> std::io::Result<()> {
    let keys: Vec<&String> = runs
        .first()
        .map_or(Vec::new(), |r| r.sweep.keys().collect());
    let mut header: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    header.extend([
        "tokens/dev-day",
        "$/dev-day",
        "overhead ×",
        "KV peak",
        "KV GiB·h",
        "RAM p99",
        "rec. RAM",
    ]);
    let mut t = table(&header);
    for run in runs {
        let mut row: Vec<Cell> = keys
            .iter()
            .map(|k| Cell::new(run.sweep.get(*k).cloned().unwrap_or_default()))
            .collect();
        let day = &run.per_user_day;
        row.extend([
            right(day.total_tokens),
            right(dollars(day.total_cost_usd)),
            right(
                day.overhead_ratio
                    .tokens
                    .map_or("n/a".into(), |r| format!("{r:.2}")),
            ),
            right(bytes(run.server_kv.peak_bytes)),
            right(format!("{:.1}", run.server_kv.gib_hours)),
            right(bytes(run.client_ram.p99_bytes)),
            right(format!("{} GiB", run.recommended_workstation_ram_gib)),
        ]);
        t.add_row(row);
    }
    writeln!(
        out,
        "Sweep comparison (per developer-day; KV for the fleet)"
    )?;
    writeln!(out, "{t}\n")
}

fn validation_block(v: &Validation, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Validation: the calibrated workload replayed over the trace's duration and sessions (mean of the trials)"
    )?;
    let mut t = table(&["figure", "trace", "simulated", "relative error"]);
    let rows: [(&str, f64, f64); 7] = [
        ("requests", v.trace.requests as f64, v.simulated.requests),
        (
            "input_tokens",
            v.trace.input_tokens as f64,
            v.simulated.input_tokens,
        ),
        (
            "cache_creation_input_tokens",
            v.trace.cache_creation_input_tokens as f64,
            v.simulated.cache_creation_input_tokens,
        ),
        (
            "cache_read_input_tokens",
            v.trace.cache_read_input_tokens as f64,
            v.simulated.cache_read_input_tokens,
        ),
        (
            "output_tokens",
            v.trace.output_tokens as f64,
            v.simulated.output_tokens,
        ),
        (
            "cost_usd",
            v.trace.cost_usd.unwrap_or(f64::NAN),
            v.simulated.cost_usd.unwrap_or(f64::NAN),
        ),
        (
            "peak_rss_bytes",
            v.trace.peak_rss_bytes.map_or(f64::NAN, |b| b as f64),
            v.simulated.peak_rss_bytes.unwrap_or(f64::NAN),
        ),
    ];
    for (name, trace, sim) in rows {
        let error = v
            .relative_errors
            .get(name)
            .map_or("n/a".to_string(), |e| format!("{:.2} %", e * 100.0));
        t.add_row(vec![
            Cell::new(name),
            right(number(trace)),
            right(number(sim)),
            right(error),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "max relative error: {:.2} %",
        v.max_relative_error * 100.0
    )
}

fn number(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x.abs() < 100.0 && x.fract() != 0.0 {
        format!("{x:.4}")
    } else {
        format!("{x:.0}")
    }
}

fn dollars(cost: Option<f64>) -> String {
    cost.map_or("unknown".into(), |c| format!("{c:.4}"))
}

/// `1.5 GiB`, `300 MiB`, `17.1 TiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Splits at spaces into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let Some(line) = lines.last_mut() else { break };
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}
