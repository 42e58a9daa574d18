//! Integration tests: agentprof as users run it, against real clients and loopback servers.

mod attribution;
mod claude_code;
mod cli_errors;
mod client;
mod codex;
mod crash;
mod cut_points;
mod demo_e2e;
mod fault_suite;
mod faults;
mod html_chromium;
mod html_report;
mod import;
mod import_codex;
mod load;
mod otlp_export;
mod prices;
mod prometheus;
mod run_process;
mod sdk_clients;
mod security;
mod simulate;
mod support;
mod telemetry_receiver;
mod terminal;
mod trace_schema;
