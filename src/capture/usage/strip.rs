//! Hiding a proxy-added `stream_options.include_usage` from an OpenAI Chat Completions client.
//!
//! When the client did not ask for usage, the proxy asks on its behalf (usage is the whole point
//! of agentprof) and must then give the client exactly the bytes it would have had otherwise.
//! `include_usage` changes a stream in two ways, both undone here:
//!
//! 1. one extra chunk before `[DONE]` with `"choices":[]` and a usage object — dropped whole,
//!    blank line included;
//! 2. a `"usage":null` member in every other chunk — removed with its comma, the rest of the
//!    chunk left byte-for-byte as it was (no JSON re-formatting).
//!
//! [`IncludeUsageStripper`] owns that rewrite and also feeds every original byte to a
//! [`StreamUsageParser`], so the proxy calls one method per frame and still gets the usage.
//!
//! Output is re-framed only at event boundaries: bytes of an unfinished event are held until its
//! blank line arrives, because whether an event must change is only known once it is complete.
//! Unchanged bytes go out as zero-copy [`Bytes::slice`]s of the upstream frame; only events that
//! are edited are copied (and long unchanged stretches inside an edited frame are still sliced).

use std::ops::Range;
use std::sync::LazyLock;

use bytes::Bytes;
use memchr::memchr2;
use memchr::memmem::Finder;

use super::{ResponseSummary, StreamUsageParser};
use crate::observation::ApiKind;

/// Unchanged stretches at least this long are forwarded as slices even inside an edited frame;
/// shorter ones are coalesced into one copied buffer so the client gets one write, not many.
const SLICE_MIN: usize = 512;

/// Rewrites an OpenAI chat stream as if `include_usage` had not been set, while capturing usage.
///
/// Use it only for a 2xx `text/event-stream` Chat Completions response to a request where the
/// proxy itself added `include_usage` (see `capture::request::add_include_usage`).
#[derive(Debug)]
pub struct IncludeUsageStripper {
    parser: StreamUsageParser,
    scanner: BoundaryScanner,
    /// Pieces of the event under way (not yet closed by a blank line), as received.
    pending: Vec<Bytes>,
    /// A contiguous copy of an event that spanned frames, for inspecting it.
    scratch: Vec<u8>,
    /// The joined data of a multi-line event, for inspecting it.
    decoded: Vec<u8>,
    /// The previous frame ended with the CR that closed an event; `Some(dropped)` says whether
    /// that event was dropped, so an LF opening the next frame (the rest of its CRLF) shares its
    /// fate.
    cr_closed_event: Option<bool>,
}

/// The searcher for `"usage"`, the cheap test that lets most events through untouched; built
/// once per process.
static USAGE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));

impl Default for IncludeUsageStripper {
    fn default() -> Self {
        Self::new()
    }
}

impl IncludeUsageStripper {
    /// A stripper at the start of a Chat Completions stream.
    pub fn new() -> Self {
        Self {
            parser: StreamUsageParser::new(ApiKind::ChatCompletions),
            scanner: BoundaryScanner::default(),
            pending: Vec::new(),
            scratch: Vec::new(),
            decoded: Vec::new(),
            cr_closed_event: None,
        }
    }

