//! The main agent's session: user turns with tool-use continuations, and around them the
//! background work a real coding agent does (title and topic utility calls, memory extraction
//! after every turn, sub-agents, compaction, one dream, one away summary). Everything is
//! deterministic from the seed, and every call re-sends the growing transcript.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::{AgentError, Answer, ApiClient, CallSpec};
use super::conversation::{Conversation, text_block, tool_result_block, tool_use_block};
use super::memory::Ballast;
use super::prompts;
use super::tools::{SUBAGENT_TOOL, main_tools};
use super::turn::{self, MainLoop, ToolStep};
use super::{Log, SyntheticAgentArgs, subagent};
use crate::demo::det::Rng;
use crate::observation::Category;

/// Transcript size (JSON bytes) above which the next turn starts with a compaction. With 2–3
/// tool results of 6–10 KB per turn this is crossed within 6 turns for any seed.
const COMPACT_AT_BYTES: usize = 60_000;
const SUBAGENT_TURNS: [u32; 2] = [2, 5];
const TOPIC_CHECK_TURN: u32 = 4;
const DREAM_AFTER_TURN: u32 = 3;
const AWAY_AFTER_TURN: u32 = 4;
/// The away pause is this many think pauses long.
const AWAY_PAUSE_FACTOR: u32 = 3;
const MAIN_MAX_TOKENS: u64 = 32_000;

pub(crate) struct Session<'a> {
    args: &'a SyntheticAgentArgs,
    client: ApiClient,
    session_id: String,
    log: Log,
    system: Vec<Value>,
    tools: Vec<Value>,
    convo: Conversation,
    ballast: Ballast,
    rng: Rng,
    /// What memory extraction returned: kept, like the memory files the real agent writes.
    memories: Vec<String>,
}

/// Assistant blocks: the text (when the model said anything) then `extra`.
pub(crate) fn assistant_blocks(text: &str, extra: Option<Value>) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    if !text.is_empty() {
        blocks.push(text_block(text));
    }
    blocks.extend(extra);
    if blocks.is_empty() {
        blocks.push(text_block("(no content)"));
    }
    blocks
}

/// Deterministic `toolu_` id.
pub(crate) fn tool_id(rng: &mut Rng) -> String {
    tool_id_of(rng.next_u64())
}

