//! The real opencode (npm `opencode-ai`, the oldest version agentprof claims and the newest on
//! npm, both pinned in tests/agents) under `agentprof run`, against the mock upstream, as a user
//! starts it: `agentprof run -- opencode run "…"` with an API key. agentprof points it at the
//! proxy through `OPENCODE_CONFIG_CONTENT` (merged over the user's config, which is left alone);
//! its title call is `utility`, its task-tool sub-agent `subagent` with its own session as the
//! agent id, and every call's tokens equal the mock's record.

use std::path::PathBuf;

use agentprof::demo::mock_upstream::{MockConfig, Script};
use agentprof::observation::Category;

use crate::support::{Mock, stderr};

pub(crate) const OLDEST: &str = "opencode-oldest";
pub(crate) const NEWEST: &str = "opencode-newest";
const KEY: &str = "sk-ant-test-SECRETKEY-opencode-0123456789";

/// The pinned opencode `pin`'s native binary (opencode's postinstall links it in place) and
/// its version.
fn opencode_package(pin: &str) -> (PathBuf, String) {
    let (dir, package) = crate::agents::pinned_package(pin, "opencode-ai");
    (
        dir.join("bin/opencode.exe"),
        crate::agents::version(&package),
    )
}

#[test]
fn readme_names_the_pinned_opencode_versions() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    for pin in [OLDEST, NEWEST] {
        let (bin, version) = opencode_package(pin);
        assert!(
            readme.contains(&format!("**{version}**")),
            "README.md does not name opencode {version} (the {pin} pin)"
        );
        let output = std::process::Command::new(&bin)
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), version);
    }
}

#[test]
fn opencode_run_with_a_sub_agent_is_exact_on_the_oldest_pinned_opencode() {
    opencode_run_with_a_sub_agent(OLDEST);
}

#[test]
fn opencode_run_with_a_sub_agent_is_exact_on_the_newest_pinned_opencode() {
    opencode_run_with_a_sub_agent(NEWEST);
}

fn opencode_run_with_a_sub_agent(pin: &str) {
    let mock = delegating_mock();
    let user = OpencodeUser::new(pin);
    let home = user.home();
    // The user's own config, which must stay as it is.
    let config = home.join(".config/opencode/opencode.json");
    let mine = r#"{"$schema": "https://opencode.ai/config.json", "share": "disabled"}"#;
    std::fs::write(&config, mine).unwrap();
    let (read, err) = user.run(
        &mock,
        "trace.jsonl",
        &["opencode", "run", "please delegate this"],
    );
    let trace = user.dir.path().join("trace.jsonl");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), mine);

    let trace_text = std::fs::read_to_string(&trace).unwrap();
    assert!(!trace_text.contains(KEY) && !err.contains(KEY));
    let calls: Vec<_> = read.calls.iter().filter(|c| c.is_model_call()).collect();
    let records = mock.records();
    let served: Vec<_> = records.iter().filter(|r| r.response_id.is_some()).collect();
    assert_eq!(calls.len(), served.len(), "{calls:#?}");
    for record in &served {
        let call = calls
            .iter()
            .find(|c| c.response_id == record.response_id)
            .unwrap_or_else(|| panic!("no trace record for {record:?}"));
        assert_eq!(call.usage, record.usage);
    }
    // Title, the main loop's call that starts the sub-agent, the sub-agent, the main loop again.
    let by = |category: Category| calls.iter().filter(|c| c.category == category).count();
    assert_eq!(by(Category::Utility), 1, "{calls:#?}");
    assert_eq!(by(Category::UserTurn), 2, "{calls:#?}");
    assert_eq!(by(Category::Subagent), 1, "{calls:#?}");
    let title = calls
        .iter()
        .find(|c| c.category == Category::Utility)
        .unwrap();
    assert_eq!(title.classified_by, "rule:opencode-title");
    let main = calls
        .iter()
        .find(|c| c.category == Category::UserTurn)
        .unwrap();
    let sub = calls
        .iter()
        .find(|c| c.category == Category::Subagent)
        .unwrap();
    assert_eq!(sub.classified_by, "rule:opencode-subagent");
    assert!(main.session_id.is_some());
    assert_eq!(sub.session_id, main.session_id, "the parent's session");
    assert!(sub.agent_id.is_some() && sub.agent_id != main.session_id);
    assert_eq!(calls.iter().filter(|c| c.starts_turn).count(), 1);

    // The database opencode wrote holds every call but the title: its import equals the
    // proxy's figures for them, per category.
    let (import, _) =
        crate::support::import_json("opencode", &home.join(".local/share/opencode"), &[]);
    let report = crate::support::report_json_of(&trace);
    crate::support::assert_no_findings(&report);
    for category in ["user_turn", "subagent"] {
        for field in [
            "requests",
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ] {
            assert_eq!(
                import["categories"][category][field], report["categories"][category][field],
                "{category} {field}"
            );
        }
    }
    assert_eq!(import["categories"]["utility"]["requests"], 0);
    assert!(import["assumptions"].to_string().contains("title"));
    // Every call, the sub-agent's too, is in the directory opencode ran in.
    let (rows, _) = crate::support::import_json(
        "opencode",
        &home.join(".local/share/opencode"),
        &["--by", "project"],
    );
    let work = user.work();
    let rows = rows["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["key"], work.to_str().unwrap(), "{rows:?}");
    assert_eq!(
        rows[0]["totals"]["requests"], import["totals"]["requests"],
        "{rows:?}"
    );
}

