//! Sessions as Gemini CLI 0.61.0 writes them (`chatRecordingService.js`): a metadata line,
//! the `<session_context>` in a first `$set.messages`, prompts, gemini messages written again
//! when their tool calls are added, tool results as user records, `$set` updates — and the
//! traps: compressions replacing the list, rewinds, synthetic gemini messages without tokens,
//! sub-agent files, legacy `.json` sessions (one converted to `.jsonl` on resume).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::projects::{Project, sha256_hex};
use super::truth::GeminiTruth;
use crate::demo::det::Rng;
use crate::demo::import_truth::timeline::{START_MS, Timeline};
use crate::demo::import_truth::{Label, Placement};
use crate::observation::{Category, Usage};

const MODELS: [&str; 2] = ["gemini-3.8-flash", "gemini-3.8-pro"];
const SUBAGENT_MODEL: &str = "gemini-3.5-flash";
const SUBAGENT_TOOL: &str = "codebase_investigator";
const FILLER: &str = "packages/core/src/services/chatRecordingService.ts:412: appendRecord(record) tokens cached thoughts toolUsePromptTokenCount \
    Directory listing for /work/proj: src/ tests/ README.md Cargo.toml (12 entries) grep: 3 matches ";

/// One chat file being written.
pub struct Chat {
    /// Relative to the Gemini home.
    pub path: PathBuf,
    pub lines: Vec<String>,
    /// A legacy `.json` session: `lines` is one pretty-printed object.
    pub legacy: bool,
}

impl Chat {
    fn push(&mut self, value: &Value) {
        self.lines.push(value.to_string());
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut text = self.lines.join("\n");
        if !self.legacy {
            text.push('\n');
        }
        text.into_bytes()
    }
}

/// The conversation as Gemini CLI keeps it, to know which calls it no longer holds.
#[derive(Default)]
struct Conversation {
    /// Message ids, and whether each is a call.
    messages: Vec<(String, bool)>,
    calls: u64,
}

impl Conversation {
    fn push(&mut self, id: &str, call: bool) {
        self.messages.push((id.to_string(), call));
        self.calls += u64::from(call);
    }

    fn rewind(&mut self, id: &str) {
        if let Some(at) = self.messages.iter().position(|(m, _)| m == id) {
            self.messages.truncate(at);
        }
    }

    /// Calls made that the final conversation does not hold.
    fn dropped(&self) -> u64 {
        self.calls - self.messages.iter().filter(|(_, call)| *call).count() as u64
    }
}

/// Where a session's lines go and how its calls are labelled.
struct Session<'a> {
    chat: &'a mut Chat,
    label: Label,
    /// The project its calls are reported under.
    project: &'a str,
    conversation: Conversation,
    context: u64,
    model: &'static str,
}

/// The generator's state across sessions.
pub struct Generator {
    pub rng: Rng,
    pub truth: GeminiTruth,
    pub chats: Vec<Chat>,
    pub written: u64,
    pub clock: i64,
    timeline: Timeline,
    sessions: u64,
}

