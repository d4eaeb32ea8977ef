//! The tenant check against the test DNS server: findings and the suggested record.

use std::net::{IpAddr, Ipv4Addr};

use sealpost_dnsauth::finding::Status;
use sealpost_dnsauth::spf::{
    Network, SpfResult, TenantSpfReport, check_tenant_spf, platform_record, split_strings,
};
use sealpost_domain::Timestamp;
use sealpost_testdns::{TestDns, Zone};

use super::resolver;

const INCLUDE: &str = "_spf.platform.test";

fn networks() -> Vec<Network> {
    ["192.0.2.0/24", "2001:db8:5::/48", "198.51.100.25"]
        .iter()
        .map(|text| text.parse().unwrap())
        .collect()
}

/// Adds a TXT record, split into strings of 255 as a zone file author would.
fn txt(zone: Zone, name: &str, value: &str) -> Zone {
    let strings = split_strings(value);
    let strings: Vec<&str> = strings.iter().map(String::as_str).collect();
    zone.txt(name, &strings)
}

fn zone() -> Zone {
    let mut zone = txt(Zone::new(), INCLUDE, &platform_record(&networks()))
        .txt("none.test", &["google-site-verification=abc"])
        .txt("noinclude.test", &["v=spf1 mx ip4:203.0.113.0/24 -all"])
        .mx("noinclude.test", 10, "mail.noinclude.test")
        .a("mail.noinclude.test", Ipv4Addr::new(203, 0, 113, 5))
        .txt("good.test", &["v=spf1 include:_spf.platform.test ~all"])
        .txt("two.test", &["v=spf1 mx -all"])
        .txt("two.test", &["v=spf1 include:_spf.platform.test -all"])
        .txt("plusall.test", &["v=spf1 include:_spf.platform.test +all"])
        .txt("neutral.test", &["v=spf1 include:_spf.platform.test ?all"])
        .txt("ptr.test", &["v=spf1 ptr include:_spf.platform.test -all"])
        .txt("late.test", &["v=spf1 mx -all include:_spf.platform.test"])
        .txt("glued.test", &["v=spf1 include:_spf.platform.test", "mx ~all"])
        .txt("syntax.test", &["v=spf1 ip4:192.0.2.300 include:_spf.platform.test -all"])
        .txt(
            "void.test",
            &["v=spf1 a:gone1.void.test a:gone2.void.test a:gone3.void.test include:_spf.platform.test -all"],
        )
        .txt("twovoid.test", &["v=spf1 a:gone1.void.test mx:gone2.void.test include:_spf.platform.test -all"]);
    // Ten address lookups: at the limit already, so the include would be the eleventh.
    let hosts: Vec<String> = (1..=10).map(|n| format!("a:h{n}.lookups.test")).collect();
    zone = zone.txt(
        "lookups.test",
        &[&format!("v=spf1 {} -all", hosts.join(" "))],
    );
    zone = zone.txt(
        "overlimit.test",
        &[&format!(
            "v=spf1 {} a:h11.lookups.test include:_spf.platform.test -all",
            hosts.join(" ")
        )],
    );
    for n in 1..=11 {
        zone = zone.a(&format!("h{n}.lookups.test"), Ipv4Addr::new(203, 0, 113, n));
    }
    // A long record: the include makes it longer than one string may be.
    let ranges: Vec<String> = (1..=11)
        .map(|n| format!("ip4:203.0.113.{}/32", n * 10))
        .collect();
    zone = txt(
        zone,
        "long.test",
        &format!("v=spf1 {} ~all", ranges.join(" ")),
    );
    zone
}

async fn check(server: &TestDns, domain: &str) -> TenantSpfReport {
    check_tenant_spf(
        &resolver(server),
        domain,
        &networks(),
        INCLUDE,
        Timestamp(0),
    )
    .await
}

/// The findings as `status code: found`, the address checks left out.
fn findings(report: &TenantSpfReport) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|finding| finding.code != "spf.address")
        .map(|finding| {
            format!(
                "{} {}: {}",
                finding.status.as_str(),
                finding.code,
                finding.found
            )
        })
        .collect()
}

/// Each checked address with its result.
fn addresses(report: &TenantSpfReport) -> Vec<(IpAddr, SpfResult)> {
    report
        .addresses
        .iter()
        .map(|check| (check.address, check.outcome.result))
        .collect()
}

fn all(result: SpfResult) -> Vec<(IpAddr, SpfResult)> {
    [
        "192.0.2.0",
        "192.0.2.255",
        "2001:db8:5::",
        "2001:db8:5:ffff:ffff:ffff:ffff:ffff",
        "198.51.100.25",
    ]
    .iter()
    .map(|text| (text.parse().unwrap(), result))
    .collect()
}

