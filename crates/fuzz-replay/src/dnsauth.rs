//! The DNS authentication targets: SPF evaluated against a zone written in the input, and DMARC
//! records with alignment.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sealpost_dns::{LookupError, TxtRecord};
use sealpost_dnsauth::dmarc::{self, AlignmentMode, DmarcRecord};
use sealpost_dnsauth::spf::{self, SpfDns, SpfRequest};

use crate::fixture;

/// The input is lines. The first is the request, `IP MAIL-FROM HELO`; each other line is a
/// record, `NAME TYPE VALUE` with TYPE one of `TXT`, `A`, `AAAA`, `MX` (VALUE `PREF HOST`) and
/// `PTR` (NAME the IP address), or `NAME SERVFAIL` for a name whose lookups fail for now.
/// Lines that do not fit are ignored, so every input is some zone.
pub fn spf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let request_line = lines.next().unwrap_or_default();
    let mut request_words = request_line.split_ascii_whitespace();
    let ip = request_words
        .next()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let mail_from = request_words.next().unwrap_or("sender@example.com");
    let helo = request_words.next().unwrap_or("mail.example.com");
    let zone = Zone::parse(lines);
    let request = SpfRequest::mail_from(ip, mail_from, helo, fixture::NOW);
    let outcome = ready(spf::check_host(&zone, &request));
    assert!(
        outcome.void_lookups <= 3,
        "{} void lookups counted past the limit of 2",
        outcome.void_lookups
    );
    assert!(
        outcome.lookups <= 11,
        "{} DNS-querying terms counted past the limit of 10",
        outcome.lookups
    );
}

/// The input is lines: a DMARC record, a From domain, and a DKIM or SPF identifier.
pub fn dmarc(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let record = lines.next().unwrap_or_default();
    let _ = DmarcRecord::parse(record);
    let from_domain = lines.next().unwrap_or("example.com");
    let identifier = lines.next().unwrap_or("mail.example.com");
    let strict = dmarc::aligned(from_domain, identifier, AlignmentMode::Strict);
    let relaxed = dmarc::aligned(from_domain, identifier, AlignmentMode::Relaxed);
    assert!(
        !strict || relaxed,
        "{from_domain:?} and {identifier:?} align strictly but not relaxed"
    );
    let organizational = dmarc::organizational_domain(from_domain);
    let lower = from_domain.trim_end_matches('.').to_ascii_lowercase();
    assert!(
        lower.ends_with(&organizational),
        "the organisational domain {organizational:?} is not a suffix of {lower:?}"
    );
}

/// Polls a future that never waits: the in-memory zone answers at once, so `check_host` must
/// finish on its first poll.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("check_host waited although every DNS answer was ready"),
    }
}

/// An SPF zone in memory, keyed by lowercase name without the final dot.
#[derive(Debug, Default)]
struct Zone {
    txt: HashMap<String, Vec<String>>,
    a: HashMap<String, Vec<Ipv4Addr>>,
    aaaa: HashMap<String, Vec<Ipv6Addr>>,
    mx: HashMap<String, Vec<(u16, String)>>,
    ptr: HashMap<IpAddr, Vec<String>>,
    failing: Vec<String>,
}

impl Zone {
    fn parse<'a>(lines: impl Iterator<Item = &'a str>) -> Self {
        let mut zone = Self::default();
        for line in lines {
            let line = line.trim_end_matches('\r');
            let mut parts = line.splitn(3, ' ');
            let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            let value = parts.next().unwrap_or_default();
            let name = normalise(name);
            match kind {
                "TXT" => zone.txt.entry(name).or_default().push(value.to_owned()),
                "A" => extend(&mut zone.a, name, value.parse().ok()),
                "AAAA" => extend(&mut zone.aaaa, name, value.parse().ok()),
                "MX" => {
                    let exchange = value.split_once(' ').and_then(|(preference, host)| {
                        Some((preference.parse().ok()?, normalise(host)))
                    });
                    extend(&mut zone.mx, name, exchange);
                }
                "PTR" => {
                    if let Ok(ip) = name.parse::<IpAddr>() {
                        zone.ptr.entry(ip).or_default().push(normalise(value));
                    }
                }
                "SERVFAIL" => zone.failing.push(name),
                _ => {}
            }
        }
        zone
    }

    /// Whether the name owns any record, which tells NODATA from NXDOMAIN.
    fn exists(&self, name: &str) -> bool {
        self.txt.contains_key(name)
            || self.a.contains_key(name)
            || self.aaaa.contains_key(name)
            || self.mx.contains_key(name)
    }

    fn answer<T: Clone>(
        &self,
        name: &str,
        records: &HashMap<String, Vec<T>>,
    ) -> Result<Vec<T>, LookupError> {
        let name = normalise(name);
        if self.failing.contains(&name) {
            return Err(LookupError::Temporary("SERVFAIL".to_owned()));
        }
        match records.get(&name) {
            Some(found) => Ok(found.clone()),
            None if self.exists(&name) => Err(LookupError::NoData),
            None => Err(LookupError::NxDomain),
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn extend<T>(records: &mut HashMap<String, Vec<T>>, name: String, record: Option<T>) {
    if let Some(record) = record {
        records.entry(name).or_default().push(record);
    }
}

impl SpfDns for Zone {
    async fn txt(&self, name: &str) -> Result<Vec<TxtRecord>, LookupError> {
        let texts = self.answer(name, &self.txt)?;
        Ok(texts
            .into_iter()
            .map(|text| TxtRecord {
                strings: vec![text.into_bytes()],
            })
            .collect())
    }

    async fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        self.answer(name, &self.a)
    }

    async fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        self.answer(name, &self.aaaa)
    }

    async fn mx(&self, name: &str) -> Result<Vec<(u16, String)>, LookupError> {
        self.answer(name, &self.mx)
    }

    async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        self.ptr.get(&ip).cloned().ok_or(LookupError::NxDomain)
    }
}
