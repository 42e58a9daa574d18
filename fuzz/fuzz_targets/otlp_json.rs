//! Fuzz target: see `agentprof::fuzzing::otlp_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::otlp_json(data));
