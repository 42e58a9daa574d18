//! Gemini API wire formats: `POST <prefix>/{v1beta|v1|v1alpha}/{models|tunedModels}/{m}:{method}`
//! with `generateContent` (one JSON object), `streamGenerateContent` (`?alt=sse`: SSE; without:
//! one JSON array sent in pieces, as the real API does) and `countTokens`.
//!
//! Shapes follow what `@google/genai` (Gemini CLI) and the `google-genai` Python SDK parse:
//!
//! * SSE events are exactly `data: <one-line JSON>\r\n\r\n`: no `event:`/`id:` lines, no
//!   `[DONE]` (the SDKs' parser is anchored at the buffer start and stalls on anything else).
//! * `usageMetadata` is a *running snapshot* on every chunk: `promptTokenCount` (and the cached,
//!   thoughts and tool-use counts) from the first chunk on, `candidatesTokenCount` growing, the
//!   final totals in the last chunk together with `finishReason`. A consumer must keep the last
//!   snapshot; adding them up is wrong. `responseId` and `modelVersion` (the requested model,
//!   echoed exactly) are on every chunk.
//! * Every answer ends with `finishReason: "STOP"`: the mock's model always finishes on its own,
//!   inside `maxOutputTokens` (its generated text is drawn below that cap).
//!
//! The answer is, in order: a script rule's (a `tool_use` rule only when the request declares
//! that function, answered as a `functionCall` part; otherwise the rule is ignored); JSON built
//! from the schema when `generationConfig.responseMimeType` is `application/json` (see
//! [`schema_value`](super::json_schema::schema_value)); else the generated text.
//!
//! Token rules (deterministic, on top of the shared token model in `tokens`):
//!
//! * Prompt: segments `systemInstruction` + `tools` + `toolConfig` (one prefix segment), then one
//!   segment per `contents[]` entry.
//! * Cached (implicit caching, `cache::PromptCache::gemini`): the longest prefix seen in the last
//!   5 minutes, ending before the last content, from 1,024 tokens on. Never a cache write.
//! * Thinking is on when `generationConfig.thinkingConfig` has `includeThoughts: true`, a
//!   `thinkingLevel`, or a `thinkingBudget` > 0 or −1 (dynamic); a `thinkingBudget` of 0 turns
//!   it off whatever else is set. Then `thoughtsTokenCount = candidates / 2 + 8`, at most the
//!   budget when one (> 0) is given. A thought part (`"thought": true`) is sent, as the first
//!   chunk of a stream, only with `includeThoughts: true`.
//! * `toolUsePromptTokenCount` is [`TOOL_USE_TOKENS_PER_BUILTIN`] per built-in tool the request
//!   offers (`googleSearch`, `googleSearchRetrieval`, `urlContext`, `codeExecution` entries in
//!   `tools`), as if the tool had run and its results were fed to the model; 0 otherwise.
//! * `totalTokenCount = prompt + candidates + thoughts + toolUse`.
//!
//! In agentprof's convention (the record's usage): `input = prompt − cached + toolUse`,
//! `cache_read = cached`, `output = candidates + thoughts`, `reasoning_output = thoughts`,
//! `tool_use_input = toolUse`, no cache creation; so `input + cache_read + output == total`.

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::json_schema::schema_value;
use super::reply::{Answer, Env, Generated, Ids, Payload, Reply, SseChunk, generate};
use super::script::{RequestView, Respond};
use super::tokens::{prompt_hash, prompt_tokens, segments, split_text, tokens_for_bytes};
use crate::observation::Usage;

/// Pieces a streamed text answer is cut into.
const TEXT_CHUNKS: usize = 3;
/// Prompt tokens a built-in tool (search, URL context, code execution) adds as `toolUse`.
pub(crate) const TOOL_USE_TOKENS_PER_BUILTIN: u64 = 128;
/// The `tools[]` entries that are built-in tools rather than function declarations.
const BUILTIN_TOOLS: [&str; 4] = [
    "googleSearch",
    "googleSearchRetrieval",
    "urlContext",
    "codeExecution",
];

/// The Gemini method a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Generate,
    Stream,
    CountTokens,
}

/// How a generate answer goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `:generateContent`: one JSON object.
    Json,
    /// `:streamGenerateContent?alt=sse`.
    Sse,
    /// `:streamGenerateContent` without `alt=sse`: a JSON array, sent element by element.
    JsonArray,
}

impl Framing {
    /// The framing of `method` for a request whose query is `query`.
    pub(crate) fn of(method: Method, query: Option<&str>) -> Framing {
        let sse = query.is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("alt=sse")));
        match method {
            Method::Stream if sse => Framing::Sse,
            Method::Stream => Framing::JsonArray,
            _ => Framing::Json,
        }
    }
}

