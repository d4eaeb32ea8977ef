//! `[dkim_zone]`: the platform's own DKIM zone (SPEC S11.4), which every node serves
//! authoritatively over UDP and TCP when `listen` is set, so tenants may publish a CNAME once
//! instead of a TXT record per key.

use std::net::SocketAddr;

use anyhow::Context as _;
use sealpost_domain::{DkimZone, DomainName};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimZoneConfig {
    /// Where this node answers DNS queries for the zone, such as `0.0.0.0:53`; off when unset.
    pub listen: Option<SocketAddr>,
    /// The zone's name; default `dkim.<platform.domain>`. Setting it without `listen` offers
    /// delegation on nodes whose zone is served by other nodes.
    pub zone: Option<String>,
    /// The host names of the nodes that serve the zone, for its NS records; default the zone's
    /// own name. The parent zone must delegate to the same names.
    pub nameservers: Vec<String>,
}

impl super::Config {
    /// The zone tenants may delegate to, when one is served: `dkim_zone.zone`, else
    /// `dkim.<platform.domain>` once `dkim_zone.listen` is set.
    pub fn dkim_zone(&self) -> anyhow::Result<Option<DkimZone>> {
        if let Some(zone) = &self.dkim_zone.zone {
            let name = DomainName::parse(zone).context("dkim_zone.zone")?;
            return Ok(Some(DkimZone::new(name)));
        }
        if self.dkim_zone.listen.is_none() {
            return Ok(None);
        }
        let Some(platform) = &self.platform.domain else {
            anyhow::bail!(
                "dkim_zone.listen is set but the zone has no name: set dkim_zone.zone, or \
                 platform.domain for the default dkim.<platform.domain>"
            );
        };
        let platform = DomainName::parse(platform).context("platform.domain")?;
        Ok(Some(DkimZone::under(&platform).context("dkim_zone.zone")?))
    }

    /// What `serve` starts the zone server with, when this node serves the zone.
    pub fn dkim_zone_server(
        &self,
    ) -> anyhow::Result<Option<(sealpost_dkimzone::ZoneSettings, SocketAddr)>> {
        let (Some(listen), Some(zone)) = (self.dkim_zone.listen, self.dkim_zone()?) else {
            return Ok(None);
        };
        for host in &self.dkim_zone.nameservers {
            DomainName::parse(host).context("dkim_zone.nameservers")?;
        }
        let settings = sealpost_dkimzone::ZoneSettings {
            zone,
            nameservers: self.dkim_zone.nameservers.clone(),
        };
        Ok(Some((settings, listen)))
    }
}
