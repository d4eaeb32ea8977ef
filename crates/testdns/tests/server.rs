//! The test server at its own protocol: raw DNS messages over UDP and TCP on 127.0.0.1, checking
//! the flags and sections a resolver depends on.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use hickory_server::proto::op::{Edns, Message, Query, ResponseCode};
use hickory_server::proto::rr::{Name, RData, RecordType};
use sealpost_testdns::{TestDns, Zone};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn query(name: &str, record_type: RecordType, edns: bool) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = 4242;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    if edns {
        message.set_edns(Edns::new());
    }
    message.to_vec().unwrap()
}

async fn over_udp(server: SocketAddr, name: &str, record_type: RecordType, edns: bool) -> Message {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    socket
        .send_to(&query(name, record_type, edns), server)
        .await
        .unwrap();
    let mut buffer = vec![0; 65535];
    let length = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    Message::from_vec(&buffer[..length]).unwrap()
}

async fn over_tcp(server: SocketAddr, name: &str, record_type: RecordType) -> Message {
    let mut stream = TcpStream::connect(server).await.unwrap();
    let message = query(name, record_type, false);
    let length = u16::try_from(message.len()).unwrap();
    stream.write_all(&length.to_be_bytes()).await.unwrap();
    stream.write_all(&message).await.unwrap();
    let length = stream.read_u16().await.unwrap();
    let mut buffer = vec![0; usize::from(length)];
    stream.read_exact(&mut buffer).await.unwrap();
    Message::from_vec(&buffer).unwrap()
}

fn answer_data(message: &Message) -> Vec<RData> {
    message
        .answers
        .iter()
        .map(|record| record.data.clone())
        .collect()
}

