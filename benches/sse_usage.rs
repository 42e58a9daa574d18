//! Benchmarks for the capture parsers on realistic payloads: streaming usage extraction
//! (Anthropic, OpenAI chat and Gemini, fed in 1 KiB chunks as a proxy sees them), the
//! include-usage stripper, and request inspection of a 44 KB and a 4 MB Anthropic body (with the
//! skim that shrinks the body first, and with serde alone) and of a 4 MB Gemini body (whose
//! messages name their role last, as Google's SDK writes them).

use std::hint::black_box;

use agentprof::capture::request::RequestSummary;
use agentprof::capture::usage::StreamUsageParser;
use agentprof::capture::usage::strip::IncludeUsageStripper;
use agentprof::observation::ApiKind;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Text deltas of typical length, with JSON escapes here and there.
fn delta_text(i: usize) -> String {
    format!("token {i} of the answer, with \\\"quotes\\\" and a newline\\n ")
}

/// An Anthropic stream: start, ~400 text deltas with a ping now and then, delta, stop.
fn anthropic_stream() -> Vec<u8> {
    let mut s = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5-20250929\",\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":4820,\"cache_read_input_tokens\":13596,\"cache_creation\":{\"ephemeral_5m_input_tokens\":4820,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..400 {
        if i % 50 == 0 {
            s.push_str("event: ping\ndata: {\"type\": \"ping\"}\n\n");
        }
        s.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
            delta_text(i)
        ));
    }
    s.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":4820,\"cache_read_input_tokens\":13596,\"output_tokens\":812}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s.into_bytes()
}

/// An OpenAI chat stream with `include_usage`: ~400 chunks with `"usage":null`, the usage
/// chunk, `[DONE]`.
fn openai_stream() -> Vec<u8> {
    let head = "{\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":";
    let mut s = format!(
        "data: {head}[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
    );
    for i in 0..400 {
        s.push_str(&format!(
            "data: {head}[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n",
            delta_text(i)
        ));
    }
    s.push_str(&format!(
        "data: {head}[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n\
data: {head}[],\"usage\":{{\"prompt_tokens\":2006,\"completion_tokens\":812,\"total_tokens\":2818,\"prompt_tokens_details\":{{\"cached_tokens\":1920,\"audio_tokens\":0}},\"completion_tokens_details\":{{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}}}}\n\n\
data: [DONE]\n\n"
    ));
    s.into_bytes()
}

/// A Gemini stream as the API sends it to Gemini CLI: ~400 chunks, each with a running
/// `usageMetadata` snapshot, the last with the finish reason.
fn gemini_stream() -> Vec<u8> {
    let mut s = String::new();
    for i in 0..400 {
        let finish = if i == 399 {
            "\"finishReason\": \"STOP\","
        } else {
            ""
        };
        s.push_str(&format!(
            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": \"{}\"}}],\"role\": \"model\"}},{finish}\"index\": 0}}],\"usageMetadata\": {{\"promptTokenCount\": 18420,\"candidatesTokenCount\": {},\"totalTokenCount\": {},\"cachedContentTokenCount\": 13596,\"thoughtsTokenCount\": 212}},\"modelVersion\": \"gemini-3-flash-preview\",\"responseId\": \"Xb0zacHZLpWo1MkP0c2B6Ak\"}}\r\n\r\n",
            delta_text(i),
            i * 2 + 2,
            18420 + 212 + i * 2 + 2
        ));
    }
    s.into_bytes()
}

