//! Writing sessions: turns of prompts, main-loop calls, tool results, sub-agents, background
//! calls and damage, with every billed call recorded in the ground truth.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::CorpusOptions;
use super::ids;
use super::lines::{self, Block, Envelope, Style, UserContent};
use super::text::Pool;
use super::truth::GroundTruth;
use crate::demo::det::Rng;
use crate::observation::{Category, Usage};

/// Versions and how they write; `true`: before 2.1.97 (input under-stated).
pub(super) const VERSIONS: [(&str, Style, bool, u64); 5] = [
    ("1.0.98", Style::V1, true, 1),
    ("2.0.76", Style::V2, true, 2),
    ("2.1.90", Style::V2, true, 2),
    ("2.1.197", Style::V2Meta, false, 3),
    ("2.1.328", Style::V2Api, false, 4),
];

/// Sub-agent types: built in, and one custom (named `agent:custom:<name>`).
pub(super) const AGENT_TYPES: [(&str, bool); 4] = [
    ("general-purpose", true),
    ("Explore", true),
    ("Plan", true),
    ("code-reviewer", false),
];

/// Background calls of the newest version: querySource and its category.
pub(super) const BACKGROUND: [(&str, Category); 5] = [
    ("compact", Category::Compaction),
    ("away_summary", Category::AwaySummary),
    ("prompt_suggestion", Category::Utility),
    ("auto_dream", Category::Dream),
    ("hook_agent", Category::Unknown),
];

const PROMPTS: [&str; 4] = [
    "Fix the failing test in the parser module",
    "Delegate this to a sub-agent: where is the configuration defined?",
    "Refactor the config loader and update the docs",
    "Why is the build slow? Look at the CI logs",
];

/// A session's fixed facts.
pub(super) struct SessionInfo<'a> {
    pub(super) id: String,
    pub(super) cwd: &'a str,
    pub(super) version: &'static str,
    pub(super) style: Style,
    pub(super) old: bool,
    pub(super) dir: std::path::PathBuf,
    /// The project the import names: the directory Claude Code was started in (its `cwd`),
    /// which its `projects/` directory's name encodes.
    pub(super) project: String,
}

/// A main-loop message a sub-agent file may replay.
#[derive(Clone)]
pub(super) struct Sent {
    pub(super) message_id: String,
    pub(super) usage: Usage,
    pub(super) model: &'static str,
    pub(super) ms: i64,
    pub(super) blocks: usize,
}

/// Who a call is for.
pub(super) struct CallSpec<'a> {
    pub(super) category: Category,
    pub(super) source: &'a str,
    pub(super) subagent_type: Option<&'a str>,
    pub(super) model: &'static str,
    pub(super) blocks: Vec<Block<'a>>,
    pub(super) stop: &'a str,
}

pub struct Generator {
    pub(super) rng: Rng,
    pub(super) pool: Pool,
    pub truth: GroundTruth,
    pub written: u64,
    pub(super) buf: Vec<u8>,
    pub(super) replays: bool,
    pub(super) multi_mb_every: u64,
    pub(super) next_multi_mb: u64,
    /// Multi-megabyte lines so far: even ones are a response's tool input, odd ones a tool
    /// result.
    pub(super) multi_mb: u64,
    pub(super) agents: u64,
    /// The last main-loop messages of each project's latest session of the newest version:
    /// what a fork replays. (An older version's messages have no api-request record to date
    /// them before their replay: the import could keep the replay, under the fork's session
    /// and version, instead of the original.)
    pub(super) last_sent: std::collections::HashMap<std::path::PathBuf, Vec<Sent>>,
    pub(super) sessions: u64,
}

/// The first sessions are fixed so that even a small history holds every shape: the newest
/// version with every trap (session 0), a fork of it (1), then each older version once.
const FIRST_SESSIONS: [usize; 6] = [4, 4, 3, 2, 1, 0];

