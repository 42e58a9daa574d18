use std::path::PathBuf;

use super::*;

const M: u64 = 1_000_000;

fn input(n: u64) -> Usage {
    Usage {
        input_tokens: n,
        ..Usage::default()
    }
}

fn output(n: u64) -> Usage {
    Usage {
        output_tokens: n,
        ..Usage::default()
    }
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// A temp file unique to this test process and name, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "agentprof-prices-{}-{name}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn bundled_parses_with_labels_and_complete_defaults() {
    let raw = file::parse(&Origin {
        name: BUNDLED_NAME.to_string(),
        text: BUNDLED,
    })
    .unwrap();
    assert!(file::defaults_complete(&raw));
    let t = PriceTable::bundled();
    assert_eq!(t.as_of(), "2026-11-01");
    assert!(t.source().contains("Anthropic"), "{}", t.source());
    assert!(t.source().contains("not re-checked"), "{}", t.source());
    assert_eq!(t.models().len(), 19);
}

#[test]
fn every_bundled_price_exactly() {
    let t = PriceTable::bundled();
    let expected: [(&str, f64, f64, f64); 19] = [
        ("claude-opus-4-6", 5.0, 25.0, 0.1),
        ("claude-opus-4-5", 5.0, 25.0, 0.1),
        ("claude-opus-4-1", 15.0, 75.0, 0.1),
        ("claude-opus-4", 15.0, 75.0, 0.1),
        ("claude-sonnet-4-6", 3.0, 15.0, 0.1),
        ("claude-sonnet-4-5", 3.0, 15.0, 0.1),
        ("claude-sonnet-4", 3.0, 15.0, 0.1),
        ("claude-haiku-4-5", 1.0, 5.0, 0.1),
        ("claude-3-5-haiku", 0.8, 4.0, 0.1),
        ("gpt-4.1", 2.0, 8.0, 0.25),
        ("gpt-4.1-mini", 0.4, 1.6, 0.25),
        ("gpt-4.1-nano", 0.1, 0.4, 0.25),
        ("gpt-4o", 2.5, 10.0, 0.5),
        ("gpt-4o-mini", 0.15, 0.6, 0.5),
        ("gpt-5", 1.25, 10.0, 0.1),
        ("gpt-5-mini", 0.25, 2.0, 0.1),
        ("gpt-5-nano", 0.05, 0.4, 0.1),
        ("o3", 2.0, 8.0, 0.25),
        ("o4-mini", 1.1, 4.4, 0.25),
    ];
    for (id, inp, out, read) in expected {
        let p = t.lookup(id).unwrap();
        assert_eq!(p.id, id);
        let expect_lc = matches!(id, "claude-sonnet-4-5" | "claude-sonnet-4");
        // 1M tokens cost exactly the per-million price; long-context models are probed at
        // their 200K threshold (still normal prices) so the premium does not kick in.
        let (n, share) = if expect_lc { (200_000, 0.2) } else { (M, 1.0) };
        let cost_in = t.cost(Some(id), &input(n)).unwrap();
        if expect_lc {
            assert!(approx(cost_in, inp * share), "{id} input");
        } else {
            assert_eq!(cost_in, inp, "{id} input");
        }
        assert_eq!(t.cost(Some(id), &output(M)), Some(out), "{id} output");
        assert_eq!(p.cache_read, read, "{id} cache_read");
        let cached = Usage {
            cache_read_input_tokens: n,
            ..Usage::default()
        };
        assert!(
            approx(t.cost(Some(id), &cached).unwrap(), inp * read * share),
            "{id}"
        );
        assert_eq!(p.long_context.is_some(), expect_lc, "{id} long context");
        let (w5, w1) = match p.provider {
            Provider::Anthropic => (1.25, 2.0),
            Provider::OpenAi => (0.0, 0.0),
        };
        assert_eq!((p.cache_write_5m, p.cache_write_1h), (w5, w1), "{id}");
    }
    assert_eq!(
        t.cost(Some("claude-opus-4-6"), &input(M)),
        Some(5.00),
        "the brief's example"
    );
}

