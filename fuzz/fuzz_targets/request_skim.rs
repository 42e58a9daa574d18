//! Fuzz target: see `agentprof::fuzzing::request_skim`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::request_skim(data));
