//! The four views' panels.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Sparkline, Table, Wrap};

use super::Chrome;
use super::format::{
    bytes, bytes_per_hour, cost, duration, percent, tokens, tokens_rate, usd, usd_per_hour,
};
use crate::attribute::live_tally::memory::{MemoryView, Point};
use crate::attribute::live_tally::{CategoryRow, LiveView, Sums};
use crate::observation::RoleMemory;

pub fn overview(frame: &mut Frame<'_>, area: Rect, view: &LiveView, chrome: &Chrome) {
    let rows: Vec<&CategoryRow> = view
        .categories
        .iter()
        .filter(|row| row.sums.calls > 0 || row.kv_bytes > 0)
        .collect();
    let spend_height = rows.len().max(1) as u16 + 5;
    let turn_text = turn_lines(view, chrome, area.width.saturating_sub(2));
    let [spend, turn, memory, findings] = Layout::vertical([
        Constraint::Length(spend_height),
        Constraint::Length(turn_text.len() as u16 + 2),
        Constraint::Length(6),
        Constraint::Min(0),
    ])
    .areas(area);
    spend_table(frame, spend, view, &rows, chrome);
    turn_panel(frame, turn, turn_text);
    memory_panel(frame, memory, &view.memory, chrome, false);
    findings_panel(frame, findings, view, chrome);
}

fn spend_table(
    frame: &mut Frame<'_>,
    area: Rect,
    view: &LiveView,
    rows: &[&CategoryRow],
    chrome: &Chrome,
) {
    let header = [
        "category", "calls", "input", "output", "cache wr", "cache rd", "cost", "share", "burn",
        "tok/min", "KV now",
    ]
    .map(|h| Cell::from(h).style(chrome.bold()));
    let mut lines: Vec<Vec<Cell>> = rows
        .iter()
        .map(|row| {
            sums_row(
                Cell::from(row.category.as_str()).style(chrome.category(row.category)),
                &row.sums,
                view,
                usd_per_hour(row.usd_per_hour),
                tokens_rate(row.tokens_per_minute),
                bytes(row.kv_bytes),
            )
        })
        .collect();
    let kv_total: u64 = view.categories.iter().map(|r| r.kv_bytes).sum();
    lines.push(sums_row(
        Cell::from("overhead").style(chrome.bold()),
        &view.overhead,
        view,
        String::new(),
        String::new(),
        String::new(),
    ));
    lines.push(sums_row(
        Cell::from("total").style(chrome.bold()),
        &view.total,
        view,
        usd_per_hour(view.usd_per_hour),
        tokens_rate(view.tokens_per_minute),
        bytes(kv_total),
    ));
    let widths = [
        Constraint::Length(18),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(10),
    ];
    // Narrow first: KV, tokens/min, share, cache writes, cache reads; category, calls, input,
    // output, cost and burn stay.
    let columns = fitting_columns(&widths, &[10, 9, 7, 4, 5], area.width);
    let title = format!(
        " Spend: {} · overhead {} · burn {} over the last {} (categories: the proxy's rules) ",
        cost(&view.total),
        percent(view.overhead.cost_usd, view.total.cost_usd),
        usd_per_hour(view.usd_per_hour),
        duration(view.window_s),
    );
    frame.render_widget(
        columns
            .table(header, lines)
            .block(columns.bordered(title, widths.len())),
        area,
    );
}

fn sums_row<'a>(
    name: Cell<'a>,
    sums: &Sums,
    view: &LiveView,
    burn: String,
    rate: String,
    kv: String,
) -> Vec<Cell<'a>> {
    vec![
        name,
        Cell::from(sums.calls.to_string()),
        Cell::from(tokens(sums.usage.input_tokens)),
        Cell::from(tokens(sums.usage.output_tokens)),
        Cell::from(tokens(sums.usage.cache_creation_input_tokens)),
        Cell::from(tokens(sums.usage.cache_read_input_tokens)),
        Cell::from(cost(sums)),
        Cell::from(percent(sums.cost_usd, view.total.cost_usd)),
        Cell::from(burn),
        Cell::from(rate),
        Cell::from(kv),
    ]
}

/// The current turn's lines: what it has cost so far, then user vs overhead, on one line or,
/// when that line is wider than `width`, on two (an 80-column terminal cut the overhead).
fn turn_lines<'a>(view: &LiveView, chrome: &Chrome, width: u16) -> Vec<Line<'a>> {
    let turn = &view.turn;
    if turn.number == 0 {
        return vec![Line::from("no user prompt yet")];
    }
    let spent = turn.user.cost_usd + turn.overhead.cost_usd;
    let user = Span::raw(format!(
        "user {} ({} call(s), {} tokens)",
        cost(&turn.user),
        turn.user.calls,
        tokens(turn.user.usage.total_tokens())
    ));
    let overhead = Span::styled(
        format!(
            "overhead {} ({} call(s), {} tokens) = {} of the turn",
            cost(&turn.overhead),
            turn.overhead.calls,
            tokens(turn.overhead.usage.total_tokens()),
            percent(turn.overhead.cost_usd, spent)
        ),
        chrome.bold(),
    );
    let between = Span::raw("  ·  ");
    let mut lines = vec![Line::from(format!(
        "turn {} started {} ago: {} in {} call(s)",
        turn.number,
        duration(view.now_t - turn.started_t),
        usd(spent),
        turn.user.calls + turn.overhead.calls
    ))];
    if user.width() + between.width() + overhead.width() <= usize::from(width) {
        lines.push(Line::from(vec![user, between, overhead]));
    } else {
        lines.push(Line::from(user));
        lines.push(Line::from(overhead));
    }
    lines
}

