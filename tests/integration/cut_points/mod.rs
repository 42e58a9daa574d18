//! The client gets exactly the bytes upstream sent, wherever upstream breaks off.
//!
//! A scripted loopback upstream ([`upstream`]) answers through `agentprof proxy` with an
//! Anthropic, OpenAI Chat or Responses body, streaming or JSON, and breaks the connection off
//! at a chosen point: in the head, on every event boundary, in the middle of every event, after
//! the last data byte but before a chunked body's end; by reset or by close; written at once or
//! trickled. The client ([`wire`]) reads the raw socket. For every cut, the body it received
//! must equal upstream's body up to the cut, byte for byte, and must not look complete when
//! upstream's was not; the trace must say how many bytes the client got and that upstream's
//! cut reached it whole. One test walks every cut point systematically, a property test draws
//! random ones.

mod bodies;
mod upstream;
mod wire;

use agentprof::observation::{Call, CallErrorKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use self::bodies::Api;
use self::upstream::{Break, Cut, Script, Upstream};
use crate::client::ProxyProcess;
use crate::support::trace;

const ANTHROPIC_KEY: (&str, &str) = ("x-api-key", "sk-ant-test-SECRETKEY-cuts-0123456789");
const OPENAI_KEY: (&str, &str) = ("authorization", "Bearer sk-test-SECRETKEY-cuts-0123456789");

/// One exchange and what the trace must say about it.
struct Case {
    id: u64,
    what: String,
    script: Script,
    /// Body bytes upstream sent before it broke off (all of them when it did not).
    sent: usize,
    /// What the client must get of them.
    expected: Vec<u8>,
}

/// The proxy and upstream for a run of cases; checks each case as it goes and the trace at
/// the end.
struct Bench {
    upstream: Upstream,
    proxy: Option<ProxyProcess>,
    dir: tempfile::TempDir,
    cases: Vec<Case>,
}

impl Bench {
    fn start() -> Bench {
        let upstream = Upstream::start();
        let dir = tempfile::tempdir().unwrap();
        let proxy = ProxyProcess::start(
            &dir.path().join("trace.jsonl"),
            &[
                "--anthropic-upstream",
                &upstream.url(),
                "--openai-upstream",
                &upstream.url(),
            ],
        );
        Bench {
            upstream,
            proxy: Some(proxy),
            dir,
            cases: Vec::new(),
        }
    }

    /// Runs one exchange and checks what the client received. `strip`: a Chat stream whose
    /// client did not ask for usage (the proxy asks and takes it out again).
    fn exchange(
        &mut self,
        api: Api,
        stream: bool,
        strip: bool,
        script: Script,
    ) -> Result<(), String> {
        let id = self.cases.len() as u64 + 1;
        let body = script.body();
        let sent = match script.cut {
            Cut::None => body.len(),
            Cut::Head(_) => 0,
            Cut::Body(n) => n.min(body.len()),
        };
        let expected = if strip {
            bodies::without_usage(&script.pieces, sent)
        } else {
            body[..sent].to_vec()
        };
        let what = format!(
            "case {id}: {api:?} {}{} {}, cut {:?} by {:?}{} (of {} body bytes)",
            if stream { "stream" } else { "JSON" },
            if strip {
                " (usage asked by the proxy)"
            } else {
                ""
            },
            if script.chunked {
                "chunked"
            } else {
                "by length"
            },
            script.cut,
            script.how,
            if script.paced {
                ", trickled"
            } else {
                ", all at once"
            },
            body.len()
        );
        self.upstream.script(id, script.clone());
        let proxy = self.proxy.as_ref().unwrap();
        let auth = if api == Api::Messages {
            ANTHROPIC_KEY
        } else {
            OPENAI_KEY
        };
        let got = wire::exchange(
            proxy.authority(),
            api.proxy_path(),
            id,
            auth,
            &api.request(stream, !strip),
        );
        let result = (|| {
            let got = got.map_err(|e| format!("{what}: {e}"))?;
            if let Cut::Head(_) = script.cut {
                if got.status != 502 {
                    return Err(format!(
                        "{what}: status {} instead of agentprof's 502",
                        got.status
                    ));
                }
                return Ok(());
            }
            if got.status != 200 {
                return Err(format!("{what}: status {}", got.status));
            }
            if got.body != expected {
                return Err(format!(
                    "{what}: the client got {} bytes, not the {} expected of the {sent} upstream \
                     sent\nclient:   {:?}\nexpected: {:?}",
                    got.body.len(),
                    expected.len(),
                    String::from_utf8_lossy(&got.body),
                    String::from_utf8_lossy(&expected)
                ));
            }
            let upstream_complete =
                script.cut == Cut::None || (!script.chunked && sent == body.len());
            if got.complete != upstream_complete {
                return Err(format!(
                    "{what}: the client's body {} complete, upstream's {}",
                    if got.complete { "looks" } else { "is not" },
                    if upstream_complete { "was" } else { "was not" }
                ));
            }
            Ok(())
        })();
        self.cases.push(Case {
            id,
            what,
            script,
            sent,
            expected,
        });
        result
    }

    /// Stops the proxy and checks every case's record.
    fn check_trace(mut self) {
        self.proxy.take().unwrap().stop();
        let trace = trace(self.dir.path());
        assert_eq!(
            trace.calls.len(),
            self.cases.len(),
            "one record per exchange"
        );
        for case in &self.cases {
            let call = trace
                .calls
                .iter()
                .find(|c| c.id == case.id)
                .unwrap_or_else(|| panic!("{}: no record", case.what));
            check_record(case, call);
        }
    }
}

fn check_record(case: &Case, call: &Call) {
    let what = &case.what;
    let error = call.error.as_ref();
    if let Cut::Head(_) = case.script.cut {
        assert_eq!(call.status, Some(502), "{what}");
        assert_eq!(call.response_bytes, 0, "{what}");
        assert_eq!(
            error.map(|e| e.kind),
            Some(CallErrorKind::UpstreamBody),
            "{what}"
        );
        return;
    }
    assert_eq!(call.status, Some(200), "{what}");
    assert_eq!(
        call.upstream_request_id.as_deref(),
        Some(format!("case-{}", case.id).as_str()),
        "{what}"
    );
    assert_eq!(
        call.response_bytes, case.sent as u64,
        "{what}: bytes read from upstream"
    );
    assert_eq!(
        call.client_bytes,
        Some(case.expected.len() as u64),
        "{what}: bytes sent to the client"
    );
    let cut = case.script.cut != Cut::None
        && (case.script.chunked || case.sent < case.script.body().len());
    if cut {
        let error = error.unwrap_or_else(|| panic!("{what}: no error recorded"));
        assert_eq!(error.kind, CallErrorKind::UpstreamBody, "{what}: {error:?}");
        assert_eq!(error.all_delivered, Some(true), "{what}: {error:?}");
        let said = format!("after {} bytes", case.sent);
        assert!(
            error.message.contains(&said),
            "{what}: {:?} does not say {said:?}",
            error.message
        );
    } else {
        // A complete JSON body, or a stream that ended properly.
        let stream_torn = case.script.sse && case.sent < case.script.body().len();
        assert_eq!(error.is_some(), stream_torn, "{what}: {error:?}");
    }
}

/// The byte offsets worth cutting a body at: every piece's boundary and the middle of every
/// piece (for a body of one piece, a few more inside it).
fn cut_points(pieces: &[Vec<u8>]) -> Vec<usize> {
    let mut points = vec![0];
    let mut offset = 0;
    for piece in pieces {
        points.push(offset + piece.len() / 2);
        if pieces.len() == 1 {
            points.extend([1, piece.len() / 3, piece.len() - 1]);
        }
        offset += piece.len();
        points.push(offset);
    }
    points.sort_unstable();
    points.dedup();
    points
}

#[test]
fn every_cut_point_reaches_the_client_byte_for_byte() {
    let mut bench = Bench::start();
    let mut failures = Vec::new();
    for api in Api::ALL {
        for stream in [true, false] {
            let pieces = bodies::pieces(api, stream);
            let len = pieces.concat().len();
            let mut cuts = vec![Cut::None, Cut::Head(0), Cut::Head(20)];
            for point in cut_points(&pieces) {
                // A body by length that got every byte is complete: no cut to make.
                if stream || point < len {
                    cuts.push(Cut::Body(point));
                }
            }
            for cut in cuts {
                for how in [Break::Reset, Break::Close] {
                    let script = Script {
                        sse: stream,
                        chunked: stream,
                        pieces: pieces.clone(),
                        cut,
                        how,
                        paced: false,
                        close_after: false,
                    };
                    // A Chat stream twice: as the client asked, and with the usage asked for
                    // (and hidden) by the proxy.
                    let strips: &[bool] = if api == Api::ChatCompletions && stream {
                        &[false, true]
                    } else {
                        &[false]
                    };
                    for &strip in strips {
                        if let Err(failure) = bench.exchange(api, stream, strip, script.clone()) {
                            failures.push(failure);
                        }
                    }
                }
            }
        }
    }
    // Past the size agentprof reads JSON for usage: the bytes still all flow. Broken off by a
    // close, not a reset: a reset discards what the upstream's kernel has not sent yet, and
    // with 17 MB written at once that is more than nothing — upstream would not have sent
    // what it wrote.
    let pieces = bodies::huge_json();
    let len = pieces[0].len();
    for cut in [Cut::None, Cut::Body(len - 1), Cut::Body((16 << 20) + 7)] {
        let script = Script {
            sse: false,
            chunked: false,
            pieces: pieces.clone(),
            cut,
            how: Break::Close,
            paced: false,
            close_after: false,
        };
        if let Err(failure) = bench.exchange(Api::Messages, false, false, script) {
            failures.push(failure.chars().take(300).collect());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cuts lost bytes:\n{}",
        failures.len(),
        bench.cases.len(),
        failures.join("\n")
    );
    bench.check_trace();
}

/// Random cut points, random pacing, chunked or by length.
#[test]
fn random_cuts_reach_the_client_byte_for_byte() {
    let bench = std::cell::RefCell::new(Bench::start());
    let strategy = (
        prop::sample::select(Api::ALL.to_vec()),
        any::<bool>(),
        any::<bool>(),
        0.0..=1.0f64,
        prop::bool::weighted(0.9),
        any::<bool>(),
        prop::bool::weighted(0.2),
    );
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(
        &strategy,
        |(api, stream, chunked, at, cut, reset, paced)| {
            let pieces = bodies::pieces(api, stream);
            let len = pieces.concat().len();
            // Rounded down, so that a body by length is never "cut" after its last byte.
            let point = ((len as f64 * at) as usize).min(if chunked { len } else { len - 1 });
            let script = Script {
                sse: stream,
                chunked,
                pieces,
                cut: if cut { Cut::Body(point) } else { Cut::None },
                how: if reset { Break::Reset } else { Break::Close },
                paced,
                close_after: false,
            };
            bench
                .borrow_mut()
                .exchange(api, stream, false, script)
                .map_err(TestCaseError::fail)
        },
    );
    if let Err(err) = result {
        panic!("{err}");
    }
    bench.into_inner().check_trace();
}

/// Upstream closes a kept-alive connection after answering (as servers do with idle ones):
/// the next call must not be sent on it and fail, but go out on a fresh connection.
#[test]
fn a_connection_upstream_closed_after_answering_is_not_reused() {
    let mut bench = Bench::start();
    for round in 0..20 {
        let api = Api::ALL[round % 3];
        let script = Script {
            sse: true,
            chunked: true,
            pieces: bodies::pieces(api, true),
            cut: Cut::None,
            how: Break::Close,
            paced: false,
            close_after: true,
        };
        if let Err(failure) = bench.exchange(api, true, false, script) {
            panic!("{failure}");
        }
        // Give the close time to arrive, as it would for an idle connection.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    bench.check_trace();
}
