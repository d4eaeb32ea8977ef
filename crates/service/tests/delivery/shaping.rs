//! Treating receivers as the best senders do (SPEC S12), against a receiving server that
//! enforces a connection limit and a rate and answers 421 4.7.0 / 451 4.7.1 beyond them: the
//! node reuses connections, keeps each destination under its limits (MX hosts of one provider
//! share one), backs a throttling destination off, and still delivers everything.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use sealpost_delivery::shaping::{Backoff, HostPattern, Limits, Profile, Shaping};
use sealpost_domain::{MessageId, RecipientState, TenantId};
use sealpost_service::{Clock as _, Delivery, DeliveryNode, Service, Submission};
use sealpost_store::testing;
use sealpost_testdns::TestDns;

use crate::limited_receiver::{Policy, Receiver};
use crate::support::{self, TestClock};

/// Every `*.sink.test` MX host is one destination with these limits.
fn sink_profile(connections: u32, messages_per_connection: u32) -> Shaping {
    let profile = Profile {
        name: "sink".to_owned(),
        hosts: vec![HostPattern::parse("*.sink.test")],
        limits: Limits {
            connections,
            messages_per_connection,
            messages_per_minute: 60_000,
        },
    };
    Shaping::with_profiles(vec![profile], Limits::DEFAULT)
}

/// The DNS of the sink: `a.test` and `b.test` have their MX at `mx1.sink.test` (127.0.0.1)
/// and `mx2.sink.test` (127.0.0.2), two hosts of one provider.
async fn sink_dns() -> TestDns {
    let zone = support::zone(&[])
        .mx("a.test", 10, "mx1.sink.test")
        .mx("b.test", 10, "mx2.sink.test")
        .a("mx1.sink.test", Ipv4Addr::LOCALHOST)
        .a("mx2.sink.test", Ipv4Addr::new(127, 0, 0, 2));
    TestDns::start(zone).await.unwrap()
}

async fn submit(service: &Service, tenant: TenantId, to: &str) -> MessageId {
    let raw =
        format!("From: Facilities <facilities@client.test>\nTo: {to}\nSubject: Order\n\nFixed.\n");
    service
        .submissions()
        .submit(
            tenant,
            Submission {
                mail_from: "bounce@client.test".into(),
                recipients: vec![to.into()],
                raw: raw.into_bytes(),
                idempotency_key: None,
                source: sealpost_domain::SubmissionSource::Http,
            },
        )
        .await
        .unwrap()
        .id
}

/// The states of the recipients of `messages`, with their last replies.
async fn states(
    service: &Service,
    tenant: TenantId,
    messages: &[MessageId],
) -> Vec<(RecipientState, String)> {
    let mut states = Vec::new();
    for id in messages {
        let message = service.messages().message(tenant, *id).await.unwrap();
        for recipient in message.recipients {
            states.push((recipient.state, recipient.last_reply.unwrap_or_default()));
        }
    }
    states
}

async fn shaped_service(
    dns: &TestDns,
    port: u16,
    clock: Arc<TestClock>,
    shaping: Shaping,
) -> (Service, Delivery, TenantId, tempfile::TempDir) {
    shaped_service_with(dns, port, clock, shaping, 300).await
}

async fn shaped_service_with(
    dns: &TestDns,
    port: u16,
    clock: Arc<TestClock>,
    shaping: Shaping,
    lease_seconds: i64,
) -> (Service, Delivery, TenantId, tempfile::TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let (service, delivery, tenant) =
        support::signing_service_with(store, dns, port, clock, |node: &mut DeliveryNode| {
            node.lease_seconds = lease_seconds;
            node.shaping = shaping;
            node.backoff = Backoff {
                first_pause: Duration::from_secs(1),
                longest_pause: Duration::from_secs(2),
                ..Backoff::default()
            };
        })
        .await;
    (service, delivery, tenant, directory)
}

