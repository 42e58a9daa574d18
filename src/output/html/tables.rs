//! The terminal report's tables as HTML tables: by category (with each category's colour),
//! model, session and turn; memory; server KV; classification; assumptions and warnings.

use super::page::{Cell, HtmlTable, Page};
use super::{palette, units};
use crate::attribute::{Summary, UsageTotals};
use crate::observation::Category;

/// Turns listed in full up to this many (the charts show every turn).
const TURN_ROWS: usize = 200;

/// Appends every table of the report.
pub fn report(page: &mut Page, summary: &Summary) {
    page.h2("tables", "Tables");
    page.h3("By category");
    let mut table = usage_table("category");
    for category in Category::ALL {
        if let Some(usage) = summary.categories.get(category.as_str()) {
            let name = Cell::swatch(category.as_str(), palette::category(category));
            usage_row(&mut table, name, usage, &summary.totals);
        }
    }
    usage_row(
        &mut table,
        Cell::text("total"),
        &summary.totals,
        &summary.totals,
    );
    page.table(&table);

    page.h3("By model");
    page.table(&named(&summary.models, "model", &summary.totals));
    if summary.sessions.len() > 1 {
        page.h3("By session");
        page.table(&named(&summary.sessions, "session", &summary.totals));
    }
    if !summary.subagent_types.is_empty() {
        page.h3("Sub-agent types");
        page.table(&named(&summary.subagent_types, "type", &summary.totals));
    }
    let ratio = &summary.overhead_ratio;
    page.p(
        "",
        &format!(
            "Overhead ratio (everything else ÷ user_turn): tokens {}, cost {}.",
            ratio.tokens.map_or("n/a".into(), |r| format!("{r:.2}")),
            ratio.cost.map_or("n/a".into(), |r| format!("{r:.2}")),
        ),
    );

    turns(page, summary);
    memory(page, summary);
    kv(page, summary);
    classification(page, summary);

    page.h3("Assumptions");
    page.list("note", &summary.assumptions);
    if !summary.warnings.is_empty() {
        page.h3("Warnings");
        page.list("warn", &summary.warnings);
    }
}

fn usage_table(key: &str) -> HtmlTable {
    HtmlTable::new(&[
        key,
        "calls",
        "errors",
        "input",
        "cache write",
        "cache read",
        "output",
        "cost",
        "share of tokens",
    ])
}

fn usage_row(table: &mut HtmlTable, name: Cell, usage: &UsageTotals, totals: &UsageTotals) {
    let n = |v: u64| Cell::num(units::thousands(v as i64));
    table.row(vec![
        name,
        n(usage.requests),
        n(usage.errors),
        n(usage.input_tokens),
        n(usage.cache_creation_input_tokens),
        n(usage.cache_read_input_tokens),
        n(usage.output_tokens),
        Cell::cost(usage.cost_usd),
        Cell::num(format!(
            "{:.1} %",
            usage.total_tokens() as f64 * 100.0 / totals.total_tokens().max(1) as f64
        )),
    ]);
}

fn named(
    rows: &std::collections::BTreeMap<String, UsageTotals>,
    key: &str,
    totals: &UsageTotals,
) -> HtmlTable {
    let mut table = usage_table(key);
    for (name, usage) in rows {
        usage_row(&mut table, Cell::text(name.as_str()), usage, totals);
    }
    table
}

fn turns(page: &mut Page, summary: &Summary) {
    if summary.turns.is_empty() {
        return;
    }
    page.h3("By turn (the user's own calls vs. everything the turn caused)");
    let mut table = HtmlTable::new(&[
        "turn",
        "started",
        "user calls",
        "user tokens",
        "overhead calls",
        "overhead tokens",
        "overhead ×",
        "cost",
        "cache hit",
        "RSS growth",
    ]);
    for turn in summary.turns.iter().take(TURN_ROWS) {
        let user = turn.user.total_tokens();
        let overhead = turn.overhead.total_tokens();
        let mut whole = turn.user.clone();
        whole.merge(&turn.overhead);
        table.row(vec![
            Cell::num(turn.index.to_string()),
            Cell::text(turn.started_at.get(11..19).unwrap_or(&turn.started_at)),
            Cell::num(turn.user.requests.to_string()),
            Cell::num(units::thousands(user as i64)),
            Cell::num(turn.overhead.requests.to_string()),
            Cell::num(units::thousands(overhead as i64)),
            Cell::num(if user > 0 {
                format!("{:.2}", overhead as f64 / user as f64)
            } else {
                "n/a".into()
            }),
            Cell::cost(whole.cost_usd),
            Cell::num(format!("{:.1} %", whole.cache_hit_ratio() * 100.0)),
            Cell::num(turn.rss_growth_bytes.map_or("n/a".into(), signed_bytes)),
        ]);
    }
    page.table(&table);
    if summary.turns.len() > TURN_ROWS {
        page.p(
            "note",
            &format!(
                "{} more turns: `agentprof report --by turn` lists them all.",
                summary.turns.len() - TURN_ROWS
            ),
        );
    }
}

