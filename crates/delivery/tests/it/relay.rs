//! Delivery through a tenant's relay and "Test connection": validated TLS (STARTTLS and
//! implicit), AUTH PLAIN and LOGIN, and the precise failures the caller shows without retrying.

use std::net::Ipv4Addr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_delivery::shaping::{Backoff, Shaping};
use sealpost_delivery::{
    Cause, DeliveryReport, FailureKind, Party, Password, PoolLimits, RelayConfig, RelayOptions,
    Stage, TlsMode, Traffic, TrustedRoots, deliver_relay, deliver_relay_reusing,
    test_relay_connection,
};
use sealpost_testdns::{TestDns, Zone};

use crate::certs::{self, TestCa};
use crate::server::{Received, Script, Server, reply};
use crate::{SIMPLE, assert_delivered, assert_failed, dns, envelope, helo, shown, timeouts};

const USER: &str = "tenant-42";
const PASSWORD: &str = "s3cret-Pa55word";
const HOST: &str = "relay.tenant.test";

/// A relay test: the CA the relay's certificate comes from, and the DNS that names it.
struct Fixture {
    ca: TestCa,
    _dns: TestDns,
    resolver: sealpost_dns::Resolver,
}

impl Fixture {
    async fn new() -> Fixture {
        let (dns, resolver) = dns(Zone::new().a(HOST, Ipv4Addr::LOCALHOST)).await;
        Fixture {
            ca: TestCa::new(),
            _dns: dns,
            resolver,
        }
    }

    /// A server with STARTTLS, AUTH PLAIN LOGIN and a certificate from the test CA.
    fn script(&self) -> Script {
        Script::new(&["PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN"])
            .tls(self.ca.server_config(&[HOST]))
            .credentials(USER, PASSWORD)
    }

    /// Options that trust the test CA.
    fn options(&self) -> RelayOptions {
        let mut options = RelayOptions::new(helo());
        options.timeouts = timeouts();
        options.trusted_roots = TrustedRoots::webpki_and_pem(&self.ca.pem).unwrap();
        options
    }

    async fn deliver(&self, relay: &RelayConfig, options: &RelayOptions) -> DeliveryReport {
        let envelope = envelope(&["a@example.test", "b@example.test"]);
        deliver_relay(&self.resolver, relay, &envelope, SIMPLE, options).await
    }
}

fn relay(server: &Server, tls_mode: TlsMode) -> RelayConfig {
    RelayConfig {
        host: HOST.to_owned(),
        port: server.port(),
        username: USER.to_owned(),
        password: Password::new(PASSWORD),
        implicit_tls: false,
        tls_mode,
    }
}

fn only(received: &[Received]) -> &Received {
    let [session] = received else {
        panic!("{received:?}")
    };
    session
}

fn verbs(received: &Received) -> Vec<String> {
    received
        .commands
        .iter()
        .map(|command| match command.split_once(' ') {
            Some(("AUTH", rest)) => format!("AUTH {}", rest.split(' ').next().unwrap_or_default()),
            Some((verb, _)) => verb.to_owned(),
            None => command.clone(),
        })
        .collect()
}

#[tokio::test]
async fn auth_plain_after_required_starttls_with_a_trusted_ca() {
    let fixture = Fixture::new().await;
    let server = Server::start(fixture.script()).await;
    let report = fixture
        .deliver(&relay(&server, TlsMode::Required), &fixture.options())
        .await;

    assert_delivered(&report);
    let tls = report.tls.as_ref().expect("TLS");
    assert!(tls.certificate_verified);
    let session = only(&server.received()).clone();
    assert_eq!(
        verbs(&session),
        [
            "EHLO",
            "STARTTLS",
            "<TLS>",
            "EHLO",
            "AUTH PLAIN",
            "MAIL",
            "RCPT",
            "RCPT",
            "DATA",
            "QUIT"
        ]
    );
    assert_eq!(
        session.credentials,
        Some((USER.to_owned(), PASSWORD.to_owned()))
    );
    assert_eq!(session.message.as_deref(), Some(SIMPLE));
}