/// The model and method of a Gemini API path:
/// `<any prefix>/{v1beta|v1|v1alpha}/{models|tunedModels}/{model}:{method}` (the `:` may come
/// percent-encoded). A tuned model keeps its `tunedModels/` prefix, as the API names it.
pub(crate) fn parse_path(path: &str) -> Option<(String, Method)> {
    let (head, last) = path.rsplit_once('/')?;
    let (model, method) = last
        .rsplit_once(':')
        .or_else(|| last.rsplit_once("%3A"))
        .or_else(|| last.rsplit_once("%3a"))?;
    let method = match method {
        "generateContent" => Method::Generate,
        "streamGenerateContent" => Method::Stream,
        "countTokens" => Method::CountTokens,
        _ => return None,
    };
    let (rest, collection) = head.rsplit_once('/')?;
    let version = rest.rsplit('/').next()?;
    if model.is_empty() || !matches!(version, "v1" | "v1beta" | "v1alpha") {
        return None;
    }
    match collection {
        "models" => Some((model.to_string(), method)),
        "tunedModels" => Some((format!("tunedModels/{model}"), method)),
        _ => None,
    }
}

/// Member `name` (camelCase) of `v`, or its snake_case spelling: the API parses JSON the
/// protobuf way, accepting both, and the Python SDK sends some nested members (`thinkingConfig`'s)
/// in snake_case.
pub(super) fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name).or_else(|| v.get(snake(name)))
}

/// `camelCase` → `camel_case`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Google's error object: `{"error":{"code","message","status"}}`.
pub(crate) fn error_body(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

pub(crate) fn bad_request(message: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        error_body(400, "INVALID_ARGUMENT", message),
    )
}

/// One SSE event as the real API frames it: `data: <json>\r\n\r\n`.
pub(crate) fn sse_event(data: &Value) -> Bytes {
    Bytes::from(format!("data: {}\r\n\r\n", super::wire::to_wire(data)))
}

/// The piece of a JSON-array stream that ends it with an error element.
pub(crate) fn json_array_error(data: &Value) -> Bytes {
    Bytes::from(format!(",\r\n{}]", super::wire::to_wire(data)))
}

/// How many tools a request offers: each function declaration, and each built-in tool.
pub(crate) fn tool_count(req: &Value) -> u32 {
    let Some(tools) = req.get("tools").and_then(Value::as_array) else {
        return 0;
    };
    let n: usize = tools
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|t| t.iter())
        .map(|(k, v)| match (k.as_str(), v.as_array()) {
            ("functionDeclarations" | "function_declarations", Some(decls)) => decls.len(),
            _ => 1,
        })
        .sum();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn function_names(req: &Value) -> Vec<String> {
    req.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| field(t, "functionDeclarations").and_then(Value::as_array))
        .flatten()
        .filter_map(|d| d.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn tool_use_prompt_tokens(req: &Value) -> u64 {
    req.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|t| t.keys())
        .filter(|k| {
            BUILTIN_TOOLS
                .iter()
                .any(|b| *b == k.as_str() || snake(b) == **k)
        })
        .count() as u64
        * TOOL_USE_TOKENS_PER_BUILTIN
}

