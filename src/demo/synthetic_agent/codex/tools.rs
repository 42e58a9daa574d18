//! The Codex shape's tools, in the Responses API's function-tool form: the shell and patch tools
//! Codex's main loop offers, its plan tool, and `spawn_agent` for sub-agents.

use serde_json::{Value, json};

fn function(name: &str, description: &str, properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "function", "name": name, "description": description, "strict": false,
        "parameters": {"type": "object", "properties": properties, "required": required,
                       "additionalProperties": false},
    })
}

/// The tool a spawned agent is started with.
pub(crate) const SPAWN_TOOL: &str = "spawn_agent";

/// The main thread's tools.
pub(crate) fn main_tools() -> Vec<Value> {
    let mut tools = agent_tools();
    tools.push(function(
        "update_plan",
        "Updates the task plan. Provide an optional explanation and a list of plan items, each with a step and status. At most one step can be in_progress at a time.",
        json!({"explanation": {"type": "string"}, "plan": {"type": "array", "items": {"type": "object",
               "properties": {"step": {"type": "string"}, "status": {"type": "string",
               "enum": ["pending", "in_progress", "completed"]}}, "required": ["step", "status"]}}}),
        &["plan"],
    ));
    tools.push(function(
        SPAWN_TOOL,
        "Spawns a sub-agent in a thread of its own for a self-contained task and returns its final message. Give it everything it needs: it cannot see this conversation.",
        json!({"message": {"type": "string", "description": "The full task"},
               "agent_type": {"type": "string", "enum": ["default", "explorer", "worker"]}}),
        &["message"],
    ));
    tools
}

/// What a spawned agent (and the consolidation agent) may use.
pub(crate) fn agent_tools() -> Vec<Value> {
    vec![
        function(
            "shell",
            "Runs a shell command and returns its output. Always set the `workdir` param when using the shell function. Do not use `cd` unless absolutely necessary. Prefer `rg` over `grep` and `rg --files` over `find`; they are much faster.",
            json!({"command": {"type": "array", "items": {"type": "string"}, "description": "The command to execute"},
                   "workdir": {"type": "string", "description": "The working directory to execute the command in"},
                   "timeout_ms": {"type": "number", "description": "The timeout for the command in milliseconds"},
                   "with_escalated_permissions": {"type": "boolean"}, "justification": {"type": "string"}}),
            &["command"],
        ),
        function(
            "apply_patch",
            "Use the `apply_patch` tool to edit files. The patch language is a stripped-down, file-oriented diff format: *** Begin Patch, then one or more *** Add File / *** Update File / *** Delete File sections with context lines and +/- lines, then *** End Patch.",
            json!({"input": {"type": "string", "description": "The entire contents of the apply_patch command"}}),
            &["input"],
        ),
    ]
}
