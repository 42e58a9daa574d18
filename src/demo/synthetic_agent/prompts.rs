//! Every text the synthetic agent sends: system prompts, user prompts and the instructions of its
//! background work. The instruction openings match the real agent's, because they are what a
//! classifier keys on; the rest is original filler of realistic size.

use serde_json::{Value, json};

/// Version marker in the billing header and User-Agent.
pub(crate) const CC_VERSION: &str = "2.1.0";

/// The first system block of every call.
pub(crate) fn billing_block(subagent: bool) -> Value {
    let mut text = format!(
        "x-anthropic-billing-header: cc_version={CC_VERSION}.synthetic; cc_entrypoint=cli;"
    );
    if subagent {
        text.push_str(" cc_is_subagent=true;");
    }
    json!({"type": "text", "text": text})
}

/// A cached system block.
pub(crate) fn cached_block(text: String) -> Value {
    json!({"type": "text", "text": text, "cache_control": {"type": "ephemeral"}})
}

const IDENTITY: &str =
    "You are Claude Code, a synthetic coding agent used to demonstrate agentprof.";

const MAIN_PROMPT: &str = "You are an interactive agent that helps users with software engineering tasks. Use the instructions below and the tools available to you to assist the user.

# Tone and style
 - Text you write outside of tool calls is shown to the user as GitHub-flavored markdown in a terminal. Keep it short and concrete; lead with the answer.
 - Do not narrate what you are about to do at length. One sentence before a tool call is enough.
 - Refer to code as `path:line` so the user can jump to it.

# Doing tasks
 - Read before you write: open the files you are about to change and the code that calls them.
 - Match the surrounding code: naming, error handling, comment density, test style.
 - Make the smallest change that solves the problem. Do not refactor unrelated code or add speculative features.
 - After a change, run the narrowest test that exercises it, then the wider suite if it is cheap.
 - When a test fails, read the failure before changing anything. Fix causes, not symptoms.
 - Never claim something works unless you ran it. If you skipped a step, say so.

# Tools
 - Prefer the dedicated file tools (Read, Edit, Write, Glob, Grep) over shell equivalents.
 - Independent tool calls can run in parallel in a single response.
 - Delegate broad searches or investigations whose intermediate output would clutter the conversation to a sub-agent with the Agent tool, and give it a complete brief.
 - Use TodoWrite to plan work with three or more steps and keep it current.

# Safety
 - Confirm before actions that are hard to reverse or that publish something: force pushes, deleting branches or files you did not create, sending data to external services.
 - Never commit secrets. Never disable tests or checks to make a build pass.

# Memory
You have a persistent file-based memory directory. Each memory is one file holding one fact with a short front matter (name, description, type). Save what will matter in later sessions: the user's preferences, project conventions, decisions and their reasons. Do not save what the code or git history already records. Before relying on a memory, check it is still true.
";

/// Project context appended to the main prompt (stands in for CLAUDE.md and environment info).
fn project_context() -> String {
    let mut s = String::from(
        "\n# Environment\nWorking directory: /home/dev/agentprof\nPlatform: linux\nShell: bash\nIs a git repository: true\nToday's date: 2026-01-15\n\n# Project instructions (CLAUDE.md)\n",
    );
    let rules = [
        "Rust 2024 edition; `cargo fmt` and `cargo clippy --all-targets -- -D warnings` must be clean.",
        "No `unwrap()` or `expect()` outside tests; use `?` and `thiserror` at module boundaries.",
        "Every module starts with a `//!` doc saying what it owns; comments explain why, not what.",
        "Keep files small with one job each; split a file before it passes 400 lines.",
        "Tests live next to the code; end-to-end tests go in `tests/` and must finish in seconds.",
        "Capture never blocks the agent: the proxy streams bytes through before parsing them.",
        "Reports are computed from the trace alone so they can be recomputed later.",
        "Prices live in one table with the date they were checked; never hard-code a price elsewhere.",
    ];
    for (i, rule) in rules.iter().enumerate() {
        s.push_str(&format!("{}. {rule}\n", i + 1));
    }
    s.push_str("\n# Repository layout\n");
    for dir in [
        "src/proxy",
        "src/capture",
        "src/trace",
        "src/report",
        "src/sampler",
        "src/classify",
        "src/pricing",
        "tests",
        "benches",
        "docs",
    ] {
        for file in ["mod.rs", "types.rs", "tests.rs"] {
            s.push_str(&format!("{dir}/{file}\n"));
        }
    }
    s
}

/// The main agent's system blocks.
pub(crate) fn main_system() -> Vec<Value> {
    vec![
        billing_block(false),
        cached_block(format!("{IDENTITY}\n\n{MAIN_PROMPT}{}", project_context())),
    ]
}