fn tool_id_of(bits: u64) -> String {
    format!("toolu_synth_{bits:016x}")
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        args: &'a SyntheticAgentArgs,
        client: ApiClient,
        session_id: String,
        log: Log,
    ) -> Self {
        Session {
            args,
            client,
            session_id,
            log,
            system: prompts::main_system(),
            tools: main_tools(),
            convo: Conversation::new(),
            ballast: Ballast::idle_growth(
                usize::try_from(args.idle_leak_mib_per_min << 20).unwrap_or(usize::MAX) / 60,
            ),
            rng: Rng::new(args.seed),
            memories: Vec::new(),
        }
    }

    pub(crate) async fn run(mut self) -> Result<(), AgentError> {
        let think = Duration::from_millis(self.args.think_ms);
        for turn in 1..=self.args.turns {
            if turn > 1 {
                self.ballast.idle(think).await;
            }
            if self.convo.bytes() > COMPACT_AT_BYTES {
                self.compact().await?;
            }
            self.user_turn(turn).await?;
            if !self.args.no_auto_memory {
                let memory = self
                    .fork(Category::MemoryExtraction, prompts::MEMORY_EXTRACTION)
                    .await?;
                self.memories.push(memory.text);
                if turn == DREAM_AFTER_TURN {
                    self.fork(Category::Dream, prompts::DREAM).await?;
                }
            }
            if turn == AWAY_AFTER_TURN {
                self.ballast.idle(think * AWAY_PAUSE_FACTOR).await;
                self.fork(Category::AwaySummary, prompts::AWAY_SUMMARY)
                    .await?;
            }
            self.log.line(format_args!(
                "turn {turn} done: transcript {} KB, retained {} MiB",
                self.convo.bytes() / 1024,
                self.ballast.held() >> 20
            ));
        }
        self.linger().await
    }

    /// Stays open after the last turn, idle, as an agent left running does — making an away
    /// summary every `--idle-call-every-ms` if asked.
    async fn linger(&mut self) -> Result<(), AgentError> {
        let mut left = Duration::from_millis(self.args.linger_ms);
        let every = match self.args.idle_call_every_ms {
            0 => left,
            ms => Duration::from_millis(ms),
        };
        while !left.is_zero() {
            let pause = every.min(left);
            self.ballast.idle(pause).await;
            left -= pause;
            if self.args.idle_call_every_ms > 0 && !left.is_zero() {
                self.fork(Category::AwaySummary, prompts::AWAY_SUMMARY)
                    .await?;
            }
        }
        Ok(())
    }

    fn grow(&mut self, appended: usize) {
        self.ballast.grow_for_transcript(appended);
    }

    async fn call(
        &mut self,
        category: Category,
        extra: Option<&str>,
    ) -> Result<Answer, AgentError> {
        let spec = CallSpec {
            category,
            model: &self.args.model,
            system: self.system.clone(),
            tools: &self.tools,
            messages: self.convo.for_request(extra),
            max_tokens: MAIN_MAX_TOKENS,
            stream: true,
        };
        let answer = self.client.call(spec).await?;
        self.log.call(category, &answer.usage);
        Ok(answer)
    }

    /// A background call that re-sends the main prefix with one extra instruction.
    async fn fork(&mut self, category: Category, instruction: &str) -> Result<Answer, AgentError> {
        self.call(category, Some(instruction)).await
    }

    /// A small-model call with no tools and a single message (session title, topic check).
    async fn utility(
        &mut self,
        instruction: &str,
        text: &str,
        max_tokens: u64,
    ) -> Result<(), AgentError> {
        let spec = CallSpec {
            category: Category::Utility,
            model: &self.args.small_model,
            system: prompts::utility_system(instruction),
            tools: &[],
            messages: vec![json!({"role": "user", "content": [text_block(text)]})],
            max_tokens,
            stream: false,
        };
        let answer = self.client.call(spec).await?;
        self.log.call(Category::Utility, &answer.usage);
        Ok(())
    }

    async fn compact(&mut self) -> Result<(), AgentError> {
        let summary = self.fork(Category::Compaction, prompts::COMPACTION).await?;
        let before = self.convo.bytes();
        self.convo
            .replace_with(&format!("{}{}", prompts::CONTINUATION, summary.text));
        let after = self.convo.bytes();
        self.grow(after);
        self.log.line(format_args!(
            "compacted {} KB -> {} KB",
            before / 1024,
            after / 1024
        ));
        Ok(())
    }

    async fn user_turn(&mut self, turn: u32) -> Result<(), AgentError> {
        let prompt = turn::pick_prompt(&mut self.rng);
        let mut blocks = Vec::new();
        if turn == 1 {
            blocks.push(text_block(prompts::FIRST_TURN_REMINDER));
        }
        blocks.push(text_block(prompt));
        let n = self.convo.push_user(blocks);
        self.grow(n);
        if turn == 1 {
            self.utility(prompts::TITLE_INSTRUCTION, prompt, 128)
                .await?;
        }
        if turn == TOPIC_CHECK_TURN {
            self.utility(prompts::TOPIC_INSTRUCTION, prompt, 64).await?;
        }
        let mut answer = self.call(Category::UserTurn, None).await?;
        if SUBAGENT_TURNS.contains(&turn) {
            answer = self.delegate(turn, &answer.text).await?;
        }
        turn::work_through_tools(self, answer).await?;
        Ok(())
    }

    /// Runs a sub-agent process for this turn and continues the main loop with its report.
    async fn delegate(&mut self, turn: u32, text: &str) -> Result<Answer, AgentError> {
        // Indexed by turn so that two sub-agents of one session get different tasks.
        let tasks = &prompts::SUBAGENT_TASKS;
        let index = (self.args.seed as usize).wrapping_add(turn as usize) % tasks.len();
        let task = tasks[index];
        let id = tool_id(&mut self.rng);
        let input = json!({"description": "Investigate the codebase", "prompt": task, "subagent_type": "general-purpose"});
        let n = self.convo.push_assistant(assistant_blocks(
            text,
            Some(tool_use_block(&id, SUBAGENT_TOOL, input)),
        ));
        self.grow(n);
        let seed = self
            .args
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(u64::from(turn));
        let report = subagent::spawn(self.args, &self.session_id, task, seed, &self.log).await?;
        let n = self.convo.push_user(vec![tool_result_block(&id, &report)]);
        self.grow(n);
        self.call(Category::UserTurn, None).await
    }
}

impl MainLoop for Session<'_> {
    fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn push_tool_step(&mut self, said: &str, step: ToolStep) -> usize {
        let id = tool_id_of(step.id_bits);
        let n = self.convo.push_assistant(assistant_blocks(
            said,
            Some(tool_use_block(&id, &step.name, step.input)),
        ));
        n + self
            .convo
            .push_user(vec![tool_result_block(&id, &step.output)])
    }

    fn push_answer(&mut self, said: &str) -> usize {
        self.convo.push_assistant(assistant_blocks(said, None))
    }

    fn grew(&mut self, bytes: usize) {
        self.grow(bytes);
    }

    async fn main_call(&mut self) -> Result<Answer, AgentError> {
        self.call(Category::UserTurn, None).await
    }
}
