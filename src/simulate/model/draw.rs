//! The random part of a turn: its sizes and counts, drawn before the turn runs.

use super::plan::{Plan, Shape};
use super::random::{Streams, stochastic_round};

/// The random part of one turn, drawn up front: an interactive turn draws its own, a daemon
/// draws one a day for all its wake-ups (which is what lets identical wake-ups be summed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnDraw {
    pub prompt: u64,
    pub tool: u64,
    pub output: u64,
    pub tools: u64,
    pub subagents: u64,
    pub utility: u64,
    pub sub_calls: u64,
    pub sub_task: u64,
    pub sub_tool: u64,
    pub sub_output: u64,
    pub sub_report: u64,
}

impl TurnDraw {
    pub fn draw(plan: &Plan, shape: &Shape, streams: &mut Streams) -> TurnDraw {
        let z = shape.size.draw(&mut streams.work);
        // Sizes are validated non-negative, so adding ½ and truncating rounds.
        let scaled = |x: f64| (x * z + 0.5) as u64;
        let tools = stochastic_round(shape.tool_calls, &mut streams.work);
        let subagents = stochastic_round(shape.subagents, &mut streams.work);
        let utility = stochastic_round(shape.utility_calls, &mut streams.background);
        let sub_calls = if subagents > 0 {
            stochastic_round(plan.sub_calls, &mut streams.work).max(1)
        } else {
            0
        };
        TurnDraw {
            prompt: scaled(shape.prompt),
            tool: scaled(shape.tool_result),
            output: scaled(shape.output),
            tools,
            subagents,
            utility,
            sub_calls,
            sub_task: scaled(plan.sub_task),
            sub_tool: scaled(plan.sub_tool_result),
            sub_output: scaled(plan.sub_output),
            sub_report: scaled(plan.sub_report),
        }
    }
}
