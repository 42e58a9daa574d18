//! [`add_include_usage`]: making an OpenAI chat streaming request report usage, by splicing a
//! `stream_options` member into the body's chunks (or, rarely, re-serializing it).

use bytes::Bytes;

use super::reader::ChunksReader;
use super::{InspectError, RequestSummary, StreamOptionsShape};
use crate::observation::ApiKind;

/// The member the proxy appends to an OpenAI chat request so the stream reports usage.
const INCLUDE_USAGE_MEMBER: &[u8] = b"\"stream_options\":{\"include_usage\":true}}";

/// A request body edited by [`add_include_usage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrittenBody {
    /// The body to send, sharing the original chunks' memory where possible.
    pub chunks: Vec<Bytes>,
    /// Its total length, for `Content-Length`.
    pub len: u64,
}

/// Makes an OpenAI chat streaming request report usage: returns the body with
/// `stream_options.include_usage` set to `true`, or `None` when nothing is to be done (not a
/// Chat Completions request, not streaming — OpenAI rejects `stream_options` then — or
/// `include_usage` already true).
///
/// `summary` must be [`RequestSummary::inspect`]'s result for this `body` (passing it avoids a
/// second parse). The usual case, no `stream_options` at all, copies nothing: the member is
/// spliced in before the final `}` as a small new chunk, the original chunks are shared. When a
/// `stream_options` object exists already (or is `null`), the body is re-serialized through
/// `serde_json::Value` instead; that is rare and changes the member order (keys come out
/// sorted).
pub fn add_include_usage(
    body: &[Bytes],
    summary: &RequestSummary,
) -> Result<Option<RewrittenBody>, InspectError> {
    if summary.api != ApiKind::ChatCompletions
        || !summary.stream
        || summary.include_usage == Some(true)
    {
        return Ok(None);
    }
    let chunks = match summary.stream_options {
        StreamOptionsShape::Absent => splice_member(body)?,
        StreamOptionsShape::Object | StreamOptionsShape::Other => rewrite_value(body)?,
    };
    let len = chunks.iter().map(|c| c.len() as u64).sum();
    Ok(Some(RewrittenBody { chunks, len }))
}

/// Inserts the include-usage member before the body's final `}`, sharing all original bytes.
pub(super) fn splice_member(body: &[Bytes]) -> Result<Vec<Bytes>, InspectError> {
    let (ci, off) = last_non_ws(body, body.len(), None).ok_or(InspectError::NotAnObject)?;
    if body[ci][off] != b'}' {
        return Err(InspectError::NotAnObject);
    }
    let empty_object = last_non_ws(body, ci, Some(off)).map(|(c, o)| body[c][o]) == Some(b'{');
    let mut out: Vec<Bytes> = body[..ci]
        .iter()
        .filter(|c| !c.is_empty())
        .cloned()
        .collect();
    if off > 0 {
        out.push(body[ci].slice(..off));
    }
    out.push(if empty_object {
        Bytes::from_static(INCLUDE_USAGE_MEMBER)
    } else {
        let mut member = Vec::with_capacity(INCLUDE_USAGE_MEMBER.len() + 1);
        member.push(b',');
        member.extend_from_slice(INCLUDE_USAGE_MEMBER);
        Bytes::from(member)
    });
    Ok(out)
}

/// The position (chunk, offset) of the last non-whitespace byte before chunk `end_chunk`, or
/// before offset `end_off` of chunk `end_chunk` when given.
fn last_non_ws(body: &[Bytes], end_chunk: usize, end_off: Option<usize>) -> Option<(usize, usize)> {
    let (mut ci, mut limit) = match end_off {
        Some(off) => (end_chunk, off),
        None => (end_chunk.checked_sub(1)?, usize::MAX),
    };
    loop {
        let chunk = &body[ci];
        let upto = limit.min(chunk.len());
        if let Some(i) = chunk[..upto]
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Some((ci, i));
        }
        ci = ci.checked_sub(1)?;
        limit = usize::MAX;
    }
}

/// Sets `stream_options.include_usage = true` through a full `Value` round trip.
fn rewrite_value(body: &[Bytes]) -> Result<Vec<Bytes>, InspectError> {
    let mut value: serde_json::Value = match body {
        [one] => serde_json::from_slice(one)?,
        chunks => serde_json::from_reader(ChunksReader::new(chunks))?,
    };
    let obj = value.as_object_mut().ok_or(InspectError::NotAnObject)?;
    let options = obj
        .entry("stream_options")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    match options.as_object_mut() {
        Some(o) => {
            o.insert("include_usage".to_owned(), serde_json::Value::Bool(true));
        }
        None => *options = serde_json::json!({ "include_usage": true }),
    }
    Ok(vec![Bytes::from(serde_json::to_vec(&value)?)])
}
