//! The Codex shape's session, as `codex exec` with memories on spends it: at startup the
//! memories pipeline (phase 1 over two earlier rollouts, then a phase 2 consolidation agent of
//! two calls), then the user's turns with their tool loops (shared with the other shape), a
//! spawned agent on one turn, and remote compaction (a `compaction_trigger` item) before a turn
//! once the history passes a threshold. Codex has no title or away-summary calls, so this shape
//! exercises five of the seven categories.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::client::Answer;
use super::super::error::AgentError;
use super::super::memory::Ballast;
use super::super::turn::{self, MainLoop, ToolStep};
use super::super::{Log, SyntheticAgentArgs};
use super::history::{History, user_message};
use super::prompts;
use super::spawned;
use super::tools::{SPAWN_TOOL, agent_tools, main_tools};
use super::wire::{CodexCall, CodexClient, RequestKind, Thread};
use crate::demo::det::Rng;
use crate::observation::Category;

/// History size (JSON bytes) above which the next turn starts with a compaction; like the
/// other shape's, crossed within six turns for any seed.
const COMPACT_AT_BYTES: usize = 60_000;
const SPAWN_TURN: u32 = 2;
/// Earlier rollouts memories phase 1 extracts from at startup.
const OLD_ROLLOUTS: u32 = 2;
const CONSOLIDATION_CALLS: u32 = 2;

/// Models: Codex's default, and the smaller one phase 1 prefers.
pub(crate) const MODEL: &str = "gpt-5.4";
pub(crate) const MEMORY_MODEL: &str = "gpt-5.4-mini";

/// A new Codex-style id (Codex uses UUIDs; random, so ids never enter the prompt's size).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What a request asks of which model: the model, its instructions and the tools offered.
pub(crate) struct Prompt<'p> {
    model: &'p str,
    instructions: &'p str,
    tools: &'p [Value],
}

impl<'p> Prompt<'p> {
    pub(crate) fn new(model: &'p str, instructions: &'p str, tools: &'p [Value]) -> Self {
        Prompt {
            model,
            instructions,
            tools,
        }
    }
}

pub(crate) struct CodexSession<'a> {
    args: &'a SyntheticAgentArgs,
    client: CodexClient,
    log: Log,
    main: Thread,
    tools: Vec<Value>,
    history: History,
    ballast: Ballast,
    rng: Rng,
    /// The turn the main loop's calls belong to.
    turn_id: String,
}

impl<'a> CodexSession<'a> {
    pub(crate) fn new(args: &'a SyntheticAgentArgs, client: CodexClient, log: Log) -> Self {
        let main = Thread {
            id: client.session_id().to_string(),
            source: "user",
            subagent: None,
            parent: None,
        };
        CodexSession {
            args,
            client,
            log,
            main,
            tools: main_tools(),
            history: History::default(),
            ballast: Ballast::new(),
            rng: Rng::new(args.seed),
            turn_id: String::new(),
        }
    }

    pub(crate) async fn run(mut self) -> Result<(), AgentError> {
        self.memories().await?;
        let think = Duration::from_millis(self.args.think_ms);
        let n = self.history.push(vec![prompts::environment_context()]);
        self.grew(n);
        for turn in 1..=self.args.turns {
            if turn > 1 {
                self.ballast.idle(think).await;
            }
            self.turn_id = new_id();
            if self.history.bytes() > COMPACT_AT_BYTES {
                self.compact().await?;
            }
            self.user_turn(turn).await?;
            self.log.line(format_args!(
                "turn {turn} done: history {} KB, retained {} MiB",
                self.history.bytes() / 1024,
                self.ballast.held() >> 20
            ));
        }
        Ok(())
    }

    async fn call(
        &self,
        category: Category,
        thread: &Thread,
        kind: RequestKind,
        prompt: Prompt<'_>,
        input: Vec<Value>,
    ) -> Result<Answer, AgentError> {
        let Prompt {
            model,
            instructions,
            tools,
        } = prompt;
        let turn_id = (kind != RequestKind::Memory).then_some(self.turn_id.as_str());
        let call = CodexCall {
            category,
            thread,
            kind,
            turn_id,
            model,
            instructions,
            tools,
            input,
        };
        let answer = self.client.call(call).await?;
        self.log.call(category, &answer.usage);
        Ok(answer)
    }

