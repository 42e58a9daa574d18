//! Sub-agents as separate processes: the parent re-executes its own binary with
//! `synthetic-agent --subagent …` (so the sampler sees a child running the same executable, as
//! with a real agent's sub-agent processes), waits for it, and reads its final report from stdout.
//! The child runs a short tool-using conversation of its own, with its agent id on every call.

use std::process::Stdio;

use super::client::{AgentError, ApiClient, CallSpec};
use super::conversation::{Conversation, text_block, tool_result_block, tool_use_block};
use super::memory::{Ballast, SUBAGENT_BASELINE};
use super::session::{assistant_blocks, tool_id};
use super::tools::{fake_tool_run, subagent_tools};
use super::{Log, SyntheticAgentArgs, prompts};
use crate::demo::det::{Rng, hash};
use crate::observation::Category;

const CALLS: (u64, u64) = (2, 4);
const TOOL_OUTPUT_BYTES: (u64, u64) = (4_000, 8_000);
const MAX_TOKENS: u64 = 32_000;

/// A fresh sub-agent id (random: it never enters the transcript, so runs stay reproducible).
fn new_agent_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("a{}", &id[..16])
}

/// Parent side: runs one sub-agent process to completion and returns its report.
pub(crate) async fn spawn(
    args: &SyntheticAgentArgs,
    session_id: &str,
    task: &str,
    seed: u64,
    log: &Log,
) -> Result<String, AgentError> {
    let exe = std::env::current_exe()
        .map_err(|e| AgentError::Subagent(format!("cannot find own executable: {e}")))?;
    let agent_id = new_agent_id();
    log.line(format_args!("spawning sub-agent {agent_id}"));
    // `spawn` + `wait_with_output`, not `output()`: tokio's `output()` would pipe stderr too,
    // swallowing the child's progress lines and error message.
    let child = tokio::process::Command::new(exe)
        .arg("synthetic-agent")
        .arg("--subagent")
        .args([
            "--session-id",
            session_id,
            "--agent-id",
            &agent_id,
            "--task",
            task,
        ])
        .args([
            "--seed",
            &seed.to_string(),
            "--model",
            &args.model,
            "--small-model",
            &args.small_model,
            "--subagent-balloon-mib",
            &args.subagent_balloon_mib.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| AgentError::Subagent(format!("cannot start: {e}")))?;
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| AgentError::Subagent(format!("waiting for {agent_id}: {e}")))?;
    if !output.status.success() {
        return Err(AgentError::Subagent(format!(
            "{agent_id} exited with {}",
            output.status
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Child side: the sub-agent's own conversation; prints the final report on stdout.
pub(crate) async fn run_child(
    args: &SyntheticAgentArgs,
    client: ApiClient,
    task: &str,
    log: Log,
) -> Result<(), AgentError> {
    let mut ballast = Ballast::new();
    ballast.hold(SUBAGENT_BASELINE);
    let mut rng = Rng::new(args.seed ^ hash(task.as_bytes()));
    let tools = subagent_tools();
    let mut convo = Conversation::new();
    ballast.grow_for_transcript(convo.push_user(vec![text_block(task)]));
    let calls = rng.range(CALLS.0, CALLS.1);
    let balloon = usize::try_from(args.subagent_balloon_mib << 20).unwrap_or(usize::MAX);
    let mut report = String::new();
    for i in 0..calls {
        // Ballooning as it works: a share of `--subagent-balloon-mib` before each call.
        ballast.hold(balloon / calls.max(1) as usize);
        let spec = CallSpec {
            category: Category::Subagent,
            model: &args.model,
            system: prompts::subagent_system(),
            tools: &tools,
            messages: convo.for_request(None),
            max_tokens: MAX_TOKENS,
            stream: true,
        };
        let answer = client.call(spec).await?;
        log.call(Category::Subagent, &answer.usage);
        if i + 1 == calls {
            report = answer.text;
            break;
        }
        let size =
            usize::try_from(rng.range(TOOL_OUTPUT_BYTES.0, TOOL_OUTPUT_BYTES.1)).unwrap_or(0);
        let (name, input, output) = fake_tool_run(&mut rng, size);
        let id = tool_id(&mut rng);
        let n = convo.push_assistant(assistant_blocks(
            &answer.text,
            Some(tool_use_block(&id, &name, input)),
        ));
        let m = convo.push_user(vec![tool_result_block(&id, &output)]);
        ballast.grow_for_transcript(n + m);
    }
    ballast.grow_for_transcript(convo.push_assistant(assistant_blocks(&report, None)));
    if balloon > 0 {
        // A ballooned sub-agent is a long-lived one: hold the memory a while, as a real one
        // working for minutes would, so a sampler ticking every 50 ms on a loaded machine
        // sees it (the mock answers in milliseconds).
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    log.line(format_args!(
        "sub-agent done: retained {} MiB",
        ballast.held() >> 20
    ));
    println!("{report}");
    Ok(())
}
