//! Response bodies as the three APIs send them, split where they split them: one SSE event
//! per piece for streams (the APIs write an event at a time), one piece for JSON.

/// The wire APIs the proxy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Messages,
    ChatCompletions,
    Responses,
}

impl Api {
    pub const ALL: [Api; 3] = [Api::Messages, Api::ChatCompletions, Api::Responses];

    /// The path the client calls on the proxy.
    pub fn proxy_path(self) -> &'static str {
        match self {
            Api::Messages => "/v1/messages",
            Api::ChatCompletions => "/openai/v1/chat/completions",
            Api::Responses => "/openai/v1/responses",
        }
    }

    /// A request body. A Chat stream that does not ask for usage itself (`ask_usage` false)
    /// gets it asked for by the proxy, which then takes it out of what the client sees.
    pub fn request(self, stream: bool, ask_usage: bool) -> String {
        match self {
            Api::Messages => format!(
                r#"{{"model":"claude-sonnet-4-6","max_tokens":256,"stream":{stream},"messages":[{{"role":"user","content":"cut me"}}]}}"#
            ),
            Api::ChatCompletions => format!(
                r#"{{"model":"gpt-5","stream":{stream},{}"messages":[{{"role":"user","content":"cut me"}}]}}"#,
                if stream && ask_usage {
                    r#""stream_options":{"include_usage":true},"#
                } else {
                    ""
                }
            ),
            Api::Responses => {
                format!(r#"{{"model":"gpt-5","stream":{stream},"input":"cut me"}}"#)
            }
        }
    }
}

const WORDS: [&str; 8] = [
    "The ",
    "proxy ",
    "passes ",
    "every ",
    "byte ",
    "through, ",
    "even ",
    "when cut. ",
];

/// The body's pieces.
pub fn pieces(api: Api, stream: bool) -> Vec<Vec<u8>> {
    let text: String = WORDS.concat();
    match (api, stream) {
        (Api::Messages, true) => messages_stream(),
        (Api::ChatCompletions, true) => chat_stream(),
        (Api::Responses, true) => responses_stream(),
        (Api::Messages, false) => vec![
            format!(
                r#"{{"id":"msg_cut","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":1200,"cache_creation_input_tokens":300,"cache_read_input_tokens":4000,"output_tokens":17}}}}"#
            )
            .into_bytes(),
        ],
        (Api::ChatCompletions, false) => vec![
            format!(
                r#"{{"id":"chatcmpl-cut","object":"chat.completion","created":1765000000,"model":"gpt-5","choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":5200,"completion_tokens":17,"total_tokens":5217,"prompt_tokens_details":{{"cached_tokens":4000}}}}}}"#
            )
            .into_bytes(),
        ],
        (Api::Responses, false) => vec![
            format!(
                r#"{{"id":"resp_cut","object":"response","status":"completed","model":"gpt-5","output":[{{"type":"message","role":"assistant","content":[{{"type":"output_text","text":"{text}"}}]}}],"usage":{{"input_tokens":5200,"input_tokens_details":{{"cached_tokens":4000}},"output_tokens":17,"output_tokens_details":{{"reasoning_tokens":5}},"total_tokens":5217}}}}"#
            )
            .into_bytes(),
        ],
    }
}

/// A Messages JSON body past the 16 MiB agentprof reads for usage (the rest still flows).
pub fn huge_json() -> Vec<Vec<u8>> {
    let text = "x".repeat(17 << 20);
    vec![
        format!(
            r#"{{"id":"msg_huge","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","usage":{{"input_tokens":12,"output_tokens":4000000}}}}"#
        )
        .into_bytes(),
    ]
}

fn event(name: Option<&str>, data: &str) -> Vec<u8> {
    match name {
        Some(name) => format!("event: {name}\ndata: {data}\n\n").into_bytes(),
        None => format!("data: {data}\n\n").into_bytes(),
    }
}

fn messages_stream() -> Vec<Vec<u8>> {
    let mut events = vec![
        event(
            Some("message_start"),
            r#"{"type":"message_start","message":{"id":"msg_cut","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"usage":{"input_tokens":1200,"cache_creation_input_tokens":300,"cache_read_input_tokens":4000,"output_tokens":1}}}"#,
        ),
        event(
            Some("content_block_start"),
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        event(Some("ping"), r#"{"type": "ping"}"#),
    ];
    for word in WORDS {
        events.push(event(
            Some("content_block_delta"),
            &format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{word}"}}}}"#
            ),
        ));
    }
    events.push(event(
        Some("content_block_stop"),
        r#"{"type":"content_block_stop","index":0}"#,
    ));
    events.push(event(
        Some("message_delta"),
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":17}}"#,
    ));
    events.push(event(Some("message_stop"), r#"{"type":"message_stop"}"#));
    events
}

fn chat_stream() -> Vec<Vec<u8>> {
    let chunk = |delta: &str, finish: &str| {
        event(
            None,
            &format!(
                r#"{{"id":"chatcmpl-cut","object":"chat.completion.chunk","created":1765000000,"model":"gpt-5","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}],"usage":null}}"#
            ),
        )
    };
    let mut events = vec![chunk(r#"{"role":"assistant","content":""}"#, "null")];
    for word in WORDS {
        events.push(chunk(&format!(r#"{{"content":"{word}"}}"#), "null"));
    }
    events.push(chunk("{}", r#""stop""#));
    events.push(event(
        None,
        r#"{"id":"chatcmpl-cut","object":"chat.completion.chunk","created":1765000000,"model":"gpt-5","choices":[],"usage":{"prompt_tokens":5200,"completion_tokens":17,"total_tokens":5217,"prompt_tokens_details":{"cached_tokens":4000}}}"#,
    ));
    events.push(event(None, "[DONE]"));
    events
}

fn responses_stream() -> Vec<Vec<u8>> {
    let mut events = vec![
        event(
            Some("response.created"),
            r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_cut","object":"response","status":"in_progress","model":"gpt-5","output":[],"usage":null}}"#,
        ),
        event(
            Some("response.output_item.added"),
            r#"{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"message","role":"assistant","content":[]}}"#,
        ),
    ];
    for (i, word) in WORDS.iter().enumerate() {
        events.push(event(
            Some("response.output_text.delta"),
            &format!(
                r#"{{"type":"response.output_text.delta","sequence_number":{},"output_index":0,"content_index":0,"delta":"{word}"}}"#,
                i + 2
            ),
        ));
    }
    events.push(event(
        Some("response.completed"),
        r#"{"type":"response.completed","sequence_number":10,"response":{"id":"resp_cut","object":"response","status":"completed","model":"gpt-5","output":[],"usage":{"input_tokens":5200,"input_tokens_details":{"cached_tokens":4000},"output_tokens":17,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":5217}}}"#,
    ));
    events
}

/// What a Chat client that did not ask for usage gets of the first `sent` bytes of `pieces`:
/// complete events as if `include_usage` had not been set — the usage chunk dropped, the
/// `"usage":null` members removed — and a broken-off last event as it came.
pub fn without_usage(pieces: &[Vec<u8>], sent: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offset = 0;
    for piece in pieces {
        if offset + piece.len() > sent {
            out.extend_from_slice(&piece[..sent - offset]);
            break;
        }
        offset += piece.len();
        let text = String::from_utf8_lossy(piece);
        if text.contains(r#""choices":[]"#) && text.contains(r#""usage":{"#) {
            continue;
        }
        out.extend_from_slice(text.replace(r#","usage":null"#, "").as_bytes());
    }
    out
}
