//! Compiled rules and how a call's facts are matched against them.

use super::format::RuleSpec;
use crate::capture::request::RequestSummary;
use crate::observation::{ApiKind, Category, Provider};

/// What classification may look at for one call. Prompt text is only the short prefixes the
/// request inspection kept, and it is never stored.
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    pub provider: Provider,
    pub api: ApiKind,
    /// Path and query as upstream saw them.
    pub path: &'a str,
    /// Request headers (lower-case names), secrets excluded.
    pub headers: &'a [(String, String)],
    /// The inspected request body, when it could be read.
    pub request: Option<&'a RequestSummary>,
}

impl CallFacts<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A rule ready to match.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub category: Category,
    /// What the rule is for, as its author wrote it.
    pub description: Option<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
enum Condition {
    Provider(Provider),
    Api(ApiKind),
    PathContains(Vec<String>),
    Header(String),
    HeaderContains(String, Vec<String>),
    Model(Vec<String>),
    MaxTokensAtMost(u64),
    HasTools(bool),
    Stream(bool),
    MessageCountAtMost(u32),
    SystemContains(Vec<String>),
    LastUserStartsWith(Vec<String>),
    LastUserContains(Vec<String>),
    LastUserIsToolResult(bool),
}

impl Rule {
    /// Validates a rule as written. Errors say what is wrong and whether it is the category.
    pub fn from_spec(spec: RuleSpec) -> Result<Rule, (String, bool)> {
        let category_name = spec.category.into_inner();
        let category = Category::parse(&category_name).ok_or_else(|| {
            let valid: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            (
                format!(
                    "rule {:?}: unknown category {category_name:?} (valid: {})",
                    spec.name,
                    valid.join(", ")
                ),
                true,
            )
        })?;
        let mut conditions = Vec::new();
        if let Some(provider) = spec.provider {
            conditions.push(Condition::Provider(match provider.as_str() {
                "anthropic" => Provider::Anthropic,
                "openai" => Provider::OpenAi,
                "gemini" => Provider::Gemini,
                other => {
                    return Err((
                        format!(
                            "rule {:?}: unknown provider {other:?} (anthropic, openai or gemini)",
                            spec.name
                        ),
                        false,
                    ));
                }
            }));
        }
        if let Some(api) = spec.api {
            conditions.push(Condition::Api(match api.as_str() {
                "messages" => ApiKind::Messages,
                "chat_completions" => ApiKind::ChatCompletions,
                "responses" => ApiKind::Responses,
                "generate_content" => ApiKind::GenerateContent,
                "other" => ApiKind::Other,
                other => {
                    return Err((
                        format!(
                            "rule {:?}: unknown api {other:?} (messages, chat_completions, responses, generate_content or other)",
                            spec.name
                        ),
                        false,
                    ));
                }
            }));
        }
        if let Some(text) = spec.path_contains {
            conditions.push(Condition::PathContains(text.into_vec()));
        }
        if let Some(name) = spec.header {
            conditions.push(Condition::Header(name.to_ascii_lowercase()));
        }
        for (name, text) in spec.header_contains.unwrap_or_default() {
            conditions.push(Condition::HeaderContains(
                name.to_ascii_lowercase(),
                text.into_vec(),
            ));
        }
        if let Some(models) = spec.model {
            conditions.push(Condition::Model(models.into_vec()));
        }
        if let Some(limit) = spec.max_tokens_at_most {
            conditions.push(Condition::MaxTokensAtMost(limit));
        }
        if let Some(has) = spec.has_tools {
            conditions.push(Condition::HasTools(has));
        }
        if let Some(stream) = spec.stream {
            conditions.push(Condition::Stream(stream));
        }
        if let Some(limit) = spec.message_count_at_most {
            conditions.push(Condition::MessageCountAtMost(limit));
        }
        if let Some(text) = spec.system_contains {
            conditions.push(Condition::SystemContains(text.into_vec()));
        }
        if let Some(text) = spec.last_user_starts_with {
            conditions.push(Condition::LastUserStartsWith(text.into_vec()));
        }
        if let Some(text) = spec.last_user_contains {
            conditions.push(Condition::LastUserContains(text.into_vec()));
        }
        if let Some(only) = spec.last_user_is_tool_result {
            conditions.push(Condition::LastUserIsToolResult(only));
        }
        Ok(Rule {
            name: spec.name,
            category,
            description: spec.description,
            conditions,
        })
    }

