//! The records a test server answers with, collected by a builder and turned into one
//! authoritative root zone when the server starts.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, NULL, PTR, SOA, TXT};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};

/// Every record gets this TTL. It is long enough that a caching resolver keeps an answer for the
/// whole of a test, which is what the cache tests rely on.
const TTL: u32 = 300;

/// The largest character-string a TXT record can carry (RFC 1035 section 3.3: one length octet).
const MAX_CHARACTER_STRING: usize = 255;

/// The type code of the SPF record type (RFC 4408 section 3.1.1), which RFC 7208 section 3.1
/// retired. Hickory has no type for it, so its records are served as opaque data.
const SPF_TYPE: u16 = 99;

/// A set of records under any names (several origins, such as `example.com.` and `test.`, may be
/// mixed), plus names that answer SERVFAIL, names that leave queries unanswered and names whose
/// answers are slow.
///
/// Names are absolute whether or not they end with a dot. Records of one name and type are served
/// in the order they were added. Mistakes such as an over-long TXT string or a CNAME next to other
/// data are reported by [`TestDns::start`](crate::TestDns::start), so that the builder itself never
/// panics.
#[derive(Debug, Default, Clone)]
pub struct Zone {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
enum Entry {
    Record {
        name: String,
        data: Data,
    },
    ServFail(String),
    Timeout(String),
    Slow {
        name: String,
        group: String,
        delay: Duration,
    },
}

#[derive(Debug, Clone)]
enum Data {
    Txt(Vec<Vec<u8>>),
    Spf(Vec<Vec<u8>>),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx { preference: u16, exchange: String },
    Cname(String),
    Ptr(String),
    Ns(String),
}

impl Zone {
    /// An empty zone: every name answers NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one TXT record whose character-strings are `strings`, each at most 255 bytes (the
    /// caller splits longer text, as a zone file author would).
    pub fn txt(self, name: &str, strings: &[&str]) -> Self {
        let strings = strings
            .iter()
            .map(|text| text.as_bytes().to_vec())
            .collect();
        self.record(name, Data::Txt(strings))
    }

    /// Adds one TXT record holding `value` cut into character-strings of at most 255 bytes, as a
    /// DNS provider publishes a long value such as a DKIM key.
    pub fn txt_split(self, name: &str, value: &str) -> Self {
        let strings = value.as_bytes().chunks(255).map(<[u8]>::to_vec).collect();
        self.record(name, Data::Txt(strings))
    }

    /// Adds one TXT record whose character-strings are arbitrary bytes, for 8-bit content.
    pub fn txt_bytes(self, name: &str, strings: &[&[u8]]) -> Self {
        let strings = strings.iter().map(|bytes| bytes.to_vec()).collect();
        self.record(name, Data::Txt(strings))
    }

    /// Adds one record of the retired SPF type (99) whose character-strings are `strings`, laid
    /// out as in a TXT record, so that tests can show that a checker does not read them.
    pub fn spf(self, name: &str, strings: &[&str]) -> Self {
        let strings = strings
            .iter()
            .map(|text| text.as_bytes().to_vec())
            .collect();
        self.record(name, Data::Spf(strings))
    }

    /// Adds an A record.
    pub fn a(self, name: &str, ip: Ipv4Addr) -> Self {
        self.record(name, Data::A(ip))
    }

    /// Adds an AAAA record.
    pub fn aaaa(self, name: &str, ip: Ipv6Addr) -> Self {
        self.record(name, Data::Aaaa(ip))
    }

    /// Adds an MX record.
    pub fn mx(self, name: &str, preference: u16, exchange: &str) -> Self {
        let exchange = exchange.to_owned();
        self.record(
            name,
            Data::Mx {
                preference,
                exchange,
            },
        )
    }

    /// Adds a CNAME record; it must be the only record at `name`.
    pub fn cname(self, name: &str, target: &str) -> Self {
        self.record(name, Data::Cname(target.to_owned()))
    }

