//! The self-contained demo: a mock model API and a synthetic agent that talks to it.
//!
//! The paid model APIs cannot be reached from every machine agentprof is tested or shown on, so
//! `agentprof demo` runs [`synthetic_agent`] (which behaves on the wire and in memory like
//! Claude Code) under the proxy against [`mock_upstream`] (which answers like the Anthropic and
//! OpenAI APIs, with deterministic usage and simulated prompt caching). Tests use the same two
//! pieces, and point the official SDKs and real Claude Code at the mock. [`transcript_corpus`]
//! writes a Claude Code history with its ground truth for `import`'s tests and benchmark
//! ([`codex_rollouts`], [`gemini_chats`] and [`opencode_history`] likewise for Codex, Gemini CLI
//! and opencode; what their truths
//! share is in [`import_truth`]).

pub mod codex_rollouts;
mod det;
pub mod gemini_chats;
pub mod import_truth;
pub mod mock_upstream;
pub mod opencode_history;
mod sse;
pub mod synthetic_agent;
pub mod transcript_corpus;
