//! `agentprof top`: follow a session's trace and redraw its live view until `q`.
//!
//! It only reads the trace (the file `run`, `proxy` and `demo` append to and flush after every
//! batch), so it works for any session on the machine, over SSH, and after the session ended;
//! it never writes, and a problem in the trace is shown on the screen, not fatal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use super::options;
use crate::attribute::kv::KvProfile;
use crate::attribute::live_tally::{LiveTally, LiveView};
use crate::cli::TopArgs;
use crate::error::InputError;
use crate::output::colour;
use crate::output::top::{Chrome, Tab, draw, frame_text};
use crate::output::trace::{Follower, TraceHeader};

/// Polls per redraw at most while catching up with a large trace (each reads up to 8 MiB).
const CATCH_UP_POLLS: usize = 8;

pub fn run(args: TopArgs) -> anyhow::Result<i32> {
    let path = match &args.trace {
        Some(path) => path.clone(),
        None => latest_trace(&args.dir)?,
    };
    let mut follower = Follower::open(&path).map_err(|e| InputError::new(e.to_string()))?;
    let prices = options::prices(args.prices.as_deref())?;
    let thresholds = options::findings(&args.findings)?;
    let header = follower.header().clone();
    let kv = header
        .kv_profile
        .as_deref()
        .and_then(|name| KvProfile::from_name(name).ok())
        .unwrap_or_else(KvProfile::default_profile);
    let mut tally = LiveTally::new(prices, args.window, thresholds, kv.bytes_per_token());
    tally.on_header(&header);
    let mut chrome = Chrome {
        trace: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        ),
        what: describe(&header),
        tab: args.view,
        paused: false,
        colour: colour::allowed(std::env::var_os("NO_COLOR").as_deref(), !args.once),
        problem: None,
    };
    let mut following = true;
    if args.once {
        // Everything written so far, then one frame.
        while following && poll(&mut follower, &mut tally, &mut chrome, &mut following) > 0 {}
        let view = tally.view(tally.trace_time_at(jiff::Timestamp::now()));
        print!("{}", frame_text(&view, &chrome, once_size()));
        return Ok(0);
    }
    if !std::io::stdout().is_terminal() {
        return Err(InputError::new(
            "agentprof top draws on a terminal and stdout is not one (--once prints one frame \
             as text)",
        )
        .into());
    }
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let result = ui_loop(
        &mut terminal,
        &mut follower,
        &mut tally,
        &mut chrome,
        args.interval,
        following,
    );
    ratatui::restore();
    result.map(|()| 0)
}

fn ui_loop(
    terminal: &mut DefaultTerminal,
    follower: &mut Follower,
    tally: &mut LiveTally,
    chrome: &mut Chrome,
    interval: Duration,
    mut following: bool,
) -> anyhow::Result<()> {
    let mut view: Option<LiveView> = None;
    loop {
        // A large trace is caught up with over several frames: the screen comes up at once.
        let mut behind = false;
        if !chrome.paused || view.is_none() {
            behind = true;
            for _ in 0..CATCH_UP_POLLS {
                if !following || poll(follower, tally, chrome, &mut following) == 0 {
                    behind = false;
                    break;
                }
            }
            view = Some(tally.view(tally.trace_time_at(jiff::Timestamp::now())));
        }
        if let Some(view) = &view {
            terminal.draw(|frame| draw(frame, view, chrome))?;
        }
        // Wait for a key, a resize or the next refresh, whichever comes first (no wait while
        // catching up).
        let next = Instant::now() + if behind { Duration::ZERO } else { interval };
        loop {
            // With no time left this still takes a key already typed (`q` while catching up).
            let left = next.saturating_duration_since(Instant::now());
            if !event::poll(left)? {
                break;
            }
            match event::read()? {
                Event::Key(key) if key.kind == KeyEventKind::Press => {
                    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL)
                        && key.code == KeyCode::Char('c');
                    match key.code {
                        KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                        _ if ctrl_c => return Ok(()),
                        KeyCode::Char('1') => chrome.tab = Tab::Overview,
                        KeyCode::Char('2') => chrome.tab = Tab::Calls,
                        KeyCode::Char('3') => chrome.tab = Tab::Memory,
                        KeyCode::Char('4') => chrome.tab = Tab::Findings,
                        KeyCode::Tab | KeyCode::Right => chrome.tab = chrome.tab.next(),
                        KeyCode::BackTab | KeyCode::Left => chrome.tab = chrome.tab.previous(),
                        KeyCode::Char('p') | KeyCode::Char(' ') => chrome.paused = !chrome.paused,
                        _ => continue,
                    }
                    break;
                }
                Event::Resize(..) => break,
                _ => {}
            }
        }
    }
}

/// Reads what the session appended; returns how many records. A follow error stops following
/// (the figures so far stay on screen) and is shown; skipped lines are counted on screen.
fn poll(
    follower: &mut Follower,
    tally: &mut LiveTally,
    chrome: &mut Chrome,
    following: &mut bool,
) -> usize {
    match follower.poll() {
        Ok(records) => {
            let n = records.len();
            for record in records {
                tally.apply(record);
            }
            if let (count @ 1.., Some((line, reason))) = follower.bad_lines() {
                chrome.problem = Some(format!(
                    "{count} trace line(s) skipped (last: line {line}: {reason})"
                ));
            }
            n
        }
        Err(err) => {
            *following = false;
            chrome.problem = Some(format!("stopped following: {err}"));
            0
        }
    }
}

/// The newest `*.jsonl` in `dir` (by modification time).
fn latest_trace(dir: &Path) -> anyhow::Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        InputError::new(format!(
            "{}: {e} (give a trace, or --dir where `agentprof run` writes them)",
            dir.display()
        ))
    })?;
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
        .ok_or_else(|| {
            InputError::new(format!(
                "no trace in {} (start a session with `agentprof run -- <agent>`, or give a \
                 trace)",
                dir.display()
            ))
            .into()
        })
}

/// `run: claude -p …`, `proxy`, `demo`.
fn describe(header: &TraceHeader) -> String {
    let command = header.command.join(" ");
    if command.is_empty() {
        return header.mode.clone();
    }
    let mut short: String = command.chars().take(40).collect();
    if short.len() < command.len() {
        short.push('…');
    }
    format!("{}: {short}", header.mode)
}

/// The size of a `--once` frame: the terminal's, else 120×40.
fn once_size() -> (u16, u16) {
    match crossterm::terminal::size() {
        Ok(size) if std::io::stdout().is_terminal() => size,
        _ => (120, 40),
    }
}
