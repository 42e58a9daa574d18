//! `agentprof prices` as users run it: what a model costs and how its id matched, exit codes
//! (0 priced, 1 a model without a price, 2 a bad flag or file), traces with an unpriced model,
//! `--prices` files, the report's warning, and the snapshot being what `scripts/update-prices`
//! makes.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::html_report::sample_trace;
use crate::support::{agentprof, stderr};

fn prices(args: &[&str]) -> (Option<i32>, String, String) {
    let output: Output = agentprof().arg("prices").args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr(&output),
    )
}

/// The block of text output about `model` (from its name line to the next blank line).
fn block<'a>(stdout: &'a str, model: &str) -> &'a str {
    let start = stdout
        .find(&format!("\n{model}\n"))
        .unwrap_or_else(|| panic!("no block for {model} in {stdout}"));
    let rest = &stdout[start + 1..];
    rest.split("\n\n").next().unwrap_or(rest)
}

/// The sample trace with `claude-haiku-4-5` (its 2 utility calls) renamed to `model`.
fn trace_naming(dir: &Path, model: &str) -> PathBuf {
    let text = std::fs::read_to_string(sample_trace()).unwrap();
    let path = dir.join(format!("{model}.jsonl"));
    std::fs::write(&path, text.replace("claude-haiku-4-5", model)).unwrap();
    path
}

#[test]
fn a_priced_model_shows_its_entry_prices_and_source() {
    let (code, out, err) = prices(&[
        "claude-opus-5-5",
        "anthropic/claude-opus-5-5-20260915",
        "us.anthropic.claude-opus-5-5-v1:0",
        "claude-haiku-5-5",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("prices: litellm 1.110.2 (2026-11-20)"),
        "{out}"
    );
    let opus = block(&out, "claude-opus-5-5");
    assert!(opus.contains("claude-opus-5-5 (exact id)"), "{opus}");
    assert!(opus.contains("provider  anthropic"), "{opus}");
    assert!(
        opus.contains("source    bundled snapshot, litellm 1.110.2"),
        "{opus}"
    );
    let row: Vec<&str> = opus
        .lines()
        .find(|l| l.trim_start().starts_with("every prompt"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(row, ["every", "prompt", "4", "20", "0.2", "5", "8"]);
    let dated = block(&out, "anthropic/claude-opus-5-5-20260915");
    assert!(dated.contains("claude-opus-5-5 (normalised id)"), "{dated}");
    let bedrock = block(&out, "us.anthropic.claude-opus-5-5-v1:0");
    assert!(
        bedrock.contains("us.anthropic.claude-opus-5-5"),
        "{bedrock}"
    );
    assert!(bedrock.contains("bedrock_converse"), "{bedrock}");
    let haiku = block(&out, "claude-haiku-5-5");
    assert!(haiku.contains("prompt ≤ 100,000"), "{haiku}");
    assert!(haiku.contains("prompt > 100,000"), "{haiku}");
}

#[test]
fn an_unknown_model_exits_1_with_the_remedy() {
    let (code, out, _) = prices(&["claude-opus-5-5", "made-up-model"]);
    assert_eq!(code, Some(1));
    let b = block(&out, "made-up-model");
    assert!(b.contains("no price") && b.contains("null"), "{b}");
    assert!(
        b.contains("--prices FILE") && b.contains("docs/prices.md"),
        "{b}"
    );
}

#[test]
fn json_is_one_document_with_every_price() {
    let (code, out, _) = prices(&["--json", "gpt-6-sol", "made-up-model"]);
    assert_eq!(code, Some(1));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "agentprof.prices/v1");
    assert_eq!(doc["table"]["as_of"], "litellm 1.110.2 (2026-11-20)");
    let gpt = &doc["models"][0];
    assert_eq!(gpt["match"], "exact");
    let e = &gpt["entry"];
    assert_eq!(e["provider"], "openai");
    assert_eq!(e["origin"], "bundled");
    assert_eq!(e["usd_per_million"]["input"], 2.0);
    assert_eq!(e["usd_per_million"]["cache_read"], 0.2);
    assert_eq!(e["usd_per_million"]["cache_write_5m"], 2.5);
    assert_eq!(e["fallbacks"], serde_json::json!(["cache_write_1h"]));
    assert_eq!(e["tiers"][0]["above_prompt_tokens"], 272_000);
    assert_eq!(e["tiers"][0]["usd_per_million"]["output"], 15.0);
    assert_eq!(doc["models"][1]["entry"], serde_json::Value::Null);
}

#[test]
fn without_models_it_lists_the_table_one_model_a_line() {
    let (code, out, _) = prices(&[]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 1000, "{}", lines.len());
    let opus = lines
        .iter()
        .find(|l| l.starts_with("claude-opus-5-5 "))
        .unwrap();
    let words: Vec<&str> = opus.split_whitespace().collect();
    assert_eq!(
        words,
        ["claude-opus-5-5", "anthropic", "4", "20", "0.2", "5", "8"]
    );
    let haiku = lines
        .iter()
        .find(|l| l.starts_with("claude-haiku-5-5 "))
        .unwrap();
    assert!(haiku.ends_with(">100000:0.5/2.5"), "{haiku}");
}

#[test]
fn traces_list_their_models_and_exit_1_when_one_is_unpriced() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_trace();
    let (code, out, err) = prices(&["--trace", sample.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("models named in 1 trace (42 calls)"), "{out}");
    let sonnet = out
        .lines()
        .find(|l| l.contains("claude-sonnet-4-6"))
        .unwrap();
    assert!(
        sonnet.trim_start().starts_with("40  claude-sonnet-4-6"),
        "{sonnet}"
    );

    let unpriced = trace_naming(dir.path(), "mystery-model-1");
    let (code, out, _) = prices(&["--trace", unpriced.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let line = out.lines().find(|l| l.contains("mystery-model-1")).unwrap();
    assert!(
        line.contains("2  mystery-model-1") && line.contains("no price"),
        "{line}"
    );
    assert!(out.contains("remedy"), "{out}");

    // The report warns about the same model and names the same way out.
    let report = agentprof()
        .args(["report", "--json", unpriced.to_str().unwrap()])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("no price for model \\\"mystery-model-1\\\" (2 calls)")
            && warnings.contains("agentprof prices mystery-model-1")
            && warnings.contains("--prices FILE"),
        "{warnings}"
    );
    let assumptions = doc["assumptions"].to_string();
    assert!(
        assumptions.contains("prices: litellm 1.110.2"),
        "{assumptions}"
    );
    assert!(assumptions.contains("standard on-demand"), "{assumptions}");
}

#[test]
fn a_litellm_file_prices_what_the_snapshot_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let trace = trace_naming(dir.path(), "mystery-model-1");
    let file = dir.path().join("extra.json");
    std::fs::write(
        &file,
        r#"{"mystery-model-1": {"litellm_provider": "anthropic", "mode": "chat",
            "input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06}}"#,
    )
    .unwrap();
    let (f, t) = (file.to_str().unwrap(), trace.to_str().unwrap());
    let (code, out, err) = prices(&["--prices", f, "--trace", t, "mystery-model-1"]);
    assert_eq!(code, Some(0), "{err}");
    let b = block(&out, "mystery-model-1");
    assert!(b.contains(&format!("source    {f}")), "{b}");
    // No cache prices in the entry: LiteLLM's fallback, marked.
    assert!(
        b.contains("2*") && b.contains("not set by the entry"),
        "{b}"
    );
    // The report prices those calls too.
    let report = agentprof()
        .args(["report", "--json", "--prices", f, t])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(
        doc["models"]["mystery-model-1"]["cost_usd"].is_f64(),
        "{doc}"
    );
    assert!(doc["totals"]["cost_usd"].is_f64());
}

#[test]
fn a_bad_prices_file_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, "{\n\"m\": {\"input_cost_per_token\": -1e-06}\n}\n").unwrap();
    let (code, _, err) = prices(&["--prices", file.to_str().unwrap(), "m"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("{}:2:", file.display())), "{err}");
    assert!(err.contains("negative"), "{err}");
    let (code, _, err) = prices(&["--trace", "/nonexistent/trace.jsonl"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent/trace.jsonl"), "{err}");
}

#[test]
fn the_committed_snapshot_is_what_update_prices_makes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new(root.join("scripts/update-prices"))
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "scripts/update-prices --check: {}",
        stderr(&output)
    );
}

