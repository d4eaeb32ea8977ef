//! The resolver against a real DNS server on 127.0.0.1 (sealpost-testdns): answers, the three
//! kinds of failure, CNAME chains, TCP fallback after truncation, timeouts and the cache.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::time::{Duration, Instant};

use sealpost_dns::{DnsError, LookupError, Resolver, ResolverConfig, TxtRecord};
use sealpost_testdns::{TestDns, Zone};

/// A resolver for `server` that asks it every time, so that tests can count queries.
fn uncached(server: &TestDns) -> Resolver {
    resolver(server, false)
}

fn resolver(server: &TestDns, cache: bool) -> Resolver {
    let config = ResolverConfig {
        nameserver: Some(server.addr()),
        timeout: Duration::from_secs(2),
        attempts: 2,
        cache,
    };
    Resolver::new(&config).unwrap()
}

fn txt(strings: &[&[u8]]) -> TxtRecord {
    TxtRecord {
        strings: strings.iter().map(|s| s.to_vec()).collect(),
    }
}

#[tokio::test]
async fn txt_keeps_records_and_their_strings_apart() {
    let zone = Zone::new()
        .txt(
            "sel._domainkey.example.com",
            &["v=DKIM1; k=rsa; ", "p=MIIB"],
        )
        .txt("sel._domainkey.example.com", &["second record"])
        .txt("other.test", &["elsewhere"]);
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    let records = resolver.txt("sel._domainkey.example.com").await.unwrap();
    assert_eq!(
        records,
        [
            txt(&[b"v=DKIM1; k=rsa; ", b"p=MIIB"]),
            txt(&[b"second record"])
        ]
    );
    assert_eq!(records[0].joined(), b"v=DKIM1; k=rsa; p=MIIB");

    // A final dot and another origin in the same server make no difference.
    let records = resolver.txt("other.test.").await.unwrap();
    assert_eq!(records, [txt(&[b"elsewhere"])]);
}

#[tokio::test]
async fn txt_bytes_arrive_intact() {
    let eight_bit: &[u8] = &[0x00, 0x7f, 0x80, 0xff, b'"', b'\\', b';', b' '];
    let zone = Zone::new().txt_bytes("bytes.test", &[eight_bit, b"", "caf\u{e9}".as_bytes()]);
    let server = TestDns::start(zone).await.unwrap();

    let records = uncached(&server).txt("bytes.test").await.unwrap();
    assert_eq!(records, [txt(&[eight_bit, b"", "caf\u{e9}".as_bytes()])]);
}

#[tokio::test]
async fn nxdomain_and_nodata_are_told_apart() {
    let zone = Zone::new()
        .a("host.example.com", Ipv4Addr::new(192, 0, 2, 1))
        .txt("deep.empty.example.com", &["x"]);
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    assert_eq!(
        resolver.txt("host.example.com").await,
        Err(LookupError::NoData)
    );
    assert_eq!(
        resolver.mx("host.example.com").await,
        Err(LookupError::NoData)
    );
    assert_eq!(
        resolver.txt("missing.example.com").await,
        Err(LookupError::NxDomain)
    );
    assert_eq!(
        resolver.mx("missing.example.com").await,
        Err(LookupError::NxDomain)
    );
    assert_eq!(
        resolver.ip("missing.example.com").await,
        Err(LookupError::NxDomain)
    );
    assert_eq!(
        resolver.txt("nowhere.invalid-tld").await,
        Err(LookupError::NxDomain)
    );
    // A name with nothing of its own but names below it exists (an empty non-terminal).
    assert_eq!(
        resolver.txt("empty.example.com").await,
        Err(LookupError::NoData)
    );
    // A name that cannot exist is not sent at all.
    let before = server.queries();
    assert_eq!(
        resolver.txt("a..example.com").await,
        Err(LookupError::NxDomain)
    );
    assert_eq!(server.queries(), before);
}

#[tokio::test]
async fn servfail_is_temporary_and_tried_as_often_as_configured() {
    let zone = Zone::new()
        .servfail("broken.example.com")
        .txt("fine.example.com", &["ok"]);
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    let error = resolver.txt("broken.example.com").await.unwrap_err();
    let LookupError::Temporary(message) = &error else {
        panic!("{error:?}");
    };
    assert!(message.contains("Server Failure"), "{message}");
    assert_eq!(
        error.to_string(),
        "temporary DNS failure: the name server answered Server Failure (rcode 2)"
    );
    // attempts = 2 means two queries in all, not two retries.
    assert_eq!(server.queries(), 2);

    assert!(matches!(
        resolver.ip("broken.example.com").await,
        Err(LookupError::Temporary(_))
    ));
    assert_eq!(
        resolver.txt("fine.example.com").await.unwrap(),
        [txt(&[b"ok"])]
    );
}