/// `2026-03-08T00:00:00.000Z`.
pub fn timestamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Generator {
    /// A generator of a history of about `size_bytes`.
    pub fn new(seed: u64, size_bytes: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            truth: GeminiTruth::new(seed),
            chats: Vec::new(),
            written: 0,
            clock: START_MS,
            timeline: Timeline::new(size_bytes),
            sessions: 0,
        }
    }

    fn uuid(&mut self) -> String {
        self.rng.uuid()
    }

    fn filler(&mut self, min: u64, max: u64) -> String {
        self.rng.filler(FILLER, min, max)
    }

    fn tick(&mut self, min: u64, max: u64) -> i64 {
        self.clock += self.rng.range(min, max) as i64;
        self.clock
    }

    /// Token counts of one model call, as `recordMessageTokens` writes them, and the same in
    /// agentprof's convention (worked out here on their own, not by the importer's code).
    fn tokens(&mut self, context: &mut u64) -> (Value, Usage) {
        *context += self.rng.range(300, 4_000);
        let input = *context;
        let cached = input * self.rng.range(0, 90) / 100;
        let output = self.rng.range(5, 800);
        let thoughts = if self.rng.range(0, 2) == 0 {
            0
        } else {
            self.rng.range(1, 400)
        };
        let tool = if self.rng.range(0, 9) == 0 {
            self.rng.range(1, 200)
        } else {
            0
        };
        let total = input + output + thoughts + tool;
        let value = json!({"input": input, "output": output, "cached": cached,
            "thoughts": thoughts, "tool": tool, "total": total});
        let usage = Usage {
            input_tokens: input - cached + tool,
            cache_read_input_tokens: cached,
            output_tokens: output + thoughts,
            reasoning_output_tokens: thoughts,
            tool_use_input_tokens: tool,
            ..Usage::default()
        };
        (value, usage)
    }

    fn message(&mut self, kind: &str, content: Value) -> Value {
        let id = self.uuid();
        let t = self.tick(20, 3_000);
        json!({"id": id, "timestamp": timestamp(t), "type": kind, "content": content})
    }

    /// A model call of `session`: its gemini message (with its tokens), counted.
    fn call(&mut self, session: &mut Session<'_>, content: &str) -> Value {
        let (tokens, usage) = self.tokens(&mut session.context);
        let t = self.tick(300, 30_000);
        let mut message = json!({"id": self.uuid(), "timestamp": timestamp(t), "type": "gemini",
            "content": content, "thoughts": [], "tokens": tokens, "model": session.model});
        if self.sessions == 1 && !self.truth.damaged.contains_key("total_mismatch") {
            // One total off by one: reported, and the call counted as written.
            message["tokens"]["total"] = json!(tokens["total"].as_u64().unwrap_or(0) + 1);
            let at = format!(
                "{}:{}",
                session.chat.path.display(),
                session.chat.lines.len() + 1
            );
            self.truth.damage("total_mismatch", at);
        }
        // The import places a call at its gemini message's timestamp.
        self.truth.call(
            &usage,
            &session.label,
            session.model,
            &Placement::at(t).in_project(session.project),
        );
        message
    }

    /// One turn: the prompt, model calls with tool rounds between them (a sub-agent started
    /// from one now and then), the final answer.
    fn turn(&mut self, session: &mut Session<'_>, main_id: &str, project: &Project) {
        let prompt_text = self.filler(20, 400);
        let prompt = self.message("user", json!([{"text": prompt_text}]));
        self.push(session, &prompt, false);
        if session.label.category == Category::UserTurn {
            self.truth.tally.turns += 1;
        }
        let rounds = self.rng.range(1, 4);
        for round in 0..rounds {
            if round + 1 == rounds {
                let text = self.filler(10, 300);
                let answer = self.call(session, &text);
                self.push(session, &answer, true);
                break;
            }
            let mut message = self.call(session, "");
            // Written first without its tool calls, then again when they are added.
            self.push(session, &message, true);
            // (A legacy session's messages are written once, at the end: no repeats, no
            // sub-agent files beside it.)
            let legacy = session.chat.legacy;
            let spawn = !legacy
                && session.label.category == Category::UserTurn
                && self.rng.range(0, 5) == 0;
            let call_id = format!("call_{}", self.rng.next_u64() % 1_000_000);
            let result = self.filler(50, 2_000);
            let mut tool_call = json!({"id": call_id, "name": "read_file", "args": {"path": "src/lib.rs"},
                "result": [{"functionResponse": {"id": call_id, "name": "read_file", "response": {"output": result}}}],
                "status": "success", "timestamp": message["timestamp"]});
            if spawn {
                let agent = self.uuid();
                tool_call["name"] = json!(SUBAGENT_TOOL);
                tool_call["agentId"] = json!(agent);
                self.subagent(main_id, &agent, project);
            }
            message["toolCalls"] = json!([tool_call]);
            session.chat.push(&message);
            self.truth.repeats += u64::from(!legacy);
            let result = self.message(
                "user",
                json!([{"functionResponse": {"id": call_id, "name": "read_file", "response": {"output": result}}}]),
            );
            self.push(session, &result, false);
        }
    }

    fn push(&mut self, session: &mut Session<'_>, message: &Value, call: bool) {
        session.chat.push(message);
        let id = message["id"].as_str().unwrap_or_default();
        session.conversation.push(id, call);
        let t = self.clock;
        session
            .chat
            .push(&json!({"$set": {"lastUpdated": timestamp(t)}}));
    }

    fn meta(&self, id: &str, project: &Project, kind: &str) -> Value {
        json!({"sessionId": id, "projectHash": sha256_hex(project.root), "startTime": timestamp(self.clock),
            "lastUpdated": timestamp(self.clock), "kind": kind})
    }

    /// A sub-agent's own file, `chats/<parent>/<id>.jsonl`.
    fn subagent(&mut self, parent: &str, id: &str, project: &Project) {
        let mut chat = Chat {
            path: PathBuf::from(format!(
                ".gemini/tmp/{}/chats/{parent}/{id}.jsonl",
                project.dir
            )),
            lines: Vec::new(),
            legacy: false,
        };
        let mut meta = self.meta(id, project, "subagent");
        meta["directories"] = json!([project.root]);
        chat.push(&meta);
        let mut session = Session {
            chat: &mut chat,
            label: Label {
                category: Category::Subagent,
                subagent_type: Some(SUBAGENT_TOOL.into()),
                session: parent.to_string(),
            },
            project: &project.key,
            conversation: Conversation::default(),
            context: 2_000,
            model: SUBAGENT_MODEL,
        };
        self.turn(&mut session, parent, project);
        self.truth.dropped_from_conversation += session.conversation.dropped();
        self.chats.push(chat);
    }

    /// One main session in `project` (a slug or a sha256 directory).
    pub fn session(&mut self, project: &Project) {
        self.sessions += 1;
        let id = self.uuid();
        // Spread over March 2026 (see Timeline), with an idle gap at least.
        let after = self.tick(60_000, 6 * 3_600_000);
        self.clock = self.timeline.next(self.written, after, &mut self.rng);
        let start = self.clock;
        let legacy = self.sessions % 7 == 2;
        let stamp = timestamp(start)[..16].replace(':', "-");
        let name = format!("session-{stamp}-{}", &id[..8]);
        let mut chat = Chat {
            path: PathBuf::from(format!(
                ".gemini/tmp/{}/chats/{name}.{}",
                project.dir,
                if legacy { "json" } else { "jsonl" }
            )),
            lines: Vec::new(),
            legacy,
        };
        let model = *self.rng.pick(&MODELS).unwrap_or(&MODELS[0]);
        let label = Label {
            category: Category::UserTurn,
            subagent_type: None,
            session: id.clone(),
        };
        if legacy {
            self.legacy(&mut chat, &id, project, label, model);
            return;
        }
        chat.push(&self.meta(&id, project, "main"));
        let context = self.message(
            "user",
            json!([{"text": "<session_context>\nThis is the Gemini CLI."}]),
        );
        chat.push(&json!({"$set": {"messages": [context.clone()]}}));
        let mut session = Session {
            chat: &mut chat,
            label,
            project: &project.key,
            conversation: Conversation::default(),
            context: 6_000,
            model,
        };
        session
            .conversation
            .push(context["id"].as_str().unwrap_or_default(), false);
        let turns = self.rng.range(1, 5);
        for turn in 0..turns {
            if turn > 0 && self.rng.range(0, 4) == 0 {
                self.compress(&mut session);
            }
            if self.sessions == 1 && turn == 0 {
                // A damaged line in the middle of the first session.
                session.chat.lines.push("{\"id\":\"torn".into());
                let place = format!(
                    "{}:{}",
                    session.chat.path.display(),
                    session.chat.lines.len()
                );
                self.truth.damage("not_json", place);
            }
            let first = session.chat.lines.len();
            self.turn(&mut session, &id, project);
            if turn > 0 && self.rng.range(0, 5) == 0 {
                // The user rewinds to before this turn's prompt: its calls stay made.
                let Some(value) = session.chat.lines.get(first) else {
                    continue;
                };
                let prompt: Value = serde_json::from_str(value).unwrap_or_default();
                let prompt = prompt["id"].as_str().unwrap_or_default().to_string();
                session.chat.push(&json!({"$rewindTo": prompt}));
                session.conversation.rewind(&prompt);
            }
            if self.rng.range(0, 6) == 0 {
                // A response with nothing in it: a synthetic gemini message, no tokens.
                let empty = self.message("gemini", json!([]));
                self.push(&mut session, &empty, false);
                self.truth.without_tokens += 1;
            }
        }
        self.truth.dropped_from_conversation += session.conversation.dropped();
        self.chats.push(chat);
    }

    /// A compression: `$set.messages` with a summary (synthetic user and gemini messages, no
    /// tokens) and copies of the last two messages.
    fn compress(&mut self, session: &mut Session<'_>) {
        let summary = self.message(
            "user",
            json!([{"text": "<state_snapshot>summary</state_snapshot>"}]),
        );
        let ack = self.message("gemini", json!([{"text": "Got it."}]));
        self.truth.without_tokens += 1;
        let mut kept: Vec<Value> = Vec::new();
        for line in session.chat.lines.iter().rev() {
            let Ok(value) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if value["id"].is_string() && kept.iter().all(|k| k["id"] != value["id"]) {
                kept.insert(0, value);
            }
            if kept.len() == 2 {
                break;
            }
        }
        self.truth.repeats += kept.len() as u64;
        let mut conversation = Conversation {
            calls: session.conversation.calls,
            ..Conversation::default()
        };
        conversation.push(summary["id"].as_str().unwrap_or_default(), false);
        conversation.push(ack["id"].as_str().unwrap_or_default(), false);
        for message in &kept {
            let id = message["id"].as_str().unwrap_or_default();
            conversation.push(id, message["tokens"].is_object());
            conversation.calls -= u64::from(message["tokens"].is_object());
        }
        session.conversation = conversation;
        let mut messages = vec![summary, ack];
        messages.extend(kept);
        session
            .chat
            .push(&json!({"$set": {"messages": messages, "lastUpdated": timestamp(self.clock)}}));
    }

    /// A legacy `.json` session; the first one also converted to `.jsonl` on a resume, its
    /// messages written again there (copies) before a new turn.
    fn legacy(
        &mut self,
        chat: &mut Chat,
        id: &str,
        project: &Project,
        label: Label,
        model: &'static str,
    ) {
        let mut lines = Chat {
            path: chat.path.clone(),
            lines: Vec::new(),
            legacy: true,
        };
        let mut session = Session {
            chat: &mut lines,
            label: label.clone(),
            project: &project.key,
            conversation: Conversation::default(),
            context: 6_000,
            model,
        };
        for _ in 0..self.rng.range(1, 3) {
            self.turn(&mut session, id, project);
        }
        // The legacy file holds each message once, at its final record.
        let mut messages: Vec<Value> = Vec::new();
        for value in lines
            .lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            if !value["id"].is_string() {
                continue;
            }
            match messages.iter_mut().find(|m| m["id"] == value["id"]) {
                Some(existing) => *existing = value,
                None => messages.push(value),
            }
        }
        let mut object = self.meta(id, project, "main");
        object["messages"] = json!(messages);
        chat.lines = vec![serde_json::to_string_pretty(&object).unwrap_or_default()];
        let convert = !self.chats.iter().any(|c| c.legacy);
        self.chats.push(Chat {
            path: chat.path.clone(),
            lines: std::mem::take(&mut chat.lines),
            legacy: true,
        });
        if !convert {
            return;
        }
        let mut converted = Chat {
            path: chat.path.with_extension("jsonl"),
            lines: Vec::new(),
            legacy: false,
        };
        converted.push(&self.meta(id, project, "main"));
        for message in &messages {
            converted.push(message);
        }
        self.truth.copies += messages.len() as u64;
        let mut session = Session {
            chat: &mut converted,
            label,
            project: &project.key,
            conversation: Conversation::default(),
            context: 20_000,
            model,
        };
        self.turn(&mut session, id, project);
        self.chats.push(converted);
    }
}
