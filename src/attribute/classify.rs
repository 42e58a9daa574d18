//! Classification: which category each call belongs to, and what decided it.
//!
//! This is the wire-marker core the rule engine builds on: a call carrying Claude Code's
//! sub-agent markers (the `x-claude-code-agent-id` header, or `cc_is_subagent=true` in the
//! billing block that opens the system prompt) is sub-agent work; any other call is charged to
//! the user's turn.

use crate::capture::request::RequestSummary;
use crate::observation::Category;

/// What the classifier looks at for one call (no prompt text is kept beyond this).
#[derive(Debug, Clone, Copy, Default)]
pub struct CallFacts<'a> {
    pub agent_id: Option<&'a str>,
    pub request: Option<&'a RequestSummary>,
}

/// The category and a short name of what decided it (stored in the trace as `classified_by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub category: Category,
    pub decided_by: String,
}

/// Classifies one call from its wire facts.
pub fn classify(facts: &CallFacts<'_>) -> Verdict {
    if facts.agent_id.is_some() {
        return Verdict {
            category: Category::Subagent,
            decided_by: "header:x-claude-code-agent-id".into(),
        };
    }
    let billing_marks_subagent = facts
        .request
        .and_then(|r| r.system_prefix.as_deref())
        .is_some_and(|s| s.contains("cc_is_subagent=true"));
    if billing_marks_subagent {
        return Verdict {
            category: Category::Subagent,
            decided_by: "system:cc_is_subagent".into(),
        };
    }
    Verdict {
        category: Category::UserTurn,
        decided_by: "default".into(),
    }
}