    /// Takes the next upstream frame and appends to `out` the bytes to forward to the client now
    /// (possibly none, while an event is incomplete).
    pub fn push(&mut self, frame: Bytes, out: &mut Vec<Bytes>) {
        self.parser.feed(&frame);
        if frame.is_empty() {
            return;
        }
        let mut em = Emitter::new(&frame, out);
        let mut pos = 0;
        if let Some(dropped) = self.cr_closed_event.take()
            && frame[0] == b'\n'
        {
            if !dropped {
                em.keep(0..1);
            }
            pos = 1;
        }
        while let Some(end) = self.scanner.next_event_end(&frame, pos) {
            let action = if self.pending.is_empty() {
                let action = classify(&frame[pos..end], &USAGE_KEY, &mut self.decoded);
                match &action {
                    Action::Keep => em.keep(pos..end),
                    Action::Drop => {}
                    Action::Remove(r) => {
                        em.keep(pos..pos + r.start);
                        em.keep(pos + r.end..end);
                    }
                }
                action
            } else {
                // The event began in an earlier frame: inspect a contiguous copy, but forward
                // the original pieces when it needs no edit.
                self.scratch.clear();
                for piece in &self.pending {
                    self.scratch.extend_from_slice(piece);
                }
                self.scratch.extend_from_slice(&frame[pos..end]);
                let action = classify(&self.scratch, &USAGE_KEY, &mut self.decoded);
                match &action {
                    Action::Keep => {
                        for piece in self.pending.drain(..) {
                            em.shared(piece);
                        }
                        em.keep(pos..end);
                    }
                    Action::Drop => self.pending.clear(),
                    Action::Remove(r) => {
                        self.pending.clear();
                        em.copy(&self.scratch[..r.start]);
                        em.copy(&self.scratch[r.end..]);
                    }
                }
                action
            };
            if end == frame.len() && frame[end - 1] == b'\r' {
                self.cr_closed_event = Some(action == Action::Drop);
            }
            pos = end;
        }
        if pos < frame.len() {
            self.pending.push(frame.slice(pos..));
        }
        em.finish();
    }

    /// Ends the stream: forwards any bytes of an unfinished event unchanged (a torn stream must
    /// reach the client as torn as it was) and returns the usage summary of the whole stream.
    pub fn finish(mut self, out: &mut Vec<Bytes>) -> ResponseSummary {
        out.append(&mut self.pending);
        self.parser.finish()
    }
}

/// What to do with one complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Forward unchanged.
    Keep,
    /// The usage-only chunk: forward nothing.
    Drop,
    /// Forward all but this byte range (the `"usage":null` member and its comma).
    Remove(Range<usize>),
}

/// Decides what `include_usage` did to this event (`ev` is the whole event, blank line
/// included).
fn classify(ev: &[u8], usage_key: &Finder<'_>, decoded: &mut Vec<u8>) -> Action {
    if usage_key.find(ev).is_none() {
        return Action::Keep; // the common case with no usage member at all, e.g. `[DONE]`
    }
    let mut data_lines = 0;
    let mut payload = 0..0;
    for line in Lines::new(ev) {
        if let Some(value) = data_value(ev, line) {
            data_lines += 1;
            payload = value;
        }
    }
    match data_lines {
        0 => Action::Keep,
        1 => match inspect_chunk(&ev[payload.clone()]) {
            Chunk::UsageOnly => Action::Drop,
            Chunk::UsageNull(r) => Action::Remove(payload.start + r.start..payload.start + r.end),
            Chunk::Other => Action::Keep,
        },
        _ => {
            // JSON split over several `data:` lines (OpenAI never does this). The usage-only
            // chunk can still be recognised and dropped; a `"usage":null` spread over lines is
            // left alone rather than risk corrupting the event.
            decoded.clear();
            for line in Lines::new(ev) {
                if let Some(value) = data_value(ev, line) {
                    decoded.extend_from_slice(&ev[value]);
                    decoded.push(b'\n');
                }
            }
            match inspect_chunk(decoded) {
                Chunk::UsageOnly => Action::Drop,
                _ => Action::Keep,
            }
        }
    }
}

/// The value range of a `data` field line (SSE rules: one optional space after the colon).
fn data_value(ev: &[u8], line: Range<usize>) -> Option<Range<usize>> {
    let text = &ev[line.clone()];
    if text == b"data" {
        return Some(line.end..line.end);
    }
    let rest = text.strip_prefix(b"data:")?;
    let skip = usize::from(rest.first() == Some(&b' '));
    Some(line.start + 5 + skip..line.end)
}

/// The content ranges of the lines of one event (terminators excluded).
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
}

impl Iterator for Lines<'_> {
    type Item = Range<usize>;
    fn next(&mut self) -> Option<Range<usize>> {
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        let start = self.pos;
        let end = memchr2(b'\n', b'\r', rest).map_or(self.buf.len(), |i| start + i);
        self.pos = match (self.buf.get(end), self.buf.get(end + 1)) {
            (Some(b'\r'), Some(b'\n')) => end + 2,
            _ => end + 1,
        };
        Some(start..end)
    }
}

