//! The lookups Sealpost needs (TXT, MX, addresses, PTR, NS), on hickory's caching resolver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use crate::{DnsError, LookupError, ResolverConfig};

/// One TXT record. Its character-strings stay apart because some protocols read them apart; DKIM,
/// SPF and DMARC read them concatenated ([`TxtRecord::joined`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecord {
    /// The character-strings in the order published, bytes as published (not necessarily UTF-8).
    pub strings: Vec<Vec<u8>>,
}

impl TxtRecord {
    /// The character-strings concatenated without separator (RFC 6376 section 3.6.2.2, RFC 7208
    /// section 3.3).
    pub fn joined(&self) -> Vec<u8> {
        self.strings.concat()
    }
}

/// The resolver every part of Sealpost that needs DNS uses. Cloning is cheap and clones share the
/// cache.
///
/// Use a resolver within the Tokio runtime that first used it: hickory runs its connections as
/// tasks of that runtime.
#[derive(Debug, Clone)]
pub struct Resolver {
    inner: Arc<TokioResolver>,
}

impl Resolver {
    /// A resolver for `config`. Reads `/etc/resolv.conf` when no name server is given.
    ///
    /// # Errors
    /// [`DnsError`] when the configuration cannot make a resolver.
    pub fn new(config: &ResolverConfig) -> Result<Self, DnsError> {
        let (hickory_config, options) = config.to_hickory()?;
        let inner =
            TokioResolver::builder_with_config(hickory_config, TokioRuntimeProvider::default())
                .with_options(options)
                .build()
                .map_err(|error| DnsError::Build(error.to_string()))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// TXT records at `name` (absolute name; a trailing dot optional). Each record keeps its
    /// character-strings apart. CNAMEs are followed.
    ///
    /// # Errors
    /// See [`LookupError`]. A name that cannot exist in the DNS (an empty label, a label over 63
    /// octets, a name over 255) is [`LookupError::NxDomain`] without a query, as RFC 7208
    /// section 4.3 has SPF treat it.
    pub async fn txt(&self, name: &str) -> Result<Vec<TxtRecord>, LookupError> {
        let records = self.lookup(name, RecordType::TXT).await?;
        let texts = records
            .into_iter()
            .filter_map(|data| match data {
                RData::TXT(txt) => Some(TxtRecord {
                    strings: txt.txt_data.iter().map(|bytes| bytes.to_vec()).collect(),
                }),
                _ => None,
            })
            .collect();
        non_empty(texts)
    }

    /// MX records at `name` as (preference, exchange), in the order the server gave them; the
    /// caller orders them by preference. Exchanges come without the final dot, except a null MX
    /// (RFC 7505), whose exchange is `"."`.
    ///
    /// # Errors
    /// See [`Resolver::txt`].
    pub async fn mx(&self, name: &str) -> Result<Vec<(u16, String)>, LookupError> {
        let records = self.lookup(name, RecordType::MX).await?;
        let exchanges = records
            .into_iter()
            .filter_map(|data| match data {
                RData::MX(mx) => Some((mx.preference, name_text(&mx.exchange))),
                _ => None,
            })
            .collect();
        non_empty(exchanges)
    }

    /// The IPv4 (A) then IPv6 (AAAA) addresses of `name`, asked for together.
    ///
    /// When one family has addresses and the other fails, even temporarily, the addresses found
    /// are returned, as `getaddrinfo` does, so that a server that mishandles AAAA queries does not
    /// stop delivery over IPv4. When both fail: NXDOMAIN from either wins (it is about the name,
    /// whatever the type), then a temporary failure, then NODATA.
    ///
    /// # Errors
    /// See [`Resolver::txt`].
    pub async fn ip(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        let (v4, v6) = tokio::join!(
            self.lookup(name, RecordType::A),
            self.lookup(name, RecordType::AAAA)
        );
        let (v4, v6) = match (v4, v6) {
            (Ok(v4), Ok(v6)) => (v4, v6),
            (Ok(found), Err(_)) | (Err(_), Ok(found)) => (found, Vec::new()),
            (Err(LookupError::NxDomain), _) | (_, Err(LookupError::NxDomain)) => {
                return Err(LookupError::NxDomain);
            }
            (Err(temporary @ LookupError::Temporary(_)), _)
            | (_, Err(temporary @ LookupError::Temporary(_))) => return Err(temporary),
            (Err(LookupError::NoData), Err(LookupError::NoData)) => {
                return Err(LookupError::NoData);
            }
        };
        let addresses = v4
            .into_iter()
            .chain(v6)
            .filter_map(|data| match data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                _ => None,
            })
            .collect();
        non_empty(addresses)
    }

    /// The CNAMEs that lead from `name` to its final owner, in order: empty when `name` is not an
    /// alias. Shown to people so that a record reached through a provider's alias is explained.
    /// A lookup failure ends the chain where it is; a loop ends after eight hops.
    pub async fn cname_chain(&self, name: &str) -> Vec<String> {
        let mut chain: Vec<String> = Vec::new();
        let mut current = name.to_owned();
        while chain.len() < 8 {
            let Ok(records) = self.lookup(&current, RecordType::CNAME).await else {
                break;
            };
            let Some(target) = records.into_iter().find_map(|data| match data {
                RData::CNAME(target) => Some(name_text(&target.0)),
                _ => None,
            }) else {
                break;
            };
            if chain.contains(&target) {
                break;
            }
            chain.push(target.clone());
            current = target;
        }
        chain
    }