impl Generator {
    pub fn new(options: &CorpusOptions) -> Generator {
        let mut rng = Rng::new(options.seed);
        let pool = Pool::new(&mut rng, 1 << 20);
        // A multi-megabyte line every sixth of the history (at least 4 MB apart), the first
        // after 1 MB: small test histories get one of each kind.
        let every = (options.size_bytes / 6).max(4 << 20);
        Generator {
            rng,
            pool,
            truth: GroundTruth::new(options.seed),
            written: 0,
            buf: Vec::with_capacity(1 << 16),
            replays: options.replays,
            multi_mb_every: every,
            next_multi_mb: 1 << 20,
            multi_mb: 0,
            agents: 0,
            last_sent: std::collections::HashMap::new(),
            sessions: 0,
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    pub fn finish(mut self) -> GroundTruth {
        self.truth.bytes = self.written;
        self.truth
    }

    pub(super) fn emit(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    pub(super) fn create(&mut self, path: &Path) -> std::io::Result<BufWriter<File>> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        self.truth.files += 1;
        Ok(BufWriter::with_capacity(1 << 16, File::create(path)?))
    }

    /// Writes one session starting at `start` (ms); returns when it ended.
    pub fn session(&mut self, project: &Path, cwd: &str, start: i64) -> std::io::Result<i64> {
        let index = self.sessions;
        self.sessions += 1;
        let weights: u64 = VERSIONS.iter().map(|v| v.3).sum();
        let mut pick = self.rng.range(1, weights);
        let (version, style, old, _) = match FIRST_SESSIONS.get(index as usize) {
            Some(&forced) => VERSIONS[forced],
            None => *VERSIONS
                .iter()
                .find(|v| {
                    let hit = pick <= v.3;
                    pick = pick.saturating_sub(v.3);
                    hit
                })
                .unwrap_or(&VERSIONS[4]),
        };
        let showcase = index == 0;
        let id = ids::uuid(&mut self.rng);
        let info = SessionInfo {
            dir: project.join(&id),
            project: cwd.to_string(),
            id,
            cwd,
            version,
            style,
            old,
        };
        let mut out = self.create(&project.join(format!("{}.jsonl", info.id)))?;
        let env = envelope(&info, None);
        let mut t = start;
        let mut sent: Vec<Sent> = Vec::new();
        let parent = self.last_sent.get(project).cloned().unwrap_or_default();
        let fork = index == 1 || self.rng.range(0, 3) == 0;
        if info.style == Style::V2Api && self.replays && !parent.is_empty() && fork {
            // A forked session starts with its parent's messages, under new request ids.
            for original in &parent {
                self.replay(&mut out, &env, original)?;
                self.truth.cross_session_replays.add(&original.usage);
            }
        }
        let turns = if showcase { 6 } else { self.rng.range(2, 12) };
        for k in 0..turns {
            let showcase_turn = showcase.then_some(k);
            t = self.turn(&mut out, &info, &env, t, &mut sent, showcase_turn)?;
            t += self.rng.range(5_000, 600_000) as i64;
        }
        lines::bookkeeping(
            &mut self.buf,
            "last-prompt",
            &info.id,
            40,
            &ids::timestamp(t),
            (&self.pool, &mut self.rng),
        );
        self.emit(&mut out)?;
        if showcase || self.rng.range(0, 19) == 0 {
            self.torn_line(&mut out, &env, t, false)?;
        }
        out.flush()?;
        if info.style == Style::V2Api {
            let keep = sent.len().saturating_sub(3);
            self.last_sent
                .insert(project.to_path_buf(), sent.split_off(keep));
        }
        Ok(t)
    }

    fn turn(
        &mut self,
        out: &mut impl Write,
        info: &SessionInfo<'_>,
        env: &Envelope<'_>,
        mut t: i64,
        sent: &mut Vec<Sent>,
        showcase: Option<u64>,
    ) -> std::io::Result<i64> {
        let ts = ids::timestamp(t);
        if info.style != Style::V1 {
            lines::bookkeeping(
                &mut self.buf,
                "queue-operation",
                &info.id,
                60,
                &ts,
                (&self.pool, &mut self.rng),
            );
        }
        let prompt = *self.rng.pick(&PROMPTS).unwrap_or(&PROMPTS[0]);
        let prompt_id = ids::uuid(&mut self.rng);
        let uuid = ids::uuid(&mut self.rng);
        lines::user(
            &mut self.buf,
            env,
            UserContent::Prompt(prompt),
            &prompt_id,
            None,
            &uuid,
            &ts,
            (&self.pool, &mut self.rng),
        );
        self.truth.tally.turns += 1;
        for _ in 0..self.rng.range(0, 2) {
            let len = self.rng.range(300, 12_000) as usize;
            let uuid = ids::uuid(&mut self.rng);
            lines::attachment(
                &mut self.buf,
                env,
                len,
                &uuid,
                &ts,
                (&self.pool, &mut self.rng),
            );
        }
        if info.style == Style::V2Api && sent.is_empty() {
            let len = self.rng.range(8_000, 30_000) as usize;
            lines::bookkeeping(
                &mut self.buf,
                "api-request-shape",
                &info.id,
                len,
                &ts,
                (&self.pool, &mut self.rng),
            );
        }
        self.emit(out)?;
        let calls = self.rng.range(1, 7);
        for k in 0..calls {
            t += self.rng.range(200, 3_000) as i64;
            let last = k + 1 == calls;
            let tool_id = ids::base62(&mut self.rng, "toolu_01", 22);
            let agent = !last && self.rng.range(0, 9) == 0;
            let agent_type = *self.rng.pick(&AGENT_TYPES).unwrap_or(&AGENT_TYPES[0]);
            let mut blocks = Vec::new();
            if self.rng.range(0, 2) == 0 {
                blocks.push(Block::Thinking(self.rng.range(100, 2_000) as usize));
            }
            if last || self.rng.range(0, 1) == 0 {
                blocks.push(Block::Text(self.rng.range(50, 1_500) as usize));
            }
            if agent {
                blocks.push(Block::Agent {
                    id: &tool_id,
                    agent_type: agent_type.0,
                });
            } else if !last {
                let input_len = if self.multi_mb_due(false) {
                    self.rng.range(1_100_000, 1_600_000) as usize
                } else {
                    self.rng.range(60, 4_000) as usize
                };
                blocks.push(Block::Tool {
                    id: &tool_id,
                    name: "Edit",
                    input_len,
                });
            }
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
                blocks,
                stop: if last { "end_turn" } else { "tool_use" },
            };
            let (message, end) = self.call(out, info, env, &spec, t)?;
            sent.push(message);
            t = end;
            if last {
                break;
            }
            let (len, agent_result) = if agent {
                let (usage, end, agent_id) = self.subagent(out, info, agent_type, t, sent, 0)?;
                t = end;
                (self.rng.range(100, 2_000) as usize, Some((agent_id, usage)))
            } else if self.multi_mb_due(true) {
                (self.rng.range(1_200_000, 2_500_000) as usize, None)
            } else if self.rng.range(0, 4) == 0 {
                // Mostly short output, now and then a whole file.
                (self.rng.range(4_000, 40_000) as usize, None)
            } else {
                (self.rng.range(150, 4_000) as usize, None)
            };
            t += self.rng.range(50, 20_000) as i64;
            let uuid = ids::uuid(&mut self.rng);
            let content = UserContent::ToolResult {
                tool_id: &tool_id,
                len,
                agent: agent_result
                    .as_ref()
                    .map(|(id, usage)| (id.as_str(), *usage)),
            };
            lines::user(
                &mut self.buf,
                env,
                content,
                &prompt_id,
                None,
                &uuid,
                &ids::timestamp(t),
                (&self.pool, &mut self.rng),
            );
            self.emit(out)?;
        }
        self.extras(out, info, env, &mut t, showcase)?;
        Ok(t)
    }
}

pub(super) fn envelope<'a>(info: &'a SessionInfo<'a>, agent: Option<&'a str>) -> Envelope<'a> {
    Envelope {
        style: info.style,
        session: &info.id,
        cwd: info.cwd,
        version: info.version,
        agent,
    }
}
