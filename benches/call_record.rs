//! What happens to a call once the proxy has it: classification by the built-in rules, and
//! the trace writer (one record serialized, and records through the writer thread to a file).
//! Both run once per call, off the response path, so they only need to stay far below the
//! proxy's own per-request cost (tens of microseconds).

use std::hint::black_box;
use std::time::{Duration, Instant};

use agentprof::attribute::rules::{CallFacts, RuleSet};
use agentprof::capture::request::RequestSummary;
use agentprof::observation::{ApiKind, Call, Category, Provider, Usage};
use agentprof::output::trace::{
    HostInfo, SCHEMA, TraceFooter, TraceHeader, TraceRecord, TraceWriter, Upstreams,
};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A Claude Code request whose last user message is `last_user`, read the way the proxy does.
fn summary(last_user: &str, tools: bool) -> RequestSummary {
    let tools = if tools {
        r#""tools":[{"name":"Read","input_schema":{"type":"object"}}],"#
    } else {
        ""
    };
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5-20250929","max_tokens":32000,"stream":true,{tools}"system":[{{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.328; cc_entrypoint=cli;"}},{{"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude."}}],"messages":[{{"role":"user","content":"earlier prompt"}},{{"role":"assistant","content":"ok"}},{{"role":"user","content":[{{"type":"text","text":"{last_user}"}}]}}]}}"#
    );
    match RequestSummary::inspect(ApiKind::Messages, &[Bytes::from(body)]) {
        Ok(summary) => summary,
        Err(err) => panic!("bench request does not parse: {err}"),
    }
}

