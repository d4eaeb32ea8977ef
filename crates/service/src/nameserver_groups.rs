//! Politeness towards the DNS servers of tenants' domains: before a domain is re-checked, the
//! servers that answer for it are found (the NS records of its zone), and the re-check keeps only
//! a few domains of one set of servers in flight at once, so that a thousand domains hosted at
//! one small provider do not all query that provider's servers together.
//!
//! The pure part says which names to ask and what key an answer gives; the lookups are made
//! through the injected resolver.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sealpost_dns::{LookupError, Resolver};
use sealpost_domain::DomainName;
use tokio::sync::Semaphore;

/// What a domain's re-checks share their limit with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameserverKey {
    /// The host names of the servers of the domain's zone, lowercase, without the final dot,
    /// sorted and without duplicates: domains served by the same servers share the key whatever
    /// order their answers came in. The whole set rather than one of its servers is the key
    /// because a small provider serves every customer from the same few servers, which then
    /// share one limit, while large providers hand each customer its own pair (on networks
    /// built for any load), whose customers need not wait for each other.
    Servers(Vec<String>),
    /// The name above the domain, when its servers could not be found (a DNS failure, or no NS
    /// records anywhere above it): its re-checks still run, limited together with its siblings'.
    Parent(String),
}

/// The names whose NS records are asked for, one at a time until one has some: the domain
/// itself, then each name above it (`mail.client.example`, `client.example`, `example`), because
/// a domain below its zone's apex has no NS records of its own.
pub fn nameserver_candidates(domain: &DomainName) -> Vec<&str> {
    let name = domain.as_str();
    std::iter::once(name)
        .chain(name.match_indices('.').map(|(at, _)| &name[at + 1..]))
        .collect()
}

/// The key of a domain whose zone is served by `hosts`.
pub fn servers_key(hosts: &[String]) -> NameserverKey {
    let mut hosts: Vec<String> = hosts
        .iter()
        .map(|host| host.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    hosts.sort();
    hosts.dedup();
    NameserverKey::Servers(hosts)
}

/// The key of a domain whose servers could not be found: the name above it.
pub fn parent_key(domain: &DomainName) -> NameserverKey {
    let name = domain.as_str();
    let parent = name.split_once('.').map_or(name, |(_, parent)| parent);
    NameserverKey::Parent(parent.to_owned())
}

/// Finds the servers of `domain`'s zone by asking for NS records from the domain upwards. A
/// name without NS records (NODATA) or that does not exist (NXDOMAIN) sends the search one name
/// up; a temporary failure ends it, as does reaching the top without an answer, with the parent
/// key.
pub async fn nameserver_key(resolver: &Resolver, domain: &DomainName) -> NameserverKey {
    for name in nameserver_candidates(domain) {
        match resolver.ns(name).await {
            Ok(hosts) => return servers_key(&hosts),
            Err(LookupError::NoData | LookupError::NxDomain) => {}
            Err(LookupError::Temporary(_)) => break,
        }
    }
    parent_key(domain)
}

/// One semaphore per key, each with `per_key` permits, made when a key is first seen.
#[derive(Debug)]
pub struct NameserverGroups {
    per_key: usize,
    groups: Mutex<HashMap<NameserverKey, Arc<Semaphore>>>,
}

impl NameserverGroups {
    pub fn new(per_key: usize) -> Self {
        Self {
            per_key: per_key.max(1),
            groups: Mutex::new(HashMap::new()),
        }
    }

    /// The semaphore of `key`'s group.
    pub fn semaphore(&self, key: NameserverKey) -> Arc<Semaphore> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            groups
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_key))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str) -> DomainName {
        DomainName::parse(name).unwrap()
    }

    #[test]
    fn candidates_run_from_the_domain_up_to_its_top_level_domain() {
        assert_eq!(
            nameserver_candidates(&domain("mail.client.example")),
            ["mail.client.example", "client.example", "example"]
        );
        assert_eq!(
            nameserver_candidates(&domain("client.example")),
            ["client.example", "example"]
        );
    }

    #[test]
    fn servers_in_any_order_and_spelling_give_one_key() {
        let hosts = |names: &[&str]| -> Vec<String> {
            names.iter().map(|name| (*name).to_owned()).collect()
        };
        let key = servers_key(&hosts(&["ns2.host.example", "NS1.host.example."]));
        assert_eq!(
            key,
            NameserverKey::Servers(hosts(&["ns1.host.example", "ns2.host.example"]))
        );
        assert_eq!(
            servers_key(&hosts(&[
                "ns1.host.example",
                "ns2.host.example",
                "ns1.host.example"
            ])),
            key
        );
        assert_ne!(servers_key(&hosts(&["ns1.host.example"])), key);
    }

    #[test]
    fn the_fallback_is_the_name_above_and_never_a_server_key() {
        assert_eq!(
            parent_key(&domain("mail.client.example")),
            NameserverKey::Parent("client.example".to_owned())
        );
        assert_eq!(
            parent_key(&domain("client.example")),
            NameserverKey::Parent("example".to_owned())
        );
        assert_ne!(
            parent_key(&domain("a.example")),
            servers_key(&["example".to_owned()])
        );
    }

    #[test]
    fn each_key_has_its_own_semaphore_of_the_given_size() {
        let groups = NameserverGroups::new(3);
        let first = groups.semaphore(parent_key(&domain("a.example")));
        let again = groups.semaphore(parent_key(&domain("b.example")));
        let other = groups.semaphore(parent_key(&domain("a.test")));
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(first.available_permits(), 3);
        let unlimited = NameserverGroups::new(0).semaphore(parent_key(&domain("a.test")));
        assert_eq!(
            unlimited.available_permits(),
            1,
            "never zero, which would stall"
        );
    }
}
