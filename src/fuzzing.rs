//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, off in normal builds).
//!
//! Each function takes arbitrary bytes and drives one parser that reads input agentprof does
//! not control — upstream response streams, the agent's telemetry, transcript files, the
//! user's rule and scenario files — the way the program drives it. Beyond "never panics", they
//! assert the properties the parsers document: decoding an SSE stream or reading its usage
//! gives the same result however the bytes are split, and masked text holds no key.
//!
//! They live in the library, behind a feature, so the fuzz crate reaches the parsers without
//! the library's public API growing for it.

use crate::capture::sse::SseDecoder;
use crate::capture::usage::strip::IncludeUsageStripper;
use crate::capture::usage::{StreamUsageParser, parse_json_body};
use crate::observation::ApiKind;

/// Splits `data` into pieces whose lengths come from `seed` (1..=16 bytes, cycling), so one
/// input exercises chunk boundaries everywhere, CRLF pairs torn across chunks included.
fn pieces(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut step = seed;
    while !rest.is_empty() {
        let len = usize::from(step % 16 + 1).min(rest.len());
        let (head, tail) = rest.split_at(len);
        out.push(head);
        rest = tail;
        step = step.wrapping_mul(31).wrapping_add(7);
    }
    out
}

/// The first byte picks the split pattern; the rest is the stream.
fn seed_and_stream(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((seed, rest)) => (*seed, rest),
        None => (0, data),
    }
}

/// SSE decoding: whole and in pieces, the same events in the same order.
pub fn sse(data: &[u8]) {
    let (seed, stream) = seed_and_stream(data);
    let decode = |chunks: &[&[u8]]| {
        let mut decoder = SseDecoder::new();
        let mut events: Vec<(String, Vec<u8>)> = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, |ev| {
                events.push((ev.event.to_owned(), ev.data.to_vec()))
            });
        }
        let torn = decoder.finish(|_| {});
        (events, torn)
    };
    let whole = decode(&[stream]);
    let split = decode(&pieces(stream, seed));
    assert_eq!(
        whole, split,
        "SSE events depend on how the bytes were split"
    );
}

fn api_of(byte: u8) -> ApiKind {
    match byte % 4 {
        0 => ApiKind::Messages,
        1 => ApiKind::ChatCompletions,
        2 => ApiKind::Responses,
        _ => ApiKind::Other,
    }
}

/// Usage extraction from a response: streaming (whole vs in pieces: the same summary), the
/// include-usage stripper (never more bytes out than in), and the non-streaming JSON reader.
pub fn usage(data: &[u8]) {
    let (seed, stream) = seed_and_stream(data);
    let api = api_of(seed);
    let summarize = |chunks: &[&[u8]]| {
        let mut parser = StreamUsageParser::new(api);
        for chunk in chunks {
            parser.feed(chunk);
        }
        parser.finish()
    };
    let whole = summarize(&[stream]);
    let split = summarize(&pieces(stream, seed));
    assert_eq!(whole, split, "usage depends on how the bytes were split");

    let mut stripper = IncludeUsageStripper::new();
    let mut out = Vec::new();
    for chunk in pieces(stream, seed) {
        stripper.push(bytes::Bytes::copy_from_slice(chunk), &mut out);
    }
    let _ = stripper.finish(&mut out);
    let forwarded: usize = out.iter().map(bytes::Bytes::len).sum();
    assert!(
        forwarded <= stream.len(),
        "the stripper made bytes up: {forwarded} out of {}",
        stream.len()
    );

    let _ = parse_json_body(api, stream);
}

/// One line of a Claude Code transcript: the prefilter's route, then the skim of the fields an
/// import reads, its usage check and its timestamp.
pub fn transcript_line(data: &[u8]) {
    use crate::capture::transcripts::{record, route};
    let _ = route::Prefilter::default().route(data);
    if let Ok(line) = record::parse(data) {
        if let Some(usage) = line.usage {
            let _ = usage.checked();
        }
        let _ = record::millis(line.timestamp);
    }
}

