use std::path::Path;

use super::fail_if::FailIf;
use super::*;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::attribute::rows::RowsSpec;
use crate::attribute::summary::{ReportOptions, summarize};
use crate::output::trace::read_trace;

fn report(name: &str) -> Summary {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-traces")
        .join(name);
    let prices = PriceTable::bundled();
    let rows = RowsSpec::by_category();
    summarize(
        &[read_trace(&path).unwrap()],
        &ReportOptions {
            prices: &prices,
            kv_profile: KvProfile::default_profile(),
            rows: &rows,
            findings: Default::default(),
        },
    )
}

fn row<'a>(comparison: &'a Comparison, scope: &str, figure: &str) -> &'a Row {
    comparison
        .rows
        .iter()
        .find(|r| r.scope == scope && r.figure == figure)
        .unwrap_or_else(|| panic!("no row {scope} {figure}"))
}

#[test]
fn one_run_a_side_is_exactly_the_difference_of_the_two_reports() {
    let a = report("import-claude-code-2.1.197.jsonl");
    let b = report("demo-6-turns.jsonl");
    let comparison = compare(std::slice::from_ref(&a), std::slice::from_ref(&b));
    for (scope, totals_a, totals_b) in std::iter::once(("total", &a.totals, &b.totals)).chain(
        Category::ALL.iter().filter_map(|c| {
            let name = c.as_str();
            let (ta, tb) = (&a.categories[name], &b.categories[name]);
            (ta.requests + tb.requests > 0).then_some((name, ta, tb))
        }),
    ) {
        let pairs = [
            ("calls", totals_a.requests, totals_b.requests),
            ("input", totals_a.input_tokens, totals_b.input_tokens),
            ("output", totals_a.output_tokens, totals_b.output_tokens),
            (
                "cache_write",
                totals_a.cache_creation_input_tokens,
                totals_b.cache_creation_input_tokens,
            ),
            (
                "cache_read",
                totals_a.cache_read_input_tokens,
                totals_b.cache_read_input_tokens,
            ),
        ];
        for (figure, va, vb) in pairs {
            let r = row(&comparison, scope, figure);
            assert_eq!(
                r.difference.delta,
                vb as f64 - va as f64,
                "{scope} {figure}"
            );
            assert_eq!(r.difference.interval, None);
        }
        let cost = row(&comparison, scope, "cost");
        assert_eq!(
            cost.difference.delta,
            totals_b.cost_usd.unwrap() - totals_a.cost_usd.unwrap(),
            "{scope}"
        );
    }
    assert_eq!(
        row(&comparison, "total", "turns").difference.delta,
        b.turns.len() as f64 - a.turns.len() as f64
    );
    // The import has no memory samples: its RSS is unknown, not compared as 0.
    assert!(comparison.unknown.contains(&"total rss_peak".to_string()));
    assert!(comparison.verdicts.iter().any(|v| v.starts_with("total: ")));
}

#[test]
fn several_runs_a_side_give_means_and_an_interval() {
    let a = report("demo-6-turns.jsonl");
    let comparison = compare(&[a.clone(), a.clone()], &[a.clone(), a.clone(), a]);
    let cost = row(&comparison, "total", "cost");
    assert_eq!(cost.a.runs, 2);
    assert_eq!(cost.b.runs, 3);
    assert!(cost.difference.delta.abs() < 1e-12);
    let (lo, hi) = cost.difference.interval.unwrap();
    assert!(lo.abs() < 1e-12 && hi.abs() < 1e-12, "{lo} … {hi}");
    assert!(comparison.verdicts.is_empty(), "{:?}", comparison.verdicts);
}

fn comparison_of(a: &[f64], b: &[f64]) -> Comparison {
    let (sa, sb) = (Side::of(a), Side::of(b));
    let rows = vec![Row {
        scope: "memory_extraction".into(),
        figure: "cost",
        a: sa,
        b: sb,
        difference: difference(&sa, &sb),
    }];
    Comparison {
        confidence: CONFIDENCE,
        verdicts: verdicts(&rows),
        rows,
        unknown: Vec::new(),
    }
}

#[test]
fn verdicts_say_the_change_its_interval_and_whether_it_is_noise() {
    // A: mean 0.10, B: mean 0.13; sds 0.01, df 4, t 2.776445: ± 0.022669 = ± 23 % of A.
    let c = comparison_of(&[0.09, 0.10, 0.11], &[0.12, 0.13, 0.14]);
    assert_eq!(
        c.verdicts,
        ["memory_extraction: +30 % ± 23 % of cost ($0.1000 → $0.1300)"]
    );
    let noisy = comparison_of(&[0.05, 0.10, 0.15], &[0.06, 0.11, 0.16]);
    assert!(noisy.verdicts[0].ends_with("within the noise: the 95 % interval includes no change"));
    let single = comparison_of(&[0.10], &[0.05]);
    assert_eq!(
        single.verdicts,
        ["memory_extraction: -50 % of cost ($0.1000 → $0.0500) — one run a side: no interval"]
    );
}

#[test]
fn fail_if_thresholds_parse_check_and_explain() {
    let c = comparison_of(&[0.10], &[0.13]);
    let broken = |text: &str| FailIf::parse(text).unwrap().broken_by(&c);
    assert!(broken("memory_extraction.cost>+10%").is_some());
    assert!(broken("memory_extraction.cost>+40%").is_none());
    assert!(broken("memory_extraction.cost>0.02").is_some());
    assert!(broken("memory_extraction.cost<-5%").is_none());
    // A scope neither side has holds.
    assert!(broken("dream.cost>+1%").is_none());
    let message = broken("memory_extraction.cost>+10%").unwrap();
    assert!(message.contains("+30.0 %"), "{message}");

    let parsed = FailIf::parse("cost>+10%").unwrap();
    assert_eq!(parsed.scope, "total");
    for bad in ["cost", "cost>>1", "price>+1%", "cost>ten%", "cost>inf"] {
        assert!(FailIf::parse(bad).is_err(), "{bad}");
    }
}
