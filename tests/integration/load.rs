//! Load: 2,000 streaming calls over 200 concurrent keep-alive connections through one
//! `agentprof proxy` process. No call may fail or lose a byte, the trace must hold exactly one
//! record per call, and its token totals must equal what the mock sent, to the token.
//! (Whether memory stays flat over 100k calls is measured by scripts/load-soak: too long for
//! a test; figures in docs/reliability.md.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use agentprof::observation::Usage;

use crate::client::{ProxyProcess, client, fnv1a64, post, runtime};
use crate::support::Mock;

const CONNECTIONS: usize = 200;
const CALLS_PER_CONNECTION: usize = 10;

fn total(usages: impl Iterator<Item = Usage>) -> Usage {
    let mut sum = Usage::default();
    for u in usages {
        sum.add(&u);
    }
    sum
}

#[test]
fn two_thousand_streaming_calls_over_200_connections_lose_nothing() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy = ProxyProcess::start(&trace_path, &["--anthropic-upstream", &mock.url()]);
    let url = format!("{}/v1/messages", proxy.base);
    let rt = runtime(2);
    let http = client(CONNECTIONS);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most_in_flight = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(CONNECTIONS));
    let started = Instant::now();
    let replies = rt.block_on(async {
        let mut tasks = Vec::new();
        for conn in 0..CONNECTIONS {
            let (http, url) = (http.clone(), url.clone());
            let (in_flight, most, barrier) =
                (in_flight.clone(), most_in_flight.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                let mut replies = Vec::new();
                barrier.wait().await;
                for n in 0..CALLS_PER_CONNECTION {
                    // Prompts of different lengths give different token counts.
                    let body = format!(
                        r#"{{"model":"claude-sonnet-4-6","max_tokens":{},"stream":true,"messages":[{{"role":"user","content":"load {conn} {n} {}"}}]}}"#,
                        16 + (conn * 7 + n) % 48,
                        "word ".repeat((conn + n) % 20)
                    );
                    let mut headers = vec![("x-api-key", "sk-ant-test-SECRETKEY-load-0123456789")];
                    // The first call of every connection trickles (its events 50 ms apart), so
                    // all 200 are open at once.
                    if n == 0 {
                        headers.push(("x-mock-fault", "slow:50"));
                    }
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let reply = post(&http, &url, &headers, &body)
                        .await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    replies.push(reply.map_err(|e| format!("connection {conn} call {n}: {e}")));
                }
                replies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed();
    proxy.stop();
    eprintln!(
        "load: {} calls over {CONNECTIONS} connections in {:.2} s",
        replies.len(),
        elapsed.as_secs_f64()
    );

    let records = mock.records();
    let by_id: HashMap<&str, _> = records.iter().map(|r| (r.request_id.as_str(), r)).collect();
    let mut errors = Vec::new();
    for reply in &replies {
        match reply {
            Err(e) => errors.push(e.clone()),
            Ok(r) if r.status != 200 || r.broken => {
                errors.push(format!("status {} broken {}", r.status, r.broken));
            }
            Ok(r) => {
                let record = by_id[r.header("request-id").unwrap()];
                if fnv1a64(&r.body) != record.body_fnv1a64 {
                    errors.push(format!(
                        "{}: other bytes than upstream sent",
                        record.request_id
                    ));
                }
            }
        }
    }
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(replies.len(), CONNECTIONS * CALLS_PER_CONNECTION);
    assert_eq!(
        records.len(),
        replies.len(),
        "every call reached upstream once"
    );
    assert_eq!(
        most_in_flight.load(Ordering::SeqCst),
        CONNECTIONS,
        "all connections were busy at once"
    );

    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(
        trace.calls.len(),
        replies.len(),
        "one trace record per call"
    );
    assert_eq!(trace.footer.as_ref().unwrap().calls, replies.len() as u64);
    let ids: HashSet<&str> = trace
        .calls
        .iter()
        .map(|c| c.upstream_request_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids.len(), replies.len(), "no call recorded twice");
    assert!(
        trace
            .calls
            .iter()
            .all(|c| c.error.is_none() && c.status == Some(200))
    );
    let traced = total(trace.calls.iter().map(|c| c.usage.unwrap()));
    let sent = total(records.iter().map(|r| r.usage.unwrap()));
    assert_eq!(traced, sent, "token totals equal the mock's, exactly");
    assert!(sent.output_tokens > 10_000, "{sent:?}");
}
