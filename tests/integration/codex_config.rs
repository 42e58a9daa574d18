//! A Codex configured for a model provider of its own (a gateway): agentprof's override reaches
//! only the built-in `openai` provider, so `run` says so before the run, and the way it
//! suggests measures the calls. The user's `config.toml` is never written.

use crate::codex::{NEWEST, OLDEST};
use crate::codex_user::{CodexUser, KEY};
use crate::support::Mock;

/// A `config.toml` that sends Codex's calls to a provider `gw` at the mock.
fn gateway_config(mock: &Mock) -> String {
    format!(
        "model_provider = \"gw\"\n\n[model_providers.gw]\nname = \"gw\"\nbase_url = \"{}/v1\"\n\
         env_key = \"OPENAI_API_KEY\"\nwire_api = \"responses\"\n",
        mock.url()
    )
}

/// `agentprof run --no-agent-telemetry <run_args> -- codex <codex_args> exec "say hi"`: what
/// it printed and the trace as text.
fn say_hi(
    user: &CodexUser,
    trace: &str,
    run_args: &[&str],
    codex_args: &[&str],
) -> (String, String) {
    let run_args: Vec<String> = ["--no-agent-telemetry"]
        .iter()
        .chain(run_args)
        .map(|a| a.to_string())
        .collect();
    let codex: Vec<&str> = codex_args
        .iter()
        .copied()
        .chain(["exec", "--skip-git-repo-check", "say hi"])
        .collect();
    let ran = user.run(&run_args, Some(KEY), trace, &codex);
    (ran.stderr, ran.trace_text)
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
    let user = CodexUser::new(pin);
    let config = gateway_config(&mock);
    std::fs::write(user.home().join("config.toml"), &config).unwrap();

    // As is: Codex talks to its gateway directly, and the user is told before anything runs.
    let (err, _) = say_hi(&user, "as-is.jsonl", &[], &[]);
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
    let listen = format!("127.0.0.1:{port}");
    let run_args = ["--listen", &listen, "--openai-upstream", &mock.url()];
    let base_url = format!("model_providers.gw.base_url=\"http://127.0.0.1:{port}/openai/v1\"");
    let (err, trace) = say_hi(&user, "measured.jsonl", &run_args, &["-c", &base_url]);
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
        std::fs::read_to_string(user.home().join("config.toml")).unwrap(),
        config
    );
}
