//! Destinations: an MX host rolled up to the provider that runs it, with the limits that
//! apply to all of that provider's hosts together. Built-in profiles cover the large
//! providers; configured profiles add to them or replace one of the same name.

use std::fmt;

/// How hard one destination may be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at once, across every host of the destination.
    pub connections: u32,
    /// Transactions on one connection before it is closed and a new one opened.
    pub messages_per_connection: u32,
    /// Messages started per minute, across every connection.
    pub messages_per_minute: u32,
}

impl Limits {
    /// What an unknown destination gets: modest, since nothing is known of it (KumoMTA's default
    /// is 32 connections; Postfix's 20 concurrent deliveries per destination).
    pub const DEFAULT: Self = Self {
        connections: 10,
        messages_per_connection: 100,
        messages_per_minute: 1200,
    };

    /// This node's part of limits that `nodes` delivering nodes share: connections and rate
    /// divided evenly, rounded down so that together they stay within the limits, but never
    /// below one, so that every node can still send (with more nodes than a limit allows, the
    /// nodes together exceed it by the difference). Messages per connection are per
    /// connection and stay as they are.
    pub fn shared(self, nodes: u32) -> Self {
        let part = |value: u32| (value / nodes.max(1)).max(1);
        Self {
            connections: part(self.connections),
            messages_per_connection: self.messages_per_connection,
            messages_per_minute: part(self.messages_per_minute),
        }
    }
}

/// Which MX host names a profile covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// This host exactly, such as `aspmx.l.google.com`.
    Exact(String),
    /// Any host below this domain, such as every `*.google.com`.
    Below(String),
}

impl HostPattern {
    /// Reads `*.example.com` as every host below `example.com`, and anything else as one host.
    pub fn parse(text: &str) -> Self {
        let text = normalize(text);
        match text.strip_prefix("*.") {
            Some(domain) => Self::Below(domain.to_owned()),
            None => Self::Exact(text),
        }
    }

    fn covers(&self, host: &str) -> bool {
        match self {
            Self::Exact(name) => host == name,
            Self::Below(domain) => host
                .strip_suffix(domain.as_str())
                .is_some_and(|rest| rest.ends_with('.')),
        }
    }
}

/// A provider: a name, the MX hosts it runs, and the limits for all of them together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub hosts: Vec<HostPattern>,
    pub limits: Limits,
}

/// Where a message goes, as far as limits are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// One of the providers of a profile.
    Provider(String),
    /// A host that no profile covers: a destination of its own.
    Host(String),
}

impl fmt::Display for Destination {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Provider(name) => write!(formatter, "{name}"),
            Self::Host(host) => write!(formatter, "{host}"),
        }
    }
}

/// The profiles in force and the limits of every other destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shaping {
    profiles: Vec<Profile>,
    default_limits: Limits,
}

impl Default for Shaping {
    fn default() -> Self {
        Self::with_profiles(Vec::new(), Limits::DEFAULT)
    }
}

impl Shaping {
    /// The built-in profiles, with `configured` ones added: a configured profile with a
    /// built-in name replaces it, and configured profiles are consulted first.
    pub fn with_profiles(configured: Vec<Profile>, default_limits: Limits) -> Self {
        let mut profiles = configured;
        for builtin in builtin_profiles() {
            if !profiles.iter().any(|profile| profile.name == builtin.name) {
                profiles.push(builtin);
            }
        }
        Self {
            profiles,
            default_limits,
        }
    }

    /// No profiles at all: every host is a destination of its own with `limits`.
    pub fn uniform(limits: Limits) -> Self {
        Self {
            profiles: Vec::new(),
            default_limits: limits,
        }
    }

    /// The destination of an MX host and its limits.
    pub fn destination(&self, mx_host: &str) -> (Destination, Limits) {
        let host = normalize(mx_host);
        let profile = self
            .profiles
            .iter()
            .find(|profile| profile.hosts.iter().any(|pattern| pattern.covers(&host)));
        match profile {
            Some(profile) => (Destination::Provider(profile.name.clone()), profile.limits),
            None => (Destination::Host(host), self.default_limits),
        }
    }
}

