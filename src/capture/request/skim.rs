//! The fast path of request inspection: a skim over the body that shrinks it to what the
//! serde pass reads, before that pass runs.
//!
//! A long-context body is mostly its `messages` (megabytes of tool results), of which
//! inspection keeps only the count, the first system message and the last user message; and
//! its `tools`, of which it keeps only whether there are any. serde_json skips a string by
//! checking every escape in it, about 0.5 GB/s on code-heavy bodies (`benches/sse_usage.rs`) —
//! milliseconds per call at 2 MB, more than forwarding the body costs. This skim finds the
//! messages and tools by bracket balance, skipping strings with `memchr` for the closing quote
//! (an escaped quote is told by the parity of the backslashes before it), and writes a reduced
//! body: the same members, with `messages` holding only the messages inspection reads and
//! `tools` only whether it was empty. The serde pass then reads the reduced body as before,
//! and the message count is the skim's.
//!
//! Anything unexpected (no `messages` array, a key or role with escapes, a duplicated member,
//! torn or trailing bytes) gives `None`, and the whole body is parsed as before. Messages the
//! skim leaves out are checked for balanced brackets and closed strings, not validated in
//! full.

use memchr::memchr;

/// The body with its bulk left out, and the number of messages it had.
pub(super) struct Reduced {
    pub body: Vec<u8>,
    pub messages: u32,
}

/// Role of a message as far as inspection cares (see `Role` in the parent module).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SkimRole {
    User,
    System,
    Other,
}

