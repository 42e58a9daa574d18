//! What a turn holds besides its calls: background calls, agent-authored user records,
//! `<synthetic>` entries, damage, and the pacing of multi-megabyte lines.

use std::io::Write;

use super::ids;
use super::lines::{self, Block, Envelope, Response, Style, UserContent};
use super::session::{BACKGROUND, CallSpec, Generator, SessionInfo};
use crate::observation::{Category, Usage};

impl Generator {
    /// Background calls, agent-authored user records, synthetic entries and damage.
    /// In the showcase session, turn `k` has the `k`-th background kind and damage kind.
    pub(super) fn extras(
        &mut self,
        out: &mut impl Write,
        info: &SessionInfo<'_>,
        env: &Envelope<'_>,
        t: &mut i64,
        showcase: Option<u64>,
    ) -> std::io::Result<()> {
        let background = match showcase {
            Some(k) => BACKGROUND.get(k as usize).copied(),
            None if info.style == Style::V2Api && self.rng.range(0, 5) == 0 => {
                self.rng.pick(&BACKGROUND).copied()
            }
            None => None,
        };
        if let Some((source, category)) = background {
            let spec = CallSpec {
                category,
                source,
                subagent_type: None,
                model: "claude-haiku-4-5-20251001",
                blocks: vec![Block::Text(self.rng.range(50, 800) as usize)],
                stop: "end_turn",
            };
            *t = self.call(out, info, env, &spec, *t + 1_000)?.1;
        }
        if info.style != Style::V1 && self.rng.range(0, 9) == 0 {
            // A sub-agent's completion notice: main-loop work in the user role, not a prompt.
            let uuid = ids::uuid(&mut self.rng);
            let prompt_id = ids::uuid(&mut self.rng);
            let notice = "<task-notification>\\n<task-id>a1</task-id>\\n<status>completed</status>";
            lines::user(
                &mut self.buf,
                env,
                UserContent::Prompt(notice),
                &prompt_id,
                None,
                &uuid,
                &ids::timestamp(*t),
                (&self.pool, &mut self.rng),
            );
            let model = if info.old {
                "claude-sonnet-4-20250514"
            } else {
                "claude-sonnet-4-6"
            };
            let spec = CallSpec {
                category: Category::UserTurn,
                source: "repl_main_thread",
                subagent_type: None,
                model,
                blocks: vec![Block::Text(self.rng.range(50, 500) as usize)],
                stop: "end_turn",
            };
            *t = self.call(out, info, env, &spec, *t + 500)?.1;
        }
        if showcase == Some(0) || self.rng.range(0, 29) == 0 {
            let id = ids::uuid(&mut self.rng);
            let uuid = ids::uuid(&mut self.rng);
            lines::synthetic(&mut self.buf, env, &id, &uuid, &ids::timestamp(*t));
            self.truth.synthetic += 1;
        }
        let damage = match showcase {
            Some(k) => k,
            None => self.rng.range(0, 59),
        };
        match damage {
            0 => {
                self.buf
                    .extend_from_slice(b"<<<<<<< HEAD (a merge conflict in a transcript)\n");
                self.truth.damage("not_json");
            }
            1 => {
                self.emit(out)?;
                self.torn_line(out, env, *t, true)?;
            }
            2 => {
                // Usage without output_tokens and no timestamp: nothing to count it by.
                let _ = writeln!(
                    self.buf,
                    "{{\"parentUuid\":null,\"isSidechain\":false,\"message\":{{\"id\":\"{}\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],\"usage\":{{\"input_tokens\":12}}}},\"requestId\":\"{}\",\"type\":\"assistant\",\"sessionId\":\"{}\",\"version\":\"{}\"}}",
                    ids::base62(&mut self.rng, "msg_01", 22),
                    ids::base62(&mut self.rng, "req_011C", 20),
                    info.id,
                    info.version
                );
                self.truth.damage("missing_fields");
            }
            _ => {}
        }
        self.emit(out)
    }

    /// A response that was never finished: cut inside its content.
    pub(super) fn torn_line(
        &mut self,
        out: &mut impl Write,
        env: &Envelope<'_>,
        t: i64,
        newline: bool,
    ) -> std::io::Result<()> {
        let message_id = ids::base62(&mut self.rng, "msg_01", 22);
        let r = Response {
            message_id: &message_id,
            request_id: Some("req_torn"),
            request_ref: None,
            model: "claude-sonnet-4-6",
            attribution_agent: None,
        };
        let usage = Usage {
            input_tokens: 9,
            output_tokens: 9,
            ..Usage::default()
        };
        let uuid = ids::uuid(&mut self.rng);
        lines::assistant(
            &mut self.buf,
            env,
            &r,
            &Block::Text(2_000),
            &usage,
            "end_turn",
            None,
            &uuid,
            &ids::timestamp(t),
            (&self.pool, &mut self.rng),
        );
        let mut cut = self.buf.len() / 2;
        while cut > 1 && matches!(self.buf[cut - 1], b'}' | b' ' | b'\n') {
            cut -= 1;
        }
        self.buf.truncate(cut);
        if newline {
            self.buf.push(b'\n');
            self.truth.damage("not_json");
        } else {
            self.truth.damage("torn_last_line");
        }
        self.emit(out)
    }

    /// Whether the next line of this kind (`result`: a tool result) is to be multi-megabyte.
    pub(super) fn multi_mb_due(&mut self, result: bool) -> bool {
        if self.written < self.next_multi_mb || (self.multi_mb % 2 == 1) != result {
            return false;
        }
        self.multi_mb += 1;
        self.next_multi_mb = self.written + self.multi_mb_every;
        self.truth.multi_mb_lines += 1;
        true
    }
}
