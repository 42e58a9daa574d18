//! Joining the agent's own telemetry to proxied calls, and what its `query_source` means.
//!
//! Claude Code logs one `claude_code.api_request` event per model call with the API's
//! `request-id` (the exact join key) and its internal `query_source` — the most precise
//! category there is. Events without a usable request id are matched on session, model and
//! exact token counts instead, nearest in time: Codex's `codex.sse_event` (response.completed)
//! always is, by its thread (`conversation.id`: the session of a main thread, the agent id of a
//! spawned one). So is Gemini CLI's `gemini_cli.api_response`, whose `role` plays the part of
//! `query_source`; its calls carry no session on the wire, so a call without one matches any
//! session, and its event names the model the response reported (`modelVersion`, which may be
//! a dated version of the one requested), so the model is not compared. Each event joins at
//! most one call.

use std::collections::HashMap;

use crate::agents::gemini_telemetry;
use crate::capture::telemetry::{GEMINI_API_RESPONSE, is_call_event};
use crate::observation::{Call, Category, Provider, TelemetryEvent};

/// The telemetry event name of a model call.
pub const API_REQUEST: &str = "claude_code.api_request";

/// How far apart (seconds) a fallback match's receive time and the call's end may be: export
/// intervals are seconds; anything further apart is a different call.
const FALLBACK_WINDOW_S: f64 = 120.0;

/// The category a Claude Code `query_source` stands for (`None`: not a known source).
pub fn category_of_query_source(source: &str) -> Option<Category> {
    let category = match source {
        "repl_main_thread" | "sdk" => Category::UserTurn,
        // The main loop under an output style: `repl_main_thread:outputStyle:<name>`.
        s if s.starts_with("repl_main_thread:") => Category::UserTurn,
        s if s.starts_with("agent:") => Category::Subagent,
        s if s.starts_with("extract_memories") => Category::MemoryExtraction,
        "auto_dream" => Category::Dream,
        "away_summary" => Category::AwaySummary,
        "compact" => Category::Compaction,
        "generate_session_title"
        | "prompt_suggestion"
        | "agent_summary"
        | "tool_use_summary_generation"
        | "side_question"
        | "hook_prompt"
        | "rename_generate_name"
        | "agent_namer"
        | "web_search_tool"
        | "web_fetch_apply"
        | "insights"
        | "auto_mode"
        | "topic_detection"
        | "quota_check" => Category::Utility,
        _ => return None,
    };
    Some(category)
}

/// The category a call event's `query_source` (Claude Code) or role (Gemini CLI) stands for,
/// with that name; `None` when the event names none this version knows.
pub fn category_of_event(event: &TelemetryEvent) -> Option<(Category, &str)> {
    let source = event.query_source.as_deref()?;
    let category = if event.event == GEMINI_API_RESPONSE {
        gemini_telemetry::category_of_role(source)
    } else {
        category_of_query_source(source)
    }?;
    Some((category, source))
}

/// For each call (by index), the telemetry event joined to it.
#[derive(Debug, Default)]
pub struct Join<'a> {
    pub by_call: Vec<Option<&'a TelemetryEvent>>,
    pub by_request_id: u64,
    pub by_fallback: u64,
    /// api_request events that matched no call.
    pub unmatched_events: u64,
}

/// Joins `events` to `calls`. `origin` is the instant trace time 0 stands for: with it, an
/// event is placed at the time its record says it happened rather than when the receiver got
/// it (a batch arrives after every call it reports, so "nearest to arrival" would pick the
/// latest of two calls with the same counts, swapping them).
pub fn join<'a>(
    calls: &[&Call],
    events: &'a [TelemetryEvent],
    origin: Option<jiff::Timestamp>,
) -> Join<'a> {
    let mut result = Join {
        by_call: vec![None; calls.len()],
        ..Join::default()
    };
    let index: HashMap<&str, usize> = calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.upstream_request_id.as_deref().map(|id| (id, i)))
        .collect();
    let mut unmatched = Vec::new();
    for event in events.iter().filter(|e| is_call_event(&e.event)) {
        match event.request_id.as_deref().and_then(|id| index.get(id)) {
            Some(&i) if result.by_call[i].is_none() => {
                result.by_call[i] = Some(event);
                result.by_request_id += 1;
            }
            _ => unmatched.push(event),
        }
    }
    for event in unmatched {
        let t = event_time(event, origin);
        let candidate = calls
            .iter()
            .enumerate()
            .filter(|(i, call)| result.by_call[*i].is_none() && same_call(call, event, t))
            .min_by(|(_, a), (_, b)| distance(a, t).total_cmp(&distance(b, t)));
        match candidate {
            Some((i, _)) => {
                result.by_call[i] = Some(event);
                result.by_fallback += 1;
            }
            None => result.unmatched_events += 1,
        }
    }
    result
}

