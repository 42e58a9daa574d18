//! Classification rules as data: which category a call belongs to, decided from its wire facts.
//!
//! Rules are `[[rule]]` tables in TOML (format in `docs/attribution.md`): a name, a category,
//! and conditions on the request that must all hold. The first matching rule wins. User rules
//! (`--rules FILE`) come first, then the built-in set (`builtin.toml`): Claude Code's wire
//! markers, then a generic fallback for any Anthropic or OpenAI client. A model call whose body
//! could not be read matches nothing and is `unknown`.

mod format;
mod matcher;

use std::path::{Path, PathBuf};

pub use matcher::{CallFacts, user_text};

use crate::observation::Category;
use format::RuleFile;
use matcher::Rule;

/// The built-in rules, compiled into the binary.
const BUILTIN: &str = include_str!("builtin.toml");

/// A rule file that cannot be used: which file, which line, what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rules file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// An ordered list of rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

/// The category a call got and the name of what decided it (`rule:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub category: Category,
    pub decided_by: String,
}

impl RuleSet {
    /// The built-in rules alone.
    pub fn builtin() -> RuleSet {
        // The built-in file is tested to parse; an error here is a build defect, reported by
        // the test suite, so falling back to no rules (everything `unknown`) is only a guard.
        parse(BUILTIN, Path::new("<built-in rules>")).unwrap_or_else(|err| {
            tracing::error!("built-in rules are invalid: {err}");
            RuleSet { rules: Vec::new() }
        })
    }

    /// The rules of `path`, followed by the built-in ones.
    pub fn with_user_file(path: &Path) -> Result<RuleSet, RuleError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut rules = parse(&text, path)?.rules;
        rules.extend(RuleSet::builtin().rules);
        Ok(RuleSet { rules })
    }

    /// Classifies one call.
    pub fn classify(&self, facts: &CallFacts<'_>) -> Verdict {
        match self.rules.iter().find(|rule| rule.matches(facts)) {
            Some(rule) => Verdict {
                category: rule.category,
                decided_by: format!("rule:{}", rule.name),
            },
            None => Verdict {
                category: Category::Unknown,
                decided_by: "no-rule".into(),
            },
        }
    }

    /// Name, category and description of every rule, in matching order.
    pub fn describe(&self) -> impl Iterator<Item = (&str, Category, Option<&str>)> {
        self.rules
            .iter()
            .map(|r| (r.name.as_str(), r.category, r.description.as_deref()))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

pub(crate) fn parse(text: &str, path: &Path) -> Result<RuleSet, RuleError> {
    let invalid = |offset: usize, message: String| RuleError::Invalid {
        path: path.to_path_buf(),
        line: line_of(text, offset),
        message,
    };
    let file: RuleFile = toml::from_str(text).map_err(|err| {
        let offset = err.span().map_or(0, |s| s.start);
        invalid(offset, err.message().to_string())
    })?;
    let mut rules = Vec::with_capacity(file.rules.len());
    for spanned in file.rules {
        let offset = spanned.span().start;
        let spec = spanned.into_inner();
        let category_offset = spec.category.span().start;
        let rule = Rule::from_spec(spec).map_err(|(message, at_category)| {
            invalid(if at_category { category_offset } else { offset }, message)
        })?;
        rules.push(rule);
    }
    Ok(RuleSet { rules })
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests;
