//! Reading scenarios: a preset or a TOML file, into a validated [`Scenario`].
//!
//! Every error names where it comes from: `FILE:LINE: message` for files (presets are files
//! too, compiled in), `--set KEY=VALUE: message` for overrides. Values missing from a file
//! take the defaults of [`Scenario`].

use std::path::{Path, PathBuf};

use super::Scenario;
use super::overrides::{self, Setting};
use super::validate;
use crate::simulate::presets;

/// Why a scenario could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}:{line}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("unknown preset \"{name}\"; presets: {}", presets::names().join(", "))]
    UnknownPreset { name: String },
    #[error("--set {text}: {message}")]
    BadSet { text: String, message: String },
    #[error("--sweep {text}: {message}")]
    BadSweep { text: String, message: String },
    #[error("scenario {origin}: {message}")]
    Inconsistent { origin: String, message: String },
}

/// The TOML text of a scenario and the name to use for it in messages.
#[derive(Debug, Clone)]
pub struct ScenarioText {
    /// `path/to/file.toml` or `preset today-200k`.
    pub origin: String,
    pub text: String,
    /// The name a scenario gets when its file sets none.
    pub fallback_name: String,
}

impl ScenarioText {
    /// A built-in preset.
    pub fn preset(name: &str) -> Result<ScenarioText, ScenarioError> {
        let text = presets::text(name).ok_or_else(|| ScenarioError::UnknownPreset {
            name: name.to_string(),
        })?;
        Ok(ScenarioText {
            origin: format!("preset {name}"),
            text: text.to_string(),
            fallback_name: name.to_string(),
        })
    }

    /// A scenario file.
    pub fn file(path: &Path) -> Result<ScenarioText, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(ScenarioText {
            origin: path.display().to_string(),
            text,
            fallback_name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into()),
        })
    }

    /// Parses the text (no overrides yet); the result is not validated.
    pub fn parse(&self) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = toml::from_str(&self.text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            ScenarioError::Invalid {
                origin: self.origin.clone(),
                line: line_of_offset(&self.text, offset),
                message: e.message().trim_end().to_string(),
            }
        })?;
        if !self.text.lines().any(|l| key_of_line(l) == Some("name")) {
            scenario.name = self.fallback_name.clone();
        }
        Ok(scenario)
    }

    /// Parses, applies `settings` in order, and validates. A value out of range is blamed on
    /// the `--set` that supplied it, else on its line in the file.
    pub fn resolve(&self, settings: &[Setting]) -> Result<Scenario, ScenarioError> {
        let scenario = overrides::apply(&self.parse()?, settings)?;
        if let Err(problem) = validate::check(&scenario) {
            if let Some(set) = settings
                .iter()
                .rev()
                .find(|s| problem.keys.contains(&s.key))
            {
                return Err(ScenarioError::BadSet {
                    text: set.text.clone(),
                    message: problem.message,
                });
            }
            let line = problem
                .keys
                .iter()
                .find_map(|key| line_of_key(&self.text, key));
            return Err(match line {
                Some(line) => ScenarioError::Invalid {
                    origin: self.origin.clone(),
                    line,
                    message: problem.message,
                },
                None => ScenarioError::Inconsistent {
                    origin: self.origin.clone(),
                    message: problem.message,
                },
            });
        }
        Ok(scenario)
    }
}

/// 1-based line of a byte offset.
fn line_of_offset(text: &str, offset: usize) -> usize {
    // Counting bytes is enough: '\n' is never part of a multi-byte UTF-8 sequence.
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The key a `key = value` line sets, if it is one.
fn key_of_line(line: &str) -> Option<&str> {
    let line = line.trim_start();
    if line.starts_with('#') || line.starts_with('[') {
        return None;
    }
    let (key, _) = line.split_once('=')?;
    Some(key.trim().trim_matches('"'))
}

/// The line that sets `path` (`model.main`): `main = …` under `[model]`, or `model.main = …`
/// at the top. Good enough for the scenario format, which nests one level deep.
pub fn line_of_key(text: &str, path: &str) -> Option<usize> {
    let (section, key) = match path.split_once('.') {
        Some((section, key)) => (section, key),
        None => ("", path),
    };
    let mut current = "";
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            current = header.split(']').next().unwrap_or("").trim();
            continue;
        }
        let Some(found) = key_of_line(line) else {
            continue;
        };
        if (current == section && found == key) || (current.is_empty() && found == path) {
            return Some(i + 1);
        }
    }
    None
}
