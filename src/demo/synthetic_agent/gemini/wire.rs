//! The Gemini CLI shape's client: requests that look like Gemini CLI 0.61 through Google's
//! `@google/genai` SDK — `POST {GOOGLE_GEMINI_BASE_URL}/v1beta/models/{model}:{method}`, the
//! main loop and sub-agents streaming (`:streamGenerateContent?alt=sse`), background calls not
//! (`:generateContent`), the key in `x-goog-api-key` and Gemini CLI's `User-Agent`. Streams are
//! read strictly: the last chunk must carry a `finishReason`. Usage is the last
//! `usageMetadata` snapshot (the API repeats running totals on every chunk).

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;
use serde_json::{Map, Value, json};

use super::super::client::Answer;
use super::super::error::AgentError;
use super::super::transport::{self, Reader, Transport};
use crate::demo::sse::SseParser;
use crate::observation::{Category, Usage};

/// Gemini CLI's `User-Agent`: version, main model, platform and surface.
const USER_AGENT: &str = "GeminiCLI/0.61.0/gemini-3.8-flash (linux; x64; terminal)";
/// What `@google/genai` says it is.
const API_CLIENT: &str = "google-genai-sdk/1.30.0 gl-node/v22.17.0";

/// One call to make.
pub(crate) struct GeminiCall<'a> {
    /// The truth: sent in `x-agentprof-truth-category` for tests, read by nothing else.
    pub(crate) category: Category,
    pub(crate) model: &'a str,
    /// Streamed (`streamGenerateContent?alt=sse`) or one JSON answer (`generateContent`).
    pub(crate) stream: bool,
    /// The system instruction; none when empty.
    pub(crate) system: &'a str,
    /// `functionDeclarations`; none for background calls.
    pub(crate) tools: &'a [Value],
    pub(crate) contents: Vec<Value>,
    pub(crate) generation_config: Value,
}

pub(crate) struct GeminiClient {
    http: Transport,
    base_url: String,
    api_key: String,
}

impl GeminiClient {
    pub(crate) fn new(base_url: &str, api_key: String) -> Result<Self, AgentError> {
        // Checked once here, so a bad base URL fails before the first call.
        transport::endpoint(base_url, "/v1beta/models")?;
        Ok(GeminiClient {
            http: Transport::new(),
            base_url: base_url.to_string(),
            api_key,
        })
    }

    fn uri(&self, call: &GeminiCall<'_>) -> Result<Uri, AgentError> {
        let method = if call.stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let path = format!("/v1beta/models/{}:{method}", call.model);
        transport::endpoint(&self.base_url, &path)
    }

    /// The body as the SDK writes it: contents, then the system instruction, tools and config.
    fn body(call: &GeminiCall<'_>) -> Value {
        let mut body = Map::new();
        body.insert("contents".into(), json!(call.contents));
        if !call.system.is_empty() {
            body.insert(
                "systemInstruction".into(),
                json!({"parts": [{"text": call.system}], "role": "user"}),
            );
        }
        if !call.tools.is_empty() {
            body.insert(
                "tools".into(),
                json!([{"functionDeclarations": call.tools}]),
            );
        }
        body.insert("generationConfig".into(), call.generation_config.clone());
        Value::Object(body)
    }

    fn request(&self, call: &GeminiCall<'_>) -> Result<Request<Full<Bytes>>, AgentError> {
        let body = Bytes::from(Self::body(call).to_string());
        Request::post(self.uri(call)?)
            .header("content-type", "application/json")
            .header("x-goog-api-key", &self.api_key)
            .header("user-agent", USER_AGENT)
            .header("x-goog-api-client", API_CLIENT)
            // Ground truth for agentprof's tests; its classifier must never read this header.
            .header("x-agentprof-truth-category", call.category.as_str())
            .body(Full::new(body))
            .map_err(|e| AgentError::Connect(call.category, e.to_string()))
    }

    /// Makes one call and reads it to its end.
    pub(crate) async fn call(&self, call: GeminiCall<'_>) -> Result<Answer, AgentError> {
        let req = self.request(&call)?;
        let reader = ChunkReader::new(call.category);
        self.http
            .send(call.category, req, call.stream, reader)
            .await
    }
}