/// Reduces `body` (see the module docs), or `None` to parse it whole.
pub(super) fn reduce(body: &[u8]) -> Option<Reduced> {
    let mut p = ws(body, 0);
    if body.get(p) != Some(&b'{') {
        return None;
    }
    p = ws(body, p + 1);
    // Byte ranges replaced in the output, in order: (start, end, replacement).
    let mut cuts: Vec<(usize, usize, Vec<u8>)> = Vec::with_capacity(2);
    let mut messages = None;
    let mut tools_seen = false;
    if body.get(p) == Some(&b'}') {
        return None;
    }
    loop {
        let (name, value) = member(body, p)?;
        p = value;
        let start = p;
        match name {
            b"messages" => {
                if messages.is_some() || body.get(p) != Some(&b'[') {
                    return None;
                }
                let (end, count, kept) = skim_messages(body, p)?;
                messages = Some(count);
                let mut out =
                    Vec::with_capacity(2 + kept.iter().map(|(s, e)| e - s + 1).sum::<usize>());
                out.push(b'[');
                for (i, (s, e)) in kept.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&body[*s..*e]);
                }
                out.push(b']');
                cuts.push((start, end, out));
                p = end;
            }
            b"tools" if body.get(p) == Some(&b'[') => {
                if tools_seen {
                    return None;
                }
                tools_seen = true;
                let end = skip_value(body, p)?;
                let empty = body.get(ws(body, p + 1)) == Some(&b']');
                let replacement = if empty {
                    b"[]".to_vec()
                } else {
                    b"[0]".to_vec()
                };
                cuts.push((start, end, replacement));
                p = end;
            }
            _ => p = skip_value(body, p)?,
        }
        p = ws(body, p);
        match body.get(p) {
            Some(b',') => p = ws(body, p + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if ws(body, p + 1) != body.len() {
        return None;
    }
    let messages = messages?;
    let removed: usize = cuts
        .iter()
        .map(|(s, e, r)| (e - s).saturating_sub(r.len()))
        .sum();
    let mut out = Vec::with_capacity(body.len() - removed);
    let mut at = 0;
    for (s, e, replacement) in &cuts {
        out.extend_from_slice(&body[at..*s]);
        out.extend_from_slice(replacement);
        at = *e;
    }
    out.extend_from_slice(&body[at..]);
    Some(Reduced {
        body: out,
        messages,
    })
}

/// The `messages` array at `p`: where it ends, how many elements it has, and the byte ranges
/// of the ones inspection reads (the first system message, the last user message).
#[allow(clippy::type_complexity)]
fn skim_messages(body: &[u8], p: usize) -> Option<(usize, u32, Vec<(usize, usize)>)> {
    let mut p = ws(body, p + 1);
    let mut count = 0u32;
    let mut first_system = None;
    let mut last_user = None;
    if body.get(p) == Some(&b']') {
        return Some((p + 1, 0, Vec::new()));
    }
    loop {
        let start = p;
        let (end, role) = match body.get(p) {
            Some(b'{') => message(body, p)?,
            _ => (skip_value(body, p)?, SkimRole::Other),
        };
        count = count.saturating_add(1);
        match role {
            SkimRole::User => last_user = Some((start, end)),
            SkimRole::System if first_system.is_none() => first_system = Some((start, end)),
            _ => {}
        }
        p = ws(body, end);
        match body.get(p) {
            Some(b',') => p = ws(body, p + 1),
            Some(b']') => break,
            _ => return None,
        }
    }
    let kept = [first_system, last_user].into_iter().flatten().collect();
    Some((p + 1, count, kept))
}

/// One message object at `p`: where it ends and its role (the last `role` member wins, as in
/// the serde pass).
fn message(body: &[u8], p: usize) -> Option<(usize, SkimRole)> {
    let mut p = ws(body, p + 1);
    let mut role = SkimRole::Other;
    if body.get(p) == Some(&b'}') {
        return Some((p + 1, role));
    }
    loop {
        let (name, value) = member(body, p)?;
        p = value;
        let end = skip_value(body, p)?;
        if name == b"role" {
            role = match body.get(p) {
                Some(b'"') => {
                    let value = &body[p + 1..end - 1];
                    if value.contains(&b'\\') {
                        return None;
                    }
                    match value {
                        b"user" => SkimRole::User,
                        b"system" | b"developer" => SkimRole::System,
                        _ => SkimRole::Other,
                    }
                }
                _ => SkimRole::Other,
            };
        }
        p = ws(body, end);
        match body.get(p) {
            Some(b',') => p = ws(body, p + 1),
            Some(b'}') => return Some((p + 1, role)),
            _ => return None,
        }
    }
}

/// An object member at `p`: its name's text and where its value starts.
fn member(body: &[u8], p: usize) -> Option<(&[u8], usize)> {
    let name = key(body, p)?;
    let colon = ws(body, name.end);
    if body.get(colon) != Some(&b':') {
        return None;
    }
    Some((&body[name.start..name.end - 1], ws(body, colon + 1)))
}

/// A member name at `p`: `start..end-1` is its text, `end` is past its closing quote. A name
/// with escapes gives `None` (it might spell a member inspection reads).
fn key(body: &[u8], p: usize) -> Option<std::ops::Range<usize>> {
    if body.get(p) != Some(&b'"') {
        return None;
    }
    let end = skip_string(body, p)?;
    if body[p + 1..end - 1].contains(&b'\\') {
        return None;
    }
    Some(p + 1..end)
}

/// Past the whitespace at `p`.
fn ws(body: &[u8], mut p: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = body.get(p) {
        p += 1;
    }
    p
}

/// Past the string whose opening quote is at `p`.
fn skip_string(body: &[u8], p: usize) -> Option<usize> {
    let mut from = p + 1;
    loop {
        let q = from + memchr(b'"', body.get(from..)?)?;
        let backslashes = body[from..q]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(q + 1);
        }
        from = q + 1;
    }
}