    /// The IPv4 addresses (A records) of `name` alone, for protocols that ask for one family, as
    /// SPF does for the family of the connection (RFC 7208 section 5.3).
    ///
    /// # Errors
    /// See [`Resolver::txt`].
    pub async fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        let records = self.lookup(name, RecordType::A).await?;
        let addresses = records
            .into_iter()
            .filter_map(|data| match data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
        non_empty(addresses)
    }

    /// The IPv6 addresses (AAAA records) of `name` alone.
    ///
    /// # Errors
    /// See [`Resolver::txt`].
    pub async fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        let records = self.lookup(name, RecordType::AAAA).await?;
        let addresses = records
            .into_iter()
            .filter_map(|data| match data {
                RData::AAAA(aaaa) => Some(aaaa.0),
                _ => None,
            })
            .collect();
        non_empty(addresses)
    }

    /// The names the reverse DNS gives for `ip` (PTR records at its `in-addr.arpa` or `ip6.arpa`
    /// name, see [`reverse_name`]), without the final dot, in the order the server gave them.
    ///
    /// # Errors
    /// See [`Resolver::txt`].
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        let records = self.lookup(&reverse_name(ip), RecordType::PTR).await?;
        let names = records
            .into_iter()
            .filter_map(|data| match data {
                RData::PTR(ptr) => Some(name_text(&ptr.0)),
                _ => None,
            })
            .collect();
        non_empty(names)
    }

    /// The name servers of the zone whose apex is `name` (its NS records), without the final dot,
    /// in the order the server gave them. A name below a zone's apex has none:
    /// [`LookupError::NoData`].
    ///
    /// # Errors
    /// See [`Resolver::txt`].
    pub async fn ns(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let records = self.lookup(name, RecordType::NS).await?;
        let hosts = records
            .into_iter()
            .filter_map(|data| match data {
                RData::NS(ns) => Some(name_text(&ns.0)),
                _ => None,
            })
            .collect();
        non_empty(hosts)
    }

    /// The record data of type `record_type` at `name`, following CNAMEs. The answer may hold the
    /// CNAMEs of the chain too; callers keep the type they asked for.
    async fn lookup(&self, name: &str, record_type: RecordType) -> Result<Vec<RData>, LookupError> {
        let name = query_name(name)?;
        let lookup = self.inner.lookup(name, record_type).await?;
        Ok(lookup
            .answers()
            .iter()
            .filter(|record| record.record_type() == record_type)
            .map(|record| record.data.clone())
            .collect())
    }
}

/// The name under which the reverse DNS publishes `ip`, without the final dot:
/// `1.2.0.192.in-addr.arpa` for 192.0.2.1 (RFC 1035 section 3.5) and the 32 nibbles of an IPv6
/// address in reverse, lowercase, under `ip6.arpa` (RFC 3596 section 2.5).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, c, d] = ip.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(ip) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut name = String::with_capacity(72);
            for byte in ip.octets().iter().rev() {
                for nibble in [byte & 0x0f, byte >> 4] {
                    name.push(char::from(HEX[usize::from(nibble)]));
                    name.push('.');
                }
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// An answer that held records but none of the type asked for is NODATA, so that callers never
/// see an empty success.
fn non_empty<T>(items: Vec<T>) -> Result<Vec<T>, LookupError> {
    match items.is_empty() {
        true => Err(LookupError::NoData),
        false => Ok(items),
    }
}

/// Reads `text` as an absolute name of dot-separated labels taken byte for byte, so that a name
/// built by SPF macro expansion reaches the server unchanged rather than being refused for an
/// unusual character. A final dot is optional; `""` and `"."` are the root.
fn query_name(text: &str) -> Result<Name, LookupError> {
    let labels = text.strip_suffix('.').unwrap_or(text);
    if labels.is_empty() {
        return Ok(Name::root());
    }
    Name::from_labels(labels.split('.').map(str::as_bytes)).map_err(|_| LookupError::NxDomain)
}

/// A name as text without the final dot, its labels byte for byte rather than escaped as in a
/// zone file (`foo:bar`, not `foo\:bar`), so that a name from an answer (an MX exchange, a PTR
/// target) can be queried again as it is; the root stays `"."`.
fn name_text(name: &Name) -> String {
    if name.is_root() {
        return ".".to_owned();
    }
    let labels: Vec<String> = name
        .iter()
        .map(|label| String::from_utf8_lossy(label).into_owned())
        .collect();
    labels.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_name(text: &str, expect: Result<&str, LookupError>) {
        let parsed = query_name(text).map(|name| name_text(&name));
        assert_eq!(parsed, expect.map(str::to_owned));
    }

    #[test]
    fn reverse_names() {
        let name = |text: &str| reverse_name(text.parse().unwrap());
        assert_eq!(name("192.0.2.1"), "1.2.0.192.in-addr.arpa");
        assert_eq!(
            name("2001:db8::cafe:1"),
            "1.0.0.0.e.f.a.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn names_are_absolute_and_taken_byte_for_byte() {
        check_name("example.com", Ok("example.com"));
        check_name("example.com.", Ok("example.com"));
        check_name(
            "sel._domainkey.Example.COM",
            Ok("sel._domainkey.Example.COM"),
        );
        check_name("", Ok("."));
        check_name(".", Ok("."));
        check_name("a+b.example", Ok("a+b.example"));
        check_name("foo:bar/baz.example", Ok("foo:bar/baz.example"));
        check_name("a..example", Err(LookupError::NxDomain));
        check_name(
            &format!("{}.example", "x".repeat(64)),
            Err(LookupError::NxDomain),
        );
        let too_long = vec!["x".repeat(63); 5].join(".");
        check_name(&too_long, Err(LookupError::NxDomain));
    }
}
