//! Writing sessions: main turns, sub-agent sessions, compactions, calls without tokens, with
//! Anthropic and OpenAI models, in three projects — each call tallied in the truth as it is
//! written.

use serde_json::json;

use super::truth::OpencodeTruth;
use crate::demo::det::Rng;
use crate::demo::import_truth::timeline::{START_MS, Timeline};
use crate::demo::import_truth::{Label, Placement};
use crate::observation::{Category, Usage};

/// (provider, model id, reasoning?)
const MODELS: [(&str, &str, bool); 2] = [
    ("anthropic", "claude-sonnet-4-6", false),
    ("openai", "gpt-5.6-terra-pro", true),
];

/// A project opencode ran in, as `Project.fromDirectory` records it: its `project` row, and
/// the directory its sessions record (`session.directory`, `Instance.directory`).
pub struct Project {
    /// A git repository's root commit; `global` outside one.
    pub id: &'static str,
    /// The repository's top level; `/` for `global`.
    pub worktree: &'static str,
    pub vcs: Option<&'static str>,
    /// Where opencode ran: the project a session's calls are reported under.
    pub directory: &'static str,
}

/// Two repositories and a directory outside any.
pub const PROJECTS: [Project; 3] = [
    Project {
        id: "8f3c2a91d04e6b7751c0a9e2f86d3b41c5e07a29",
        worktree: "/home/dev/webapp",
        vcs: Some("git"),
        directory: "/home/dev/webapp",
    },
    Project {
        id: "b71e04c3a8d25f96e1702b4d9c3a8f5e60d1b2c7",
        worktree: "/home/dev/agentprof",
        vcs: Some("git"),
        directory: "/home/dev/agentprof",
    },
    Project {
        id: "global",
        worktree: "/",
        vcs: None,
        directory: "/home/dev/notes",
    },
];

/// One message row.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: String,
    pub session: String,
    pub time_created: i64,
    pub data: String,
}

/// One session row.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub parent: Option<String>,
    pub time_created: i64,
    /// Written as legacy JSON files instead of database rows.
    pub legacy: bool,
    /// Index into [`PROJECTS`]: a child's is its parent's.
    pub project: usize,
}

pub struct Generator {
    pub rng: Rng,
    pub truth: OpencodeTruth,
    pub sessions: Vec<SessionRow>,
    pub messages: Vec<MessageRow>,
    clock: i64,
    timeline: Timeline,
    counter: u64,
    pub written: u64,
    /// The project of the session being written (index into [`PROJECTS`]).
    project: usize,
}

