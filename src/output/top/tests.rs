use std::path::Path;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::*;
use crate::attribute::cost::PriceTable;
use crate::attribute::findings::Thresholds;
use crate::attribute::live_tally::LiveTally;
use crate::output::trace::Follower;

fn sample_view() -> LiveView {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let mut follower = Follower::open(&path).unwrap();
    let mut live = LiveTally::new(
        PriceTable::bundled(),
        Duration::from_secs(300),
        Thresholds::default(),
        1,
    );
    live.on_header(follower.header());
    loop {
        let records = follower.poll().unwrap();
        if records.is_empty() {
            break;
        }
        records.into_iter().for_each(|r| live.apply(r));
    }
    live.view(live.trace_time_at(jiff::Timestamp::now()))
}

fn chrome(tab: Tab, colour: bool) -> Chrome {
    Chrome {
        trace: "demo-6-turns.jsonl".into(),
        what: "demo".into(),
        tab,
        paused: false,
        colour,
        problem: None,
    }
}

#[test]
fn every_view_names_what_it_shows() {
    let view = sample_view();
    let overview = frame_text(&view, &chrome(Tab::Overview, false), (120, 40));
    for expected in [
        "user_turn",
        "memory_extraction",
        "overhead",
        "$0.6838",
        "This turn",
        "turn 6",
        "Memory (RSS",
        "Findings (0)",
        "[ended after 3.4s]",
    ] {
        assert!(overview.contains(expected), "{expected:?} in\n{overview}");
    }
    let calls = frame_text(&view, &chrome(Tab::Calls, false), (120, 40));
    assert!(calls.contains("claude-sonnet-4-6"), "{calls}");
    assert!(calls.contains("user_turn ▶"), "{calls}");
    let memory = frame_text(&view, &chrome(Tab::Memory, false), (120, 40));
    assert!(memory.contains("sub-agents"), "{memory}");
    let findings = frame_text(&view, &chrome(Tab::Findings, false), (120, 40));
    assert!(findings.contains("none ("), "{findings}");
}

#[test]
fn any_size_draws_without_panicking() {
    let view = sample_view();
    for tab in Tab::ALL {
        for size in [(1, 1), (10, 3), (40, 10), (80, 24), (300, 100)] {
            let text = frame_text(&view, &chrome(tab, true), size);
            assert_eq!(text.lines().count(), usize::from(size.1));
        }
    }
}

#[test]
fn no_colour_means_no_colour_at_all() {
    let view = sample_view();
    let coloured = |colour: bool| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal
            .draw(|f| draw(f, &view, &chrome(Tab::Overview, colour)))
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        buffer
            .content()
            .iter()
            .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
            .count()
    };
    assert!(coloured(true) > 0);
    assert_eq!(coloured(false), 0);
}

#[test]
fn tabs_cycle_both_ways() {
    assert_eq!(Tab::Findings.next(), Tab::Overview);
    assert_eq!(Tab::Overview.previous(), Tab::Findings);
    assert_eq!(Tab::Calls.next(), Tab::Memory);
}

#[test]
fn a_sampled_trace_gone_silent_without_a_footer_is_not_called_live() {
    let mut view = sample_view();
    view.ended = None;
    view.now_t = view.latest_t + 5.0;
    let text = frame_text(&view, &chrome(Tab::Overview, false), (120, 10));
    assert!(text.contains("[live "), "{text}");
    view.now_t = view.latest_t + 600.0;
    let text = frame_text(&view, &chrome(Tab::Overview, false), (120, 10));
    assert!(
        text.contains("[no record for 10m00s: ended without a footer?]"),
        "{text}"
    );
}

#[test]
fn a_narrow_terminal_loses_the_least_wanted_columns_not_cost_and_burn() {
    let view = sample_view();
    let wide = frame_text(&view, &chrome(Tab::Overview, false), (120, 40));
    assert!(!wide.contains("hidden"), "{wide}");
    for header in ["cache wr", "share", "tok/min", "KV now", "burn"] {
        assert!(wide.contains(header), "{header} in\n{wide}");
    }

    let narrow = frame_text(&view, &chrome(Tab::Overview, false), (80, 40));
    assert!(narrow.contains("4 columns hidden"), "{narrow}");
    let header = narrow
        .lines()
        .find(|line| line.contains("category"))
        .unwrap();
    for kept in ["calls", "input", "output", "cache rd", "cost", "burn"] {
        assert!(header.contains(kept), "{kept} in {header}");
    }
    for gone in ["cache wr", "share", "tok/min", "KV now"] {
        assert!(!header.contains(gone), "{gone} in {header}");
    }
    // The turn's user and overhead, too wide for one line, take two, each whole.
    let user = narrow
        .lines()
        .find(|line| line.contains("│user $"))
        .unwrap();
    assert!(user.contains("tokens)"), "{user}");
    let overhead = narrow
        .lines()
        .find(|line| line.contains("│overhead $"))
        .unwrap();
    assert!(overhead.contains("of the turn"), "{overhead}");
    let wide_turn = wide.lines().find(|line| line.contains("│user $")).unwrap();
    assert!(
        wide_turn.contains("of the turn"),
        "one line at 120: {wide_turn}"
    );
    // The total row's cost is whole, not cut at the edge.
    let total = narrow.lines().find(|line| line.contains("│total")).unwrap();
    assert!(total.contains("$0.6838"), "{total}");

    let calls = frame_text(&view, &chrome(Tab::Calls, false), (80, 30));
    let header = calls
        .lines()
        .find(|line| line.contains("category"))
        .unwrap();
    for kept in ["at", "model", "cost", "latency", "status"] {
        assert!(header.contains(kept), "{kept} in {header}");
    }
    assert!(calls.contains("claude-sonnet-4-6"), "{calls}");
}

#[test]
fn columns_are_narrowed_in_the_order_given_and_only_as_far_as_needed() {
    use ratatui::layout::Constraint::{Length, Min};
    let widths = [Length(10), Length(10), Min(10), Length(10)];
    // 4 × 10 + 3 spaces + 2 borders = 45.
    assert_eq!(
        panels::fitting_columns(&widths, &[3, 1], 45).kept(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        panels::fitting_columns(&widths, &[3, 1], 44).kept(),
        [0, 1, 2]
    );
    assert_eq!(
        panels::fitting_columns(&widths, &[3, 1], 34).kept(),
        [0, 1, 2]
    );
    assert_eq!(panels::fitting_columns(&widths, &[3, 1], 33).kept(), [0, 2]);
    // Never fewer than what is not in the list, however narrow.
    assert_eq!(panels::fitting_columns(&widths, &[3, 1], 1).kept(), [0, 2]);
}