/// 20 messages to one destination allowed 2 connections of 5 messages each: the receiver sees
/// about 4 connections, never more than 2 at once, refuses nothing, and takes all 20, although the
/// round runs 32 deliveries at once. Two MX hosts of the provider share its 2 connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_reused_and_a_provider_s_hosts_share_its_limit() {
    let dns = sink_dns().await;
    let receiver = Receiver::new(Policy {
        connections: 2,
        messages_per_second: 1000,
        data_delay: Duration::ZERO,
    });
    let port = receiver.listen(IpAddr::from(Ipv4Addr::LOCALHOST), 0).await;
    receiver
        .listen(IpAddr::from(Ipv4Addr::new(127, 0, 0, 2)), port)
        .await;
    let clock = Arc::new(TestClock::default());
    let (service, delivery, tenant, _directory) =
        shaped_service(&dns, port, clock, sink_profile(2, 5)).await;

    let mut messages = Vec::new();
    for index in 0..20 {
        messages.push(submit(&service, tenant, &format!("r{index}@a.test")).await);
    }
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 20);
    {
        let seen = receiver.seen.lock().unwrap();
        assert_eq!(seen.delivered.len(), 20, "{seen:?}");
        assert_eq!(seen.refused_connections, 0, "{seen:?}");
        assert!(seen.most_open <= 2, "{seen:?}");
        // 20 messages, 5 per connection: 4 connections, or 5 when the two connections in use
        // at the end did not share their last 5 messages evenly.
        assert!((4..=5).contains(&seen.connections), "{seen:?}");
        assert!(
            seen.per_connection.iter().all(|taken| *taken <= 5),
            "{seen:?}"
        );
    }
    assert!(
        states(&service, tenant, &messages)
            .await
            .iter()
            .all(|(state, _)| *state == RecipientState::Sent)
    );

    // Now both hosts of the provider at once: still 2 connections in all.
    let mut more = Vec::new();
    for index in 0..20 {
        let domain = if index % 2 == 0 { "a.test" } else { "b.test" };
        more.push(submit(&service, tenant, &format!("s{index}@{domain}")).await);
    }
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 20);
    let seen = receiver.seen.lock().unwrap();
    assert_eq!(seen.delivered.len(), 40, "{seen:?}");
    assert_eq!(seen.refused_connections, 0, "{seen:?}");
    assert!(seen.most_open <= 2, "{seen:?}");
    let views = delivery.destinations();
    assert_eq!(views.len(), 1, "{views:?}");
    assert_eq!(views[0].destination, "sink");
    assert_eq!(views[0].throttle_level, 0);
}

/// Sealpost allows 4 connections but the receiver only 2 and 5 messages a second: its 421 and
/// 451 4.7.x replies throttle the destination, whose messages are then deferred with the reason
/// instead of being tried at full speed, and everything is delivered in the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_receiver_backs_the_destination_off_and_gets_everything() {
    let dns = sink_dns().await;
    let receiver = Receiver::new(Policy {
        connections: 2,
        messages_per_second: 5,
        data_delay: Duration::ZERO,
    });
    let port = receiver.listen(IpAddr::from(Ipv4Addr::LOCALHOST), 0).await;
    let clock = Arc::new(TestClock::default());
    let (service, delivery, tenant, _directory) =
        shaped_service(&dns, port, Arc::clone(&clock), sink_profile(4, 100)).await;
    let mut messages = Vec::new();
    for index in 0..30 {
        messages.push(submit(&service, tenant, &format!("r{index}@a.test")).await);
    }
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 30);
    let after_first = states(&service, tenant, &messages).await;
    let deferred: Vec<&String> = after_first
        .iter()
        .filter(|(state, _)| *state == RecipientState::Deferred)
        .map(|(_, reply)| reply)
        .collect();
    assert!(!deferred.is_empty(), "the receiver's limits were never met");
    assert!(
        deferred
            .iter()
            .any(|reply| reply.contains("not attempted: the receiver sink is throttled")),
        "{deferred:?}"
    );
    // The operator's view, as every node publishes it.
    delivery.publish_destinations("node-test").await.unwrap();
    let reports = service.platform().destinations().await.unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = &reports[0];
    assert_eq!(
        (
            report.status.destination.as_str(),
            report.status.domains.as_str()
        ),
        ("sink", "a.test")
    );
    assert_eq!(report.waiting, i64::try_from(deferred.len()).unwrap());
    assert!(report.status.throttle_level >= 1, "{report:?}");
    // The pause of this test (1 s) may be over already; the reply that caused it stays.
    assert!(
        report
            .status
            .last_throttle_reply
            .as_deref()
            .unwrap_or("")
            .contains("4.7."),
        "{report:?}"
    );
    let metrics = service.messages().metrics_text().await.unwrap();
    let level = metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(
                "sealpost_destination_throttle_level{destination=\"sink\",node=\"node-test\"} ",
            )
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(level.parse::<u32>().unwrap() >= 1, "{metrics}");
    let view = delivery.destinations().remove(0);
    assert!(view.throttle_level >= 1, "{view:?}");
    assert!(view.limits_now.connections < 4, "{view:?}");
    assert!(
        view.last_throttle_reply
            .as_deref()
            .unwrap_or("")
            .contains("4.7."),
        "{view:?}"
    );

    // Later rounds: the pause ends (real time), retries come due (the test clock), and the
    // rest goes out.
    for _ in 0..40 {
        if states(&service, tenant, &messages)
            .await
            .iter()
            .all(|(state, _)| *state == RecipientState::Sent)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        clock.advance(1800);
        delivery.deliver_due("node-test").await.unwrap();
    }
    let last = states(&service, tenant, &messages).await;
    assert!(
        last.iter().all(|(state, _)| *state == RecipientState::Sent),
        "{last:?}"
    );
    let seen = receiver.seen.lock().unwrap();
    let mut delivered = seen.delivered.clone();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), 30, "{seen:?}");
}

