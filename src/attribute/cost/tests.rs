//! The cost formula and its fallbacks (mirroring LiteLLM), tiers, and model-id resolution.

use std::path::PathBuf;

use super::*;

pub(super) const M: u64 = 1_000_000;

/// A usage: uncached input, 5-minute writes, 1-hour writes, cache reads, output.
pub(super) fn usage(input: u64, w5: u64, w1: u64, read: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_creation_input_tokens: w5 + w1,
        cache_read_input_tokens: read,
        cache_creation_5m_input_tokens: w5,
        cache_creation_1h_input_tokens: w1,
        reasoning_output_tokens: 0,
        tool_use_input_tokens: 0,
    }
}

pub(super) fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// A table of `text` alone (either format), without the bundled prices underneath.
pub(super) fn table(text: &str) -> PriceTable {
    let origin = Origin {
        name: "t.json".to_string(),
        text,
    };
    let parsed = parse_any(&origin, PriceOrigin::Override).unwrap();
    PriceTable::new("test".into(), "test".into(), None, parsed.models)
}

/// A temp file unique to this test process and name, removed on drop.
pub(super) struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, text: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("agentprof-prices-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One model `m` with the JSON fields `fields` (USD per token).
fn one(fields: &str) -> PriceTable {
    table(&format!(
        r#"{{"m": {{"litellm_provider": "openai", "mode": "chat", {fields}}}}}"#
    ))
}

fn cost(t: &PriceTable, u: &Usage) -> f64 {
    t.cost(Some("m"), u).unwrap()
}

#[test]
fn every_part_of_a_call_at_its_own_price() {
    let t = one(
        r#""input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
        "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
        "cache_creation_input_token_cost_above_1hr": 6e-06"#,
    );
    // 1000 in, 2000 5m, 3000 1h, 4000 read, 500 out.
    let expected =
        (1000.0 * 3.0 + 2000.0 * 3.75 + 3000.0 * 6.0 + 4000.0 * 0.3 + 500.0 * 15.0) / 1e6;
    assert!(approx(
        cost(&t, &usage(1000, 2000, 3000, 4000, 500)),
        expected
    ));
    // A million tokens of each kind cost exactly the listed price per million.
    assert_eq!(cost(&t, &usage(M, 0, 0, 0, 0)), 3.0);
    assert_eq!(cost(&t, &usage(0, 0, 0, 0, M)), 15.0);
    assert_eq!(cost(&t, &usage(0, 0, 0, M, 0)), 0.3);
    assert_eq!(cost(&t, &usage(0, M, 0, 0, 0)), 3.75);
    assert_eq!(cost(&t, &usage(0, 0, M, 0, 0)), 6.0);
    // A write with no TTL split is a 5-minute write.
    let unsplit = Usage {
        cache_creation_input_tokens: M,
        ..Usage::default()
    };
    assert_eq!(cost(&t, &unsplit), 3.75);
}

#[test]
fn missing_prices_fall_back_as_litellm_does() {
    // No cache prices at all: reads and writes (both TTLs) bill as input.
    let t = one(r#""input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06"#);
    assert_eq!(cost(&t, &usage(0, 0, 0, M, 0)), 2.0);
    assert_eq!(cost(&t, &usage(0, M, 0, 0, 0)), 2.0);
    assert_eq!(cost(&t, &usage(0, 0, M, 0, 0)), 2.0);
    // A 5-minute write price but no 1-hour one: 1-hour writes bill at the 5-minute price.
    let t = one(
        r#""input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06,
        "cache_creation_input_token_cost": 2.5e-06"#,
    );
    assert_eq!(cost(&t, &usage(0, 0, M, 0, 0)), 2.5);
    // No output price: output has no price (LiteLLM's 0.0 default is a guess agentprof does
    // not make; see `a_price_the_entry_lacks_is_unknown_never_zero`); an explicit 0 is a price.
    let t = one(r#""input_cost_per_token": 1e-06, "cache_read_input_token_cost": 0"#);
    assert_eq!(t.cost(Some("m"), &usage(0, 0, 0, 0, M)), None);
    assert_eq!(cost(&t, &usage(0, 0, 0, M, 0)), 0.0);
    // `null` is no price.
    let t = one(r#""input_cost_per_token": 1e-06, "cache_read_input_token_cost": null"#);
    assert_eq!(cost(&t, &usage(0, 0, 0, M, 0)), 1.0);
}

#[test]
fn a_tier_bills_the_whole_request_strictly_above_its_threshold() {
    let t = one(
        r#""input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06,
        "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06,
        "input_cost_per_token_above_100k_tokens": 2e-06, "output_cost_per_token_above_100k_tokens": 1e-05,
        "cache_read_input_token_cost_above_100k_tokens": 2e-07"#,
    );
    // Exactly 100,000 prompt tokens (input + writes + reads): base prices.
    let at = usage(10_000, 20_000, 0, 70_000, 1000);
    let base = (10_000.0 * 1.0 + 20_000.0 * 1.25 + 70_000.0 * 0.1 + 1000.0 * 5.0) / 1e6;
    assert!(approx(cost(&t, &at), base));
    // One more token tips the whole request, output included. The tier has no write price of
    // its own, so writes keep the base write price (not the tier's input price).
    let above = usage(10_000, 20_000, 0, 70_001, 1000);
    let tier = (10_000.0 * 2.0 + 20_000.0 * 1.25 + 70_001.0 * 0.2 + 1000.0 * 10.0) / 1e6;
    assert!(approx(cost(&t, &above), tier));
    let p = t.lookup("m").unwrap();
    assert_eq!(p.base_limit(), Some(100_000));
    assert!(approx(p.cost_in_tier(&above, true).unwrap(), tier));
    assert!(approx(p.cost_in_tier(&above, false).unwrap(), {
        (10_000.0 * 1.0 + 20_000.0 * 1.25 + 70_001.0 * 0.1 + 1000.0 * 5.0) / 1e6
    }));
}

#[test]
fn tier_fallbacks_and_several_tiers() {
    // No cache prices anywhere: above the tier, reads and writes follow the TIER's input price.
    let t = one(
        r#""input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
        "input_cost_per_token_above_10_tokens": 3e-06"#,
    );
    assert_eq!(cost(&t, &usage(0, 0, 0, M, 0)), 3.0);
    assert_eq!(cost(&t, &usage(0, M, 0, 0, 0)), 3.0);
    // Output has no tier price: it keeps the base price.
    assert!(approx(
        cost(&t, &usage(11, 0, 0, 0, M)),
        2.0 + 11.0 * 3.0 / 1e6
    ));
    // Base 1-hour price, tier 5-minute price without a 1-hour one: 1-hour writes keep the base
    // 1-hour price above the tier (LiteLLM keeps the untiered 1-hour key).
    let t = one(
        r#""input_cost_per_token": 3e-06, "cache_creation_input_token_cost": 3.75e-06,
        "cache_creation_input_token_cost_above_1hr": 6e-06,
        "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06"#,
    );
    assert_eq!(cost(&t, &usage(0, 0, M, 0, 0)), 6.0);
    assert_eq!(cost(&t, &usage(0, M, 0, 0, 0)), 7.5);
    // With the tiered 1-hour field, it is tiered.
    let t = one(
        r#""input_cost_per_token": 3e-06, "cache_creation_input_token_cost_above_1hr": 6e-06,
        "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05"#,
    );
    assert_eq!(cost(&t, &usage(0, 0, M, 0, 0)), 12.0);
    assert_eq!(cost(&t, &usage(0, 0, 200_000, 0, 0)), 1.2);
    // Two tiers: the highest exceeded wins, a price it lacks comes from the lower one.
    let t = one(
        r#""input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06,
        "input_cost_per_token_above_100k_tokens": 2e-06, "output_cost_per_token_above_100k_tokens": 6e-06,
        "input_cost_per_token_above_200k_tokens": 3e-06"#,
    );
    let p = t.lookup("m").unwrap();
    assert_eq!(p.tiers.len(), 2);
    assert_eq!(
        (p.billed_at(100_000).input, p.billed_at(100_000).output),
        (Some(1.0), Some(5.0))
    );
    assert_eq!(
        (p.billed_at(150_000).input, p.billed_at(150_000).output),
        (Some(2.0), Some(6.0))
    );
    assert_eq!(
        (p.billed_at(250_000).input, p.billed_at(250_000).output),
        (Some(3.0), Some(6.0))
    );
    assert_eq!(p.base_limit(), Some(100_000));
}

#[test]
fn a_price_the_entry_lacks_is_unknown_never_zero() {
    // Only an output price: output tokens are priced, input tokens are not (LiteLLM would bill
    // them at 0; agentprof says it does not know).
    let t = one(r#""output_cost_per_token": 2e-06"#);
    assert_eq!(t.cost(Some("m"), &usage(0, 0, 0, 0, M)), Some(2.0));
    assert_eq!(t.cost(Some("m"), &usage(1, 0, 0, 0, M)), None);
    // Cache reads and writes fall back to the input price, which is missing too.
    assert_eq!(t.cost(Some("m"), &usage(0, 0, 0, 1, 0)), None);
    assert_eq!(t.cost(Some("m"), &usage(0, 1, 0, 0, 0)), None);
    // Only an input price: a call that generated nothing is priced, one that did is not.
    let t = one(r#""input_cost_per_token": 1e-06"#);
    assert_eq!(t.cost(Some("m"), &usage(M, 0, 0, 0, 0)), Some(1.0));
    assert_eq!(t.cost(Some("m"), &usage(M, 0, 0, 0, 1)), None);
}

#[test]
fn xai_tiers_start_at_their_threshold() {
    let t = table(
        r#"{"grok": {"litellm_provider": "xai", "input_cost_per_token": 2e-06,
        "input_cost_per_token_above_128k_tokens": 4e-06}}"#,
    );
    let p = t.lookup("grok").unwrap();
    assert_eq!(p.billed_at(127_999).input, Some(2.0));
    assert_eq!(p.billed_at(128_000).input, Some(4.0));
    assert_eq!(p.base_limit(), Some(127_999));
}

#[test]
fn ids_resolve_through_the_ladder() {
    let t = PriceTable::bundled();
    let how = |m: &str| t.resolve(m).map(|(p, how)| (p.id.clone(), how));
    let exact = |id: &str| Some((id.to_string(), Match::Exact));
    let norm = |id: &str, form: &str| Some((id.to_string(), Match::Normalised(form.to_string())));
    assert_eq!(how("claude-opus-5-5"), exact("claude-opus-5-5"));
    assert_eq!(how("Claude-Opus-5-5"), exact("claude-opus-5-5"));
    // Own LiteLLM entries for cloud spellings, at their own (regional) prices.
    assert_eq!(
        how("us.anthropic.claude-opus-5-5"),
        exact("us.anthropic.claude-opus-5-5")
    );
    assert_eq!(
        how("vertex_ai/claude-opus-5-5"),
        exact("vertex_ai/claude-opus-5-5")
    );
    assert_eq!(
        t.lookup("us.anthropic.claude-opus-5-5").unwrap().base.input,
        Some(4.4)
    );
    // Bedrock version suffix, then date: the Bedrock entry, not the Anthropic one.
    assert_eq!(
        how("us.anthropic.claude-opus-5-5-v1:0"),
        norm(
            "us.anthropic.claude-opus-5-5",
            "us.anthropic.claude-opus-5-5"
        )
    );
    assert_eq!(
        how("vertex_ai/claude-opus-5-5@20260915"),
        norm("vertex_ai/claude-opus-5-5", "vertex_ai/claude-opus-5-5")
    );
    // Dated, -latest, Vertex and gateway forms of the Anthropic id.
    for m in [
        "claude-opus-5-5-20260915",
        "claude-opus-5-5@20260915",
        "claude-opus-5-5-latest",
        "anthropic/claude-opus-5-5-20260915",
        "openrouter/anthropic/claude-opus-5-5",
        "eu-west.anthropic.claude-opus-5-5-20260915-v1:0",
    ] {
        assert_eq!(how(m), norm("claude-opus-5-5", "claude-opus-5-5"), "{m}");
    }
    assert_eq!(how("gpt-5.4-2031-01-01"), norm("gpt-5.4", "gpt-5.4"));
    assert_eq!(how("openai/gpt-6-sol"), norm("gpt-6-sol", "gpt-6-sol"));
    assert_eq!(
        how("models/gemini-3-flash-preview"),
        norm("gemini-3-flash-preview", "gemini-3-flash-preview")
    );
    // A variant LiteLLM does not list borrows its model's price, and says so.
    assert_eq!(
        how("claude-opus-5-5-thinking"),
        Some((
            "claude-opus-5-5".to_string(),
            Match::Prefix("claude-opus-5-5".into())
        ))
    );
    // A version or sibling the table does not list is never another model's price.
    assert_eq!(
        how("claude-opus-5-5-20260915").unwrap().0,
        "claude-opus-5-5"
    );
    for m in [
        "claude-opus-5-6",
        "claude-opus-5-5-fast",
        "claude-sonnet-4.5",
        "gpt-6-sol-mini",
        "llama-3",
        "",
        "   ",
        "éééééééééé-ééé",
    ] {
        assert_eq!(how(m), None, "{m}");
        assert_eq!(t.cost(Some(m), &usage(M, 0, 0, 0, 0)), None, "{m}");
    }
    assert_eq!(t.cost(None, &usage(M, 0, 0, 0, 0)), None);
}

#[test]
fn prefixes_never_price_another_model_or_version() {
    let t = table(
        r#"{"o3": {"input_cost_per_token": 2e-06},
            "claude-opus-5": {"input_cost_per_token": 5e-06},
            "gpt-4o": {"input_cost_per_token": 2.5e-06}}"#,
    );
    let id = |m: &str| t.lookup(m).map(|p| p.id.clone());
    assert_eq!(id("o3-mini"), None, "o3-mini is not o3");
    assert_eq!(id("o3-pro"), None);
    assert_eq!(
        id("claude-opus-5-5"),
        None,
        "claude-opus-5 is not claude-opus-5-5"
    );
    assert_eq!(id("claude-opus-5-5-20260915"), None);
    assert_eq!(id("claude-opus-5.5"), None);
    assert_eq!(id("claude-opus-5-20260101"), Some("claude-opus-5".into()));
    assert_eq!(id("gpt-4o-2024-08-06"), Some("gpt-4o".into()));
    assert_eq!(id("gpt-4o-0613"), Some("gpt-4o".into()));
    assert_eq!(id("gpt-4o-v2"), None);
}

#[test]
fn decorated_duplicates_prefer_the_bare_direct_entry() {
    // Three spellings of one model at three prices: the request's own spelling wins, and a
    // spelling that is none of them takes the bare, directly sold one.
    let t = table(
        r#"{"us.anthropic.claude-x-1": {"litellm_provider": "bedrock_converse", "input_cost_per_token": 4.4e-06},
            "vertex_ai/claude-x-1": {"litellm_provider": "vertex_ai-anthropic_models", "input_cost_per_token": 4.2e-06},
            "claude-x-1": {"litellm_provider": "anthropic", "input_cost_per_token": 4e-06}}"#,
    );
    let input = |m: &str| t.lookup(m).and_then(|p| p.base.input);
    assert_eq!(input("openrouter/anthropic/claude-x-1"), Some(4.0));
    assert_eq!(input("eu.anthropic.claude-x-1-v1:0"), Some(4.0));
    assert_eq!(input("us.anthropic.claude-x-1-v1:0"), Some(4.4));
    assert_eq!(input("vertex_ai/claude-x-1@default"), Some(4.2));
    // Without a bare entry, the provider order decides: Vertex before Bedrock.
    let t = table(
        r#"{"us.anthropic.claude-y-1": {"litellm_provider": "bedrock_converse", "input_cost_per_token": 4.4e-06},
            "vertex_ai/claude-y-1": {"litellm_provider": "vertex_ai-anthropic_models", "input_cost_per_token": 4.2e-06}}"#,
    );
    assert_eq!(t.lookup("claude-y-1").and_then(|p| p.base.input), Some(4.2));
    // A reseller's decorated id (LiteLLM's whole file lists dozens of them) prices only
    // requests that name it: its price is not the model's.
    let t = table(
        r#"{"kyma/claude-z-1": {"litellm_provider": "kyma", "input_cost_per_token": 5e-06}}"#,
    );
    assert!(t.lookup("kyma/claude-z-1").is_some());
    assert_eq!(t.lookup("claude-z-1"), None);
    assert_eq!(t.lookup("groq/claude-z-1"), None);
}
