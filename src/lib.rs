//! agentprof: what an AI coding agent really costs, and what for.
//!
//! Data flows one way, and the module tree follows it:
//!
//! ```text
//!              ┌──────────── capture ─────────────┐   ┌──── attribute ────┐   ┌──────── output ────────┐
//! agent ──HTTP──▶ proxy ──tee──▶ usage parser ──┐  │   │                   │   │ trace (JSONL, v1)      │
//!               (frames go on untouched)        │  ├──▶│ rules, telemetry  │──▶│ report (table, JSON)   │
//! agent OTLP ──▶ telemetry receiver ────────────┤  │   │ join, turns, cost │   │ Prometheus /metrics    │
//! /proc ───────▶ memory sampler (own thread) ───┤  │   │ KV, memory growth │   │ OTLP export            │
//! ~/.claude ───▶ transcript reader ─────────────┘  │   └───────────────────┘   └────────────────────────┘
//!              └───────────────────────────────────┘
//!                   simulate: workload model ◀── calibrate(trace) ── Monte Carlo ──▶ report
//! ```
//!
//! - [`capture`] turns what agentprof sees into [`observation`]s: calls from the streaming
//!   proxy, memory samples and process events from the sampler, the agent's own telemetry,
//!   calls imported from Claude Code's transcripts.
//! - [`attribute`] charges each observation to the work that caused it and sums it up.
//! - [`output`] writes the trace, renders reports and feeds the live exporters.
//! - [`simulate`] projects workloads (1M contexts, swarms, daemons) calibrated from traces.
//! - [`demo`] holds the built-in mock upstream and synthetic agent behind `agentprof demo`.
//! - [`agents`] holds what agentprof knows of each agent, one room each (today: how to point
//!   it at agentprof).
//! - [`commands`] is glue: one module per subcommand; [`net`] the accept loop small servers share.

// The exceptions, two calls into code compiled for AVX2 after checking the CPU has it, are
// allowed where they are made (`capture::request::skim::scan`).
#![deny(unsafe_code)]

pub mod agents;
pub mod attribute;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod demo;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod guard;
pub mod net;
pub mod observation;
pub mod output;
pub mod simulate;
