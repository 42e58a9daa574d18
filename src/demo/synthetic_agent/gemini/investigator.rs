//! Gemini CLI's codebase investigator, the built-in sub-agent the main loop starts with
//! `invoke_agent`: its own chat in the same process, streamed to a smaller model with its own
//! system instruction and read-only tools. It works through a short tool loop on its task and
//! ends with `complete_task`, whose report goes back to the main loop.

use serde_json::{Value, json};

use super::super::Log;
use super::super::error::AgentError;
use super::super::tools::fake_tool_run;
use super::super::turn::ToolStep;
use super::history::{History, gemini_tool, tool_step, user_text};
use super::prompts::{INVESTIGATOR_SYSTEM, investigator_task};
use super::tools::investigator_tools;
use super::wire::{GeminiCall, GeminiClient};
use crate::demo::det::{Rng, hash};
use crate::observation::Category;

/// The investigator's model (Gemini CLI's default for it).
pub(crate) const MODEL: &str = "gemini-3-flash-preview";
const CALLS: (u64, u64) = (3, 4);
const TOOL_OUTPUT_BYTES: (u64, u64) = (4_000, 8_000);

/// Runs the investigator to its `complete_task`; returns the report.
pub(crate) async fn run(
    client: &GeminiClient,
    task: &str,
    seed: u64,
    log: &Log,
) -> Result<Value, AgentError> {
    let mut rng = Rng::new(seed ^ hash(task.as_bytes()));
    let tools = investigator_tools();
    let mut history = History::default();
    history.push([user_text(&investigator_task(task))]);
    let calls = rng.range(CALLS.0, CALLS.1);
    let mut trace = Vec::new();
    for i in 1..=calls {
        let call = GeminiCall {
            category: Category::Subagent,
            model: MODEL,
            stream: true,
            system: INVESTIGATOR_SYSTEM,
            tools: &tools,
            contents: history.for_request(&[]),
            generation_config: json!({"temperature": 0.1, "topP": 0.95,
                "thinkingConfig": {"includeThoughts": true, "thinkingBudget": -1}}),
        };
        let answer = client.call(call).await?;
        log.call(Category::Subagent, &answer.usage);
        if i == calls {
            let report = json!({"SummaryOfFindings": answer.text, "ExplorationTrace": trace,
                                "RelevantLocations": []});
            // The model's last answer is its `complete_task` call: the report is its argument,
            // and the sub-agent ends there, so nothing is sent after it.
            return Ok(report);
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
        let (tool, args) = gemini_tool(&step, true);
        trace.push(format!("{tool} {args}"));
        history.push(tool_step(&answer.text, &step, true));
    }
    Ok(Value::Null)
}
