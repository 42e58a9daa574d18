//! The `import` object of the report: what was read, what was merged, what was damaged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What an import read and how it counted it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// `claude-code`.
    pub agent: String,
    /// The `projects` directory read.
    pub dir: String,
    pub files: FileCounts,
    pub bytes: u64,
    pub lines: u64,
    /// Lines the prefilter let through to the JSON skimmer.
    pub lines_parsed: u64,
    /// Billed responses counted (after deduplication and `--since`).
    pub calls: u64,
    /// Calls by the Claude Code version that wrote them.
    pub claude_code_versions: BTreeMap<String, u64>,
    /// Calls written by versions before 2.1.97, whose input counts are under-stated.
    pub calls_before_2_1_97: u64,
    pub duplicates: Duplicates,
    /// `<synthetic>` entries (written by Claude Code itself, not API calls): not counted.
    pub synthetic_entries: u64,
    /// Calls that named an api-request record (`requestRef`) their file does not hold: their
    /// category fell back to `isSidechain`.
    pub unmatched_request_refs: u64,
    /// Calls whose line had no message id: counted one by one, never deduplicated.
    pub calls_without_message_id: u64,
    /// `--since`, and how many calls it left out.
    pub since: Option<String>,
    pub calls_before_since: u64,
    /// `--until`, and how many calls it left out.
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub calls_after_until: u64,
    /// Damaged input by kind (`torn_last_line`, `not_json`, …).
    pub damaged: BTreeMap<String, u64>,
    /// The first damaged places, `file:line: what`.
    pub damage_examples: Vec<String>,
    /// What the import cache spared (Claude Code, when it was used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheReport>,
}

/// How the import cache served the files found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheReport {
    /// Unchanged since cached: not read (but for a cut-off last line, read again until it is
    /// finished).
    pub files_reused: u64,
    /// Appended to: read only from where the cache stopped.
    pub files_grown: u64,
    /// Read whole: new, changed otherwise, or no usable cache.
    pub files_read: u64,
    /// Cached but no longer found.
    pub files_dropped: u64,
}

/// The note naming the agent versions an import saw: `Codex versions seen: 0.171.0 (3 calls)`.
pub fn versions_seen(agent: &str, versions: &BTreeMap<String, u64>) -> String {
    let described: Vec<String> = versions
        .iter()
        .map(|(v, n)| format!("{v} ({n} calls)"))
        .collect();
    let listed = if described.is_empty() {
        "none".to_string()
    } else {
        described.join(", ")
    };
    format!("{agent} versions seen: {listed}")
}

impl ImportReport {
    /// Damaged lines skipped (unreadable whole files are counted apart, and inconsistent
    /// records were used).
    pub fn skipped_lines(&self) -> u64 {
        self.damaged
            .iter()
            .filter(|(kind, _)| !matches!(kind.as_str(), "unreadable_file" | "total_mismatch"))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Transcript files by role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub sessions: u64,
    pub subagents: u64,
    pub other: u64,
    pub unreadable: u64,
}

/// Lines and copies that did not add a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicates {
    /// Further lines of a response in the same file (one per content block).
    pub repeated_lines: u64,
    /// Of those, lines with a larger usage than the earlier line (placeholder, then final).
    pub placeholders_replaced: u64,
    /// The same response in another file under the same request id.
    pub copies: u64,
    /// The same message id under another request id: a parent's message replayed by a side
    /// question or sub-agent. Counted once here; ccusage counts each replay again.
    pub replays: u64,
}

/// Whether a Claude Code version string is older than 2.1.97 (`None`: not a version).
pub fn before_2_1_97(version: &str) -> Option<bool> {
    let mut parts = version
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse::<u64>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
    Some((major, minor, patch) < (2, 1, 97))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_the_input_fix_are_recognised() {
        assert_eq!(before_2_1_97("2.1.96"), Some(true));
        assert_eq!(before_2_1_97("1.0.128"), Some(true));
        assert_eq!(before_2_1_97("2.1.97"), Some(false));
        assert_eq!(before_2_1_97("2.1.197"), Some(false));
        assert_eq!(before_2_1_97("3.0.0-beta.1"), Some(false));
        assert_eq!(before_2_1_97("unknown"), None);
    }
}