#[tokio::test]
async fn cname_chains_lead_to_the_txt() {
    let zone = Zone::new()
        .cname("_dmarc.alias.test", "middle.test")
        .cname("middle.test", "_dmarc.target.example.com")
        .txt("_dmarc.target.example.com", &["v=DMARC1; p=reject"])
        .cname("dangling.test", "nothing.example.com");
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    assert_eq!(
        resolver.txt("_dmarc.alias.test").await.unwrap(),
        [txt(&[b"v=DMARC1; p=reject"])]
    );
    assert_eq!(
        resolver.txt("dangling.test").await,
        Err(LookupError::NxDomain)
    );
}

#[tokio::test]
async fn a_txt_answer_too_big_for_udp_arrives_whole_over_tcp() {
    // 8 strings of 250 bytes: about 2 KB, more than the 1232 bytes hickory offers over EDNS, so
    // the server truncates the UDP answer and the resolver must ask again over TCP.
    let strings: Vec<String> = (b'a'..b'a' + 8)
        .map(|letter| String::from(letter as char).repeat(250))
        .collect();
    let borrowed: Vec<&str> = strings.iter().map(String::as_str).collect();
    let server = TestDns::start(Zone::new().txt("big.test", &borrowed))
        .await
        .unwrap();

    let records = uncached(&server).txt("big.test").await.unwrap();
    let expect: Vec<Vec<u8>> = strings.iter().map(|s| s.as_bytes().to_vec()).collect();
    assert_eq!(records, [TxtRecord { strings: expect }]);
    assert_eq!(records[0].joined().len(), 2000);
    assert_eq!(
        (server.queries(), server.tcp_queries()),
        (2, 1),
        "one UDP, then one TCP"
    );
}

#[tokio::test]
async fn mx_and_addresses() {
    let zone = Zone::new()
        .mx("example.com", 10, "mx1.example.com")
        .mx("example.com", 20, "mx2.example.com.")
        .mx("nullmx.example.com", 0, ".")
        .a("mx1.example.com", Ipv4Addr::new(192, 0, 2, 1))
        .a("mx1.example.com", Ipv4Addr::new(192, 0, 2, 2))
        .aaaa(
            "mx1.example.com",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
        )
        .a("v4only.example.com", Ipv4Addr::new(192, 0, 2, 3))
        .aaaa(
            "v6only.example.com",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
        )
        .cname("alias.example.com", "v4only.example.com")
        .servfail("half.example.com")
        .txt("text.example.com", &["no addresses here"]);
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    assert_eq!(
        resolver.mx("example.com").await.unwrap(),
        [
            (10, "mx1.example.com".to_owned()),
            (20, "mx2.example.com".to_owned())
        ]
    );
    assert_eq!(
        resolver.mx("nullmx.example.com").await.unwrap(),
        [(0, ".".to_owned())]
    );

    let ip = |text: &str| text.parse::<IpAddr>().unwrap();
    assert_eq!(
        resolver.ip("mx1.example.com").await.unwrap(),
        [ip("192.0.2.1"), ip("192.0.2.2"), ip("2001:db8::1")]
    );
    assert_eq!(
        resolver.ip("v4only.example.com").await.unwrap(),
        [ip("192.0.2.3")]
    );
    assert_eq!(
        resolver.ip("v6only.example.com").await.unwrap(),
        [ip("2001:db8::2")]
    );
    assert_eq!(
        resolver.ip("alias.example.com").await.unwrap(),
        [ip("192.0.2.3")]
    );
    assert_eq!(
        resolver.ip("text.example.com").await,
        Err(LookupError::NoData)
    );
}

