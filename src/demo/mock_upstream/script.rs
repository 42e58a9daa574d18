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
//!
//! `last_user_text_contains` still holds after the client answers a tool call (the user's
//! message is still the last one with text), so a rule that calls a tool would call it again
//! and again; `"last_item_is_user": true` limits it to requests that end with the user's own
//! message, not a tool's result:
//! ```json
//! {"when": {"last_user_text_contains": "spawn", "last_item_is_user": true},
//!  "respond": {"tool_use": {"name": "spawn_agent", "input": {"message": "m"}}}}
//! ```

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
    /// Whether the request's last item is a user message and not a tool's result (Anthropic's
    /// `tool_result` blocks, the Responses API's `function_call_output` items, Chat's `tool`
    /// messages are not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_item_is_user: Option<bool>,
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
    /// The last item is a user message, not a tool's result (`ends_with_user_message`).
    pub(crate) last_item_is_user: bool,
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
        let last_ok = self
            .last_item_is_user
            .is_none_or(|wanted| wanted == view.last_item_is_user);
        text_ok && tool_ok && header_ok && last_ok
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

/// Whether the last of `items` is a user message that is not a tool's result: role `user`
/// (a Responses `function_call_output` has none) without a `tool_result` block.
pub(crate) fn ends_with_user_message(items: &[Value]) -> bool {
    let Some(last) = items.last() else {
        return false;
    };
    let tool_result = last
        .get("content")
        .and_then(Value::as_array)
        .is_some_and(|parts| {
            parts
                .iter()
                .any(|p| p.get("type").and_then(Value::as_str) == Some("tool_result"))
        });
    last.get("role").and_then(Value::as_str) == Some("user") && !tool_result
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
                last_item_is_user: true,
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

    /// A rule that calls a tool for the user's message does not call it again for the
    /// tool's result, in any of the three wire formats, though the user's text is the same.
    #[test]
    fn last_item_is_user_tells_the_users_message_from_a_tools_result() {
        let Ok(script) = Script::from_json(
            r#"{"rules":[
              {"when":{"last_user_text_contains":"spawn","last_item_is_user":true},
               "respond":{"tool_use":{"name":"spawn_agent","input":{"message":"m"}}}},
              {"when":{"last_user_text_contains":"spawn"},"respond":{"text":"done"}}]}"#,
        ) else {
            panic!("script parses")
        };
        let headers = HeaderMap::new();
        let respond = |items: Value| {
            let items = items.as_array().cloned().unwrap_or_default();
            let view = RequestView {
                last_user_text: last_user_text(&items),
                last_item_is_user: ends_with_user_message(&items),
                tool_names: Vec::new(),
                headers: &headers,
            };
            script.answer(&view).map(|r| r.respond.clone())
        };
        let spawn = Some(Respond::ToolUse {
            name: "spawn_agent".into(),
            input: json!({"message": "m"}),
        });
        let done = Some(Respond::Text("done".into()));
        let user = json!({"type":"message","role":"user",
                          "content":[{"type":"input_text","text":"please spawn"}]});
        // Responses: the user's message, then the call and its output.
        assert_eq!(respond(json!([user.clone()])), spawn);
        let call =
            json!({"type":"function_call","call_id":"c","name":"spawn_agent","arguments":"{}"});
        let output = json!({"type":"function_call_output","call_id":"c","output":"{}"});
        assert_eq!(respond(json!([user, call, output])), done);
        // Anthropic: a user message with a tool_result block (and text beside it, as Claude
        // Code sends reminders) is a tool's result.
        let tool_result = json!({"role":"user","content":[
            {"type":"tool_result","tool_use_id":"t","content":"ok"},
            {"type":"text","text":"still about the spawn"}]});
        assert_eq!(
            respond(
                json!([{"role":"user","content":"spawn"}, {"role":"assistant","content":"x"},
                           tool_result])
            ),
            done
        );
        // Chat Completions: a `tool` message.
        assert_eq!(
            respond(json!([{"role":"user","content":"spawn"},
                           {"role":"tool","tool_call_id":"t","content":"ok"}])),
            done
        );
        assert_eq!(respond(json!([{"role":"user","content":"spawn"}])), spawn);
        // Nothing at all is not a user message.
        assert!(!ends_with_user_message(&[]));
    }
}
