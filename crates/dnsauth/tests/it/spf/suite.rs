//! The OpenSPF RFC 7208 test suite (`resources/spf/rfc7208-tests.yml`): every scenario's zone is
//! served by a real DNS server on loopback and every case is checked through Sealpost's resolver.
//!
//! The suite's zone data follows the conventions of its reference driver (pyspf's `testspf.py`):
//! an `SPF` entry is served as a record of the retired type 99 and, unless the name has a `TXT`
//! entry (`TXT: NONE` being the marker for "no TXT"), also as TXT; `TIMEOUT` makes the queries for
//! types without records at that name go unanswered. Identical records are served once, as DNS
//! does (the suite accepts the result that gives for `multispf1`).

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::spf::{SpfRequest, check_host};
use sealpost_domain::Timestamp;
use sealpost_testdns::{TestDns, Zone};
use tokio::task::JoinSet;
use yaml_rust2::{Yaml, YamlLoader};

const SUITE: &str = include_str!("../../../resources/spf/rfc7208-tests.yml");

/// The number of cases in the suite's release, so that a truncated file cannot pass unnoticed.
const CASES: usize = 203;

/// One case: its name, the request, the results allowed and the explanation expected.
struct Case {
    name: String,
    host: IpAddr,
    mail_from: String,
    helo: String,
    results: Vec<String>,
    /// `DEFAULT` stands for "no explanation from the domain".
    explanation: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc_7208_test_suite() {
    let started = Instant::now();
    let documents = YamlLoader::load_from_str(SUITE).expect("the suite is YAML");
    let mut failures = Vec::new();
    let mut second_choices = Vec::new();
    let mut cases = 0;
    for document in &documents {
        let description = scalar(&document["description"]);
        let zone = zone(&document["zonedata"]);
        let server = TestDns::start(zone)
            .await
            .unwrap_or_else(|error| panic!("{description}: {error}"));
        // No cache, so that every case asks the server; a short timeout, since TIMEOUT entries
        // never answer.
        let resolver = Resolver::new(&ResolverConfig {
            nameserver: Some(server.addr()),
            timeout: Duration::from_millis(200),
            attempts: 1,
            cache: false,
        })
        .expect("resolver");
        let mut running = JoinSet::new();
        for case in self::cases(&document["tests"]) {
            cases += 1;
            let resolver = resolver.clone();
            let description = description.clone();
            running.spawn(async move { run_case(&resolver, &description, &case).await });
        }
        while let Some(outcome) = running.join_next().await {
            match outcome.expect("a case panicked") {
                Ok(Choice::Preferred) => {}
                Ok(Choice::Accepted(case)) => second_choices.push(case),
                Err(failure) => failures.push(failure),
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "RFC 7208 suite: {} of {cases} cases pass in {elapsed:.2?}; with a result other than the \
         suite's first choice: {second_choices:?}",
        cases - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(cases, CASES);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

/// Whether a case passed with the suite's preferred result or with another one it accepts.
enum Choice {
    Preferred,
    Accepted(String),
}

async fn run_case(resolver: &Resolver, scenario: &str, case: &Case) -> Result<Choice, String> {
    let request = SpfRequest::mail_from(case.host, &case.mail_from, &case.helo, Timestamp(0));
    let outcome = check_host(resolver, &request).await;
    let result_ok = case
        .results
        .iter()
        .any(|allowed| allowed == outcome.result.as_str());
    let explanation_ok = match case.explanation.as_deref() {
        None => true,
        Some("DEFAULT") => outcome.explanation.is_none(),
        Some(expected) => outcome.explanation.as_deref() == Some(expected),
    };
    if result_ok && explanation_ok {
        return match case.results.first().map(String::as_str) == Some(outcome.result.as_str()) {
            true => Ok(Choice::Preferred),
            false => Ok(Choice::Accepted(format!(
                "{} ({})",
                case.name, outcome.result
            ))),
        };
    }
    Err(format!(
        "{scenario} / {}: expected {:?} (explanation {:?}), got {} (explanation {:?}): {}\n{:#?}",
        case.name,
        case.results,
        case.explanation,
        outcome.result,
        outcome.explanation,
        outcome.reason,
        outcome.trace
    ))
}

fn cases(tests: &Yaml) -> Vec<Case> {
    let tests = tests.as_hash().expect("tests is a mapping");
    tests
        .iter()
        .map(|(name, test)| {
            let name = scalar(name);
            let results = match &test["result"] {
                Yaml::Array(results) => results.iter().map(scalar).collect(),
                result => vec![scalar(result)],
            };
            let host = scalar(&test["host"]);
            Case {
                host: host
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}: host {host:?}")),
                mail_from: scalar(&test["mailfrom"]),
                helo: scalar(&test["helo"]),
                results,
                explanation: match &test["explanation"] {
                    Yaml::BadValue => None,
                    explanation => Some(scalar(explanation)),
                },
                name,
            }
        })
        .collect()
}

/// The scenario's zone data as a zone for the test server.
fn zone(zonedata: &Yaml) -> Zone {
    let mut zone = Zone::new();
    let mut served = HashSet::new();
    let zonedata = zonedata.as_hash().expect("zonedata is a mapping");
    for (name, entries) in zonedata {
        let name = scalar(name);
        let entries = entries.as_vec().expect("entries are a list");
        let has_txt = entries.iter().any(|entry| !entry["TXT"].is_badvalue());
        for entry in entries {
            if entry.as_str() == Some("TIMEOUT") {
                zone = zone.timeout(&name);
                continue;
            }
            let entry = entry.as_hash().expect("an entry is TIMEOUT or a mapping");
            for (kind, value) in entry {
                let kind = scalar(kind);
                // The server refuses a record twice; DNS would serve it once.
                if !served.insert((
                    name.to_ascii_lowercase(),
                    kind.clone(),
                    format!("{value:?}"),
                )) {
                    continue;
                }
                zone = add(zone, &name, &kind, value, has_txt);
            }
        }
    }
    zone
}

fn add(zone: Zone, name: &str, kind: &str, value: &Yaml, has_txt: bool) -> Zone {
    let text = || scalar(value);
    match kind {
        "SPF" => {
            let strings = strings(value);
            let strings: Vec<&str> = strings.iter().map(String::as_str).collect();
            let zone = zone.spf(name, &strings);
            match has_txt {
                true => zone,
                false => zone.txt(name, &strings),
            }
        }
        "TXT" if text() == "NONE" => zone,
        "TXT" => {
            let strings = strings(value);
            let strings: Vec<&str> = strings.iter().map(String::as_str).collect();
            zone.txt(name, &strings)
        }
        "A" => zone.a(name, text().parse().expect("an IPv4 address")),
        "AAAA" => zone.aaaa(name, text().parse().expect("an IPv6 address")),
        "PTR" => zone.ptr(name, &text()),
        "CNAME" => zone.cname(name, &text()),
        "MX" => {
            let pair = value.as_vec().expect("MX is [preference, exchange]");
            let preference = pair[0].as_i64().expect("an MX preference");
            let preference = u16::try_from(preference).expect("a 16-bit preference");
            zone.mx(name, preference, &scalar(&pair[1]))
        }
        other => panic!("{name}: unknown record type {other}"),
    }
}

/// The character-strings of a TXT or SPF entry: one string, or a list. A list without strings
/// (`null.example.com`, "illegal, but SPF should not crash") is served as one empty string,
/// since DNS has no TXT record without strings.
fn strings(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::Array(strings) if strings.is_empty() => vec![String::new()],
        Yaml::Array(strings) => strings.iter().map(scalar).collect(),
        value => vec![scalar(value)],
    }
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(text) | Yaml::Real(text) => text.clone(),
        Yaml::Integer(number) => number.to_string(),
        Yaml::Boolean(flag) => flag.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}