/// A receiver that takes 4 s to answer the end of DATA, with leases of 2 s: the round renews
/// its lease while it waits, so another node finds nothing to claim and the message arrives
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_does_not_let_another_node_take_the_same_work() {
    let dns = sink_dns().await;
    let receiver = Receiver::new(Policy {
        connections: 10,
        messages_per_second: 1000,
        data_delay: Duration::from_secs(4),
    });
    let port = receiver.listen(IpAddr::from(Ipv4Addr::LOCALHOST), 0).await;
    let clock = Arc::new(TestClock::default());
    let (service, delivery, tenant, _directory) =
        shaped_service_with(&dns, port, clock, sink_profile(4, 10), 2).await;
    let id = submit(&service, tenant, "slow@a.test").await;
    let first = tokio::spawn({
        let delivery = delivery.clone();
        async move { delivery.deliver_due("node-a").await.unwrap() }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!first.is_finished(), "the receiver answered early");
    assert_eq!(delivery.deliver_due("node-b").await.unwrap(), 0);
    assert_eq!(first.await.unwrap(), 1);
    assert_eq!(
        states(&service, tenant, &[id]).await[0].0,
        RecipientState::Sent
    );
    assert_eq!(receiver.seen.lock().unwrap().delivered, ["slow@a.test"]);
}

/// A node's settings for the two-node test: the sink's 2 connections of 5 messages, rounds of
/// 10 recipients, and pauses long enough to outlast the test.
fn sharing_node(port: u16) -> DeliveryNode {
    let mut node = DeliveryNode::new("mta.platform.test").unwrap();
    node.native.port = port;
    node.batch = 10;
    node.shaping = sink_profile(2, 5);
    node.backoff = Backoff {
        first_pause: Duration::from_secs(120),
        ..Backoff::default()
    };
    node
}

/// Two nodes delivering from one database, the sink (2 connections at once, `a.test`) and a
/// strict receiver (1 connection, slow to answer DATA, `c.test`).
struct TwoNodes {
    service: Service,
    first: Delivery,
    second: Delivery,
    tenant: TenantId,
    sink: Receiver,
    strict: Receiver,
    store: sealpost_store::Store,
    clock: Arc<TestClock>,
    _dns: TestDns,
    _directory: tempfile::TempDir,
}

async fn two_nodes() -> TwoNodes {
    let zone = support::zone(&[])
        .mx("a.test", 10, "mx1.sink.test")
        .mx("c.test", 10, "mx.strict.test")
        .a("mx1.sink.test", Ipv4Addr::LOCALHOST)
        .a("mx.strict.test", Ipv4Addr::new(127, 0, 0, 3));
    let dns = TestDns::start(zone).await.unwrap();
    let sink = Receiver::new(Policy {
        connections: 2,
        messages_per_second: 1000,
        data_delay: Duration::from_millis(30),
    });
    let port = sink.listen(IpAddr::from(Ipv4Addr::LOCALHOST), 0).await;
    let strict = Receiver::new(Policy {
        connections: 1,
        messages_per_second: 1000,
        data_delay: Duration::from_millis(200),
    });
    strict
        .listen(IpAddr::from(Ipv4Addr::new(127, 0, 0, 3)), port)
        .await;
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let clock = Arc::new(TestClock::default());
    let (service, first, tenant) =
        support::signing_service_with(store.clone(), &dns, port, Arc::clone(&clock), |node| {
            *node = sharing_node(port);
        })
        .await;
    let second = Delivery::new(service.clone(), sharing_node(port));
    TwoNodes {
        service,
        first,
        second,
        tenant,
        sink,
        strict,
        store,
        clock,
        _dns: dns,
        _directory: directory,
    }
}

/// The sink takes 2 connections and each node may open 2: having read what the other
/// published, each takes 1, so both deliver at once and the sink refuses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_each_destination_s_limits() {
    // Bound whole, so that the DNS server and the database outlive the test's body.
    let nodes = two_nodes().await;
    let TwoNodes {
        service,
        first,
        second,
        tenant,
        sink,
        ..
    } = &nodes;
    let tenant = *tenant;
    let pairs = [(first, "node-a"), (second, "node-b")];
    // Each node sends once, publishes, and reads what the other published.
    let mut messages = Vec::new();
    for (node, name) in pairs {
        messages.push(submit(service, tenant, &format!("{name}@a.test")).await);
        assert_eq!(node.deliver_due(name).await.unwrap(), 1);
        node.publish_destinations(name).await.unwrap();
    }
    for (node, name) in pairs {
        node.heed_peers(name).await.unwrap();
        assert_eq!(node.destinations()[0].limits_now.connections, 1, "{name}");
    }
    for index in 0..40 {
        messages.push(submit(service, tenant, &format!("r{index}@a.test")).await);
    }
    for _ in 0..2 {
        let (a, b) = tokio::join!(first.deliver_due("node-a"), second.deliver_due("node-b"));
        assert_eq!((a.unwrap(), b.unwrap()), (10, 10));
    }
    {
        let seen = sink.seen.lock().unwrap();
        assert_eq!(seen.delivered.len(), 42, "{seen:?}");
        assert_eq!(seen.refused_connections, 0, "{seen:?}");
        assert!(seen.most_open <= 2, "{seen:?}");
    }
    assert!(
        states(service, tenant, &messages)
            .await
            .iter()
            .all(|(state, _)| *state == RecipientState::Sent)
    );
}

