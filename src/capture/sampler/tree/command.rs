//! What a process is called and what it is: the role rule ([`role_for`]) and the short,
//! redacted command line reported when a process starts ([`short_command`]).

use crate::capture::redact::redact_arg;
use std::path::Path;

use crate::observation::ProcessRole;

use super::super::table::CommandLine;

/// Interpreters whose processes are told apart by the script they run, not the executable.
fn is_interpreter(name: &str) -> bool {
    match name {
        "node" | "nodejs" | "bun" | "deno" => true,
        // python, python3, python3.12 …
        _ => name
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')),
    }
}

fn basename(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or(path)
}

/// The program's name: the executable's basename, or argv[0]'s when the executable is unknown.
fn program_name(command: &CommandLine) -> Option<&str> {
    match &command.exe {
        Some(exe) => exe.file_name().and_then(|name| name.to_str()),
        None => command.argv.first().map(|arg0| basename(arg0)),
    }
}

/// The script an interpreter runs: the first argument that is not an option (`argv[1]` in the
/// usual `node /path/cli.js …`); a leading `run` subcommand (`deno run x.ts`) is skipped.
fn script_argument(command: &CommandLine) -> Option<&str> {
    let mut args = command
        .argv
        .iter()
        .skip(1)
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'));
    match args.next() {
        Some("run") => args.next(),
        other => other,
    }
}

/// The role of a descendant of a root: `Subagent` if it runs the same program as its root,
/// `Other` otherwise. (Roots themselves are `Main`; that is decided by being a root.)
///
/// An agent that runs sub-agents as processes re-executes itself, so "same program" is: the
/// same `/proc/PID/exe` target when both are readable, else the same `argv[0]` basename. When that
/// program is an interpreter (node, python*, bun, deno) — Claude Code's exe is `node` for the
/// main agent and any node tool alike — the script argument must match as well.
pub fn role_for(root: &CommandLine, process: &CommandLine) -> ProcessRole {
    let same_program = match (&root.exe, &process.exe) {
        (Some(a), Some(b)) => a == b,
        _ => {
            let arg0 = |c: &CommandLine| c.argv.first().map(|a| basename(a).to_owned());
            arg0(root).is_some() && arg0(root) == arg0(process)
        }
    };
    if !same_program {
        return ProcessRole::Other;
    }
    if program_name(root).is_some_and(is_interpreter)
        && script_argument(root) != script_argument(process)
    {
        return ProcessRole::Other;
    }
    ProcessRole::Subagent
}

/// Longest argument (and program name) kept in a short command, in characters.
const MAX_ARG_CHARS: usize = 40;
/// Longest short command, in characters.
const MAX_COMMAND_CHARS: usize = 120;
/// Arguments kept after the program name.
const MAX_ARGS: usize = 3;

/// `s` cut to at most `max` characters, marking a cut with `…`.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The command as reported in `ProcessEvent::Start`: program basename and up to 3 arguments,
/// each cut to 40 characters, credentials replaced by `***`, at most 120 characters in all.
pub fn short_command(command: &CommandLine) -> String {
    let program = command
        .argv
        .first()
        .map(|arg0| basename(arg0))
        .filter(|name| !name.is_empty())
        .or_else(|| program_name(command))
        .unwrap_or("?");
    let mut out = truncate(program, MAX_ARG_CHARS);
    for (i, arg) in command.argv.iter().enumerate().skip(1).take(MAX_ARGS) {
        let prev = command.argv.get(i - 1).map(String::as_str);
        out.push(' ');
        out.push_str(&truncate(&redact_arg(arg, prev), MAX_ARG_CHARS));
    }
    truncate(&out, MAX_COMMAND_CHARS)
}

#[cfg(test)]
mod tests {
    use super::super::fake::cmd;
    use super::*;

