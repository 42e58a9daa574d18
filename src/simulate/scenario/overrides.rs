//! `--set KEY=VALUE` and `--sweep KEY=V1,V2,…`: overriding any scenario parameter by its
//! dotted path (`turn.tool_calls`), or by a short alias (`context_window`, `extraction`).
//!
//! A value is read with the type the parameter has (bool, integer, number, text), so
//! `--set extraction=maybe` fails naming the key and the expected type instead of being
//! stored as text.

use super::Scenario;
use super::load::ScenarioError;

/// Short names for the parameters people change most. `extraction` and `dream` switch the
/// feature on or off; other aliases name one parameter.
pub const ALIASES: &[(&str, &str)] = &[
    ("context_window", "model.context_window"),
    ("extraction", "extraction.enabled"),
    ("dream", "dream.enabled"),
    ("away_summary", "away_summary.enabled"),
    ("model", "model.main"),
    ("cache_ttl", "model.cache_ttl"),
    ("turns_per_hour", "interactive.turns_per_hour"),
    ("wake_minutes", "wake.minutes"),
    ("subagents", "turn.subagents"),
    ("allowance_gib", "ram.allowance_gib"),
];

/// One override, its key resolved to a dotted path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Dotted path (`model.context_window`).
    pub key: String,
    pub value: String,
    /// As the user wrote it (`context_window=1000000`), for messages.
    pub text: String,
}

/// Parses `KEY=VALUE`; the key must name a parameter.
pub fn parse_set(text: &str) -> Result<Setting, ScenarioError> {
    let bad = |message: String| ScenarioError::BadSet {
        text: text.to_string(),
        message,
    };
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=VALUE".into()))?;
    let key = resolve_key(key.trim()).map_err(bad)?;
    Ok(Setting {
        key,
        value: value.trim().to_string(),
        text: text.to_string(),
    })
}

/// Parses `KEY=V1,V2,…` into one setting per value.
pub fn parse_sweep(text: &str) -> Result<Vec<Setting>, ScenarioError> {
    let bad = |message: String| ScenarioError::BadSweep {
        text: text.to_string(),
        message,
    };
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=V1,V2,…".into()))?;
    let name = key.trim();
    let key = resolve_key(name).map_err(bad)?;
    let values: Vec<&str> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(bad("no values to sweep".into()));
    }
    Ok(values
        .into_iter()
        .map(|v| Setting {
            key: key.clone(),
            value: v.to_string(),
            text: format!("{name}={v}"),
        })
        .collect())
}

/// Every combination of the swept values, first sweep varying slowest.
pub fn grid(sweeps: &[Vec<Setting>]) -> Vec<Vec<Setting>> {
    let mut points: Vec<Vec<Setting>> = vec![Vec::new()];
    for values in sweeps {
        points = points
            .into_iter()
            .flat_map(|point| {
                values.iter().map(move |v| {
                    let mut next = point.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    points
}

/// The scenario with `settings` applied in order (later ones win); not validated.
pub fn apply(scenario: &Scenario, settings: &[Setting]) -> Result<Scenario, ScenarioError> {
    if settings.is_empty() {
        return Ok(scenario.clone());
    }
    let mut table = to_table(scenario);
    for set in settings {
        let bad = |message: String| ScenarioError::BadSet {
            text: set.text.clone(),
            message,
        };
        let slot = lookup_mut(&mut table, &set.key)
            .ok_or_else(|| bad(format!("unknown key {}", set.key)))?;
        *slot = typed_value(slot, &set.value).map_err(|m| bad(format!("{}: {m}", set.key)))?;
    }
    toml::Value::Table(table)
        .try_into::<Scenario>()
        .map_err(|e| ScenarioError::BadSet {
            text: settings
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            message: e.message().trim_end().to_string(),
        })
}

/// Every parameter's dotted path, in file order.
pub fn keys() -> Vec<String> {
    let mut out = Vec::new();
    collect_keys(&to_table(&Scenario::default()), "", &mut out);
    out
}

fn collect_keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => collect_keys(inner, &path, out),
            _ => out.push(path),
        }
    }
}

fn to_table(scenario: &Scenario) -> toml::Table {
    // A struct of plain fields always serialises; an empty table would only make every key
    // "unknown", which the caller reports.
    toml::Table::try_from(scenario).unwrap_or_default()
}

/// A dotted path or alias → the dotted path of a parameter (not a section).
fn resolve_key(name: &str) -> Result<String, String> {
    let path = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, path)| path);
    let keys = keys();
    if keys.iter().any(|k| k == path) {
        return Ok(path.to_string());
    }
    let close: Vec<&str> = keys
        .iter()
        .filter(|k| {
            let leaf = k.rsplit('.').next().unwrap_or(k);
            leaf == name || k.starts_with(&format!("{name}."))
        })
        .map(String::as_str)
        .collect();
    let hint = if close.is_empty() {
        "see docs/simulator.md for every key".to_string()
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    Err(format!("unknown key {name}; {hint}"))
}

fn lookup_mut<'a>(table: &'a mut toml::Table, path: &str) -> Option<&'a mut toml::Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut value = table.get_mut(first)?;
    for part in parts {
        value = value.as_table_mut()?.get_mut(part)?;
    }
    (!value.is_table()).then_some(value)
}

/// `text` read as the same type as `current`.
fn typed_value(current: &toml::Value, text: &str) -> Result<toml::Value, String> {
    match current {
        toml::Value::Boolean(_) => match text {
            "true" | "on" | "yes" => Ok(toml::Value::Boolean(true)),
            "false" | "off" | "no" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {text:?}")),
        },
        toml::Value::Integer(_) => parse_integer(text)
            .map(toml::Value::Integer)
            .ok_or_else(|| format!("expected a whole number, got {text:?}")),
        toml::Value::Float(_) => parse_integer(text)
            .map(|i| i as f64)
            .or_else(|| text.replace('_', "").parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .map(toml::Value::Float)
            .ok_or_else(|| format!("expected a number, got {text:?}")),
        _ => Ok(toml::Value::String(text.trim_matches('"').to_string())),
    }
}

/// `1000000`, `1_000_000`, `1e6` (when whole).
fn parse_integer(text: &str) -> Option<i64> {
    let plain = text.replace('_', "");
    plain.parse::<i64>().ok().or_else(|| {
        let f = plain.parse::<f64>().ok()?;
        (f.is_finite() && f.fract() == 0.0 && f.abs() < 9e15).then_some(f as i64)
    })
}
