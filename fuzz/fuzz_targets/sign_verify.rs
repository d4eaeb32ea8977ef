//! Fuzz target `sign_verify`: the body is `sealpost_fuzz_replay::sign_verify`, which the replay test runs on
//! the committed corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz_replay::sign_verify(data));
