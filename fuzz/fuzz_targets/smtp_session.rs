//! Fuzz target `smtp_session`: the body is `sealpost_fuzz_replay::smtp_session`, which the replay test runs on
//! the committed corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz_replay::smtp_session(data));
