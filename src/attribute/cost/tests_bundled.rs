//! The bundled snapshot: its label, and every price the project's facts list, read exactly
//! from it, with the cost of a realistic call on each computed by hand.

use super::tests::{M, approx, usage};
use super::*;

/// USD per million: input, output, cache read, 5-minute write, 1-hour write, as billed (with
/// LiteLLM's fallbacks applied) for a prompt below every tier.
type Five = [f64; 5];

fn billed(t: &PriceTable, id: &str, prompt: u64) -> Five {
    let p = t.lookup(id).unwrap_or_else(|| panic!("{id} is priced"));
    assert_eq!(p.id, id, "{id} resolves to itself");
    let b = p.billed_at(prompt);
    [
        b.input,
        b.output,
        b.cache_read,
        b.cache_write_5m,
        b.cache_write_1h,
    ]
    .map(|price| price.unwrap_or_else(|| panic!("{id} has every price")))
}

/// Each model's cost of `call` is the figure computed by hand.
fn costs_are(t: &PriceTable, call: &Usage, by_hand: &[(&str, f64)]) {
    for &(id, usd) in by_hand {
        let got = t.cost(Some(id), call).unwrap();
        assert!(approx(got, usd), "{id}: {got} vs {usd}");
    }
}

#[test]
fn snapshot_parses_with_its_label() {
    let t = PriceTable::bundled();
    assert_eq!(t.as_of(), "litellm 1.110.2 (2026-11-20)");
    assert!(
        t.source()
            .contains("model_prices_and_context_window_backup.json"),
        "{}",
        t.source()
    );
    assert!(
        t.source().contains("scripts/update-prices"),
        "{}",
        t.source()
    );
    assert_eq!(t.override_file(), None);
    // Every entry of the file is kept (the script already filtered them) …
    let entries = BUNDLED.lines().filter(|l| l.starts_with('"')).count() - 1;
    assert_eq!(t.models().len(), entries);
    assert!(entries > 1000, "{entries}");
    assert!(BUNDLED.contains(&format!("\"models\": {entries}")));
    // … and every one has a token price and a provider the script keeps.
    for m in t.models() {
        assert!(
            m.base.input.is_some() || m.base.output.is_some(),
            "{}",
            m.id
        );
        assert_eq!(m.origin, PriceOrigin::Bundled);
        assert!(!m.provider.is_empty(), "{}", m.id);
    }
}

#[test]
fn anthropic_lineup_exactly() {
    let t = PriceTable::bundled();
    let expected: [(&str, Five); 10] = [
        ("claude-opus-5-5", [4.0, 20.0, 0.2, 5.0, 8.0]),
        ("claude-sonnet-5-5", [2.0, 10.0, 0.1, 2.5, 4.0]),
        ("claude-sonnet-5", [2.0, 10.0, 0.2, 2.5, 4.0]),
        ("claude-opus-5", [5.0, 25.0, 0.5, 6.25, 10.0]),
        ("claude-opus-4-8", [5.0, 25.0, 0.5, 6.25, 10.0]),
        ("claude-opus-4-7", [5.0, 25.0, 0.5, 6.25, 10.0]),
        ("claude-fable-5-1", [10.0, 50.0, 0.25, 12.5, 20.0]),
        ("claude-haiku-5-5", [0.1, 0.5, 0.01, 0.125, 0.2]),
        ("claude-haiku-4-5", [1.0, 5.0, 0.1, 1.25, 2.0]),
        ("claude-sonnet-4-6", [3.0, 15.0, 0.3, 3.75, 6.0]),
    ];
    for (id, five) in expected {
        assert_eq!(billed(&t, id, 0), five, "{id}");
        assert_eq!(t.lookup(id).unwrap().provider, "anthropic", "{id}");
        // Every price is the entry's own, no fallback.
        let base = t.lookup(id).unwrap().base;
        assert!(
            base.cache_read.is_some() && base.cache_write_1h.is_some(),
            "{id}"
        );
    }
    // Only Haiku 5.5 has a tier: above 100K prompt tokens.
    for (id, _) in expected {
        let tiers = &t.lookup(id).unwrap().tiers;
        assert_eq!(tiers.is_empty(), id != "claude-haiku-5-5", "{id}");
    }
    assert_eq!(
        t.lookup("claude-haiku-5-5").unwrap().base_limit(),
        Some(100_000)
    );
    assert_eq!(
        billed(&t, "claude-haiku-5-5", 100_001),
        [0.5, 2.5, 0.05, 0.625, 1.0]
    );

    // A main-loop call: 1,200 uncached, 3,000 written for 5 minutes and 5,000 for an hour,
    // 60,000 read, 900 out (69,200 prompt tokens, below every tier).
    let call = usage(1_200, 3_000, 5_000, 60_000, 900);
    let by_hand = [
        // 1200·4 + 3000·5 + 5000·8 + 60000·0.2 + 900·20 = 89,800 µ$
        ("claude-opus-5-5", 0.0898),
        // 2400 + 7500 + 20000 + 6000 + 9000
        ("claude-sonnet-5-5", 0.0449),
        // 2400 + 7500 + 20000 + 12000 + 9000
        ("claude-sonnet-5", 0.0509),
        // 6000 + 18750 + 50000 + 30000 + 22500
        ("claude-opus-5", 0.12725),
        ("claude-opus-4-8", 0.12725),
        ("claude-opus-4-7", 0.12725),
        // 12000 + 37500 + 100000 + 15000 + 45000
        ("claude-fable-5-1", 0.2095),
        // 120 + 375 + 1000 + 600 + 450
        ("claude-haiku-5-5", 0.002545),
        // 1200 + 3750 + 10000 + 6000 + 4500
        ("claude-haiku-4-5", 0.02545),
    ];
    costs_are(&t, &call, &by_hand);
}

