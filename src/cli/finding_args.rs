//! The finding flags (`--leak-*`, `--idle-*`, `--jump-*`, `--ttl-*`, …) shared by `report`,
//! `run` and `proxy`; checked and turned into thresholds by `commands::options::findings`.

use clap::Args;

/// When a finding is raised (docs/findings.md). A memory leak: idle samples only, after a
/// warm-up, a Theil–Sen slope above both rates overall and in that many windows in a row.
#[derive(Debug, Args)]
#[command(next_help_heading = "Findings (docs/findings.md)")]
pub struct FindingArgs {
    /// Seconds at the start of a trace not judged (start-up allocates).
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub leak_warmup: f64,

    /// Length of one judged window of time.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub leak_window: f64,

    /// Windows in a row that must each grow past both rates.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub leak_windows: usize,

    /// Idle growth at least this fast, in MiB per hour…
    #[arg(long, value_name = "MIB_PER_HOUR", default_value_t = 100.0)]
    pub leak_min_rate: f64,

    /// …and at least this many percent of the median RSS per hour.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub leak_min_percent: f64,

    /// The part of a window idle samples must span for it to be judged (0 to 1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.8)]
    pub leak_coverage: f64,

    /// Memory kept per turn: a finding when the median turn keeps this many MiB…
    #[arg(long, value_name = "MIB", default_value_t = 50.0)]
    pub turn_growth_min: f64,

    /// …over at least this many turns (most of them growing).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub turn_growth_turns: usize,

    /// A sub-agent process peaking at this many MiB or more is a finding.
    #[arg(long, value_name = "MIB", default_value_t = 2048.0)]
    pub subagent_peak_limit: f64,

    /// Seconds before and after a user-turn call that still count as the user's, not idle.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub idle_grace: f64,

    /// Idle time a trace needs before its idle spend is judged.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    pub idle_min: f64,

    /// Spend while idle: a finding from this many USD per idle hour…
    #[arg(long, value_name = "USD_PER_HOUR", default_value_t = 0.5)]
    pub idle_min_spend: f64,

    /// …or, when a price is unknown, from this many tokens per idle hour.
    #[arg(long, value_name = "TOKENS_PER_HOUR", default_value_t = 1_000_000.0)]
    pub idle_min_tokens: f64,

    /// A category's share of a turn jumped: its median over the recent turns at least this
    /// many percentage points above the session's baseline…
    #[arg(long, value_name = "POINTS", default_value_t = 20.0)]
    pub jump_points: f64,

    /// …and at least this many times it.
    #[arg(long, value_name = "RATIO", default_value_t = 2.0)]
    pub jump_ratio: f64,

    /// Turns in the recent window (the baseline needs as many before it).
    #[arg(long, value_name = "TURNS", default_value_t = 3)]
    pub jump_window: usize,

    /// Cache writes paid again after the prompt cache expired: a finding from this many USD
    /// in a trace…
    #[arg(long, value_name = "USD", default_value_t = 0.5)]
    pub ttl_min_spend: f64,

    /// …or, when a price is unknown, from this many tokens written again.
    #[arg(long, value_name = "TOKENS", default_value_t = 1_000_000)]
    pub ttl_min_tokens: u64,
}