const SUBAGENT_PROMPT: &str = "You are a sub-agent of Claude Code. You were given one self-contained task by the main agent, which cannot see your work until you finish. Use the tools to investigate thoroughly but economically: search before reading, read only the parts of files you need, and do not modify files unless the task says so. When you are done, reply with a single final report: what you found, where (as `path:line`), and anything you could not determine. The report is all the main agent will see, so make it complete and self-contained. Do not ask questions; make reasonable assumptions and state them.";

/// A sub-agent's system blocks.
pub(crate) fn subagent_system() -> Vec<Value> {
    vec![
        billing_block(true),
        cached_block(format!("{SUBAGENT_PROMPT}\n{}", project_context())),
    ]
}

/// Utility calls: a short instruction, no tools, no caching.
pub(crate) fn utility_system(instruction: &str) -> Vec<Value> {
    vec![
        billing_block(false),
        json!({"type": "text", "text": IDENTITY}),
        json!({"type": "text", "text": instruction}),
    ]
}

pub(crate) const TITLE_INSTRUCTION: &str = "Generate a concise, sentence-case title (3-7 words) that captures the main topic or goal of this coding session. Reply with the title only.";
pub(crate) const TOPIC_INSTRUCTION: &str = "Analyze if this message indicates a new conversation topic. Reply with JSON: {\"isNewTopic\": boolean, \"title\": string or null}.";

/// The context reminder the real agent prepends to the first user message.
pub(crate) const FIRST_TURN_REMINDER: &str = "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# currentDate\nToday's date is 2026-01-15.\n\nIMPORTANT: this context may or may not be relevant to your tasks.\n</system-reminder>";

pub(crate) const USER_PROMPTS: [&str; 8] = [
    "The proxy drops the usage of streamed responses when the client disconnects early. Find where we finalize a call and make sure partial usage is kept.",
    "Add a --json flag to the report command that prints the same numbers as the table, and a test for it.",
    "Why does the memory sampler miss short-lived child processes? Look at how we walk the process tree and suggest a fix.",
    "Refactor the SSE parser so it never copies a whole event just to read the usage; keep the tests green.",
    "The cost column is off by a factor of a thousand for cached tokens. Track it down and fix it.",
    "Write integration tests for the retry path: 429 with retry-after, 529, and a reset mid-stream.",
    "Summarize how a call gets its category today and list the rules in order of precedence.",
    "Make the trace writer flush on SIGTERM so the last calls are not lost, and show me the change.",
];

pub(crate) const SUBAGENT_TASKS: [&str; 4] = [
    "Search the codebase for every place a streamed response's usage is read or merged. Report each location as path:line with a one-line description, and note any place that could lose the final usage.",
    "Investigate how the memory sampler discovers processes: find the code that lists children, how often it runs, and what happens when a process exits between two ticks. Report with path:line references.",
    "Find all tests that exercise upstream failures (status errors, resets, error events) and summarize what each asserts. Report gaps in coverage.",
    "Trace how pricing is applied to cache reads and cache writes, from the usage record to the report column. Report the formulas with path:line references.",
];

/// The fork instructions; their openings are the real agent's.
pub(crate) const MEMORY_EXTRACTION: &str = "You are now acting as the memory extraction subagent. Analyze the most recent messages above and decide whether they contain anything worth saving to your persistent memory directory: user preferences, project conventions, decisions and their reasons. Only save durable facts that the code and git history do not already record. Reply with the memory files to write or update, or NO_MEMORIES.";
pub(crate) const DREAM: &str = "You are performing a dream — a reflective pass over your memory files. Consolidate what you have learned across recent sessions: merge duplicate memories, remove ones that are no longer true, sharpen vague descriptions, and link related memories. Reply with the edits to make.";
pub(crate) const AWAY_SUMMARY: &str = "The user stepped away. Write a short summary of where things stand — what was asked, what is done, what is in progress and what needs their input — so they can pick up quickly when they return.";
pub(crate) const COMPACTION: &str = "Your task is to create a detailed summary of the conversation so far, paying close attention to the user's explicit requests and your previous actions. Include: 1. Primary request and intent 2. Key technical concepts 3. Files and code sections 4. Errors and fixes 5. Problem solving 6. All user messages 7. Pending tasks 8. Current work 9. Optional next step. This summary will replace the conversation, so it must be complete.";
/// The first user message after a compaction.
pub(crate) const CONTINUATION: &str = "This session is being continued from a previous conversation that ran out of context. The conversation is summarized below:\n";
