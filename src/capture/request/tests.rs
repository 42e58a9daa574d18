//! Unit tests of request inspection and of [`add_include_usage`](super::add_include_usage).

use std::io::Read;

use super::include_usage::splice_member;
use super::reader::ChunksReader;
use super::*;
use serde_json::json;

/// A Claude Code–shaped request: system as blocks, a tool loop, the last user message made of
/// tool results only.
const ANTHROPIC_TOOL_LOOP: &str = r#"{
  "model": "claude-sonnet-4-5-20250929",
  "max_tokens": 32000,
  "stream": true,
  "system": [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "\nYou are an interactive CLI tool that helps users with software engineering tasks."}
  ],
  "messages": [
    {"role": "user", "content": [{"type": "text", "text": "<system-reminder>\nAs you answer, use this context.\n</system-reminder>"}, {"type": "text", "text": "fix the failing test in src/lib.rs"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "Let me look."}, {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"file_path": "/src/lib.rs"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "     1\tpub fn add(a: i32, b: i32) -> i32 { a - b }"}]}
  ],
  "tools": [{"name": "Read", "description": "Reads a file", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}],
  "metadata": {"user_id": "user_2f4e_account_9c1d_session_77ab"},
  "temperature": 1
}"#;

fn one(body: &str) -> Vec<Bytes> {
    vec![Bytes::copy_from_slice(body.as_bytes())]
}

fn inspect(api: ApiKind, body: &str) -> RequestSummary {
    RequestSummary::inspect(api, &one(body)).unwrap()
}

#[test]
fn anthropic_tool_loop() {
    let s = inspect(ApiKind::Messages, ANTHROPIC_TOOL_LOOP);
    assert_eq!(
        s,
        RequestSummary {
            api: ApiKind::Messages,
            model: Some("claude-sonnet-4-5-20250929".into()),
            stream: true,
            max_tokens: Some(32000),
            has_tools: true,
            message_count: 3,
            system_prefix: Some("You are Claude Code, Anthropic's official CLI for Claude.".into()),
            last_user_prefix: None,
            last_user_final_prefix: None,
            last_user_is_tool_result: true,
            metadata_user_id: Some("user_2f4e_account_9c1d_session_77ab".into()),
            include_usage: None,
            stream_options: StreamOptionsShape::Absent,
        }
    );
}

#[test]
fn anthropic_string_system_and_text_after_tool_result() {
    let body = r#"{"model":"claude-haiku-4-5","max_tokens":512,"system":"Summarize the conversation.","tools":[],
            "messages":[{"content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"ignored"}]},{"text":"now continue","type":"text"}],"role":"user"}]}"#;
    let s = inspect(ApiKind::Messages, body);
    assert_eq!(
        s.system_prefix.as_deref(),
        Some("Summarize the conversation.")
    );
    assert_eq!(s.last_user_prefix.as_deref(), Some("now continue"));
    assert!(!s.last_user_is_tool_result);
    assert!(!s.has_tools, "empty tools array");
    assert!(!s.stream);
    assert_eq!(s.message_count, 1);
}

#[test]
fn last_user_message_wins_and_string_content() {
    let body = r#"{"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"second question"},{"role":"assistant","content":[{"type":"text","text":"answer"}]}]}"#;
    let s = inspect(ApiKind::Messages, body);
    assert_eq!(s.last_user_prefix.as_deref(), Some("second question"));
    assert_eq!(s.message_count, 4);
    assert_eq!(s.system_prefix, None);
}

/// Claude Code 2.1.332, the prompt after `/compact`: reminders, the local command and its
/// output come first, what the user typed last (seen on the wire, shortened).
const AFTER_COMPACT_2_1_332: &str = r#"{"model":"claude-opus-5-5","max_tokens":128000,"stream":true,
  "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.332.b1e; cc_entrypoint=cli;"},{"type":"text","text":"You are Claude Code."}],
  "tools":[{"name":"Read","input_schema":{"type":"object"}}],
  "messages":[{"role":"user","content":[{"type":"text","text":"This session is being continued from a previous conversation that ran out of context."}]},
    {"role":"assistant","content":[{"type":"text","text":"Answer: done."}]},
    {"role":"user","content":[{"type":"text","text":"<system-reminder>\nAttribution for git commits\n</system-reminder>"},
      {"type":"text","text":"<local-command-caveat>The command below was run directly in Claude Code, not sent to you as a request.</local-command-caveat>\n"},
      {"type":"text","text":"<command-name>/compact</command-name>\n"},
      {"type":"text","text":"<local-command-stdout>Compacted</local-command-stdout>\n"},
      {"type":"text","text":"What was my first question?"}]},
    {"role":"system","content":"Environment: linux"}]}"#;

