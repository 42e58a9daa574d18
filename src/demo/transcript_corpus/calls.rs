//! Billed calls and sub-agents: api-request records, placeholder and per-block lines,
//! sub-agent files with their meta files, nested workflows and replays — each call recorded in
//! the ground truth.

use std::io::Write;

use super::ids;
use super::lines::{self, Block, Envelope, Response, Style, UserContent};
use super::session::{AGENT_TYPES, CallSpec, Generator, Sent, SessionInfo, envelope};
use crate::demo::import_truth::Placement;
use crate::observation::{Category, Usage};

impl Generator {
    /// One billed call: its api-request record (newest version), a placeholder line now and
    /// then, one line per content block. Returns what a replay needs and when it ended.
    ///
    /// The import places a call at its api-request's time when it has one (sent at `start`),
    /// else at its first line; and filters `--since` on its last line. Its replays (newest
    /// version only) are written after `start`, so the original is the copy the import keeps.
    pub(super) fn call(
        &mut self,
        out: &mut impl Write,
        info: &SessionInfo<'_>,
        env: &Envelope<'_>,
        spec: &CallSpec<'_>,
        start: i64,
    ) -> std::io::Result<(Sent, i64)> {
        let message_id = ids::base62(&mut self.rng, "msg_01", 22);
        let request_id = ids::base62(&mut self.rng, "req_011C", 20);
        let usage = self.usage(info.style);
        let reference = (info.style == Style::V2Api).then(|| ids::uuid(&mut self.rng));
        if let Some(reference) = &reference {
            let source = match (spec.category, spec.subagent_type) {
                (Category::Subagent, Some(kind)) => {
                    let builtin = AGENT_TYPES.iter().any(|(t, b)| *t == kind && *b);
                    format!(
                        "agent:{}:{kind}",
                        if builtin { "builtin" } else { "custom" }
                    )
                }
                _ => spec.source.to_string(),
            };
            lines::api_request(
                &mut self.buf,
                env,
                reference,
                &source,
                spec.model,
                &ids::timestamp(start),
                &mut self.rng,
            );
        }
        let response = Response {
            message_id: &message_id,
            request_id: Some(&request_id),
            request_ref: reference.as_deref(),
            model: spec.model,
            attribution_agent: spec
                .subagent_type
                .filter(|_| matches!(info.style, Style::V2Meta | Style::V2Api)),
        };
        let mut ms = start + self.rng.range(400, 30_000) as i64;
        let first_ms = ms;
        let mut first = true;
        let mut first_line_ms = None;
        if self.rng.range(0, 9) == 0 {
            let placeholder = Usage {
                output_tokens: 1,
                ..usage
            };
            let uuid = ids::uuid(&mut self.rng);
            let block = spec.blocks.first().unwrap_or(&Block::Text(10));
            lines::assistant(
                &mut self.buf,
                env,
                &response,
                block,
                &placeholder,
                spec.stop,
                None,
                &uuid,
                &ids::timestamp(ms),
                (&self.pool, &mut self.rng),
            );
            self.truth.placeholders += 1;
            first = false;
            first_line_ms = Some(ms);
        }
        for block in &spec.blocks {
            if !first {
                self.truth.repeated_lines += 1;
            }
            first = false;
            ms += self.rng.range(5, 40) as i64;
            first_line_ms.get_or_insert(ms);
            let uuid = ids::uuid(&mut self.rng);
            lines::assistant(
                &mut self.buf,
                env,
                &response,
                block,
                &usage,
                spec.stop,
                None,
                &uuid,
                &ids::timestamp(ms),
                (&self.pool, &mut self.rng),
            );
            self.emit(out)?;
        }
        let session_type = spec
            .subagent_type
            .filter(|_| info.style != Style::V1 && info.style != Style::V2);
        let at_ms = match reference {
            Some(_) => start,
            None => first_line_ms.unwrap_or(ms),
        };
        self.truth.call(
            &usage,
            spec.category,
            session_type,
            spec.model,
            &info.id,
            info.version,
            info.old,
            &Placement {
                at_ms,
                since_ms: ms,
                project: Some(&info.project),
            },
        );
        let sent = Sent {
            message_id,
            usage,
            model: spec.model,
            ms: first_ms,
            blocks: spec.blocks.len(),
        };
        Ok((sent, ms))
    }

    pub(super) fn usage(&mut self, style: Style) -> Usage {
        let creation = if self.rng.range(0, 3) == 0 {
            self.rng.range(500, 30_000)
        } else {
            0
        };
        let one_hour = if style != Style::V1 && self.rng.range(0, 4) == 0 {
            creation / 3
        } else {
            0
        };
        Usage {
            input_tokens: self.rng.range(1, 3_000),
            output_tokens: self.rng.range(20, 4_000),
            cache_creation_input_tokens: creation,
            cache_read_input_tokens: self.rng.range(0, 150_000),
            cache_creation_5m_input_tokens: creation - one_hour,
            cache_creation_1h_input_tokens: one_hour,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }
    }

