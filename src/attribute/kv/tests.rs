use super::*;
use crate::observation::{ApiKind, Provider, Usage};

/// Bytes per token of `llama-3.1-8b`, the profile most tests use.
const B: u64 = 131_072;

fn p8b() -> &'static KvProfile {
    KvProfile::by_name("llama-3.1-8b").unwrap()
}

fn call(id: u64, t0: f64, t1: f64, usage: Usage) -> Call {
    Call {
        id,
        t_start: t0,
        t_first_byte: None,
        t_end: Some(t1),
        provider: Provider::Anthropic,
        api: ApiKind::Messages,
        method: "POST".to_string(),
        path: "/v1/messages".to_string(),
        model: Some("claude-sonnet-4-6".to_string()),
        stream: true,
        status: Some(200),
        usage: Some(usage),
        upstream_request_id: None,
        response_id: None,
        session_id: Some("s".to_string()),
        agent_id: None,
        parent_agent_id: None,
        request_bytes: 0,
        response_bytes: 0,
        client_bytes: None,
        category: Category::UserTurn,
        classified_by: "default".to_string(),
        error: None,
        bodies: None,
        via_websocket: None,
        project: None,
        starts_turn: false,
    }
}

fn input(n: u64) -> Usage {
    Usage {
        input_tokens: n,
        ..Usage::default()
    }
}

/// `input` uncached, `read` cache reads, `write` 5-minute cache writes.
fn cached(input: u64, read: u64, write: u64) -> Usage {
    Usage {
        input_tokens: input,
        cache_read_input_tokens: read,
        cache_creation_input_tokens: write,
        cache_creation_5m_input_tokens: write,
        ..Usage::default()
    }
}

fn run(calls: &[Call], trace_end: f64) -> KvFigures {
    let refs: Vec<&Call> = calls.iter().collect();
    server_kv(&refs, p8b(), trace_end)
}

/// Timeline points in units of `B`.
fn tl(points: &[(f64, u64)]) -> Vec<(f64, u64)> {
    points.iter().map(|&(t, n)| (t, n * B)).collect()
}

fn bs(n: u64) -> f64 {
    (n * B) as f64
}

#[test]
fn published_bytes_per_token() {
    for (name, bf16) in [
        ("llama-3.1-8b", 131_072),
        ("llama-3.1-70b", 327_680),
        ("llama-3.1-405b", 516_096),
        ("qwen3-235b-a22b", 192_512),
        ("deepseek-v3", 70_272),
    ] {
        assert_eq!(
            KvProfile::by_name(name).unwrap().bytes_per_token(),
            bf16,
            "{name}"
        );
        let fp8 = KvProfile::by_name(&format!("{name}-fp8")).unwrap();
        assert_eq!(fp8.bytes_per_token(), bf16 / 2, "{name}-fp8");
        assert_eq!(fp8.dtype, "fp8");
    }
    assert_eq!(KvProfile::names().len(), 10);
}

#[test]
fn describe_and_default() {
    let p = KvProfile::default_profile();
    assert_eq!(p.name, DEFAULT_PROFILE);
    assert_eq!(
        p.describe(),
        "llama-3.1-405b: GQA, 2 (K+V) × 126 layers × 8 KV heads × 128 dim × 2 B (bf16) = 516,096 B/token"
    );
    assert_eq!(
        KvProfile::by_name("deepseek-v3-fp8").unwrap().describe(),
        "deepseek-v3-fp8: MLA, 61 layers × (512 latent + 64 RoPE) dim × 1 B (fp8) = 35,136 B/token"
    );
    assert_eq!(profiles::thousands(0), "0");
    assert_eq!(profiles::thousands(999), "999");
    assert_eq!(profiles::thousands(1_000), "1,000");
}

#[test]
fn unknown_profile_lists_valid_names() {
    assert!(KvProfile::by_name("gpt-4").is_none());
    let msg = KvProfile::from_name("gpt-4").unwrap_err().to_string();
    assert!(msg.contains("\"gpt-4\""), "{msg}");
    for name in KvProfile::names() {
        assert!(msg.contains(name), "{msg}");
    }
    assert_eq!(
        KvProfile::from_name("llama-3.1-70b").unwrap().name,
        "llama-3.1-70b"
    );
}

