//! The Gemini CLI shape's tools, as `functionDeclarations` (`parametersJsonSchema`, as Gemini CLI
//! sends them): the main loop's file, search, shell and edit tools plus `invoke_agent`, and the
//! codebase investigator's read-only set ending in `complete_task`.

use serde_json::{Value, json};

/// The tool the main loop starts a sub-agent with.
pub(crate) const INVOKE_AGENT: &str = "invoke_agent";
/// The tool a sub-agent ends its work with.
pub(crate) const COMPLETE_TASK: &str = "complete_task";

fn declaration(name: &str, description: &str, properties: Value, required: &[&str]) -> Value {
    json!({"name": name, "description": description,
           "parametersJsonSchema": {"type": "object", "properties": properties, "required": required}})
}

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn read_file() -> Value {
    declaration(
        "read_file",
        "Reads and returns the content of a specified file. If the file is large, the content will be truncated; the response will indicate this and say how to read more with `offset` and `limit`. Handles text, images and PDF files.",
        json!({"file_path": s("The path to the file to read."),
               "offset": {"type": "number", "description": "The 0-based line number to start reading from."},
               "limit": {"type": "number", "description": "Maximum number of lines to read."}}),
        &["file_path"],
    )
}

fn list_directory() -> Value {
    declaration(
        "list_directory",
        "Lists the names of files and subdirectories directly within a specified directory path. Can optionally ignore entries matching provided glob patterns.",
        json!({"dir_path": s("The path to the directory to list"),
               "ignore": {"type": "array", "items": {"type": "string"}, "description": "List of glob patterns to ignore"}}),
        &["dir_path"],
    )
}

fn grep_search() -> Value {
    declaration(
        "grep_search",
        "Searches for a regular expression pattern within the content of files in a specified directory (or the current working directory). Can filter files by a glob pattern. Returns the lines containing matches, along with their file paths and line numbers.",
        json!({"pattern": s("The regular expression (regex) pattern to search for within file contents."),
               "dir_path": s("Optional: the absolute path to the directory to search within."),
               "include": s("Optional: a glob pattern to filter which files are searched (e.g. '*.rs').")}),
        &["pattern"],
    )
}

fn glob() -> Value {
    declaration(
        "glob",
        "Efficiently finds files matching specific glob patterns (e.g. `src/**/*.rs`), returning absolute paths sorted by modification time (newest first).",
        json!({"pattern": s("The glob pattern to match against (e.g. '**/*.py', 'docs/*.md')."),
               "dir_path": s("Optional: the absolute path to the directory to search within.")}),
        &["pattern"],
    )
}

/// The main loop's tools.
pub(crate) fn main_tools() -> Vec<Value> {
    vec![
        read_file(),
        list_directory(),
        grep_search(),
        glob(),
        declaration(
            INVOKE_AGENT,
            "Delegates a task to a specialized sub-agent and returns its report. Available agents: `codebase_investigator` (deep, read-only analysis of the codebase: architecture, dependencies, where a change must go). Give the agent a complete, self-contained prompt.",
            json!({"agent_name": {"type": "string", "enum": ["codebase_investigator", "cli_help"]},
                   "prompt": s("The full task for the agent.")}),
            &["agent_name", "prompt"],
        ),
        declaration(
            "run_shell_command",
            "Executes a given shell command as `bash -c <command>`. Command can start background processes using `&`. Returns the command, directory, stdout, stderr, exit code and any background process ids.",
            json!({"command": s("Exact bash command to execute as `bash -c <command>`"),
                   "description": s("Brief description of the command for the user."),
                   "dir_path": s("(OPTIONAL) The path of the directory to run the command in.")}),
            &["command"],
        ),
        declaration(
            "replace",
            "Replaces text within a file. By default, replaces a single occurrence; set `expected_replacements` to replace several. Always read the file first; `old_string` must match exactly, including whitespace and indentation, with at least three lines of context.",
            json!({"file_path": s("The path to the file to modify."), "instruction": s("What the edit does and why."),
                   "old_string": s("The exact literal text to replace."), "new_string": s("The exact literal text to replace it with."),
                   "expected_replacements": {"type": "number", "minimum": 1}}),
            &["file_path", "instruction", "old_string", "new_string"],
        ),
        declaration(
            "write_file",
            "Writes content to a specified file in the local filesystem. The user has the ability to modify `content`; if modified, this will be stated in the response.",
            json!({"file_path": s("The path to the file to write to."), "content": s("The content to write to the file.")}),
            &["file_path", "content"],
        ),
    ]
}

/// The codebase investigator's tools.
pub(crate) fn investigator_tools() -> Vec<Value> {
    vec![
        list_directory(),
        read_file(),
        glob(),
        grep_search(),
        declaration(
            COMPLETE_TASK,
            "Call this tool to submit your final answer and complete the task. This is the ONLY way to finish.",
            json!({"report": {"type": "object", "description": "The investigation's report.",
                   "properties": {"SummaryOfFindings": {"type": "string"}, "ExplorationTrace": {"type": "array", "items": {"type": "string"}},
                                  "RelevantLocations": {"type": "array", "items": {"type": "object", "properties": {
                                      "FilePath": {"type": "string"}, "Reasoning": {"type": "string"},
                                      "KeySymbols": {"type": "array", "items": {"type": "string"}}}}}},
                   "required": ["SummaryOfFindings", "ExplorationTrace", "RelevantLocations"]}}),
            &["report"],
        ),
    ]
}
