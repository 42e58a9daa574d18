//! A rollout's category, from what its `session_meta` records of the thread that wrote it.
//!
//! The same mapping as the live rules for Codex (src/attribute/rules/builtin.toml, which read
//! the `x-openai-subagent` header Codex derives from this very source): a main thread (`cli`,
//! `exec`, `vscode`, `mcp` …) is the user's turn; review and spawned agents are sub-agents;
//! `compact` is compaction; memory consolidation is dream; `guardian` is utility.

use super::scan::Meta;
use crate::observation::Category;

/// How a rollout's calls are labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub category: Category,
    /// `transcript:codex:<source>`, or `transcript:agent:<type>` for sub-agents (the report
    /// reads the sub-agent type from it).
    pub decider: String,
    /// The session the calls belong to: the main thread's id (a sub-agent's parent thread).
    pub session: String,
    /// A sub-agent's own thread id.
    pub agent: Option<String>,
}

/// Labels a file; `None` meta (no `session_meta` line) gives an unknown category and no id.
pub fn label(meta: Option<&Meta>) -> Label {
    let Some(meta) = meta else {
        return Label {
            category: Category::Unknown,
            decider: "transcript:codex:no-session-meta".into(),
            session: String::new(),
            agent: None,
        };
    };
    let source = &meta.source;
    if !source.sub {
        return Label {
            category: Category::UserTurn,
            decider: format!("transcript:codex:{}", source.kind),
            session: meta.id.clone(),
            agent: None,
        };
    }
    let subagent = |kind: &str| (Category::Subagent, format!("transcript:agent:{kind}"));
    let (category, decider) = match (source.kind.as_str(), source.label.as_deref()) {
        ("compact", _) => (Category::Compaction, "transcript:codex:compact".to_string()),
        ("memory_consolidation", _) => (
            Category::Dream,
            "transcript:codex:memory_consolidation".to_string(),
        ),
        ("other", Some("guardian")) => (Category::Utility, "transcript:codex:guardian".to_string()),
        ("other", Some(label)) => subagent(label),
        ("thread_spawn", Some(role)) => subagent(&format!("thread_spawn:{role}")),
        (kind, _) => subagent(kind),
    };
    // A spawned agent's calls belong to its parent's session; other internal threads name
    // their parent only as the thread they forked from.
    let session = source
        .parent
        .clone()
        .or_else(|| meta.forked_from_id.clone())
        .unwrap_or_else(|| meta.id.clone());
    Label {
        category,
        decider,
        session,
        agent: Some(meta.id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::codex::history::line::source_kind;

    fn meta(source: &str) -> Meta {
        Meta {
            id: "child".into(),
            forked_from_id: Some("parent".into()),
            source: source_kind(Some(&serde_json::from_str(source).unwrap())),
            cli_version: None,
            cwd: None,
        }
    }

    #[test]
    fn sources_map_like_the_live_rules() {
        let of = |s: &str| label(Some(&meta(s))).category;
        assert_eq!(of(r#""exec""#), Category::UserTurn);
        assert_eq!(of(r#"{"subagent":"review"}"#), Category::Subagent);
        assert_eq!(of(r#"{"subagent":"compact"}"#), Category::Compaction);
        assert_eq!(
            of(r#"{"subagent":"memory_consolidation"}"#),
            Category::Dream
        );
        assert_eq!(
            of(r#"{"subagent":{"other":"guardian"}}"#),
            Category::Utility
        );
        let spawn = label(Some(&meta(
            r#"{"subagent":{"thread_spawn":{"parent_thread_id":"root","depth":1,"agent_role":"worker"}}}"#,
        )));
        assert_eq!(spawn.category, Category::Subagent);
        assert_eq!(spawn.session, "root");
        assert_eq!(spawn.agent.as_deref(), Some("child"));
        assert_eq!(spawn.decider, "transcript:agent:thread_spawn:worker");
        let main = label(Some(&meta(r#""cli""#)));
        assert_eq!((main.session.as_str(), main.agent), ("child", None));
    }
}
