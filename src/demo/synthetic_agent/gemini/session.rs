//! The Gemini CLI shape's session, as interactive Gemini CLI with model `auto` spends it: a
//! session summary at startup, then per prompt chat compression when the history has grown
//! (a compression call and its verify call), the router's complexity call, and the main loop's
//! streamed calls with the shared tool loop — on one turn after starting the codebase
//! investigator. Gemini CLI has no memory extraction, dream or away summary by default, so this
//! shape exercises four categories: user turn, utility, compaction and sub-agent.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::client::Answer;
use super::super::error::AgentError;
use super::super::memory::Ballast;
use super::super::turn::{self, MainLoop, ToolStep};
use super::super::{Log, SyntheticAgentArgs};
use super::history::{History, function_response, model_call, model_text, tool_step, user_text};
use super::investigator;
use super::prompts;
use super::tools::{INVOKE_AGENT, main_tools};
use super::wire::{GeminiCall, GeminiClient};
use crate::demo::det::Rng;
use crate::observation::Category;

/// The main loop's model (what `auto` routes to here) and the small model of the router and
/// the session summary.
const MODEL: &str = "gemini-3.8-flash";
const LITE_MODEL: &str = "gemini-3.5-flash-lite";
/// Chat compression's model.
const COMPRESSION_MODEL: &str = "gemini-3-flash-preview";
/// History size (JSON bytes) above which the next prompt starts with a compression; crossed
/// within six turns for any seed.
const COMPRESS_AT_BYTES: usize = 64_000;
/// The share of the history compression keeps (Gemini CLI's `COMPRESSION_PRESERVE_THRESHOLD`).
const COMPRESSION_KEEPS: f64 = 0.3;
const INVESTIGATOR_TURN: u32 = 2;
/// Contents (text only) of the history the router sees besides the prompt.
const ROUTER_HISTORY: usize = 4;

pub(crate) struct GeminiSession<'a> {
    args: &'a SyntheticAgentArgs,
    client: GeminiClient,
    log: Log,
    tools: Vec<Value>,
    history: History,
    ballast: Ballast,
    rng: Rng,
}

impl<'a> GeminiSession<'a> {
    pub(crate) fn new(args: &'a SyntheticAgentArgs, client: GeminiClient, log: Log) -> Self {
        GeminiSession {
            args,
            client,
            log,
            tools: main_tools(),
            history: History::default(),
            ballast: Ballast::new(),
            rng: Rng::new(args.seed),
        }
    }

    pub(crate) async fn run(mut self) -> Result<(), AgentError> {
        self.session_summary().await?;
        let think = Duration::from_millis(self.args.think_ms);
        for turn in 1..=self.args.turns {
            if turn > 1 {
                self.ballast.idle(think).await;
            }
            let prompt = turn::pick_prompt(&mut self.rng);
            if self.history.bytes() > COMPRESS_AT_BYTES {
                self.compress().await?;
            }
            self.route(prompt).await?;
            self.user_turn(turn, prompt).await?;
            self.log.line(format_args!(
                "turn {turn} done: history {} KB, retained {} MiB",
                self.history.bytes() / 1024,
                self.ballast.held() >> 20
            ));
        }
        Ok(())
    }

    /// A background call: not streamed, no tools.
    async fn background(
        &self,
        category: Category,
        model: &str,
        system: &str,
        contents: Vec<Value>,
        generation_config: Value,
    ) -> Result<Answer, AgentError> {
        let call = GeminiCall {
            category,
            model,
            stream: false,
            system,
            tools: &[],
            contents,
            generation_config,
        };
        let answer = self.client.call(call).await?;
        self.log.call(category, &answer.usage);
        Ok(answer)
    }

    /// At startup, Gemini CLI sums up the previous session's intent in one line.
    async fn session_summary(&mut self) -> Result<(), AgentError> {
        let mut text = prompts::SESSION_SUMMARY.to_string();
        for _ in 0..3 {
            let asked = turn::pick_prompt(&mut self.rng);
            text.push_str(&format!(
                "User: {asked}\n\nAssistant: Done; see the diff.\n\n"
            ));
        }
        text.push_str("Summary (max 80 chars):");
        let config = json!({"maxOutputTokens": 50, "thinkingConfig": {"thinkingBudget": 0}});
        self.background(
            Category::Utility,
            LITE_MODEL,
            "",
            vec![user_text(&text)],
            config,
        )
        .await?;
        Ok(())
    }

