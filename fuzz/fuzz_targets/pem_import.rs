//! Fuzz target `pem_import`: the body is `sealpost_fuzz_replay::pem_import`, which the replay test runs on
//! the committed corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz_replay::pem_import(data));
