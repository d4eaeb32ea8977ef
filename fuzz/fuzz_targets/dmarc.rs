//! Fuzz target `dmarc`: the body is `sealpost_fuzz_replay::dmarc`, which the replay test runs on
//! the committed corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz_replay::dmarc(data));