#[test]
fn haiku_5_5_tier_at_and_above_100k() {
    let t = PriceTable::bundled();
    let h = Some("claude-haiku-5-5");
    // Exactly 100,000 prompt tokens (1,000 + 4,000 + 95,000): base prices.
    // 1000·0.1 + 4000·0.125 + 95000·0.01 + 1000·0.5 = 2,050 µ$
    let at = usage(1_000, 4_000, 0, 95_000, 1_000);
    assert!(approx(t.cost(h, &at).unwrap(), 0.00205));
    // 100,001: the whole request at the tier.
    // 1000·0.5 + 4000·0.625 + 95001·0.05 + 1000·2.5 = 10,250.05 µ$
    let above = usage(1_000, 4_000, 0, 95_001, 1_000);
    assert!(approx(t.cost(h, &above).unwrap(), 0.01025005));
    // 1-hour writes have a tier price of their own: 10,000 at 1.00 above 100K, 0.20 below.
    assert!(approx(
        t.cost(h, &usage(0, 0, 10_000, 90_001, 0)).unwrap(),
        0.01 + 0.00450005
    ));
    assert!(approx(
        t.cost(h, &usage(0, 0, 10_000, 90_000, 0)).unwrap(),
        0.002 + 0.0009
    ));
}

#[test]
fn openai_and_gemini_lineup_exactly() {
    let t = PriceTable::bundled();
    // gpt-5.4 and the minis publish no cache-write price: writes bill as input.
    let expected: [(&str, Five); 6] = [
        ("gpt-6-sol", [2.0, 10.0, 0.2, 2.5, 2.5]),
        ("gpt-6.1-sol", [2.0, 10.0, 0.1, 2.5, 2.5]),
        ("gpt-5.4", [2.5, 15.0, 0.25, 2.5, 2.5]),
        ("gpt-5.4-mini", [0.75, 4.5, 0.075, 0.75, 0.75]),
        ("gemini-3-flash-preview", [0.5, 3.0, 0.05, 0.5, 0.5]),
        ("gemini-3.1-flash-lite", [0.25, 1.5, 0.025, 0.25, 0.25]),
    ];
    for (id, five) in expected {
        assert_eq!(billed(&t, id, 0), five, "{id}");
    }
    // Above 272K prompt tokens.
    assert_eq!(billed(&t, "gpt-6-sol", 272_001), [4.0, 15.0, 0.4, 5.0, 5.0]);
    assert_eq!(
        billed(&t, "gpt-6.1-sol", 272_001),
        [4.0, 15.0, 0.2, 5.0, 5.0]
    );
    assert_eq!(billed(&t, "gpt-5.4", 272_001), [5.0, 22.5, 0.5, 5.0, 5.0]);
    for id in [
        "gpt-5.4-mini",
        "gemini-3-flash-preview",
        "gemini-3.1-flash-lite",
    ] {
        assert!(t.lookup(id).unwrap().tiers.is_empty(), "{id}");
    }

    // A Codex call: 5,000 uncached, 2,000 written, 40,000 cached, 1,500 out.
    let call = usage(5_000, 2_000, 0, 40_000, 1_500);
    let by_hand = [
        // 5000·2 + 2000·2.5 + 40000·0.2 + 1500·10 = 38,000 µ$
        ("gpt-6-sol", 0.038),
        // 10000 + 5000 + 4000 + 15000
        ("gpt-6.1-sol", 0.034),
        // 12500 + 2000·2.5 (input price) + 10000 + 22500
        ("gpt-5.4", 0.05),
        // 3750 + 1500 + 3000 + 6750
        ("gpt-5.4-mini", 0.015),
    ];
    costs_are(&t, &call, &by_hand);
    // A Gemini CLI call: 5,000 uncached, 40,000 cached, 1,500 out (no writes).
    let call = usage(5_000, 0, 0, 40_000, 1_500);
    // 5000·0.5 + 40000·0.05 + 1500·3 = 9,000 µ$; 1250 + 1000 + 2250 = 4,500 µ$
    assert!(approx(
        t.cost(Some("gemini-3-flash-preview"), &call).unwrap(),
        0.009
    ));
    assert!(approx(
        t.cost(Some("gemini-3.1-flash-lite"), &call).unwrap(),
        0.0045
    ));
}

#[test]
fn openai_tiers_at_and_above_272k() {
    let t = PriceTable::bundled();
    // 72,000 uncached + 200,000 cached = 272,000: base prices; one more cached token: tier.
    let at = usage(72_000, 0, 0, 200_000, 2_000);
    let above = usage(72_000, 0, 0, 200_001, 2_000);
    let cases = [
        // 72000·2 + 200000·0.2 + 2000·10 | 72000·4 + 200001·0.4 + 2000·15
        ("gpt-6-sol", 0.204, 0.3980004),
        // 144000 + 20000 + 20000 | 288000 + 40000.2 + 30000
        ("gpt-6.1-sol", 0.184, 0.3580002),
        // 180000 + 50000 + 30000 | 360000 + 100000.5 + 45000
        ("gpt-5.4", 0.26, 0.5050005),
    ];
    for (id, below, tier) in cases {
        assert!(
            approx(t.cost(Some(id), &at).unwrap(), below),
            "{id} at 272K"
        );
        assert!(
            approx(t.cost(Some(id), &above).unwrap(), tier),
            "{id} above 272K"
        );
        assert_eq!(t.lookup(id).unwrap().base_limit(), Some(272_000), "{id}");
    }
    assert_eq!(
        t.cost(Some("gpt-5.4"), &usage(M, 0, 0, 0, 0)),
        Some(5.0),
        "1M prompt: tier"
    );
}