#[tokio::test]
async fn answers_authoritatively_in_the_order_given() {
    let zone = Zone::new()
        .a("host.example.com", Ipv4Addr::new(192, 0, 2, 3))
        .a("host.example.com", Ipv4Addr::new(192, 0, 2, 1))
        .a("host.example.com", Ipv4Addr::new(192, 0, 2, 2))
        .ptr("1.2.0.192.in-addr.arpa", "host.example.com");
    let server = TestDns::start(zone).await.unwrap();

    let response = over_udp(server.addr(), "host.example.com.", RecordType::A, true).await;
    assert_eq!(response.metadata.id, 4242);
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(response.metadata.authoritative);
    let addresses: Vec<String> = answer_data(&response)
        .iter()
        .map(|data| data.to_string())
        .collect();
    assert_eq!(addresses, ["192.0.2.3", "192.0.2.1", "192.0.2.2"]);

    let response = over_tcp(server.addr(), "1.2.0.192.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(answer_data(&response).len(), 1);
    assert_eq!(answer_data(&response)[0].to_string(), "host.example.com.");
}

#[tokio::test]
async fn missing_names_and_types_get_negative_answers_with_the_soa() {
    let zone = Zone::new().a("host.example.com", Ipv4Addr::new(192, 0, 2, 1));
    let server = TestDns::start(zone).await.unwrap();

    // NXDOMAIN, also for names far from any record: never REFUSED.
    for name in [
        "missing.example.com.",
        "example.org.",
        "net.",
        "x.y.z.invalid.",
    ] {
        let response = over_udp(server.addr(), name, RecordType::TXT, true).await;
        assert_eq!(
            response.metadata.response_code,
            ResponseCode::NXDomain,
            "{name}"
        );
        assert!(response.metadata.authoritative, "{name}");
        assert!(response.answers.is_empty(), "{name}");
        assert_eq!(
            response.authorities[0].record_type(),
            RecordType::SOA,
            "{name}"
        );
    }

    // NODATA: the name exists (host) or has names below it (example.com, com), but not this type.
    for name in ["host.example.com.", "example.com.", "com."] {
        let response = over_udp(server.addr(), name, RecordType::TXT, true).await;
        assert_eq!(
            response.metadata.response_code,
            ResponseCode::NoError,
            "{name}"
        );
        assert!(response.answers.is_empty(), "{name}");
        assert_eq!(
            response.authorities[0].record_type(),
            RecordType::SOA,
            "{name}"
        );
    }
}

#[tokio::test]
async fn ns_records_make_a_zone_served_beside_the_root() {
    let zone = Zone::new()
        .ns("client.example", "ns2.host.test")
        .ns("client.example", "ns1.host.test")
        .txt("sel._domainkey.client.example", &["v=DKIM1; p="])
        .txt("other.example", &["elsewhere"]);
    let server = TestDns::start(zone).await.unwrap();

    let response = over_udp(server.addr(), "client.example.", RecordType::NS, true).await;
    assert!(response.metadata.authoritative);
    let servers: Vec<String> = answer_data(&response)
        .iter()
        .map(|data| match data {
            RData::NS(ns) => ns.0.to_ascii(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(servers, ["ns2.host.test.", "ns1.host.test."]);

    // A name below the zone's apex is answered from the zone, not referred elsewhere.
    let response = over_udp(
        server.addr(),
        "sel._domainkey.client.example.",
        RecordType::TXT,
        false,
    )
    .await;
    assert!(response.metadata.authoritative);
    assert_eq!(answer_data(&response).len(), 1, "{response:?}");

    // A negative answer in the zone carries the zone's SOA; above it, the root's.
    let response = over_udp(
        server.addr(),
        "missing.client.example.",
        RecordType::A,
        false,
    )
    .await;
    assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(response.authorities[0].name.to_ascii(), "client.example.");
    for name in ["example.", "other.example."] {
        let response = over_udp(server.addr(), name, RecordType::NS, false).await;
        assert_eq!(response.metadata.response_code, ResponseCode::NoError);
        assert!(response.answers.is_empty(), "{name}: {response:?}");
        assert!(response.authorities[0].name.is_root(), "{name}");
    }
}

#[tokio::test]
async fn slow_names_are_answered_late_and_counted_while_they_wait() {
    let delay = Duration::from_millis(150);
    let zone = Zone::new()
        .txt("slow.example", &["late"])
        .slow("slow.example", "group", delay)
        .slow("idle.example", "idle", delay)
        .txt("fast.example", &["at once"]);
    let server = TestDns::start(zone).await.unwrap();
    assert_eq!(server.peak_in_flight("group"), 0);

    let started = std::time::Instant::now();
    let (first, second, fast) = tokio::join!(
        over_udp(server.addr(), "slow.example.", RecordType::TXT, false),
        over_udp(server.addr(), "slow.example.", RecordType::TXT, false),
        over_udp(server.addr(), "fast.example.", RecordType::TXT, false),
    );
    assert!(started.elapsed() >= delay);
    for response in [first, second, fast] {
        assert_eq!(answer_data(&response).len(), 1, "{response:?}");
    }
    assert_eq!(server.peak_in_flight("group"), 2);
    assert_eq!(server.peak_in_flight("idle"), 0);
    assert_eq!(server.slow_arrivals(), ["group", "group"]);

    // Once answered, a query no longer counts: the next one alone peaks at one.
    let zone = Zone::new().slow("slow.example", "again", delay);
    server.replace(zone).unwrap();
    over_udp(server.addr(), "slow.example.", RecordType::TXT, false).await;
    over_udp(server.addr(), "slow.example.", RecordType::TXT, false).await;
    assert_eq!(server.peak_in_flight("again"), 1);
}

#[tokio::test]
async fn servfail_names_fail_for_every_type() {
    let zone = Zone::new()
        .servfail("broken.example.com")
        .a("broken.example.com", Ipv4Addr::new(192, 0, 2, 1));
    let server = TestDns::start(zone).await.unwrap();

    for record_type in [RecordType::A, RecordType::TXT, RecordType::MX] {
        let response = over_udp(server.addr(), "broken.example.com.", record_type, true).await;
        assert_eq!(response.metadata.response_code, ResponseCode::ServFail);
        assert!(response.edns.is_some(), "an EDNS query gets EDNS back");
    }
    let response = over_tcp(server.addr(), "broken.example.com.", RecordType::A).await;
    assert_eq!(response.metadata.response_code, ResponseCode::ServFail);
}

#[tokio::test]
async fn timeout_names_leave_queries_unanswered_except_for_the_types_they_hold() {
    let zone = Zone::new()
        .timeout("silent.example.com")
        .txt("txtonly.example.com", &["v=spf1 -all"])
        .timeout("txtonly.example.com");
    let server = TestDns::start(zone).await.unwrap();

    for (name, record_type) in [
        ("silent.example.com.", RecordType::TXT),
        ("silent.example.com.", RecordType::A),
        ("txtonly.example.com.", RecordType::A),
    ] {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        socket
            .send_to(&query(name, record_type, true), server.addr())
            .await
            .unwrap();
        let mut buffer = vec![0; 512];
        let waited =
            tokio::time::timeout(Duration::from_millis(200), socket.recv(&mut buffer)).await;
        assert!(waited.is_err(), "{name} {record_type} was answered");
    }
    let response = over_udp(server.addr(), "txtonly.example.com.", RecordType::TXT, true).await;
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert_eq!(answer_data(&response).len(), 1);
    assert_eq!(server.queries(), 4);
}

#[tokio::test]
async fn spf_type_records_are_served_as_type_99_apart_from_txt() {
    let zone = Zone::new()
        .spf("both.example.com", &["v=spf1 ", "-all"])
        .txt("both.example.com", &["v=spf1 +all"]);
    let server = TestDns::start(zone).await.unwrap();

    let response = over_udp(
        server.addr(),
        "both.example.com.",
        RecordType::Unknown(99),
        true,
    )
    .await;
    let [record] = &response.answers[..] else {
        panic!("{response:?}");
    };
    assert_eq!(record.record_type(), RecordType::Unknown(99));
    let RData::Unknown { rdata, .. } = &record.data else {
        panic!("{record:?}");
    };
    assert_eq!(rdata.anything, b"\x07v=spf1 \x04-all");

    let response = over_udp(server.addr(), "both.example.com.", RecordType::TXT, true).await;
    assert_eq!(answer_data(&response)[0].to_string(), "v=spf1 +all");
}

#[tokio::test]
async fn udp_truncates_what_only_tcp_can_carry_and_both_are_counted() {
    let long = "x".repeat(250);
    let strings = vec![long.as_str(); 8];
    let server = TestDns::start(Zone::new().txt("big.test", &strings))
        .await
        .unwrap();

    // Without EDNS a UDP answer is limited to 512 bytes (RFC 1035 section 4.2.1).
    let response = over_udp(server.addr(), "big.test.", RecordType::TXT, false).await;
    assert!(response.metadata.truncation);
    assert!(response.answers.is_empty());

    let response = over_tcp(server.addr(), "big.test.", RecordType::TXT).await;
    assert!(!response.metadata.truncation);
    let RData::TXT(txt) = &response.answers[0].data else {
        panic!("{response:?}");
    };
    assert_eq!(txt.txt_data.len(), 8);
    assert!(
        txt.txt_data
            .iter()
            .all(|string| **string == *long.as_bytes())
    );

    assert_eq!((server.queries(), server.tcp_queries()), (2, 1));
}

#[tokio::test]
async fn zone_mistakes_are_reported_at_start() {
    let cases = [
        (
            Zone::new()
                .cname("alias.test", "target.test")
                .a("alias.test", Ipv4Addr::LOCALHOST),
            "alias.test. A",
        ),
        (
            Zone::new()
                .a("twice.test", Ipv4Addr::LOCALHOST)
                .a("twice.test", Ipv4Addr::LOCALHOST),
            "twice.test. A",
        ),
        (
            Zone::new().txt("long.test", &[&"x".repeat(256)]),
            "exceeds 255",
        ),
    ];
    for (zone, expect) in cases {
        let error = TestDns::start(zone).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains(expect),
            "{error} lacks {expect:?}"
        );
    }
}

#[tokio::test]
async fn a_replaced_zone_is_served_from_then_on_and_a_bad_one_keeps_the_old() {
    let server = TestDns::start(Zone::new()).await.unwrap();
    let response = over_udp(server.addr(), "late.test.", RecordType::TXT, true).await;
    assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);

    server
        .replace(Zone::new().txt("late.test", &["published"]))
        .unwrap();
    let response = over_tcp(server.addr(), "late.test.", RecordType::TXT).await;
    assert_eq!(answer_data(&response).len(), 1);
    assert!(answer_data(&response)[0].to_string().contains("published"));

    let error = server
        .replace(Zone::new().txt("long.test", &[&"x".repeat(256)]))
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    let response = over_udp(server.addr(), "late.test.", RecordType::TXT, true).await;
    assert_eq!(answer_data(&response).len(), 1);
}

#[tokio::test]
async fn dropping_the_server_closes_its_port() {
    let server = TestDns::start(Zone::new()).await.unwrap();
    let address = server.addr();
    assert!(format!("{server:?}").contains(&address.to_string()));
    TcpStream::connect(address).await.unwrap();
    drop(server);

    // The listener tasks are aborted; the socket closes once the runtime drops them.
    for _ in 0..100 {
        match TcpStream::connect(address).await {
            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => return,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    panic!("{address} still accepts connections");
}
