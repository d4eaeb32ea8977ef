//! `check_host()` against the test DNS server: the trace, the counters and the identities.

use std::net::{IpAddr, Ipv4Addr};

use sealpost_dnsauth::spf::{SpfRequest, SpfResult, StepOutcome, check_host};
use sealpost_domain::Timestamp;
use sealpost_testdns::{TestDns, Zone};

use super::{resolver, trace_lines};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A domain with an include that redirects, an `a` of a missing name and an explanation.
fn provider_zone() -> Zone {
    Zone::new()
        .txt(
            "example.com",
            &["v=spf1 a:gone.example.com include:_spf.provider.example -all exp=why.example.com"],
        )
        .txt("example.com", &["site-verification=abc"])
        // Type 99 records are not read (RFC 7208 section 3.1).
        .spf("example.com", &["v=spf1 +all"])
        .txt(
            "_spf.provider.example",
            &[
                "v=spf1 ip4:198.51.100.0/24 ",
                "redirect=_spf2.provider.example",
            ],
        )
        .txt("_spf2.provider.example", &["v=spf1 mx -all"])
        .mx("_spf2.provider.example", 10, "mx.provider.example")
        .a("mx.provider.example", Ipv4Addr::new(203, 0, 113, 9))
        .txt("why.example.com", &["%{i} is not one of %{d}'s servers"])
}

#[tokio::test]
async fn the_trace_shows_every_step_with_its_depth_and_queries() {
    let server = TestDns::start(provider_zone()).await.unwrap();
    let dns = resolver(&server);

    let request = SpfRequest::mail_from(
        ip("192.0.2.1"),
        "news@example.com",
        "mx.example.com",
        Timestamp(0),
    );
    let outcome = check_host(&dns, &request).await;
    assert_eq!(outcome.result, SpfResult::Fail);
    assert_eq!(
        outcome.reason,
        "-all in the SPF record of example.com matched"
    );
    assert_eq!(
        outcome.explanation.as_deref(),
        Some("192.0.2.1 is not one of example.com's servers")
    );
    assert_eq!((outcome.lookups, outcome.void_lookups), (4, 1));
    assert_eq!(
        trace_lines(&outcome),
        [
            "record example.com: v=spf1 a:gone.example.com include:_spf.provider.example -all exp=why.example.com => found [TXT example.com = v=spf1 a:gone.example.com include:_spf.provider.example -all exp=why.example.com | site-verification=abc]",
            "mechanism example.com: a:gone.example.com => no_match * [A gone.example.com = NXDOMAIN (void)]",
            "mechanism example.com: include:_spf.provider.example => no_match * []",
            "  record _spf.provider.example: v=spf1 ip4:198.51.100.0/24 redirect=_spf2.provider.example => found [TXT _spf.provider.example = v=spf1 ip4:198.51.100.0/24 redirect=_spf2.provider.example]",
            "  mechanism _spf.provider.example: ip4:198.51.100.0/24 => no_match []",
            "  redirect _spf.provider.example: redirect=_spf2.provider.example => followed * []",
            "    record _spf2.provider.example: v=spf1 mx -all => found [TXT _spf2.provider.example = v=spf1 mx -all]",
            "    mechanism _spf2.provider.example: mx => no_match * [MX _spf2.provider.example = 10 mx.provider.example; A mx.provider.example = 203.0.113.9]",
            "    mechanism _spf2.provider.example: -all => match []",
            "mechanism example.com: -all => match []",
            "explanation example.com: exp=why.example.com => explained (192.0.2.1 is not one of example.com's servers) [TXT why.example.com = %{i} is not one of %{d}'s servers]",
        ]
    );

    // The MX host of the redirect target passes, through the include.
    let request = SpfRequest::mail_from(
        ip("203.0.113.9"),
        "news@example.com",
        "mx.example.com",
        Timestamp(0),
    );
    let outcome = check_host(&dns, &request).await;
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!(outcome.explanation, None);
    assert_eq!(
        outcome.reason,
        "include:_spf.provider.example in the SPF record of example.com matched"
    );
    assert_eq!((outcome.lookups, outcome.void_lookups), (4, 1));

    // An address of the include's own range stops before the redirect.
    let request = SpfRequest::mail_from(
        ip("198.51.100.7"),
        "news@example.com",
        "mx.example.com",
        Timestamp(0),
    );
    let outcome = check_host(&dns, &request).await;
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!(outcome.lookups, 2);
}

