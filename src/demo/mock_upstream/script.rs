//! Scripted answers: a short list of rules that override the default generated text, so a test
//! can steer a real client (e.g. make Claude Code call its sub-agent tool).
//!
//! File format (JSON):
//! ```json
//! {"rules": [
//!   {"when": {"has_tool": "Task", "last_user_text_contains": "delegate"},
//!    "respond": {"tool_use": {"name": "Task", "input": {"description": "d", "prompt": "p"}}}},
//!   {"when": {"header": "x-use-script"}, "respond": {"text": "scripted"}, "delay_ms": 2000}
//! ]}
//! ```
//! Every condition given in `when` must hold (an empty `when` matches everything); the first
//! matching rule wins; with no match the mock generates its default text.

use std::path::Path;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::MockError;

/// Ordered answer rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Script {
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub when: When,
    pub respond: Respond,
    /// Wait this long before answering (the headers too): a slow model, so a test can keep
    /// an agent's turn open while its background work runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

/// Conditions on a request; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The text of the last user message (text parts only, not tool results) contains this.
    pub last_user_text_contains: Option<String>,
    /// The request offers a tool with this name.
    pub has_tool: Option<String>,
    /// The request carries this header (any value).
    pub header: Option<String>,
}

/// What to answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Respond {
    Text(String),
    ToolUse { name: String, input: Value },
}

/// The parts of a request rules can look at, extracted by each provider module.
#[derive(Debug)]
pub(crate) struct RequestView<'a> {
    pub(crate) last_user_text: String,
    pub(crate) tool_names: Vec<String>,
    pub(crate) headers: &'a HeaderMap,
}

impl Script {
    pub fn from_json(text: &str) -> Result<Script, MockError> {
        serde_json::from_str(text).map_err(MockError::Script)
    }

    pub fn load(path: &Path) -> Result<Script, MockError> {
        let text = std::fs::read_to_string(path).map_err(|e| MockError::ScriptFile {
            path: path.display().to_string(),
            source: e,
        })?;
        Script::from_json(&text)
    }

    /// The first rule that matches the request.
    pub(crate) fn answer(&self, view: &RequestView<'_>) -> Option<&Rule> {
        self.rules.iter().find(|r| r.when.matches(view))
    }
}

impl When {
    fn matches(&self, view: &RequestView<'_>) -> bool {
        let text_ok = self
            .last_user_text_contains
            .as_ref()
            .is_none_or(|s| view.last_user_text.contains(s.as_str()));
        let tool_ok = self
            .has_tool
            .as_ref()
            .is_none_or(|t| view.tool_names.iter().any(|n| n == t));
        let header_ok = self
            .header
            .as_ref()
            .is_none_or(|h| view.headers.contains_key(h.as_str()));
        text_ok && tool_ok && header_ok
    }
}

/// Concatenated text of a message's `content` (a string, or parts of type `text` /
/// `input_text`); tool results and images are skipped.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| {
                matches!(
                    p.get("type").and_then(Value::as_str),
                    Some("text" | "input_text")
                )
            })
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Text of the last item whose role is `user`.
pub(crate) fn last_user_text(items: &[Value]) -> String {
    items
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_matching_rule_wins_and_conditions_combine() {
        let script = Script::from_json(
            r#"{"rules":[
              {"when":{"has_tool":"Task","last_user_text_contains":"delegate"},
               "respond":{"tool_use":{"name":"Task","input":{"prompt":"p"}}}},
              {"when":{"header":"x-special"},"respond":{"text":"special"},"delay_ms":5},
              {"respond":{"text":"fallback"}}]}"#,
        );
        let Ok(script) = script else {
            panic!("script parses")
        };
        let mut headers = HeaderMap::new();
        let rule = |text: &str, tools: &[&str], headers: &HeaderMap| -> Option<Rule> {
            let v = RequestView {
                last_user_text: text.into(),
                tool_names: tools.iter().map(|s| s.to_string()).collect(),
                headers,
            };
            script.answer(&v).cloned()
        };
        let view = |text: &str, tools: &[&str], headers: &HeaderMap| {
            rule(text, tools, headers).map(|r| r.respond)
        };
        assert!(matches!(
            view("please delegate", &["Task"], &headers),
            Some(Respond::ToolUse { .. })
        ));
        assert_eq!(
            view("please delegate", &[], &headers),
            Some(Respond::Text("fallback".into()))
        );
        headers.insert("x-special", http::HeaderValue::from_static("1"));
        assert_eq!(
            view("hi", &[], &headers),
            Some(Respond::Text("special".into()))
        );
        // Only the rule that says so waits.
        assert_eq!(rule("hi", &[], &headers).unwrap().delay_ms, Some(5));
        assert_eq!(
            rule("x", &["Task"], &HeaderMap::new()).unwrap().delay_ms,
            None
        );
    }

    #[test]
    fn last_user_text_skips_tool_results() {
        let msgs = json!([
            {"role":"user","content":"first"},
            {"role":"assistant","content":"ok"},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"zzz"},
                                      {"type":"text","text":"second"}]}
        ]);
        let items = msgs.as_array().cloned().unwrap_or_default();
        assert_eq!(last_user_text(&items), "second");
    }
}