fn turn_panel(frame: &mut Frame<'_>, area: Rect, lines: Vec<Line<'_>>) {
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" This turn ")),
        area,
    );
}

/// Which of a history point's figures a row shows.
type PointOf = fn(&Point) -> u64;

/// The tree and each role: figures on the left, a sparkline of RSS on the right (`tall`: the
/// memory view, with the history's span and peak).
pub fn memory_panel(
    frame: &mut Frame<'_>,
    area: Rect,
    memory: &MemoryView,
    chrome: &Chrome,
    tall: bool,
) {
    let growth = memory
        .growth_bytes_per_hour
        .map_or("growth n/a".into(), |g| {
            format!("growth {}", bytes_per_hour(g))
        });
    let title = format!(
        " Memory (RSS; {} samples; peak {}; {growth}) ",
        memory.samples,
        bytes(memory.peak_tree_rss)
    );
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if memory.samples == 0 {
        frame.render_widget(Paragraph::new("no memory sample yet"), inner);
        return;
    }
    let tree = RoleMemory {
        processes: memory.main.processes + memory.subagent.processes + memory.other.processes,
        rss_bytes: memory.tree_rss,
        pss_bytes: memory.tree_pss.map(|(_, pss)| pss),
    };
    let roles: [(&str, &RoleMemory, PointOf); 4] = [
        ("tree", &tree, |p| p.tree),
        ("main", &memory.main, |p| p.main),
        ("sub-agents", &memory.subagent, |p| p.subagent),
        ("other", &memory.other, |p| p.other),
    ];
    let each = if tall { (inner.height / 4).max(1) } else { 1 };
    let areas = Layout::vertical([Constraint::Length(each); 4]).split(inner);
    for ((name, role, pick), row) in roles.iter().zip(areas.iter()) {
        let [label, spark] =
            Layout::horizontal([Constraint::Length(46), Constraint::Min(0)]).areas(*row);
        let pss = match role.pss_bytes {
            Some(pss) if role.processes > 0 => format!("PSS {}", bytes(pss)),
            _ => "PSS -".into(),
        };
        let text = format!(
            "{name:<10} {:>2} proc {:>10}  {pss}",
            role.processes,
            bytes(role.rss_bytes)
        );
        frame.render_widget(Paragraph::new(text), label);
        let data: Vec<u64> = spread(&memory.history, spark.width as usize)
            .map(pick)
            .collect();
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(chrome.paint(Style::default().fg(ratatui::style::Color::Cyan))),
            spark,
        );
    }
}

/// At most `width` points spread evenly over the whole history, the latest always last: a
/// sparkline shows the session from its start, however long it ran.
fn spread(history: &[Point], width: usize) -> impl Iterator<Item = &Point> {
    let len = history.len();
    let shown = len.min(width);
    (0..shown).map(move |i| &history[(i + 1) * len / shown - 1])
}

fn findings_panel(frame: &mut Frame<'_>, area: Rect, view: &LiveView, chrome: &Chrome) {
    let mut lines: Vec<Line> = view
        .findings
        .iter()
        .map(|f| {
            let style = if f.severity == "critical" {
                chrome.warn()
            } else {
                chrome.bold()
            };
            Line::from(vec![
                Span::styled(format!("{} ", f.severity), style),
                Span::raw(f.headline()),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(
            "none (leaks, per-turn growth, idle spend, category jumps, cache rewrites are \
             judged as the session runs)",
        ));
    }
    if !view.unpriced_models.is_empty() {
        lines.push(Line::from(format!(
            "unpriced models (cost unknown, not 0): {}",
            view.unpriced_models.join(", ")
        )));
    }
    let title = format!(" Findings ({}) ", view.findings.len());
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(title)),
        area,
    );
}

