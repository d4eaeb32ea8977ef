//! The DNS lookups SPF needs, as a trait, so that the evaluation stays free of I/O and Sealpost's
//! resolver (with its `--nameserver` override) is the one production implementation.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sealpost_dns::{LookupError, Resolver, TxtRecord};

/// The lookups `check_host()` makes. Each answers with records, or with NXDOMAIN, NODATA or a
/// temporary failure as [`LookupError`] classifies them; an empty success is never returned.
pub trait SpfDns: Sync {
    /// TXT records at `name`, their character-strings kept apart.
    fn txt(&self, name: &str) -> impl Future<Output = Result<Vec<TxtRecord>, LookupError>> + Send;

    /// The A records of `name`.
    fn a(&self, name: &str) -> impl Future<Output = Result<Vec<Ipv4Addr>, LookupError>> + Send;

    /// The AAAA records of `name`.
    fn aaaa(&self, name: &str) -> impl Future<Output = Result<Vec<Ipv6Addr>, LookupError>> + Send;

    /// MX records of `name` as (preference, exchange); a null MX has the exchange `"."`.
    fn mx(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<(u16, String)>, LookupError>> + Send;

    /// The PTR names of `ip`'s reverse name, without the final dot.
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = Result<Vec<String>, LookupError>> + Send;
}

impl SpfDns for Resolver {
    async fn txt(&self, name: &str) -> Result<Vec<TxtRecord>, LookupError> {
        Resolver::txt(self, name).await
    }

    async fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        Resolver::a(self, name).await
    }

    async fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        Resolver::aaaa(self, name).await
    }

    async fn mx(&self, name: &str) -> Result<Vec<(u16, String)>, LookupError> {
        Resolver::mx(self, name).await
    }

    async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        Resolver::ptr(self, ip).await
    }
}
