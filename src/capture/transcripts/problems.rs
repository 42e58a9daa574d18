//! Bad input, counted by kind with the first few places named — never a crash, never a silent
//! drop.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Kinds of damage an import meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    /// A file or directory that could not be listed, opened or read.
    UnreadableFile,
    /// The last line of a file, cut off without its newline.
    TornLastLine,
    /// A line that is not a JSON object (torn in the middle, or not a transcript line).
    NotJson,
    /// A line that looked like a record but did not parse.
    Unparsable,
    /// A record an import needs a field of (usage counts, timestamp) that lacks it.
    MissingFields,
    /// A line too long to read whole.
    TooLong,
    /// A record whose token total is not the sum of its parts: reported, and used as written.
    TotalMismatch,
}

impl Damage {
    /// Every kind, in a fixed order (the import cache stores a kind as its place here).
    pub const ALL: [Damage; 7] = [
        Damage::UnreadableFile,
        Damage::TornLastLine,
        Damage::NotJson,
        Damage::Unparsable,
        Damage::MissingFields,
        Damage::TooLong,
        Damage::TotalMismatch,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Damage::UnreadableFile => "unreadable files",
            Damage::TornLastLine => "torn last lines",
            Damage::NotJson => "lines that are not JSON objects",
            Damage::Unparsable => "lines that do not parse",
            Damage::MissingFields => "records missing a needed field",
            Damage::TooLong => "lines too long to read",
            Damage::TotalMismatch => "token counts whose total is not the sum of their parts",
        }
    }

    /// What became of the damaged input: `skipped`, or `used as written` for a record that
    /// is only inconsistent.
    pub fn fate(self) -> &'static str {
        match self {
            Damage::TotalMismatch => "used as written",
            _ => "skipped",
        }
    }

    /// The kind's name in the report's `damaged` object (`not_json`).
    pub fn key(self) -> &'static str {
        match self {
            Damage::UnreadableFile => "unreadable_file",
            Damage::TornLastLine => "torn_last_line",
            Damage::NotJson => "not_json",
            Damage::Unparsable => "unparsable",
            Damage::MissingFields => "missing_fields",
            Damage::TooLong => "too_long",
            Damage::TotalMismatch => "total_mismatch",
        }
    }
}

/// How many examples each worker keeps, and how many the report shows.
pub const EXAMPLES: usize = 8;

/// One place where damage was found. `line` is 0 for whole-file problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub file: u32,
    pub line: u64,
    pub damage: Damage,
    pub detail: String,
}

/// Damage counts and the first examples.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    pub counts: BTreeMap<Damage, u64>,
    pub examples: Vec<Example>,
}

impl Problems {
    pub fn add(&mut self, file: u32, line: u64, damage: Damage, detail: impl FnOnce() -> String) {
        *self.counts.entry(damage).or_default() += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(Example {
                file,
                line,
                damage,
                detail: detail(),
            });
        }
    }

    /// Adds another set; `line_offset` turns its range-relative line numbers into file ones.
    pub fn merge(&mut self, other: Problems, line_offset: u64) {
        for (damage, count) in other.counts {
            *self.counts.entry(damage).or_default() += count;
        }
        for mut example in other.examples {
            if example.line > 0 {
                example.line += line_offset;
            }
            self.examples.push(example);
        }
    }

    /// Keeps the first examples in file and line order.
    pub fn settle(&mut self) {
        self.examples.sort_by_key(|e| (e.file, e.line));
        self.examples.truncate(EXAMPLES);
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_everything_and_keeps_the_first_examples_in_order() {
        let mut a = Problems::default();
        for line in 0..20 {
            a.add(1, line + 1, Damage::NotJson, || format!("x{line}"));
        }
        let mut b = Problems::default();
        b.add(0, 3, Damage::TornLastLine, String::new);
        b.add(0, 0, Damage::UnreadableFile, String::new);
        a.merge(b, 100);
        a.settle();
        assert_eq!(a.total(), 22);
        assert_eq!(a.counts[&Damage::NotJson], 20);
        assert_eq!(a.examples.len(), EXAMPLES);
        assert_eq!((a.examples[0].file, a.examples[0].line), (0, 0));
        assert_eq!((a.examples[1].file, a.examples[1].line), (0, 103));
    }

    #[test]
    fn keys_are_the_serialized_names() {
        for damage in Damage::ALL {
            assert_eq!(serde_json::to_value(damage).unwrap(), damage.key());
        }
    }
}
