//! Unit tests of the include-usage stripper: output bytes under every framing, zero-copy
//! forwarding, and the boundary scanner and chunk classifier underneath.

use super::super::openai_chat::tests::{STREAM_WITH_USAGE, STREAM_WITHOUT_USAGE};
use super::super::test_support::to_crlf;
use super::*;
use crate::observation::Usage;

/// Runs the stripper over `frames`; returns the forwarded bytes, how many `Bytes` they came
/// in, and the summary.
fn strip(frames: &[&[u8]]) -> (Vec<u8>, Vec<Bytes>, ResponseSummary) {
    let mut s = IncludeUsageStripper::new();
    let mut out = Vec::new();
    for f in frames {
        s.push(Bytes::copy_from_slice(f), &mut out);
    }
    let summary = s.finish(&mut out);
    (out.concat(), out, summary)
}

/// Strips `stream` whole, split in two at every byte, as 1-byte frames and in pseudo-random
/// framings; asserts every run forwards `expected` and yields the same summary.
fn check_all_splits(stream: &[u8], expected: &[u8]) -> ResponseSummary {
    let (bytes, _, whole) = strip(&[stream]);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(expected)
    );
    for cut in 0..=stream.len() {
        let (bytes, _, summary) = strip(&[&stream[..cut], &stream[cut..]]);
        assert_eq!(bytes, expected, "split at {cut}");
        assert_eq!(summary, whole, "split at {cut}");
    }
    let singles: Vec<&[u8]> = stream.chunks(1).collect();
    let (bytes, _, summary) = strip(&singles);
    assert_eq!(bytes, expected, "1-byte frames");
    assert_eq!(summary, whole);
    let mut seed = 0xdead_beef_cafe_f00du64;
    for _ in 0..30 {
        let mut frames = Vec::new();
        let mut pos = 0;
        while pos < stream.len() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let end = (pos + (seed % 300) as usize).min(stream.len());
            frames.push(&stream[pos..end]);
            pos = end;
        }
        let (bytes, _, summary) = strip(&frames);
        assert_eq!(bytes, expected, "random framing");
        assert_eq!(summary, whole);
    }
    whole
}

fn expected_usage() -> Option<Usage> {
    Some(Usage {
        input_tokens: 86,
        output_tokens: 300,
        cache_read_input_tokens: 1920,
        ..Usage::default()
    })
}

#[test]
fn client_sees_stream_without_usage_any_framing() {
    let summary = check_all_splits(
        STREAM_WITH_USAGE.as_bytes(),
        STREAM_WITHOUT_USAGE.as_bytes(),
    );
    assert_eq!(summary.usage, expected_usage());
    assert!(summary.is_complete());
    assert_eq!(summary.events, 5);
}

#[test]
fn crlf_stream() {
    let summary = check_all_splits(
        &to_crlf(STREAM_WITH_USAGE.as_bytes()),
        &to_crlf(STREAM_WITHOUT_USAGE.as_bytes()),
    );
    assert_eq!(summary.usage, expected_usage());
}

#[test]
fn cr_only_stream() {
    let cr = |s: &str| s.replace('\n', "\r").into_bytes();
    let summary = check_all_splits(&cr(STREAM_WITH_USAGE), &cr(STREAM_WITHOUT_USAGE));
    assert_eq!(summary.usage, expected_usage());
}

#[test]
fn usage_null_positions_and_spacing() {
    let stream = b"data: {\"usage\":null,\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n\
data: {\"id\":\"c\", \"usage\": null, \"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n\
data: {\"id\":\"c\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}], \"usage\" :  null }\n\n\
data: {\"usage\":null}\n\n\
: keep-alive\n\n\
data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n\
data: [DONE]\n\n";
    let expected = b"data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n\
data: {\"id\":\"c\", \"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n\
data: {\"id\":\"c\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}] }\n\n\
data: {}\n\n\
: keep-alive\n\n\
data: [DONE]\n\n";
    let summary = check_all_splits(stream, expected);
    assert_eq!(summary.usage.map(|u| u.total_tokens()), Some(7));
}

#[test]
fn nested_or_quoted_usage_is_not_touched() {
    let stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\",\"usage\":null}}],\"x\":{\"usage\":null}}\n\n\
data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n\
data: [DONE]\n\n";
    // Nothing at top level to remove; a usage object next to non-empty choices is kept.
    check_all_splits(stream, stream);
}

#[test]
fn multi_line_usage_chunk_is_dropped() {
    let stream = b"data: {\"id\":\"c\",\n\
data: \"choices\":[],\n\
data: \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n\
data: [DONE]\n\n";
    let summary = check_all_splits(stream, b"data: [DONE]\n\n");
    assert_eq!(summary.usage.map(|u| u.total_tokens()), Some(4));
}

