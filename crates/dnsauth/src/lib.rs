//! DNS checks of a tenant's mail authentication (SPEC S2, S3.9, S5.3): SPF evaluated per RFC
//! 7208 with a trace and linted, the DKIM key record compared key to key, DMARC found, parsed and
//! aligned, and MX. Every lookup goes through the injected resolver, so `--nameserver` reaches
//! each of them, and every finding says what was found, what was expected and the fix.

pub mod dkim_record;
pub mod dmarc;
pub mod doctor;
pub mod finding;
pub mod mx;
pub mod report;
pub mod spf;
