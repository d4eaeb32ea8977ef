//! The zone's contents at one moment, from the keys the store says are served: the SOA and NS
//! records at the apex and one TXT record per key, made by the same builder as the TXT record the
//! hand-off shows, so the two are byte for byte the same.

use std::sync::Arc;

use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{NS, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use sealpost_domain::{DkimDnsRecord, DkimZone};
use sealpost_store::ServedKey;

/// The TTL of every key record: a change of key state reaches resolvers within five minutes.
pub const RECORD_TTL: u32 = 300;

/// The SOA's minimum, which resolvers use as the TTL of a negative answer (RFC 2308), so a key
/// added pending is found a minute after someone asked for it too early.
const NEGATIVE_TTL: u32 = 60;

/// What the server is authoritative for and which host names serve it.
#[derive(Debug, Clone)]
pub struct ZoneSettings {
    pub zone: DkimZone,
    /// The NS records at the apex; the zone's own name when none are given.
    pub nameservers: Vec<String>,
}

/// The zone as hickory's catalog, with the number of key records in it.
pub(crate) struct Built {
    pub(crate) catalog: Catalog,
    pub(crate) records: usize,
}

/// Builds the zone serving `keys`, under SOA serial `serial`. A key whose delegated name cannot
/// exist (a domain too long for one label) is left out: the hand-off tells that tenant to
/// publish the TXT record instead.
pub(crate) fn build(
    settings: &ZoneSettings,
    keys: &[ServedKey],
    serial: u32,
) -> Result<Built, String> {
    let apex = name(settings.zone.name().as_str())?;
    let mut handler = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
        apex.clone(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    );
    let nameservers = if settings.nameservers.is_empty() {
        vec![apex.clone()]
    } else {
        settings
            .nameservers
            .iter()
            .map(|host| name(host))
            .collect::<Result<Vec<_>, _>>()?
    };
    let hostmaster = name(&format!("hostmaster.{}", settings.zone))?;
    let soa = SOA::new(
        nameservers[0].clone(),
        hostmaster,
        serial,
        3600,
        600,
        86400,
        NEGATIVE_TTL,
    );
    handler.upsert_mut(
        Record::from_rdata(apex.clone(), RECORD_TTL, RData::SOA(soa)),
        serial,
    );
    for host in nameservers {
        handler.upsert_mut(
            Record::from_rdata(apex.clone(), RECORD_TTL, RData::NS(NS(host))),
            serial,
        );
    }
    let mut records = 0;
    for key in keys {
        let Ok(served) = settings
            .zone
            .served_name(key.tenant_id, &key.domain, &key.selector)
        else {
            continue;
        };
        let record =
            DkimDnsRecord::for_key(&key.domain, &key.selector, key.algorithm, &key.public_der);
        let strings = record.strings.iter().map(String::as_bytes).collect();
        let txt = Record::from_rdata(
            name(&served)?,
            RECORD_TTL,
            RData::TXT(TXT::from_bytes(strings)),
        );
        if handler.upsert_mut(txt, serial) {
            records += 1;
        }
    }
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(apex), vec![Arc::new(handler)]);
    Ok(Built { catalog, records })
}

/// An absolute name from dot-separated labels, taken byte for byte (selectors may hold
/// underscores).
fn name(text: &str) -> Result<Name, String> {
    let labels = text.strip_suffix('.').unwrap_or(text);
    let mut name = Name::from_labels(labels.split('.').map(str::as_bytes))
        .map_err(|error| format!("{text:?} is not a DNS name: {error}"))?;
    name.set_fqdn(true);
    Ok(name)
}
