//! Fuzz target `dkim_record`: the body is `sealpost_fuzz_replay::dkim_record`, which the replay test runs on
//! the committed corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz_replay::dkim_record(data));
