//! The JSON lines of a generated transcript, shaped after what Claude Code 1.0 to 2.1.328
//! writes (key order, envelope fields, one line per content block, usage repeated on each).

use std::io::Write as _;

use super::ids::hex;
use super::text::Pool;
use crate::demo::det::Rng;
use crate::observation::Usage;

/// How a version writes its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// 1.0.x: metadata first, `type` before `message`, sub-agents inline, no cache split.
    V1,
    /// 2.0.x and 2.1 before 2.1.97: sub-agent files, progress records in the main file.
    V2,
    /// 2.1.197: sub-agent meta files and `attributionAgent`.
    V2Meta,
    /// 2.1.328: api-request records and `requestRef`.
    V2Api,
}

/// Who writes a line.
pub struct Envelope<'a> {
    pub style: Style,
    pub session: &'a str,
    pub cwd: &'a str,
    pub version: &'a str,
    pub agent: Option<&'a str>,
}

impl Envelope<'_> {
    fn sidechain(&self) -> bool {
        self.agent.is_some()
    }

    /// Opens a message record: everything before its body.
    fn open(&self, out: &mut Vec<u8>, parent: Option<&str>) {
        out.extend_from_slice(b"{\"parentUuid\":");
        match parent {
            Some(p) => quoted(out, p),
            None => out.extend_from_slice(b"null"),
        }
        let _ = write!(out, ",\"isSidechain\":{}", self.sidechain());
        if self.style == Style::V1 {
            let _ = write!(
                out,
                ",\"userType\":\"external\",\"cwd\":\"{}\",\"sessionId\":\"{}\",\"version\":\"{}\",\"gitBranch\":\"main\"",
                self.cwd, self.session, self.version
            );
        }
        if let Some(agent) = self.agent.filter(|_| self.style != Style::V1) {
            let _ = write!(out, ",\"agentId\":\"{agent}\"");
        }
    }

    /// Closes a message record.
    fn close(&self, out: &mut Vec<u8>, uuid: &str, ts: &str) {
        let _ = write!(out, ",\"uuid\":\"{uuid}\",\"timestamp\":\"{ts}\"");
        if self.style != Style::V1 {
            let _ = write!(
                out,
                ",\"userType\":\"external\",\"entrypoint\":\"cli\",\"cwd\":\"{}\",\"sessionId\":\"{}\",\"version\":\"{}\",\"gitBranch\":\"main\"",
                self.cwd, self.session, self.version
            );
        }
        out.extend_from_slice(b"}\n");
    }
}

/// One response's fixed parts.
pub struct Response<'a> {
    pub message_id: &'a str,
    pub request_id: Option<&'a str>,
    pub request_ref: Option<&'a str>,
    pub model: &'a str,
    pub attribution_agent: Option<&'a str>,
}

/// A content block of an assistant message.
pub enum Block<'a> {
    Thinking(usize),
    Text(usize),
    Tool {
        id: &'a str,
        name: &'a str,
        input_len: usize,
    },
    Agent {
        id: &'a str,
        agent_type: &'a str,
    },
}