/// Host names compare without case and without the root's trailing dot.
fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The large providers, with limits in line with what they publish or are known to enforce
/// before answering 421 4.7.0.
fn builtin_profiles() -> Vec<Profile> {
    let profile = |name: &str, hosts: &[&str], limits: Limits| Profile {
        name: name.to_owned(),
        hosts: hosts.iter().map(|host| HostPattern::parse(host)).collect(),
        limits,
    };
    vec![
        profile(
            "google",
            &["*.google.com", "*.googlemail.com", "aspmx.l.google.com"],
            Limits {
                connections: 10,
                messages_per_connection: 100,
                messages_per_minute: 3000,
            },
        ),
        profile(
            "microsoft",
            &["*.outlook.com", "*.protection.outlook.com"],
            Limits {
                connections: 8,
                messages_per_connection: 50,
                messages_per_minute: 1200,
            },
        ),
        profile(
            "yahoo",
            &["*.yahoodns.net"],
            Limits {
                connections: 5,
                messages_per_connection: 20,
                messages_per_minute: 600,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(shaping: &Shaping, host: &str, expect: &str) {
        let (destination, _) = shaping.destination(host);
        let shown = match destination {
            Destination::Provider(name) => format!("provider {name}"),
            Destination::Host(host) => format!("host {host}"),
        };
        assert_eq!(shown, expect);
    }

    #[test]
    fn mx_hosts_roll_up_to_providers() {
        let shaping = Shaping::default();
        check(&shaping, "aspmx.l.google.com", "provider google");
        check(&shaping, "ALT1.ASPMX.L.GOOGLE.COM.", "provider google");
        check(&shaping, "gmail-smtp-in.l.google.com", "provider google");
        check(&shaping, "aspmx2.googlemail.com", "provider google");
        check(
            &shaping,
            "client-example.mail.protection.outlook.com",
            "provider microsoft",
        );
        check(
            &shaping,
            "eur.olc.protection.outlook.com",
            "provider microsoft",
        );
        check(&shaping, "mta5.am0.yahoodns.net", "provider yahoo");
        check(&shaping, "mx.client.example", "host mx.client.example");
        check(&shaping, "MX.Client.Example.", "host mx.client.example");
        // A name that merely ends in the same letters is another domain.
        check(&shaping, "notgoogle.com", "host notgoogle.com");
        check(&shaping, "google.com", "host google.com");
        check(
            &shaping,
            "evilgoogle.com.attacker.example",
            "host evilgoogle.com.attacker.example",
        );
    }

    #[test]
    fn configured_profiles_add_and_override() {
        let limits = Limits {
            connections: 2,
            messages_per_connection: 10,
            messages_per_minute: 60,
        };
        let shaping = Shaping::with_profiles(
            vec![
                Profile {
                    name: "partner".into(),
                    hosts: vec![HostPattern::parse("*.partner.example")],
                    limits,
                },
                Profile {
                    name: "google".into(),
                    hosts: vec![HostPattern::parse("smtp.google.com")],
                    limits,
                },
            ],
            Limits::DEFAULT,
        );
        check(&shaping, "mx1.partner.example", "provider partner");
        check(&shaping, "smtp.google.com", "provider google");
        // The configured google replaces the built-in one, host list included.
        check(&shaping, "aspmx.l.google.com", "host aspmx.l.google.com");
        check(&shaping, "mta5.am0.yahoodns.net", "provider yahoo");
        assert_eq!(shaping.destination("smtp.google.com").1, limits);
        assert_eq!(shaping.destination("mx.other.example").1, Limits::DEFAULT);
    }

    #[test]
    fn nodes_share_limits_evenly_and_each_keeps_one() {
        let limits = Limits {
            connections: 10,
            messages_per_connection: 100,
            messages_per_minute: 1200,
        };
        let part = |nodes: u32| {
            let shared = limits.shared(nodes);
            (
                shared.connections,
                shared.messages_per_connection,
                shared.messages_per_minute,
            )
        };
        assert_eq!(part(0), (10, 100, 1200));
        assert_eq!(part(1), (10, 100, 1200));
        assert_eq!(part(2), (5, 100, 600));
        assert_eq!(part(3), (3, 100, 400));
        assert_eq!(part(16), (1, 100, 75));
        assert_eq!(part(5000), (1, 100, 1));
    }

    #[test]
    fn several_hosts_of_a_provider_share_one_destination() {
        let shaping = Shaping::default();
        let first = shaping.destination("alt1.aspmx.l.google.com");
        let second = shaping.destination("alt4.aspmx.l.google.com");
        assert_eq!(first, second);
        assert_eq!(first.0.to_string(), "google");
    }
}
