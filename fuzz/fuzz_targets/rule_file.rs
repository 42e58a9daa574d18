//! Fuzz target: see `agentprof::fuzzing::rule_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::rule_file(data));