#[tokio::test]
async fn auth_login_when_plain_is_not_offered() {
    let fixture = Fixture::new().await;
    let script = Script::new(&["STARTTLS", "AUTH LOGIN"])
        .tls(fixture.ca.server_config(&[HOST]))
        .credentials(USER, PASSWORD);
    let server = Server::start(script).await;
    let report = fixture
        .deliver(&relay(&server, TlsMode::Opportunistic), &fixture.options())
        .await;

    assert_delivered(&report);
    let session = only(&server.received()).clone();
    assert_eq!(
        session.credentials,
        Some((USER.to_owned(), PASSWORD.to_owned()))
    );
    let text = shown(&report);
    assert!(
        text.contains(
            "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: ***\nS: 334 UGFzc3dvcmQ6\nC: ***\nS: 235"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn rejected_credentials_fail_permanently_with_the_reply() {
    let fixture = Fixture::new().await;
    let script = Script::new(&["STARTTLS", "AUTH PLAIN LOGIN"])
        .tls(fixture.ca.server_config(&[HOST]))
        .credentials(USER, "another password");
    let server = Server::start(script).await;
    let report = fixture
        .deliver(&relay(&server, TlsMode::Opportunistic), &fixture.options())
        .await;

    let failure = assert_failed(&report, Stage::Auth, FailureKind::Permanent);
    let reply = failure.reply().expect("a reply");
    assert_eq!(reply.code, 535);
    assert_eq!(reply.text(), "authentication credentials invalid");
    assert_eq!(
        failure.to_string(),
        "AUTH: the server replied 535 5.7.8 authentication credentials invalid"
    );
    assert_eq!(
        verbs(only(&server.received())).last().map(String::as_str),
        Some("QUIT")
    );
    assert!(!verbs(only(&server.received())).contains(&"MAIL".to_owned()));
}

#[tokio::test]
async fn required_tls_without_starttls_fails_before_auth() {
    let fixture = Fixture::new().await;
    let script = Script::new(&["AUTH PLAIN LOGIN"]).credentials(USER, PASSWORD);
    let server = Server::start(script).await;
    let report = fixture
        .deliver(&relay(&server, TlsMode::Required), &fixture.options())
        .await;

    let failure = assert_failed(&report, Stage::Tls, FailureKind::Temporary);
    assert_eq!(failure.cause, Cause::TlsNotOffered);
    assert_eq!(verbs(only(&server.received())), ["EHLO", "QUIT"]);
}

#[tokio::test]
async fn opportunistic_tls_never_sends_the_password_in_clear() {
    let fixture = Fixture::new().await;
    let script = Script::new(&["AUTH PLAIN LOGIN"]).credentials(USER, PASSWORD);
    let server = Server::start(script).await;
    let report = fixture
        .deliver(&relay(&server, TlsMode::Opportunistic), &fixture.options())
        .await;

    let failure = assert_failed(&report, Stage::Tls, FailureKind::Temporary);
    assert_eq!(failure.cause, Cause::CleartextAuthRefused);
    assert_eq!(verbs(only(&server.received())), ["EHLO", "QUIT"]);
}

#[tokio::test]
async fn tls_mode_none_authenticates_in_clear_as_chosen() {
    let fixture = Fixture::new().await;
    // STARTTLS is offered but not used.
    let server = Server::start(fixture.script()).await;
    let report = fixture
        .deliver(&relay(&server, TlsMode::None), &fixture.options())
        .await;

    assert_delivered(&report);
    assert_eq!(report.tls, None);
    assert_eq!(
        verbs(only(&server.received()))[..2],
        ["EHLO".to_owned(), "AUTH PLAIN".to_owned()]
    );
}

#[tokio::test]
async fn implicit_tls_to_an_ip_address() {
    let fixture = Fixture::new().await;
    let script = Script::new(&["AUTH PLAIN"])
        .implicit_tls(fixture.ca.server_config(&["127.0.0.1"]))
        .credentials(USER, PASSWORD);
    let server = Server::start(script).await;
    let relay = RelayConfig {
        host: "127.0.0.1".to_owned(),
        implicit_tls: true,
        ..relay(&server, TlsMode::None)
    };
    let report = fixture.deliver(&relay, &fixture.options()).await;

    assert_delivered(&report);
    assert!(
        report
            .tls
            .as_ref()
            .is_some_and(|tls| tls.certificate_verified)
    );
    assert_eq!(
        verbs(only(&server.received()))[..3],
        ["<TLS>", "EHLO", "AUTH PLAIN"]
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let fixture = Fixture::new().await;
    let cases = [
        // Self-signed, as an MX host would have it: fine for native delivery, not for a relay.
        certs::self_signed(&[HOST]),
        // From the trusted CA, but for another name.
        fixture.ca.server_config(&["other.tenant.test"]),
    ];
    for config in cases {
        let script = Script::new(&["STARTTLS", "AUTH PLAIN"])
            .tls(config)
            .credentials(USER, PASSWORD);
        let server = Server::start(script).await;
        let report = fixture
            .deliver(&relay(&server, TlsMode::Opportunistic), &fixture.options())
            .await;

        let failure = assert_failed(&report, Stage::Tls, FailureKind::Temporary);
        assert!(matches!(failure.cause, Cause::Tls(_)), "{failure:?}");
        assert_eq!(only(&server.received()).credentials, None);
    }

    // Without the test CA, its certificate is untrusted too.
    let server = Server::start(fixture.script()).await;
    let mut options = fixture.options();
    options.trusted_roots = TrustedRoots::webpki();
    let report = fixture
        .deliver(&relay(&server, TlsMode::Required), &options)
        .await;
    let failure = assert_failed(&report, Stage::Tls, FailureKind::Temporary);
    assert!(failure.to_string().contains("UnknownIssuer"), "{failure}");
}

#[tokio::test]
async fn test_connection_shows_each_step_and_no_secret() {
    let fixture = Fixture::new().await;
    let server = Server::start(fixture.script()).await;
    let test = test_relay_connection(
        &fixture.resolver,
        &relay(&server, TlsMode::Required),
        &fixture.options(),
    )
    .await;

    assert!(test.success(), "{test:?}");
    let text: Vec<String> = test.transcript.iter().map(ToString::to_string).collect();
    let text = text.join("\n");
    let steps = [
        "* connecting to relay.tenant.test [127.0.0.1:",
        "* connected",
        "S: 220 mx.test ESMTP scripted",
        "C: EHLO out.platform.test",
        "S: 250-STARTTLS",
        "C: STARTTLS",
        "S: 220 2.0.0 ready to start TLS",
        "* TLS handshake with relay.tenant.test",
        "* TLS established: TLSv1.3, ",
        "certificate verified",
        "C: EHLO out.platform.test",
        "C: AUTH PLAIN ***",
        "S: 235 2.7.0 authentication successful",
        "* authenticated",
        "C: QUIT",
        "S: 221 2.0.0 bye",
    ];
    let mut position = 0;
    for step in steps {
        let found = text[position..]
            .find(step)
            .unwrap_or_else(|| panic!("{step:?} missing after {position} in\n{text}"));
        position += found + step.len();
    }
    let plain = BASE64.encode(format!("\0{USER}\0{PASSWORD}"));
    for secret in [PASSWORD.to_owned(), BASE64.encode(PASSWORD), plain] {
        assert!(!text.contains(&secret), "{secret} in\n{text}");
    }
    assert!(test.transcript.iter().any(|line| line.party == Party::Note));
    assert!(!verbs(only(&server.received())).contains(&"MAIL".to_owned()));
}

#[tokio::test]
async fn test_connection_reports_the_failure() {
    let fixture = Fixture::new().await;
    let script = fixture.script().credentials(USER, "changed");
    let server = Server::start(script).await;
    let test = test_relay_connection(
        &fixture.resolver,
        &relay(&server, TlsMode::Opportunistic),
        &fixture.options(),
    )
    .await;

    assert!(!test.success());
    let failure = test.failure.expect("a failure");
    assert_eq!(failure.reply().map(|reply| reply.code), Some(535));
    assert!(test.tls.is_some_and(|tls| tls.certificate_verified));
}

#[tokio::test]
async fn credentials_echoed_by_the_server_are_redacted_too() {
    let fixture = Fixture::new().await;
    let plain = BASE64.encode(format!("\0{USER}\0{PASSWORD}"));
    let echo = format!("535 5.7.8 cannot use {plain} (password {PASSWORD})");
    let script = fixture.script().on("AUTH", reply(&echo));
    let server = Server::start(script).await;
    let test = test_relay_connection(
        &fixture.resolver,
        &relay(&server, TlsMode::Required),
        &fixture.options(),
    )
    .await;

    let failure = test.failure.expect("a failure");
    assert_eq!(
        failure.to_string(),
        "AUTH: the server replied 535 5.7.8 cannot use *** (password ***)"
    );
    let text: Vec<String> = test.transcript.iter().map(ToString::to_string).collect();
    let text = text.join("\n");
    assert!(!text.contains(PASSWORD) && !text.contains(&plain), "{text}");
}

/// Messages through the same relay with the same settings share one connection, which
/// authenticates once; a changed password opens a connection of its own.
#[tokio::test]
async fn messages_through_one_relay_share_a_connection_that_authenticates_once() {
    let fixture = Fixture::new().await;
    let server = Server::start(fixture.script()).await;
    let traffic = Traffic::new(
        Shaping::default(),
        Backoff::default(),
        PoolLimits {
            messages_per_connection: 100,
            idle_timeout: std::time::Duration::from_secs(30),
        },
    );
    let config = relay(&server, TlsMode::Required);
    let envelope = envelope(&["a@example.test"]);
    for _ in 0..3 {
        let report = deliver_relay_reusing(
            &fixture.resolver,
            &config,
            &envelope,
            SIMPLE,
            &fixture.options(),
            &traffic,
        )
        .await;
        assert_delivered(&report);
    }
    let mut changed = relay(&server, TlsMode::Required);
    changed.password = Password::new("another password");
    let refused = deliver_relay_reusing(
        &fixture.resolver,
        &changed,
        &envelope,
        SIMPLE,
        &fixture.options(),
        &traffic,
    )
    .await;
    assert_failed(&refused, Stage::Auth, FailureKind::Permanent);
    traffic.close_all().await;
    let received = server.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let first = verbs(&received[0]);
    assert_eq!(first.iter().filter(|verb| *verb == "AUTH PLAIN").count(), 1);
    assert_eq!(first.iter().filter(|verb| *verb == "DATA").count(), 3);
    assert_eq!(first.iter().filter(|verb| *verb == "RSET").count(), 2);
    assert_eq!(first.last().map(String::as_str), Some("QUIT"));
}