#[test]
fn anthropic_cache_multipliers() {
    let t = PriceTable::bundled();
    let opus = Some("claude-opus-4-6");
    let w5 = Usage {
        cache_creation_input_tokens: M,
        cache_creation_5m_input_tokens: M,
        ..Usage::default()
    };
    let w1 = Usage {
        cache_creation_input_tokens: M,
        cache_creation_1h_input_tokens: M,
        ..Usage::default()
    };
    let read = Usage {
        cache_read_input_tokens: M,
        ..Usage::default()
    };
    assert_eq!(t.cost(opus, &w5), Some(6.25));
    assert_eq!(t.cost(opus, &w1), Some(10.0));
    assert_eq!(t.cost(opus, &read), Some(0.5));
    // An unsplit write (split fields left at 0) is billed as 5-minute.
    let unsplit = Usage {
        cache_creation_input_tokens: M,
        ..Usage::default()
    };
    assert_eq!(t.cost(opus, &unsplit), Some(6.25));
    // Everything at once: 1000 in, 2000 5m, 3000 1h, 4000 read, 500 out on Sonnet 4.6.
    let mixed = Usage {
        input_tokens: 1000,
        output_tokens: 500,
        cache_creation_input_tokens: 5000,
        cache_read_input_tokens: 4000,
        cache_creation_5m_input_tokens: 2000,
        cache_creation_1h_input_tokens: 3000,
    };
    let expected =
        (1000.0 * 3.0 + 2000.0 * 3.75 + 3000.0 * 6.0 + 4000.0 * 0.3 + 500.0 * 15.0) / 1e6;
    assert!(approx(
        t.cost(Some("claude-sonnet-4-6"), &mixed).unwrap(),
        expected
    ));
}

#[test]
fn long_context_switches_strictly_above_threshold() {
    let t = PriceTable::bundled();
    for id in ["claude-sonnet-4-5", "claude-sonnet-4"] {
        // Exactly 200,000 prompt tokens: normal prices.
        let at = Usage {
            input_tokens: 100_000,
            cache_creation_input_tokens: 50_000,
            cache_creation_5m_input_tokens: 50_000,
            cache_read_input_tokens: 50_000,
            output_tokens: 1000,
            cache_creation_1h_input_tokens: 0,
        };
        let normal = (100_000.0 * 3.0 + 50_000.0 * 3.75 + 50_000.0 * 0.3 + 1000.0 * 15.0) / 1e6;
        assert!(approx(t.cost(Some(id), &at).unwrap(), normal), "{id}");
        // One more token (a cache read) tips the WHOLE request to $6 / $22.50.
        let above = Usage {
            cache_read_input_tokens: 50_001,
            ..at
        };
        let long = (100_000.0 * 6.0 + 50_000.0 * 7.5 + 50_001.0 * 0.6 + 1000.0 * 22.5) / 1e6;
        assert!(approx(t.cost(Some(id), &above).unwrap(), long), "{id}");
    }
    // No premium on Sonnet 4.6 and Opus 4.6.
    assert_eq!(t.cost(Some("claude-sonnet-4-6"), &input(M)), Some(3.0));
    assert_eq!(t.cost(Some("claude-opus-4-6"), &input(M)), Some(5.0));
    assert_eq!(t.cost(Some("claude-sonnet-4-5"), &input(M)), Some(6.0));
    assert_eq!(
        t.cost(
            Some("claude-sonnet-4-5"),
            &Usage {
                output_tokens: M,
                ..input(M)
            }
        ),
        Some(28.5)
    );
}