/// When the event happened, in trace seconds: its record's own time where it has one and the
/// trace's origin is known, else when the receiver got it.
fn event_time(event: &TelemetryEvent, origin: Option<jiff::Timestamp>) -> f64 {
    let own = origin.zip(
        event
            .timestamp
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok()),
    );
    match own {
        Some((origin, at)) => at.duration_since(origin).as_secs_f64(),
        None => event.t,
    }
}

fn distance(call: &Call, t: f64) -> f64 {
    (call.t_end.unwrap_or(call.t_start) - t).abs()
}

/// Session, model and every reported token count agree, close enough in time (`t`: the
/// event's time).
fn same_call(call: &Call, event: &TelemetryEvent, t: f64) -> bool {
    let Some(usage) = call.usage else {
        return false;
    };
    let agrees = |theirs: Option<u64>, ours: u64| theirs.is_none_or(|t| t == ours);
    let gemini = event.event == GEMINI_API_RESPONSE;
    let no_session_on_the_wire = call.session_id.is_none() && call.agent_id.is_none();
    event.session_id.is_some()
        && (!gemini || call.provider == Provider::Gemini)
        && (event.session_id == call.session_id
            || event.session_id == call.agent_id
            || (gemini && no_session_on_the_wire))
        && event.model.is_some()
        && (gemini || event.model == call.model)
        && event.input_tokens.is_some()
        && agrees(event.input_tokens, usage.input_tokens)
        && agrees(event.output_tokens, usage.output_tokens)
        && agrees(event.cache_read_tokens, usage.cache_read_input_tokens)
        && agrees(
            event.cache_creation_tokens,
            usage.cache_creation_input_tokens,
        )
        && distance(call, t) <= FALLBACK_WINDOW_S
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{ApiKind, Provider, Usage};

    fn call(id: u64, request_id: &str, t_end: f64, input: u64) -> Call {
        Call {
            id,
            t_start: t_end - 1.0,
            t_first_byte: None,
            t_end: Some(t_end),
            provider: Provider::Anthropic,
            api: ApiKind::Messages,
            method: "POST".into(),
            path: "/v1/messages".into(),
            model: Some("claude-sonnet-4-6".into()),
            stream: true,
            status: Some(200),
            usage: Some(Usage {
                input_tokens: input,
                output_tokens: 10,
                ..Usage::default()
            }),
            upstream_request_id: Some(request_id.into()),
            response_id: None,
            session_id: Some("s1".into()),
            agent_id: None,
            parent_agent_id: None,
            request_bytes: 0,
            response_bytes: 0,
            client_bytes: None,
            category: Category::UserTurn,
            classified_by: "rule:x".into(),
            starts_turn: false,
            error: None,
            bodies: None,
            via_websocket: None,
            project: None,
        }
    }

    fn event(request_id: Option<&str>, t: f64, input: u64, source: &str) -> TelemetryEvent {
        TelemetryEvent {
            t,
            event: API_REQUEST.into(),
            timestamp: None,
            request_id: request_id.map(str::to_string),
            session_id: Some("s1".into()),
            prompt_id: Some("p1".into()),
            query_source: Some(source.into()),
            agent_id: None,
            model: Some("claude-sonnet-4-6".into()),
            input_tokens: Some(input),
            output_tokens: Some(10),
            cache_read_tokens: Some(0),
            cache_creation_tokens: Some(0),
            cost_usd: None,
            duration_ms: None,
        }
    }

    #[test]
    fn joins_by_request_id_then_by_counts() {
        let calls = [
            call(1, "req_a", 10.0, 100),
            call(2, "req_b", 20.0, 200),
            call(3, "req_c", 30.0, 300),
        ];
        let refs: Vec<&Call> = calls.iter().collect();
        let events = [
            event(Some("req_b"), 21.0, 200, "compact"),
            event(None, 31.0, 300, "extract_memories"),
            event(None, 500.0, 100, "sdk"),
            event(Some("req_zzz"), 11.0, 999, "sdk"),
        ];
        let join = join(&refs, &events, None);
        assert_eq!(join.by_request_id, 1);
        assert_eq!(join.by_fallback, 1);
        assert_eq!(
            join.unmatched_events, 2,
            "too far in time; unknown id with other counts"
        );
        assert_eq!(
            join.by_call[1].unwrap().query_source.as_deref(),
            Some("compact")
        );
        assert_eq!(
            join.by_call[2].unwrap().query_source.as_deref(),
            Some("extract_memories")
        );
        assert!(join.by_call[0].is_none());
    }

    #[test]
    fn codex_events_join_by_thread_and_counts_a_spawned_agent_by_its_own_thread() {
        let main = Call {
            upstream_request_id: None,
            model: Some("gpt-6.2-sol".into()),
            ..call(1, "", 10.0, 24)
        };
        let spawned = Call {
            agent_id: Some("child-thread".into()),
            ..main.clone()
        };
        let codex = |session: &str, t: f64| TelemetryEvent {
            event: crate::capture::telemetry::CODEX_RESPONSE_COMPLETED.into(),
            request_id: None,
            prompt_id: None,
            query_source: None,
            session_id: Some(session.into()),
            model: Some("gpt-6.2-sol".into()),
            ..event(None, t, 24, "")
        };
        let calls = [main.clone(), spawned];
        let refs: Vec<&Call> = calls.iter().collect();
        let events = [codex("child-thread", 10.5), codex("s1", 10.2)];
        let join = join(&refs, &events, None);
        assert_eq!(join.by_fallback, 2);
        assert_eq!(join.by_call[0].unwrap().session_id.as_deref(), Some("s1"));
        assert_eq!(
            join.by_call[1].unwrap().session_id.as_deref(),
            Some("child-thread")
        );
    }

    #[test]
    fn gemini_events_join_calls_without_a_session_and_name_their_role() {
        let gemini = |id: u64, t_end: f64, input: u64| Call {
            provider: Provider::Gemini,
            api: ApiKind::GenerateContent,
            upstream_request_id: None,
            session_id: None,
            model: Some("gemini-3.8-flash".into()),
            ..call(id, "", t_end, input)
        };
        let calls = [gemini(1, 10.0, 500), gemini(2, 11.0, 900)];
        let refs: Vec<&Call> = calls.iter().collect();
        let response = |t: f64, input: u64, role: &str| TelemetryEvent {
            event: GEMINI_API_RESPONSE.into(),
            request_id: None,
            session_id: Some("gemini-session".into()),
            query_source: Some(role.into()),
            // The response's modelVersion, not the model the path named.
            model: Some("gemini-3.8-flash-001".into()),
            ..event(None, t, input, "")
        };
        let events = [
            response(11.1, 900, "main"),
            response(10.1, 500, "utility_router"),
            response(10.2, 777, "main"),
        ];
        let join = join(&refs, &events, None);
        assert_eq!((join.by_fallback, join.unmatched_events), (2, 1));
        assert_eq!(
            category_of_event(join.by_call[0].unwrap()),
            Some((Category::Utility, "utility_router"))
        );
        assert_eq!(
            category_of_event(join.by_call[1].unwrap()),
            Some((Category::UserTurn, "main"))
        );
        // A Claude Code call (with its session) never takes a Gemini event.
        let claude = [call(3, "req_x", 10.0, 500)];
        let refs: Vec<&Call> = claude.iter().collect();
        assert_eq!(super::join(&refs, &events[1..2], None).by_fallback, 0);
    }

    #[test]
    fn calls_with_the_same_counts_join_the_event_of_their_own_time_and_provider() {
        let gemini = |id: u64, t_end: f64| Call {
            provider: Provider::Gemini,
            api: ApiKind::GenerateContent,
            upstream_request_id: None,
            session_id: None,
            ..call(id, "", t_end, 500)
        };
        // Two sessions' router calls with equal counts, 0.2 s apart; one batch of their
        // events arrives later, in the order they happened.
        let calls = [gemini(1, 10.0), gemini(2, 10.2)];
        let refs: Vec<&Call> = calls.iter().collect();
        let origin: jiff::Timestamp = "2026-12-07T00:00:00Z".parse().unwrap();
        let at = |s: f64| Some((origin + jiff::SignedDuration::from_secs_f64(s)).to_string());
        let response = |session: &str, happened: f64| TelemetryEvent {
            event: GEMINI_API_RESPONSE.into(),
            request_id: None,
            session_id: Some(session.into()),
            query_source: Some("utility_router".into()),
            timestamp: at(happened),
            ..event(None, 12.0, 500, "")
        };
        let events = [response("A", 10.01), response("B", 10.21)];
        let joined = join(&refs, &events, Some(origin));
        assert_eq!(joined.by_call[0].unwrap().session_id.as_deref(), Some("A"));
        assert_eq!(joined.by_call[1].unwrap().session_id.as_deref(), Some("B"));
        // Without the records' own times, arrival is all there is: the first event takes the
        // call nearest to it, the later one.
        let unplaced = join(&refs, &events, None);
        assert_eq!(
            unplaced.by_call[1].unwrap().session_id.as_deref(),
            Some("A")
        );
        // Another provider's call without a session never takes a Gemini event.
        let openai = Call {
            provider: Provider::OpenAi,
            api: ApiKind::ChatCompletions,
            ..gemini(3, 10.0)
        };
        let refs = [&openai];
        assert_eq!(join(&refs, &events, Some(origin)).by_fallback, 0);
    }

    #[test]
    fn query_sources_map_to_categories() {
        use Category::*;
        for (source, category) in [
            ("repl_main_thread", UserTurn),
            ("repl_main_thread:outputStyle:Explanatory", UserTurn),
            ("sdk", UserTurn),
            ("agent:builtin:general-purpose", Subagent),
            ("extract_memories_first_look", MemoryExtraction),
            ("auto_dream", Dream),
            ("away_summary", AwaySummary),
            ("compact", Compaction),
            ("generate_session_title", Utility),
            ("prompt_suggestion", Utility),
        ] {
            assert_eq!(category_of_query_source(source), Some(category), "{source}");
        }
        assert_eq!(category_of_query_source("something_new"), None);
    }
}
