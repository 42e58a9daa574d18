//! The TOML rule-file format, as written by people (see `docs/attribution.md`).

use serde::Deserialize;

/// A whole rule file: `[[rule]]` tables, tried in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default, rename = "rule")]
    pub rules: Vec<toml::Spanned<RuleSpec>>,
}

/// One rule: a name, the category it assigns, and conditions that must all hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    pub category: toml::Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `anthropic`, `openai` or `gemini`.
    #[serde(default)]
    pub provider: Option<String>,
    /// `messages`, `chat_completions`, `responses`, `generate_content` or `other`.
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub path_contains: Option<OneOrMany>,
    /// The request carries this header (any value).
    #[serde(default)]
    pub header: Option<String>,
    /// Header name → text its value must contain.
    #[serde(default)]
    pub header_contains: Option<std::collections::BTreeMap<String, OneOrMany>>,
    /// `*` wildcards: `claude-haiku-*`.
    #[serde(default)]
    pub model: Option<OneOrMany>,
    #[serde(default)]
    pub max_tokens_at_most: Option<u64>,
    #[serde(default)]
    pub has_tools: Option<bool>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub message_count_at_most: Option<u32>,
    /// Text the first system block contains (Claude Code's billing block carries markers
    /// such as `cc_is_subagent=true;` and `cc_workload=…;`).
    #[serde(default)]
    pub system_contains: Option<OneOrMany>,
    /// Text the last user message starts with (leading whitespace and `<system-reminder>`
    /// blocks skipped).
    #[serde(default)]
    pub last_user_starts_with: Option<OneOrMany>,
    /// Text the start of the last user message contains.
    #[serde(default)]
    pub last_user_contains: Option<OneOrMany>,
    /// The last user message is only tool results (a tool-loop continuation).
    #[serde(default)]
    pub last_user_is_tool_result: Option<bool>,
}

/// A string or a list of strings; a list matches when any element does.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}
