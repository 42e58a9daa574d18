//! The real Gemini CLI (npm `@google/gemini-cli`, the oldest version agentprof claims and the
//! newest on npm, both pinned in tests/agents) under `agentprof run`, against the mock upstream,
//! as a user starts it: `agentprof run -- gemini -p … --output-format json` with an API key.
//!
//! Gemini CLI reports its own token counts per model and per role (`stats.models.<m>.roles`):
//! the ground truth its roles are checked against, beside the mock's record of every call.

mod headless;
mod interactive;
mod sessions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agentprof::demo::mock_upstream::Script;
use agentprof::output::trace::{ReadTrace, read_trace};

use crate::support::{Mock, stderr};

/// The pinned Gemini CLI versions (npm aliases in tests/agents/package.json, changed with
/// `scripts/pin-agent gemini-cli oldest|newest`).
pub(crate) const OLDEST: &str = "gemini-cli-oldest";
pub(crate) const NEWEST: &str = "gemini-cli-newest";

/// The API key runs get: it must appear in no output.
pub(crate) const KEY: &str = "AIzaTEST-SECRETKEY-gemini-0123456789";

/// The installed package of the pinned Gemini CLI `pin`, checked to be `@google/gemini-cli`;
/// returns its directory and version.
pub(crate) fn gemini_package(pin: &str) -> (PathBuf, String) {
    let (dir, package) = crate::agents::pinned_package(pin, "@google/gemini-cli");
    (dir, crate::agents::version(&package))
}

/// `gemini` on a PATH of its own: a link named as users call it, to the pinned package `pin`.
pub(crate) fn gemini_bin_at(dir: &Path, pin: &str) -> PathBuf {
    let (package, _) = gemini_package(pin);
    crate::agents::link_as(dir, &package.join("bundle/gemini.js"), "gemini")
}

/// A Gemini CLI user: a `GEMINI_CLI_HOME` with the settings an API-key user has (the auth type
/// Gemini CLI's own dialog saves, no update checks or usage statistics offline), a work
/// directory, and the pinned Gemini CLI.
pub(crate) struct GeminiUser {
    dir: tempfile::TempDir,
    gemini: PathBuf,
    pub(crate) version: String,
}

/// One finished `agentprof run -- gemini …`.
pub(crate) struct Ran {
    pub(crate) stderr: String,
    /// Gemini CLI's `--output-format json` answer.
    pub(crate) answer: serde_json::Value,
    pub(crate) trace: ReadTrace,
    pub(crate) trace_path: PathBuf,
}

impl GeminiUser {
    /// A user of the pinned Gemini CLI `pin` whose settings add `extra` (merged at the top
    /// level) to the API-key basics.
    pub(crate) fn new(pin: &str, extra: serde_json::Value) -> GeminiUser {
        let dir = tempfile::tempdir().unwrap();
        let gemini = gemini_bin_at(dir.path(), pin);
        let (_, version) = gemini_package(pin);
        let user = GeminiUser {
            dir,
            gemini,
            version,
        };
        std::fs::create_dir_all(user.home().join(".gemini")).unwrap();
        std::fs::create_dir_all(user.work()).unwrap();
        let mut settings = serde_json::json!({
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "privacy": {"usageStatisticsEnabled": false},
            "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
        });
        if let (Some(base), serde_json::Value::Object(extra)) = (settings.as_object_mut(), extra) {
            base.extend(extra);
        }
        user.write_settings(&settings);
        user
    }

    /// Replaces the user's `settings.json`.
    pub(crate) fn write_settings(&self, settings: &serde_json::Value) {
        std::fs::write(
            self.home().join(".gemini/settings.json"),
            serde_json::to_string_pretty(settings).unwrap(),
        )
        .unwrap();
    }

