//! One-line cases for each judge.

use std::net::IpAddr;

use sealpost_dns::LookupError;
use sealpost_domain::Timestamp;

use super::{
    CertificateFacts, Check, CheckKind, CheckStatus, Connection, Verdict, certificate,
    outbound_smtp, reverse_dns, spf_include,
};
use crate::spf::Network;

const HELO: &str = "mail.platform.test";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn names(list: &[&str]) -> Result<Vec<String>, LookupError> {
    Ok(list.iter().map(|name| (*name).to_owned()).collect())
}

#[track_caller]
fn check_reverse(
    ptr: Result<Vec<String>, LookupError>,
    forward: &[(&str, Result<Vec<IpAddr>, LookupError>)],
    status: CheckStatus,
    found: &str,
) {
    let forward: Vec<_> = forward
        .iter()
        .map(|(name, answer)| ((*name).to_owned(), answer.clone()))
        .collect();
    let check = reverse_dns(ip("192.0.2.1"), HELO, &ptr, &forward);
    assert_eq!(check.status, status, "{check:?}");
    assert!(check.found.contains(found), "{check:?}");
    assert_eq!(
        check.fix.is_some(),
        status == CheckStatus::Fail,
        "{check:?}"
    );
}

#[test]
fn reverse_dns_is_forward_confirmed_and_the_helo_name() {
    let back = || Ok(vec![ip("192.0.2.1")]);
    check_reverse(
        names(&[HELO]),
        &[(HELO, back())],
        CheckStatus::Pass,
        "resolves back",
    );
    check_reverse(
        names(&["MAIL.platform.test."]),
        &[("MAIL.platform.test.", back())],
        CheckStatus::Pass,
        "",
    );
    check_reverse(Err(LookupError::NxDomain), &[], CheckStatus::Fail, "no PTR");
    check_reverse(Err(LookupError::NoData), &[], CheckStatus::Fail, "no PTR");
    check_reverse(
        Err(LookupError::Temporary("timeout".into())),
        &[],
        CheckStatus::Unknown,
        "timeout",
    );
    check_reverse(
        names(&[HELO]),
        &[(HELO, Ok(vec![ip("192.0.2.9")]))],
        CheckStatus::Fail,
        "does not resolve back",
    );
    check_reverse(
        names(&[HELO]),
        &[(HELO, Err(LookupError::NxDomain))],
        CheckStatus::Fail,
        "does not resolve back",
    );
    check_reverse(
        names(&[HELO]),
        &[(HELO, Err(LookupError::Temporary("servfail".into())))],
        CheckStatus::Unknown,
        "servfail",
    );
    check_reverse(
        names(&["host-1.provider.test"]),
        &[("host-1.provider.test", back())],
        CheckStatus::Fail,
        "the HELO name is",
    );
}

#[track_caller]
fn check_spf(answer: Result<Vec<String>, LookupError>, status: CheckStatus, found: &str) {
    let networks: Vec<Network> = ["192.0.2.1", "198.51.100.0/24"]
        .iter()
        .map(|text| text.parse().unwrap())
        .collect();
    let check = spf_include("_spf.platform.test", &answer, &networks);
    assert_eq!(check.status, status, "{check:?}");
    assert!(check.found.contains(found), "{check:?}");
    if status == CheckStatus::Fail {
        let fix = check.fix.unwrap();
        assert!(
            fix.contains("v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 -all"),
            "{fix}"
        );
    }
}

#[test]
fn the_include_record_lists_exactly_the_configured_networks() {
    check_spf(
        names(&["v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 -all"]),
        CheckStatus::Pass,
        "v=spf1",
    );
    check_spf(
        names(&["other", "v=spf1 ip4:198.51.100.0/24 +ip4:192.0.2.1/32 -all"]),
        CheckStatus::Pass,
        "",
    );
    check_spf(
        names(&["v=spf1 ip4:192.0.2.1 -all"]),
        CheckStatus::Fail,
        "198.51.100.0/24 is missing",
    );
    check_spf(
        names(&["v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 ip4:203.0.113.7 -all"]),
        CheckStatus::Fail,
        "203.0.113.7 is listed but not in platform.sending_ips",
    );
    check_spf(
        names(&["v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 ~all"]),
        CheckStatus::Fail,
        "does not end in -all",
    );
    check_spf(
        names(&["v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 a -all"]),
        CheckStatus::Fail,
        "a is not one of",
    );
    check_spf(
        names(&["v=spf1 -all", "v=spf1 ip4:192.0.2.1 -all"]),
        CheckStatus::Fail,
        "2 SPF records",
    );
    check_spf(
        names(&["google-site-verification=x"]),
        CheckStatus::Fail,
        "no SPF record",
    );
    check_spf(
        Err(LookupError::NxDomain),
        CheckStatus::Fail,
        "no SPF record",
    );
    check_spf(
        Err(LookupError::Temporary("timeout".into())),
        CheckStatus::Unknown,
        "timeout",
    );
}

