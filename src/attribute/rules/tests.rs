//! Tests of the rule engine, the built-in rules and rule-file errors.

use super::*;
use crate::capture::request::RequestSummary;
use crate::observation::{ApiKind, Provider};

fn summary(system: &str, last_user: &str, tools: bool, messages: u32) -> RequestSummary {
    RequestSummary {
        api: ApiKind::Messages,
        model: Some("claude-sonnet-4-6".into()),
        stream: true,
        max_tokens: Some(32000),
        has_tools: tools,
        message_count: messages,
        system_prefix: Some(system.into()),
        last_user_prefix: Some(last_user.into()),
        last_user_final_prefix: None,
        last_user_is_tool_result: false,
        metadata_user_id: None,
        include_usage: None,
        stream_options: Default::default(),
    }
}

fn cc_headers() -> Vec<(String, String)> {
    vec![(
        "user-agent".into(),
        "claude-cli/2.1.197 (external, cli)".into(),
    )]
}

fn classify(
    rules: &RuleSet,
    headers: &[(String, String)],
    request: Option<&RequestSummary>,
) -> Verdict {
    rules.classify(&CallFacts {
        provider: Provider::Anthropic,
        api: ApiKind::Messages,
        path: "/v1/messages?beta=true",
        headers,
        request,
    })
}

const BILLING: &str = "x-anthropic-billing-header: cc_version=2.1.197.041; cc_entrypoint=cli;";

#[test]
fn builtin_rules_parse_and_say_what_they_are_for() {
    let rules = RuleSet::builtin();
    assert!(rules.len() >= 10);
    for (name, _, description) in rules.describe() {
        assert!(
            description.is_some_and(|d| d.len() > 20),
            "{name} has no description"
        );
    }
}

#[test]
fn claude_code_markers() {
    let rules = RuleSet::builtin();
    let h = cc_headers();
    let cases = [
        (
            summary(BILLING, "Fix the bug in main.rs", true, 5),
            Category::UserTurn,
            "rule:cc-main-loop",
        ),
        (
            summary(
                &format!("{BILLING} cc_is_subagent=true;"),
                "Find the config",
                true,
                1,
            ),
            Category::Subagent,
            "rule:cc-subagent-billing-marker",
        ),
        (
            summary(
                BILLING,
                "<system-reminder>x</system-reminder>You are now acting as the memory extraction subagent.",
                true,
                9,
            ),
            Category::MemoryExtraction,
            "rule:cc-memory-extraction",
        ),
        (
            summary(
                BILLING,
                "Your task is to create a detailed summary of the conversation so far",
                true,
                30,
            ),
            Category::Compaction,
            "rule:cc-compaction",
        ),
        (
            summary(
                BILLING,
                "You are performing a dream — a reflective pass",
                true,
                3,
            ),
            Category::Dream,
            "rule:cc-dream",
        ),
        (
            summary(BILLING, "The user stepped away. Write", true, 12),
            Category::AwaySummary,
            "rule:cc-away-summary",
        ),
        (
            summary(BILLING, "Generate a concise title", false, 1),
            Category::Utility,
            "rule:cc-helper-no-tools",
        ),
        // Fork markers count only at the start: a user asking about them is a user turn.
        (
            summary(
                BILLING,
                "Implement memory consolidation in our cache, then create a detailed summary of the conversation",
                true,
                7,
            ),
            Category::UserTurn,
            "rule:cc-main-loop",
        ),
    ];
    for (request, category, rule) in cases {
        let verdict = classify(&rules, &h, Some(&request));
        assert_eq!(
            (verdict.category, verdict.decided_by.as_str()),
            (category, rule),
            "{request:?}"
        );
    }
    let mut with_agent = h.clone();
    with_agent.push(("x-claude-code-agent-id".into(), "a0123456789abcdef".into()));
    let verdict = classify(&rules, &with_agent, Some(&summary(BILLING, "Fix", true, 2)));
    assert_eq!(verdict.category, Category::Subagent);
}

/// A Claude Code main-prefix request (tools, history) whose last user message is `content`.
fn fork(content: &str) -> RequestSummary {
    let body = format!(
        r#"{{"model":"claude-opus-5-5","system":[{{"type":"text","text":"{BILLING}"}}],"tools":[{{"name":"Read"}}],"messages":[{{"role":"user","content":"What is two plus two?"}},{{"role":"assistant","content":"4"}},{{"role":"user","content":{content}}}]}}"#
    );
    RequestSummary::inspect(ApiKind::Messages, &[bytes::Bytes::from(body)]).unwrap()
}

