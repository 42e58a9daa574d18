//! The committed traces in sample-traces/ and fresh ones validate against docs/trace.schema.json.

use std::path::{Path, PathBuf};

use crate::support::{Mock, run_under_agentprof};

pub fn validator() -> jsonschema::Validator {
    let schema_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/trace.schema.json");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// Validates every line; returns the number of lines checked.
pub fn validate_file(validator: &jsonschema::Validator, path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = 0;
    for (number, line) in text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), number + 1));
        if let Err(error) = validator.validate(&value) {
            panic!("{}:{}: {error}", path.display(), number + 1);
        }
        if number == 0 {
            assert_eq!(
                value["type"],
                "header",
                "{}: first line is the header",
                path.display()
            );
        }
        lines += 1;
    }
    lines
}

#[test]
fn sample_traces_validate() {
    let validator = validator();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-traces");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            assert!(validate_file(&validator, &path) > 3);
            files += 1;
        }
    }
    assert!(files >= 1, "no traces in {}", dir.display());
}

#[test]
fn schema_rejects_what_it_should() {
    let validator = validator();
    let bad_category = serde_json::json!({"type": "memory", "t": -1.0, "rss_bytes": 1,
        "main": {"processes": 1, "rss_bytes": 1}, "subagent": {"processes": 0, "rss_bytes": 0},
        "other": {"processes": 0, "rss_bytes": 0}, "processes": []});
    assert!(
        validator.validate(&bad_category).is_err(),
        "negative time must fail"
    );
    let unknown = serde_json::json!({"type": "nonsense"});
    assert!(validator.validate(&unknown).is_err());
}

#[test]
fn a_fresh_trace_with_calls_errors_and_samples_validates() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let script = "curl -s -o /dev/null -H 'x-mock-fault: status:529' --data '{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}' \"$ANTHROPIC_BASE_URL/v1/messages\"; \
                  curl -s -o /dev/null --data '{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}' \"$ANTHROPIC_BASE_URL/v1/messages\"; sleep 0.3";
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", script]);
    assert!(output.status.success());
    let lines = validate_file(&validator(), &dir.path().join("trace.jsonl"));
    assert!(lines >= 5);
}