/// A Gemini CLI–shaped request of at least `target` bytes: its system instruction, tools, and
/// a long tool loop of model function calls and user function responses, each message with its
/// `parts` before its `role`.
fn gemini_request(target: usize) -> Vec<u8> {
    let code = "fn main() {\\n    println!(\\\"hello, world\\\");\\n}\\n".repeat(24);
    let mut s = String::from(
        r#"{"contents":[{"parts":[{"text":"<session_context>This is the Gemini CLI.</session_context>fix the failing test"}],"role":"user"}"#,
    );
    let mut i = 0;
    while s.len() < target {
        s.push_str(&format!(
            r#",{{"parts":[{{"functionCall":{{"name":"read_file","args":{{"file_path":"/src/file{i}.rs"}}}}}}],"role":"model"}},{{"parts":[{{"functionResponse":{{"name":"read_file","response":{{"output":"{code}"}}}}}}],"role":"user"}}"#
        ));
        i += 1;
    }
    s.push_str(r#"],"systemInstruction":{"parts":[{"text":"You are Gemini CLI, an autonomous CLI agent specializing in software engineering tasks."}],"role":"user"},"tools":[{"functionDeclarations":[{"name":"read_file","parametersJsonSchema":{"type":"object"}}]}],"generationConfig":{"temperature":1,"maxOutputTokens":65536}}"#);
    s.into_bytes()
}

/// A Claude Code–shaped request of at least `target` bytes: system blocks, tools, and a long
/// tool loop of user/assistant turns with code in the tool results.
fn anthropic_request(target: usize) -> Vec<u8> {
    let code = "fn main() {\\n    println!(\\\"hello, world\\\");\\n    let x: Vec<u32> = (0..10).collect();\\n}\\n".repeat(12);
    let tool = r#"{"name":"Read","description":"Reads a file from the local filesystem. You can access any file directly by using this tool.","input_schema":{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path to the file to read"},"offset":{"type":"number"},"limit":{"type":"number"}},"required":["file_path"],"additionalProperties":false}}"#;
    let mut s = String::from(
        r#"{"model":"claude-sonnet-4-5-20250929","max_tokens":32000,"stream":true,"metadata":{"user_id":"user_2f4e_account_9c1d_session_77ab"},"system":[{"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"You are an interactive CLI tool that helps users with software engineering tasks."}],"tools":["#,
    );
    for i in 0..20 {
        if i > 0 {
            s.push(',');
        }
        s.push_str(tool);
    }
    s.push_str(r#"],"messages":[{"role":"user","content":[{"type":"text","text":"fix the failing test"}]}"#);
    let mut i = 0;
    while s.len() < target {
        s.push_str(&format!(
            r#",{{"role":"assistant","content":[{{"type":"text","text":"Let me read file {i}."}},{{"type":"tool_use","id":"toolu_{i}","name":"Read","input":{{"file_path":"/src/file{i}.rs"}}}}]}},{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"toolu_{i}","content":"{code}"}}]}}"#
        ));
        i += 1;
    }
    s.push_str("]}");
    s.into_bytes()
}

fn bench_streams(c: &mut Criterion) {
    let anthropic = anthropic_stream();
    let openai = openai_stream();
    let gemini = gemini_stream();
    // Make sure the benches measure the real path: every stream yields usage.
    for (api, stream) in [
        (ApiKind::Messages, &anthropic),
        (ApiKind::ChatCompletions, &openai),
        (ApiKind::GenerateContent, &gemini),
    ] {
        let mut p = StreamUsageParser::new(api);
        p.feed(stream);
        let s = p.finish();
        assert!(s.usage.is_some() && s.is_complete(), "{api:?}: {s:?}");
    }
    let mut g = c.benchmark_group("stream_usage");

    g.throughput(Throughput::Bytes(anthropic.len() as u64));
    g.bench_function("anthropic_1k_chunks", |b| {
        b.iter(|| {
            let mut p = StreamUsageParser::new(ApiKind::Messages);
            for chunk in anthropic.chunks(1024) {
                p.feed(black_box(chunk));
            }
            black_box(p.finish())
        })
    });

    g.throughput(Throughput::Bytes(openai.len() as u64));
    g.bench_function("openai_chat_1k_chunks", |b| {
        b.iter(|| {
            let mut p = StreamUsageParser::new(ApiKind::ChatCompletions);
            for chunk in openai.chunks(1024) {
                p.feed(black_box(chunk));
            }
            black_box(p.finish())
        })
    });

    g.throughput(Throughput::Bytes(gemini.len() as u64));
    g.bench_function("gemini_1k_chunks", |b| {
        b.iter(|| {
            let mut p = StreamUsageParser::new(ApiKind::GenerateContent);
            for chunk in gemini.chunks(1024) {
                p.feed(black_box(chunk));
            }
            black_box(p.finish())
        })
    });

    g.throughput(Throughput::Bytes(openai.len() as u64));
    let frames: Vec<Bytes> = openai.chunks(1024).map(Bytes::copy_from_slice).collect();
    g.bench_function("openai_chat_strip_1k_frames", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            let mut s = IncludeUsageStripper::new();
            for f in &frames {
                s.push(f.clone(), &mut out);
            }
            black_box(s.finish(&mut out))
        })
    });
    g.finish();
}

