//! agentprof: what an AI coding agent really costs, and what for.
//!
//! Data flows one way, and the module tree follows it:
//!
//! ```text
//!              ┌──────────── capture ─────────────┐   ┌─── attribute ───┐   ┌──── output ─────┐
//! agent ──HTTP──▶ proxy ──tee──▶ usage parser ──┐  │   │                 │   │ trace (JSONL)   │
//!               (frames go on untouched)        ├──▶│ classify        │──▶│ report (table,  │
//! /proc ───────▶ memory sampler (own thread) ───┘  │   │ usage · KV ·    │   │   JSON)         │
//!              └───────────────────────────────────┘   │ memory          │   └─────────────────┘
//!                                                      └─────────────────┘
//! ```
//!
//! - [`capture`] turns what agentprof sees into [`observation`]s: calls from the streaming
//!   proxy, memory samples and process events from the sampler.
//! - [`attribute`] charges each observation to the work that caused it and sums it up.
//! - [`output`] writes the trace and renders reports.
//! - [`demo`] holds the built-in mock upstream and synthetic agent behind `agentprof demo`.
//! - [`commands`] is glue: one module per subcommand.

pub mod attribute;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod demo;
pub mod error;
pub mod net;
pub mod observation;
pub mod output;
pub mod simulate;
