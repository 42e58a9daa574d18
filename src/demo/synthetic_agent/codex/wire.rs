//! The Codex shape's client: requests that look like Codex CLI 0.171 (`codex exec`) over HTTP —
//! `POST {OPENAI_BASE_URL}/responses`, streamed, with Codex's identity on every call (headers
//! `originator`, `session-id`, `thread-id`, `x-codex-turn-metadata`, and for side threads
//! `x-openai-subagent`, `x-codex-parent-thread-id`, `x-openai-memgen-request`), repeated in the
//! body's `client_metadata` as Codex does. Its stream is read strictly: it must end with
//! `response.completed`. Real Codex prefers a WebSocket; HTTP/SSE is its fallback and enough here.

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;
use serde_json::{Map, Value, json};

use super::super::client::Answer;
use super::super::error::AgentError;
use super::super::transport::{self, Reader, Transport};
use crate::demo::sse::SseParser;
use crate::observation::{Category, Usage};

/// The version the wire imitates, in `User-Agent`.
const CODEX_VERSION: &str = "0.171.0";

/// A Codex thread: the main one, a spawned agent, or the memory consolidation agent.
#[derive(Debug, Clone)]
pub(crate) struct Thread {
    pub(crate) id: String,
    /// `thread_source` in the turn metadata: `user`, `subagent` or `memory_consolidation`.
    pub(crate) source: &'static str,
    /// `x-openai-subagent`: `collab_spawn`, `memory_consolidation`; none on the main thread.
    pub(crate) subagent: Option<&'static str>,
    /// `x-codex-parent-thread-id` of a spawned agent.
    pub(crate) parent: Option<String>,
}

/// What Codex says a request is for (`request_kind` in `x-codex-turn-metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Turn,
    Compaction,
    /// Memories phase 1: sent without the session's turn identity.
    Memory,
}

impl RequestKind {
    fn as_str(self) -> &'static str {
        match self {
            RequestKind::Turn => "turn",
            RequestKind::Compaction => "compaction",
            RequestKind::Memory => "memory",
        }
    }
}

/// One call to make.
pub(crate) struct CodexCall<'a> {
    /// The truth: sent in `x-agentprof-truth-category` for tests, read by nothing else.
    pub(crate) category: Category,
    pub(crate) thread: &'a Thread,
    pub(crate) kind: RequestKind,
    pub(crate) turn_id: Option<&'a str>,
    pub(crate) model: &'a str,
    pub(crate) instructions: &'a str,
    pub(crate) tools: &'a [Value],
    pub(crate) input: Vec<Value>,
}

pub(crate) struct CodexClient {
    http: Transport,
    uri: Uri,
    api_key: String,
    session_id: String,
    installation_id: String,
}

impl CodexClient {
    pub(crate) fn new(
        base_url: &str,
        api_key: String,
        session_id: String,
        installation_id: String,
    ) -> Result<Self, AgentError> {
        Ok(CodexClient {
            http: Transport::new(),
            uri: transport::endpoint(base_url, "/responses")?,
            api_key,
            session_id,
            installation_id,
        })
    }

    pub(crate) fn session_id(&self) -> &str {
        &self.session_id
    }

    /// `x-codex-turn-metadata`: memory requests carry no session, thread or turn ids (Codex's
    /// `has_turn_identity` is false for them).
    fn turn_metadata(&self, call: &CodexCall<'_>) -> String {
        let mut m = Map::new();
        m.insert("installation_id".into(), json!(self.installation_id));
        if call.kind != RequestKind::Memory {
            m.insert("session_id".into(), json!(self.session_id));
            m.insert("thread_id".into(), json!(call.thread.id));
            if let Some(turn) = call.turn_id {
                m.insert("turn_id".into(), json!(turn));
            }
            m.insert("window_id".into(), json!(format!("{}:0", call.thread.id)));
        }
        m.insert("request_kind".into(), json!(call.kind.as_str()));
        if let Some(parent) = &call.thread.parent {
            m.insert("parent_thread_id".into(), json!(parent));
        }
        m.insert("thread_source".into(), json!(call.thread.source));
        m.insert("sandbox".into(), json!("workspace-write"));
        Value::Object(m).to_string()
    }