    /// All conditions hold. A condition on the request body fails when the body was not read.
    ///
    /// Conditions on the last user message's text hold for its first real text block or for
    /// its last one — all of them for the same block: agents put what a message is about either
    /// first or after the context they prepend (Claude Code 2.1.197's compaction request
    /// repeats the previous prompt before its instruction).
    pub fn matches(&self, facts: &CallFacts<'_>) -> bool {
        let first = facts.request.and_then(|r| r.last_user_prefix.as_deref());
        let last = facts
            .request
            .and_then(|r| r.last_user_final_prefix.as_deref());
        let holds_for = |text: Option<&str>| self.conditions.iter().all(|c| c.holds(facts, text));
        holds_for(first) || (last.is_some() && holds_for(last))
    }
}

impl Condition {
    /// Whether the condition holds, `last_user` standing for the last user message's text.
    fn holds(&self, facts: &CallFacts<'_>, last_user: Option<&str>) -> bool {
        let request = facts.request;
        match self {
            Condition::Provider(p) => facts.provider == *p,
            Condition::Api(a) => facts.api == *a,
            Condition::PathContains(any) => any.iter().any(|t| facts.path.contains(t.as_str())),
            Condition::Header(name) => facts.header(name).is_some(),
            Condition::HeaderContains(name, any) => facts
                .header(name)
                .is_some_and(|v| any.iter().any(|t| v.contains(t.as_str()))),
            Condition::Model(globs) => request
                .and_then(|r| r.model.as_deref())
                .is_some_and(|m| globs.iter().any(|g| glob_match(g, m))),
            Condition::MaxTokensAtMost(limit) => request
                .and_then(|r| r.max_tokens)
                .is_some_and(|m| m <= *limit),
            Condition::HasTools(has) => request.is_some_and(|r| r.has_tools == *has),
            Condition::Stream(stream) => request.is_some_and(|r| r.stream == *stream),
            Condition::MessageCountAtMost(limit) => {
                request.is_some_and(|r| r.message_count <= *limit)
            }
            Condition::SystemContains(any) => request
                .and_then(|r| r.system_prefix.as_deref())
                .is_some_and(|s| any.iter().any(|t| s.contains(t.as_str()))),
            Condition::LastUserStartsWith(any) => last_user
                .map(user_text)
                .is_some_and(|s| any.iter().any(|t| s.starts_with(t.as_str()))),
            Condition::LastUserContains(any) => {
                last_user.is_some_and(|s| any.iter().any(|t| s.contains(t.as_str())))
            }
            Condition::LastUserIsToolResult(only) => {
                request.is_some_and(|r| r.last_user_is_tool_result == *only)
            }
        }
    }
}

/// The user text with leading whitespace and `<system-reminder>…</system-reminder>` blocks
/// removed: Claude Code puts reminders before what the message is really about.
pub fn user_text(text: &str) -> &str {
    const OPEN: &str = "<system-reminder>";
    const CLOSE: &str = "</system-reminder>";
    let mut rest = text.trim_start();
    while let Some(after_open) = rest.strip_prefix(OPEN) {
        match after_open.find(CLOSE) {
            Some(end) => rest = after_open[end + CLOSE.len()..].trim_start(),
            None => return "",
        }
    }
    rest
}

/// `*` matches any run of characters; everything else literally.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("claude-haiku-*", "claude-haiku-4-5"));
        assert!(glob_match("*haiku*", "claude-3-5-haiku-2024"));
        assert!(!glob_match("claude-haiku-*", "claude-sonnet-4"));
        assert!(glob_match("gpt-4.1", "gpt-4.1"));
        assert!(!glob_match("a*b*c", "ac"));
    }

    #[test]
    fn reminders_are_skipped() {
        assert_eq!(
            user_text("  <system-reminder>x</system-reminder>\n Hello"),
            "Hello"
        );
        assert_eq!(user_text("<system-reminder>cut off"), "");
        assert_eq!(user_text("Plain"), "Plain");
    }
}