#[test]
fn the_last_real_text_block_is_kept_beside_the_first() {
    let s = inspect(ApiKind::Messages, AFTER_COMPACT_2_1_332);
    assert!(
        s.last_user_prefix
            .as_deref()
            .is_some_and(|t| t.starts_with("<local-command-caveat>")),
        "{s:?}"
    );
    assert_eq!(
        s.last_user_final_prefix.as_deref(),
        Some("What was my first question?")
    );
    // Anthropic's system keeps its first block (the billing header rules read).
    assert!(
        s.system_prefix
            .unwrap()
            .starts_with("x-anthropic-billing-header")
    );
    // One real text block (a reminder before it): no separate last text.
    let one = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"<system-reminder>ctx</system-reminder>"},{"type":"text","text":"typed"}]}]}"#;
    let s = inspect(ApiKind::Messages, one);
    assert_eq!(s.last_user_prefix.as_deref(), Some("typed"));
    assert_eq!(s.last_user_final_prefix, None);
    // Only reminders (Claude Code 2.1.332's task notification): the reminder, nothing after.
    let note = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"<system-reminder>\n[SYSTEM NOTIFICATION - NOT USER INPUT]\n<task-notification>done</task-notification>\n</system-reminder>"}]}]}"#;
    let s = inspect(ApiKind::Messages, note);
    assert!(s.last_user_prefix.unwrap().starts_with("<system-reminder>"));
    assert_eq!(s.last_user_final_prefix, None);
    // A reminder after real text is not "the last real text".
    let trailing = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"<system-reminder>x</system-reminder>"}]}]}"#;
    let s = inspect(ApiKind::Messages, trailing);
    assert_eq!(
        (
            s.last_user_prefix.as_deref(),
            s.last_user_final_prefix.as_deref()
        ),
        (Some("a"), Some("b"))
    );
}

#[test]
fn openai_chat_request() {
    let body = r#"{"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":false},"max_completion_tokens":4096,
            "messages":[{"role":"developer","content":[{"type":"text","text":"You are Codex."}]},{"role":"system","content":"second system"},
            {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"what is this?"}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"result"}],
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#;
    let s = inspect(ApiKind::ChatCompletions, body);
    assert_eq!(s.system_prefix.as_deref(), Some("You are Codex."));
    assert_eq!(s.last_user_prefix.as_deref(), Some("what is this?"));
    assert_eq!(s.max_tokens, Some(4096));
    assert_eq!(s.include_usage, Some(false));
    assert_eq!(s.stream_options, StreamOptionsShape::Object);
    assert_eq!(s.message_count, 5);
    assert!(s.has_tools && s.stream);
}

#[test]
fn openai_responses_request() {
    let body = r#"{"model":"o4-mini","instructions":"Be terse.","max_output_tokens":300,"stream":true,
            "input":[{"role":"developer","content":"dev"},{"type":"message","role":"user","content":[{"type":"input_text","text":"hello"}]},{"type":"function_call_output","call_id":"c","output":"{}"}]}"#;
    let s = inspect(ApiKind::Responses, body);
    assert_eq!(s.system_prefix.as_deref(), Some("Be terse."));
    assert_eq!(s.last_user_prefix.as_deref(), Some("hello"));
    assert_eq!(s.max_tokens, Some(300));
    assert_eq!(s.message_count, 3);
    let s = inspect(
        ApiKind::Responses,
        r#"{"model":"gpt-4.1","input":"Tell me a joke"}"#,
    );
    assert_eq!(s.last_user_prefix.as_deref(), Some("Tell me a joke"));
    assert_eq!(s.message_count, 1);
    assert_eq!(s.system_prefix, None);
}

#[test]
fn prefixes_are_capped_at_char_boundaries() {
    // 511 ASCII bytes then a 3-byte char: the char does not fit in 512.
    let text = format!("{}€tail", "a".repeat(511));
    let body = json!({"system": text, "messages": [{"role": "user", "content": "é".repeat(400)}]});
    let s = inspect(ApiKind::Messages, &body.to_string());
    assert_eq!(s.system_prefix, Some("a".repeat(511)));
    assert_eq!(s.last_user_prefix, Some("é".repeat(256)));
}