/// One assistant line: one content block, the response's usage.
#[allow(clippy::too_many_arguments)]
pub fn assistant(
    out: &mut Vec<u8>,
    env: &Envelope<'_>,
    r: &Response<'_>,
    block: &Block<'_>,
    usage: &Usage,
    stop: &str,
    parent: Option<&str>,
    uuid: &str,
    ts: &str,
    text: (&Pool, &mut Rng),
) {
    let (pool, rng) = text;
    env.open(out, parent);
    if env.style == Style::V1 {
        out.extend_from_slice(b",\"type\":\"assistant\"");
    }
    let _ = write!(
        out,
        ",\"message\":{{\"id\":\"{}\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"{}\",\"content\":[",
        r.message_id, r.model
    );
    match block {
        Block::Thinking(len) => {
            out.extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":\"");
            pool.write_text(rng, *len, out);
            out.extend_from_slice(b"\",\"signature\":\"");
            hex(out, rng, 160);
            out.extend_from_slice(b"\"}");
        }
        Block::Text(len) => {
            out.extend_from_slice(b"{\"type\":\"text\",\"text\":\"");
            pool.write_text(rng, *len, out);
            out.extend_from_slice(b"\"}");
        }
        Block::Tool {
            id,
            name,
            input_len,
        } => {
            let _ = write!(
                out,
                "{{\"type\":\"tool_use\",\"id\":\"{id}\",\"name\":\"{name}\",\"input\":{{\"file_path\":\"/src/lib.rs\",\"old_string\":\""
            );
            pool.write_text(rng, input_len / 2, out);
            out.extend_from_slice(b"\",\"new_string\":\"");
            pool.write_text(rng, input_len / 2, out);
            out.extend_from_slice(b"\"}}");
        }
        Block::Agent { id, agent_type } => {
            let _ = write!(
                out,
                "{{\"type\":\"tool_use\",\"id\":\"{id}\",\"name\":\"Agent\",\"input\":{{\"description\":\"Look into it\",\"prompt\":\"Find where the configuration is defined.\",\"subagent_type\":\"{agent_type}\"}}}}"
            );
        }
    }
    let _ = write!(
        out,
        "],\"stop_reason\":\"{stop}\",\"stop_sequence\":null,\"usage\":"
    );
    usage_json(out, env.style, usage);
    out.push(b'}');
    if env.style == Style::V2Api {
        out.extend_from_slice(b",\"stop_details\":null");
    }
    if let Some(request) = r.request_id {
        let _ = write!(out, ",\"requestId\":\"{request}\"");
    }
    if let Some(reference) = r.request_ref {
        let _ = write!(out, ",\"requestRef\":\"{reference}\"");
    }
    if let Some(agent) = r.attribution_agent {
        let _ = write!(out, ",\"attributionAgent\":\"{agent}\"");
    }
    if env.style != Style::V1 {
        out.extend_from_slice(b",\"type\":\"assistant\"");
    }
    env.close(out, uuid, ts);
}

/// Usage as each style writes it.
pub fn usage_json(out: &mut Vec<u8>, style: Style, u: &Usage) {
    let _ = write!(
        out,
        "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"output_tokens\":{}",
        u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens, u.output_tokens
    );
    if style == Style::V1 {
        out.extend_from_slice(b",\"service_tier\":\"standard\"}");
        return;
    }
    let _ = write!(
        out,
        ",\"server_tool_use\":{{\"web_search_requests\":0,\"web_fetch_requests\":0}},\"service_tier\":\"standard\",\"cache_creation\":{{\"ephemeral_1h_input_tokens\":{},\"ephemeral_5m_input_tokens\":{}}},\"inference_geo\":\"\",\"iterations\":[],\"speed\":\"standard\"}}",
        u.cache_creation_1h_input_tokens, u.cache_creation_5m_input_tokens
    );
}

/// A user record: a prompt (`text`) or a tool result of `len` bytes (twice: the result and
/// `toolUseResult` repeat it, as Claude Code does). A sub-agent's result carries its usage.
#[allow(clippy::too_many_arguments)]
pub fn user(
    out: &mut Vec<u8>,
    env: &Envelope<'_>,
    content: UserContent<'_>,
    prompt_id: &str,
    parent: Option<&str>,
    uuid: &str,
    ts: &str,
    text: (&Pool, &mut Rng),
) {
    let (pool, rng) = text;
    env.open(out, parent);
    let _ = write!(
        out,
        ",\"promptId\":\"{prompt_id}\",\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":"
    );
    match content {
        UserContent::Prompt(prompt) => {
            quoted(out, prompt);
            out.push(b'}');
        }
        UserContent::ToolResult {
            tool_id,
            len,
            agent,
        } => {
            let _ = write!(
                out,
                "[{{\"tool_use_id\":\"{tool_id}\",\"type\":\"tool_result\",\"content\":\""
            );
            let start = out.len();
            pool.write_text(rng, len, out);
            let end = out.len();
            out.extend_from_slice(b"\"}]},\"toolUseResult\":");
            match agent {
                Some((agent_id, usage)) => {
                    let _ = write!(
                        out,
                        "{{\"status\":\"completed\",\"agentId\":\"{agent_id}\",\"content\":[{{\"type\":\"text\",\"text\":\"done\"}}],\"totalTokens\":{},\"usage\":",
                        usage.total_tokens()
                    );
                    usage_json(out, env.style, &usage);
                    out.push(b'}');
                }
                None => {
                    out.extend_from_slice(b"{\"stdout\":\"");
                    out.extend_from_within(start..end);
                    out.extend_from_slice(b"\",\"stderr\":\"\",\"interrupted\":false}");
                }
            }
        }
    }
    env.close(out, uuid, ts);
}