/// The text parts (thoughts excluded) of the last `user` content (a content without a role is
/// the user's). A content holding only function responses has no text: the answer to a tool
/// result does not match a rule meant for the user's prompt.
pub(crate) fn last_user_text(contents: &[Value]) -> String {
    contents
        .iter()
        .rev()
        .find(|c| c.get("role").and_then(Value::as_str).unwrap_or("user") == "user")
        .and_then(|c| c.get("parts").and_then(Value::as_array))
        .map(|parts| {
            parts
                .iter()
                .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The part of a request the prompt prefix is made of.
fn prefix(req: &Value) -> [Option<&Value>; 3] {
    [
        field(req, "systemInstruction"),
        req.get("tools"),
        field(req, "toolConfig"),
    ]
}

/// Whether and how much the request asks the model to think (rule in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Thinking {
    pub(crate) on: bool,
    /// Send the thought summary part (`includeThoughts`).
    pub(crate) show: bool,
    pub(crate) budget: Option<u64>,
}

impl Thinking {
    pub(crate) fn of(generation_config: Option<&Value>) -> Thinking {
        let Some(tc) = generation_config.and_then(|g| field(g, "thinkingConfig")) else {
            return Thinking::default();
        };
        let budget = field(tc, "thinkingBudget").and_then(Value::as_i64);
        if budget == Some(0) {
            return Thinking::default();
        }
        let include = field(tc, "includeThoughts").and_then(Value::as_bool) == Some(true);
        let level = field(tc, "thinkingLevel")
            .and_then(Value::as_str)
            .is_some_and(|l| !l.is_empty());
        let on = include || level || budget.is_some_and(|b| b > 0 || b == -1);
        Thinking {
            on,
            show: on && include,
            budget: budget
                .and_then(|b| u64::try_from(b).ok())
                .filter(|b| *b > 0),
        }
    }

    /// Thought tokens for an answer of `candidates` tokens.
    pub(crate) fn tokens(&self, candidates: u64) -> u64 {
        if !self.on {
            return 0;
        }
        let t = candidates / 2 + 8;
        self.budget.map_or(t, |b| t.min(b))
    }
}

/// The token counts of one answer, final values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) prompt: u64,
    pub(crate) cached: u64,
    pub(crate) candidates: u64,
    pub(crate) thoughts: u64,
    pub(crate) tool_use: u64,
}

impl Counts {
    /// The snapshot a chunk carries once `candidates` answer tokens are out.
    fn at(self, candidates: u64) -> Counts {
        Counts { candidates, ..self }
    }

    pub(crate) fn total(&self) -> u64 {
        self.prompt + self.candidates + self.thoughts + self.tool_use
    }

    /// In agentprof's convention (module docs).
    pub(crate) fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.prompt - self.cached + self.tool_use,
            output_tokens: self.candidates + self.thoughts,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: self.cached,
            cache_creation_5m_input_tokens: 0,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: self.thoughts,
            tool_use_input_tokens: self.tool_use,
        }
    }

    /// `usageMetadata`; zero counts are left out, as the real API does.
    fn metadata(&self) -> Value {
        let mut m = Map::new();
        m.insert("promptTokenCount".into(), json!(self.prompt));
        if self.candidates > 0 {
            m.insert("candidatesTokenCount".into(), json!(self.candidates));
        }
        m.insert("totalTokenCount".into(), json!(self.total()));
        if self.cached > 0 {
            m.insert("cachedContentTokenCount".into(), json!(self.cached));
        }
        m.insert(
            "promptTokensDetails".into(),
            json!([{"modality": "TEXT", "tokenCount": self.prompt}]),
        );
        if self.cached > 0 {
            m.insert(
                "cacheTokensDetails".into(),
                json!([{"modality": "TEXT", "tokenCount": self.cached}]),
            );
        }
        if self.thoughts > 0 {
            m.insert("thoughtsTokenCount".into(), json!(self.thoughts));
        }
        if self.tool_use > 0 {
            m.insert("toolUsePromptTokenCount".into(), json!(self.tool_use));
            m.insert(
                "toolUsePromptTokensDetails".into(),
                json!([{"modality": "TEXT", "tokenCount": self.tool_use}]),
            );
        }
        Value::Object(m)
    }
}

/// The prompt's token count, as `countTokens` and `generateContent` both compute it.
fn prompt_of(model: &str, req: &Value, contents: &[Value]) -> u64 {
    prompt_tokens(&segments(model, &prefix(req), contents))
}