fn fix<'r>(report: &'r TenantSpfReport, code: &str) -> &'r str {
    report
        .findings
        .iter()
        .find(|finding| finding.code == code)
        .and_then(|finding| finding.fix.as_deref())
        .unwrap_or_else(|| panic!("no fix for {code}: {:#?}", report.findings))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_without_a_record_gets_a_complete_one() {
    let server = TestDns::start(zone()).await.unwrap();
    let report = check(&server, "none.test").await;
    assert_eq!(
        findings(&report),
        ["error spf.record_missing: none.test has no SPF record"]
    );
    assert_eq!(addresses(&report), all(SpfResult::None));
    let suggested = report.suggested.as_ref().unwrap();
    assert_eq!(suggested.name, "none.test");
    assert_eq!(suggested.value, "v=spf1 include:_spf.platform.test ~all");
    assert_eq!(suggested.strings, std::slice::from_ref(&suggested.value));
    assert!(fix(&report, "spf.record_missing").starts_with(
        "Publish a TXT record at none.test with the value \"v=spf1 include:_spf.platform.test ~all\"."
    ));
    assert_eq!(report.status(), Status::Error);
    assert!(report.records.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_the_include_gets_the_minimal_edit() {
    let server = TestDns::start(zone()).await.unwrap();
    let report = check(&server, "noinclude.test").await;
    assert_eq!(
        findings(&report),
        [
            "ok spf.record: one SPF record: \"v=spf1 mx ip4:203.0.113.0/24 -all\"",
            "ok spf.all: \"-all\"",
            "error spf.include_missing: the record does not include _spf.platform.test",
            "ok spf.lookups: 1 DNS lookup now, 2 with include:_spf.platform.test",
            "ok spf.void_lookups: no void lookups",
        ]
    );
    assert_eq!(
        fix(&report, "spf.include_missing"),
        "Change the TXT record at noinclude.test to \"v=spf1 mx ip4:203.0.113.0/24 \
         include:_spf.platform.test -all\": insert \"include:_spf.platform.test \" before \"-all\"; \
         everything else stays as it is."
    );
    assert_eq!(
        report.suggested.as_ref().unwrap().value,
        "v=spf1 mx ip4:203.0.113.0/24 include:_spf.platform.test -all"
    );
    assert_eq!(addresses(&report), all(SpfResult::Fail));
    assert_eq!(report.records, [["v=spf1 mx ip4:203.0.113.0/24 -all"]]);
    assert_eq!((report.lookups, report.void_lookups), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_with_the_include_passes_for_every_platform_address() {
    let server = TestDns::start(zone()).await.unwrap();
    let report = check(&server, "good.test").await;
    assert_eq!(addresses(&report), all(SpfResult::Pass));
    assert_eq!(report.status(), Status::Ok, "{:#?}", report.findings);
    assert_eq!(report.suggested, None);
    assert_eq!(
        findings(&report),
        [
            "ok spf.record: one SPF record: \"v=spf1 include:_spf.platform.test ~all\"",
            "ok spf.all: \"~all\"",
            "ok spf.include: the record includes _spf.platform.test",
            "ok spf.lookups: 1 DNS lookup",
            "ok spf.void_lookups: no void lookups",
        ]
    );
    let address = report
        .findings
        .iter()
        .find(|f| f.code == "spf.address")
        .unwrap();
    assert_eq!(
        address.found,
        "192.0.2.0 (platform network 192.0.2.0/24): pass"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistakes_are_named_with_their_fix() {
    let server = TestDns::start(zone()).await.unwrap();

    let report = check(&server, "two.test").await;
    assert_eq!(
        findings(&report)[0],
        "error spf.records_multiple: 2 SPF records: \"v=spf1 mx -all\", \"v=spf1 include:_spf.platform.test -all\""
    );
    assert!(fix(&report, "spf.records_multiple").starts_with("Merge them into one TXT record"));
    assert_eq!(addresses(&report), all(SpfResult::PermError));
    assert_eq!(report.suggested, None);

    let report = check(&server, "plusall.test").await;
    assert!(findings(&report).contains(
        &"error spf.all_permissive: \"+all\": every server on the Internet may send as this domain".to_owned()
    ));
    assert_eq!(addresses(&report), all(SpfResult::Pass));
    let report = check(&server, "neutral.test").await;
    assert!(
        findings(&report)
            .iter()
            .any(|f| f.starts_with("warning spf.all_permissive: \"?all\""))
    );

    let report = check(&server, "ptr.test").await;
    assert!(
        findings(&report)
            .contains(&"warning spf.ptr: \"ptr\" in the SPF record of ptr.test".to_owned())
    );
    assert_eq!(addresses(&report), all(SpfResult::Pass));

    let report = check(&server, "late.test").await;
    assert!(
        findings(&report)
            .iter()
            .any(|f| f.starts_with("error spf.include_ineffective"))
    );
    assert_eq!(
        report.suggested.as_ref().unwrap().value,
        "v=spf1 mx include:_spf.platform.test -all"
    );
    assert_eq!(addresses(&report), all(SpfResult::Fail));

    let report = check(&server, "syntax.test").await;
    assert!(findings(&report).contains(
        &"error spf.syntax: a syntax error in \"ip4:192.0.2.300\": \"192.0.2.300\" is not an ip4 address".to_owned()
    ));
    assert_eq!(addresses(&report), all(SpfResult::PermError));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_joined_without_a_space_are_found() {
    let server = TestDns::start(zone()).await.unwrap();
    let report = check(&server, "glued.test").await;
    assert_eq!(
        findings(&report)[0],
        "error spf.strings_joined: the strings \"v=spf1 include:_spf.platform.test\" and \"mx ~all\" \
         are joined without a space into \"include:_spf.platform.testmx\""
    );
    assert_eq!(
        fix(&report, "spf.strings_joined"),
        "Add a space at the end of the string \"v=spf1 include:_spf.platform.test\"."
    );
    // Receivers look for the record of "_spf.platform.testmx", which does not exist.
    assert_eq!(addresses(&report), all(SpfResult::PermError));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suggestion_longer_than_255_is_split_into_strings() {
    let server = TestDns::start(zone()).await.unwrap();
    let report = check(&server, "long.test").await;
    assert_eq!(
        report.records[0].len(),
        1,
        "the record itself fits in one string"
    );
    let suggested = report.suggested.as_ref().unwrap();
    assert!(suggested.value.len() > 255);
    assert!(
        suggested
            .value
            .ends_with(" include:_spf.platform.test ~all")
    );
    assert_eq!(suggested.strings.len(), 2);
    assert_eq!(suggested.strings.concat(), suggested.value);
    assert!(suggested.strings[0].len() <= 255 && suggested.strings[0].ends_with(' '));
    assert!(
        fix(&report, "spf.include_missing").contains("so publish it as 2 strings"),
        "{}",
        fix(&report, "spf.include_missing")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_and_void_limits() {
    let server = TestDns::start(zone()).await.unwrap();

    let report = check(&server, "lookups.test").await;
    assert!(findings(&report).contains(
        &"error spf.lookups: 10 DNS lookups now, 11 with include:_spf.platform.test for IPv4 senders"
            .to_owned()
    ));
    assert_eq!(report.lookups, 10);
    // The hosts have no IPv6 addresses: for IPv6 senders each a: is a void lookup.
    assert!(findings(&report).iter().any(|f| f.starts_with(
        "error spf.void_lookups: more than 2 void lookups for IPv6 senders: \"a:h1.lookups.test\" \
         (AAAA h1.lookups.test)"
    )));

    let report = check(&server, "overlimit.test").await;
    assert!(findings(&report).iter().any(|f| f.starts_with(
        "error spf.lookups: more than 10 DNS lookups for IPv4 senders: receivers stop with \
         permerror at \"a:h11.lookups.test\" in the record of overlimit.test"
    )));
    assert_eq!(report.lookups, 11);
    assert_eq!(addresses(&report), all(SpfResult::PermError));
    assert!(
        !findings(&report)
            .iter()
            .any(|f| f.contains("spf.evaluation_error"))
    );

    let report = check(&server, "void.test").await;
    assert!(findings(&report).contains(
        &"error spf.void_lookups: more than 2 void lookups: \"a:gone1.void.test\" (A gone1.void.test), \
          \"a:gone2.void.test\" (A gone2.void.test), \"a:gone3.void.test\" (A gone3.void.test)"
            .to_owned()
    ));
    assert_eq!(report.void_lookups, 3);
    // The third void lookup stops every check before the include is reached.
    assert_eq!(addresses(&report), all(SpfResult::PermError));

    let report = check(&server, "twovoid.test").await;
    assert!(
        findings(&report)
            .iter()
            .any(|f| f.starts_with("warning spf.void_lookups: 2 void lookups"))
    );
    assert_eq!(addresses(&report), all(SpfResult::Pass));
}

/// The check evaluates the record for both ends of two networks and one host, and walks it for
/// IPv4 and IPv6: eight evaluations of `good.test`'s record and its include, yet the server is
/// asked once for each (the resolver's own cache is off).
#[tokio::test]
async fn a_check_asks_each_name_once() {
    let server = TestDns::start(zone()).await.unwrap();
    let report = check(&server, "good.test").await;
    assert_eq!(report.status(), Status::Ok, "{:?}", findings(&report));
    assert_eq!(report.addresses.len(), 5);
    assert_eq!(server.queries(), 2, "TXT good.test and TXT {INCLUDE}");
}
