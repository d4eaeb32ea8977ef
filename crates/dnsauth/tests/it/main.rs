//! One integration-test binary for sealpost-dnsauth: each module drives a check against the test
//! DNS server on loopback.

mod ed25519_records;
mod records;
mod report;
mod spf;
