//! `--prices FILE`: LiteLLM's JSON and agentprof's TOML laid over the bundled prices, and
//! errors that name the file and line.

use std::path::Path;

use super::tests::{M, TempFile, approx, usage};
use super::*;

fn overrides(name: &str, text: &str) -> (PriceTable, TempFile) {
    let f = TempFile::new(name, text);
    let t = PriceTable::with_overrides(&f.0).unwrap();
    (t, f)
}

fn override_error(name: &str, text: &str) -> (String, String) {
    let f = TempFile::new(name, text);
    let e = PriceTable::with_overrides(&f.0).unwrap_err();
    (e.to_string(), f.0.display().to_string())
}

#[test]
fn litellm_json_adds_a_model_and_replaces_one() {
    // No `.json` extension: the content decides the format.
    let (t, f) = overrides(
        "add-replace.prices",
        r#"{
  "made-up-model": {"litellm_provider": "openai", "mode": "chat",
    "input_cost_per_token": 1.5e-06, "output_cost_per_token": "6e-06",
    "cache_read_input_token_cost": 1.5e-07,
    "input_cost_per_token_above_200k_tokens": 3e-06},
  "claude-opus-5-5": {"litellm_provider": "anthropic", "mode": "chat",
    "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05},
  "some-image-model": {"litellm_provider": "openai", "mode": "image_generation",
    "input_cost_per_token": "not even a number"},
  "an-embedding": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 1e-07},
  "per-image-only": {"litellm_provider": "openai", "mode": "chat", "output_cost_per_image": 0.04},
  "sample_spec": {"input_cost_per_token": 0.0, "max_input_tokens": "max input tokens"}
}"#,
    );
    let bundled = PriceTable::bundled();
    let path = f.0.display().to_string();
    assert_eq!(t.override_file(), Some(path.as_str()));
    assert_eq!(
        t.as_of(),
        bundled.as_of(),
        "no label of its own: the bundled one stays"
    );
    assert!(t.source().contains(&path), "{}", t.source());
    // Added, with its tier; the string price is read like a number.
    let m = t.lookup("made-up-model").unwrap();
    assert_eq!(m.origin, PriceOrigin::Override);
    assert_eq!((m.base.input, m.base.output), (Some(1.5), Some(6.0)));
    assert_eq!(
        t.cost(Some("made-up-model"), &usage(0, 0, 0, 0, M)),
        Some(6.0)
    );
    assert!(approx(
        t.cost(Some("made-up-model"), &usage(200_001, 0, 0, 0, 0))
            .unwrap(),
        200_001.0 * 3.0 / 1e6
    ));
    // Replaced in place: the whole entry, so the cache prices it lacks now fall back to input.
    let opus = t.lookup("claude-opus-5-5-20260915").unwrap();
    assert_eq!(opus.origin, PriceOrigin::Override);
    assert_eq!(
        t.cost(Some("claude-opus-5-5"), &usage(M, 0, 0, 0, 0)),
        Some(3.0)
    );
    assert_eq!(
        t.cost(Some("claude-opus-5-5"), &usage(0, 0, 0, M, 0)),
        Some(3.0)
    );
    let at = |t: &PriceTable| t.models().iter().position(|m| m.id == "claude-opus-5-5");
    assert_eq!(at(&t), at(&bundled), "replaced where it was");
    // Untouched entries stay; skipped entries are not added.
    assert_eq!(
        t.cost(Some("claude-haiku-4-5"), &usage(M, 0, 0, 0, 0)),
        Some(1.0)
    );
    assert_eq!(t.models().len(), bundled.models().len() + 1);
    for skipped in [
        "some-image-model",
        "an-embedding",
        "per-image-only",
        "sample_spec",
    ] {
        assert!(t.models().iter().all(|m| m.id != skipped), "{skipped}");
    }
}

#[test]
fn a_snapshot_label_in_the_file_replaces_the_bundled_one() {
    let (t, f) = overrides(
        "label.json",
        r#"{"agentprof_snapshot": {"generated_by": "scripts/update-prices", "litellm_version": "9.9.9",
  "released": "2027-02-01", "released_from": "x", "source": "some file", "models": 1},
"claude-opus-9": {"input_cost_per_token": 1e-05}}"#,
    );
    assert_eq!(t.as_of(), "litellm 9.9.9 (2027-02-01)");
    assert!(
        t.source().contains("litellm 9.9.9") && t.source().contains(&f.0.display().to_string())
    );
    assert!(t.lookup("claude-opus-9").is_some());
}