/// What a user record holds.
pub enum UserContent<'a> {
    Prompt(&'a str),
    ToolResult {
        tool_id: &'a str,
        len: usize,
        agent: Option<(&'a str, Usage)>,
    },
}

/// An attachment record (skill listings, file snapshots): bulk the import must skip.
pub fn attachment(
    out: &mut Vec<u8>,
    env: &Envelope<'_>,
    len: usize,
    uuid: &str,
    ts: &str,
    text: (&Pool, &mut Rng),
) {
    env.open(out, None);
    out.extend_from_slice(b",\"attachment\":{\"type\":\"skill_listing\",\"content\":\"");
    text.0.write_text(text.1, len, out);
    out.extend_from_slice(b"\"},\"type\":\"attachment\"");
    env.close(out, uuid, ts);
}

/// A 2.0-style progress record: a sub-agent's response nested in the main file. Its usage is
/// the sub-agent's own call, already counted from the sub-agent's file.
pub fn progress(
    out: &mut Vec<u8>,
    env: &Envelope<'_>,
    message_id: &str,
    model: &str,
    usage: &Usage,
    uuid: &str,
    ts: &str,
) {
    env.open(out, None);
    let _ = write!(
        out,
        ",\"type\":\"progress\",\"data\":{{\"type\":\"agent_progress\",\"message\":{{\"type\":\"assistant\",\"message\":{{\"id\":\"{message_id}\",\"model\":\"{model}\",\"content\":[],\"usage\":"
    );
    usage_json(out, env.style, usage);
    out.extend_from_slice(b"}}}");
    env.close(out, uuid, ts);
}

/// An api-request record (2.1.328): the call's `querySource`, sent at `ts`.
pub fn api_request(
    out: &mut Vec<u8>,
    env: &Envelope<'_>,
    id: &str,
    source: &str,
    model: &str,
    ts: &str,
    rng: &mut Rng,
) {
    let _ = write!(
        out,
        "{{\"type\":\"api-request\",\"sessionId\":\"{}\"",
        env.session
    );
    if let Some(agent) = env.agent {
        let _ = write!(out, ",\"agentId\":\"{agent}\"");
    }
    let _ = write!(
        out,
        ",\"id\":\"{id}\",\"timestamp\":\"{ts}\",\"version\":\"{}\",\"querySource\":\"{source}\",\"shapeHash\":\"",
        env.version
    );
    hex(out, rng, 64);
    let _ = write!(
        out,
        "\",\"params\":{{\"model\":\"{model}\",\"max_tokens\":32000,\"thinking\":{{\"type\":\"adaptive\"}}}},\"keep\":0,\"tail\":[\""
    );
    hex(out, rng, 64);
    out.extend_from_slice(b"\"],\"cacheControl\":[{\"path\":[\"system\",0],\"value\":{\"type\":\"ephemeral\"}}],\"requestDigest\":\"");
    hex(out, rng, 64);
    out.extend_from_slice(b"\"}\n");
}

/// Bookkeeping records that start with their type: request shapes and blobs, queue
/// operations, snapshots.
pub fn bookkeeping(
    out: &mut Vec<u8>,
    kind: &str,
    session: &str,
    len: usize,
    ts: &str,
    text: (&Pool, &mut Rng),
) {
    let _ = write!(
        out,
        "{{\"type\":\"{kind}\",\"sessionId\":\"{session}\",\"timestamp\":\"{ts}\",\"content\":\""
    );
    text.0.write_text(text.1, len, out);
    out.extend_from_slice(b"\"}\n");
}

/// A `<synthetic>` entry: an API error Claude Code wrote itself. Not an API call.
pub fn synthetic(out: &mut Vec<u8>, env: &Envelope<'_>, id: &str, uuid: &str, ts: &str) {
    env.open(out, None);
    let _ = write!(
        out,
        ",\"type\":\"assistant\",\"message\":{{\"id\":\"{id}\",\"model\":\"<synthetic>\",\"role\":\"assistant\",\"type\":\"message\",\"stop_reason\":\"stop_sequence\",\"usage\":{{\"input_tokens\":0,\"output_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}},\"content\":[{{\"type\":\"text\",\"text\":\"API Error: 529 overloaded\"}}]}},\"isApiErrorMessage\":true"
    );
    env.close(out, uuid, ts);
}

fn quoted(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_kind_is_one_json_object() {
        let mut rng = Rng::new(5);
        let pool = Pool::new(&mut rng, 4096);
        let usage = Usage {
            input_tokens: 3,
            output_tokens: 4,
            cache_creation_input_tokens: 5,
            cache_read_input_tokens: 6,
            cache_creation_5m_input_tokens: 5,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        };
        for style in [Style::V1, Style::V2, Style::V2Meta, Style::V2Api] {
            let env = Envelope {
                style,
                session: "s",
                cwd: "/w",
                version: "2.1.328",
                agent: Some("a1"),
            };
            let r = Response {
                message_id: "msg_1",
                request_id: Some("req_1"),
                request_ref: Some("ref"),
                model: "claude-sonnet-4-6",
                attribution_agent: Some("Explore"),
            };
            let mut out = Vec::new();
            for block in [
                Block::Thinking(50),
                Block::Text(50),
                Block::Tool {
                    id: "t",
                    name: "Edit",
                    input_len: 80,
                },
                Block::Agent {
                    id: "t2",
                    agent_type: "Plan",
                },
            ] {
                assistant(
                    &mut out,
                    &env,
                    &r,
                    &block,
                    &usage,
                    "tool_use",
                    Some("p"),
                    "u",
                    "2026-01-01T00:00:00.000Z",
                    (&pool, &mut rng),
                );
            }
            user(
                &mut out,
                &env,
                UserContent::Prompt("hi"),
                "pr",
                None,
                "u",
                "t",
                (&pool, &mut rng),
            );
            user(
                &mut out,
                &env,
                UserContent::ToolResult {
                    tool_id: "t",
                    len: 300,
                    agent: None,
                },
                "pr",
                None,
                "u",
                "t",
                (&pool, &mut rng),
            );
            user(
                &mut out,
                &env,
                UserContent::ToolResult {
                    tool_id: "t",
                    len: 30,
                    agent: Some(("a", usage)),
                },
                "pr",
                None,
                "u",
                "t",
                (&pool, &mut rng),
            );
            attachment(&mut out, &env, 100, "u", "t", (&pool, &mut rng));
            progress(&mut out, &env, "msg_2", "m", &usage, "u", "t");
            api_request(&mut out, &env, "id", "sdk", "m", "t", &mut rng);
            bookkeeping(
                &mut out,
                "api-request-shape",
                "s",
                100,
                "t",
                (&pool, &mut rng),
            );
            synthetic(&mut out, &env, "x", "u", "t");
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let value: serde_json::Value = serde_json::from_slice(line)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)));
                assert!(value.is_object());
            }
        }
    }
}