#[test]
fn wrong_types_are_ignored_not_errors() {
    let body = r#"{"model":5,"stream":"yes","max_tokens":-1,"tools":{"a":1},"system":42,"metadata":[1],
            "messages":[7,"x",{"role":1,"content":{"a":[1]}},{"role":"user","content":[1,[2],{"type":"text","text":3}]}],"stream_options":null}"#;
    let s = inspect(ApiKind::Other, body);
    assert_eq!(s.model, None);
    assert!(!s.stream && !s.has_tools);
    assert_eq!(s.max_tokens, None);
    assert_eq!(s.message_count, 4);
    assert_eq!(s.last_user_prefix, None);
    assert!(!s.last_user_is_tool_result);
    assert_eq!(s.stream_options, StreamOptionsShape::Other);
}

#[test]
fn chunked_body_gives_same_summary() {
    let body = ANTHROPIC_TOOL_LOOP.as_bytes();
    let whole = inspect(ApiKind::Messages, ANTHROPIC_TOOL_LOOP);
    // Awkward cuts: inside a key, inside an escape (`\n`), inside a multi-byte char.
    let body_utf8 = format!(
        "{}{}",
        &ANTHROPIC_TOOL_LOOP[..ANTHROPIC_TOOL_LOOP.len() - 1],
        ",\"x\":\"h€llo\"}"
    );
    let bytes = body_utf8.as_bytes();
    let key = body_utf8.find("\"max_tokens\"").unwrap() + 4;
    let esc = body_utf8.find("\\nYou are").unwrap() + 1;
    let euro = body_utf8.find('€').unwrap() + 1;
    let chunks = vec![
        Bytes::copy_from_slice(&bytes[..key]),
        Bytes::copy_from_slice(&bytes[key..esc]),
        Bytes::new(),
        Bytes::copy_from_slice(&bytes[esc..euro]),
        Bytes::copy_from_slice(&bytes[euro..]),
    ];
    assert_eq!(
        RequestSummary::inspect(ApiKind::Messages, &chunks).unwrap(),
        whole
    );
    let three = vec![
        Bytes::copy_from_slice(&bytes[..key]),
        Bytes::copy_from_slice(&bytes[key..euro]),
        Bytes::copy_from_slice(&bytes[euro..]),
    ];
    assert_eq!(
        RequestSummary::inspect(ApiKind::Messages, &three).unwrap(),
        whole
    );
    for cut in (0..=body.len()).step_by(3) {
        let two = [
            Bytes::copy_from_slice(&body[..cut]),
            Bytes::copy_from_slice(&body[cut..]),
        ];
        assert_eq!(
            RequestSummary::inspect(ApiKind::Messages, &two).unwrap(),
            whole,
            "cut {cut}"
        );
    }
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err =
        RequestSummary::inspect(ApiKind::Messages, &one("{\n  \"model\": \"x\",\n}")).unwrap_err();
    assert_eq!(
        err,
        InspectError::Json {
            message: "trailing comma at line 3 column 1".into(),
            line: 3,
            column: 1,
        }
    );
    assert_eq!(
        err.to_string(),
        "request body is not valid JSON: trailing comma at line 3 column 1"
    );
    // The same error whether the body came in one chunk or several.
    let chunks = [
        Bytes::from_static(b"{\n  \"mod"),
        Bytes::from_static(b"el\": \"x\",\n}"),
    ];
    assert_eq!(
        RequestSummary::inspect(ApiKind::Messages, &chunks).unwrap_err(),
        err
    );
    let truncated =
        RequestSummary::inspect(ApiKind::Messages, &one(r#"{"model":"x","messages":["#))
            .unwrap_err();
    assert!(
        matches!(truncated, InspectError::Json { ref message, .. } if message.starts_with("EOF while parsing"))
    );
    assert!(RequestSummary::inspect(ApiKind::Messages, &one("[]")).is_err());
    assert!(RequestSummary::inspect(ApiKind::Messages, &one("{} x")).is_err());
    assert!(RequestSummary::inspect(ApiKind::Messages, &[]).is_err());
}

/// A chat request whose bulk sits in the first chunk.
fn chat_body(extra: &str) -> (Vec<Bytes>, serde_json::Value) {
    let big = "lorem ipsum ".repeat(5000);
    let text = format!(
        r#"{{"model":"gpt-4.1","stream":true{extra},"messages":[{{"role":"user","content":"{big}"}}]}}  "#
    );
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let split = text.len() - 10;
    let chunks = vec![
        Bytes::copy_from_slice(&text.as_bytes()[..split]),
        Bytes::copy_from_slice(&text.as_bytes()[split..]),
        Bytes::from_static(b"\n"),
    ];
    (chunks, value)
}

fn parse_chunks(chunks: &[Bytes]) -> serde_json::Value {
    serde_json::from_slice(&chunks.concat()).unwrap()
}

#[test]
fn add_include_usage_splices_without_copying() {
    let (body, mut expected) = chat_body("");
    let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
    let out = add_include_usage(&body, &s).unwrap().unwrap();
    expected["stream_options"] = json!({"include_usage": true});
    assert_eq!(parse_chunks(&out.chunks), expected);
    assert_eq!(
        out.len,
        out.chunks.iter().map(|c| c.len() as u64).sum::<u64>()
    );
    assert_eq!(
        out.chunks[0].as_ptr(),
        body[0].as_ptr(),
        "big chunk shared, not copied"
    );
    assert_eq!(out.chunks[0].len(), body[0].len());
    assert_eq!(out.chunks[1].as_ptr(), body[1].as_ptr());
    assert_eq!(
        out.chunks.last().map(|c| &c[..]),
        Some(&b",\"stream_options\":{\"include_usage\":true}}"[..])
    );
}

#[test]
fn add_include_usage_rewrites_existing_options() {
    let (body, mut expected) = chat_body(r#","stream_options":{"foo":1}"#);
    let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
    let out = add_include_usage(&body, &s).unwrap().unwrap();
    expected["stream_options"] = json!({"foo": 1, "include_usage": true});
    assert_eq!(parse_chunks(&out.chunks), expected);
    assert_eq!(out.chunks.len(), 1);

    for extra in [
        r#","stream_options":null"#,
        r#","stream_options":{"include_usage":false}"#,
    ] {
        let (body, mut expected) = chat_body(extra);
        let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
        let out = add_include_usage(&body, &s).unwrap().unwrap();
        expected["stream_options"] = json!({"include_usage": true});
        assert_eq!(parse_chunks(&out.chunks), expected, "{extra}");
    }
}

#[test]
fn add_include_usage_noops() {
    let (body, _) = chat_body(r#","stream_options":{"include_usage":true}"#);
    let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
    assert_eq!(add_include_usage(&body, &s).unwrap(), None);
    let body = one(r#"{"model":"gpt-4.1","messages":[]}"#);
    let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
    assert_eq!(add_include_usage(&body, &s).unwrap(), None, "not streaming");
    let body = one(r#"{"model":"claude","stream":true,"messages":[]}"#);
    let s = RequestSummary::inspect(ApiKind::Messages, &body).unwrap();
    assert_eq!(add_include_usage(&body, &s).unwrap(), None, "not chat");
}

#[test]
fn splice_handles_empty_objects_and_whitespace() {
    let out = splice_member(&[
        Bytes::from_static(b"{ \n"),
        Bytes::from_static(b"} \n"),
        Bytes::new(),
    ])
    .unwrap();
    assert_eq!(
        parse_chunks(&out),
        json!({"stream_options": {"include_usage": true}})
    );
    let out = splice_member(&[Bytes::from_static(b"{\"a\":1"), Bytes::from_static(b"}")]).unwrap();
    assert_eq!(
        parse_chunks(&out),
        json!({"a": 1, "stream_options": {"include_usage": true}})
    );
    assert_eq!(
        splice_member(&[Bytes::from_static(b"[1]")]),
        Err(InspectError::NotAnObject)
    );
    assert_eq!(
        splice_member(&[Bytes::from_static(b"  ")]),
        Err(InspectError::NotAnObject)
    );
    assert_eq!(splice_member(&[]), Err(InspectError::NotAnObject));
}

#[test]
fn chunks_reader_reads_across_chunks() {
    let chunks = [
        Bytes::from_static(b"ab"),
        Bytes::new(),
        Bytes::from_static(b"cde"),
    ];
    let mut r = ChunksReader::new(&chunks);
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"abcde");
    let mut r = ChunksReader::new(&chunks);
    let mut one = [0u8; 1];
    let mut got = Vec::new();
    while r.read(&mut one).unwrap() == 1 {
        got.push(one[0]);
    }
    assert_eq!(got, b"abcde");
}

#[test]
fn reminder_blocks_before_the_prompt_are_skipped() {
    let body = r#"{"model":"m","messages":[{"role":"user","content":[
        {"type":"text","text":"<system-reminder>\nToday is Monday.\n</system-reminder>"},
        {"type":"text","text":"Fix the failing test"}]}]}"#;
    let s = RequestSummary::inspect(ApiKind::Messages, &[Bytes::from(body)]).unwrap();
    assert_eq!(s.last_user_prefix.as_deref(), Some("Fix the failing test"));
    let only = r#"{"model":"m","messages":[{"role":"user","content":[
        {"type":"text","text":"<system-reminder>a</system-reminder>"},
        {"type":"text","text":"<system-reminder>b</system-reminder>"}]}]}"#;
    let s = RequestSummary::inspect(ApiKind::Messages, &[Bytes::from(only)]).unwrap();
    assert_eq!(
        s.last_user_prefix.as_deref(),
        Some("<system-reminder>a</system-reminder>")
    );
}

