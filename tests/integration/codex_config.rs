//! A Codex configured for a model provider of its own (a gateway): agentprof's override reaches
//! only the built-in `openai` provider, so `run` says so before the run, and the way it
//! suggests measures the calls. The user's `config.toml` is never written.

use std::path::Path;

use crate::codex::{NEWEST, OLDEST, codex_bin_at};
use crate::support::{Mock, stderr};

/// A `config.toml` that sends Codex's calls to a provider `gw` at the mock.
fn gateway_config(mock: &Mock) -> String {
    format!(
        "model_provider = \"gw\"\n\n[model_providers.gw]\nname = \"gw\"\nbase_url = \"{}/v1\"\n\
         env_key = \"OPENAI_API_KEY\"\nwire_api = \"responses\"\n",
        mock.url()
    )
}

fn run(
    pin: &str,
    dir: &Path,
    home: &Path,
    run_args: &[String],
    codex_args: &[&str],
) -> (String, String) {
    let codex = codex_bin_at(dir, pin);
    let output = std::process::Command::new("timeout")
        .arg("180")
        .arg(env!("CARGO_BIN_EXE_agentprof"))
        .current_dir(dir)
        .env("CODEX_HOME", home)
        .env("OPENAI_API_KEY", "sk-test-codex-config")
        .args(["run", "--no-agent-telemetry", "--trace"])
        .arg(dir.join("trace.jsonl"))
        .args(run_args)
        .arg("--")
        .arg(&codex)
        .args(codex_args)
        .args(["exec", "--skip-git-repo-check", "say hi"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let trace = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    (stderr(&output), trace)
}

#[test]
fn a_codex_provider_of_its_own_is_named_and_the_suggested_way_measures_it_on_the_oldest_pinned_codex()
 {
    a_codex_provider_of_its_own_is_named_and_the_suggested_way_measures_it(OLDEST);
}

#[test]
fn a_codex_provider_of_its_own_is_named_and_the_suggested_way_measures_it_on_the_newest_pinned_codex()
 {
    a_codex_provider_of_its_own_is_named_and_the_suggested_way_measures_it(NEWEST);
}

fn a_codex_provider_of_its_own_is_named_and_the_suggested_way_measures_it(pin: &str) {
    let mock = Mock::start();
    let home = tempfile::tempdir().unwrap();
    let config = gateway_config(&mock);
    std::fs::write(home.path().join("config.toml"), &config).unwrap();

    // As is: Codex talks to its gateway directly, and the user is told before anything runs.
    let dir = tempfile::tempdir().unwrap();
    let (err, _) = run(pin, dir.path(), home.path(), &[], &[]);
    assert!(
        err.contains("Codex is set to use the model provider \"gw\"")
            && err.contains("are not measured"),
        "{err}"
    );
    assert!(err.contains("agentprof: 0 model calls"), "{err}");
    let served = mock.records().len();
    assert!(served > 0, "Codex reached its gateway itself");

    // The suggested way: a fixed port, the gateway as upstream, the provider pointed at the
    // proxy for this run. Every call is then measured, and nothing is said.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let run_args = [
        "--listen".to_string(),
        format!("127.0.0.1:{port}"),
        "--openai-upstream".to_string(),
        mock.url(),
    ];
    let base_url = format!("model_providers.gw.base_url=\"http://127.0.0.1:{port}/openai/v1\"");
    let (err, trace) = run(pin, dir.path(), home.path(), &run_args, &["-c", &base_url]);
    assert!(!err.contains("Codex is set to use"), "{err}");
    let model_calls = mock.records()[served..]
        .iter()
        .filter(|r| r.path.ends_with("/responses") && r.usage.is_some())
        .count();
    assert!(model_calls > 0);
    assert!(
        err.contains(&format!("agentprof: {model_calls} model calls (0 errors)")),
        "{err}"
    );
    assert!(trace.contains("rule:codex-main-loop"));
    assert_eq!(
        std::fs::read_to_string(home.path().join("config.toml")).unwrap(),
        config
    );
}