#[test]
fn toml_still_works_with_multipliers_of_its_own_input_price() {
    let (t, f) = overrides(
        "ok.toml",
        r#"as_of = "2027-01-15"

[defaults.anthropic]
cache_read = 0.2

[[model]]
id = "claude-opus-5-5"
provider = "anthropic"
input = 4.0
output = 20.0
long_context = { above_prompt_tokens = 100000, input = 8.0, output = 30.0 }

[[model]]
id = "my-local-model"
provider = "openai"
input = 0.5
output = 1.0
"#,
    );
    assert_eq!(t.as_of(), "2027-01-15");
    assert!(
        t.source().contains(&f.0.display().to_string()),
        "{}",
        t.source()
    );
    let opus = Some("claude-opus-5-5");
    // Read 0.2x (the file's default), writes 1.25x / 2x (built in), all of 4.0; 100,000
    // tokens are a tenth of the per-million price (and not above the tier).
    let k100 = 100_000;
    assert!(approx(
        t.cost(opus, &usage(0, 0, 0, k100, 0)).unwrap(),
        0.08
    ));
    assert!(approx(t.cost(opus, &usage(0, k100, 0, 0, 0)).unwrap(), 0.5));
    assert!(approx(t.cost(opus, &usage(0, 0, k100, 0, 0)).unwrap(), 0.8));
    // Above 100K the whole request at 8 / 30, the multipliers applied to 8.
    let above = usage(1_000, 0, 0, 99_001, 1_000);
    let tier = (1_000.0 * 8.0 + 99_001.0 * 1.6 + 1_000.0 * 30.0) / 1e6;
    assert!(approx(t.cost(opus, &above).unwrap(), tier));
    // OpenAI: cached input at 0.25x, writes at the input price.
    let local = Some("my-local-model");
    assert_eq!(t.cost(local, &usage(0, 0, 0, M, 0)), Some(0.125));
    assert_eq!(t.cost(local, &usage(0, M, 0, 0, 0)), Some(0.5));
    assert_eq!(t.lookup("my-local-model").unwrap().provider, "openai");
    assert_eq!(t.models().len(), PriceTable::bundled().models().len() + 1);
    // An empty TOML file changes nothing but the source label.
    let (t, _f) = overrides("empty.toml", "");
    assert_eq!(t.as_of(), PriceTable::bundled().as_of());
    assert_eq!(t.models(), PriceTable::bundled().models());
}

#[test]
fn the_documented_toml_example_parses() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prices.example.toml");
    let t = PriceTable::with_overrides(&example).unwrap();
    assert_eq!(t.as_of(), "2027-01-15");
    let m = Some("claude-example-6");
    // 200,000 tokens (not above the tier): reads at the file's 0.05x default, writes at the
    // built-in 1.25x; one more and the whole request is at $8 / $30.
    let k200 = 200_000;
    assert!(approx(t.cost(m, &usage(0, 0, 0, k200, 0)).unwrap(), 0.04));
    assert!(approx(t.cost(m, &usage(0, k200, 0, 0, 0)).unwrap(), 1.0));
    let above = t.cost(m, &usage(k200 + 1, 0, 0, 0, M)).unwrap();
    assert!(approx(above, 30.0 + 200_001.0 * 8.0 / 1e6), "{above}");
    assert_eq!(
        t.cost(Some("my-local-model"), &usage(0, 0, 0, M, 0)),
        Some(0.05)
    );
}

#[test]
fn json_errors_name_file_line_and_problem() {
    let cases: [(&str, &str, usize, &[&str]); 8] = [
        (
            "syntax",
            "{\n  \"a\": {\"input_cost_per_token\": 1e-06},\n  \"b\": {\"input_cost_per_token\": }\n}",
            3,
            &["expected value"],
        ),
        (
            "negative",
            "{\n\"a\": {\n  \"input_cost_per_token\": 1e-06,\n  \"output_cost_per_token\": -2e-06\n}}",
            4,
            &["\"a\"", "output_cost_per_token", "negative"],
        ),
        (
            "not-finite",
            "{\"a\": {\"input_cost_per_token\": 1e-06},\n\"b\": {\"input_cost_per_token\": 1e999}}",
            2,
            &["\"b\"", "finite"],
        ),
        (
            "string-nan",
            "{\n\"a\": {\"input_cost_per_token\": \"NaN\"}}",
            2,
            &["finite"],
        ),
        (
            "not-a-number",
            "{\"a\": {\n\"cache_read_input_token_cost_above_200k_tokens\": true, \"input_cost_per_token\": 1e-06}}",
            2,
            &[
                "cache_read_input_token_cost_above_200k_tokens",
                "not a number",
            ],
        ),
        (
            "not-an-object",
            "{\n\"a\": {\"input_cost_per_token\": 1e-06},\n\"b\": 3\n}",
            3,
            &["\"b\"", "object"],
        ),
        (
            "mode-type",
            "{\"a\": {\"input_cost_per_token\": 1e-06,\n \"mode\": 7}}",
            2,
            &["mode", "string"],
        ),
        ("top-level", "{\n\"a\": []\n}", 2, &["object"]),
    ];
    for (name, text, line, words) in cases {
        let (msg, path) = override_error(name, text);
        assert!(
            msg.starts_with(&format!("{path}:{line}: ")),
            "{name}: {msg}"
        );
        for w in words {
            assert!(msg.contains(w), "{name}: {msg}");
        }
    }
    let (msg, path) = override_error("array", "[1, 2]");
    assert!(msg.starts_with(&format!("{path}:1: ")), "{msg}");
}

