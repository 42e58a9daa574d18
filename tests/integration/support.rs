//! Shared test plumbing: the mock upstream on a loopback port, the agentprof binary, the
//! Python interpreter with the official SDKs, and trace reading.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use agentprof::demo::import_truth::{CallTally, Tokens};
use agentprof::demo::mock_upstream::{MockConfig, MockRecord, MockUpstream};
use agentprof::output::trace::{ReadTrace, read_trace};

/// The mock upstream, running on its own runtime for the duration of a test.
pub struct Mock {
    runtime: tokio::runtime::Runtime,
    mock: Option<MockUpstream>,
}

impl Mock {
    pub fn start() -> Mock {
        Mock::start_with(MockConfig::default())
    }

    pub fn start_with(config: MockConfig) -> Mock {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mock = runtime
            .block_on(MockUpstream::start(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                config,
            ))
            .unwrap();
        Mock {
            runtime,
            mock: Some(mock),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.mock.as_ref().unwrap().addr())
    }

    pub fn records(&self) -> Vec<MockRecord> {
        self.mock.as_ref().unwrap().records()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if let Some(mock) = self.mock.take() {
            self.runtime.block_on(mock.shutdown());
        }
    }
}

/// The agentprof binary under test. Its import cache goes to a directory of the test build, never
/// the user's ~/.cache (tests of the cache give their own).
pub fn agentprof() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentprof"));
    command.env(
        "AGENTPROF_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("agentprof-cache"),
    );
    command
}

/// `agentprof run` against the mock, writing the trace into `dir`.
pub fn run_under_agentprof(mock: &Mock, dir: &Path, command: &[&str]) -> Output {
    let mut cmd = agentprof();
    cmd.arg("run")
        .arg("--trace")
        .arg(dir.join("trace.jsonl"))
        .arg("--anthropic-upstream")
        .arg(mock.url())
        .arg("--openai-upstream")
        .arg(mock.url())
        .arg("--gemini-upstream")
        .arg(mock.url())
        .arg("--sample-interval")
        .arg("50ms")
        .arg("--")
        .args(command);
    cmd.output().unwrap()
}

/// The Python interpreter with the pinned official SDKs (installed by `scripts/test`).
pub fn python() -> PathBuf {
    let path = std::env::var_os("AGENTPROF_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        path.exists(),
        "{} not found: run scripts/test, which installs the Python SDKs these tests drive",
        path.display()
    );
    path
}

/// A script under tests/python.
pub fn python_script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
        .display()
        .to_string()
}

pub fn trace(dir: &Path) -> ReadTrace {
    read_trace(&dir.join("trace.jsonl")).unwrap()
}

/// `agentprof report --json` of `dir/trace.jsonl`, parsed.
///
/// Every caller runs a real agent, SDK or demo that neither leaks nor idles: a finding in its
/// report is a false positive, and fails the test.
pub fn report_json(dir: &Path) -> serde_json::Value {
    let report = report_json_of(&dir.join("trace.jsonl"));
    assert_no_findings(&report);
    report
}

/// A report of a real agent's normal run: any finding in it is a false positive.
pub fn assert_no_findings(report: &serde_json::Value) {
    assert_eq!(
        report["findings"],
        serde_json::json!([]),
        "a finding on a normal run is a false positive"
    );
}

/// `agentprof report --json TRACE`.
pub fn report_json_of(trace: &Path) -> serde_json::Value {
    report_json_with(trace, &[])
}

