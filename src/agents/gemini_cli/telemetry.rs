//! Gemini CLI's OpenTelemetry: its per-call log event, and what its `role` means.
//!
//! Every model call ends with a `gemini_cli.api_response` log record carrying the call's token
//! counts and its `role`, Gemini CLI's own name for what the call was for (`main`, `subagent`,
//! `utility_router`, `utility_compressor`, …). Nothing on the wire names the role, the session
//! or the call (no id in the headers, and the record has no response id), so the record is
//! joined to its call on model, exact token counts and time (see `attribute::telemetry_join`),
//! and brings its session along.
//!
//! Its counts follow the Gemini API: `input_token_count` is the whole prompt, cached tokens
//! (`cached_content_token_count`) included; thinking (`thoughts_token_count`) and tool-use
//! prompts (`tool_token_count`) are counted apart. They are turned into agentprof's convention
//! (see `capture::usage::gemini`), so an event agrees with its call's usage.

use crate::capture::telemetry::extract::{LogRecordView, as_str, as_string, as_u64, timestamp};
use crate::observation::{Category, TelemetryEvent};

/// The event of a finished model call.
pub const API_RESPONSE: &str = "gemini_cli.api_response";
/// The event of a prompt the user typed.
pub const USER_PROMPT: &str = "gemini_cli.user_prompt";

/// The category a Gemini CLI role stands for (`None`: not a Gemini CLI role).
///
/// `main` is the user's turn; `subagent` a sub-agent (the codebase investigator, the CLI help
/// agent, user-defined agents, and also the auto-memory extraction agent, which a rule on its
/// prompt tells apart: see `attribute::attribution`); `utility_compressor` is compaction (chat
/// compression and its verification); every other `utility_*` role (router, loop detector,
/// summarizers, next-speaker check, edit corrector, web tools, …) is utility.
pub fn category_of_role(role: &str) -> Option<Category> {
    let category = match role {
        "main" => Category::UserTurn,
        "subagent" => Category::Subagent,
        "utility_compressor" => Category::Compaction,
        r if r.starts_with("utility_") => Category::Utility,
        _ => return None,
    };
    Some(category)
}

/// The event for a Gemini CLI `api_response` or `user_prompt` record; `None` for any other.
pub(crate) fn to_event(record: &LogRecordView, t: f64) -> Option<TelemetryEvent> {
    let name = record
        .attribute("event.name")
        .and_then(as_str)
        .unwrap_or(record.event_name.as_str());
    let event = match name {
        API_RESPONSE => API_RESPONSE,
        USER_PROMPT => USER_PROMPT,
        _ => return None,
    };
    let count = |key: &str| record.attribute(key).and_then(as_u64);
    let string = |key: &str| record.attribute(key).and_then(as_string);
    let call = event == API_RESPONSE;
    let (input, output, cached) = match (
        count("input_token_count"),
        count("output_token_count"),
        count("cached_content_token_count"),
    ) {
        (Some(prompt), Some(candidates), cached) => {
            let cached = cached.unwrap_or(0).min(prompt);
            let tool_use = count("tool_token_count").unwrap_or(0);
            let thoughts = count("thoughts_token_count").unwrap_or(0);
            // Saturating: counts near u64::MAX are nonsense, but must not panic.
            (
                Some((prompt - cached).saturating_add(tool_use)),
                Some(candidates.saturating_add(thoughts)),
                Some(cached),
            )
        }
        _ => (None, None, None),
    };
    Some(TelemetryEvent {
        t,
        event: event.to_owned(),
        timestamp: timestamp(record),
        request_id: None,
        session_id: string("session.id"),
        prompt_id: string("prompt_id"),
        // The role plays the part Claude Code's query_source does.
        query_source: string("role").filter(|_| call),
        agent_id: None,
        model: string("model"),
        input_tokens: input.filter(|_| call),
        output_tokens: output.filter(|_| call),
        cache_read_tokens: cached.filter(|_| call),
        // Implicit caching writes nothing the API bills.
        cache_creation_tokens: Some(0).filter(|_| call && input.is_some()),
        cost_usd: None,
        duration_ms: record
            .attribute("duration_ms")
            .and_then(crate::capture::telemetry::extract::as_f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::telemetry::extract::Value;

    fn record(attributes: &[(&str, Value)]) -> LogRecordView {
        LogRecordView {
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..LogRecordView::default()
        }
    }

    #[test]
    fn an_api_response_becomes_a_call_event_in_agentprofs_convention() {
        let r = record(&[
            ("event.name", Value::Str(API_RESPONSE.into())),
            ("session.id", Value::Str("s-1".into())),
            ("prompt_id", Value::Str("s-1".into())),
            ("model", Value::Str("gemini-3.8-flash".into())),
            ("role", Value::Str("utility_router".into())),
            ("input_token_count", Value::Int(1200)),
            ("cached_content_token_count", Value::Int(200)),
            ("output_token_count", Value::Int(7)),
            ("thoughts_token_count", Value::Int(3)),
            ("tool_token_count", Value::Int(5)),
            ("duration_ms", Value::Int(55)),
        ]);
        let e = to_event(&r, 1.5).unwrap();
        assert_eq!(e.event, API_RESPONSE);
        assert_eq!(e.session_id.as_deref(), Some("s-1"));
        assert_eq!(e.query_source.as_deref(), Some("utility_router"));
        assert_eq!(
            (e.input_tokens, e.output_tokens, e.cache_read_tokens),
            (Some(1005), Some(10), Some(200))
        );
        assert_eq!(e.cache_creation_tokens, Some(0));
        assert_eq!(e.duration_ms, Some(55.0));
    }

    #[test]
    fn other_records_are_not_gemini_events_and_prompts_carry_no_counts() {
        assert!(
            to_event(
                &record(&[("event.name", Value::Str("gemini_cli.config".into()))]),
                0.0
            )
            .is_none()
        );
        let prompt = to_event(
            &record(&[
                ("event.name", Value::Str(USER_PROMPT.into())),
                ("session.id", Value::Str("s-1".into())),
                ("input_token_count", Value::Int(9)),
                ("output_token_count", Value::Int(9)),
            ]),
            0.0,
        )
        .unwrap();
        assert_eq!(prompt.input_tokens, None);
        assert_eq!(prompt.query_source, None);
    }

    #[test]
    fn roles_map_to_categories() {
        use Category::*;
        for (role, category) in [
            ("main", UserTurn),
            ("subagent", Subagent),
            ("utility_compressor", Compaction),
            ("utility_router", Utility),
            ("utility_loop_detector", Utility),
            ("utility_summarizer", Utility),
            ("utility_next_speaker", Utility),
            ("utility_edit_corrector", Utility),
            ("utility_tool", Utility),
        ] {
            assert_eq!(category_of_role(role), Some(category), "{role}");
        }
        assert_eq!(category_of_role("repl_main_thread"), None);
    }
}
