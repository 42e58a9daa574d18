//! Running agentprof for these tests, and the figures they expect, computed from the trace.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Output;

use agentprof::attribute::kv::KvProfile;
use agentprof::observation::{Call, Usage};
use agentprof::output::trace::ReadTrace;

use crate::support::{Mock, agentprof, python, python_script};

/// Variables of the developer's shell that would change where or whether agentprof exports.
const OTEL_VARS: [&str; 8] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_METRICS_EXPORTER",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "CLAUDE_CODE_ENABLE_TELEMETRY",
];

/// `agentprof run -- COMMAND` against the mock; `otlp` adds `--otlp-endpoint`, with a 500 ms
/// export interval.
pub fn run(
    mock: &Mock,
    dir: &Path,
    otlp: Option<&str>,
    env: &[(&str, &str)],
    command: &[String],
) -> Output {
    let mut cmd = agentprof();
    cmd.arg("run")
        .arg("--trace")
        .arg(dir.join("trace.jsonl"))
        .arg("--anthropic-upstream")
        .arg(mock.url())
        .arg("--openai-upstream")
        .arg(mock.url())
        .arg("--sample-interval")
        .arg("50ms");
    if let Some(url) = otlp {
        cmd.arg("--otlp-endpoint").arg(url);
    }
    for var in OTEL_VARS {
        cmd.env_remove(var);
    }
    cmd.env("OTEL_METRIC_EXPORT_INTERVAL", "500")
        .envs(env.iter().copied())
        .arg("--")
        .args(command);
    cmd.output().unwrap()
}

/// `sh -c SHELL` with the interpreter as `$0`, then the anthropic script and its output file as
/// `$1 $2`, the openai ones as `$3 $4`.
pub fn sdk_clients(dir: &Path, shell: &str) -> Vec<String> {
    let mut command = vec!["sh".to_string(), "-c".to_string(), shell.to_string()];
    command.push(python().display().to_string());
    command.push(python_script("anthropic_client.py"));
    command.push(dir.join("seen_anthropic.json").display().to_string());
    command.push(python_script("openai_client.py"));
    command.push(dir.join("seen_openai.json").display().to_string());
    command
}

/// Both SDK scripts, one after the other.
pub const BOTH_CLIENTS: &str = r#""$0" "$1" "$2" && "$0" "$3" "$4""#;

pub fn total(usages: impl Iterator<Item = Usage>) -> Usage {
    let mut sum = Usage::default();
    for u in usages {
        sum.add(&u);
    }
    sum
}

/// The turn each call is in, counted per session from `starts_turn`, in trace order.
pub fn expected_turns(calls: &[Call]) -> HashMap<u64, i64> {
    let mut per_session: HashMap<Option<String>, i64> = HashMap::new();
    calls
        .iter()
        .map(|c| {
            let turn = per_session.entry(c.session_id.clone()).or_default();
            *turn += i64::from(c.starts_turn);
            (c.id, *turn)
        })
        .collect()
}

/// Resident KV at the end, per category: each (session, agent, model) key's last cache-using
/// call's cached prefix × bytes per token (all well within their 5-minute TTL here).
pub fn expected_kv(trace: &ReadTrace) -> BTreeMap<String, f64> {
    let profile = KvProfile::by_name(trace.header.kv_profile.as_deref().unwrap()).unwrap();
    let mut last: HashMap<_, &Call> = HashMap::new();
    for call in &trace.calls {
        let Some(u) = call.usage else { continue };
        if u.cache_read_input_tokens + u.cache_creation_input_tokens == 0 {
            continue;
        }
        let key = (&call.session_id, &call.agent_id, &call.model);
        if last.get(&key).is_none_or(|l| l.t_end <= call.t_end) {
            last.insert(key, call);
        }
    }
    let mut by_category = BTreeMap::new();
    for call in last.values() {
        let u = call.usage.unwrap();
        let bytes =
            (u.cache_read_input_tokens + u.cache_creation_input_tokens) * profile.bytes_per_token();
        *by_category
            .entry(call.category.as_str().to_string())
            .or_insert(0.0) += bytes as f64;
    }
    by_category
}
