//! Fuzz target: see `agentprof::fuzzing::scenario_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::scenario_file(data));