    /// Adds a PTR record (`name` is the reverse name, such as `1.2.0.192.in-addr.arpa`).
    pub fn ptr(self, name: &str, target: &str) -> Self {
        self.record(name, Data::Ptr(target.to_owned()))
    }

    /// Adds an NS record: `name` becomes the apex of a zone of its own, with its own SOA, that
    /// holds the records at and under `name` (the same server answers for it, as a provider's
    /// servers answer for every customer's zone), so that a resolver finds which servers serve a
    /// domain.
    pub fn ns(self, name: &str, host: &str) -> Self {
        self.record(name, Data::Ns(host.to_owned()))
    }

    /// Delays every answer for exactly `name`, of any type, by `delay`, and counts the query as
    /// in flight under `group` while it waits (see
    /// [`TestDns::peak_in_flight`](crate::TestDns::peak_in_flight)), so that tests can see how many
    /// queries a client keeps open at once, per group of names.
    pub fn slow(mut self, name: &str, group: &str, delay: Duration) -> Self {
        self.entries.push(Entry::Slow {
            name: name.to_owned(),
            group: group.to_owned(),
            delay,
        });
        self
    }

    /// Makes every query for exactly `name`, of any type, answer SERVFAIL, so that tests can
    /// exercise temporary errors.
    pub fn servfail(mut self, name: &str) -> Self {
        self.entries.push(Entry::ServFail(name.to_owned()));
        self
    }

    /// Makes queries for exactly `name` go unanswered, so that the client times out, except
    /// queries for a type that the zone holds records of at `name`. That models both a name
    /// whose servers are unreachable (no records at all) and the server that answers TXT but
    /// never answers other types, which RFC 7208's test suite describes.
    pub fn timeout(mut self, name: &str) -> Self {
        self.entries.push(Entry::Timeout(name.to_owned()));
        self
    }

    fn record(mut self, name: &str, data: Data) -> Self {
        self.entries.push(Entry::Record {
            name: name.to_owned(),
            data,
        });
        self
    }

    /// Turns the entries into the records of one root zone (its SOA first, then the records in
    /// the order given), the names that answer SERVFAIL and the names that time out. The error
    /// names the offending entry.
    pub(crate) fn compile(&self) -> Result<Compiled, String> {
        let mut compiled = Compiled {
            records: vec![soa(Name::root())?],
            servfail: Vec::new(),
            timeout: Vec::new(),
            slow: Vec::new(),
        };
        for entry in &self.entries {
            match entry {
                Entry::Record { name, data } => {
                    let owner = parse_name(name)?;
                    let rdata = data.to_rdata(name)?;
                    compiled.records.push(Record::from_rdata(owner, TTL, rdata));
                }
                Entry::ServFail(name) => compiled.servfail.push(parse_name(name)?),
                Entry::Timeout(name) => compiled.timeout.push(parse_name(name)?),
                Entry::Slow { name, group, delay } => {
                    compiled
                        .slow
                        .push((parse_name(name)?, group.clone(), *delay));
                }
            }
        }
        Ok(compiled)
    }
}

impl Data {
    fn to_rdata(&self, owner: &str) -> Result<RData, String> {
        let rdata = match self {
            Self::Txt(strings) => {
                check_strings("TXT", strings, owner)?;
                RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
            }
            Self::Spf(strings) => {
                check_strings("SPF", strings, owner)?;
                // Each character-string is its length octet and its bytes, as in TXT.
                let mut wire = Vec::new();
                for string in strings {
                    let length = u8::try_from(string.len())
                        .map_err(|_| format!("SPF character-string at {owner:?} is too long"))?;
                    wire.push(length);
                    wire.extend_from_slice(string);
                }
                RData::Unknown {
                    code: RecordType::Unknown(SPF_TYPE),
                    rdata: NULL::with(wire),
                }
            }
            Self::A(ip) => RData::A(A(*ip)),
            Self::Aaaa(ip) => RData::AAAA(AAAA(*ip)),
            Self::Mx {
                preference,
                exchange,
            } => RData::MX(MX::new(*preference, parse_name(exchange)?)),
            Self::Cname(target) => RData::CNAME(CNAME(parse_name(target)?)),
            Self::Ptr(target) => RData::PTR(PTR(parse_name(target)?)),
            Self::Ns(host) => RData::NS(NS(parse_name(host)?)),
        };
        Ok(rdata)
    }
}

/// Refuses a TXT-like record without character-strings or with one longer than DNS can carry.
fn check_strings(kind: &str, strings: &[Vec<u8>], owner: &str) -> Result<(), String> {
    if strings.is_empty() {
        return Err(format!(
            "{kind} record at {owner:?} has no character-string"
        ));
    }
    if let Some(long) = strings.iter().find(|s| s.len() > MAX_CHARACTER_STRING) {
        return Err(format!(
            "{kind} character-string of {} bytes at {owner:?} exceeds {MAX_CHARACTER_STRING}",
            long.len()
        ));
    }
    Ok(())
}

/// The zone in hickory's terms.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) records: Vec<Record>,
    pub(crate) servfail: Vec<Name>,
    pub(crate) timeout: Vec<Name>,
    pub(crate) slow: Vec<(Name, String, Duration)>,
}