/// Reads `GenerateContentResponse` chunks: the answer's text (thoughts left out) and the last
/// usage snapshot.
struct ChunkReader {
    category: Category,
    parser: SseParser,
    answer: Answer,
    finished: bool,
}

impl ChunkReader {
    fn new(category: Category) -> Self {
        ChunkReader {
            category,
            parser: SseParser::new(),
            answer: Answer::default(),
            finished: false,
        }
    }

    fn chunk(&mut self, v: &Value) -> Result<(), AgentError> {
        if v.get("error").is_some() {
            return Err(AgentError::StreamError(self.category, v.to_string()));
        }
        let candidate = &v["candidates"][0];
        for part in candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if part["thought"].as_bool() == Some(true) {
                continue;
            }
            if let Some(t) = part["text"].as_str() {
                self.answer.text.push_str(t);
            }
        }
        if let Some(meta) = v.get("usageMetadata") {
            self.answer.usage = usage_of(meta);
        }
        if candidate.get("finishReason").is_some() {
            self.finished = true;
        }
        Ok(())
    }
}

impl Reader for ChunkReader {
    fn push(&mut self, bytes: &[u8]) -> Result<(), AgentError> {
        for event in self.parser.push(bytes) {
            let v: Value = serde_json::from_str(&event.data)
                .map_err(|e| AgentError::Json(self.category, e.to_string()))?;
            self.chunk(&v)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Answer, AgentError> {
        if self.finished {
            Ok(self.answer)
        } else {
            Err(AgentError::Truncated(
                self.category,
                "a chunk with finishReason",
            ))
        }
    }

    fn json(&self, bytes: &[u8]) -> Result<Answer, AgentError> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| AgentError::Json(self.category, e.to_string()))?;
        let mut reader = ChunkReader::new(self.category);
        reader.chunk(&v)?;
        reader.finish()
    }
}

/// `usageMetadata` in agentprof's convention: cached tokens apart from fresh input, thinking
/// counted as output, tool-use prompts as input.
fn usage_of(v: &Value) -> Usage {
    let get = |k: &str| v[k].as_u64().unwrap_or(0);
    let cached = get("cachedContentTokenCount");
    let thoughts = get("thoughtsTokenCount");
    let tool_use = get("toolUsePromptTokenCount");
    Usage {
        input_tokens: get("promptTokenCount").saturating_sub(cached) + tool_use,
        output_tokens: get("candidatesTokenCount") + thoughts,
        cache_read_input_tokens: cached,
        reasoning_output_tokens: thoughts,
        tool_use_input_tokens: tool_use,
        ..Usage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_without_thoughts_and_the_last_snapshot() {
        let mut r = ChunkReader::new(Category::UserTurn);
        r.push(b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hmm\",\"thought\":true}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":10}}\r\n\r\n").unwrap();
        r.push(b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":10,\"cachedContentTokenCount\":4,\"candidatesTokenCount\":3,\"thoughtsTokenCount\":9}}\r\n\r\n").unwrap();
        let a = r.finish().unwrap();
        assert_eq!(a.text, "hi");
        let u = a.usage;
        assert_eq!(
            (u.input_tokens, u.cache_read_input_tokens, u.output_tokens),
            (6, 4, 12)
        );
        let cut = ChunkReader::new(Category::Subagent);
        assert!(matches!(
            cut.finish(),
            Err(AgentError::Truncated(Category::Subagent, _))
        ));
    }

    #[test]
    fn paths_and_headers_are_gemini_clis() {
        let client = GeminiClient::new("http://127.0.0.1:1/gemini", "k".into()).unwrap();
        let call = GeminiCall {
            category: Category::Utility,
            model: "gemini-3.5-flash-lite",
            stream: false,
            system: "x",
            tools: &[],
            contents: Vec::new(),
            generation_config: json!({}),
        };
        let req = client.request(&call).unwrap();
        assert_eq!(
            req.uri().path(),
            "/gemini/v1beta/models/gemini-3.5-flash-lite:generateContent"
        );
        assert_eq!(req.headers()["x-goog-api-key"], "k");
        assert!(
            req.headers()["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("GeminiCLI/")
        );
        assert!(GeminiClient::new("https://example.com", "k".into()).is_err());
    }
}