#[test]
fn toml_errors_name_file_line_and_problem() {
    let model = "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = 1.0\noutput = 2.0\n";
    let negative = format!(
        "{model}\n[[model]]\nid = \"neg\"\nprovider = \"openai\"\ninput = 1.0\noutput = -2.0\n"
    );
    let dup = format!("{model}{model}");
    let cases: Vec<(&str, String, usize, &[&str])> = vec![
        ("negative", negative, 11, &["\"neg\"", "output", "negative"]),
        (
            "unknown-key",
            format!("{model}cache_hit = 0.1\n"),
            6,
            &["cache_hit"],
        ),
        (
            "top-key",
            "as_of = \"x\"\nprice = 3\n".into(),
            2,
            &["price"],
        ),
        ("syntax", format!("{model}input = \n"), 6, &[]),
        (
            "type",
            "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = \"cheap\"\noutput = 2.0\n"
                .into(),
            4,
            &[],
        ),
        (
            "provider",
            "[[model]]\nid = \"x\"\nprovider = \"acme\"\ninput = 1.0\noutput = 2.0\n".into(),
            3,
            &[],
        ),
        ("dup", dup, 7, &["twice", "line 2"]),
        (
            "lc",
            format!(
                "{model}long_context = {{ above_prompt_tokens = 10, input = -1.0, output = 2.0 }}\n"
            ),
            6,
            &["long_context.input"],
        ),
        (
            "defaults",
            "[defaults.openai]\ncache_read = -0.5\n".into(),
            2,
            &["[defaults.openai]"],
        ),
        (
            "nan",
            "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = nan\noutput = 2.0\n".into(),
            4,
            &["finite"],
        ),
    ];
    for (name, text, line, words) in cases {
        let (msg, path) = override_error(&format!("{name}.toml"), &text);
        assert!(
            msg.starts_with(&format!("{path}:{line}: ")),
            "{name}: {msg}"
        );
        for w in words {
            assert!(msg.contains(w), "{name}: {msg}");
        }
    }
}

#[test]
fn missing_file_is_named() {
    let path = std::env::temp_dir().join("agentprof-no-such-prices.json");
    let msg = PriceTable::with_overrides(&path).unwrap_err().to_string();
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    assert!(msg.contains("cannot read"), "{msg}");
}

#[test]
fn per_token_decimals_become_exact_per_million_prices() {
    let cases = [
        ("4e-06", Some(4.0)),
        ("2e-07", Some(0.2)),
        ("1.25e-07", Some(0.125)),
        ("3.75E-06", Some(3.75)),
        ("0.000003", Some(3.0)),
        ("0", Some(0.0)),
        ("-0.0", Some(0.0)),
        ("\"3e-7\"", Some(0.3)),
        ("\" 1e-06 \"", Some(1.0)),
        ("null", None),
    ];
    for (raw, want) in cases {
        assert_eq!(litellm::usd_per_million(raw), Ok(want), "{raw}");
    }
    for raw in [
        "-1e-06",
        "1e999",
        "\"inf\"",
        "\"cheap\"",
        "true",
        "{}",
        "\"\"",
    ] {
        assert!(litellm::usd_per_million(raw).is_err(), "{raw}");
    }
}

#[test]
fn the_examples_in_docs_prices_md_parse() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prices.md"))
        .unwrap();
    let mut seen = 0;
    for (lang, ext) in [("```json\n", "json"), ("```toml\n", "toml")] {
        for part in doc.split(lang).skip(1) {
            let body = part.split("```").next().unwrap();
            let (t, _f) = overrides(&format!("doc-{seen}.{ext}"), body);
            let opus = t.lookup("claude-opus-6").unwrap();
            assert_eq!((opus.base.input, opus.base.output), (Some(4.0), Some(20.0)));
            assert_eq!(opus.base_limit(), Some(200_000));
            seen += 1;
        }
    }
    assert_eq!(seen, 2);
}