/// `:countTokens`: `{contents}` or `{generateContentRequest: {...}}`.
pub(crate) fn count_tokens(req: &Value, model: &str) -> Reply {
    let inner = field(req, "generateContentRequest").unwrap_or(req);
    let contents = inner
        .get("contents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let total = prompt_of(model, inner, contents);
    Reply::json(
        StatusCode::OK,
        json!({"totalTokens": total,
               "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}),
    )
}

/// Whether the request asks for a JSON answer.
fn wants_json(generation_config: Option<&Value>) -> bool {
    generation_config
        .and_then(|g| field(g, "responseMimeType"))
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("application/json"))
}

fn schema_of(generation_config: Option<&Value>) -> Option<&Value> {
    let g = generation_config?;
    field(g, "responseJsonSchema")
        .or_else(|| field(g, "responseSchema"))
        .or_else(|| g.get("response_json_schema"))
}

/// The answer: a usable script rule, JSON from the schema, or generated text.
fn answer(view: &RequestView<'_>, env: &Env<'_>, ids: Ids, gc: Option<&Value>) -> Generated {
    let rule = env.script.and_then(|s| s.answer(view));
    let usable = rule.is_some_and(|r| match &r.respond {
        Respond::ToolUse { name, .. } => view.tool_names.contains(name),
        Respond::Text(_) => true,
    });
    if usable {
        return generate(env.script, view, ids, None);
    }
    if wants_json(gc) {
        let text = match schema_of(gc) {
            Some(schema) => schema_value(schema),
            None => json!({"answer": generate(None, view, ids, Some(40)).answer_text()}),
        }
        .to_string();
        return Generated {
            output_tokens: tokens_for_bytes(text.len()).max(1),
            answer: Answer::Text(text),
            truncated: false,
            delay: None,
        };
    }
    // One token under the cap: the answer ends on its own, with STOP (module docs).
    let max = gc
        .and_then(|g| field(g, "maxOutputTokens"))
        .and_then(Value::as_u64)
        .map(|m| m.saturating_sub(1).max(1));
    generate(None, view, ids, max)
}

impl Generated {
    fn answer_text(&self) -> String {
        match &self.answer {
            Answer::Text(t) => t.clone(),
            Answer::ToolUse { name, .. } => name.clone(),
        }
    }
}

/// `:generateContent` and `:streamGenerateContent`.
pub(crate) fn generate_content(
    req: &Value,
    model: &str,
    framing: Framing,
    env: &mut Env<'_>,
) -> Reply {
    let Some(contents) = req.get("contents").and_then(Value::as_array) else {
        return bad_request("* GenerateContentRequest.contents: contents is not specified\n");
    };
    let segs = segments(model, &prefix(req), contents);
    let cached = env.cache.gemini(&segs, env.now);
    let ids = Ids {
        seq: env.seq,
        hash: prompt_hash(&segs),
    };
    let view = RequestView {
        last_user_text: last_user_text(contents),
        tool_names: function_names(req),
        headers: env.headers,
    };
    let gc = field(req, "generationConfig");
    let generated = answer(&view, env, ids, gc);
    env.delay = generated.delay;
    let thinking = Thinking::of(gc);
    let counts = Counts {
        prompt: prompt_tokens(&segs),
        cached,
        candidates: generated.output_tokens,
        thoughts: thinking.tokens(generated.output_tokens),
        tool_use: tool_use_prompt_tokens(req),
    };
    let id = ids.gemini_response();
    let thought = thinking
        .show
        .then(|| json!({"text": thought_text(ids.hash), "thought": true}));
    let chunk = |parts: Vec<Value>, snapshot: Counts, last: bool| {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if last {
            candidate["finishReason"] = json!("STOP");
        }
        json!({"candidates": [candidate], "usageMetadata": snapshot.metadata(),
               "modelVersion": model, "responseId": id})
    };
    let answer_parts = |text: Option<&str>| match &generated.answer {
        Answer::Text(t) => vec![json!({"text": text.unwrap_or(t)})],
        Answer::ToolUse { name, input, .. } => {
            vec![json!({"functionCall": {"name": name, "args": input}})]
        }
    };
    if framing == Framing::Json {
        let parts = thought.into_iter().chain(answer_parts(None)).collect();
        return Reply {
            status: StatusCode::OK,
            payload: Payload::Json(chunk(parts, counts, true), Some(counts.usage())),
            response_id: Some(id),
        };
    }
    // The stream: (parts, snapshot) per chunk.
    let mut pieces: Vec<(Vec<Value>, Counts)> = Vec::new();
    if let Some(thought) = thought {
        pieces.push((vec![thought], counts.at(0)));
    }
    match &generated.answer {
        Answer::Text(text) => {
            let words = text.split(' ').count();
            let texts = split_text(text, words.div_ceil(TEXT_CHUNKS));
            let mut sent = 0;
            for t in &texts {
                sent += t.len();
                let so_far = tokens_for_bytes(sent).min(counts.candidates);
                pieces.push((answer_parts(Some(t)), counts.at(so_far)));
            }
        }
        Answer::ToolUse { .. } => pieces.push((answer_parts(None), counts)),
    }
    if let Some((_, last)) = pieces.last_mut() {
        *last = counts;
    }
    let n = pieces.len();
    let events = pieces
        .into_iter()
        .enumerate()
        .map(|(i, (parts, snapshot))| {
            let body = chunk(parts, snapshot, i + 1 == n);
            let bytes = match framing {
                Framing::Sse => sse_event(&body),
                _ => {
                    let open = if i == 0 { "[" } else { ",\r\n" };
                    let close = if i + 1 == n { "]" } else { "" };
                    Bytes::from(format!("{open}{}{close}", super::wire::to_wire(&body)))
                }
            };
            SseChunk {
                bytes,
                usage: Some(snapshot.usage()),
            }
        })
        .collect();
    let payload = match framing {
        Framing::Sse => Payload::Sse(events),
        _ => Payload::Chunked(events),
    };
    Reply {
        status: StatusCode::OK,
        payload,
        response_id: Some(id),
    }
}

/// A short thought summary, `**Subject**` first as Gemini writes them.
fn thought_text(hash: u64) -> String {
    format!(
        "**Weighing the request**\n\nI read what is asked and plan a short answer ({:04x}).",
        hash & 0xffff
    )
}
