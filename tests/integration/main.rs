//! Integration tests: agentprof as users run it, against real clients and loopback servers.

mod attribution;
mod claude_code;
mod cli_errors;
mod demo_e2e;
mod faults;
mod html_chromium;
mod html_report;
mod import;
mod otlp_export;
mod prometheus;
mod run_process;
mod sdk_clients;
mod simulate;
mod support;
mod telemetry_receiver;
mod terminal;
mod trace_schema;
