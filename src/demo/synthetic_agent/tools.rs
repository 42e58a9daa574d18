//! The synthetic agent's tool definitions (realistic JSON schemas, several KB together, like a
//! real coding agent's) and the fake output its pretend tool runs produce.

use serde_json::{Value, json};

use crate::demo::det::Rng;

/// Name of the tool that spawns a sub-agent (Claude Code 2.1.x calls it `Agent`).
pub(crate) const SUBAGENT_TOOL: &str = "Agent";

fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> Value {
    json!({
        "name": name,
        "description": description,
        "input_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        },
    })
}

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn n(description: &str) -> Value {
    json!({"type": "number", "description": description})
}

fn bash() -> Value {
    tool(
        "Bash",
        "Runs a shell command in a persistent working directory and returns its combined output.\n\n- Prefer the dedicated Read, Grep and Glob tools over cat, grep and find: their output is structured and cheaper.\n- Quote paths that contain spaces. Chain dependent commands with `&&`; run independent ones as separate calls.\n- `timeout` is in milliseconds (default 120000, at most 600000). Long-running servers belong in the background with `run_in_background`.\n- Never run interactive commands (editors, pagers, `git rebase -i`); they hang the session.\n- Commit or push only when the user asks for it.",
        json!({"command": s("The command to execute"), "timeout": n("Optional timeout in milliseconds (max 600000)"),
               "description": s("Five to ten words saying what the command does, shown to the user"),
               "run_in_background": {"type": "boolean", "description": "Run detached and report when it exits"}}),
        &["command"],
    )
}

fn glob() -> Value {
    tool(
        "Glob",
        "Finds files by glob pattern (`**/*.rs`, `src/**/mod.rs`), newest first. Use it to locate files by name; use Grep to search their contents. Results are capped at 100 paths; narrow the pattern if you hit the cap.",
        json!({"pattern": s("The glob pattern to match"), "path": s("Directory to search in; defaults to the working directory")}),
        &["pattern"],
    )
}

fn grep() -> Value {
    tool(
        "Grep",
        "Searches file contents with ripgrep regular expressions. Supports file-type filters, context lines and three output modes: matching lines (`content`), matching files (`files_with_matches`, the default) and per-file counts (`count`). Escape literal braces (`interface\\{\\}`). Prefer this over running grep through Bash.",
        json!({"pattern": s("Regular expression to search for"), "path": s("File or directory to search"),
               "glob": s("Only search files matching this glob"), "type": s("ripgrep file type, e.g. rust, py, js"),
               "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"]},
               "-n": {"type": "boolean", "description": "Show line numbers (content mode)"},
               "-C": n("Lines of context around each match (content mode)"),
               "head_limit": n("Only return the first N results")}),
        &["pattern"],
    )
}

fn read() -> Value {
    tool(
        "Read",
        "Reads a file from the local filesystem. `file_path` must be absolute. By default returns up to 2000 lines from the start, each prefixed with its line number; pass `offset` and `limit` to page through long files. Reads images and PDFs too. Reading a file you have not read before is always allowed; re-read after an edit only if you need the new contents.",
        json!({"file_path": s("Absolute path of the file to read"), "offset": n("Line to start from"), "limit": n("Number of lines to read")}),
        &["file_path"],
    )
}

fn edit() -> Value {
    tool(
        "Edit",
        "Replaces an exact string in a file. Read the file first. `old_string` must match exactly once, including indentation, unless `replace_all` is set; widen it with surrounding lines until it is unique. Keep edits minimal and preserve the file's style.",
        json!({"file_path": s("Absolute path of the file to modify"), "old_string": s("The text to replace"),
               "new_string": s("The replacement text (must differ from old_string)"),
               "replace_all": {"type": "boolean", "default": false, "description": "Replace every occurrence"}}),
        &["file_path", "old_string", "new_string"],
    )
}

fn write() -> Value {
    tool(
        "Write",
        "Writes a file, replacing it if it exists. Prefer Edit for changes to existing files; use Write for new files or complete rewrites. Never create documentation files unless asked.",
        json!({"file_path": s("Absolute path of the file to write"), "content": s("The full file content")}),
        &["file_path", "content"],
    )
}