    fn body(&self, call: &CodexCall<'_>, metadata: &str) -> Value {
        let thread = call.thread;
        let mut client_metadata = json!({
            "session_id": self.session_id, "thread_id": thread.id,
            "x-codex-window-id": format!("{}:0", thread.id),
            "x-codex-installation-id": self.installation_id,
            "x-codex-turn-metadata": metadata,
        });
        if let Some(turn) = call.turn_id {
            client_metadata["turn_id"] = json!(turn);
        }
        if let Some(subagent) = thread.subagent {
            client_metadata["x-openai-subagent"] = json!(subagent);
        }
        if let Some(parent) = &thread.parent {
            client_metadata["x-codex-parent-thread-id"] = json!(parent);
        }
        // Root threads key the prompt cache by session; side threads by their own scope.
        let cache_key = match thread.subagent {
            None => self.session_id.clone(),
            Some(s) => format!(
                "{s}:{}",
                thread.parent.as_deref().unwrap_or(&self.session_id)
            ),
        };
        json!({
            "model": call.model, "instructions": call.instructions, "input": call.input,
            "tools": call.tools, "tool_choice": "auto", "parallel_tool_calls": false,
            "reasoning": {"effort": "medium", "summary": "auto"}, "store": false, "stream": true,
            "include": ["reasoning.encrypted_content"], "prompt_cache_key": cache_key,
            "client_metadata": client_metadata,
        })
    }

    fn request(&self, call: &CodexCall<'_>) -> Result<Request<Full<Bytes>>, AgentError> {
        let thread = call.thread;
        let metadata = self.turn_metadata(call);
        let mut req = Request::post(self.uri.clone())
            .header("accept", "text/event-stream")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.api_key))
            .header("originator", "codex_exec")
            .header(
                "user-agent",
                format!("codex_exec/{CODEX_VERSION} (Linux 6.8; x86_64) synthetic"),
            )
            .header("session-id", &self.session_id)
            .header("thread-id", &thread.id)
            .header("x-client-request-id", &thread.id)
            .header("x-codex-window-id", format!("{}:0", thread.id))
            .header("x-codex-turn-metadata", &metadata)
            // Ground truth for agentprof's tests; its classifier must never read this header.
            .header("x-agentprof-truth-category", call.category.as_str());
        if let Some(subagent) = thread.subagent {
            req = req.header("x-openai-subagent", subagent);
        }
        if subagent_is_memgen(thread) {
            req = req.header("x-openai-memgen-request", "true");
        }
        if let Some(parent) = &thread.parent {
            req = req.header("x-codex-parent-thread-id", parent);
        }
        let body = Bytes::from(self.body(call, &metadata).to_string());
        req.body(Full::new(body))
            .map_err(|e| AgentError::Connect(call.category, e.to_string()))
    }

    /// Makes one call and reads its stream to `response.completed`.
    pub(crate) async fn call(&self, call: CodexCall<'_>) -> Result<Answer, AgentError> {
        let req = self.request(&call)?;
        let reader = ResponsesReader::new(call.category);
        self.http.send(call.category, req, true, reader).await
    }
}

/// Codex flags the consolidation agent's requests as memory generation.
fn subagent_is_memgen(thread: &Thread) -> bool {
    thread.subagent == Some("memory_consolidation")
}

/// Reads a Responses API SSE stream: the text deltas (or a compaction item's content) and the
/// usage of `response.completed`.
struct ResponsesReader {
    category: Category,
    parser: SseParser,
    answer: Answer,
    completed: bool,
}

impl ResponsesReader {
    fn new(category: Category) -> Self {
        ResponsesReader {
            category,
            parser: SseParser::new(),
            answer: Answer::default(),
            completed: false,
        }
    }
}

