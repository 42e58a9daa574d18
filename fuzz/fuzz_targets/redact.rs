//! Fuzz target: see `agentprof::fuzzing::redact`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentprof::fuzzing::redact(data));
