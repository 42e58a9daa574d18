//! A session family: a main thread of prompts, calls and tool rounds, and the threads it
//! starts — spawned agents and a user fork that replay it, review, compaction, memory
//! consolidation and guardian threads — with every trap a Codex importer meets.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::rollout::{CodexUsage, Rollout, timestamp};
use super::truth::CodexTruth;
use crate::demo::det::Rng;
use crate::demo::import_truth::{Label, Placement};
use crate::observation::Category;

/// Codex versions of the history: one that writes per-response records (and compacts
/// remotely) and one from before them.
const VERSION: &str = "0.171.0";
const OLD_VERSION: &str = "0.148.0";
const MAIN_MODELS: [&str; 2] = ["gpt-5.4", "gpt-5.3-codex"];
/// Working directories sessions run in (`session_meta.cwd`): the projects of the history.
const PROJECTS: [&str; 3] = [
    "/home/dev/agentprof",
    "/home/dev/webshop",
    "/home/dev/side project",
];
const FILLER: &str = "src/agents/codex/history/scan.rs:12:    let mut start = 0; // token_count total_token_usage last_token_usage cached_input_tokens \
    warning: unused variable `line` --> src/main.rs:4:9 | 4 | let line = 1; test result: ok. 12 passed; 0 failed; 0 ignored; ";

/// A finished rollout file and where it goes.
pub struct Written {
    pub rollout: Rollout,
    /// Start time: names the file and its day directory.
    pub t: i64,
    pub archived: bool,
}

