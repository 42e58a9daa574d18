//! `agentprof statusline`'s input (the JSON Claude Code gives a `statusLine` command on stdin)
//! and its one line of output.

use serde::Deserialize;

use crate::output::top::format::{bytes, usd};

/// What Claude Code passes that the line needs; its other fields (`model`, `workspace`,
/// `cost`, `context_window`, …) are ignored, and it adds fields from version to version.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusInput {
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
}

/// Where the figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The trace of the `agentprof run` the agent runs under: every call, background ones
    /// included, and the process tree's memory.
    LiveRun,
    /// The session's transcript (no `run` around the agent): what the transcript records.
    Transcript,
}

/// Which calls the cost covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This agent session's.
    Session,
    /// The whole run's: its calls carry no session id.
    Run,
}

/// The figures of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub source: Source,
    pub scope: Scope,
    /// `None`: no call was priced (unknown, not 0).
    pub cost_usd: Option<f64>,
    /// Some calls' models have no price: the cost is a lower bound.
    pub partly_unpriced: bool,
    pub overhead_usd: Option<f64>,
    /// RSS of the agent's process tree now (a live run only).
    pub rss_bytes: Option<u64>,
}

impl Status {
    /// `agentprof · session $0.4210 · overhead 31% ($0.1305) · RSS 612.3 MiB`.
    pub fn line(&self) -> String {
        let scope = match self.scope {
            Scope::Session => "session",
            Scope::Run => "run",
        };
        let cost = match (self.cost_usd, self.partly_unpriced) {
            (None, _) => "?".to_string(),
            (Some(cost), false) => usd(cost),
            (Some(cost), true) => format!("{}+?", usd(cost)),
        };
        let mut line = format!("agentprof · {scope} {cost}");
        match (self.cost_usd, self.overhead_usd) {
            (Some(total), Some(overhead)) if total > 0.0 => line.push_str(&format!(
                " · overhead {:.0}% ({})",
                overhead * 100.0 / total,
                usd(overhead)
            )),
            _ => line.push_str(" · overhead -"),
        }
        match (self.source, self.rss_bytes) {
            (Source::LiveRun, Some(rss)) => line.push_str(&format!(" · RSS {}", bytes(rss))),
            (Source::LiveRun, None) => {}
            (Source::Transcript, _) => line.push_str(" · from transcript"),
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_it_knows_and_marks_what_it_does_not() {
        let status = Status {
            source: Source::LiveRun,
            scope: Scope::Session,
            cost_usd: Some(0.42),
            partly_unpriced: false,
            overhead_usd: Some(0.13),
            rss_bytes: Some(612 << 20),
        };
        assert_eq!(
            status.line(),
            "agentprof · session $0.4200 · overhead 31% ($0.1300) · RSS 612.0 MiB"
        );
        let unknown = Status {
            cost_usd: None,
            overhead_usd: None,
            source: Source::Transcript,
            scope: Scope::Run,
            ..status.clone()
        };
        assert_eq!(
            unknown.line(),
            "agentprof · run ? · overhead - · from transcript"
        );
        let partly = Status {
            partly_unpriced: true,
            rss_bytes: None,
            ..status
        };
        assert_eq!(
            partly.line(),
            "agentprof · session $0.4200+? · overhead 31% ($0.1300)"
        );
    }

    #[test]
    fn input_takes_what_it_needs_and_ignores_the_rest() {
        let input: StatusInput = serde_json::from_str(
            r#"{"session_id":"abc","transcript_path":"/t.jsonl","model":{"id":"m","display_name":"M"},
                "workspace":{"current_dir":"/w"},"cost":{"total_cost_usd":1.5},"new_field":[1]}"#,
        )
        .unwrap();
        assert_eq!(input.session_id.as_deref(), Some("abc"));
        assert_eq!(input.transcript_path.as_deref(), Some("/t.jsonl"));
    }
}