const TEXT_ONLY: &str = "CRITICAL: Respond with TEXT ONLY. Do NOT call any tools.\\n\\n- Do NOT use Read, Bash, Grep, Glob, Edit, Write, or ANY other tool.\\n- You already have all the context you need in the conversation above.\\n- Tool calls will be REJECTED and will waste your only turn — you will fail the task.\\n- Your entire response must be plain text: an <analysis> block followed by a <summary> block.\\n\\nYour task is to create a detailed summary of the conversation so far, paying close attention to the user's explicit requests.";

#[test]
fn claude_codes_compaction_and_suggestions_as_sent_by_2_1_197_and_2_1_332() {
    let rules = RuleSet::builtin();
    let h = cc_headers();
    let cases = [
        // 2.1.332: the request alone, as a string.
        (format!(r#""{TEXT_ONLY}""#), Category::Compaction),
        // 2.1.197: the previous prompt repeated in a first block, the request after it.
        (
            format!(
                r#"[{{"type":"text","text":"Now four plus four?\n"}},{{"type":"text","text":"{TEXT_ONLY}"}}]"#
            ),
            Category::Compaction,
        ),
        (
            r#""[SUGGESTION MODE: Suggest what the user might naturally type next into Claude Code.]""#
                .to_string(),
            Category::Utility,
        ),
        // A user who asks for text only, about something else, is still the main loop.
        (
            r#""CRITICAL: Respond with TEXT ONLY. List the files.""#.to_string(),
            Category::UserTurn,
        ),
        // Summary wording in the first block and the text-only ban in another: the conditions
        // of one rule must hold for the same block.
        (
            r#"[{"type":"text","text":"make a detailed summary of the conversation"},{"type":"text","text":"CRITICAL: Respond with TEXT ONLY."}]"#
                .to_string(),
            Category::UserTurn,
        ),
    ];
    for (content, category) in cases {
        let request = fork(&content);
        assert_eq!(
            classify(&rules, &h, Some(&request)).category,
            category,
            "{content}"
        );
    }
}

#[test]
fn generic_clients_and_unreadable_bodies() {
    let rules = RuleSet::builtin();
    let request = summary("You are helpful", "Hi", false, 1);
    assert_eq!(
        classify(&rules, &[], Some(&request)).category,
        Category::UserTurn
    );
    assert_eq!(classify(&rules, &[], None).category, Category::Unknown);
    let other = rules.classify(&CallFacts {
        provider: Provider::Anthropic,
        api: ApiKind::Other,
        path: "/v1/messages/count_tokens",
        headers: &[],
        request: None,
    });
    // No built-in rule claims requests that are not model calls: they are never classified
    // (`run` records them as `not-a-model-call`; reports count them apart).
    assert_eq!(
        (other.category, other.decided_by.as_str()),
        (Category::Unknown, "no-rule")
    );
}

#[test]
fn user_rules_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[[rule]]\nname = \"haiku-is-utility\"\ncategory = \"utility\"\nmodel = \"claude-haiku-*\"\n",
    )
    .unwrap();
    let rules = RuleSet::with_user_file(&path).unwrap();
    let mut request = summary(BILLING, "Fix", true, 3);
    request.model = Some("claude-haiku-4-5".into());
    let verdict = classify(&rules, &cc_headers(), Some(&request));
    assert_eq!(verdict.decided_by, "rule:haiku-is-utility");
}

#[test]
fn errors_name_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let cases = [
        (
            "[[rule]]\nname = \"x\"\ncategory = \"overhead\"\n",
            3,
            "unknown category \"overhead\"",
        ),
        (
            "[[rule]]\nname = \"x\"\ncategory = \"utility\"\nmodle = \"a\"\n",
            4,
            "unknown field `modle`",
        ),
        ("[[rule]]\nname = \"x\"\n\ncategory = utility\n", 4, ""),
        (
            "\n\n[[rule]]\ncategory = \"utility\"\n",
            3,
            "missing field `name`",
        ),
        (
            "[[rule]]\nname = \"x\"\ncategory = \"utility\"\nprovider = \"google\"\n",
            1,
            "unknown provider",
        ),
    ];
    for (text, line, needle) in cases {
        std::fs::write(&path, text).unwrap();
        let err = RuleSet::with_user_file(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:{line}: ", path.display())),
            "{text:?} → {err}"
        );
        assert!(err.contains(needle), "{text:?} → {err}");
    }
    let missing = RuleSet::with_user_file(&dir.path().join("none.toml")).unwrap_err();
    assert!(missing.to_string().contains("none.toml"));
}

/// Path, extra headers, request, expected category, expected rule.
type CodexCase<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    RequestSummary,
    Category,
    &'a str,
);