#[test]
fn two_overlapping_calls() {
    let f = run(
        &[
            call(1, 0.0, 10.0, input(1000)),
            call(2, 5.0, 15.0, input(2000)),
        ],
        20.0,
    );
    assert_eq!(f.profile, "llama-3.1-8b");
    assert_eq!(f.bytes_per_token, B);
    assert_eq!(f.peak_bytes, 3000 * B);
    assert_eq!(f.in_flight_byte_seconds, bs(30_000));
    assert_eq!(f.resident_byte_seconds, 0.0);
    assert_eq!(f.byte_seconds, bs(30_000));
    assert_eq!(
        f.timeline,
        tl(&[(0.0, 1000), (5.0, 3000), (10.0, 2000), (15.0, 0)])
    );
}

#[test]
fn back_to_back_calls_do_not_overlap() {
    let f = run(
        &[
            call(1, 0.0, 10.0, input(1000)),
            call(2, 10.0, 20.0, input(1000)),
        ],
        20.0,
    );
    assert_eq!(f.peak_bytes, 1000 * B);
    assert_eq!(f.timeline, tl(&[(0.0, 1000), (20.0, 0)]));
}

#[test]
fn one_session_three_calls_a_minute_apart() {
    let calls = [
        call(1, 0.0, 10.0, cached(10, 0, 1000)),
        call(2, 60.0, 70.0, cached(10, 1000, 500)),
        call(3, 120.0, 130.0, cached(10, 1500, 200)),
    ];
    let f = run(&calls, 1000.0);
    assert_eq!(
        f.in_flight_byte_seconds,
        bs(1010 * 10 + 1510 * 10 + 1710 * 10)
    );
    // 1000 from 10 to 60, 1500 from 70 to 120 (paused while calls 2 and 3 fly), then 1700
    // from 130 for the full 5-minute TTL.
    assert_eq!(
        f.resident_byte_seconds,
        bs(1000 * 50 + 1500 * 50 + 1700 * 300)
    );
    assert_eq!(f.peak_bytes, 1710 * B);
    assert_eq!(
        f.timeline,
        tl(&[
            (0.0, 1010),
            (10.0, 1000),
            (60.0, 1510),
            (70.0, 1500),
            (120.0, 1710),
            (130.0, 1700),
            (430.0, 0)
        ])
    );
}

#[test]
fn expired_prefix_leaves_a_gap() {
    let calls = [
        call(1, 0.0, 10.0, cached(0, 0, 1000)),
        call(2, 610.0, 620.0, cached(0, 0, 1000)),
    ];
    let f = run(&calls, 10_000.0);
    assert_eq!(f.resident_byte_seconds, bs(1000 * 300 * 2));
    assert_eq!(
        f.timeline,
        tl(&[(0.0, 1000), (310.0, 0), (610.0, 1000), (920.0, 0)])
    );
}

#[test]
fn one_hour_write_stays_an_hour() {
    let w1h = Usage {
        cache_creation_input_tokens: 1000,
        cache_creation_1h_input_tokens: 1000,
        ..Usage::default()
    };
    let f = run(&[call(1, 0.0, 10.0, w1h)], 10_000.0);
    assert_eq!(f.resident_byte_seconds, bs(1000 * 3600));
    assert_eq!(f.timeline, tl(&[(0.0, 1000), (3610.0, 0)]));
    let f = run(&[call(1, 0.0, 10.0, cached(0, 0, 1000))], 10_000.0);
    assert_eq!(f.resident_byte_seconds, bs(1000 * 300));
}

#[test]
fn trace_end_cuts_residency_not_flight() {
    let c = [call(1, 0.0, 10.0, cached(0, 0, 1000))];
    let f = run(&c, 100.0);
    assert_eq!(f.resident_byte_seconds, bs(1000 * 90));
    assert_eq!(f.timeline, tl(&[(0.0, 1000), (100.0, 0)]));
    let f = run(&c, 5.0);
    assert_eq!(f.resident_byte_seconds, 0.0);
    assert_eq!(f.in_flight_byte_seconds, bs(1000 * 10));
    // NaN means "no cut".
    assert_eq!(run(&c, f64::NAN).resident_byte_seconds, bs(1000 * 300));
}

