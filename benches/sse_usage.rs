//! Benchmarks for the capture parsers on realistic payloads: streaming usage extraction
//! (Anthropic and OpenAI chat, fed in 1 KiB chunks as a proxy sees them), the include-usage
//! stripper, and request inspection of a 44 KB and a 4 MB Anthropic body (with the skim that
//! shrinks the body first, and with serde alone).

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
    // Make sure the benches measure the real path: both streams yield usage.
    for (api, stream) in [
        (ApiKind::Messages, &anthropic),
        (ApiKind::ChatCompletions, &openai),
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
}

criterion_group!(benches, bench_streams, bench_inspect);
criterion_main!(benches);
