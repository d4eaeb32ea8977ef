//! The DNS resolver every part of Sealpost that needs DNS uses: TXT, MX, address and PTR lookups on
//! hickory-resolver, with answers classified as found, NXDOMAIN, NODATA or a temporary failure.
//!
//! Queries go over UDP and are repeated over TCP when an answer comes back truncated; each
//! attempt has a timeout, and answers are cached for their TTL unless the cache is switched off.

mod config;
mod error;
mod resolv_conf;
mod resolver;

pub use config::ResolverConfig;
pub use error::{DnsError, LookupError};
pub use resolver::{Resolver, TxtRecord, reverse_name};