#[test]
fn opencode_compaction_is_compaction_on_the_newest_pinned_opencode() {
    opencode_compaction(NEWEST);
}

#[test]
fn opencode_compaction_is_compaction_on_the_oldest_pinned_opencode() {
    opencode_compaction(OLDEST);
}

/// A session with a title call and a sub-agent, then compacted as `/compact` does it (the
/// server's `POST /session/{id}/summarize`, which `opencode run` cannot send): the summary call
/// is `compaction` by its prompt, in the session it compacts, its tokens the mock's; and the
/// database opencode wrote imports to what the proxy saw of every call but the title.
fn opencode_compaction(pin: &str) {
    let mock = delegating_mock();
    let user = OpencodeUser::new(pin);
    let (first, _) = user.run(
        &mock,
        "first.jsonl",
        &["opencode", "run", "please delegate this"],
    );
    let session = first
        .calls
        .iter()
        .find_map(|c| c.session_id.clone())
        .expect("opencode names its session");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let work = user.work().display().to_string();
    let script = format!(
        r#"opencode serve --port {port} --hostname 127.0.0.1 & server=$!
for i in $(seq 100); do curl -s --max-time 2 -o /dev/null http://127.0.0.1:{port}/session && break; sleep 0.2; done
curl -sS -X POST "http://127.0.0.1:{port}/session/{session}/summarize?directory={work}" \
  -H 'content-type: application/json' -d '{{"providerID":"anthropic","modelID":"claude-sonnet-4-6"}}'
status=$?
kill $server; wait $server 2>/dev/null
exit $status"#
    );
    let (second, _) = user.run(&mock, "second.jsonl", &["sh", "-c", &script]);
    let compactions: Vec<_> = second.calls.iter().filter(|c| c.is_model_call()).collect();
    assert_eq!(compactions.len(), 1, "{compactions:#?}");
    let call = compactions[0];
    assert_eq!(call.category, Category::Compaction, "{call:?}");
    assert!(call.classified_by.starts_with("rule:opencode-compaction"));
    assert_eq!(call.session_id.as_deref(), Some(session.as_str()));
    let record = mock
        .records()
        .into_iter()
        .find(|r| r.response_id == call.response_id)
        .unwrap();
    assert_eq!(call.usage, record.usage);

    let (import, _) =
        crate::support::import_json("opencode", &user.home().join(".local/share/opencode"), &[]);
    let reports = [
        crate::support::report_json_of(&user.dir.path().join("first.jsonl")),
        crate::support::report_json_of(&user.dir.path().join("second.jsonl")),
    ];
    for category in ["user_turn", "subagent", "compaction"] {
        for field in [
            "requests",
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ] {
            let proxy: u64 = reports
                .iter()
                .map(|r| r["categories"][category][field].as_u64().unwrap())
                .sum();
            assert_eq!(
                import["categories"][category][field], proxy,
                "{category} {field}"
            );
        }
    }
    assert_eq!(import["categories"]["subagent"]["requests"], 1);
    assert_eq!(import["categories"]["compaction"]["requests"], 1);
}

/// A mock whose main loop starts a task-tool sub-agent when asked to delegate.
fn delegating_mock() -> Mock {
    let script: Script = serde_json::from_value(serde_json::json!({"rules": [
        {"when": {"has_tool": "task", "last_user_text_contains": "delegate"},
         "respond": {"tool_use": {"name": "task", "input": {
             "description": "sub job", "prompt": "SUBTASK: say hello", "subagent_type": "general"}}}}
    ]}))
    .unwrap();
    Mock::start_with(MockConfig {
        script: Some(script),
        ..MockConfig::default()
    })
}

