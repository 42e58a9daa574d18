//! Comparing two sets of runs of the same work — A, the baseline, and B — from their reports:
//! per category, for the whole run and per turn, each side's mean and spread, B − A with a 95 %
//! confidence interval (Welch), and B / A, as `perf diff` shows baseline, delta and ratio and
//! hyperfine shows speed-ups with ±; then a verdict in words per category's cost.
//!
//! With one run a side, B − A is exactly the difference of the two reports (no interval).

pub mod fail_if;
pub mod stats;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::attribute::summary::Summary;
use crate::attribute::usage_totals::UsageTotals;
use crate::observation::Category;
use stats::{CONFIDENCE, Difference, Side, difference};

/// What a row compares: `total`, a category, or `turn N`.
pub type Scope = String;

/// One figure of one scope, both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub scope: Scope,
    pub figure: &'static str,
    pub a: Side,
    pub b: Side,
    pub difference: Difference,
}

/// A comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub confidence: f64,
    pub rows: Vec<Row>,
    /// Figures left out because some run does not know them (a cost with an unpriced model,
    /// memory of an imported history), as `scope figure`.
    pub unknown: Vec<String>,
    /// One line per category whose cost differs: "memory_extraction: +31 % ± 6 % of cost".
    pub verdicts: Vec<String>,
}

/// A figure of a usage total (`None`: unknown, as a cost with an unpriced model).
type UsageFigure = fn(&UsageTotals) -> Option<f64>;
/// A figure of a whole run.
type RunFigure = fn(&Summary) -> Option<f64>;

/// The figures of a usage total, by name.
const USAGE_FIGURES: [(&str, UsageFigure); 7] = [
    ("calls", |u| Some(u.requests as f64)),
    ("input", |u| Some(u.input_tokens as f64)),
    ("output", |u| Some(u.output_tokens as f64)),
    ("cache_write", |u| {
        Some(u.cache_creation_input_tokens as f64)
    }),
    ("cache_read", |u| Some(u.cache_read_input_tokens as f64)),
    ("tokens", |u| Some(u.total_tokens() as f64)),
    ("cost", |u| u.cost_usd),
];

/// Figures of the whole run besides its usage.
const RUN_FIGURES: [(&str, RunFigure); 5] = [
    ("turns", |s| Some(s.turns.len() as f64)),
    ("rss_peak", |s| s.memory.peak_rss_bytes.map(|b| b as f64)),
    ("rss_idle_growth", |s| s.memory.idle_growth_bytes_per_hour),
    ("kv_peak", |s| Some(s.kv.peak_bytes as f64)),
    ("kv_byte_seconds", |s| Some(s.kv.byte_seconds)),
];

/// Every figure name a row can have (for `--fail-if`).
pub fn figure_names() -> Vec<&'static str> {
    USAGE_FIGURES
        .iter()
        .map(|f| f.0)
        .chain(RUN_FIGURES.iter().map(|f| f.0))
        .chain(["user_cost", "overhead_cost", "rss_growth"])
        .collect()
}

/// Compares the reports of A's runs (one report per run) with B's.
pub fn compare(a: &[Summary], b: &[Summary]) -> Comparison {
    let mut comparison = Comparison {
        confidence: CONFIDENCE,
        rows: Vec::new(),
        unknown: Vec::new(),
        verdicts: Vec::new(),
    };
    let mut add = |scope: &str, figure: &'static str, get: &dyn Fn(&Summary) -> Option<f64>| {
        let side = |runs: &[Summary]| runs.iter().map(get).collect::<Option<Vec<f64>>>();
        match (side(a), side(b)) {
            (Some(va), Some(vb)) => {
                let (sa, sb) = (Side::of(&va), Side::of(&vb));
                comparison.rows.push(Row {
                    scope: scope.to_string(),
                    figure,
                    a: sa,
                    b: sb,
                    difference: difference(&sa, &sb),
                });
            }
            _ => comparison.unknown.push(format!("{scope} {figure}")),
        }
    };
    for (figure, get) in USAGE_FIGURES {
        add("total", figure, &|s| get(&s.totals));
    }
    for (figure, get) in RUN_FIGURES {
        add("total", figure, &get);
    }
    for category in Category::ALL {
        let name = category.as_str();
        let used = |runs: &[Summary]| {
            runs.iter()
                .any(|s| s.categories.get(name).is_some_and(|u| u.requests > 0))
        };
        if !used(a) && !used(b) {
            continue;
        }
        for (figure, get) in USAGE_FIGURES {
            add(name, figure, &|s| {
                get(s.categories.get(name).unwrap_or(&UsageTotals::default()))
            });
        }
        add(name, "kv_byte_seconds", &|s| {
            Some(
                s.kv.by_category_byte_seconds
                    .get(name)
                    .copied()
                    .unwrap_or(0.0),
            )
        });
    }
    // Turns every run has, by number: the same prompts in the same order.
    let turns = a.iter().chain(b).map(|s| s.turns.len()).min().unwrap_or(0);
    for turn in 0..turns {
        let scope = format!("turn {}", turn + 1);
        add(&scope, "user_cost", &|s| s.turns[turn].user.cost_usd);
        add(&scope, "overhead_cost", &|s| {
            s.turns[turn].overhead.cost_usd
        });
        add(&scope, "rss_growth", &|s| {
            s.turns[turn].rss_growth_bytes.map(|b| b as f64)
        });
    }
    comparison.verdicts = verdicts(&comparison.rows);
    comparison
}

/// "memory_extraction: +31 % ± 6 % of cost ($0.1300 → $0.1700)" for every category whose cost
/// differs, and the total.
fn verdicts(rows: &[Row]) -> Vec<String> {
    rows.iter()
        // Means of the same sums differ in the last bits (x·2/2 and x·3/3): that is no change.
        .filter(|r| {
            r.figure == "cost"
                && r.difference.delta.abs() > 1e-9 * r.a.mean.abs().max(r.b.mean.abs())
        })
        .map(|r| {
            let d = &r.difference;
            let change = if r.a.mean > 0.0 {
                let percent = d.delta / r.a.mean * 100.0;
                match d.interval {
                    Some((lo, hi)) => format!(
                        "{percent:+.0} % ± {:.0} % of cost",
                        (hi - lo) / 2.0 / r.a.mean * 100.0
                    ),
                    None => format!("{percent:+.0} % of cost"),
                }
            } else {
                "new cost".to_string()
            };
            let significance = match d.interval {
                Some((lo, hi)) if lo <= 0.0 && hi >= 0.0 => {
                    " — within the noise: the 95 % interval includes no change"
                }
                Some(_) => "",
                None => " — one run a side: no interval",
            };
            format!(
                "{}: {change} (${:.4} → ${:.4}){significance}",
                r.scope, r.a.mean, r.b.mean
            )
        })
        .collect()
}