#[test]
fn codex_markers() {
    let rules = RuleSet::builtin();
    let responses = |instructions: &str, last_user: &str| RequestSummary {
        api: ApiKind::Responses,
        model: Some("gpt-6.2-sol".into()),
        system_prefix: Some(instructions.into()),
        last_user_prefix: Some(last_user.into()),
        ..summary("", "", true, 3)
    };
    let classify_codex = |path: &str, extra: &[(&str, &str)], request: &RequestSummary| {
        let mut headers = vec![
            ("originator".to_string(), "codex_exec".to_string()),
            (
                "user-agent".to_string(),
                "codex_exec/0.171.0 (Debian 12; x86_64)".to_string(),
            ),
        ];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        rules.classify(&CallFacts {
            provider: Provider::OpenAi,
            api: ApiKind::Responses,
            path,
            headers: &headers,
            request: Some(request),
        })
    };
    let main = responses("You are Codex, a coding agent", "fix the failing test");
    let cases: [CodexCase; 15] = [
        (
            "/v1/responses",
            &[
                ("x-agentprof-codex-request-kind", "turn"),
                ("x-agentprof-codex-thread-source", "thread_title"),
                ("x-agentprof-codex-side-thread", "thread_title"),
            ],
            responses("", "Generate a concise, single-line task title"),
            Category::Utility,
            "codex-thread-title",
        ),
        (
            "/v1/responses",
            &[
                ("x-agentprof-codex-request-kind", "turn"),
                ("x-agentprof-codex-side-thread", "some_new_feature"),
            ],
            main.clone(),
            Category::Utility,
            "codex-side-thread",
        ),
        (
            "/v1/responses",
            &[("x-agentprof-codex-request-kind", "memory")],
            main.clone(),
            Category::MemoryExtraction,
            "codex-memory-extraction",
        ),
        (
            "/v1/responses",
            &[("x-agentprof-codex-request-kind", "compaction")],
            main.clone(),
            Category::Compaction,
            "codex-compaction-request-kind",
        ),
        (
            "/v1/responses",
            &[("x-agentprof-codex-request-kind", "prewarm")],
            main.clone(),
            Category::Utility,
            "codex-prewarm",
        ),
        (
            "/v1/responses",
            &[],
            main.clone(),
            Category::UserTurn,
            "codex-main-loop",
        ),
        (
            "/v1/responses",
            &[
                ("x-openai-subagent", "memory_consolidation"),
                ("x-openai-memgen-request", "true"),
            ],
            main.clone(),
            Category::Dream,
            "codex-memory-consolidation",
        ),
        (
            "/v1/responses",
            &[],
            responses("## Memory Writing Agent: Phase 2 (Consolidation)", "go"),
            Category::Dream,
            "codex-memory-consolidation-prompt",
        ),
        (
            "/v1/responses",
            &[],
            responses("## Memory Phase 1 (Single Rollout, One-Shot)", "rollout"),
            Category::MemoryExtraction,
            "codex-memory-extraction-prompt",
        ),
        (
            "/v1/responses",
            &[("x-openai-subagent", "compact")],
            main.clone(),
            Category::Compaction,
            "codex-compaction",
        ),
        (
            "/v1/responses/compact",
            &[],
            main.clone(),
            Category::Compaction,
            "codex-compaction-endpoint",
        ),
        (
            "/v1/responses",
            &[],
            responses(
                "You are Codex",
                "You are performing a CONTEXT CHECKPOINT COMPACTION. Create",
            ),
            Category::Compaction,
            "codex-compaction-prompt",
        ),
        (
            "/v1/responses",
            &[("x-openai-subagent", "guardian")],
            main.clone(),
            Category::Utility,
            "codex-guardian",
        ),
        (
            "/v1/responses",
            &[("x-openai-subagent", "review")],
            main.clone(),
            Category::Subagent,
            "codex-review",
        ),
        (
            "/v1/responses",
            &[(
                "x-codex-parent-thread-id",
                "0199a213-81c0-7800-8aa1-bbab2a035a53",
            )],
            main.clone(),
            Category::Subagent,
            "codex-spawned-agent",
        ),
    ];
    for (path, extra, request, category, rule) in cases {
        let verdict = classify_codex(path, extra, &request);
        assert_eq!(verdict.category, category, "{rule}: {verdict:?}");
        assert_eq!(verdict.decided_by, format!("rule:{rule}"), "{extra:?}");
    }
    // A user prompt about memories is still the user's turn.
    let verdict = classify_codex(
        "/v1/responses",
        &[],
        &responses("You are Codex", "## Memory Phase 1 notes: fix them"),
    );
    assert_eq!(verdict.category, Category::UserTurn);
}
