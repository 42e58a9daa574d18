//! A Codex spawned agent (`collab_spawn`): a thread of its own in the same process, as Codex
//! runs sub-agents, naming its parent thread on every call. It works through a short tool loop
//! on its task and hands its final message back to the main thread.

use serde_json::Value;

use super::super::Log;
use super::super::error::AgentError;
use super::super::tools::fake_tool_run;
use super::super::turn::ToolStep;
use super::history::{History, user_message};
use super::prompts::{BASE_INSTRUCTIONS, environment_context};
use super::session::MODEL;
use super::tools::agent_tools;
use super::wire::{CodexCall, CodexClient, RequestKind, Thread};
use crate::demo::det::{Rng, hash};
use crate::observation::Category;

const CALLS: (u64, u64) = (2, 4);
const TOOL_OUTPUT_BYTES: (u64, u64) = (4_000, 8_000);

/// Runs the spawned agent to its final message.
pub(crate) async fn run(
    client: &CodexClient,
    thread: &Thread,
    turn_id: &str,
    task: &str,
    seed: u64,
    log: &Log,
) -> Result<String, AgentError> {
    let mut rng = Rng::new(seed ^ hash(task.as_bytes()));
    let tools: Vec<Value> = agent_tools();
    let mut history = History::default();
    history.push(vec![environment_context(), user_message(task)]);
    let calls = rng.range(CALLS.0, CALLS.1);
    for i in 0..calls {
        let call = CodexCall {
            category: Category::Subagent,
            thread,
            kind: RequestKind::Turn,
            turn_id: Some(turn_id),
            model: MODEL,
            instructions: BASE_INSTRUCTIONS,
            tools: &tools,
            input: history.for_request(&[]),
        };
        let answer = client.call(call).await?;
        log.call(Category::Subagent, &answer.usage);
        if i + 1 == calls {
            return Ok(answer.text);
        }
        let size =
            usize::try_from(rng.range(TOOL_OUTPUT_BYTES.0, TOOL_OUTPUT_BYTES.1)).unwrap_or(0);
        let (name, input, output) = fake_tool_run(&mut rng, size);
        let step = ToolStep {
            id_bits: rng.next_u64(),
            name,
            input,
            output,
        };
        history.push_tool_step(&answer.text, &step);
    }
    Ok(String::new())
}
