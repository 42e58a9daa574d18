//! What the terminal sees: `--json` is the only thing on stdout, colour only on a terminal
//! and never with `NO_COLOR`, and `completions` scripts that their shells accept.

use std::process::Command;

use serde_json::Value;

use crate::html_report::{ok, sample_trace};
use crate::support::stderr;

/// stdout holds exactly one JSON document (and nothing before or after it).
fn one_json_document(stdout: &[u8]) -> Value {
    let mut docs = serde_json::Deserializer::from_slice(stdout).into_iter::<Value>();
    let first = docs
        .next()
        .expect("a JSON document on stdout")
        .expect("stdout is JSON");
    assert!(docs.next().is_none(), "more than one document on stdout");
    first
}

#[test]
fn json_output_is_never_mixed_with_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let trace = sample_trace();
    let trace = trace.to_str().unwrap();
    let report = ok(&["report", trace, "--json"]);
    assert_eq!(
        one_json_document(&report.stdout)["schema"],
        "agentprof.report/v1"
    );

    let html = dir.path().join("html");
    let with_html = ok(&["report", trace, "--json", "--html", html.to_str().unwrap()]);
    assert_eq!(
        one_json_document(&with_html.stdout),
        one_json_document(&report.stdout)
    );
    assert!(
        stderr(&with_html).contains("index.html"),
        "the page is announced on stderr"
    );

    let transcripts = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude_code_2.1.197/transcripts");
    let out = dir.path().join("import.jsonl");
    let import = ok(&[
        "import",
        "claude-code",
        transcripts.to_str().unwrap(),
        "--json",
        "--trace",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        one_json_document(&import.stdout)["schema"],
        "agentprof.report/v1"
    );
    assert!(
        stderr(&import).contains("import.jsonl"),
        "the trace is announced on stderr"
    );

    let simulate = ok(&[
        "simulate",
        "--preset",
        "swarm",
        "--set",
        "sessions=2",
        "--set",
        "days=1",
        "--json",
        "--html",
        dir.path().join("sim").to_str().unwrap(),
    ]);
    assert_eq!(
        one_json_document(&simulate.stdout)["schema"],
        "agentprof.simulation/v1"
    );
}

/// Runs agentprof under a pseudo-terminal (`script`, util-linux), so stdout is a terminal.
fn on_a_terminal(args: &str, no_color: Option<&str>) -> String {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_agentprof"));
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR");
    if let Some(value) = no_color {
        script.env("NO_COLOR", value);
    }
    let output = script
        .output()
        .expect("`script` (util-linux) runs a command on a terminal; scripts/test installs it");
    assert!(output.status.success(), "{args}: {}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let trace = sample_trace();
    let args = format!("report {}", trace.display());
    let piped = ok(&["report", trace.to_str().unwrap()]);
    assert!(!piped.stdout.contains(&0x1b), "no escape codes into a pipe");

    let coloured = on_a_terminal(&args, None);
    assert!(coloured.contains("user_turn"));
    // user_turn in its chart colour (#4E79A7 as 24-bit ANSI), headers bold.
    assert!(coloured.contains("\u{1b}[38;2;78;121;167m"), "{coloured:?}");
    assert!(coloured.contains("\u{1b}[1m"));

    let plain = on_a_terminal(&args, Some("1"));
    assert!(plain.contains("user_turn"));
    assert!(!plain.contains('\u{1b}'), "NO_COLOR=1: {plain:?}");
}

#[test]
fn completions_are_scripts_their_shells_accept() {
    let bash = ok(&["completions", "bash"]);
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(script.contains("agentprof") && script.contains("simulate"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agentprof.bash");
    std::fs::write(&file, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(check.status.success(), "bash -n: {}", stderr(&check));
    // Sourced, it registers a completion for agentprof.
    let registered = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p agentprof",
            file.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&registered.stdout).contains("agentprof"),
        "{}",
        stderr(&registered)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = ok(&["completions", shell]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("report"),
            "{shell}: no subcommands"
        );
    }
    let bad = crate::support::agentprof()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
