//! The DKIM zone on SQLite and PostgreSQL (SPEC S11.4): the served records follow the keys
//! through generation, promotion and retirement, the answers are authoritative (AA, NXDOMAIN
//! and NODATA with the SOA, REFUSED outside the zone), every node serves the same SOA serial,
//! and garbage sent over UDP and TCP leaves the server answering.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use hickory_server::proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_server::proto::rr::{Name, RData, RecordType};
use sealpost_dkimzone::{DkimZoneServer, REFRESH_INTERVAL, ZoneSettings};
use sealpost_domain::{DkimZone, DomainName, KeyAlgorithm, KeyState, Timestamp};
use sealpost_service::{Clock, DnsGate, Service};
use sealpost_store::{Store, testing};
use sealpost_vault::{MasterKey, Vault};

const DAY: i64 = 24 * 3600;

#[derive(Debug)]
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }

    fn new_uuid(&self) -> sealpost_domain::Uuid {
        sealpost_service::SystemClock.new_uuid()
    }
}

fn settings() -> ZoneSettings {
    ZoneSettings {
        zone: DkimZone::new(DomainName::parse("dkim.sealpost.test").unwrap()),
        nameservers: vec!["ns1.sealpost.test".into()],
    }
}

fn loopback() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

/// One query over UDP (or TCP), read back as a message.
fn ask(server: &DkimZoneServer, name: &str, kind: RecordType, tcp: bool) -> Message {
    let mut query = Message::new(4711, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
    // As resolvers do: a 2048-bit key's record does not fit in 512 bytes.
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    query.edns = Some(edns);
    let bytes = query.to_vec().unwrap();
    let answer = if tcp {
        let mut stream = TcpStream::connect(server.tcp_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let length = u16::try_from(bytes.len()).unwrap().to_be_bytes();
        stream.write_all(&[&length[..], &bytes].concat()).unwrap();
        let mut prefix = [0; 2];
        stream.read_exact(&mut prefix).unwrap();
        let mut body = vec![0; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut body).unwrap();
        body
    } else {
        let socket = UdpSocket::bind(loopback()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        socket.send_to(&bytes, server.udp_addr()).unwrap();
        let mut buffer = [0; 4096];
        let (length, _) = socket.recv_from(&mut buffer).unwrap();
        buffer[..length].to_vec()
    };
    Message::from_vec(&answer).unwrap()
}

/// The joined TXT strings answered for `name`, or the response code when there is none.
fn served_txt(server: &DkimZoneServer, name: &str) -> Result<String, ResponseCode> {
    let answer = ask(server, name, RecordType::TXT, false);
    assert!(answer.metadata.authoritative, "{answer:?}");
    answer
        .answers
        .iter()
        .find_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .ok_or(answer.metadata.response_code)
}

/// Waits past one refresh of the zone.
async fn refreshed() {
    tokio::time::sleep(REFRESH_INTERVAL + Duration::from_millis(800)).await;
}

async fn service(store: Store, clock: Arc<TestClock>) -> Service {
    let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
        nameserver: Some((Ipv4Addr::LOCALHOST, 9).into()),
        cache: false,
        attempts: 1,
        timeout: Duration::from_millis(200),
    })
    .unwrap();
    Service::open(store, Vault::new(MasterKey::generate()), clock, resolver)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_records_follow_the_keys_from_pending_to_retired() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
        let service = service(store.clone(), clock.clone()).await;
        let domains = service.signing_domains();
        let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
        let domain = domains
            .add_signing_domain(tenant.id, "client-a.test", "workplace")
            .await
            .unwrap();
        let zone = DkimZoneServer::start(settings(), store.clone(), loopback())
            .await
            .unwrap();
        let first_name = settings()
            .zone
            .served_name(tenant.id, &domain.domain, &domain.selector)
            .unwrap();
        assert_eq!(served_txt(&zone, &first_name), Err(ResponseCode::NXDomain));

        // A pending key is served as soon as the zone has been refreshed, byte for byte the
        // value the hand-off shows.
        let pending = domains.generate_key(tenant.id, domain.id).await.unwrap();
        let first = pending.keys[0].clone();
        refreshed().await;
        let record = domains
            .key_record(tenant.id, domain.id, first.id)
            .await
            .unwrap();
        assert_eq!(served_txt(&zone, &first_name), Ok(record.value.clone()));

        // Promoted, then a second key: both served; the first retiring.
        domains
            .promote_key(tenant.id, domain.id, first.id, DnsGate::Force)
            .await
            .unwrap();
        let rotated = domains.generate_key(tenant.id, domain.id).await.unwrap();
        let second = rotated.pending_key().unwrap().clone();
        domains
            .promote_key(tenant.id, domain.id, second.id, DnsGate::Force)
            .await
            .unwrap();
        let ed = domains
            .generate_key_of(tenant.id, domain.id, KeyAlgorithm::Ed25519)
            .await
            .unwrap();
        let ed_key = ed
            .keys
            .iter()
            .find(|key| key.algorithm == KeyAlgorithm::Ed25519)
            .unwrap()
            .clone();
        refreshed().await;
        let second_name = settings()
            .zone
            .served_name(tenant.id, &domain.domain, &second.selector)
            .unwrap();
        let second_record = domains
            .key_record(tenant.id, domain.id, second.id)
            .await
            .unwrap();
        assert_eq!(served_txt(&zone, &second_name), Ok(second_record.value));
        assert_eq!(served_txt(&zone, &first_name), Ok(record.value.clone()));
        let ed_name = settings()
            .zone
            .served_name(tenant.id, &domain.domain, &ed_key.selector)
            .unwrap();
        let ed_served = served_txt(&zone, &ed_name).unwrap();
        assert!(
            ed_served.starts_with("v=DKIM1; k=ed25519; p="),
            "{ed_served}"
        );

        // Once retired, the first key's record is gone.
        clock.0.fetch_add(10 * DAY, Ordering::SeqCst);
        let retired = domains.recheck_domain(tenant.id, domain.id).await.unwrap();
        assert_eq!(retired.domain.keys[0].state, KeyState::Retired);
        refreshed().await;
        assert_eq!(served_txt(&zone, &first_name), Err(ResponseCode::NXDomain));
        assert!(served_txt(&zone, &second_name).is_ok());
        // The name of another tenant's domain is not served.
        let other = service.accounts().create_tenant("other", "").await.unwrap();
        let foreign = settings()
            .zone
            .served_name(other.id, &domain.domain, &second.selector)
            .unwrap();
        assert_eq!(served_txt(&zone, &foreign), Err(ResponseCode::NXDomain));
    }
}