fn signed_bytes(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "+" };
    format!("{sign}{}", units::byte_text(value.unsigned_abs()))
}

fn memory(page: &mut Page, summary: &Summary) {
    let memory = &summary.memory;
    page.h3("Memory of the agent's process tree");
    if memory.samples == 0 {
        page.p("note", "No memory samples in this trace.");
        return;
    }
    let opt = |v: Option<u64>| Cell::num(v.map_or("n/a".into(), units::byte_text));
    let mut table = HtmlTable::new(&[
        "",
        "peak RSS",
        "peak PSS",
        "p50 RSS",
        "p95 RSS",
        "p99 RSS",
        "processes",
    ]);
    table.row(vec![
        Cell::text("tree"),
        opt(memory.peak_rss_bytes),
        opt(memory.peak_pss_bytes),
        opt(memory.p50_rss_bytes),
        opt(memory.p95_rss_bytes),
        opt(memory.p99_rss_bytes),
        Cell::num(memory.peak_processes.to_string()),
    ]);
    for (role, peaks) in &memory.by_role {
        if peaks.peak_processes == 0 {
            continue;
        }
        table.row(vec![
            Cell::text(role.as_str()),
            Cell::num(units::byte_text(peaks.peak_rss_bytes)),
            opt(peaks.peak_pss_bytes),
            Cell::text(""),
            Cell::text(""),
            Cell::text(""),
            Cell::num(peaks.peak_processes.to_string()),
        ]);
    }
    page.table(&table);
    let growth = memory
        .growth_per_turn_bytes
        .map_or("n/a".into(), |g| signed_bytes(g.round() as i64));
    let idle = memory.idle_growth_bytes_per_hour.map_or("n/a".into(), |g| {
        format!("{}/h", signed_bytes(g.round() as i64))
    });
    page.p(
        "",
        &format!(
            "{} samples. RSS growth per turn (mean): {growth}; while idle: {idle}.",
            memory.samples
        ),
    );
    let mut during = HtmlTable::new(&["category", "RSS growth during its calls"]);
    for category in Category::ALL {
        if let Some(&g) = memory.by_category_growth_bytes.get(category.as_str())
            && g != 0
        {
            during.row(vec![
                Cell::swatch(category.as_str(), palette::category(category)),
                Cell::num(signed_bytes(g)),
            ]);
        }
    }
    if !during.is_empty() {
        page.table(&during);
    }
}

fn kv(page: &mut Page, summary: &Summary) {
    let kv = &summary.kv;
    page.h3(&format!("Server KV cache (assumed profile {})", kv.profile));
    const GIB: f64 = (1u64 << 30) as f64;
    page.p(
        "",
        &format!(
            "{} bytes/token; peak {}; {:.1} GiB·s held ({:.1} in flight, {:.1} resident in the prompt cache). {}",
            units::thousands(kv.bytes_per_token as i64),
            units::byte_text(kv.peak_bytes),
            kv.byte_seconds / GIB,
            kv.in_flight_byte_seconds / GIB,
            kv.resident_byte_seconds / GIB,
            kv.assumption
        ),
    );
    let mut table = HtmlTable::new(&["category", "GiB·s", "share"]);
    for category in Category::ALL {
        let Some(&v) = kv.by_category_byte_seconds.get(category.as_str()) else {
            continue;
        };
        if v <= 0.0 {
            continue;
        }
        table.row(vec![
            Cell::swatch(category.as_str(), palette::category(category)),
            Cell::num(format!("{:.2}", v / GIB)),
            Cell::num(format!("{:.1} %", v * 100.0 / kv.byte_seconds.max(1.0))),
        ]);
    }
    if !table.is_empty() {
        page.table(&table);
    }
}

fn classification(page: &mut Page, summary: &Summary) {
    let c = &summary.classification;
    page.h3("How calls were classified");
    let mut table = HtmlTable::new(&["decided by", "calls"]);
    for (decider, n) in &c.by_decider {
        table.row(vec![Cell::text(decider.as_str()), Cell::num(n.to_string())]);
    }
    page.table(&table);
    if c.telemetry_events > 0 {
        page.p(
            "note",
            &format!(
                "{} telemetry events: {} joined by request id, {} by counts, {} unmatched.",
                c.telemetry_events,
                c.joined_by_request_id,
                c.joined_by_fallback,
                c.unmatched_telemetry_events
            ),
        );
    }
    if summary.other_requests.requests > 0 {
        page.p(
            "note",
            &format!(
                "Other requests (not model calls, in no category): {}.",
                summary.other_requests.describe(10)
            ),
        );
    }
}