/// What a chunk's top-level members say about `include_usage`.
#[derive(Debug, PartialEq, Eq)]
enum Chunk {
    /// `"choices":[]` with a non-null usage object: the chunk `include_usage` adds.
    UsageOnly,
    /// A `"usage":null` member; the range to cut, comma included.
    UsageNull(Range<usize>),
    /// Anything else, including JSON this scanner cannot follow.
    Other,
}

/// Classifies a chunk's JSON by its top-level members, without parsing values.
fn inspect_chunk(json: &[u8]) -> Chunk {
    let mut usage: Option<Member<'_>> = None;
    let mut choices_empty = false;
    let scanned = scan_members(json, |m| {
        if m.key == b"usage" {
            usage = Some(m);
        } else if m.key == b"choices" {
            choices_empty = is_empty_array(&json[m.value.clone()]);
        }
    });
    let (Some(()), Some(m)) = (scanned, usage) else {
        return Chunk::Other;
    };
    let value = &json[m.value.clone()];
    if value == b"null" {
        let cut = match (m.comma_before, comma_after(json, m.value.end)) {
            (Some(c), _) => c..m.value.end,
            (None, Some(c)) => m.start..skip_ws(json, c + 1),
            (None, None) => m.start..m.value.end,
        };
        Chunk::UsageNull(cut)
    } else if value.first() == Some(&b'{') && choices_empty {
        Chunk::UsageOnly
    } else {
        Chunk::Other
    }
}

/// One member of the top-level object.
#[derive(Debug, Clone)]
struct Member<'a> {
    /// The key's raw bytes between its quotes.
    key: &'a [u8],
    /// Offset of the key's opening quote.
    start: usize,
    /// The value's byte range.
    value: Range<usize>,
    /// Offset of the comma before this member, if it is not the first.
    comma_before: Option<usize>,
}

/// Calls `f` for every member of the top-level object in `json`. `None` if `json` is not an
/// object this scanner can follow (then nothing is edited).
fn scan_members<'a>(json: &'a [u8], mut f: impl FnMut(Member<'a>)) -> Option<()> {
    let mut i = skip_ws(json, 0);
    if json.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut comma_before = None;
    loop {
        i = skip_ws(json, i);
        match json.get(i)? {
            b'}' if comma_before.is_none() => return Some(()),
            b'"' => {}
            _ => return None,
        }
        let start = i;
        let key_end = skip_string(json, i)?;
        let key = json.get(start + 1..key_end - 1)?;
        i = skip_ws(json, key_end);
        if json.get(i) != Some(&b':') {
            return None;
        }
        let value_start = skip_ws(json, i + 1);
        let value_end = skip_value(json, value_start)?;
        f(Member {
            key,
            start,
            value: value_start..value_end,
            comma_before,
        });
        i = skip_ws(json, value_end);
        match json.get(i)? {
            b',' => {
                comma_before = Some(i);
                i += 1;
            }
            b'}' => return Some(()),
            _ => return None,
        }
    }
}

/// The offset of a comma following position `i` (after whitespace), if any.
fn comma_after(json: &[u8], i: usize) -> Option<usize> {
    let j = skip_ws(json, i);
    (json.get(j) == Some(&b',')).then_some(j)
}

/// Whether `value` is `[]`, whitespace allowed inside.
fn is_empty_array(value: &[u8]) -> bool {
    value.first() == Some(&b'[') && value.get(skip_ws(value, 1)) == Some(&b']')
}