#[test]
fn model_id_spellings() {
    let t = PriceTable::bundled();
    let id = |m: &str| t.lookup(m).map(|p| p.id.as_str());
    assert_eq!(id("claude-opus-4-1-20250805"), Some("claude-opus-4-1"));
    assert_eq!(id("claude-3-5-haiku-20241022"), Some("claude-3-5-haiku"));
    assert_eq!(id("claude-3-5-haiku-latest"), Some("claude-3-5-haiku"));
    assert_eq!(id("claude-sonnet-4-5-20250929"), Some("claude-sonnet-4-5"));
    assert_eq!(id("claude-sonnet-4-5"), Some("claude-sonnet-4-5"));
    assert_eq!(id("claude-sonnet-4-20250514"), Some("claude-sonnet-4"));
    assert_eq!(id("claude-opus-4-20250514"), Some("claude-opus-4"));
    assert_eq!(id("claude-haiku-4-5-20251001"), Some("claude-haiku-4-5"));
    assert_eq!(id("Claude-Opus-4-6"), Some("claude-opus-4-6"));
    assert_eq!(id("claude-opus-4-1@20250805"), Some("claude-opus-4-1"));
    assert_eq!(id("anthropic/claude-sonnet-4-6"), Some("claude-sonnet-4-6"));
    assert_eq!(
        id("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        Some("claude-sonnet-4-5")
    );
    assert_eq!(
        id("anthropic.claude-3-5-haiku-20241022-v1:0"),
        Some("claude-3-5-haiku")
    );
    assert_eq!(id("openai/gpt-4o-mini"), Some("gpt-4o-mini"));
    assert_eq!(id("gpt-4o-2024-08-06"), Some("gpt-4o"));
    assert_eq!(id("gpt-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
    assert_eq!(id("gpt-4.1-2025-04-14"), Some("gpt-4.1"));
    assert_eq!(id("gpt-5-2025-08-07"), Some("gpt-5"));
    assert_eq!(id("o4-mini-2025-04-16"), Some("o4-mini"));
    assert_eq!(id("gpt-5-codex"), Some("gpt-5"));
}

#[test]
fn unknown_and_lookalike_models_are_unpriced() {
    let t = PriceTable::bundled();
    for m in [
        "claude-opus-4-7",   // a newer minor version is not Opus 4
        "claude-3-7-sonnet", // not in the table
        "claude-sonnet-4.5", // dotted spelling is not normalised
        "o3-mini",           // a different, cheaper model than o3
        "o3-pro",            // a different, dearer model than o3
        "gpt-5-pro",
        "gpt-5.1",
        "gpt-4",
        "llama-3",
        "",
        "éééééééééé", // non-ASCII must not break suffix slicing
    ] {
        assert_eq!(t.lookup(m).map(|p| &p.id), None, "{m}");
        assert_eq!(t.cost(Some(m), &input(M)), None, "{m}");
    }
    assert_eq!(t.cost(None, &input(M)), None);
}

#[test]
fn own_id_beats_shorter_prefix() {
    // With only `claude-sonnet-4` priced, `claude-sonnet-4-5` must not borrow its price.
    let t = PriceTable::parse(
        "[[model]]\nid = \"claude-sonnet-4\"\nprovider = \"anthropic\"\ninput = 3.0\noutput = 15.0\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(t.lookup("claude-sonnet-4-5"), None);
    assert_eq!(t.lookup("claude-sonnet-4-5-20250929"), None);
    assert!(t.lookup("claude-sonnet-4-20250514").is_some());
}

#[test]
fn override_file_adds_replaces_and_relabels() {
    let f = TempFile::new(
        "ok",
        r#"as_of = "2027-01-15"

[defaults.anthropic]
cache_read = 0.2

[[model]]
id = "claude-opus-4-6"
provider = "anthropic"
input = 4.0
output = 20.0

[[model]]
id = "my-local-model"
provider = "openai"
input = 0.5
output = 1.0
"#,
    );
    let t = PriceTable::with_overrides(&f.0).unwrap();
    assert_eq!(t.as_of(), "2027-01-15");
    assert!(
        t.source().contains(&f.0.display().to_string()),
        "{}",
        t.source()
    );
    assert_eq!(t.cost(Some("claude-opus-4-6"), &input(M)), Some(4.0));
    assert_eq!(
        t.cost(Some("claude-opus-4-6-20260101"), &output(M)),
        Some(20.0)
    );
    assert_eq!(t.cost(Some("my-local-model"), &input(M)), Some(0.5));
    // Untouched entries stay, and pick up the overridden default multiplier.
    assert_eq!(t.cost(Some("claude-haiku-4-5"), &input(M)), Some(1.0));
    assert_eq!(t.lookup("claude-haiku-4-5").unwrap().cache_read, 0.2);
    assert_eq!(t.lookup("claude-haiku-4-5").unwrap().cache_write_5m, 1.25);
    // OpenAI multipliers resolve from the bundled OpenAI defaults.
    assert_eq!(t.lookup("my-local-model").unwrap().cache_read, 0.25);
    assert_eq!(t.models().len(), 20);
    assert_eq!(t.models()[0].id, "claude-opus-4-6", "replaced in place");
}

#[test]
fn override_without_as_of_keeps_bundled_label() {
    let f = TempFile::new("nolabel", "");
    let t = PriceTable::with_overrides(&f.0).unwrap();
    assert_eq!(t.as_of(), "2026-11-01");
    assert_eq!(t.models(), PriceTable::bundled().models());
}

fn override_error(name: &str, text: &str) -> (String, TempFile) {
    let f = TempFile::new(name, text);
    let e = PriceTable::with_overrides(&f.0).unwrap_err();
    (e.to_string(), f)
}

#[test]
fn errors_name_file_line_and_problem() {
    let model = "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = 1.0\noutput = 2.0\n";

    let (msg, f) = override_error(
        "negative",
        &format!(
            "{model}\n[[model]]\nid = \"neg\"\nprovider = \"openai\"\ninput = 1.0\noutput = -2.0\n"
        ),
    );
    let path = f.0.display().to_string();
    assert!(msg.starts_with(&format!("{path}:11: ")), "{msg}");
    assert!(
        msg.contains("\"neg\"") && msg.contains("output") && msg.contains("negative"),
        "{msg}"
    );

    let (msg, f) = override_error("unknown-key", &format!("{model}cache_hit = 0.1\n"));
    assert!(msg.starts_with(&format!("{}:6: ", f.0.display())), "{msg}");
    assert!(msg.contains("cache_hit"), "{msg}");

    let (msg, f) = override_error("top-key", "as_of = \"x\"\nprice = 3\n");
    assert!(msg.starts_with(&format!("{}:2: ", f.0.display())), "{msg}");
    assert!(msg.contains("price"), "{msg}");

    let (msg, f) = override_error("syntax", &format!("{model}input = \n"));
    assert!(msg.starts_with(&format!("{}:6: ", f.0.display())), "{msg}");

    let (msg, f) = override_error(
        "type",
        "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = \"cheap\"\noutput = 2.0\n",
    );
    assert!(msg.starts_with(&format!("{}:4: ", f.0.display())), "{msg}");

    let (msg, f) = override_error(
        "provider",
        "[[model]]\nid = \"x\"\nprovider = \"acme\"\ninput = 1.0\noutput = 2.0\n",
    );
    assert!(msg.starts_with(&format!("{}:3: ", f.0.display())), "{msg}");

    let (msg, f) = override_error("dup", &format!("{model}{model}"));
    assert!(msg.starts_with(&format!("{}:7: ", f.0.display())), "{msg}");
    assert!(msg.contains("twice") && msg.contains("line 2"), "{msg}");

    let (msg, f) = override_error(
        "lc",
        "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = 1.0\noutput = 2.0\nlong_context = { above_prompt_tokens = 10, input = -1.0, output = 2.0 }\n",
    );
    assert!(msg.starts_with(&format!("{}:6: ", f.0.display())), "{msg}");
    assert!(msg.contains("long_context.input"), "{msg}");

    let (msg, f) = override_error("defaults", "[defaults.openai]\ncache_read = -0.5\n");
    assert!(msg.starts_with(&format!("{}:2: ", f.0.display())), "{msg}");
    assert!(msg.contains("[defaults.openai]"), "{msg}");

    let (msg, f) = override_error(
        "nan",
        "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = nan\noutput = 2.0\n",
    );
    assert!(msg.starts_with(&format!("{}:4: ", f.0.display())), "{msg}");
    assert!(msg.contains("finite"), "{msg}");
}

#[test]
fn missing_file_is_named() {
    let path = std::env::temp_dir().join("agentprof-no-such-prices.toml");
    let msg = PriceTable::with_overrides(&path).unwrap_err().to_string();
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    assert!(msg.contains("cannot read"), "{msg}");
}
