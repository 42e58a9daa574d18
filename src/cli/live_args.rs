//! Flags of the live views: `top` (a terminal UI beside a running session) and `statusline`
//! (one line for Claude Code's status bar).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::FindingArgs;
use crate::output::top::Tab;

#[derive(Debug, Args)]
pub struct TopArgs {
    /// The trace of the session to watch [default: the newest in --dir].
    #[arg(value_name = "TRACE", conflicts_with = "latest")]
    pub trace: Option<PathBuf>,

    /// Watch the most recently written trace in --dir (what no TRACE means).
    #[arg(long)]
    pub latest: bool,

    /// Where --latest looks for traces.
    #[arg(long, value_name = "DIR", default_value = "agentprof-traces")]
    pub dir: PathBuf,

    /// How often the screen is redrawn (at most 1 s, at least 100 ms).
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,

    /// Burn rates ($/h, tokens/min) and memory growth over this much of the latest time.
    #[arg(long, value_name = "DUR", default_value = "5m", value_parser = parse_window)]
    pub window: Duration,

    /// The view shown first (keys 1-4 and Tab switch).
    #[arg(long, value_enum, default_value_t = Tab::Overview)]
    pub view: Tab,

    /// Print one frame as plain text and exit (no terminal needed: scripts, logs).
    #[arg(long)]
    pub once: bool,

    /// Prices to use instead of (or on top of) the bundled snapshot, as `report --prices`.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    #[command(flatten)]
    pub findings: FindingArgs,
}

#[derive(Debug, Args)]
pub struct StatuslineArgs {
    /// The trace of a live `agentprof run` to read [default: $AGENTPROF_TRACE, which `run`
    /// gives the agent it starts, so its status command sees it].
    #[arg(long, value_name = "TRACE", env = "AGENTPROF_TRACE")]
    pub trace: Option<PathBuf>,

    /// Prices to use instead of (or on top of) the bundled snapshot, as `report --prices`.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Where the running totals are kept between refreshes [default: the import cache's
    /// directory]. `--no-cache` reads everything each time.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Read the whole trace or transcript every time (slower; nothing written).
    #[arg(long)]
    pub no_cache: bool,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{e} (try 500ms or 1s)"))?;
    if !(Duration::from_millis(100)..=Duration::from_secs(1)).contains(&duration) {
        return Err("must be between 100ms and 1s".into());
    }
    Ok(duration)
}

fn parse_window(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{e} (try 5m or 1h)"))?;
    if duration < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(duration)
}