/// The first offset at or after `i` that is not JSON whitespace.
fn skip_ws(json: &[u8], mut i: usize) -> usize {
    while matches!(json.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string whose opening quote is at `i`.
fn skip_string(json: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = memchr2(b'"', b'\\', json.get(j..)?)?;
        let p = j + k;
        if json[p] == b'\\' {
            j = p + 2; // skip the escaped byte, whatever it is
        } else {
            return Some(p + 1);
        }
    }
}

/// The end (exclusive) of the JSON value starting at `i`.
fn skip_value(json: &[u8], i: usize) -> Option<usize> {
    match json.get(i)? {
        b'"' => skip_string(json, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match json.get(j)? {
                    b'"' => {
                        j = skip_string(json, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let len = json[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(json.len() - i);
            (len > 0).then_some(i + len)
        }
    }
}

/// Finds where SSE events end in a byte stream delivered in frames: after the line terminator
/// of a blank line. Line terminators are LF, CRLF or CR, as for the decoder.
#[derive(Debug, Default)]
struct BoundaryScanner {
    /// The current line has content (so its terminator does not end the event).
    in_line: bool,
    /// The previous frame ended with a CR inside an event: an LF opening this one belongs to it.
    after_cr: bool,
}

impl BoundaryScanner {
    /// The end (exclusive) of the first event ending at or after `pos` in `buf`, or `None` if the
    /// event under way does not end in `buf` (state is kept for the next frame).
    fn next_event_end(&mut self, buf: &[u8], mut pos: usize) -> Option<usize> {
        if self.after_cr && pos < buf.len() {
            self.after_cr = false;
            if buf[pos] == b'\n' {
                pos += 1;
            }
        }
        loop {
            if !self.in_line {
                match buf.get(pos)? {
                    b'\n' => return Some(pos + 1),
                    b'\r' => {
                        return Some(if buf.get(pos + 1) == Some(&b'\n') {
                            pos + 2
                        } else {
                            pos + 1
                        });
                    }
                    _ => self.in_line = true,
                }
            }
            let k = memchr2(b'\n', b'\r', buf.get(pos..)?)?;
            let p = pos + k;
            self.in_line = false;
            pos = p + 1;
            if buf[p] == b'\r' {
                match buf.get(pos) {
                    Some(b'\n') => pos += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
    }
}

/// Collects the bytes to forward for one frame, coalescing where that is cheaper than slicing.
struct Emitter<'a> {
    frame: &'a Bytes,
    out: &'a mut Vec<Bytes>,
    /// A stretch of `frame` to forward, not yet emitted (it may still grow).
    run: Option<Range<usize>>,
    /// Small pieces copied together into one buffer.
    copy: Vec<u8>,
}

impl<'a> Emitter<'a> {
    fn new(frame: &'a Bytes, out: &'a mut Vec<Bytes>) -> Self {
        Self {
            frame,
            out,
            run: None,
            copy: Vec::new(),
        }
    }

    /// Forwards `r` of the frame.
    fn keep(&mut self, r: Range<usize>) {
        if r.is_empty() {
            return;
        }
        match &mut self.run {
            Some(run) if run.end == r.start => run.end = r.end,
            _ => {
                self.commit_run();
                self.run = Some(r);
            }
        }
    }

    /// Forwards a held piece of an earlier frame, zero-copy.
    fn shared(&mut self, piece: Bytes) {
        self.commit_run();
        self.flush_copy();
        self.out.push(piece);
    }

    /// Forwards edited bytes (copied).
    fn copy(&mut self, bytes: &[u8]) {
        self.commit_run();
        self.copy.extend_from_slice(bytes);
    }

    /// A run that cannot grow any more: slice it if long, else coalesce it.
    fn commit_run(&mut self) {
        if let Some(run) = self.run.take() {
            if run.len() >= SLICE_MIN {
                self.flush_copy();
                self.out.push(self.frame.slice(run));
            } else {
                self.copy.extend_from_slice(&self.frame[run]);
            }
        }
    }

    fn flush_copy(&mut self) {
        if !self.copy.is_empty() {
            self.out.push(Bytes::from(std::mem::take(&mut self.copy)));
        }
    }

    /// Emits everything. A frame that needed no edit becomes one zero-copy slice.
    fn finish(mut self) {
        if let Some(run) = self.run.take() {
            if self.copy.is_empty() || run.len() >= SLICE_MIN {
                self.flush_copy();
                self.out.push(self.frame.slice(run));
            } else {
                self.copy.extend_from_slice(&self.frame[run]);
            }
        }
        self.flush_copy();
    }
}

#[cfg(test)]
mod tests {
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
}