fn todo() -> Value {
    tool(
        "TodoWrite",
        "Creates and updates the session's task list. Use it for work with three or more steps: add the steps, mark exactly one `in_progress` while working on it, and mark each `completed` as soon as it is done. Do not use it for single trivial actions.",
        json!({"todos": {"type": "array", "items": {"type": "object", "properties": {
            "content": s("Imperative description of the step"), "activeForm": s("Present-continuous form shown while working"),
            "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]}},
            "required": ["content", "status", "activeForm"]}}}),
        &["todos"],
    )
}

fn web_fetch() -> Value {
    tool(
        "WebFetch",
        "Fetches a URL, converts the page to markdown and answers `prompt` about it with a small fast model. Results are cached for 15 minutes. Redirects to another host are reported rather than followed.",
        json!({"url": {"type": "string", "format": "uri", "description": "The URL to fetch"}, "prompt": s("What to extract from the page")}),
        &["url", "prompt"],
    )
}

fn web_search() -> Value {
    tool(
        "WebSearch",
        "Searches the web and returns result titles, links and snippets. Cite the sources you use. Use allowed_domains / blocked_domains to scope the search.",
        json!({"query": s("The search query"), "allowed_domains": {"type": "array", "items": {"type": "string"}},
               "blocked_domains": {"type": "array", "items": {"type": "string"}}}),
        &["query"],
    )
}

fn agent() -> Value {
    tool(
        SUBAGENT_TOOL,
        "Launches a sub-agent that works autonomously on a self-contained task with its own context window and returns one final report. Use it for broad searches and investigations whose intermediate output would clutter this conversation. Give it a complete brief: the goal, what is already known, and what the report must contain; it cannot see this conversation. Available types: general-purpose (all tools), Explore (read-only search), Plan (designs an approach without editing).",
        json!({"description": s("Three to five words describing the task"), "prompt": s("The full task for the sub-agent"),
               "subagent_type": {"type": "string", "enum": ["general-purpose", "Explore", "Plan"]}}),
        &["description", "prompt", "subagent_type"],
    )
}

/// The main loop's tools.
pub(crate) fn main_tools() -> Vec<Value> {
    vec![
        agent(),
        bash(),
        glob(),
        grep(),
        read(),
        edit(),
        write(),
        todo(),
        web_fetch(),
        web_search(),
    ]
}

/// A sub-agent's smaller, read-mostly tool set.
pub(crate) fn subagent_tools() -> Vec<Value> {
    vec![bash(), glob(), grep(), read()]
}

const MODULES: [&str; 12] = [
    "proxy",
    "capture",
    "trace",
    "report",
    "sampler",
    "classify",
    "pricing",
    "config",
    "sse",
    "store",
    "cli",
    "attribution",
];
const IDENTS: [&str; 10] = [
    "handle_request",
    "parse_usage",
    "flush_batch",
    "record_call",
    "retry_after",
    "read_chunk",
    "merge_usage",
    "spawn_sampler",
    "apply_rule",
    "render_table",
];

/// A pretend tool call (name and input) and the output it "produced", about `bytes` long.
pub(crate) fn fake_tool_run(rng: &mut Rng, bytes: usize) -> (String, Value, String) {
    let module = rng.pick(&MODULES).copied().unwrap_or("proxy");
    let ident = rng.pick(&IDENTS).copied().unwrap_or("handle_request");
    let (name, input) = match rng.range(0, 3) {
        0 => (
            "Read",
            json!({"file_path": format!("/home/dev/agentprof/src/{module}.rs")}),
        ),
        1 => (
            "Grep",
            json!({"pattern": ident, "output_mode": "content", "-n": true}),
        ),
        2 => (
            "Bash",
            json!({"command": format!("cargo test -p agentprof {module}"), "description": format!("Run the {module} tests")}),
        ),
        _ => ("Glob", json!({"pattern": format!("src/{module}/**/*.rs")})),
    };
    let mut out = String::with_capacity(bytes + 128);
    let mut line_no = 1;
    while out.len() < bytes {
        let line = match name {
            "Read" => format!(
                "{line_no:>6}\t    let {ident}_{} = self.{ident}(&ctx, {})?;\n",
                rng.range(0, 99),
                rng.range(0, 9999)
            ),
            "Grep" => format!(
                "src/{}/{module}.rs:{}:    fn {ident}(&mut self, input: &[u8]) -> Result<usize, Error> {{\n",
                rng.pick(&MODULES).copied().unwrap_or("x"),
                rng.range(1, 900)
            ),
            "Bash" => format!(
                "test {module}::tests::{ident}_{} ... ok ({} ms)\n",
                rng.range(0, 999),
                rng.range(0, 80)
            ),
            _ => format!(
                "/home/dev/agentprof/src/{module}/{ident}_{}.rs\n",
                rng.range(0, 9999)
            ),
        };
        out.push_str(&line);
        line_no += 1;
    }
    (name.to_string(), input, out)
}
