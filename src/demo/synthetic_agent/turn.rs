//! The turn logic both shapes share: after the model's first answer to a prompt, two or three
//! pretend tool runs (each appended to the transcript with the model's words, then answered by a
//! new main-loop call), and the final answer appended. The random choices happen in the same
//! order for every shape, so one seed gives both agents the same work; only the wire format of
//! the transcript differs (the shape's [`MainLoop`]).

use serde_json::Value;

use super::client::Answer;
use super::error::AgentError;
use super::tools::fake_tool_run;
use crate::demo::det::Rng;

const TOOL_OUTPUT_BYTES: (u64, u64) = (6_000, 10_000);
const TOOL_STEPS: (u64, u64) = (2, 3);

/// One pretend tool run: what the model called and what came back.
pub(crate) struct ToolStep {
    /// Random bits for the call id; each shape spells the id its own way.
    pub(crate) id_bits: u64,
    pub(crate) name: String,
    pub(crate) input: Value,
    pub(crate) output: String,
}

/// A shape's main loop, as the shared turn logic drives it.
pub(crate) trait MainLoop {
    fn rng(&mut self) -> &mut Rng;
    /// Appends the model's words and its tool call, then the tool's output; returns the bytes
    /// the transcript grew by.
    fn push_tool_step(&mut self, said: &str, step: ToolStep) -> usize;
    /// Appends the model's final answer of the turn; returns the bytes the transcript grew by.
    fn push_answer(&mut self, said: &str) -> usize;
    /// The agent keeps memory in proportion to what its transcript grew by.
    fn grew(&mut self, bytes: usize);
    /// The next call of the user's turn, re-sending the whole transcript.
    async fn main_call(&mut self) -> Result<Answer, AgentError>;
}

/// The user's prompt for this turn, drawn from the seed.
pub(crate) fn pick_prompt(rng: &mut Rng) -> &'static str {
    rng.pick(&super::prompts::USER_PROMPTS)
        .copied()
        .unwrap_or_default()
}

/// Works through the turn's tool runs from the model's `answer` and ends the turn.
pub(crate) async fn work_through_tools<M: MainLoop>(
    agent: &mut M,
    mut answer: Answer,
) -> Result<Answer, AgentError> {
    let steps = agent.rng().range(TOOL_STEPS.0, TOOL_STEPS.1);
    for _ in 0..steps {
        let size = agent.rng().range(TOOL_OUTPUT_BYTES.0, TOOL_OUTPUT_BYTES.1);
        let (name, input, output) = fake_tool_run(agent.rng(), usize::try_from(size).unwrap_or(0));
        let id_bits = agent.rng().next_u64();
        let step = ToolStep {
            id_bits,
            name,
            input,
            output,
        };
        let n = agent.push_tool_step(&answer.text, step);
        agent.grew(n);
        answer = agent.main_call().await?;
    }
    let n = agent.push_answer(&answer.text);
    agent.grew(n);
    Ok(answer)
}