#[test]
fn two_sessions_resident_at_once_peak_is_the_sum() {
    let a = call(1, 0.0, 10.0, cached(0, 0, 1000));
    let mut b = call(2, 20.0, 30.0, cached(0, 0, 3000));
    b.session_id = Some("other".to_string());
    let f = run(&[a.clone(), b], 1000.0);
    assert_eq!(f.peak_bytes, 4000 * B);
    assert_eq!(
        f.timeline,
        tl(&[(0.0, 1000), (20.0, 4000), (310.0, 3000), (330.0, 0)])
    );

    // A sub-agent of the same session has its own prefix; so does a calls without a session.
    let mut sub = call(2, 20.0, 30.0, cached(0, 0, 3000));
    sub.agent_id = Some("agent-1".to_string());
    let mut anon = call(3, 40.0, 50.0, cached(0, 0, 500));
    anon.session_id = None;
    let f = run(&[a, sub, anon], 1000.0);
    assert_eq!(f.peak_bytes, 4500 * B);
}

#[test]
fn other_model_in_same_session_keeps_its_own_prefix() {
    let sonnet = call(1, 0.0, 10.0, cached(0, 0, 1000));
    let mut haiku = call(2, 60.0, 70.0, cached(0, 0, 200));
    haiku.model = Some("claude-haiku-4-5".to_string());
    haiku.category = Category::Utility;
    let f = run(&[sonnet, haiku], 1000.0);
    // Neither pauses nor replaces the other: both run their full TTL.
    assert_eq!(f.resident_byte_seconds, bs(1000 * 300 + 200 * 300));
    assert_eq!(f.peak_bytes, 1200 * B);
}

#[test]
fn parallel_calls_of_one_key_pause_and_replace() {
    let calls = [
        call(1, 0.0, 10.0, cached(0, 0, 1000)),
        call(2, 5.0, 20.0, cached(0, 1000, 0)),
    ];
    let f = run(&calls, 1000.0);
    // Call 1's prefix would be resident from 10, but call 2 (same key) is in flight until
    // 20, when its own prefix replaces it.
    assert_eq!(f.resident_byte_seconds, bs(1000 * 300));
    assert_eq!(f.in_flight_byte_seconds, bs(1000 * 10 + 1000 * 15));
    assert_eq!(f.peak_bytes, 2000 * B);
}

#[test]
fn residency_is_charged_to_the_last_user() {
    let first = call(1, 0.0, 10.0, cached(0, 0, 1000));
    let mut second = call(2, 60.0, 70.0, cached(0, 1000, 0));
    second.category = Category::Compaction;
    let f = run(&[first, second], 1000.0);
    let cat = &f.by_category_byte_seconds;
    assert_eq!(cat[&Category::UserTurn], bs(1000 * 10 + 1000 * 50));
    assert_eq!(cat[&Category::Compaction], bs(1000 * 10 + 1000 * 300));
}

#[test]
fn five_times_the_prompt_is_five_times_the_kv() {
    let small = run(&[call(1, 0.0, 10.0, input(200_000))], 100.0);
    let large = run(&[call(1, 0.0, 10.0, input(1_000_000))], 100.0);
    assert_eq!(large.peak_bytes, 5 * small.peak_bytes);
    assert_eq!(large.byte_seconds, 5.0 * small.byte_seconds);
    let small = run(&[call(1, 0.0, 10.0, cached(0, 200_000, 0))], 1000.0);
    let large = run(&[call(1, 0.0, 10.0, cached(0, 1_000_000, 0))], 1000.0);
    assert_eq!(large.peak_bytes, 5 * small.peak_bytes);
    assert_eq!(large.byte_seconds, 5.0 * small.byte_seconds);
    assert_eq!(large.peak_bytes, 1_000_000 * B);
}