/// The start-of-authority record of a zone the server is authoritative for (the root, or a name
/// with NS records). Its presence is what makes negative answers come out as NXDOMAIN or NODATA
/// (with the SOA in the authority section) instead of REFUSED, and what makes hickory treat the
/// NS records at a zone's apex as the zone's own rather than as a referral; its minimum of 60 s is
/// the negative-caching TTL.
pub(crate) fn soa(origin: Name) -> Result<Record, String> {
    let soa = SOA::new(
        parse_name("ns.test")?,
        parse_name("hostmaster.test")?,
        1,
        3600,
        600,
        86400,
        60,
    );
    Ok(Record::from_rdata(origin, 60, RData::SOA(soa)))
}

/// Reads a name as dot-separated labels taken byte for byte, with an optional final dot, so that
/// tests can publish any name a resolver may ask for (underscores, odd characters) unchanged.
fn parse_name(text: &str) -> Result<Name, String> {
    let labels = text.strip_suffix('.').unwrap_or(text);
    if labels.is_empty() {
        return Ok(Name::root());
    }
    Name::from_labels(labels.split('.').map(str::as_bytes))
        .map_err(|error| format!("bad DNS name {text:?}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_error(zone: Zone, expect: &str) {
        let error = zone.compile().unwrap_err();
        assert!(error.contains(expect), "{error:?} lacks {expect:?}");
    }

    #[test]
    fn mistakes_are_reported_with_the_name() {
        check_error(
            Zone::new().txt("long.test", &[&"x".repeat(256)]),
            "256 bytes at \"long.test\"",
        );
        check_error(Zone::new().txt("empty.test", &[]), "no character-string");
        check_error(
            Zone::new().a("a..test", Ipv4Addr::LOCALHOST),
            "bad DNS name",
        );
        check_error(
            Zone::new().cname(&format!("{}.test", "l".repeat(64)), "x.test"),
            "bad DNS name",
        );
    }

    #[test]
    fn names_are_absolute_with_or_without_the_final_dot() {
        let compiled = Zone::new()
            .a("host.test", Ipv4Addr::LOCALHOST)
            .a("host.test.", Ipv4Addr::LOCALHOST)
            .servfail("_dmarc.odd+name.test")
            .compile()
            .unwrap();
        let [soa, first, second] = &compiled.records[..] else {
            panic!("{:?}", compiled.records);
        };
        assert!(soa.name.is_root());
        assert_eq!(first.name, second.name);
        assert!(first.name.is_fqdn());
        assert_eq!(compiled.servfail[0].to_ascii(), "_dmarc.odd\\+name.test.");
    }
}