    #[test]
    fn role_rule() {
        let claude = cmd("/usr/bin/node", &["node", "/opt/claude/cli.js", "--print"]);
        let sub = cmd(
            "/usr/bin/node",
            &["node", "/opt/claude/cli.js", "--agent", "x"],
        );
        let mcp = cmd("/usr/bin/node", &["node", "/opt/mcp/server.js"]);
        let flags = cmd(
            "/usr/bin/node",
            &["node", "--max-old-space-size=4096", "/opt/claude/cli.js"],
        );
        assert_eq!(role_for(&claude, &sub), ProcessRole::Subagent);
        assert_eq!(role_for(&claude, &flags), ProcessRole::Subagent);
        assert_eq!(role_for(&claude, &mcp), ProcessRole::Other);
        // Not an interpreter: the exe decides, arguments don't matter.
        let codex = cmd("/opt/codex", &["codex", "exec"]);
        assert_eq!(
            role_for(&codex, &cmd("/opt/codex", &["codex", "x"])),
            ProcessRole::Subagent
        );
        assert_eq!(
            role_for(&codex, &cmd("/bin/sh", &["codex"])),
            ProcessRole::Other
        );
        // Exe unreadable on either side: argv[0] basename decides.
        assert_eq!(
            role_for(
                &cmd("", &["/opt/codex", "a"]),
                &cmd("/opt/codex", &["codex"])
            ),
            ProcessRole::Subagent
        );
        assert_eq!(
            role_for(&cmd("", &["codex"]), &cmd("", &["rg"])),
            ProcessRole::Other
        );
        assert_eq!(role_for(&cmd("", &[]), &cmd("", &[])), ProcessRole::Other);
        // python3.12, deno run: interpreters too.
        let py = cmd("/usr/bin/python3.12", &["python3", "agent.py"]);
        assert_eq!(
            role_for(&py, &cmd("/usr/bin/python3.12", &["python3", "tool.py"])),
            ProcessRole::Other
        );
        assert_eq!(
            role_for(&py, &cmd("/usr/bin/python3.12", &["python3", "agent.py"])),
            ProcessRole::Subagent
        );
        let deno = cmd("/usr/bin/deno", &["deno", "run", "-A", "main.ts"]);
        assert_eq!(
            role_for(&deno, &cmd("/usr/bin/deno", &["deno", "run", "x.ts"])),
            ProcessRole::Other
        );
        assert!(
            is_interpreter("python3.12")
                && is_interpreter("python")
                && !is_interpreter("pythonista")
        );
    }
    #[test]
    fn short_command_form() {
        let c = |argv: &[&str]| short_command(&cmd("/x", argv));
        assert_eq!(
            c(&["/usr/bin/node", "/opt/cli.js", "-p", "hi", "more"]),
            "node /opt/cli.js -p hi"
        );
        assert_eq!(c(&[]), "x");
        assert_eq!(short_command(&cmd("", &[])), "?");
        let long = "a".repeat(100);
        assert_eq!(c(&["prog", &long]), format!("prog {}…", "a".repeat(39)));
        // 40 + 3 × 41 characters: the whole is cut to 120.
        let s = c(&[&long, &long, &long, &long]);
        assert_eq!(s.chars().count(), 120);
        assert!(s.ends_with('…'));
        // Multi-byte characters are cut on character boundaries.
        let s = c(&["é", &"é".repeat(50)]);
        assert_eq!(s.chars().count(), 42);
    }

    #[test]
    fn short_command_redacts_secrets() {
        let c = |argv: &[&str]| short_command(&cmd("/x", argv));
        assert_eq!(
            c(&["curl", "--api-key=abc123", "x"]),
            "curl --api-key=*** x"
        );
        assert_eq!(
            c(&["env", "GITHUB_TOKEN=ghp_xyz", "run"]),
            "env GITHUB_TOKEN=*** run"
        );
        assert_eq!(
            c(&["tool", "--Password", "hunter2", "x"]),
            "tool --Password *** x"
        );
        assert_eq!(c(&["tool", "-k", "x"]), "tool -k x");
        assert_eq!(
            c(&["tool", "--secret-file", "/p"]),
            "tool --secret-file ***"
        );
        assert_eq!(c(&["agent", "sk-ant-api03-zzz"]), "agent ***");
        assert_eq!(c(&["agent", "--x", "sk-live"]), "agent --x ***");
        assert_eq!(c(&["ls", "keys.txt", "a=b"]), "ls keys.txt a=b");
        // The secret is never visible even when it would have been truncated anyway.
        let long_key = format!("sk-{}", "z".repeat(80));
        assert_eq!(c(&["a", &long_key]), "a ***");
        assert!(!c(&["a", "--token", &long_key]).contains("zz"));
    }
}
