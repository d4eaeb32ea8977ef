//! The operator's traffic shaping (`[delivery.traffic]`): how long connections stay open for
//! the next message, the limits of a destination no profile covers, and profiles that add
//! providers or replace a built-in one (`[[delivery.traffic.destinations]]`).

use anyhow::bail;
use sealpost_delivery::PoolLimits;
use sealpost_delivery::shaping::{HostPattern, Limits, Profile, Shaping};
use serde::{Deserialize, Serialize};

/// How hard one destination may be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationLimits {
    /// Open connections at once, across every MX host of the destination.
    pub connections: u32,
    /// Messages on one connection before it is closed.
    pub messages_per_connection: u32,
    /// Messages started per minute, across every connection.
    pub messages_per_minute: u32,
}

impl Default for DestinationLimits {
    fn default() -> Self {
        let Limits {
            connections,
            messages_per_connection,
            messages_per_minute,
        } = Limits::DEFAULT;
        Self {
            connections,
            messages_per_connection,
            messages_per_minute,
        }
    }
}

impl DestinationLimits {
    fn limits(self) -> Limits {
        Limits {
            connections: self.connections,
            messages_per_connection: self.messages_per_connection,
            messages_per_minute: self.messages_per_minute,
        }
    }

    fn check(&self, what: &str) -> anyhow::Result<()> {
        if self.connections == 0
            || self.messages_per_connection == 0
            || self.messages_per_minute == 0
        {
            bail!(
                "{what}: connections, messages_per_connection and messages_per_minute must be \
                 at least 1"
            );
        }
        Ok(())
    }
}

/// A provider: its name, the MX hosts it runs (`*.example.com` for every host below), and its
/// limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationProfile {
    pub name: String,
    pub hosts: Vec<String>,
    pub connections: u32,
    pub messages_per_connection: u32,
    pub messages_per_minute: u32,
}

impl DestinationProfile {
    fn limits(&self) -> DestinationLimits {
        DestinationLimits {
            connections: self.connections,
            messages_per_connection: self.messages_per_connection,
            messages_per_minute: self.messages_per_minute,
        }
    }
}

/// `[delivery.traffic]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSettings {
    /// Seconds an open connection waits for the next message before it is closed.
    pub connection_idle_seconds: u64,
    /// The limits of a destination no profile covers.
    pub default_destination: DestinationLimits,
    /// Profiles added to the built-in ones (google, microsoft, yahoo), or replacing one of the
    /// same name.
    pub destinations: Vec<DestinationProfile>,
}

impl Default for TrafficSettings {
    fn default() -> Self {
        Self {
            connection_idle_seconds: 30,
            default_destination: DestinationLimits::default(),
            destinations: Vec::new(),
        }
    }
}

impl TrafficSettings {
    pub fn check(&self) -> anyhow::Result<()> {
        self.default_destination
            .check("delivery.traffic.default_destination")?;
        for profile in &self.destinations {
            let what = format!("delivery.traffic.destinations {:?}", profile.name);
            if profile.name.trim().is_empty() {
                bail!("delivery.traffic.destinations: every profile needs a name");
            }
            if profile.hosts.is_empty() || profile.hosts.iter().any(|host| host.trim().is_empty()) {
                bail!("{what}: list its MX hosts, such as \"*.mail.example.com\"");
            }
            profile.limits().check(&what)?;
        }
        Ok(())
    }

    pub fn shaping(&self) -> Shaping {
        let profiles = self
            .destinations
            .iter()
            .map(|profile| Profile {
                name: profile.name.clone(),
                hosts: profile
                    .hosts
                    .iter()
                    .map(|host| HostPattern::parse(host))
                    .collect(),
                limits: profile.limits().limits(),
            })
            .collect();
        Shaping::with_profiles(profiles, self.default_destination.limits())
    }

    pub fn pool(&self) -> PoolLimits {
        PoolLimits {
            // Each destination caps what a connection carries below this; a tenant's own mail
            // server gets this.
            messages_per_connection: 100,
            idle_timeout: std::time::Duration::from_secs(self.connection_idle_seconds),
        }
    }
}