    /// `GEMINI_CLI_HOME`.
    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Where the user works (Gemini CLI's working directory).
    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// A file beside the home and work directories.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `agentprof run --gemini-upstream <mock> --trace <trace> <run_args> -- gemini --skip-trust
    /// <args> --output-format json` in the work directory with [`KEY`]; returns the output
    /// whatever the exit status.
    pub(crate) fn command_output(
        &self,
        mock: &Mock,
        trace: &str,
        run_args: &[&str],
        args: &[&str],
    ) -> std::process::Output {
        // Bounded: a Gemini CLI that cannot reach the proxy retries with backoff for minutes.
        std::process::Command::new("timeout")
            .arg("180")
            .arg(env!("CARGO_BIN_EXE_agentprof"))
            .current_dir(self.work())
            .env("GEMINI_CLI_HOME", self.home())
            .env("GEMINI_API_KEY", KEY)
            .env_remove("GOOGLE_GEMINI_BASE_URL")
            .env_remove("GOOGLE_API_KEY")
            .env_remove("GEMINI_MODEL")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .args(["run", "--trace"])
            .arg(self.file(trace))
            .args(["--gemini-upstream", &mock.url()])
            .args(run_args)
            .arg("--")
            .arg(&self.gemini)
            .arg("--skip-trust")
            .args(args)
            .args(["--output-format", "json"])
            .output()
            .unwrap()
    }

    /// [`GeminiUser::command_output`], which must succeed.
    pub(crate) fn run(&self, mock: &Mock, trace: &str, run_args: &[&str], args: &[&str]) -> Ran {
        let output = self.command_output(mock, trace, run_args, args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = stderr(&output);
        assert!(
            output.status.success(),
            "gemini {args:?} failed:\n{stdout}\n{stderr}"
        );
        let answer: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("gemini's JSON answer: {e}\n{stdout}\n{stderr}"));
        let trace_path = self.file(trace);
        Ran {
            stderr,
            answer,
            trace: read_trace(&trace_path).unwrap(),
            trace_path,
        }
    }
}

/// Gemini CLI's own token counts, per role, added up over its models
/// (`stats.models.<model>.roles.<role>.tokens` and `.totalRequests`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RoleTokens {
    pub(crate) requests: u64,
    /// Uncached prompt tokens (`prompt − cached`).
    pub(crate) input: u64,
    pub(crate) cached: u64,
    pub(crate) candidates: u64,
    pub(crate) thoughts: u64,
    pub(crate) tool: u64,
    pub(crate) total: u64,
}

impl RoleTokens {
    /// Adds another bucket's counts.
    pub(crate) fn add(&mut self, other: &RoleTokens) {
        self.requests += other.requests;
        self.input += other.input;
        self.cached += other.cached;
        self.candidates += other.candidates;
        self.thoughts += other.thoughts;
        self.tool += other.tool;
        self.total += other.total;
    }
}

/// [`RoleTokens`] of every role in an `--output-format json` answer.
pub(crate) fn stats_roles(answer: &serde_json::Value) -> BTreeMap<String, RoleTokens> {
    let mut roles: BTreeMap<String, RoleTokens> = BTreeMap::new();
    let models = answer["stats"]["models"]
        .as_object()
        .unwrap_or_else(|| panic!("no stats.models in {answer}"));
    for model in models.values() {
        let Some(by_role) = model["roles"].as_object() else {
            panic!("no roles in {model}");
        };
        for (role, stats) in by_role {
            let n = |key: &str| stats["tokens"][key].as_u64().unwrap_or(0);
            let r = roles.entry(role.clone()).or_default();
            r.requests += stats["totalRequests"].as_u64().unwrap_or(0);
            r.input += n("input");
            r.cached += n("cached");
            r.candidates += n("candidates");
            r.thoughts += n("thoughts");
            r.tool += n("tool");
            r.total += n("total");
        }
    }
    roles
}

/// The same counts of an agentprof usage bucket (report JSON), in Gemini CLI's terms.
pub(crate) fn as_role_tokens(bucket: &serde_json::Value) -> RoleTokens {
    let n = |key: &str| bucket[key].as_u64().unwrap_or(0);
    RoleTokens {
        requests: n("requests"),
        input: n("input_tokens") - n("tool_use_input_tokens"),
        cached: n("cache_read_input_tokens"),
        candidates: n("output_tokens") - n("reasoning_output_tokens"),
        thoughts: n("reasoning_output_tokens"),
        tool: n("tool_use_input_tokens"),
        total: n("input_tokens") + n("cache_read_input_tokens") + n("output_tokens"),
    }
}