/// The strict receiver refuses the first node's second connection with 421 4.7.0; the second
/// node, having read what the first published, defers its own mail there with that reply
/// instead of connecting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_one_node_s_receiver_asked_for_holds_the_other() {
    // Bound whole, so that the DNS server and the database outlive the test's body.
    let nodes = two_nodes().await;
    let TwoNodes {
        service,
        first,
        second,
        tenant,
        strict,
        ..
    } = &nodes;
    let tenant = *tenant;
    for index in 0..4 {
        submit(service, tenant, &format!("s{index}@c.test")).await;
    }
    assert_eq!(first.deliver_due("node-a").await.unwrap(), 4);
    let throttled = first
        .destinations()
        .into_iter()
        .find(|view| view.destination == "mx.strict.test")
        .unwrap();
    assert!(throttled.throttle_level >= 1, "{throttled:?}");
    first.publish_destinations("node-a").await.unwrap();
    second.heed_peers("node-b").await.unwrap();
    let connections = strict.seen.lock().unwrap().connections;
    let held = submit(service, tenant, "held@c.test").await;
    assert_eq!(second.deliver_due("node-b").await.unwrap(), 1);
    let (state, reply) = states(service, tenant, &[held]).await.remove(0);
    assert_eq!(state, RecipientState::Deferred, "{reply}");
    assert!(
        reply.contains("not attempted: the receiver mx.strict.test is throttled")
            && reply.contains("4.7.0"),
        "{reply}"
    );
    assert_eq!(strict.seen.lock().unwrap().connections, connections);
}

/// A node that had two connections open closes the idle one beyond its part once another node
/// counts, and has its whole part again once that node withdrew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_no_idle_connection_beyond_its_part() {
    let nodes = two_nodes().await;
    let TwoNodes {
        service,
        first,
        tenant,
        store,
        clock,
        ..
    } = &nodes;
    // Four messages, fewer than a connection's five, so both connections stay open.
    for index in 0..4 {
        submit(service, *tenant, &format!("r{index}@a.test")).await;
    }
    assert_eq!(first.deliver_due("node-a").await.unwrap(), 4);
    assert_eq!(first.idle_connections(), 2);
    let other = testing::throttled_destination("node-x", "elsewhere.test", clock.now().0);
    store
        .publish_destinations("node-x", &[other])
        .await
        .unwrap();
    first.heed_peers("node-a").await.unwrap();
    assert_eq!(first.destinations()[0].limits_now.connections, 1);
    first.close_idle_connections().await;
    assert_eq!(first.idle_connections(), 1);
    first.withdraw_destinations("node-x").await.unwrap();
    first.heed_peers("node-a").await.unwrap();
    assert_eq!(first.destinations()[0].limits_now.connections, 2);
}
