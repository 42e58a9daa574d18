//! The HTML page of `agentprof report --html` (and of `demo`): headline figures, cost and
//! overhead per day, the charts of the run, then the terminal report's tables.

use super::charts::{self, ChartError, latency::quantile};
use super::days::Calendar;
use super::page::{Cell, HtmlTable, Page};
use super::series::ReportSeries;
use super::{palette, report_days, tables, units};
use crate::attribute::Summary;
use crate::attribute::findings::most_severe_first;
use crate::observation::Category;

/// Renders the page of a report.
pub fn render(summary: &Summary, series: &ReportSeries) -> Result<String, ChartError> {
    let source = &summary.source;
    let mut page = Page::new(&format!("agentprof report — {}", source.traces.join(", ")));
    page.h1("agentprof report");
    page.p(
        "sub",
        &format!(
            "{} · started {} · {:.1} s · prices as of {} · server KV assumed: {}",
            source.traces.join(", "),
            source.started_at.as_deref().unwrap_or("unknown"),
            source.duration_s,
            summary.prices.as_of,
            summary.kv.profile
        ),
    );
    page.cards(&headline(summary));

    let calendar = Calendar::of(&series.days, &summary.rows_by.timezone);
    report_days::section(&mut page, &calendar, &summary.prices.as_of)?;

    findings_section(&mut page, summary, series.observed);

    page.h2("memory", "Memory of the agent's process tree");
    if series.has_memory() {
        page.figure(
            &charts::memory::chart(series, &leak_marks(summary, series))?,
            &format!(
                "Shaded: when calls of each category were in flight; dashed: turn starts; red: where a memory leak found while idle began (see Findings); PSS is read every few samples. {}.",
                summary.memory.note
            ),
        );
    } else {
        page.p(
            "empty",
            "No memory samples in this trace (an import, or a proxy without --pid): only `agentprof run` samples the agent's processes.",
        );
    }

    page.h2("per-turn", "Tokens and cost per turn");
    if summary.turns.is_empty() {
        page.p(
            "empty",
            "No turns detected (no user prompt on a main loop).",
        );
    } else {
        page.figure(&charts::per_turn::tokens(&summary.turns)?, "");
        page.figure(
            &charts::per_turn::cost(&summary.turns)?,
            &format!(
                "Dollars from the price table as of {}; a model without a price is `unpriced`, never $0.",
                summary.prices.as_of
            ),
        );
    }

    page.h2("server-kv", "Server KV cache");
    if series.kv.is_empty() {
        page.p(
            "empty",
            "No call held server KV (no call with token usage).",
        );
    } else {
        page.figure(
            &charts::kv::chart(series, &summary.kv.profile, &summary.kv.assumption)?,
            "KV held while calls were in flight, and by prompt-cache prefixes for their TTL after their last use, charged to the category of the call that last used them.",
        );
    }

    page.h2("latency", "Latency and time to first token");
    if series.calls.is_empty() {
        page.p(
            "empty",
            "No measured call times: no finished calls, or imported history (its times are when the transcript was written).",
        );
    } else {
        page.figure(&charts::latency::chart(&series.calls)?, "");
        page.table(&latency_table(series));
    }

    page.h2("cache", "Prompt-cache hit ratio");
    if !summary.turns.is_empty() {
        page.figure(
            &charts::cache::chart(&summary.turns)?,
            &format!(
                "Whole trace: {:.1} % of prompt tokens were cache reads.",
                summary.totals.cache_hit_ratio() * 100.0
            ),
        );
    } else {
        page.p(
            "",
            &format!(
                "Whole trace: {:.1} % of prompt tokens were cache reads.",
                summary.totals.cache_hit_ratio() * 100.0
            ),
        );
    }

    tables::report(&mut page, summary);
    Ok(page.finish(&format!(
        "Written by agentprof {} from {}. Charts are inline SVG; the page loads nothing.",
        env!("CARGO_PKG_VERSION"),
        source.traces.join(", ")
    )))
}

