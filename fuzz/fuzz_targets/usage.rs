//! Fuzz target: see `agentprof::fuzzing::usage`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::usage(data));