    /// A sub-agent: inline in the main file (1.0), else its own file with a meta file from
    /// 2.1.197 on, nested under `workflows/` now and then, replaying parent messages now and
    /// then (newest version). Returns its last usage, when it ended, and its id.
    pub(super) fn subagent(
        &mut self,
        main: &mut impl Write,
        info: &SessionInfo<'_>,
        kind: (&str, bool),
        mut t: i64,
        sent: &mut Vec<Sent>,
        depth: u32,
    ) -> std::io::Result<(Usage, i64, String)> {
        self.agents += 1;
        let id = format!("a{:016x}", self.rng.next_u64());
        let mut file = if info.style == Style::V1 {
            None
        } else {
            let nested = if self.rng.range(0, 4) == 0 {
                format!("workflows/wf-{}/", self.agents % 7)
            } else {
                String::new()
            };
            let path = info.dir.join(format!("subagents/{nested}agent-{id}.jsonl"));
            let file = self.create(&path)?;
            if matches!(info.style, Style::V2Meta | Style::V2Api) {
                let meta = format!(
                    "{{\"agentType\":\"{}\",\"description\":\"Look into it\",\"spawnDepth\":{}}}",
                    kind.0,
                    depth + 1
                );
                std::fs::write(path.with_extension("meta.json"), meta)?;
            }
            Some(file)
        };
        let env = envelope(info, Some(&id));
        let mut sink: &mut dyn Write = match file.as_mut() {
            Some(file) => file,
            None => main,
        };
        if info.style == Style::V2Api && self.replays && self.rng.range(0, 2) == 0 {
            let start = sent.len().saturating_sub(self.rng.range(1, 3) as usize);
            for original in &sent[start..] {
                self.replay(&mut sink, &env, original)?;
            }
        }
        let prompt_id = ids::uuid(&mut self.rng);
        let uuid = ids::uuid(&mut self.rng);
        lines::user(
            &mut self.buf,
            &env,
            UserContent::Prompt("Find where the configuration is defined."),
            &prompt_id,
            None,
            &uuid,
            &ids::timestamp(t),
            (&self.pool, &mut self.rng),
        );
        self.emit(&mut sink)?;
        let model = if self.rng.range(0, 2) == 0 {
            "claude-haiku-4-5-20251001"
        } else {
            "claude-sonnet-4-6"
        };
        let calls = self.rng.range(1, 5);
        let mut last_usage = Usage::default();
        let mut progress = Vec::new();
        for k in 0..calls {
            let last = k + 1 == calls;
            let tool_id = ids::base62(&mut self.rng, "toolu_01", 22);
            let nest = !last && depth == 0 && info.style != Style::V1 && self.rng.range(0, 7) == 0;
            let block = if last {
                Block::Text(self.rng.range(50, 1_000) as usize)
            } else if nest {
                Block::Agent {
                    id: &tool_id,
                    agent_type: "Explore",
                }
            } else {
                Block::Tool {
                    id: &tool_id,
                    name: "Read",
                    input_len: self.rng.range(40, 400) as usize,
                }
            };
            let spec = CallSpec {
                category: Category::Subagent,
                source: "",
                subagent_type: Some(kind.0),
                model,
                blocks: vec![block],
                stop: if last { "end_turn" } else { "tool_use" },
            };
            let (message, end) = self.call(&mut sink, info, &env, &spec, t + 300)?;
            t = end;
            last_usage = message.usage;
            progress.push(message);
            if last {
                break;
            }
            let agent = if nest {
                let (usage, end, nested_id) =
                    self.subagent(&mut sink, info, ("Explore", true), t, sent, depth + 1)?;
                t = end;
                Some((nested_id, usage))
            } else {
                None
            };
            let uuid = ids::uuid(&mut self.rng);
            let content = UserContent::ToolResult {
                tool_id: &tool_id,
                len: self.rng.range(100, 16_000) as usize,
                agent: agent.as_ref().map(|(id, u)| (id.as_str(), *u)),
            };
            t += self.rng.range(50, 5_000) as i64;
            lines::user(
                &mut self.buf,
                &env,
                content,
                &prompt_id,
                None,
                &uuid,
                &ids::timestamp(t),
                (&self.pool, &mut self.rng),
            );
            self.emit(&mut sink)?;
        }
        if let Some(mut file) = file {
            file.flush()?;
        }
        if info.style == Style::V2 && depth == 0 {
            // 2.0 also echoed each sub-agent response into the main file.
            let main_env = envelope(info, None);
            for message in &progress {
                let uuid = ids::uuid(&mut self.rng);
                lines::progress(
                    &mut self.buf,
                    &main_env,
                    &message.message_id,
                    message.model,
                    &message.usage,
                    &uuid,
                    &ids::timestamp(message.ms),
                );
            }
            self.emit(main)?;
        }
        Ok((last_usage, t, id))
    }

    /// A parent's message copied into a sub-agent file under another request id.
    pub(super) fn replay(
        &mut self,
        out: &mut impl Write,
        env: &Envelope<'_>,
        original: &Sent,
    ) -> std::io::Result<()> {
        let request_id = ids::base62(&mut self.rng, "req_011C", 20);
        let response = Response {
            message_id: &original.message_id,
            request_id: Some(&request_id),
            request_ref: None,
            model: original.model,
            attribution_agent: None,
        };
        for _ in 0..original.blocks.max(1) {
            let uuid = ids::uuid(&mut self.rng);
            lines::assistant(
                &mut self.buf,
                env,
                &response,
                &Block::Text(200),
                &original.usage,
                "tool_use",
                None,
                &uuid,
                &ids::timestamp(original.ms),
                (&self.pool, &mut self.rng),
            );
        }
        self.truth.replays.add(&original.usage);
        self.truth.repeated_lines += original.blocks.max(1) as u64 - 1;
        self.emit(out)
    }
}
