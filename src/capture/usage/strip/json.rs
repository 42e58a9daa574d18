//! A scanner for one chunk's JSON that finds its top-level members without parsing values,
//! enough to tell a usage-only chunk from one carrying `"usage":null`, and where to cut.

use std::ops::Range;

use memchr::memchr2;

/// What a chunk's top-level members say about `include_usage`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Chunk {
    /// `"choices":[]` with a non-null usage object: the chunk `include_usage` adds.
    UsageOnly,
    /// A `"usage":null` member; the range to cut, comma included.
    UsageNull(Range<usize>),
    /// Anything else, including JSON this scanner cannot follow.
    Other,
}

/// Classifies a chunk's JSON by its top-level members, without parsing values.
pub(super) fn inspect_chunk(json: &[u8]) -> Chunk {
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