pub fn calls(frame: &mut Frame<'_>, area: Rect, view: &LiveView, chrome: &Chrome) {
    let header = [
        "at", "category", "model", "input", "output", "cache wr", "cache rd", "cost", "latency",
        "status",
    ]
    .map(|h| Cell::from(h).style(chrome.bold()));
    let rows: Vec<Vec<Cell>> = view
        .last_calls
        .iter()
        .take(area.height.saturating_sub(3) as usize)
        .map(|call| {
            let usage = call.usage.unwrap_or_default();
            let status = match (call.status, call.failed) {
                (Some(code), false) => code.to_string(),
                (Some(code), true) => format!("{code} failed"),
                (None, _) => "failed".into(),
            };
            let mut category = call.category.as_str().to_string();
            if call.starts_turn {
                category.push_str(" ▶");
            }
            vec![
                Cell::from(duration(call.t_end)),
                Cell::from(category).style(chrome.category(call.category)),
                Cell::from(call.model.clone().unwrap_or_else(|| "-".into())),
                Cell::from(tokens(usage.input_tokens)),
                Cell::from(tokens(usage.output_tokens)),
                Cell::from(tokens(usage.cache_creation_input_tokens)),
                Cell::from(tokens(usage.cache_read_input_tokens)),
                Cell::from(call.cost_usd.map_or_else(
                    || {
                        if call.usage.is_some() {
                            "?".into()
                        } else {
                            "-".into()
                        }
                    },
                    usd,
                )),
                Cell::from(duration(call.latency_s())),
                Cell::from(status).style(if call.failed {
                    chrome.warn()
                } else {
                    Style::default()
                }),
            ]
        })
        .collect();
    let widths = [
        Constraint::Length(8),
        Constraint::Length(19),
        Constraint::Min(16),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(10),
    ];
    // Narrow first: cache writes, cache reads, input, output; time, category, model, cost,
    // latency and status stay.
    let columns = fitting_columns(&widths, &[5, 6, 3, 4], area.width);
    let title = format!(
        " Last calls, newest first ({} in all; ▶ starts a turn; {} other requests) ",
        view.total.calls, view.other_requests,
    );
    frame.render_widget(
        columns
            .table(header, rows)
            .block(columns.bordered(title, widths.len())),
        area,
    );
}

/// The columns of a bordered table that fit in `width`.
#[derive(Debug, PartialEq)]
pub(super) struct Columns {
    kept: Vec<usize>,
    widths: Vec<Constraint>,
}

/// All the columns if they fit in `width` (borders included), else all but the first of
/// `narrow_first`, and so on, until the rest fit. Why: ratatui cuts a table at the right edge,
/// and on an 80-column terminal (SSH's default) that cut the burn rate and everything after
/// cost, while the token and KV columns, less wanted, took the room.
pub(super) fn fitting_columns(
    widths: &[Constraint],
    narrow_first: &[usize],
    width: u16,
) -> Columns {
    let room = width.saturating_sub(2);
    let needs = |kept: &[usize]| -> u16 {
        let spacing = kept.len().saturating_sub(1) as u16;
        kept.iter()
            .map(|&i| match widths[i] {
                Constraint::Length(n) | Constraint::Min(n) => n,
                _ => 0,
            })
            .sum::<u16>()
            + spacing
    };
    let mut kept: Vec<usize> = (0..widths.len()).collect();
    for dropped in narrow_first {
        if needs(&kept) <= room {
            break;
        }
        kept.retain(|i| i != dropped);
    }
    Columns {
        widths: kept.iter().map(|&i| widths[i]).collect(),
        kept,
    }
}

impl Columns {
    /// A bordered block titled `title`, saying on its bottom edge how many columns of `all` are
    /// hidden (the top edge is the title's, and a narrow terminal cuts it).
    fn bordered<'a>(&self, title: String, all: usize) -> Block<'a> {
        let block = Block::bordered().title(title);
        match all - self.kept.len() {
            0 => block,
            1 => block
                .title_bottom(Line::from(" 1 column hidden: widen the terminal ").right_aligned()),
            n => block.title_bottom(
                Line::from(format!(" {n} columns hidden: widen the terminal ")).right_aligned(),
            ),
        }
    }

    #[cfg(test)]
    pub(super) fn kept(&self) -> &[usize] {
        &self.kept
    }

    fn table<'a, const N: usize>(
        &self,
        header: [Cell<'a>; N],
        rows: Vec<Vec<Cell<'a>>>,
    ) -> Table<'a> {
        let pick = |cells: Vec<Cell<'a>>| {
            let mut cells: Vec<Option<Cell<'a>>> = cells.into_iter().map(Some).collect();
            Row::new(
                self.kept
                    .iter()
                    .filter_map(move |&i| cells.get_mut(i)?.take())
                    .collect::<Vec<_>>(),
            )
        };
        Table::new(rows.into_iter().map(pick), self.widths.clone()).header(pick(header.into()))
    }
}

pub fn memory(frame: &mut Frame<'_>, area: Rect, view: &LiveView, chrome: &Chrome) {
    let [panel, note] = Layout::vertical([Constraint::Min(6), Constraint::Length(1)]).areas(area);
    memory_panel(frame, panel, &view.memory, chrome, true);
    let span = view
        .memory
        .history
        .first()
        .zip(view.memory.history.last())
        .map_or(0.0, |(a, b)| b.t - a.t);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            format!(
                "sparklines: RSS over the whole session ({}), spread over the width; growth over the last {}",
                duration(span),
                duration(view.window_s)
            ),
            Style::default().add_modifier(Modifier::DIM),
        ))),
        note,
    );
}

pub fn findings(frame: &mut Frame<'_>, area: Rect, view: &LiveView, chrome: &Chrome) {
    findings_panel(frame, area, view, chrome);
}
