//! The demo's "By agent" table: when the demo runs several synthetic agents in one trace, which
//! calls came from which agent and what each one's own overhead was. The agents are told apart
//! by the API their calls used (Claude Code speaks Anthropic Messages, Codex the Responses API,
//! Gemini CLI the Gemini API's generateContent);
//! each agent's figures come from the ordinary summary of its calls alone, so they are the same
//! numbers `agentprof report` would print for a trace of that agent only.

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::attribute::summary::ReportOptions;
use crate::attribute::{Summary, summarize};
use crate::observation::{ApiKind, Category};
use crate::output::colour;
use crate::output::trace::ReadTrace;

/// The agent a call's API belongs to, in this demo.
fn agent_of(api: ApiKind) -> Option<&'static str> {
    match api {
        ApiKind::Messages => Some("claude-code"),
        ApiKind::Responses => Some("codex"),
        ApiKind::GenerateContent => Some("gemini-cli"),
        ApiKind::ChatCompletions | ApiKind::Other => None,
    }
}

/// Each agent's summary, from a copy of the trace holding only its calls.
fn per_agent(read: &ReadTrace, options: &ReportOptions<'_>) -> Vec<(&'static str, Summary)> {
    ["claude-code", "codex", "gemini-cli"]
        .into_iter()
        .filter_map(|agent| {
            let mut only = read.clone();
            only.calls.retain(|c| agent_of(c.api) == Some(agent));
            (!only.calls.is_empty())
                .then(|| (agent, summarize(std::slice::from_ref(&only), options)))
        })
        .collect()
}

/// Writes the table; nothing when the trace holds only one agent's calls.
pub(super) fn write(
    read: &ReadTrace,
    options: &ReportOptions<'_>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let agents = per_agent(read, options);
    if agents.len() < 2 {
        return Ok(());
    }
    writeln!(
        out,
        "\nBy agent (the synthetic agents ran side by side, each in its own session)"
    )?;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    colour::table(&mut table);
    table.set_header(
        [
            "agent",
            "session",
            "calls",
            "user tokens",
            "overhead tokens",
            "overhead ×",
            "cost $",
            "overhead calls by category",
        ]
        .map(colour::header),
    );
    for (agent, s) in &agents {
        let user = s
            .categories
            .get(Category::UserTurn.as_str())
            .map_or(0, |u| u.total_tokens());
        let overhead = s.totals.total_tokens().saturating_sub(user);
        let sessions: Vec<String> = s
            .sessions
            .keys()
            .map(|k| k.chars().take(8).collect())
            .collect();
        let by_category: Vec<String> = Category::ALL
            .iter()
            .filter(|c| **c != Category::UserTurn)
            .filter_map(|c| {
                let u = s.categories.get(c.as_str())?;
                (u.requests > 0).then(|| format!("{c} {}", u.requests))
            })
            .collect();
        table.add_row(vec![
            Cell::new(agent),
            Cell::new(sessions.join(", ")),
            right(s.totals.requests.to_string()),
            right(user.to_string()),
            right(overhead.to_string()),
            right(
                s.overhead_ratio
                    .tokens
                    .map_or("n/a".into(), |r| format!("{r:.2}")),
            ),
            right(
                s.totals
                    .cost_usd
                    .map_or("n/a".into(), |c| format!("{c:.4}")),
            ),
            Cell::new(by_category.join(", ")),
        ]);
    }
    writeln!(out, "{table}")
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}