fn mixed_trace() -> Vec<Call> {
    let cats = [
        Category::UserTurn,
        Category::Subagent,
        Category::Compaction,
        Category::Utility,
        Category::MemoryExtraction,
    ];
    (0..40u64)
        .map(|i| {
            let t0 = i as f64 * 37.3 + (i % 3) as f64 * 0.7;
            let mut c = call(
                i + 1,
                t0,
                t0 + 5.0 + (i % 7) as f64 * 9.1,
                cached(i * 13, i * 977, (i % 4) * 311),
            );
            c.category = cats[(i % 5) as usize];
            c.agent_id = (i % 3 == 1).then(|| format!("agent-{}", i % 2));
            c.session_id = (i % 11 != 0).then(|| "s".to_string());
            if i % 6 == 0 {
                let mut u = c.usage.unwrap();
                u.cache_creation_1h_input_tokens = u.cache_creation_input_tokens;
                u.cache_creation_5m_input_tokens = 0;
                c.usage = Some(u);
            }
            c
        })
        .collect()
}

#[test]
fn categories_sum_to_total() {
    let f = run(&mixed_trace(), 1200.0);
    let sum: f64 = f.by_category_byte_seconds.values().sum();
    assert!(f.byte_seconds > 0.0 && f.resident_byte_seconds > 0.0);
    assert!(
        (sum - f.byte_seconds).abs() <= 1e-6 * f.byte_seconds,
        "{sum} vs {}",
        f.byte_seconds
    );
    assert_eq!(
        f.byte_seconds,
        f.in_flight_byte_seconds + f.resident_byte_seconds
    );
    // The timeline is compact and its maximum is the peak.
    assert!(
        f.timeline
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 != w[1].1)
    );
    assert_eq!(f.timeline.iter().map(|p| p.1).max(), Some(f.peak_bytes));
    assert_eq!(f.timeline.last().map(|p| p.1), Some(0));
}

#[test]
fn input_order_does_not_matter() {
    let calls = mixed_trace();
    let forward: Vec<&Call> = calls.iter().collect();
    let mut shuffled = forward.clone();
    shuffled.reverse();
    shuffled.swap(3, 17);
    let profile = KvProfile::default_profile();
    assert_eq!(
        server_kv(&forward, profile, 1200.0),
        server_kv(&shuffled, profile, 1200.0)
    );
}

#[test]
fn calls_without_usage_or_end_contribute_nothing() {
    let mut no_usage = call(1, 0.0, 10.0, input(1000));
    no_usage.usage = None;
    let mut no_end = call(2, 0.0, 10.0, cached(0, 0, 1000));
    no_end.t_end = None;
    let f = run(&[no_usage, no_end], 100.0);
    assert_eq!(f.peak_bytes, 0);
    assert_eq!(f.byte_seconds, 0.0);
    assert!(f.by_category_byte_seconds.is_empty());
    assert!(f.timeline.is_empty());
    assert_eq!(run(&[], 0.0).timeline, Vec::new());
}

#[test]
fn figures_serialise_with_category_names() {
    let f = run(&[call(1, 0.0, 1.0, input(1))], 1.0);
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json["by_category_byte_seconds"]["user_turn"],
        serde_json::json!(B as f64)
    );
    assert_eq!(json["timeline"][0], serde_json::json!([0.0, B]));
}

#[test]
fn timeline_by_category_splits_the_total() {
    let f = run(&mixed_trace(), 1200.0);
    assert!(f.timeline_by_category.len() >= f.timeline.len());
    // At every instant of the split timeline, its rows add up to the total step function.
    let total_at = |t: f64| {
        f.timeline
            .iter()
            .take_while(|p| p.0 <= t)
            .last()
            .map_or(0, |p| p.1)
    };
    for (t, split) in &f.timeline_by_category {
        assert_eq!(split.iter().sum::<u64>(), total_at(*t), "at {t}");
    }
    // More than one category is held at some point of this mixed trace.
    assert!(
        f.timeline_by_category
            .iter()
            .any(|(_, s)| s.iter().filter(|b| **b > 0).count() > 1)
    );
    assert_eq!(f.timeline_by_category.last().map(|p| p.1), Some([0; 8]));
}