    /// The router (model `auto`): the prompt's complexity, as JSON from a schema.
    async fn route(&mut self, prompt: &str) -> Result<(), AgentError> {
        let mut contents = self.history.recent_text(ROUTER_HISTORY);
        contents.push(user_text(prompt));
        let config = json!({
            "temperature": 0, "maxOutputTokens": 1024, "thinkingConfig": {"thinkingBudget": 512},
            "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object", "properties": {
                "complexity_reasoning": {"type": "string", "description": "A brief explanation for the score."},
                "complexity_score": {"type": "integer", "minimum": 1, "maximum": 100}},
                "required": ["complexity_reasoning", "complexity_score"]},
        });
        self.background(
            Category::Utility,
            LITE_MODEL,
            prompts::ROUTER_SYSTEM,
            contents,
            config,
        )
        .await?;
        Ok(())
    }

    /// Chat compression: the older history distilled into a `<state_snapshot>`, a verify call
    /// on it, then the history replaced by the snapshot and the recent part it kept.
    async fn compress(&mut self) -> Result<(), AgentError> {
        let Some(at) = self.history.split_point(1.0 - COMPRESSION_KEEPS) else {
            return Ok(());
        };
        let before = self.history.bytes();
        let config = json!({"thinkingConfig": {"thinkingLevel": "HIGH"}});
        let mut contents = self.history.older(at);
        contents.push(user_text(prompts::COMPRESSION_REQUEST));
        let first = self
            .background(
                Category::Compaction,
                COMPRESSION_MODEL,
                prompts::COMPRESSION_SYSTEM,
                contents.clone(),
                config.clone(),
            )
            .await?;
        contents.push(model_text(&first.text));
        contents.push(user_text(prompts::COMPRESSION_VERIFY));
        let verified = self
            .background(
                Category::Compaction,
                COMPRESSION_MODEL,
                prompts::COMPRESSION_SYSTEM,
                contents,
                config,
            )
            .await?;
        let n = self.history.compress(at, &verified.text);
        self.grew(n);
        self.log.line(format_args!(
            "compressed {} KB -> {} KB",
            before / 1024,
            self.history.bytes() / 1024
        ));
        Ok(())
    }

    async fn user_turn(&mut self, turn: u32, prompt: &str) -> Result<(), AgentError> {
        // The chat's first message opens with the session context.
        let message = if turn == 1 {
            json!({"parts": [{"text": prompts::SESSION_CONTEXT}, {"text": prompt}], "role": "user"})
        } else {
            user_text(prompt)
        };
        let n = self.history.push([message]);
        self.grew(n);
        let mut answer = self.main_call().await?;
        if turn == INVESTIGATOR_TURN {
            answer = self.investigate(turn, &answer.text).await?;
        }
        turn::work_through_tools(self, answer).await?;
        Ok(())
    }

    /// The main model calls `invoke_agent`; the codebase investigator runs and its report goes
    /// back as the function's response.
    async fn investigate(&mut self, turn: u32, said: &str) -> Result<Answer, AgentError> {
        let tasks = &super::super::prompts::SUBAGENT_TASKS;
        let task = tasks[(self.args.seed as usize).wrapping_add(turn as usize) % tasks.len()];
        let seed = self
            .args
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(u64::from(turn));
        let report = investigator::run(&self.client, task, seed, &self.log).await?;
        let args = json!({"agent_name": "codebase_investigator", "prompt": task});
        let n = self.history.push([
            model_call(said, INVOKE_AGENT, args),
            function_response(INVOKE_AGENT, json!({"output": report.to_string()})),
        ]);
        self.grew(n);
        self.main_call().await
    }
}

impl MainLoop for GeminiSession<'_> {
    fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn push_tool_step(&mut self, said: &str, step: ToolStep) -> usize {
        self.history.push(tool_step(said, &step, false))
    }

    fn push_answer(&mut self, said: &str) -> usize {
        self.history.push([model_text(said)])
    }

    fn grew(&mut self, bytes: usize) {
        self.ballast.grow_for_transcript(bytes);
    }

    async fn main_call(&mut self) -> Result<Answer, AgentError> {
        let call = GeminiCall {
            category: Category::UserTurn,
            model: MODEL,
            stream: true,
            system: prompts::MAIN_SYSTEM,
            tools: &self.tools,
            contents: self.history.for_request(&[]),
            generation_config: json!({"temperature": 1, "topP": 0.95, "topK": 64,
                "thinkingConfig": {"includeThoughts": true, "thinkingLevel": "HIGH"}}),
        };
        let answer = self.client.call(call).await?;
        self.log.call(Category::UserTurn, &answer.usage);
        Ok(answer)
    }
}