/// Past the value at `p`: a string, a balanced object or array, or a scalar.
fn skip_value(body: &[u8], p: usize) -> Option<usize> {
    match body.get(p)? {
        b'"' => skip_string(body, p),
        b'{' | b'[' => skip_container(body, p),
        _ => {
            let end = p + body[p..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(body.len() - p);
            (end > p).then_some(end)
        }
    }
}

/// Past the object or array opening at `p`, its brackets balanced and strings closed.
fn skip_container(body: &[u8], p: usize) -> Option<usize> {
    let mut open: Vec<u8> = Vec::with_capacity(16);
    let mut i = p;
    while i < body.len() {
        match body[i] {
            b'"' => {
                i = skip_string(body, i)?;
                continue;
            }
            b'{' => open.push(b'}'),
            b'[' => open.push(b']'),
            c @ (b'}' | b']') => {
                if open.pop() != Some(c) {
                    return None;
                }
                if open.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::reduce;
    use crate::capture::request::RequestSummary;
    use crate::observation::ApiKind;

    /// The skim gives what reading the whole body gives, on bodies meant to trip it.
    #[test]
    fn reduced_bodies_read_like_whole_ones() {
        let bodies = [
            // Claude Code shape: tool loop, last user message is tool results.
            r#"{"model":"m","stream":true,"system":[{"type":"text","text":"sys"}],"tools":[{"name":"Read"}],"messages":[{"role":"user","content":"first"},{"role":"assistant","content":[{"type":"text","text":"ok \"quoted\" ]} {["}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"a\\"}]}],"metadata":{"user_id":"u"}}"#,
            // Role after content, a repeated role (the last wins), whitespace everywhere.
            "{ \"messages\" : [ { \"content\" : \"typed\" , \"role\" : \"user\" } , { \"role\" : \"user\" , \"content\" : [ { \"type\" : \"text\" , \"text\" : \"x\" } ] , \"role\" : \"assistant\" } ] , \"tools\" : [ ] }\n",
            // OpenAI chat: system and developer messages, the first one is kept.
            r#"{"model":"gpt","messages":[{"role":"developer","content":"dev first"},{"role":"system","content":"sys second"},{"role":"user","content":"hello"},{"role":"assistant","content":null}],"stream_options":{"include_usage":false}}"#,
            // Elements that are not objects, nested arrays, numbers, literals.
            r#"{"messages":[1,"two",[3,[4]],null,{"role":"user","content":[{"type":"image","source":{"data":[1,2,{"a":[]}]}}]},true],"max_tokens":12}"#,
            // No user message at all; empty messages; tools not an array.
            r#"{"messages":[{"role":"assistant","content":"a"}],"tools":{"x":1}}"#,
            r#"{"messages":[],"tools":[]}"#,
            // Escapes: backslashes before a quote, a unicode escape, multi-byte text.
            r#"{"messages":[{"role":"user","content":"a\\\\\"b\\\\","x":"\u00e9€"}],"model":"é"}"#,
        ];
        for body in bodies {
            let chunks = [Bytes::copy_from_slice(body.as_bytes())];
            assert!(reduce(body.as_bytes()).is_some(), "not reduced: {body}");
            let whole = RequestSummary::inspect_whole(ApiKind::ChatCompletions, &chunks);
            let fast = RequestSummary::inspect(ApiKind::ChatCompletions, &chunks);
            assert_eq!(fast, whole, "{body}");
            assert!(whole.is_ok(), "{body}");
        }
    }

    /// What the skim does not handle goes to the whole-body read, errors included.
    #[test]
    fn unusual_bodies_fall_back() {
        for body in [
            r#"{"messages":[{"role":"user"}],"messages":[]}"#,
            r#"{"mess\u0061ges":[]}"#,
            r#"{"messages":[{"role":"us\u0065r","content":"x"}]}"#,
            r#"{"messages":"a string"}"#,
            r#"{"messages":[{"role":"user"}] "#,
            r#"{"messages":[{"role":"user"}]} x"#,
            r#"{"messages":[{"role":"user"]}]}"#,
            r#"{"messages":[{"role":"user","content":"torn}]}"#,
            r#"{"input":"responses api"}"#,
            "{}",
            "[]",
        ] {
            assert!(reduce(body.as_bytes()).is_none(), "{body}");
            let chunks = [Bytes::copy_from_slice(body.as_bytes())];
            assert_eq!(
                RequestSummary::inspect(ApiKind::Messages, &chunks),
                RequestSummary::inspect_whole(ApiKind::Messages, &chunks),
                "{body}"
            );
        }
    }

    /// Where the skim shrinks the body but what is left does not parse, the error comes from
    /// the whole body (with its true line and column).
    #[test]
    fn errors_come_from_the_whole_body() {
        let body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\n\"model\": tru}";
        let chunks = [Bytes::copy_from_slice(body.as_bytes())];
        let fast = RequestSummary::inspect(ApiKind::Messages, &chunks);
        assert!(fast.is_err());
        assert_eq!(
            fast,
            RequestSummary::inspect_whole(ApiKind::Messages, &chunks)
        );
    }
}