fn headers(agent: bool) -> Vec<(String, String)> {
    let mut h = vec![
        (
            "user-agent".to_string(),
            "claude-cli/2.1.328 (external, cli)".to_string(),
        ),
        ("anthropic-version".to_string(), "2023-06-01".to_string()),
        (
            "anthropic-beta".to_string(),
            "claude-code-20250219,interleaved-thinking-2025-05-14".to_string(),
        ),
        (
            "x-claude-code-session-id".to_string(),
            "7f1c0e2a-5b7e-4c1e-9a54-2b8f3d7c9e10".to_string(),
        ),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    if agent {
        h.push((
            "x-claude-code-agent-id".to_string(),
            "a-3f9c2e1b".to_string(),
        ));
    }
    h
}

fn bench_classify(c: &mut Criterion) {
    let rules = RuleSet::builtin();
    let cases = [
        // Decided by the first rule.
        (
            "subagent",
            headers(true),
            summary("look for the config loader", true),
            Category::Subagent,
        ),
        // Decided by a last-user-prefix rule after the header and system rules.
        (
            "compaction",
            headers(false),
            summary(
                "Your task is to create a detailed summary of the conversation so far",
                true,
            ),
            Category::Compaction,
        ),
        // The main loop: every Claude Code rule before it is tried first.
        (
            "main_loop",
            headers(false),
            summary("the config test fails, fix it", true),
            Category::UserTurn,
        ),
    ];
    let mut g = c.benchmark_group("classify");
    for (name, headers, request, expected) in &cases {
        let facts = CallFacts {
            provider: Provider::Anthropic,
            api: ApiKind::Messages,
            path: "/v1/messages?beta=true",
            headers,
            request: Some(request),
        };
        assert_eq!(rules.classify(&facts).category, *expected, "{name}");
        g.bench_function(*name, |b| {
            b.iter(|| black_box(rules.classify(black_box(&facts))))
        });
    }
    g.finish();
}

fn call(id: u64) -> Call {
    Call {
        id,
        t_start: id as f64 * 0.37,
        t_first_byte: Some(id as f64 * 0.37 + 0.41),
        t_end: Some(id as f64 * 0.37 + 3.2),
        provider: Provider::Anthropic,
        api: ApiKind::Messages,
        method: "POST".into(),
        path: "/v1/messages?beta=true".into(),
        model: Some("claude-sonnet-4-5-20250929".into()),
        stream: true,
        status: Some(200),
        usage: Some(Usage {
            input_tokens: 3,
            output_tokens: 312,
            cache_creation_input_tokens: 1_204,
            cache_read_input_tokens: 10_850,
            cache_creation_5m_input_tokens: 1_204,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }),
        upstream_request_id: Some("req_011CSHtWbF3J2oZbLLcA1d7G".into()),
        response_id: Some("msg_01XFDUDYJgAACzvnptvVoYEL".into()),
        session_id: Some("7f1c0e2a-5b7e-4c1e-9a54-2b8f3d7c9e10".into()),
        agent_id: None,
        parent_agent_id: None,
        request_bytes: 45_056,
        response_bytes: 8_412,
        client_bytes: Some(8_412),
        category: Category::UserTurn,
        classified_by: "rule:cc-main-loop".into(),
        starts_turn: false,
        error: None,
        bodies: None,
        via_websocket: None,
        project: None,
    }
}

fn header() -> TraceHeader {
    TraceHeader {
        schema: SCHEMA.into(),
        agentprof_version: "bench".into(),
        started_at: "2026-11-01T00:00:00Z".into(),
        mode: "proxy".into(),
        command: Vec::new(),
        upstreams: Upstreams {
            anthropic: "http://127.0.0.1:1".into(),
            openai: "http://127.0.0.1:1".into(),
            chatgpt: None,
            gemini: None,
        },
        listen: "127.0.0.1:0".into(),
        sample_interval_s: 0.25,
        pss_every: 10,
        capture_bodies: false,
        host: HostInfo::current(),
        kv_profile: None,
        cwd: None,
    }
}

fn footer(calls: u64) -> TraceFooter {
    TraceFooter {
        t: 1.0,
        ended_at: "2026-11-01T00:00:01Z".into(),
        calls,
        samples: 0,
        exit_code: None,
        exit_signal: None,
    }
}

fn bench_trace(c: &mut Criterion) {
    let record = TraceRecord::Call(call(1));
    let line_len = serde_json::to_vec(&record).map_or(0, |v| v.len());
    let mut g = c.benchmark_group("trace");
    g.throughput(Throughput::Elements(1));
    g.bench_function("serialize_call_record", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            let _ = serde_json::to_writer(&mut out, black_box(&record));
            out.push(b'\n');
            black_box(out.len())
        })
    });

    // Producer to file: records sent as a busy proxy sends them, through the writer thread,
    // flushed to the file; the time includes creating the file and the final flush.
    const RECORDS: u64 = 1_000;
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary directory; skipping the trace writer bench");
        return;
    };
    let records: Vec<TraceRecord> = (1..=RECORDS).map(|i| TraceRecord::Call(call(i))).collect();
    let mut n = 0u64;
    g.throughput(Throughput::Elements(RECORDS));
    g.bench_function("writer_1000_call_records_to_file", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let path = dir.path().join(format!("trace-{n}.jsonl"));
                let start = Instant::now();
                let writer = match TraceWriter::create(&path, header()) {
                    Ok(writer) => writer,
                    Err(err) => panic!("cannot create the bench trace: {err}"),
                };
                let sender = writer.sender();
                for record in &records {
                    sender.send(record.clone());
                }
                drop(sender);
                if let Err(err) = writer.finish(footer(RECORDS)) {
                    panic!("trace writer failed: {err}");
                }
                total += start.elapsed();
                let _ = std::fs::remove_file(&path);
            }
            total
        })
    });
    g.finish();
    if !criterion_is_test_mode() {
        println!("one call record: {line_len} bytes of JSON");
    }
}

/// `cargo test --all-targets` runs benches with `--bench` absent; print summaries only for
/// real runs.
fn criterion_is_test_mode() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

criterion_group!(benches, bench_classify, bench_trace);
criterion_main!(benches);
