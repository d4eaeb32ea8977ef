//! The DNS lookups of the `a`, `mx` and `ptr` mechanisms and of `%{p}`, with the limits on MX
//! and PTR names, and the recording of every query in the trace with its void-lookup count.

use std::net::IpAddr;

use sealpost_dns::{LookupError, reverse_name};

use super::{Evaluation, MAX_NAMES, MAX_VOID_LOOKUPS, Stop, temporary};
use crate::spf::parse::DualCidr;
use crate::spf::{DnsAnswer, DnsQuery, SpfDns};

impl<D: SpfDns> Evaluation<'_, D> {
    /// The `a` mechanism: the target's addresses of the client's family (section 5.3).
    pub(super) async fn a(
        &mut self,
        step: usize,
        target: &str,
        cidr: DualCidr,
    ) -> Result<bool, Stop> {
        let addresses = self.addresses(step, target, true).await?;
        Ok(self.matches() && in_networks(&addresses, cidr, self.request.ip))
    }

    /// The `mx` mechanism: the addresses of at most 10 exchanges (section 5.4).
    pub(super) async fn mx(
        &mut self,
        step: usize,
        target: &str,
        cidr: DualCidr,
    ) -> Result<bool, Stop> {
        let answer = self.dns.mx(target).await;
        let show = |(preference, exchange): &(u16, String)| format!("{preference} {exchange}");
        self.note(step, "MX", target, &answer, show, true)?;
        let mut exchanges = match answer {
            Ok(exchanges) => exchanges,
            Err(LookupError::Temporary(message)) => return Err(temporary("MX", target, &message)),
            Err(LookupError::NxDomain | LookupError::NoData) => return Ok(false),
        };
        if exchanges.len() > MAX_NAMES {
            return Err(Stop::Permanent(format!(
                "{target} has {} MX records; SPF looks at no more than {MAX_NAMES}",
                exchanges.len()
            )));
        }
        exchanges.sort_by_key(|(preference, _)| *preference);
        for (_, exchange) in exchanges {
            // A null MX (RFC 7505) names no host to look up.
            if exchange == "." {
                continue;
            }
            let addresses = self.addresses(step, &exchange, false).await?;
            if self.matches() && in_networks(&addresses, cidr, self.request.ip) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The `ptr` mechanism: a validated name of the address within `target` (section 5.5). DNS
    /// errors make it not match rather than fail, since the sender controls its PTR records; a
    /// PTR lookup that finds nothing still counts as a void lookup of the term.
    pub(super) async fn ptr(&mut self, step: usize, target: &str) -> Result<bool, Stop> {
        let names = self.reverse_names(step, true).await?;
        for name in names.iter().take(MAX_NAMES) {
            if within(name, target) && self.validates(step, name).await? && self.matches() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `%{p}`: the validated name of the address, preferring `domain` itself, then a name under
    /// it, then any (section 7.3); `unknown` when there is none.
    pub(super) async fn validated_name(
        &mut self,
        step: usize,
        domain: &str,
    ) -> Result<String, Stop> {
        let names = self.reverse_names(step, false).await?;
        let mut candidates: Vec<&String> = names.iter().take(MAX_NAMES).collect();
        candidates.sort_by_key(|name| {
            if name.eq_ignore_ascii_case(domain) {
                0
            } else if within(name, domain) {
                1
            } else {
                2
            }
        });
        for name in candidates {
            if self.validates(step, name).await? {
                return Ok(name.clone());
            }
        }
        Ok("unknown".to_owned())
    }

    /// The PTR names of the address; nothing when the lookup fails in any way.
    async fn reverse_names(&mut self, step: usize, counts_void: bool) -> Result<Vec<String>, Stop> {
        let ip = self.request.ip;
        let answer = self.dns.ptr(ip).await;
        self.note(
            step,
            "PTR",
            &reverse_name(ip),
            &answer,
            Clone::clone,
            counts_void,
        )?;
        Ok(answer.unwrap_or_default())
    }

    /// Whether `name` has the address among its addresses; a failed lookup skips the name.
    async fn validates(&mut self, step: usize, name: &str) -> Result<bool, Stop> {
        let (record_type, answer) = self.lookup_addresses(name).await;
        self.note(step, record_type, name, &answer, ToString::to_string, false)?;
        Ok(answer.is_ok_and(|addresses| addresses.contains(&self.request.ip)))
    }

    /// The addresses of `name` of the client's family: for an `a` target, whose void lookup
    /// counts, or for an MX exchange, whose does not (the term's own lookup was the MX query, and
    /// at most 10 exchanges are asked).
    async fn addresses(
        &mut self,
        step: usize,
        name: &str,
        counts_void: bool,
    ) -> Result<Vec<IpAddr>, Stop> {
        let (record_type, answer) = self.lookup_addresses(name).await;
        self.note(
            step,
            record_type,
            name,
            &answer,
            ToString::to_string,
            counts_void,
        )?;
        match answer {
            Ok(addresses) => Ok(addresses),
            Err(LookupError::Temporary(message)) => Err(temporary(record_type, name, &message)),
            Err(LookupError::NxDomain | LookupError::NoData) => Ok(Vec::new()),
        }
    }

    /// A or AAAA, whichever matches the client's address family (section 5.3).
    async fn lookup_addresses(
        &self,
        name: &str,
    ) -> (&'static str, Result<Vec<IpAddr>, LookupError>) {
        match self.request.ip {
            IpAddr::V4(_) => {
                let answer = self.dns.a(name).await;
                (
                    "A",
                    answer.map(|found| found.into_iter().map(IpAddr::V4).collect()),
                )
            }
            IpAddr::V6(_) => {
                let answer = self.dns.aaaa(name).await;
                (
                    "AAAA",
                    answer.map(|found| found.into_iter().map(IpAddr::V6).collect()),
                )
            }
        }
    }

    /// Records a query in the step and, when `counts_void` and the answer found nothing, counts
    /// a void lookup.
    pub(super) fn note<T>(
        &mut self,
        step: usize,
        record_type: &'static str,
        name: &str,
        answer: &Result<Vec<T>, LookupError>,
        show: impl Fn(&T) -> String,
        counts_void: bool,
    ) -> Result<(), Stop> {
        let (shown, empty) = match answer {
            Ok(items) => (DnsAnswer::Records(items.iter().map(show).collect()), false),
            Err(LookupError::NxDomain) => (DnsAnswer::NxDomain, true),
            Err(LookupError::NoData) => (DnsAnswer::NoData, true),
            Err(LookupError::Temporary(message)) => (DnsAnswer::Temporary(message.clone()), false),
        };
        let void = counts_void && empty;
        self.trace[step].queries.push(DnsQuery {
            record_type,
            name: name.to_owned(),
            answer: shown,
            void,
        });
        if !void {
            return Ok(());
        }
        self.void_lookups += 1;
        match self.void_lookups > MAX_VOID_LOOKUPS {
            true => Err(Stop::Permanent(format!(
                "more than {MAX_VOID_LOOKUPS} void lookups (names without records), the limit \
                 of RFC 7208; the last was {record_type} {name}"
            ))),
            false => Ok(()),
        }
    }
}

/// Whether `name` is `domain` or a name under it, ignoring case and a final dot.
fn within(name: &str, domain: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let domain = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    name == domain || name.ends_with(&format!(".{domain}"))
}

fn in_networks(addresses: &[IpAddr], cidr: DualCidr, ip: IpAddr) -> bool {
    addresses
        .iter()
        .any(|address| cidr.network(*address).contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_within_a_domain() {
        assert!(within("mail.Example.com", "example.COM"));
        assert!(within("example.com.", "example.com"));
        assert!(!within("badexample.com", "example.com"));
        assert!(!within("example.com", "mail.example.com"));
    }
}