/// The figures a reader looks for first.
fn headline(summary: &Summary) -> Vec<(&'static str, String)> {
    let memory = &summary.memory;
    let ratio = |r: Option<f64>| r.map_or("n/a".to_string(), |r| format!("{r:.2}×"));
    let mut cards = vec![
        ("calls", units::thousands(summary.totals.requests as i64)),
        (
            "tokens",
            units::thousands(summary.totals.total_tokens() as i64),
        ),
        ("cost", units::cost(summary.totals.cost_usd)),
        (
            "overhead ratio (tokens)",
            ratio(summary.overhead_ratio.tokens),
        ),
        ("overhead ratio (cost)", ratio(summary.overhead_ratio.cost)),
        (
            "cache hit ratio",
            format!("{:.1} %", summary.totals.cache_hit_ratio() * 100.0),
        ),
        ("turns", summary.turns.len().to_string()),
    ];
    if let Some(peak) = memory.peak_rss_bytes {
        cards.push(("peak RSS", units::byte_text(peak)));
    }
    if let Some(peak) = memory.peak_pss_bytes {
        cards.push(("peak PSS", units::byte_text(peak)));
    }
    cards.push(("peak server KV", units::byte_text(summary.kv.peak_bytes)));
    cards
}

fn latency_table(series: &ReportSeries) -> HtmlTable {
    let mut table = HtmlTable::new(&[
        "category",
        "calls",
        "latency p50",
        "latency p95",
        "latency max",
        "TTFT p50",
        "TTFT p95",
    ]);
    let text = |v: Option<f64>| v.map_or("n/a".to_string(), units::duration);
    for category in Category::ALL {
        let (latency, ttft) = charts::latency::sorted_of(&series.calls, category);
        if latency.is_empty() {
            continue;
        }
        table.row(vec![
            Cell::swatch(category.as_str(), palette::category(category)),
            Cell::num(latency.len().to_string()),
            Cell::num(text(quantile(&latency, 0.5))),
            Cell::num(text(quantile(&latency, 0.95))),
            Cell::num(text(latency.last().copied())),
            Cell::num(text(quantile(&ttft, 0.5))),
            Cell::num(text(quantile(&ttft, 0.95))),
        ]);
    }
    table
}

/// The findings, most severe first, each as the terminal table words it; `observed`: whether
/// any trace was judged at all (an imported history is not).
fn findings_section(page: &mut Page, summary: &Summary, observed: bool) {
    page.h2("findings", "Findings");
    if !observed {
        page.p(
            "empty",
            "Not judged: findings are about what `agentprof run` or `proxy` observed, and an imported history has no memory samples, nor idle time of a running agent (docs/findings.md).",
        );
        return;
    }
    if summary.findings.is_empty() {
        page.p(
            "empty",
            "No findings: no memory leak while idle, memory kept turn after turn, sub-agent over its limit, spend while idle, category jump or cache rewrite past its threshold (docs/findings.md).",
        );
        return;
    }
    let items: Vec<String> = most_severe_first(&summary.findings)
        .into_iter()
        .map(|f| {
            let since = f
                .since
                .as_deref()
                .map(|s| format!(" (since {s})"))
                .unwrap_or_default();
            format!("{} · {}{since}", f.severity, f.headline())
        })
        .collect();
    page.list("findings", &items);
}

/// Where each memory leak began, on the memory chart's time axis.
fn leak_marks(summary: &Summary, series: &ReportSeries) -> Vec<charts::memory::LeakMark> {
    let Some(origin) = series.origin else {
        return Vec::new();
    };
    summary
        .findings
        .iter()
        .filter(|f| f.kind == "memory_leak")
        .filter_map(|f| {
            let since: jiff::Timestamp = f.since.as_deref()?.parse().ok()?;
            let what = match f.place.pid {
                Some(pid) => format!("process {pid}"),
                None => "tree".to_string(),
            };
            Some(charts::memory::LeakMark {
                t: since.duration_since(origin).as_secs_f64(),
                label: format!("leak: {what} +{:.0} MiB/h", f.rate / 1024.0 / 1024.0),
            })
        })
        .collect()
}