fn bench_inspect(c: &mut Criterion) {
    let small = anthropic_request(44 * 1024);
    let large = anthropic_request(4 * 1024 * 1024);
    let small_body = vec![Bytes::from(small.clone())];
    let large_one = vec![Bytes::from(large.clone())];
    let large_chunks: Vec<Bytes> = large
        .chunks(64 * 1024)
        .map(Bytes::copy_from_slice)
        .collect();

    match RequestSummary::inspect(ApiKind::Messages, &large_chunks) {
        Ok(s) => assert!(s.has_tools && s.message_count > 1000 && s.last_user_is_tool_result),
        Err(e) => panic!("bench body does not parse: {e}"),
    }
    let mut g = c.benchmark_group("inspect");
    g.throughput(Throughput::Bytes(small.len() as u64));
    g.bench_function("anthropic_44k_one_chunk", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect(
                ApiKind::Messages,
                black_box(&small_body),
            ))
        })
    });
    g.bench_function("anthropic_44k_one_chunk_serde_only", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect_whole(
                ApiKind::Messages,
                black_box(&small_body),
            ))
        })
    });

    g.throughput(Throughput::Bytes(large.len() as u64));
    g.sample_size(20);
    g.bench_function("anthropic_4m_64k_chunks", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect(
                ApiKind::Messages,
                black_box(&large_chunks),
            ))
        })
    });
    // Baselines for the design choice: every byte through serde (the path without the skim),
    // as the proxy hands it over (one chunk), and as a list of frames joined first.
    g.bench_function("anthropic_4m_one_chunk_serde_only", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect_whole(
                ApiKind::Messages,
                black_box(&large_one),
            ))
        })
    });
    g.bench_function("anthropic_4m_one_chunk", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect(
                ApiKind::Messages,
                black_box(&large_one),
            ))
        })
    });
    // The skim's scan alone: two messages of ~2 MB each, one a string and one a text block, so
    // the per-message work vanishes and what is left is the 64-byte block loops.
    let code = "fn main() {\\n    println!(\\\"hello, world\\\");\\n}\\n";
    let half = code.repeat(large.len() / code.len() / 2);
    let long_strings = format!(
        r#"{{"model":"m","messages":[{{"role":"assistant","content":"{half}"}},{{"role":"assistant","content":[{{"type":"text","text":"{half}"}}]}}]}}"#
    );
    let long_strings: Vec<Bytes> = long_strings
        .as_bytes()
        .chunks(64 * 1024)
        .map(Bytes::copy_from_slice)
        .collect();
    g.bench_function("long_strings_4m_64k_chunks", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect(
                ApiKind::Messages,
                black_box(&long_strings),
            ))
        })
    });
    g.bench_function("anthropic_4m_concat_then_one_chunk", |b| {
        b.iter(|| {
            let joined = vec![Bytes::from(black_box(&large_chunks).concat())];
            black_box(RequestSummary::inspect(ApiKind::Messages, &joined))
        })
    });
    g.finish();

    // Gemini: every message names its role after its parts, so the skim holds each one until
    // it knows whether to keep it.
    let gemini = gemini_request(4 * 1024 * 1024);
    let gemini_chunks: Vec<Bytes> = gemini
        .chunks(64 * 1024)
        .map(Bytes::copy_from_slice)
        .collect();
    match RequestSummary::inspect(ApiKind::GenerateContent, &gemini_chunks) {
        Ok(s) => assert!(s.has_tools && s.message_count > 1000 && s.last_user_is_tool_result),
        Err(e) => panic!("bench body does not parse: {e}"),
    }
    let gemini_one = vec![Bytes::from(gemini.clone())];
    let mut g = c.benchmark_group("inspect");
    g.throughput(Throughput::Bytes(gemini.len() as u64));
    g.sample_size(20);
    g.bench_function("gemini_4m_64k_chunks", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect(
                ApiKind::GenerateContent,
                black_box(&gemini_chunks),
            ))
        })
    });
    g.bench_function("gemini_4m_one_chunk_serde_only", |b| {
        b.iter(|| {
            black_box(RequestSummary::inspect_whole(
                ApiKind::GenerateContent,
                black_box(&gemini_one),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_streams, bench_inspect);
criterion_main!(benches);