/// A Gemini CLI–shaped request as Google's SDK writes it: `parts` before `role`, the system
/// prompt in `systemInstruction` (with a leading newline, as the router's has), a function call
/// and its response, thinking parts, and `maxOutputTokens` under `generationConfig`.
const GEMINI_TOOL_LOOP: &str = r#"{"contents":[{"parts":[{"text":"<session_context>\nThis is the Gemini CLI.</session_context>"}],"role":"user"},{"parts":[{"text":"list the files here"}],"role":"user"},{"parts":[{"text":"I should list them.","thought":true},{"functionCall":{"name":"list_directory","args":{"dir_path":"."}}}],"role":"model"},{"parts":[{"functionResponse":{"name":"list_directory","response":{"output":"a.rs\nb.rs"}}}],"role":"user"}],"systemInstruction":{"parts":[{"text":"\nYou are Gemini CLI, an autonomous CLI agent specializing in software engineering tasks."}],"role":"user"},"tools":[{"functionDeclarations":[{"name":"list_directory","parametersJsonSchema":{"type":"object"}}]}],"generationConfig":{"temperature":1,"topP":0.95,"maxOutputTokens":8192,"thinkingConfig":{"includeThoughts":true,"thinkingLevel":"HIGH"}}}"#;

#[test]
fn gemini_request_parts_system_instruction_and_tool_results() {
    let s = inspect(ApiKind::GenerateContent, GEMINI_TOOL_LOOP);
    assert_eq!(
        s,
        RequestSummary {
            api: ApiKind::GenerateContent,
            // The model and `stream` are in the path, not the body (see the proxy's route).
            model: None,
            stream: false,
            max_tokens: Some(8192),
            has_tools: true,
            message_count: 4,
            system_prefix: Some(
                "\nYou are Gemini CLI, an autonomous CLI agent specializing in software engineering tasks."
                    .into()
            ),
            last_user_prefix: None,
            last_user_final_prefix: None,
            last_user_is_tool_result: true,
            metadata_user_id: None,
            include_usage: None,
            stream_options: StreamOptionsShape::Absent,
        }
    );
    // The user's own text, the thought skipped, in a message written role-first or role-last.
    let typed = GEMINI_TOOL_LOOP.replace(
        r#",{"parts":[{"functionResponse":{"name":"list_directory","response":{"output":"a.rs\nb.rs"}}}],"role":"user"}"#,
        r#",{"role":"user","parts":[{"text":"thinking aloud","thought":true},{"text":"now fix b.rs"}]}"#,
    );
    let s = inspect(ApiKind::GenerateContent, &typed);
    assert_eq!(s.last_user_prefix.as_deref(), Some("now fix b.rs"));
    assert!(!s.last_user_is_tool_result);
    // The skim, cut anywhere, reads what serde reads from the whole body.
    for body in [GEMINI_TOOL_LOOP, typed.as_str()] {
        let whole = RequestSummary::inspect_whole(ApiKind::GenerateContent, &one(body)).unwrap();
        let bytes = body.as_bytes();
        for cut in 0..=bytes.len() {
            let two = [
                Bytes::copy_from_slice(&bytes[..cut]),
                Bytes::copy_from_slice(&bytes[cut..]),
            ];
            let mut skim = BodySkim::default();
            for c in &two {
                skim.feed(c);
            }
            assert_eq!(
                RequestSummary::from_skim(ApiKind::GenerateContent, skim),
                Some(whole.clone()),
                "cut {cut}"
            );
        }
    }
}

#[test]
fn gemini_string_system_instruction_and_a_thought_only_message() {
    let s = inspect(
        ApiKind::GenerateContent,
        r#"{"systemInstruction":"You are a specialized Task Routing AI.","contents":[{"role":"user","parts":[{"text":"hidden","thought":true}]}]}"#,
    );
    assert_eq!(
        s.system_prefix.as_deref(),
        Some("You are a specialized Task Routing AI.")
    );
    assert_eq!(s.last_user_prefix, None);
    assert!(!s.has_tools);
}
