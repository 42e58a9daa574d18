//! The mock's deterministic token model and generated text.
//!
//! * A prompt is cut into *segments*: the prefix (Anthropic: `system` + `tools`; OpenAI: `tools`,
//!   plus `instructions` for Responses) and then one segment per message / input item.
//! * A segment costs `ceil(bytes / 4)` tokens, where bytes are its compact JSON with every
//!   `cache_control` member removed (markers move from call to call; they must not change the
//!   tokens or the cache key of content that did not change).
//! * Each segment carries the hash of the whole prompt up to and including it (model first), so
//!   equal prefixes have equal hashes: the prompt cache's keys.
//! * Output length is `20 + h mod (cap − 19)` tokens with `cap = min(max_tokens, 800)`, where `h`
//!   hashes the whole prompt; the text has 4 bytes per token.

use serde_json::Value;

use crate::demo::det::{Fnv, Rng};

/// Upper bound on generated output, whatever `max_tokens` says (keeps responses small).
pub(crate) const MAX_OUTPUT_TOKENS: u64 = 800;
/// Lower bound on generated output when `max_tokens` allows it.
pub(crate) const MIN_OUTPUT_TOKENS: u64 = 20;

/// Tokens for `n` bytes: `ceil(n / 4)`.
pub(crate) fn tokens_for_bytes(n: usize) -> u64 {
    (n as u64).div_ceil(4)
}

/// Compact JSON of `v` without any `cache_control` member.
pub(crate) fn canonical_bytes(v: &Value) -> Vec<u8> {
    let mut v = v.clone();
    strip_cache_control(&mut v);
    serde_json::to_vec(&v).unwrap_or_default()
}

fn strip_cache_control(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("cache_control");
            map.values_mut().for_each(strip_cache_control);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_cache_control),
        _ => {}
    }
}

/// Every `cache_control` object anywhere inside `v`.
fn cache_controls(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            if let Some(cc) = map.get("cache_control") {
                out.push(cc.clone());
            }
            map.values().for_each(|x| cache_controls(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| cache_controls(x, out)),
        _ => {}
    }
}

/// Whether `v` holds any `cache_control` marker.
pub(crate) fn has_cache_control(v: &Value) -> bool {
    let mut found = Vec::new();
    cache_controls(v, &mut found);
    !found.is_empty()
}

/// Whether `v` holds a `cache_control` marker asking for the 1-hour TTL.
pub(crate) fn has_1h_marker(v: &Value) -> bool {
    let mut found = Vec::new();
    cache_controls(v, &mut found);
    found
        .iter()
        .any(|cc| cc.get("ttl").and_then(Value::as_str) == Some("1h"))
}

/// One cacheable piece of a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) tokens: u64,
    /// Hash of the model and every segment up to and including this one.
    pub(crate) prefix_hash: u64,
    /// Whether a `cache_control` with `"ttl":"1h"` sits inside this segment.
    pub(crate) marks_1h: bool,
}

/// Cuts a prompt into segments: one for `prefix_parts` together, then one per item.
pub(crate) fn segments(
    model: &str,
    prefix_parts: &[Option<&Value>],
    items: &[Value],
) -> Vec<Segment> {
    let mut h = Fnv::new().feed(model.as_bytes());
    let mut prefix_bytes = 0;
    let mut marks_1h = false;
    for part in prefix_parts {
        let bytes = part.map(canonical_bytes).unwrap_or_default();
        prefix_bytes += bytes.len();
        h = h.feed(&bytes);
        marks_1h |= part.is_some_and(has_1h_marker);
    }
    let mut out = vec![Segment {
        tokens: tokens_for_bytes(prefix_bytes),
        prefix_hash: h.value(),
        marks_1h,
    }];
    for item in items {
        let bytes = canonical_bytes(item);
        h = h.feed(&bytes);
        out.push(Segment {
            tokens: tokens_for_bytes(bytes.len()),
            prefix_hash: h.value(),
            marks_1h: has_1h_marker(item),
        });
    }
    out
}

/// Total prompt tokens of a segmented prompt.
pub(crate) fn prompt_tokens(segs: &[Segment]) -> u64 {
    segs.iter().map(|s| s.tokens).sum()
}

/// Hash identifying the whole prompt (the last segment's prefix hash).
pub(crate) fn prompt_hash(segs: &[Segment]) -> u64 {
    segs.last().map_or(0, |s| s.prefix_hash)
}

/// Deterministic output length for a prompt.
pub(crate) fn output_tokens(prompt_hash: u64, max_tokens: Option<u64>) -> u64 {
    let cap = max_tokens
        .unwrap_or(MAX_OUTPUT_TOKENS)
        .clamp(1, MAX_OUTPUT_TOKENS);
    if cap <= MIN_OUTPUT_TOKENS {
        return cap;
    }
    let h = Rng::new(prompt_hash).next_u64();
    MIN_OUTPUT_TOKENS + h % (cap - MIN_OUTPUT_TOKENS + 1)
}

const WORDS: [&str; 32] = [
    "the", "and", "fix", "run", "add", "use", "map", "key", "err", "log", "api", "set", "get",
    "row", "cap", "box", "arc", "ref", "let", "pub", "mod", "new", "old", "bug", "try", "now",
    "all", "one", "two", "end", "top", "dev",
];

/// `tokens` words of 3 letters, space-separated and ending in `.`: exactly 4 bytes per token.
pub(crate) fn generate_text(prompt_hash: u64, tokens: u64) -> String {
    let mut rng = Rng::new(prompt_hash ^ 0x7e57);
    let mut text = String::with_capacity(usize::try_from(tokens * 4).unwrap_or(0));
    for i in 0..tokens {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(rng.pick(&WORDS).copied().unwrap_or("the"));
    }
    text.push('.');
    text
}

/// Splits `text` into pieces of about `words_per_piece` words (at least one piece).
pub(crate) fn split_text(text: &str, words_per_piece: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            current.push(' ');
        }
        current.push_str(word);
        words += 1;
        if words == words_per_piece.max(1) {
            pieces.push(std::mem::take(&mut current));
            words = 0;
        }
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Splits `s` into `n` roughly equal pieces on char boundaries (for `input_json_delta`s).
pub(crate) fn split_even(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let size = chars.len().div_ceil(n.max(1)).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cache_control_does_not_change_tokens_or_hash() {
        let a = json!([{"role":"user","content":[{"type":"text","text":"hello"}]}]);
        let b = json!([{"role":"user","content":[{"type":"text","text":"hello","cache_control":{"type":"ephemeral"}}]}]);
        let items_a = a.as_array().cloned().unwrap_or_default();
        let items_b = b.as_array().cloned().unwrap_or_default();
        assert_eq!(
            segments("m", &[None], &items_a),
            segments("m", &[None], &items_b)
        );
    }

    #[test]
    fn output_is_bounded_and_text_has_four_bytes_per_token() {
        for h in 0..200u64 {
            let n = output_tokens(h, Some(4096));
            assert!((20..=800).contains(&n));
            assert_eq!(generate_text(h, n).len() as u64, 4 * n);
        }
        assert_eq!(output_tokens(1, Some(5)), 5);
    }

    #[test]
    fn split_text_keeps_everything() {
        let text = generate_text(3, 37);
        let pieces = split_text(&text, 8);
        assert_eq!(pieces.len(), 5);
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_even("abcdefg", 3).concat(), "abcdefg");
    }
}