impl Reader for ResponsesReader {
    fn push(&mut self, bytes: &[u8]) -> Result<(), AgentError> {
        for event in self.parser.push(bytes) {
            let v: Value = serde_json::from_str(&event.data)
                .map_err(|e| AgentError::Json(self.category, e.to_string()))?;
            match v["type"].as_str() {
                Some("error" | "response.failed") => {
                    return Err(AgentError::StreamError(self.category, event.data));
                }
                Some("response.output_text.delta") => {
                    if let Some(t) = v["delta"].as_str() {
                        self.answer.text.push_str(t);
                    }
                }
                // Compaction answers with one opaque item; the client only keeps and replays it.
                Some("response.output_item.done") if v["item"]["type"] == "compaction" => {
                    if let Some(t) = v["item"]["encrypted_content"].as_str() {
                        self.answer.text = t.to_string();
                    }
                }
                Some("response.completed") => {
                    self.answer.usage = usage_of(&v["response"]["usage"]);
                    self.completed = true;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Answer, AgentError> {
        if self.completed {
            Ok(self.answer)
        } else {
            Err(AgentError::Truncated(self.category, "response.completed"))
        }
    }

    fn json(&self, bytes: &[u8]) -> Result<Answer, AgentError> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| AgentError::Json(self.category, e.to_string()))?;
        Ok(Answer {
            text: v["output_text"].as_str().unwrap_or_default().to_string(),
            usage: usage_of(&v["usage"]),
        })
    }
}

/// The Responses usage in agentprof's convention: cached tokens apart from fresh input.
fn usage_of(v: &Value) -> Usage {
    let get = |x: &Value| x.as_u64().unwrap_or(0);
    let prompt = get(&v["input_tokens"]);
    let cached = get(&v["input_tokens_details"]["cached_tokens"]);
    Usage {
        input_tokens: prompt.saturating_sub(cached),
        output_tokens: get(&v["output_tokens"]),
        cache_read_input_tokens: cached,
        ..Usage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_completed_usage_and_fails_on_truncation() {
        let mut r = ResponsesReader::new(Category::UserTurn);
        r.push(b"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n").unwrap();
        let cut = ResponsesReader::new(Category::Compaction);
        assert!(matches!(
            cut.finish(),
            Err(AgentError::Truncated(Category::Compaction, _))
        ));
        r.push(b"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":10,\"input_tokens_details\":{\"cached_tokens\":4},\"output_tokens\":3}}}\n\n").unwrap();
        let a = r.finish().unwrap();
        assert_eq!(a.text, "hi");
        assert_eq!(
            (a.usage.input_tokens, a.usage.cache_read_input_tokens),
            (6, 4)
        );
    }

    #[test]
    fn side_threads_carry_their_markers() {
        let client = CodexClient::new(
            "http://127.0.0.1:1/v1",
            "k".into(),
            "s1".into(),
            "i1".into(),
        )
        .unwrap();
        let thread = Thread {
            id: "t2".into(),
            source: "memory_consolidation",
            subagent: Some("memory_consolidation"),
            parent: None,
        };
        let call = CodexCall {
            category: Category::Dream,
            thread: &thread,
            kind: RequestKind::Turn,
            turn_id: Some("u1"),
            model: "gpt-5.4",
            instructions: "x",
            tools: &[],
            input: Vec::new(),
        };
        let req = client.request(&call).unwrap();
        let h = req.headers();
        assert_eq!(req.uri().path(), "/v1/responses");
        assert_eq!(h["x-openai-memgen-request"], "true");
        assert_eq!(h["originator"], "codex_exec");
        let meta: Value = serde_json::from_slice(h["x-codex-turn-metadata"].as_bytes()).unwrap();
        assert_eq!(meta["thread_source"], "memory_consolidation");
        assert_eq!(meta["turn_id"], "u1");
    }
}