/// A model that shipped after the snapshot: `run --prices` prices it in the summary (and the
/// live metrics), `report --prices` with the same file gives the same dollars, and a bad file
/// stops `run` before the agent starts.
#[test]
fn run_with_a_prices_file_prices_a_model_the_snapshot_lacks() {
    use crate::support::Mock;
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new-model.json");
    std::fs::write(
        &file,
        r#"{"mystery-model-9": {"litellm_provider": "anthropic", "mode": "chat",
            "input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 2e-07, "cache_creation_input_token_cost": 2.5e-06}}"#,
    )
    .unwrap();
    let trace = dir.path().join("trace.jsonl");
    let script = "curl -s -o /dev/null --data '{\"model\":\"mystery-model-9\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}' \"$ANTHROPIC_BASE_URL/v1/messages\"";
    let output = agentprof()
        .arg("run")
        .arg("--trace")
        .arg(&trace)
        .args(["--anthropic-upstream", &mock.url(), "--prices"])
        .arg(&file)
        .args(["--", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let usage = mock.records()[0].usage.unwrap();
    let expected = (usage.input_tokens as f64 * 2.0
        + usage.output_tokens as f64 * 10.0
        + usage.cache_read_input_tokens as f64 * 0.2
        + usage.cache_creation_input_tokens as f64 * 2.5)
        / 1e6;
    let summary = stderr(&output);
    assert!(
        summary.contains(&format!("agentprof: cost ${expected:.4}")),
        "{summary}"
    );
    let report = |with_file: bool| {
        let mut command = agentprof();
        command.args(["report", "--json"]).arg(&trace);
        if with_file {
            command.arg("--prices").arg(&file);
        }
        let output = command.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let priced = report(true);
    let cost = priced["totals"]["cost_usd"].as_f64().unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
    let bundled = report(false);
    assert!(bundled["totals"]["cost_usd"].is_null());
    assert!(
        bundled["warnings"]
            .to_string()
            .contains("agentprof prices mystery-model-9"),
        "{}",
        bundled["warnings"]
    );

    let marker = dir.path().join("agent-ran");
    let output = agentprof()
        .args(["run", "--prices"])
        .arg(dir.path().join("missing.json"))
        .args(["--", "touch"])
        .arg(&marker)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--prices"), "{}", stderr(&output));
    assert!(
        !marker.exists(),
        "the agent must not start with a bad --prices"
    );
}