const DAY: i64 = 86_400;

fn facts(subject: &str, issuer: &str, from: i64, until: i64, names: &[&str]) -> CertificateFacts {
    CertificateFacts {
        subject: subject.to_owned(),
        issuer: issuer.to_owned(),
        not_before: Timestamp(from),
        not_after: Timestamp(until),
        names: names.iter().map(|name| (*name).to_owned()).collect(),
    }
}

#[track_caller]
fn check_certificate(chain: &[CertificateFacts], status: CheckStatus, found: &str) {
    let check = certificate("/etc/sealpost/tls.pem", HELO, chain, Timestamp(100 * DAY));
    assert_eq!(check.status, status, "{check:?}");
    assert!(check.found.contains(found), "{check:?}");
    assert_eq!(
        check.fix.is_some(),
        status != CheckStatus::Pass,
        "{check:?}"
    );
}

#[test]
fn the_certificate_chain_is_in_order_current_and_for_the_host() {
    let leaf = |from, until, names: &[&str]| facts("CN=leaf", "CN=CA 1", from, until, names);
    let ca = facts("CN=CA 1", "CN=Root", 0, 1000 * DAY, &[]);
    check_certificate(
        &[leaf(0, 200 * DAY, &[HELO]), ca.clone()],
        CheckStatus::Pass,
        "100 days left",
    );
    check_certificate(
        &[leaf(0, 200 * DAY, &["*.platform.test"]), ca.clone()],
        CheckStatus::Pass,
        "",
    );
    check_certificate(
        &[leaf(0, 99 * DAY, &[HELO]), ca.clone()],
        CheckStatus::Fail,
        "expired 1 days ago",
    );
    check_certificate(
        &[leaf(101 * DAY, 200 * DAY, &[HELO]), ca.clone()],
        CheckStatus::Fail,
        "not valid yet",
    );
    check_certificate(
        &[leaf(0, 110 * DAY, &[HELO]), ca.clone()],
        CheckStatus::Warn,
        "expires in 10 days",
    );
    check_certificate(
        &[leaf(0, 200 * DAY, &["other.test"]), ca.clone()],
        CheckStatus::Fail,
        "not mail.platform.test",
    );
    check_certificate(
        &[leaf(0, 200 * DAY, &["*.test"]), ca.clone()],
        CheckStatus::Fail,
        "not mail.platform.test",
    );
    check_certificate(
        &[
            leaf(0, 200 * DAY, &[HELO]),
            facts("CN=Other", "CN=Root", 0, 1000 * DAY, &[]),
        ],
        CheckStatus::Fail,
        "issued by CN=CA 1",
    );
    check_certificate(
        &[
            leaf(0, 200 * DAY, &[HELO]),
            facts("CN=CA 1", "CN=Root", 0, 50 * DAY, &[]),
        ],
        CheckStatus::Fail,
        "CN=CA 1 expired",
    );
    check_certificate(
        &[facts("CN=self", "CN=self", 0, 200 * DAY, &[HELO])],
        CheckStatus::Warn,
        "self-signed",
    );
    check_certificate(&[], CheckStatus::Fail, "no certificate");
}

#[test]
fn outbound_smtp_reports_the_target_and_the_error() {
    let opened = outbound_smtp("gmail.com", &Connection::Opened("mx.test:25".into()));
    assert_eq!(opened.status, CheckStatus::Pass);
    let failed = Connection::Failed {
        target: "mx.test:25".into(),
        error: "timed out after 5 s".into(),
    };
    let failed = outbound_smtp("gmail.com", &failed);
    assert_eq!(failed.status, CheckStatus::Fail);
    assert!(failed.found.contains("timed out"), "{failed:?}");
    let unknown = outbound_smtp("gmail.com", &Connection::NoTarget("timeout".into()));
    assert_eq!(unknown.status, CheckStatus::Unknown);
}

#[test]
fn the_verdict_is_the_worst_status() {
    let with = |statuses: &[CheckStatus]| {
        let checks: Vec<Check> = statuses
            .iter()
            .map(|status| Check::new(CheckKind::Database, *status, "db"))
            .collect();
        Verdict::of(&checks)
    };
    assert_eq!(with(&[]), Verdict::Green);
    assert_eq!(
        with(&[CheckStatus::Pass, CheckStatus::Warn, CheckStatus::Skipped]),
        Verdict::Green
    );
    assert_eq!(
        with(&[CheckStatus::Pass, CheckStatus::Unknown]),
        Verdict::Unchecked
    );
    assert_eq!(
        with(&[CheckStatus::Unknown, CheckStatus::Fail]),
        Verdict::ToFix
    );
}