/// `agentprof report --json TRACE FLAGS…`.
pub fn report_json_with(trace: &Path, flags: &[&str]) -> serde_json::Value {
    let output = agentprof()
        .args(["report", "--json"])
        .arg(trace)
        .args(flags)
        .output()
        .unwrap();
    assert!(output.status.success(), "report: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Everything agentprof wrote or printed for a run: trace, log, stdout, stderr.
pub fn all_outputs(dir: &Path, output: &Output) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `agentprof import <agent> DIR --json …`: the JSON (all of stdout) and the run, which must
/// succeed.
pub fn import_json(agent: &str, dir: &Path, extra: &[&str]) -> (serde_json::Value, Output) {
    // Days (and --since) are read in the system's time zone unless told: these tests' ground
    // truths count UTC days, whatever zone the machine running them is in.
    let output = agentprof()
        .args(["import", agent])
        .arg(dir)
        .arg("--json")
        .args(extra)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}"));
    (json, output)
}

/// Every category of a report's JSON has exactly the tokens by type of `truth` (by category
/// name; a category missing there must have none).
pub fn assert_categories_equal(
    report: &serde_json::Value,
    truth: &std::collections::BTreeMap<String, agentprof::observation::Usage>,
) {
    for category in agentprof::observation::Category::ALL {
        let bucket = &report["categories"][category.as_str()];
        let truth = truth.get(category.as_str()).copied().unwrap_or_default();
        assert_eq!(bucket["input_tokens"], truth.input_tokens, "{category}");
        assert_eq!(bucket["output_tokens"], truth.output_tokens, "{category}");
        assert_eq!(
            bucket["cache_creation_input_tokens"], truth.cache_creation_input_tokens,
            "{category}"
        );
        assert_eq!(
            bucket["cache_read_input_tokens"], truth.cache_read_input_tokens,
            "{category}"
        );
    }
}

/// `agentprof report --json TRACE` gives the figures of `report` (an import's JSON); returns
/// the report of the trace.
pub fn assert_trace_reports_the_same(
    trace: &Path,
    report: &serde_json::Value,
) -> serde_json::Value {
    let again = agentprof()
        .arg("report")
        .arg(trace)
        .arg("--json")
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    for key in [
        "totals",
        "categories",
        "models",
        "sessions",
        "subagent_types",
        "turns",
        "kv",
        "overhead_ratio",
        "classification",
    ] {
        assert_eq!(again[key], report[key], "{key}");
    }
    again
}

/// A report bucket's requests and tokens by type.
pub fn tokens_of(usage: &serde_json::Value) -> [u64; 5] {
    [
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .map(|k| {
        usage[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {usage}"))
    })
}

/// A ground truth's requests and tokens by type, as [`tokens_of`] gives a report's.
pub fn truth_tokens(t: &Tokens) -> [u64; 5] {
    [
        t.requests,
        t.input_tokens,
        t.output_tokens,
        t.cache_creation_input_tokens,
        t.cache_read_input_tokens,
    ]
}

/// An import's JSON report counts what the generator's ground truth tallied: the totals, and
/// every bucket of `categories`, `sessions`, `models` and `subagent_types` (no more, no fewer)
/// by requests and tokens by type, and the turns.
pub fn assert_report_matches_tally(report: &serde_json::Value, tally: &CallTally) {
    assert_eq!(
        tokens_of(&report["totals"]),
        truth_tokens(&tally.totals),
        "totals"
    );
    for (key, truth) in [
        ("categories", &tally.categories),
        ("sessions", &tally.sessions),
        ("models", &tally.models),
        ("subagent_types", &tally.subagent_types),
    ] {
        let buckets = report[key]
            .as_object()
            .unwrap_or_else(|| panic!("{key} in {report}"));
        assert_eq!(buckets.len(), truth.len(), "{key}");
        for (name, tokens) in truth {
            assert_eq!(
                tokens_of(&report[key][name]),
                truth_tokens(tokens),
                "{key} {name}"
            );
        }
    }
    assert_eq!(
        report["turns"].as_array().map(|turns| turns.len() as u64),
        Some(tally.turns),
        "turns"
    );
}

/// `agentprof GENERATOR --out DIR --size-mb N --seed S EXTRA…` (gen-transcripts,
/// gen-codex-rollouts, gen-gemini-chats); returns the ground truth it wrote.
pub fn generate_history<T: serde::de::DeserializeOwned>(
    generator: &str,
    dir: &Path,
    size_mb: &str,
    seed: u64,
    extra: &[&str],
) -> T {
    let output = agentprof()
        .args([generator, "--out"])
        .arg(dir)
        .args(["--size-mb", size_mb, "--seed", &seed.to_string()])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&std::fs::read(dir.join("ground-truth.json")).unwrap()).unwrap()
}

/// `agentprof import AGENT DIR --since` the history's second day leaves out the calls before
/// it, and says how many.
pub fn assert_since_leaves_out_the_calls_before(agent: &str, dir: &Path, tally: &CallTally) {
    let (first_day, after) = tally.calls_since.iter().nth(1).unwrap();
    let (since, _) = import_json(agent, dir, &["--since", first_day]);
    assert_eq!(since["totals"]["requests"], *after);
    assert_eq!(
        since["import"]["calls_before_since"].as_u64().unwrap(),
        tally.totals.requests - after
    );
}

/// The pinned ccusage (tests/ccusage), the reference peer of the imports.
pub fn ccusage() -> PathBuf {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ccusage/node_modules/.bin/ccusage");
    assert!(
        path.exists(),
        "{} not found: run scripts/test, which installs the pinned ccusage with npm",
        path.display()
    );
    path
}

/// `ccusage <agent> daily --json --offline --timezone UTC` with `var` (where ccusage looks for
/// that agent's files) set to `dir` and an empty `HOME`: its `totals`.
pub fn ccusage_totals(agent: &str, var: &str, dir: &Path) -> serde_json::Value {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(ccusage())
        .args([agent, "daily", "--json", "--offline", "--timezone", "UTC"])
        .env("HOME", home.path())
        .env(var, dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "ccusage: {}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json["totals"].clone()
}

/// The calls a synthetic agent `command` made under `agentprof run`, as the mock recorded
/// them: truth category, model, usage (for checking that a seed decides them all).
pub fn synthetic_agent_calls(
    command: &[String],
) -> Vec<(
    Option<String>,
    Option<String>,
    Option<agentprof::observation::Usage>,
)> {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<&str> = command.iter().map(String::as_str).collect();
    let output = run_under_agentprof(&mock, dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    mock.records()
        .into_iter()
        .map(|r| (r.truth_category, r.model, r.usage))
        .collect()
}

/// Every file below `dir`, at any depth (none when it cannot be listed).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Leak thresholds for seconds, not hours: windows of 1 s, five in a row, after 1 s of
/// warm-up — the defaults (60 s windows after 120 s) compressed about 60 times.
pub const LEAK_IN_SECONDS: [&str; 6] = [
    "--leak-warmup",
    "1",
    "--leak-window",
    "1",
    "--leak-windows",
    "5",
];