/// The SOA serial a zone server answers with.
fn serial(server: &DkimZoneServer) -> u32 {
    let soa = ask(server, "dkim.sealpost.test.", RecordType::SOA, false);
    match &soa.answers[..] {
        [record] => match &record.data {
            RData::SOA(soa) => soa.serial,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

/// Every node reading the same database serves the same SOA serial, the time of the newest key
/// change, whether it was running when the change came or started after it; so a secondary may
/// transfer the zone from any node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_serves_the_serial_of_the_newest_key_change() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
        let service = service(store.clone(), clock.clone()).await;
        let domains = service.signing_domains();
        let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
        let domain = domains
            .add_signing_domain(tenant.id, "client-a.test", "workplace")
            .await
            .unwrap();
        let pending = domains.generate_key(tenant.id, domain.id).await.unwrap();
        let running = DkimZoneServer::start(settings(), store.clone(), loopback())
            .await
            .unwrap();
        assert_eq!(serial(&running), 1_800_000_000);

        // A promotion changes no record, a second key adds one: either way the serial follows.
        clock.0.fetch_add(100, Ordering::SeqCst);
        domains
            .promote_key(tenant.id, domain.id, pending.keys[0].id, DnsGate::Force)
            .await
            .unwrap();
        refreshed().await;
        let later = DkimZoneServer::start(settings(), store.clone(), loopback())
            .await
            .unwrap();
        assert_eq!(serial(&running), 1_800_000_100);
        assert_eq!(serial(&later), 1_800_000_100);
        clock.0.fetch_add(100, Ordering::SeqCst);
        domains
            .generate_key_of(tenant.id, domain.id, KeyAlgorithm::Ed25519)
            .await
            .unwrap();
        refreshed().await;
        assert_eq!(serial(&running), 1_800_000_200);
        assert_eq!(serial(&later), 1_800_000_200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_authoritative_and_names_outside_the_zone_are_refused() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let zone = DkimZoneServer::start(settings(), store, loopback())
        .await
        .unwrap();
    for tcp in [false, true] {
        let soa = ask(&zone, "dkim.sealpost.test.", RecordType::SOA, tcp);
        assert!(soa.metadata.authoritative);
        assert!(
            matches!(&soa.answers[..], [record] if matches!(&record.data, RData::SOA(soa) if soa.minimum == 60)),
            "{soa:?}"
        );
        let ns = ask(&zone, "dkim.sealpost.test.", RecordType::NS, tcp);
        assert_eq!(ns.answers.len(), 1, "{ns:?}");
        assert_eq!(ns.answers[0].data.to_string(), "ns1.sealpost.test.");
        let missing = ask(&zone, "s.nowhere.dkim.sealpost.test.", RecordType::TXT, tcp);
        assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
        assert!(missing.metadata.authoritative);
        assert!(
            matches!(&missing.authorities[..], [record] if record.record_type() == RecordType::SOA),
            "{missing:?}"
        );
        let outside = ask(&zone, "client.test.", RecordType::TXT, tcp);
        assert_eq!(outside.metadata.response_code, ResponseCode::Refused);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_over_udp_and_tcp_leaves_the_server_answering() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let zone = DkimZoneServer::start(settings(), store, loopback())
        .await
        .unwrap();
    let garbage: [&[u8]; 4] = [
        b"",
        b"\xff",
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x10\x00\x01",
        &[0xab; 700],
    ];
    let socket = UdpSocket::bind(loopback()).unwrap();
    for bytes in garbage {
        socket.send_to(bytes, zone.udp_addr()).unwrap();
        let mut stream = TcpStream::connect(zone.tcp_addr()).unwrap();
        let length = u16::try_from(bytes.len()).unwrap().to_be_bytes();
        // A length that promises more than is sent, then the connection is closed.
        stream.write_all(&[0xff, 0xff]).unwrap();
        stream.write_all(bytes).unwrap();
        drop(stream);
        let mut stream = TcpStream::connect(zone.tcp_addr()).unwrap();
        stream.write_all(&length).unwrap();
        stream.write_all(bytes).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for tcp in [false, true] {
        let soa = ask(&zone, "dkim.sealpost.test.", RecordType::SOA, tcp);
        assert_eq!(soa.metadata.response_code, ResponseCode::NoError);
        assert_eq!(soa.answers.len(), 1);
    }
}