#[tokio::test]
async fn one_family_at_a_time_and_reverse_names() {
    let zone = Zone::new()
        .a("dual.example.com", Ipv4Addr::new(192, 0, 2, 1))
        .aaaa(
            "dual.example.com",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
        )
        .a("v4only.example.com", Ipv4Addr::new(192, 0, 2, 3))
        .ptr("1.2.0.192.in-addr.arpa", "dual.example.com")
        .ptr("1.2.0.192.in-addr.arpa", "Other.Example.com.")
        .ptr(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa",
            "dual.example.com",
        )
        .servfail("2.2.0.192.in-addr.arpa")
        .timeout("slow.example.com");
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    assert_eq!(
        resolver.a("dual.example.com").await.unwrap(),
        [Ipv4Addr::new(192, 0, 2, 1)]
    );
    assert_eq!(
        resolver.aaaa("dual.example.com").await.unwrap(),
        [Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)]
    );
    assert_eq!(
        resolver.aaaa("v4only.example.com").await,
        Err(LookupError::NoData)
    );
    assert_eq!(
        resolver.a("missing.example.com").await,
        Err(LookupError::NxDomain)
    );

    let ip = |text: &str| text.parse::<IpAddr>().unwrap();
    assert_eq!(
        resolver.ptr(ip("192.0.2.1")).await.unwrap(),
        ["dual.example.com", "Other.Example.com"]
    );
    assert_eq!(
        resolver.ptr(ip("2001:db8::1")).await.unwrap(),
        ["dual.example.com"]
    );
    assert_eq!(
        resolver.ptr(ip("192.0.2.9")).await,
        Err(LookupError::NxDomain)
    );
    assert!(matches!(
        resolver.ptr(ip("192.0.2.2")).await,
        Err(LookupError::Temporary(_))
    ));

    // A name that times out is a temporary failure after the configured attempts.
    let impatient = Resolver::new(&ResolverConfig {
        nameserver: Some(server.addr()),
        timeout: Duration::from_millis(100),
        attempts: 1,
        cache: false,
    })
    .unwrap();
    assert!(matches!(
        impatient.a("slow.example.com").await,
        Err(LookupError::Temporary(_))
    ));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_temporary() {
    // A bound socket that nobody reads: queries vanish without an ICMP error.
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let config = ResolverConfig {
        nameserver: Some(silent.local_addr().unwrap()),
        timeout: Duration::from_millis(200),
        attempts: 2,
        cache: false,
    };
    let resolver = Resolver::new(&config).unwrap();

    let started = Instant::now();
    let result = resolver.txt("example.com").await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(LookupError::Temporary(_))),
        "{result:?}"
    );
    // Two attempts of 200 ms each, with room for a slow machine.
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}

#[tokio::test]
async fn the_cache_answers_repeats_unless_switched_off() {
    let zone = Zone::new().txt("cached.test", &["v=spf1 -all"]);

    let server = TestDns::start(zone.clone()).await.unwrap();
    let cached = resolver(&server, true);
    for _ in 0..3 {
        assert_eq!(cached.txt("cached.test").await.unwrap().len(), 1);
        assert_eq!(cached.txt("missing.test").await, Err(LookupError::NxDomain));
    }
    // Clones share the cache.
    assert_eq!(cached.clone().txt("cached.test").await.unwrap().len(), 1);
    assert_eq!(
        server.queries(),
        2,
        "one positive and one negative answer, then cached"
    );

    let server = TestDns::start(zone).await.unwrap();
    let uncached = uncached(&server);
    for _ in 0..3 {
        assert_eq!(uncached.txt("cached.test").await.unwrap().len(), 1);
        assert_eq!(
            uncached.txt("missing.test").await,
            Err(LookupError::NxDomain)
        );
    }
    assert_eq!(server.queries(), 6);
}

#[test]
fn options_out_of_range_are_refused() {
    let nameserver = Some((Ipv4Addr::LOCALHOST, 53).into());
    let zero_attempts = ResolverConfig {
        nameserver,
        attempts: 0,
        ..ResolverConfig::default()
    };
    let error = Resolver::new(&zero_attempts).unwrap_err();
    assert!(matches!(error, DnsError::InvalidOption(_)), "{error}");

    let zero_timeout = ResolverConfig {
        nameserver,
        timeout: Duration::ZERO,
        ..ResolverConfig::default()
    };
    let error = Resolver::new(&zero_timeout).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid resolver option: timeout must be longer than zero"
    );
}

#[test]
fn defaults() {
    let config = ResolverConfig::default();
    assert_eq!(config.nameserver, None);
    assert_eq!(config.timeout, Duration::from_secs(3));
    assert_eq!(config.attempts, 2);
    assert!(config.cache);
}

#[tokio::test]
async fn ns_names_the_servers_of_a_zone_apex_only() {
    let zone = Zone::new()
        .ns("client.example", "ns1.host.test.")
        .ns("client.example", "ns2.host.test")
        .txt("mail.client.example", &["below the apex"])
        .servfail("broken.example");
    let server = TestDns::start(zone).await.unwrap();
    let resolver = uncached(&server);

    assert_eq!(
        resolver.ns("client.example").await.unwrap(),
        ["ns1.host.test", "ns2.host.test"]
    );
    // Below a zone's apex, and above it, there are no NS records; a name that does not exist
    // says so; a failing server is temporary.
    assert_eq!(
        resolver.ns("mail.client.example").await,
        Err(LookupError::NoData)
    );
    assert_eq!(resolver.ns("example").await, Err(LookupError::NoData));
    assert_eq!(
        resolver.ns("missing.client.example").await,
        Err(LookupError::NxDomain)
    );
    assert!(matches!(
        resolver.ns("broken.example").await,
        Err(LookupError::Temporary(_))
    ));
}