/// An opencode user: a home (XDG dirs inside), a work directory and the pinned opencode on a
/// PATH of its own.
struct OpencodeUser {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl OpencodeUser {
    fn new(pin: &str) -> OpencodeUser {
        let dir = tempfile::tempdir().unwrap();
        let (package, _) = opencode_package(pin);
        let link = crate::agents::link_as(dir.path(), &package, "opencode");
        std::fs::create_dir_all(dir.path().join("home/.config/opencode")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        OpencodeUser {
            bin: link.parent().unwrap().to_path_buf(),
            dir,
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// `agentprof run --anthropic-upstream <mock> --trace <trace> -- <command>` with opencode on
    /// the PATH (bounded: opencode retries a call that fails, forever); must succeed. Returns
    /// the trace and what agentprof printed on stderr.
    fn run(
        &self,
        mock: &Mock,
        trace: &str,
        command: &[&str],
    ) -> (agentprof::output::trace::ReadTrace, String) {
        let home = self.home();
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let trace = self.dir.path().join(trace);
        let output = std::process::Command::new("timeout")
            .arg("180")
            .arg(env!("CARGO_BIN_EXE_agentprof"))
            .current_dir(self.work())
            // As a shell sets it: opencode records `$PWD` (not the process's cwd) as the
            // session's directory.
            .env("PWD", self.work())
            .env("PATH", path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("ANTHROPIC_API_KEY", KEY)
            .env("OPENCODE_DISABLE_MODELS_FETCH", "1")
            .env_remove("ANTHROPIC_BASE_URL")
            .env_remove("OPENCODE_CONFIG_CONTENT")
            .args(["run", "--trace"])
            .arg(&trace)
            .args(["--anthropic-upstream", &mock.url(), "--"])
            .args(command)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{command:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        );
        (
            agentprof::output::trace::read_trace(&trace).unwrap(),
            stderr(&output),
        )
    }
}

#[test]
fn interactive_opencode_shows_its_turns_and_its_title_on_the_oldest_pinned_opencode() {
    interactive_opencode(OLDEST);
}

#[test]
fn interactive_opencode_shows_its_turns_and_its_title_on_the_newest_pinned_opencode() {
    interactive_opencode(NEWEST);
}

/// opencode's terminal UI in a real terminal (tmux): two prompts typed, then `/exit`. Two
/// turns in one session, the title call `utility`, every call exact.
fn interactive_opencode(pin: &str) {
    use std::time::Duration;

    use crate::tmux::Tmux;
    const PROMPTS: [&str; 2] = ["say hello in one line", "and now goodbye"];
    let mock = Mock::start();
    let user = OpencodeUser::new(pin);
    let home = user.home();
    let trace = user.dir.path().join("trace.jsonl");
    let env = [
        ("HOME", home.display().to_string()),
        (
            "XDG_CONFIG_HOME",
            home.join(".config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME",
            home.join(".local/share").display().to_string(),
        ),
        ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
        (
            "XDG_STATE_HOME",
            home.join(".local/state").display().to_string(),
        ),
        ("PATH", std::env::var("PATH").unwrap()),
        ("TERM", "xterm-256color".to_string()),
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("OPENCODE_DISABLE_MODELS_FETCH", "1".to_string()),
    ];
    let command: Vec<String> = vec![
        env!("CARGO_BIN_EXE_agentprof").into(),
        "run".into(),
        "--trace".into(),
        trace.display().to_string(),
        "--anthropic-upstream".into(),
        mock.url(),
        "--".into(),
        user.bin.join("opencode").display().to_string(),
    ];
    let tmux = Tmux::start(user.dir.path(), &user.work(), &env, &command);
    tmux.wait("opencode's prompt", Duration::from_secs(60), |t| {
        t.pane().contains("Ask anything")
    });
    for (i, prompt) in PROMPTS.iter().enumerate() {
        // Each answer ends with a ▣ line naming the agent and model, once the main loop's call
        // (the one offering tools; the title has none) was answered.
        let answered = |t: &Tmux| {
            mock.records().iter().filter(|r| r.tools > 0).count() > i
                && t.pane().matches('▣').count() > i
        };
        tmux.type_text(prompt);
        std::thread::sleep(Duration::from_millis(600));
        tmux.enter();
        tmux.wait(
            &format!("the answer to {prompt:?}"),
            Duration::from_secs(60),
            answered,
        );
    }
    tmux.type_text("/exit");
    std::thread::sleep(Duration::from_millis(1000));
    tmux.enter();
    tmux.wait("agentprof to exit", Duration::from_secs(60), |t| {
        t.exit_code().is_some()
    });
    assert_eq!(tmux.exit_code(), Some(0), "screen:\n{}", tmux.pane());

    let read = agentprof::output::trace::read_trace(&trace).unwrap();
    let calls: Vec<_> = read.calls.iter().filter(|c| c.is_model_call()).collect();
    let records = mock.records();
    for call in &calls {
        let record = records
            .iter()
            .find(|r| r.response_id == call.response_id)
            .unwrap_or_else(|| panic!("not sent by the mock: {call:?}"));
        assert_eq!(call.usage, record.usage);
    }
    let by = |category: Category| calls.iter().filter(|c| c.category == category).count();
    assert_eq!(by(Category::UserTurn), PROMPTS.len(), "{calls:#?}");
    assert_eq!(by(Category::Utility), 1, "the title: {calls:#?}");
    assert_eq!(calls.len(), PROMPTS.len() + 1);
    let report = crate::support::report_json_of(&trace);
    crate::support::assert_no_findings(&report);
    assert_eq!(report["turns"].as_array().unwrap().len(), PROMPTS.len());
    assert_eq!(report["sessions"].as_object().unwrap().len(), 1);
    assert!(!std::fs::read_to_string(&trace).unwrap().contains(KEY));
}