#[tokio::test]
async fn errors_stop_the_evaluation_at_the_step_that_caused_them() {
    let zone = Zone::new()
        .txt("temp.example", &["v=spf1 include:broken.example -all"])
        .servfail("broken.example")
        .txt(
            "void.example",
            &["v=spf1 a:one.example mx:two.example exists:three.example -all"],
        )
        .txt("loop.example", &["v=spf1 include:loop.example"])
        .txt("two.example", &["v=spf1 -all"])
        .txt("two.example", &["v=SPF1 ~all"]);
    let server = TestDns::start(zone).await.unwrap();
    let dns = resolver(&server);
    let check = |domain: &str| {
        SpfRequest::mail_from(
            ip("192.0.2.1"),
            &format!("x@{domain}"),
            "mx.example.com",
            Timestamp(0),
        )
    };

    let outcome = check_host(&dns, &check("temp.example")).await;
    assert_eq!(outcome.result, SpfResult::TempError);
    assert!(
        outcome
            .reason
            .starts_with("the TXT lookup of broken.example failed"),
        "{}",
        outcome.reason
    );
    let include = &outcome.trace[1];
    assert_eq!(include.text, "include:broken.example");
    assert!(matches!(
        include.outcome,
        StepOutcome::Error {
            result: SpfResult::TempError,
            ..
        }
    ));

    let outcome = check_host(&dns, &check("void.example")).await;
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!((outcome.lookups, outcome.void_lookups), (3, 3));
    assert!(
        outcome.reason.contains("more than 2 void lookups"),
        "{}",
        outcome.reason
    );
    assert!(
        outcome.reason.ends_with("A three.example"),
        "{}",
        outcome.reason
    );

    let outcome = check_host(&dns, &check("loop.example")).await;
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(outcome.lookups, 11);
    assert!(
        outcome.reason.starts_with("more than 10 DNS lookups"),
        "{}",
        outcome.reason
    );
    let last = outcome.trace.last().unwrap();
    assert_eq!(
        (last.depth, last.text.as_str()),
        (10, "include:loop.example")
    );

    let outcome = check_host(&dns, &check("two.example")).await;
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(
        outcome.reason,
        "two.example has 2 SPF records; there must be only one"
    );
}

#[tokio::test]
async fn identities_and_the_validated_name() {
    let zone = Zone::new()
        .txt("mx.example.org", &["v=spf1 a -all"])
        .a("mx.example.org", Ipv4Addr::new(192, 0, 2, 10))
        .txt(
            "example.org",
            &["v=spf1 exists:%{l}.%{p}.allow.example.org -all"],
        )
        .ptr("10.2.0.192.in-addr.arpa", "other.example.net")
        .ptr("10.2.0.192.in-addr.arpa", "mx.example.org")
        .a("other.example.net", Ipv4Addr::new(192, 0, 2, 10))
        .a(
            "postmaster.mx.example.org.allow.example.org",
            Ipv4Addr::new(127, 0, 0, 2),
        );
    let server = TestDns::start(zone).await.unwrap();
    let dns = resolver(&server);

    // A bounce checks the HELO identity.
    let bounce = SpfRequest::mail_from(ip("192.0.2.10"), "<>", "mx.example.org", Timestamp(0));
    assert_eq!(bounce.sender(), "postmaster@mx.example.org");
    assert_eq!(check_host(&dns, &bounce).await.result, SpfResult::Pass);
    let helo = SpfRequest::helo(ip("192.0.2.11"), "mx.example.org", Timestamp(0));
    assert_eq!(check_host(&dns, &helo).await.result, SpfResult::Fail);

    // %{p} prefers the validated name under the domain; %{l} of "@example.org" is postmaster.
    let request = SpfRequest::mail_from(
        ip("192.0.2.10"),
        "@example.org",
        "mx.example.org",
        Timestamp(0),
    );
    let outcome = check_host(&dns, &request).await;
    assert_eq!(
        outcome.result,
        SpfResult::Pass,
        "{:#?}",
        trace_lines(&outcome)
    );
    assert_eq!(outcome.lookups, 1);
    assert_eq!(outcome.void_lookups, 0);
}

/// The futures can move between threads, as a server's tasks need.
#[test]
fn evaluations_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let dns = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
        nameserver: Some((Ipv4Addr::LOCALHOST, 53).into()),
        ..sealpost_dns::ResolverConfig::default()
    })
    .unwrap();
    let request = SpfRequest::helo(ip("192.0.2.1"), "mx.example.org", Timestamp(0));
    assert_send(&check_host(&dns, &request));
    let networks = ["192.0.2.0/24".parse().unwrap()];
    assert_send(&sealpost_dnsauth::spf::check_tenant_spf(
        &dns,
        "example.org",
        &networks,
        "_spf.platform.example",
        Timestamp(0),
    ));
}
