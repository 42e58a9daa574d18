//! End to end: the synthetic agent binary against the in-process mock upstream. The mock's
//! records are the ground truth: every call, its true category, ids and the usage sent.

use std::collections::{BTreeSet, HashSet};

use agentprof::demo::mock_upstream::{MockConfig, MockRecord, MockUpstream};
use agentprof::observation::{Category, Usage};

/// The binary under test; in agentprof this is `CARGO_BIN_EXE_agentprof`.
const BIN: &str = env!("CARGO_BIN_EXE_agentprof");

async fn run_agent(seed: u64) -> (std::process::Output, Vec<MockRecord>) {
    let mock = MockUpstream::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let output = tokio::process::Command::new(BIN)
        .args(["synthetic-agent", "--turns", "6", "--think-ms", "0"])
        .args(["--seed", &seed.to_string()])
        .env("ANTHROPIC_BASE_URL", mock.base_url())
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("AGENTPROF_SYNTHETIC_VERBOSE")
        .output()
        .await
        .unwrap();
    let records = mock.records();
    mock.shutdown().await;
    (output, records)
}

/// What must repeat exactly for the same seed: category, model, streaming, usage.
type UsageKey = (Option<String>, Option<String>, bool, Option<Usage>);

fn usage(r: &MockRecord) -> Usage {
    r.usage
        .unwrap_or_else(|| panic!("record {} has no usage", r.seq))
}

fn category(r: &MockRecord) -> Category {
    r.truth_category
        .as_deref()
        .and_then(Category::parse)
        .unwrap_or_else(|| panic!("record {} has no valid truth category", r.seq))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_agent_produces_every_category_with_consistent_usage() {
    let (output, records) = run_agent(7).await;
    assert!(
        output.status.success(),
        "agent failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stdout.is_empty() && output.stderr.is_empty(),
        "the agent must be quiet"
    );

    let seen: BTreeSet<Category> = records.iter().map(category).collect();
    for c in Category::ALL
        .into_iter()
        .filter(|c| *c != Category::Unknown)
    {
        assert!(seen.contains(&c), "category {c} missing; saw {seen:?}");
    }
    assert!(!seen.contains(&Category::Unknown));

    let sessions: HashSet<_> = records.iter().map(|r| r.session_id.clone()).collect();
    assert_eq!(
        sessions.len(),
        1,
        "one session id on every call, sub-agents included"
    );
    assert!(sessions.iter().all(Option::is_some));

    let mut agents = HashSet::new();
    for r in &records {
        assert_eq!(
            (r.provider.as_str(), r.path.as_str(), r.status),
            ("anthropic", "/v1/messages?beta=true", Some(200))
        );
        let sub = category(r) == Category::Subagent;
        assert_eq!(
            r.agent_id.is_some(),
            sub,
            "agent id exactly on sub-agent calls (record {})",
            r.seq
        );
        agents.extend(r.agent_id.clone());
        let is_utility = category(r) == Category::Utility;
        assert_eq!(r.stream, !is_utility);
        assert_eq!(
            r.model.as_deref(),
            Some(if is_utility {
                "claude-haiku-4-5"
            } else {
                "claude-sonnet-4-6"
            })
        );
    }
    assert_eq!(agents.len(), 2, "two sub-agent processes");

    // Usage: internally consistent, cache written and then read.
    let mut written_so_far = 0;
    for r in &records {
        let u = usage(r);
        assert_eq!(
            u.cache_creation_input_tokens,
            u.cache_creation_5m_input_tokens + u.cache_creation_1h_input_tokens
        );
        assert!((1..=800).contains(&u.output_tokens));
        assert!(u.input_tokens > 0);
        assert!(
            u.cache_read_input_tokens <= written_so_far,
            "record {} reads what was never written",
            r.seq
        );
        written_so_far += u.cache_creation_input_tokens;
    }
    assert!(written_so_far > 0);
    // After the first call with a given system prompt (main agent, sub-agent), every call reads
    // that prefix back from the cache; utility calls carry no cache markers at all.
    let mut prefixes_seen = HashSet::new();
    for r in &records {
        let u = usage(r);
        match category(r) {
            Category::Utility => {
                assert_eq!(u.cache_read_input_tokens + u.cache_creation_input_tokens, 0)
            }
            c if prefixes_seen.insert(c == Category::Subagent) => {
                assert_eq!(u.cache_read_input_tokens, 0)
            }
            c => assert!(
                u.cache_read_input_tokens > 0,
                "record {} ({c}) should read the cache",
                r.seq
            ),
        }
    }
    // Forks re-send the main prefix: nearly all cached, only the instruction is fresh input.
    for r in records.iter().filter(|r| {
        matches!(
            category(r),
            Category::MemoryExtraction
                | Category::Dream
                | Category::AwaySummary
                | Category::Compaction
        )
    }) {
        let u = usage(r);
        assert!(
            u.input_tokens < 200 && u.cache_read_input_tokens > 2000,
            "fork {} usage {u:?}",
            r.seq
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_gives_identical_usage() {
    let key = |records: &[MockRecord]| -> Vec<UsageKey> {
        records
            .iter()
            .map(|r| (r.truth_category.clone(), r.model.clone(), r.stream, r.usage))
            .collect()
    };
    let (a, ra) = run_agent(3).await;
    let (b, rb) = run_agent(3).await;
    let (c, rc) = run_agent(4).await;
    assert!(a.status.success() && b.status.success() && c.status.success());
    assert_eq!(key(&ra), key(&rb));
    assert_ne!(key(&ra), key(&rc), "another seed behaves differently");
    // Ids are unique per call even though the usage repeats.
    assert_ne!(ra[0].session_id, rb[0].session_id);
}

#[tokio::test]
async fn agent_fails_clearly_without_upstream() {
    let missing = tokio::process::Command::new(BIN)
        .args(["synthetic-agent", "--turns", "1", "--think-ms", "0"])
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .await
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ANTHROPIC_BASE_URL is not set"));

    // A port nobody listens on: the first call fails and the agent exits non-zero.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = tokio::process::Command::new(BIN)
        .args(["synthetic-agent", "--turns", "1", "--think-ms", "0"])
        .env("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("call could not be sent"));
}
