//! The report's rows as a terminal table: one line per day (week, month, project, session,
//! model or agent), tokens by type, cost, the overhead share, and the row's breakdown by
//! category or model in columns of its own.

use std::collections::BTreeMap;
use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::attribute::rows::Row;
use crate::attribute::{Summary, UsageTotals};
use crate::observation::Category;
use crate::output::colour;

/// At most this many model columns; the rest are summed in `other`.
const MODEL_COLUMNS: usize = 6;

/// Writes the title and the table of `summary.rows`, with a total line.
pub fn write(summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    let by = &summary.rows_by;
    let days = match (&by.since, &by.until) {
        (None, None) => String::new(),
        (Some(since), None) => format!(", from {since}"),
        (None, Some(until)) => format!(", through {until}"),
        (Some(since), Some(until)) => format!(", {since} through {until}"),
    };
    let zone = if matches!(by.by.as_str(), "day" | "week" | "month") || !days.is_empty() {
        format!(" ({}{days})", by.timezone)
    } else {
        String::new()
    };
    writeln!(out, "\nBy {}{zone}", by.by)?;
    if summary.rows.is_empty() {
        return writeln!(out, "no calls");
    }
    let agents = summary
        .rows
        .iter()
        .map(|r| r.agent.as_str())
        .collect::<std::collections::BTreeSet<_>>();
    // An agent column beside the key, unless the key is the agent.
    let agent_column = agents.len() > 1 && by.by != "agent";
    let columns = breakdown_columns(summary);
    let in_dollars = summary.rows.iter().all(|r| r.totals.cost_usd.is_some());
    let unit = if in_dollars { "$" } else { "tokens" };

    let mut header: Vec<String> = vec![by.by.clone()];
    if agent_column {
        header.push("agent".into());
    }
    header.extend(
        [
            "calls",
            "input",
            "cache write",
            "cache read",
            "output",
            "cost $",
            "overhead",
        ]
        .map(String::from),
    );
    header.extend(columns.iter().map(|c| format!("{c} {unit}")));

    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    colour::table(&mut table);
    table.set_header(header.iter().map(|h| colour::header(h)));
    for row in &summary.rows {
        let key = match &row.started_at {
            Some(started) => format!("{} {}", row.key, started.get(11..19).unwrap_or("")),
            None => row.key.clone(),
        };
        let mut cells = vec![colour::name(&key)];
        if agent_column {
            cells.push(Cell::new(&row.agent));
        }
        cells.extend(usage_cells(&row.totals, share(row)));
        for column in &columns {
            let part = part_of(row, summary, column);
            cells.push(right(amount(part.as_ref(), in_dollars)));
        }
        table.add_row(cells);
    }
    let total_share = overall_share(summary);
    let mut cells = vec![colour::name("total")];
    if agent_column {
        cells.push(Cell::new(""));
    }
    cells.extend(usage_cells(&summary.totals, total_share));
    for column in &columns {
        let part = column_total(summary, column);
        cells.push(right(amount(Some(&part), in_dollars)));
    }
    table.add_row(cells);
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "overhead: the share of the row's tokens (and of its cost) not spent on the user's own turns"
    )
}

/// The columns of the breakdown: categories that have calls (in their fixed order), or the
/// models with the most tokens.
fn breakdown_columns(summary: &Summary) -> Vec<String> {
    if summary.rows_by.breakdown == "model" {
        let mut models: BTreeMap<&str, u64> = BTreeMap::new();
        for row in &summary.rows {
            for (model, usage) in row.by_model.iter().flatten() {
                *models.entry(model).or_default() += usage.total_tokens();
            }
        }
        let mut ranked: Vec<(&str, u64)> = models.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut columns: Vec<String> = ranked
            .iter()
            .take(MODEL_COLUMNS)
            .map(|(m, _)| m.to_string())
            .collect();
        if ranked.len() > MODEL_COLUMNS {
            columns.push(OTHER_MODELS.into());
        }
        return columns;
    }
    Category::ALL
        .iter()
        .filter(|c| {
            summary.rows.iter().any(|r| {
                r.by_category
                    .get(c.as_str())
                    .is_some_and(|u| u.requests > 0)
            })
        })
        .map(|c| c.as_str().to_string())
        .collect()
}

const OTHER_MODELS: &str = "other models";

/// A row's part in one breakdown column.
fn part_of(row: &Row, summary: &Summary, column: &str) -> Option<UsageTotals> {
    if summary.rows_by.breakdown != "model" {
        return row.by_category.get(column).cloned();
    }
    let models = row.by_model.as_ref()?;
    if column != OTHER_MODELS {
        return models.get(column).cloned();
    }
    let shown = breakdown_columns(summary);
    let mut rest = UsageTotals::default();
    for (model, usage) in models {
        if !shown.contains(model) {
            rest.merge(usage);
        }
    }
    Some(rest)
}

fn column_total(summary: &Summary, column: &str) -> UsageTotals {
    let mut total = UsageTotals::default();
    for row in &summary.rows {
        if let Some(part) = part_of(row, summary, column) {
            total.merge(&part);
        }
    }
    total
}

fn usage_cells(usage: &UsageTotals, overhead: String) -> Vec<Cell> {
    vec![
        right(usage.requests.to_string()),
        right(usage.input_tokens.to_string()),
        right(usage.cache_creation_input_tokens.to_string()),
        right(usage.cache_read_input_tokens.to_string()),
        right(usage.output_tokens.to_string()),
        right(usage.cost_usd.map_or("n/a".into(), |c| format!("{c:.4}"))),
        right(overhead),
    ]
}

/// `38 % ($ 41 %)`: the token share, then the cost share when every price is known.
fn share(row: &Row) -> String {
    describe_share(row.overhead_share, row.overhead_cost_share)
}

fn overall_share(summary: &Summary) -> String {
    let user = summary.categories.get(Category::UserTurn.as_str());
    let total = summary.totals.total_tokens() as f64;
    let tokens =
        user.and_then(|u| (total > 0.0).then(|| (total - u.total_tokens() as f64) / total));
    let cost = match (summary.totals.cost_usd, user.and_then(|u| u.cost_usd)) {
        (Some(total), Some(user)) if total > 0.0 => Some((total - user) / total),
        _ => None,
    };
    describe_share(tokens, cost)
}

fn describe_share(tokens: Option<f64>, cost: Option<f64>) -> String {
    match (tokens, cost) {
        (None, _) => "n/a".into(),
        (Some(t), None) => format!("{:.1} %", t * 100.0),
        (Some(t), Some(c)) => format!("{:.1} % ($ {:.1} %)", t * 100.0, c * 100.0),
    }
}

/// A breakdown cell: dollars, or tokens when a price is unknown somewhere in the table.
fn amount(part: Option<&UsageTotals>, in_dollars: bool) -> String {
    match part {
        None => String::new(),
        Some(p) if p.requests == 0 => String::new(),
        Some(p) if in_dollars => p.cost_usd.map_or("n/a".into(), |c| format!("{c:.4}")),
        Some(p) => p.total_tokens().to_string(),
    }
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}
