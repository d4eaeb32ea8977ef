//! One integration-test binary for sealpost-delivery: the client against a scriptable SMTP server
//! on 127.0.0.1 (`server`), with MX and address records served by the test DNS server.

mod certs;
mod native;
mod pool;
mod relay;
mod server;

use std::time::Duration;

use sealpost_delivery::{
    DeliveryReport, Envelope, Failure, FailureKind, HeloName, RecipientResult, Stage, Timeouts,
};
use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::EmailAddress;
use sealpost_testdns::{TestDns, Zone};

/// Short enough that the whole binary runs in seconds, long enough for a loaded machine.
fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        command: Duration::from_secs(2),
        data_end: Duration::from_secs(2),
    }
}

fn helo() -> HeloName {
    HeloName::new("out.platform.test").unwrap()
}

/// A DNS server for `zone` and a resolver that asks it, without a cache.
async fn dns(zone: Zone) -> (TestDns, Resolver) {
    let server = TestDns::start(zone).await.unwrap();
    let config = ResolverConfig {
        nameserver: Some(server.addr()),
        timeout: Duration::from_secs(1),
        attempts: 1,
        cache: false,
    };
    let resolver = Resolver::new(&config).unwrap();
    (server, resolver)
}

fn envelope(recipients: &[&str]) -> Envelope {
    let address = |text: &str| EmailAddress::parse(text).unwrap();
    let recipients = recipients.iter().map(|text| address(text));
    Envelope::new(Some(&address("sender@tenant.test")), recipients).unwrap()
}

/// A plain ASCII message.
const SIMPLE: &[u8] =
    b"From: sender@tenant.test\r\nTo: a@example.test\r\nSubject: hi\r\n\r\nHello.\r\n";

/// The failure of every recipient, asserting that they all failed alike.
#[track_caller]
fn common_failure(report: &DeliveryReport) -> Failure {
    let failures: Vec<&Failure> = report
        .outcomes
        .iter()
        .map(|outcome| match &outcome.result {
            RecipientResult::Failed { failure } => failure,
            RecipientResult::Delivered { reply } => {
                panic!(
                    "{} was delivered: {reply}\n{}",
                    outcome.recipient,
                    shown(report)
                )
            }
        })
        .collect();
    assert!(
        failures.windows(2).all(|pair| pair[0] == pair[1]),
        "{failures:?}"
    );
    failures[0].clone()
}

/// Asserts that every recipient failed at `stage`, of `kind`, and returns the failure.
#[track_caller]
fn assert_failed(report: &DeliveryReport, stage: Stage, kind: FailureKind) -> Failure {
    let failure = common_failure(report);
    assert_eq!(
        (failure.stage, failure.kind()),
        (stage, kind),
        "{failure}\n{}",
        shown(report)
    );
    failure
}

/// Asserts that every recipient was delivered.
#[track_caller]
fn assert_delivered(report: &DeliveryReport) {
    for outcome in &report.outcomes {
        assert!(
            matches!(&outcome.result, RecipientResult::Delivered { reply } if reply.code == 250),
            "{outcome:?}\n{}",
            shown(report)
        );
    }
}

/// The transcript as text, for assertion messages.
fn shown(report: &DeliveryReport) -> String {
    let lines: Vec<String> = report.transcript.iter().map(ToString::to_string).collect();
    lines.join("\n")
}
