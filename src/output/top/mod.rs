//! `agentprof top`'s screen: one [`LiveView`] drawn as four views (overview, calls, memory,
//! findings) on any ratatui backend — a terminal, or a buffer for `--once` and tests.

pub mod format;
mod panels;
#[cfg(test)]
mod tests;

use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};
use ratatui::{Frame, Terminal};

use crate::attribute::live_tally::LiveView;
use crate::observation::Category;
use crate::output::html::palette;

/// Seconds without a new record after which a session without a footer is not called live.
const QUIET_S: f64 = 30.0;

/// Which view is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Tab {
    #[default]
    Overview,
    Calls,
    Memory,
    Findings,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Overview, Tab::Calls, Tab::Memory, Tab::Findings];

    fn title(self) -> &'static str {
        match self {
            Tab::Overview => "1 Overview",
            Tab::Calls => "2 Calls",
            Tab::Memory => "3 Memory",
            Tab::Findings => "4 Findings",
        }
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn previous(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }
}

/// What the screen shows besides the figures.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The trace's file name.
    pub trace: String,
    /// `run: <command>`, `proxy`, `demo`.
    pub what: String,
    pub tab: Tab,
    pub paused: bool,
    /// Colour allowed (a terminal, `NO_COLOR` unset).
    pub colour: bool,
    /// A problem to show on the last line (a follow error, skipped lines).
    pub problem: Option<String>,
}

impl Chrome {
    /// `style` when colour is allowed, else plain.
    fn paint(&self, style: Style) -> Style {
        if self.colour {
            style
        } else {
            Style::default().add_modifier(style.add_modifier)
        }
    }

    fn category(&self, category: Category) -> Style {
        let c = palette::category(category);
        self.paint(Style::default().fg(Color::Rgb(c.0, c.1, c.2)))
    }

    fn bold(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    fn warn(&self) -> Style {
        self.paint(Style::default().fg(Color::Red).add_modifier(Modifier::BOLD))
    }
}

/// Draws one frame.
pub fn draw(frame: &mut Frame<'_>, view: &LiveView, chrome: &Chrome) {
    let [title, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(title_line(view, chrome)), title);
    let titles: Vec<&str> = Tab::ALL.iter().map(|t| t.title()).collect();
    frame.render_widget(
        Tabs::new(titles)
            .select(chrome.tab.index())
            .highlight_style(chrome.paint(Style::default().add_modifier(Modifier::REVERSED))),
        tabs,
    );
    match chrome.tab {
        Tab::Overview => panels::overview(frame, body, view, chrome),
        Tab::Calls => panels::calls(frame, body, view, chrome),
        Tab::Memory => panels::memory(frame, body, view, chrome),
        Tab::Findings => panels::findings(frame, body, view, chrome),
    }
    frame.render_widget(Paragraph::new(footer_line(chrome)), footer);
}

fn title_line<'a>(view: &LiveView, chrome: &'a Chrome) -> Line<'a> {
    let quiet = view.now_t - view.latest_t;
    let state = match (&view.ended, chrome.paused) {
        (Some(footer), _) => format!("ended after {}", format::duration(footer.t)),
        (None, true) => format!("paused at {}", format::duration(view.now_t)),
        // The sampler writes a record every tick while the session runs: a sampled trace
        // silent this long has stopped (a session killed before its footer). A proxy without
        // a sampler may be silent while idle.
        (None, false) if quiet > QUIET_S && view.memory.samples > 0 => format!(
            "no record for {}: ended without a footer?",
            format::duration(quiet)
        ),
        (None, false) => format!("live {}", format::duration(view.now_t)),
    };
    Line::from(vec![
        Span::styled("agentprof top ", chrome.bold()),
        Span::raw(format!("{} ({}) ", chrome.trace, chrome.what)),
        Span::styled(format!("[{state}]"), chrome.bold()),
    ])
}

fn footer_line(chrome: &Chrome) -> Line<'_> {
    let keys = "1-4/Tab views · p pause · q quit";
    match &chrome.problem {
        Some(problem) => Line::from(vec![
            Span::styled(problem.clone(), chrome.warn()),
            Span::raw(format!("  ·  {keys}")),
        ]),
        None => Line::from(keys),
    }
}

/// One frame of `width` × `height` as plain text, trailing blanks trimmed (`--once`, tests).
pub fn frame_text(view: &LiveView, chrome: &Chrome, (width, height): (u16, u16)) -> String {
    let Ok(mut terminal) = Terminal::new(TestBackend::new(width, height));
    let Ok(_) = terminal.draw(|frame| draw(frame, view, chrome));
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