/// A `--rules` file: parsed, and when it parses, used to classify a typical call.
pub fn rule_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = crate::attribute::rules::parse(text, std::path::Path::new("fuzz.toml")) else {
        return;
    };
    let headers = vec![
        (
            "user-agent".to_owned(),
            "claude-cli/2.1.0 (external, cli)".to_owned(),
        ),
        ("x-claude-code-session-id".to_owned(), "s-1".to_owned()),
    ];
    let body = br#"{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,
        "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.0;"}],
        "messages":[{"role":"user","content":"fix the failing test"}]}"#;
    let request = crate::capture::request::RequestSummary::inspect(
        ApiKind::Messages,
        &[bytes::Bytes::from_static(body)],
    )
    .ok();
    let facts = crate::attribute::rules::CallFacts {
        provider: crate::observation::Provider::Anthropic,
        api: ApiKind::Messages,
        path: "/v1/messages?beta=true",
        headers: &headers,
        request: request.as_ref(),
    };
    let _ = rules.classify(&facts);
}

/// A `simulate --scenario` file: parsed and validated, with a `--set` taken from its first
/// line.
pub fn scenario_file(data: &[u8]) {
    use crate::simulate::scenario::load::ScenarioText;
    use crate::simulate::scenario::overrides;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scenario = ScenarioText {
        origin: "fuzz.toml".into(),
        text: text.to_owned(),
        fallback_name: "fuzz".into(),
    };
    let settings: Vec<_> = text
        .lines()
        .next()
        .and_then(|line| overrides::parse_set(line).ok())
        .into_iter()
        .collect();
    if let Ok(resolved) = scenario.resolve(&settings) {
        // The derived figures the simulator starts from must be computable for anything that
        // passed validation.
        let _ = (
            resolved.developers(),
            resolved.duration_s(),
            resolved.resolved_trials(),
            resolved.compact_at_tokens(),
        );
    }
}

/// An OTLP/HTTP JSON body from the agent: logs decoded and turned into telemetry events,
/// metrics and traces checked.
pub fn otlp_json(data: &[u8]) {
    use crate::capture::telemetry::{extract, otlp_json};
    if let Ok(records) = otlp_json::decode_logs(data) {
        for record in &records {
            let _ = extract::to_event(record, 1.0);
        }
    }
    let _ = otlp_json::check_metrics(data);
    let _ = otlp_json::check_traces(data);
}

/// Masking secrets in captured bodies and command lines: no panic, and no API key survives.
pub fn redact(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let masked = crate::capture::redact::redact_body(&text);
    assert_no_key(&masked);
    let argv: Vec<String> = text.split(' ').map(str::to_owned).collect();
    let _ = crate::capture::redact::redact_command(&argv);
}

/// Fails when `text` still holds an `sk-` key: the prefix at the start of a word followed by
/// eight or more key characters.
fn assert_no_key(text: &str) {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("sk-") {
        if at > 0 && bytes[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let run = bytes[at + 3..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .count();
        assert!(run < 8, "a key survived masking: {text:?}");
    }
}

/// Request inspection: the skim (fed in pieces, as frames arrive) says what reading the whole
/// body with serde says. A body serde reads must be skimmed to the same summary; the skim may
/// decline one (`None`: a role named again after the message was dropped, nesting past its
/// limit), and then `inspect` reads it whole. A body the skim follows reads the same however
/// it was split.
pub fn request_skim(data: &[u8]) {
    use bytes::Bytes;

    use crate::capture::request::{BodySkim, RequestSummary};

    let (seed, body) = seed_and_stream(data);
    let skim = |chunks: &[&[u8]]| {
        let mut skim = BodySkim::default();
        for chunk in chunks {
            skim.feed(chunk);
        }
        RequestSummary::from_skim(ApiKind::Messages, skim)
    };
    let one = skim(&[body]);
    let split = skim(&pieces(body, seed));
    assert_eq!(one, split, "the skim depends on how the body was split");
    let whole = RequestSummary::inspect_whole(ApiKind::Messages, &[Bytes::copy_from_slice(body)]);
    if let (Ok(whole), Some(skimmed)) = (&whole, &one) {
        assert_eq!(whole, skimmed, "the skim and the whole read disagree");
    }
}