impl Generator {
    /// A generator of a history of about `size_bytes`.
    pub fn new(seed: u64, size_bytes: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            truth: OpencodeTruth::new(seed),
            sessions: Vec::new(),
            messages: Vec::new(),
            clock: START_MS,
            timeline: Timeline::new(size_bytes),
            counter: 0,
            written: 0,
            project: 0,
        }
    }

    fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{:012x}{}", self.counter, &self.rng.uuid()[..8])
    }

    fn tick(&mut self, min: u64, max: u64) -> i64 {
        self.clock += self.rng.range(min, max) as i64;
        self.clock
    }

    fn push(&mut self, session: &str, data: serde_json::Value) -> String {
        let id = self.id("msg");
        let text = data.to_string();
        self.written += text.len() as u64;
        self.messages.push(MessageRow {
            id: id.clone(),
            session: session.to_string(),
            time_created: self.clock,
            data: text,
        });
        id
    }

    fn user(&mut self, session: &str, agent: &str) {
        self.tick(1_000, 60_000);
        self.push(
            session,
            json!({"role":"user","time":{"created":self.clock},"summary":{"diffs":[]},"agent":agent,
                   "model":{"providerID":"anthropic","modelID":"claude-sonnet-4-6"}}),
        );
    }

    /// An assistant message with tokens, tallied under `label`.
    fn call(&mut self, session: &str, agent: &str, model: usize, label: &Label) {
        let (provider, model_id, reasoning) = MODELS[model % MODELS.len()];
        let created = self.tick(50, 2_000);
        let completed = self.tick(300, 9_000);
        let input = self.rng.range(0, 2_000);
        let output = self.rng.range(1, 900);
        let thinking = if reasoning { self.rng.range(0, 300) } else { 0 };
        let read = self.rng.range(0, 40_000);
        let write = self.rng.range(0, 8_000);
        let compaction = label.category == Category::Compaction;
        let project = &PROJECTS[self.project];
        let mut data = json!({
            "role":"assistant","mode":agent,"agent":agent,"parentID":"msg_x",
            "path":{"cwd":project.directory,"root":project.worktree},"cost":0.01,
            "tokens":{"total":input+output+thinking+read+write,"input":input,"output":output,
                      "reasoning":thinking,"cache":{"write":write,"read":read}},
            "modelID":model_id,"providerID":provider,
            "time":{"created":created,"completed":completed},"finish":"stop"});
        if compaction {
            data["summary"] = json!(true);
        }
        self.push(session, data);
        let usage = Usage {
            input_tokens: input,
            output_tokens: output + thinking,
            cache_creation_input_tokens: write,
            cache_read_input_tokens: read,
            cache_creation_5m_input_tokens: write,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: thinking,
            tool_use_input_tokens: 0,
        };
        // The import places a call at its `time.completed`, in its session's directory.
        self.truth.call(
            &usage,
            label,
            model_id,
            &Placement::at(completed).in_project(project.directory),
        );
    }

    /// An assistant message that is not a call: no tokens, or all zero (killed).
    fn without_tokens(&mut self, session: &str) {
        self.tick(50, 500);
        let data = if self.rng.range(0, 2) == 0 {
            json!({"role":"assistant","agent":"build","modelID":"claude-sonnet-4-6","providerID":"anthropic","time":{"created":self.clock}})
        } else {
            json!({"role":"assistant","agent":"build","modelID":"claude-sonnet-4-6","providerID":"anthropic",
                   "tokens":{"input":0,"output":0,"reasoning":0,"cache":{"read":0,"write":0}},"time":{"created":self.clock}})
        };
        self.push(session, data);
        self.truth.without_tokens += 1;
    }

    fn session_row(&mut self, parent: Option<String>, legacy: bool) -> String {
        let id = self.id("ses");
        self.sessions.push(SessionRow {
            id: id.clone(),
            parent,
            time_created: self.clock,
            legacy,
            project: self.project,
        });
        id
    }

    /// One main session with its sub-agents and compactions.
    pub fn session(&mut self, index: usize) {
        // Sessions hours apart at least, spread over March 2026 (see Timeline).
        let after = self.tick(2 * 3_600_000, 20 * 3_600_000);
        self.clock = self.timeline.next(self.written, after, &mut self.rng);
        let legacy = index % 5 == 4;
        self.project = index % PROJECTS.len();
        if legacy {
            self.truth.legacy_sessions += 1;
        }
        let main = self.session_row(None, legacy);
        let model = self.rng.range(0, 2) as usize;
        let main_label = Label {
            category: Category::UserTurn,
            subagent_type: None,
            session: main.clone(),
        };
        let turns = self.rng.range(1, 5);
        for turn in 0..turns {
            self.user(&main, "build");
            self.truth.tally.turns += 1;
            let steps = self.rng.range(1, 4);
            for step in 0..steps {
                self.call(&main, "build", model, &main_label);
                if step == 0 && (index + turn as usize) % 3 == 1 {
                    self.subagent(&main, legacy, model);
                }
            }
            if (index + turn as usize) % 4 == 2 {
                self.without_tokens(&main);
            }
            if (index + turn as usize) % 3 == 2 {
                // `/compact`: a user message, then the summary call.
                self.user(&main, "build");
                let label = Label {
                    category: Category::Compaction,
                    ..main_label.clone()
                };
                self.call(&main, "compaction", model, &label);
            }
        }
    }

    fn subagent(&mut self, main: &str, legacy: bool, model: usize) {
        let kind = if self.rng.range(0, 2) == 0 {
            "general"
        } else {
            "explore"
        };
        let child = self.session_row(Some(main.to_string()), legacy);
        self.user(&child, kind);
        let label = Label {
            category: Category::Subagent,
            subagent_type: Some(kind.to_string()),
            session: main.to_string(),
        };
        for _ in 0..self.rng.range(1, 4) {
            self.call(&child, kind, model, &label);
        }
    }
}