#[test]
fn torn_stream_forwards_partial_event_unchanged() {
    let cut = STREAM_WITH_USAGE.find("\"total_tokens\"").unwrap();
    let stream = &STREAM_WITH_USAGE.as_bytes()[..cut];
    let done = STREAM_WITHOUT_USAGE.find("data: [DONE]").unwrap();
    let partial_start = STREAM_WITH_USAGE.find("data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[],").unwrap();
    let mut expected = STREAM_WITHOUT_USAGE.as_bytes()[..done].to_vec();
    expected.extend_from_slice(&stream[partial_start..]);
    let summary = check_all_splits(stream, &expected);
    assert!(summary.torn);
    assert_eq!(summary.usage, None);
}

#[test]
fn unchanged_frames_are_forwarded_zero_copy() {
    let mut s = IncludeUsageStripper::new();
    let mut out = Vec::new();
    let frame = Bytes::from_static(b": keep-alive\n\ndata: [DONE]\n\ndata: {\"par");
    s.push(frame.clone(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].as_ptr(),
        frame.as_ptr(),
        "a slice of the frame, not a copy"
    );
    assert_eq!(&out[0][..], b": keep-alive\n\ndata: [DONE]\n\n");
    // The held partial event is forwarded as the original piece when it needs no edit.
    out.clear();
    let rest = Bytes::from_static(b"tial\":1}\n\n");
    s.push(rest.clone(), &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].as_ptr(), frame[28..].as_ptr());
    assert_eq!(out[1].as_ptr(), rest.as_ptr());
    let summary = s.finish(&mut out);
    assert_eq!(summary.events, 2, "the comment is not an event");
}

#[test]
fn edited_frame_coalesces_small_pieces_and_slices_large_ones() {
    let (bytes, pieces, _) = strip(&[STREAM_WITH_USAGE.as_bytes()]);
    assert_eq!(bytes, STREAM_WITHOUT_USAGE.as_bytes());
    assert_eq!(pieces.len(), 1, "small edited chunks become one buffer");

    let big = "y".repeat(4000);
    let stream = format!(
        "data: {{\"id\":\"c\",\"choices\":[{{\"delta\":{{\"content\":\"{big}\"}}}}],\"usage\":null}}\n\n"
    );
    let frame = Bytes::from(stream.clone());
    let mut s = IncludeUsageStripper::new();
    let mut out = Vec::new();
    s.push(frame.clone(), &mut out);
    assert_eq!(
        out.concat(),
        stream.replace(",\"usage\":null", "").into_bytes()
    );
    assert_eq!(
        out[0].as_ptr(),
        frame.as_ptr(),
        "the long unchanged stretch is sliced"
    );
}

#[test]
fn scanner_finds_boundaries_with_all_terminators() {
    let mut sc = BoundaryScanner::default();
    assert_eq!(
        sc.next_event_end(b"data: a\n\ndata: b\r\n\r\nx", 0),
        Some(9)
    );
    assert_eq!(
        sc.next_event_end(b"data: a\n\ndata: b\r\n\r\nx", 9),
        Some(20)
    );
    assert_eq!(sc.next_event_end(b"data: a\n\ndata: b\r\n\r\nx", 20), None);
    let mut sc = BoundaryScanner::default();
    assert_eq!(sc.next_event_end(b"data: a\r", 0), None);
    assert_eq!(sc.next_event_end(b"\n\r\n", 0), Some(3));
}

#[test]
fn inspect_chunk_cases() {
    assert_eq!(
        inspect_chunk(br#"{"a":1,"usage":null}"#),
        Chunk::UsageNull(6..19)
    );
    assert_eq!(
        inspect_chunk(br#"{"usage":null,"a":1}"#),
        Chunk::UsageNull(1..14)
    );
    assert_eq!(
        inspect_chunk(br#"{"choices": [ ], "usage": {"prompt_tokens":1}}"#),
        Chunk::UsageOnly
    );
    assert_eq!(
        inspect_chunk(br#"{"choices":[],"usage":null}"#),
        Chunk::UsageNull(13..26)
    );
    assert_eq!(inspect_chunk(br#"{"choices":[]}"#), Chunk::Other);
    assert_eq!(inspect_chunk(br#"{"usage":null"#), Chunk::Other);
    assert_eq!(inspect_chunk(b"[DONE]"), Chunk::Other);
    assert_eq!(
        inspect_chunk(br#"{"a":"\"}","usage":null}"#),
        Chunk::UsageNull(10..23)
    );
}
