//! Range checks on a parsed scenario: what the types cannot say (a share above 1, a window
//! shorter than the system prompt, a run too large to finish).

use super::Scenario;
use crate::attribute::kv::KvProfile;

/// The first thing wrong with a scenario: the keys involved (dotted paths) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub keys: Vec<String>,
    pub message: String,
}

fn problem(keys: &[&str], message: impl Into<String>) -> Problem {
    Problem {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        message: message.into(),
    }
}

/// Most calls one run may simulate (trials × sessions × turns): beyond this it would run for
/// minutes, and the figures would not get any better.
const MAX_TURNS: f64 = 2e9;
const MAX_PER_TURN: f64 = 1_000.0;

/// Checks every range; the first problem found.
pub fn check(s: &Scenario) -> Result<(), Problem> {
    non_negative_floats(s)?;
    let within = |key: &str, value: f64, lo: f64, hi: f64| {
        if value < lo || value > hi {
            Err(problem(
                &[key],
                format!("{key} = {value} is out of range ({lo} to {hi})"),
            ))
        } else {
            Ok(())
        }
    };
    if s.sessions == 0 {
        return Err(problem(&["sessions"], "sessions must be at least 1"));
    }
    if s.agents == 0 {
        return Err(problem(&["agents"], "agents must be at least 1"));
    }
    within("days", s.days, 1e-9, 3_650.0)?;
    within("trials", f64::from(s.trials), 0.0, 100_000.0)?;
    if KvProfile::by_name(&s.kv_profile).is_none() {
        return Err(problem(
            &["kv_profile"],
            format!(
                "unknown KV profile \"{}\"; valid profiles: {}",
                s.kv_profile,
                KvProfile::names().join(", ")
            ),
        ));
    }
    for (key, model) in [
        ("model.main", &s.model.main),
        ("model.small", &s.model.small),
    ] {
        if model.trim().is_empty() {
            return Err(problem(&[key], format!("{key} must name a model")));
        }
    }
    within(
        "model.context_window",
        s.model.context_window as f64,
        1_000.0,
        1e8,
    )?;
    within("model.cache_hit_rate", s.model.cache_hit_rate, 0.0, 1.0)?;
    within("compaction.threshold", s.compaction.threshold, 1e-6, 1.0)?;
    let fixed = s.model.system_tokens
        + s.compaction.summary_tokens
        + s.compaction.instruction_tokens
        + 2.0 * s.model.message_overhead_tokens;
    if fixed >= s.compact_at_tokens() as f64 {
        return Err(problem(
            &[
                "compaction.threshold",
                "model.context_window",
                "model.system_tokens",
                "compaction.summary_tokens",
            ],
            format!(
                "compaction fires at {} tokens, but the system prompt, summary and instruction alone take {fixed:.0}: raise compaction.threshold or model.context_window",
                s.compact_at_tokens()
            ),
        ));
    }
    within(
        "interactive.start_hour",
        s.interactive.start_hour,
        0.0,
        24.0,
    )?;
    within(
        "interactive.active_hours",
        s.interactive.active_hours,
        1e-9,
        24.0,
    )?;
    within(
        "interactive.turns_per_hour",
        s.interactive.turns_per_hour,
        0.0,
        1e6,
    )?;
    within("extraction.probability", s.extraction.probability, 0.0, 1.0)?;
    within("ram.leak_probability", s.ram.leak_probability, 0.0, 1.0)?;
    within("wake.minutes", s.wake.minutes, 1.0 / 60.0, 1e6)?;
    for (key, value) in [
        ("turn.tool_calls", s.turn.tool_calls),
        ("turn.subagents", s.turn.subagents),
        ("turn.utility_calls", s.turn.utility_calls),
        ("wake.tool_calls", s.wake.tool_calls),
        ("wake.subagents", s.wake.subagents),
        ("wake.utility_calls", s.wake.utility_calls),
        ("subagents.calls", s.subagents.calls),
    ] {
        within(key, value, 0.0, MAX_PER_TURN)?;
    }
    for (key, value) in [
        (
            "interactive.turns_per_hour_cv",
            s.interactive.turns_per_hour_cv,
        ),
        ("turn.size_cv", s.turn.size_cv),
        ("ram.growth_cv", s.ram.growth_cv),
        ("ram.leak_cv", s.ram.leak_cv),
    ] {
        within(key, value, 0.0, 10.0)?;
    }
    let per_day = if s.daemon {
        (s.interactive.turns_per_hour * s.interactive.active_hours).max(1_440.0 / s.wake.minutes)
    } else {
        s.interactive.turns_per_hour * s.interactive.active_hours
    };
    let turns = f64::from(s.resolved_trials()) * f64::from(s.sessions) * s.days.ceil() * per_day;
    if turns > MAX_TURNS {
        return Err(problem(
            &["sessions", "days", "trials"],
            format!(
                "this run would simulate about {turns:.1e} turns (limit {MAX_TURNS:.0e}): lower sessions, days or trials"
            ),
        ));
    }
    Ok(())
}

/// Every float parameter is a size, rate, share or duration: finite and not negative.
fn non_negative_floats(s: &Scenario) -> Result<(), Problem> {
    let table = toml::Table::try_from(s).map_err(|e| problem(&[], e.to_string()))?;
    let mut path = Vec::new();
    walk(&table, &mut path)
}

fn walk<'a>(table: &'a toml::Table, path: &mut Vec<&'a str>) -> Result<(), Problem> {
    for (key, value) in table {
        path.push(key);
        match value {
            toml::Value::Table(inner) => walk(inner, path)?,
            toml::Value::Float(f) if !f.is_finite() || *f < 0.0 => {
                let key = path.join(".");
                return Err(problem(
                    &[key.as_str()],
                    format!("{key} = {f} must be a finite number ≥ 0"),
                ));
            }
            _ => {}
        }
        path.pop();
    }
    Ok(())
}
