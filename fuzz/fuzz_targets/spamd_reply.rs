//! Fuzz target `spamd_reply`: the body is `sealpost_fuzz_replay::spamd_reply`, which the replay test runs on
//! the committed corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz_replay::spamd_reply(data));
