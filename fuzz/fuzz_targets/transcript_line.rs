//! Fuzz target: see `agentprof::fuzzing::transcript_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::transcript_line(data));
