//! A minimal incremental Server-Sent Events parser, for the synthetic agent's client and for the
//! mock's own tests. It follows the SSE framing rules that matter for model APIs: events end at a
//! blank line, `event:` names them, `data:` lines are joined with `\n`, comment lines (`:`) and
//! unknown fields are ignored, and `\r\n` is accepted.

/// One complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: Option<String>,
    pub(crate) data: String,
}

/// Feeds bytes in, gets whole events out; keeps any partial event buffered.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` and returns every event they completed.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some((end, sep)) = find_blank_line(&self.buf) {
            let raw: Vec<u8> = self.buf.drain(..end + sep).take(end).collect();
            if let Some(ev) = parse_event(&String::from_utf8_lossy(&raw)) {
                events.push(ev);
            }
        }
        events
    }
}

/// Position and length of the first event separator (`\n\n` or `\r\n\r\n`).
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_event(raw: &str) -> Option<SseEvent> {
    let mut event = None;
    let mut data: Option<String> = None;
    for line in raw.lines() {
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => event = Some(value.to_string()),
            "data" => match data.as_mut() {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            _ => {}
        }
    }
    // An event with neither field (only comments or garbage) is dispatched as nothing.
    if event.is_none() && data.is_none() {
        return None;
    }
    Some(SseEvent {
        event,
        data: data.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_events_across_pushes() {
        let mut p = SseParser::new();
        assert!(p.push(b"event: a\ndata: {\"x\"").is_empty());
        let evs = p.push(b":1}\n\n: comment\n\nevent: b\r\ndata: 2\r\ndata: 3\r\n\r\n");
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].event.as_deref(), Some("a"));
        assert_eq!(evs[0].data, "{\"x\":1}");
        assert_eq!(evs[1].data, "2\n3");
    }
}