    /// Memories at startup: phase 1 reads each earlier rollout once (no tools, `request_kind`
    /// memory), then phase 2's consolidation agent works in a thread of its own.
    async fn memories(&mut self) -> Result<(), AgentError> {
        let mut raw = Vec::new();
        for index in 1..=OLD_ROLLOUTS {
            let rollout = prompts::old_rollout(&mut self.rng, index);
            let memory_thread = Thread {
                id: new_id(),
                ..self.main.clone()
            };
            let input = vec![user_message(&rollout)];
            let answer = self
                .call(
                    Category::MemoryExtraction,
                    &memory_thread,
                    RequestKind::Memory,
                    Prompt::new(MEMORY_MODEL, prompts::PHASE_ONE, &[]),
                    input,
                )
                .await?;
            raw.push(answer.text);
        }
        let thread = Thread {
            id: new_id(),
            source: "memory_consolidation",
            subagent: Some("memory_consolidation"),
            parent: None,
        };
        let tools = agent_tools();
        let mut history = History::default();
        history.push(vec![user_message(&format!(
            "{}\n\n{}",
            prompts::PHASE_TWO_INPUT,
            raw.join("\n\n")
        ))]);
        for call in 1..=CONSOLIDATION_CALLS {
            let input = history.for_request(&[]);
            let answer = self
                .call(
                    Category::Dream,
                    &thread,
                    RequestKind::Turn,
                    Prompt::new(MODEL, prompts::PHASE_TWO, &tools),
                    input,
                )
                .await?;
            if call < CONSOLIDATION_CALLS {
                let step = ToolStep {
                    id_bits: self.rng.next_u64(),
                    name: "Bash".into(),
                    input: json!({"command": "ls ~/.codex/memories && cat ~/.codex/memories/*.md"}),
                    output: raw.join("\n"),
                };
                history.push_tool_step(&answer.text, &step);
            }
        }
        Ok(())
    }

    /// Remote compaction (v2): the whole history with a `compaction_trigger` item last; the
    /// answer's opaque compaction item replaces the history.
    async fn compact(&mut self) -> Result<(), AgentError> {
        let before = self.history.bytes();
        let input = self
            .history
            .for_request(&[json!({"type": "compaction_trigger"})]);
        let answer = self
            .call(
                Category::Compaction,
                &self.main,
                RequestKind::Compaction,
                Prompt::new(MODEL, prompts::BASE_INSTRUCTIONS, &self.tools),
                input,
            )
            .await?;
        let n = self
            .history
            .compact(prompts::environment_context(), &answer.text);
        self.grew(n);
        self.log.line(format_args!(
            "compacted {} KB -> {} KB",
            before / 1024,
            self.history.bytes() / 1024
        ));
        Ok(())
    }

    async fn user_turn(&mut self, turn: u32) -> Result<(), AgentError> {
        let prompt = turn::pick_prompt(&mut self.rng);
        let n = self.history.push(vec![user_message(prompt)]);
        self.grew(n);
        let mut answer = self.main_call().await?;
        if turn == SPAWN_TURN {
            answer = self.spawn(turn, &answer.text).await?;
        }
        turn::work_through_tools(self, answer).await?;
        Ok(())
    }

    /// Runs a spawned agent for this turn and continues the main loop with its final message.
    async fn spawn(&mut self, turn: u32, said: &str) -> Result<Answer, AgentError> {
        let tasks = &super::super::prompts::SUBAGENT_TASKS;
        let task = tasks[(self.args.seed as usize).wrapping_add(turn as usize) % tasks.len()];
        let call_id = format!("call_synth_{:016x}", self.rng.next_u64());
        let thread = Thread {
            id: new_id(),
            source: "subagent",
            subagent: Some("collab_spawn"),
            parent: Some(self.main.id.clone()),
        };
        let seed = self
            .args
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(u64::from(turn));
        let report =
            spawned::run(&self.client, &thread, &self.turn_id, task, seed, &self.log).await?;
        // No thread id in the transcript: it is random, and what the agent re-sends must depend
        // on the seed alone, or the mock's answers (and the demo's figures) would change per run.
        let output = json!({"status": "completed", "message": report});
        let n = self.history.push_call(
            said,
            &call_id,
            SPAWN_TOOL,
            json!({"message": task, "agent_type": "explorer"}),
            &output.to_string(),
        );
        self.grew(n);
        self.main_call().await
    }
}

impl MainLoop for CodexSession<'_> {
    fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn push_tool_step(&mut self, said: &str, step: ToolStep) -> usize {
        self.history.push_tool_step(said, &step)
    }

    fn push_answer(&mut self, said: &str) -> usize {
        self.history.push_answer(said)
    }

    fn grew(&mut self, bytes: usize) {
        self.ballast.grow_for_transcript(bytes);
    }

    async fn main_call(&mut self) -> Result<Answer, AgentError> {
        let input = self.history.for_request(&[]);
        self.call(
            Category::UserTurn,
            &self.main,
            RequestKind::Turn,
            Prompt::new(MODEL, prompts::BASE_INSTRUCTIONS, &self.tools),
            input,
        )
        .await
    }
}