/// What the category of each Gemini CLI role is (docs/attribution.md).
pub(crate) fn category_of_role(role: &str) -> &'static str {
    match role {
        "main" => "user_turn",
        "subagent" => "subagent",
        "utility_compressor" => "compaction",
        r if r.starts_with("utility_") => "utility",
        other => panic!("a role this test does not know: {other}"),
    }
}

/// A mock script from JSON.
pub(crate) fn script(json: serde_json::Value) -> Script {
    serde_json::from_value(json).unwrap()
}

/// `agentprof report --json` of a trace.
pub(crate) fn report(trace: &Path, extra: &[&str]) -> serde_json::Value {
    let output = crate::support::agentprof()
        .arg("report")
        .arg(trace)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `agentprof import gemini --by project` of the user's home: one row, the directory Gemini
/// CLI ran in — named by its root, which the slug registry of both pinned versions records
/// (`projects.json`, `.project_root`).
fn assert_one_project_row(user: &GeminiUser) {
    let (rows, _) = crate::support::import_json("gemini", &user.home(), &["--by", "project"]);
    let keys: Vec<&str> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    let root = std::fs::canonicalize(user.work()).unwrap();
    assert_eq!(keys, [root.to_str().unwrap()]);
}

/// `agentprof import gemini` of the user's home equals what the proxy saw of the calls Gemini
/// CLI records in its chat files — the main loop (`user_turn`) and sub-agents (`subagent`), per
/// category and per session — and records none of the rest (utility, compaction), as its report
/// says.
pub(crate) fn assert_import_matches_the_proxy(user: &GeminiUser, runs: &[&Ran]) {
    let (import, _) = crate::support::import_json("gemini", &user.home(), &[]);
    let mut proxy: BTreeMap<(String, String), RoleTokens> = BTreeMap::new();
    for ran in runs {
        let report = report(&ran.trace_path, &[]);
        let session = ran.answer["session_id"].as_str().unwrap().to_string();
        for category in ["user_turn", "subagent"] {
            let t = as_role_tokens(&report["categories"][category]);
            let sum = proxy
                .entry((session.clone(), category.to_string()))
                .or_default();
            sum.requests += t.requests;
            sum.input += t.input;
            sum.cached += t.cached;
            sum.candidates += t.candidates;
            sum.thoughts += t.thoughts;
            sum.tool += t.tool;
            sum.total += t.total;
        }
    }
    // A resumed session is the same session: per category, the import's total is every run's.
    let mut per_category: BTreeMap<String, RoleTokens> = BTreeMap::new();
    for ((_, category), t) in &proxy {
        per_category.entry(category.clone()).or_default().add(t);
    }
    for (category, expected) in &per_category {
        assert_eq!(
            as_role_tokens(&import["categories"][category]),
            *expected,
            "import vs proxy, {category}"
        );
    }
    for category in [
        "utility",
        "compaction",
        "memory_extraction",
        "dream",
        "away_summary",
    ] {
        assert_eq!(import["categories"][category]["requests"], 0, "{category}");
    }
    let sessions: std::collections::BTreeSet<&str> = runs
        .iter()
        .map(|r| r.answer["session_id"].as_str().unwrap())
        .collect();
    let imported: std::collections::BTreeSet<&str> = import["sessions"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(imported, sessions);
    assert_one_project_row(user);
    let said = import["assumptions"].to_string();
    assert!(
        said.contains("router"),
        "the import says what it misses: {said}"
    );
    // The tables say it in Gemini CLI's terms.
    let text = crate::support::agentprof()
        .args(["import", "gemini"])
        .arg(user.home())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Classified from the chat files:") && text.contains("sub-agent chat files"),
        "{text}"
    );
}