/// The generator's state across sessions.
pub struct Generator {
    pub rng: Rng,
    pub truth: CodexTruth,
    pub files: Vec<Written>,
    pub written: u64,
    /// How many families so far: the first few carry the one-off traps.
    families: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            truth: CodexTruth::new(seed),
            files: Vec::new(),
            written: 0,
            families: 0,
        }
    }

    pub fn uuid(&mut self) -> String {
        self.rng.uuid()
    }

    fn filler(&mut self, min: u64, max: u64) -> String {
        self.rng.filler(FILLER, min, max)
    }

    fn usage(&mut self, context: &mut u64) -> CodexUsage {
        *context += self.rng.range(500, 6_000);
        let input = *context;
        let cached = input * self.rng.range(0, 95) / 100;
        // Cache writes are rare in rollouts (seen in 0.171.0).
        let cache_write = if self.rng.range(0, 9) == 0 {
            (input - cached) / 3
        } else {
            0
        };
        let output = self.rng.range(20, 3_000);
        let reasoning = output * self.rng.range(0, 80) / 100;
        CodexUsage {
            input,
            cached,
            cache_write,
            output,
            reasoning,
            total: input + output,
        }
    }

    /// One call: its tool rounds, its token count (maybe repeated), and the truth.
    fn call(&mut self, rollout: &mut Rollout, clock: &mut i64, ctx: &mut Context) {
        let rounds = self.rng.range(0, 2);
        for _ in 0..rounds {
            *clock += self.rng.range(200, 20_000) as i64;
            let call_id = format!("call_{}", self.rng.next_u64() % 1_000_000_000);
            let output = self.filler(200, 6_000);
            rollout.tool_round(*clock, &call_id, &output);
        }
        *clock += self.rng.range(800, 40_000) as i64;
        let last = self.usage(&mut ctx.context);
        let response_id = format!("resp_{:016x}", self.rng.next_u64());
        rollout.call(*clock, last, &response_id);
        self.truth.reasoning_tokens += last.reasoning;
        // The import places a call at its record's (or token count's) time.
        self.truth.tally.call(
            &last.usage(),
            &ctx.label,
            &ctx.model,
            &Placement::at(*clock).in_project(&ctx.cwd),
        );
        // Rate-limit snapshots repeat the info, often more than once.
        for _ in 0..self.rng.range(0, 2) {
            *clock += self.rng.range(1, 50) as i64;
            rollout.repeat(*clock);
            self.truth.repeats += 1;
        }
    }

    /// A turn: a prompt and 1–4 calls; on a main thread it is a turn of the report.
    fn turn(&mut self, rollout: &mut Rollout, clock: &mut i64, ctx: &mut Context) {
        *clock += self.rng.range(2_000, 300_000) as i64;
        rollout.turn_context(*clock, &ctx.model, &ctx.cwd);
        let prompt = self.filler(20, 400);
        rollout.user_message(*clock, &prompt);
        if ctx.label.category == Category::UserTurn {
            self.truth.tally.turns += 1;
        }
        for _ in 0..self.rng.range(1, 4) {
            self.call(rollout, clock, ctx);
        }
        let answer = self.filler(50, 800);
        rollout.agent_message(*clock, &answer);
    }

    fn meta(
        &self,
        id: &str,
        t: i64,
        source: Value,
        forked_from: Option<&str>,
        records: bool,
        cwd: &str,
    ) -> Value {
        let version = if records { VERSION } else { OLD_VERSION };
        let mut meta = json!({"id": id, "timestamp": timestamp(t), "cwd": cwd,
            "originator": "codex_cli_rs", "cli_version": version, "source": source,
            "model_provider": "openai",
            "base_instructions": {"text": "You are Codex, a coding agent. Keep going until the task is done."}});
        if let Some(parent) = forked_from {
            meta["forked_from_id"] = json!(parent);
        }
        meta
    }

    /// Writes a whole family starting at `clock`; returns the clock after it.
    pub fn family(&mut self, mut clock: i64) -> i64 {
        let family = self.families;
        self.families += 1;
        let start = clock;
        let id = self.uuid();
        let model = MAIN_MODELS[(self.rng.range(0, 1)) as usize].to_string();
        // Older sessions were written by a Codex without per-response records.
        let records = family.is_multiple_of(2);
        let cwd = PROJECTS[(family % PROJECTS.len() as u64) as usize];
        let mut main = Rollout::new(id.clone(), records);
        let meta = self.meta(&id, clock, json!("exec"), None, records, cwd);
        main.session_meta(clock, &meta);
        // A rate-limit snapshot before any usage: info null.
        main.null_info(clock + 5);
        self.truth.null_infos += 1;
        let mut ctx = Context {
            label: Label {
                category: Category::UserTurn,
                subagent_type: None,
                session: id.clone(),
            },
            model,
            context: 8_000,
            cwd: cwd.into(),
        };
        for _ in 0..self.rng.range(1, 3) {
            self.turn(&mut main, &mut clock, &mut ctx);
        }
        if family % 3 == 1 {
            // Context window exceeded: the total is rewritten, no call; re-emitted too.
            clock += 100;
            main.window_rewrite(clock, 272_000);
            self.truth.rewrites += 1;
            main.repeat(clock + 3);
            self.truth.repeats += 1;
            ctx.context = 20_000;
            self.turn(&mut main, &mut clock, &mut ctx);
        }
        if records && family.is_multiple_of(4) {
            // A remote compaction before the next turn: counted only from its record.
            self.remote_compaction(&mut main, &mut clock, &ctx);
            self.truth.repeats += 1;
            ctx.context = 12_000;
            self.turn(&mut main, &mut clock, &mut ctx);
        }
        if family == 0 {
            // A crash mid-line, then the session went on (resumed): a damaged middle line.
            main.damage(br#"{"timestamp":"2026-09-01T00:00:00.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"call_1","output":"cut"#, true);
            self.truth.damage("not_json");
        }
        // Threads the main thread starts, each after its current lines.
        let spawned = self.rng.range(0, 2);
        for k in 0..spawned {
            self.spawn(&main, &mut clock, k % 2 == 0, cwd);
        }
        if family % 4 == 2 {
            self.side_thread(
                &mut clock,
                json!({"subagent": "review"}),
                None,
                "gpt-5.4",
                Label {
                    category: Category::Subagent,
                    subagent_type: Some("review".into()),
                    session: String::new(),
                },
                cwd,
            );
        }
        if family % 5 == 3 {
            self.side_thread(
                &mut clock,
                json!({"subagent": "compact"}),
                None,
                "gpt-5.4-mini",
                Label {
                    category: Category::Compaction,
                    subagent_type: None,
                    session: String::new(),
                },
                cwd,
            );
        }
        if family % 6 == 4 {
            self.side_thread(
                &mut clock,
                json!({"subagent": "memory_consolidation"}),
                None,
                "gpt-5.4",
                Label {
                    category: Category::Dream,
                    subagent_type: None,
                    session: String::new(),
                },
                cwd,
            );
        }
        if family % 7 == 5 {
            self.side_thread(
                &mut clock,
                json!({"subagent": {"other": "guardian"}}),
                Some(&id),
                "gpt-5.4-mini",
                Label {
                    category: Category::Utility,
                    subagent_type: None,
                    session: id.clone(),
                },
                cwd,
            );
        }
        if family % 4 == 3 {
            // The user forks the session: a new main thread replaying this one — every
            // other time from another project's directory, which its own session_meta names
            // (the parent's, copied after it, names the parent's).
            let fork_cwd = if family % 8 == 3 {
                PROJECTS[((family + 1) % PROJECTS.len() as u64) as usize]
            } else {
                cwd
            };
            self.user_fork(&main, &mut clock, fork_cwd);
        }
        // Resumed later: a second session_meta, a rate-limit repeat, more turns.
        if family.is_multiple_of(3) {
            clock += self.rng.range(3_600_000, 20 * 3_600_000) as i64;
            let meta = self.meta(&id, clock, json!("cli"), None, records, cwd);
            main.session_meta(clock, &meta);
            if main.repeat(clock + 10) {
                self.truth.repeats += 1;
            }
            self.turn(&mut main, &mut clock, &mut ctx);
        }
        if family == 1 {
            // Cut off mid-write: a torn last line.
            main.damage(br#"{"timestamp":"2026-09-01T00:00:00.000Z","type":"response_item","payload":{"type":"mess"#, false);
            self.truth.damage("torn_last_line");
        }
        // Old sessions are archived, and compressed by Codex.
        let archived = family % 5 == 4;
        self.files.push(Written {
            rollout: main,
            t: start,
            archived,
        });
        clock
    }

    /// A remote compaction on a thread, as Codex 0.164 and later write it; the truth counts it
    /// as compaction, whatever thread ran it.
    fn remote_compaction(&mut self, rollout: &mut Rollout, clock: &mut i64, ctx: &Context) {
        *clock += self.rng.range(500, 5_000) as i64;
        let mut context = ctx.context;
        let usage = self.usage(&mut context);
        let response_id = format!("resp_{:016x}", self.rng.next_u64());
        rollout.remote_compaction(*clock, usage, &response_id);
        self.truth.reasoning_tokens += usage.reasoning;
        let label = Label {
            category: Category::Compaction,
            subagent_type: None,
            session: ctx.label.session.clone(),
        };
        self.truth.tally.call(
            &usage.usage(),
            &label,
            &ctx.model,
            &Placement::at(*clock).in_project(&ctx.cwd),
        );
        self.truth.remote_compactions += 1;
    }

    /// A spawned agent: forked (replaying the parent) or fresh.
    fn spawn(&mut self, parent: &Rollout, clock: &mut i64, forked: bool, cwd: &str) {
        *clock += 1_000;
        let id = self.uuid();
        let role = if forked { "worker" } else { "explorer" };
        let source = json!({"subagent": {"thread_spawn": {"parent_thread_id": parent.id,
            "depth": 1, "agent_nickname": "Ada", "agent_role": role}}});
        let records = parent.records();
        let meta = self.meta(
            &id,
            *clock,
            source,
            forked.then_some(parent.id.as_str()),
            records,
            cwd,
        );
        let mut child = if forked {
            let (child, copied) = parent.fork(id.clone(), *clock, &meta);
            self.truth.replayed += copied;
            child
        } else {
            let mut child = Rollout::new(id.clone(), records);
            child.session_meta(*clock, &meta);
            child
        };
        let mut ctx = Context {
            label: Label {
                category: Category::Subagent,
                subagent_type: Some(role.into()),
                session: parent.id.clone(),
            },
            model: "gpt-5.4-mini".into(),
            context: 4_000,
            cwd: cwd.into(),
        };
        let start = *clock;
        for _ in 0..self.rng.range(1, 2) {
            self.turn(&mut child, clock, &mut ctx);
        }
        self.files.push(Written {
            rollout: child,
            t: start,
            archived: false,
        });
    }

    /// A review / compaction / consolidation / guardian thread of its own.
    #[allow(clippy::too_many_arguments)]
    fn side_thread(
        &mut self,
        clock: &mut i64,
        source: Value,
        forked_from: Option<&str>,
        model: &str,
        mut label: Label,
        cwd: &str,
    ) {
        *clock += 2_000;
        let id = self.uuid();
        if label.session.is_empty() {
            label.session = id.clone();
        }
        let mut rollout = Rollout::new(id.clone(), true);
        let meta = self.meta(&id, *clock, source, forked_from, true, cwd);
        rollout.session_meta(*clock, &meta);
        let mut ctx = Context {
            label,
            model: model.into(),
            context: 6_000,
            cwd: cwd.into(),
        };
        let start = *clock;
        self.turn(&mut rollout, clock, &mut ctx);
        self.files.push(Written {
            rollout,
            t: start,
            archived: false,
        });
    }

    /// The user forks a session: a main thread of its own that starts with the parent's lines.
    fn user_fork(&mut self, parent: &Rollout, clock: &mut i64, cwd: &str) {
        *clock += 60_000;
        let id = self.uuid();
        let meta = self.meta(
            &id,
            *clock,
            json!("cli"),
            Some(&parent.id),
            parent.records(),
            cwd,
        );
        let (mut child, copied) = parent.fork(id.clone(), *clock, &meta);
        self.truth.replayed += copied;
        let mut ctx = Context {
            label: Label {
                category: Category::UserTurn,
                subagent_type: None,
                session: id,
            },
            model: "gpt-5.4".into(),
            context: 30_000,
            cwd: cwd.into(),
        };
        let start = *clock;
        self.turn(&mut child, clock, &mut ctx);
        self.files.push(Written {
            rollout: child,
            t: start,
            archived: false,
        });
    }
}

/// A thread being written: how its calls are labelled, its model, its growing context, its
/// working directory (the project its calls are reported under).
struct Context {
    label: Label,
    model: String,
    context: u64,
    cwd: String,
}

/// `sessions/YYYY/MM/DD/rollout-YYYY-MM-DDTHH-MM-SS-<id>.jsonl` (or under archived_sessions).
pub fn relative_path(written: &Written) -> PathBuf {
    let stamp = timestamp(written.t);
    let day = stamp.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    let name = format!(
        "rollout-{}-{}.jsonl",
        stamp.get(..19).unwrap_or_default().replace(':', "-"),
        written.rollout.id
    );
    let root = if written.archived {
        "archived_sessions"
    } else {
        "sessions"
    };
    PathBuf::from(root).join(day).join(name)
}
