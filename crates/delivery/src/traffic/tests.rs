//! The live shaping state: shared connections, throttles, rates and other nodes' parts.

use super::*;
use crate::shaping::{HostPattern, Profile};

fn traffic(connections: u32, per_minute: u32) -> Traffic {
    let profile = Profile {
        name: "sink".to_owned(),
        hosts: vec![HostPattern::parse("*.sink.test")],
        limits: Limits {
            connections,
            messages_per_connection: 7,
            messages_per_minute: per_minute,
        },
    };
    Traffic::new(
        Shaping::with_profiles(vec![profile], Limits::DEFAULT),
        Backoff::default(),
        PoolLimits::default(),
    )
}

/// Hosts of one provider share its connections; a freed connection admits the next one.
#[tokio::test]
async fn hosts_of_one_provider_share_its_connections() {
    let traffic = traffic(2, 60_000);
    let first = traffic.admit("mx1.sink.test", "a.test").await.unwrap();
    let _second = traffic.admit("mx2.sink.test", "a.test").await.unwrap();
    assert_eq!(first.messages_per_connection, 7);
    assert_eq!(traffic.destinations()[0].connections_in_use, 2);
    let waiting = tokio::spawn(async move {
        let admitted = traffic.admit("mx3.sink.test", "a.test").await.is_ok();
        (traffic, admitted)
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "a third connection was admitted");
    drop(first);
    let (traffic, admitted) = waiting.await.unwrap();
    assert!(admitted);
    assert_eq!(traffic.destinations()[0].destination, "sink");
}

/// A throttled destination defers at once, with the reply, and other destinations flow.
#[tokio::test]
async fn a_throttled_destination_defers_and_others_flow() {
    let traffic = traffic(4, 60_000);
    let admission = traffic.admit("mx1.sink.test", "a.test").await.unwrap();
    traffic.throttled(&admission, "421 4.7.0 too many connections".to_owned());
    drop(admission);
    match traffic.admit("mx2.sink.test", "a.test").await {
        Err(Deferral::Throttled {
            destination,
            rest,
            reply,
        }) => {
            assert_eq!(destination, "sink");
            assert!(rest > Duration::from_secs(25) && rest <= Duration::from_secs(30));
            assert_eq!(reply, "421 4.7.0 too many connections");
        }
        other => panic!("expected a deferral, got {other:?}"),
    }
    assert!(traffic.admit("mx.elsewhere.test", "a.test").await.is_ok());
    let view = &traffic.destinations()[1];
    assert_eq!((view.throttle_level, view.limits_now.connections), (1, 2));
}

/// With another node delivering, this node takes half of each destination's connections;
/// another node's pause holds a destination this node already used and one it has not used
/// yet, with that node's reply.
#[tokio::test]
async fn other_nodes_share_the_limits_and_pauses() {
    let traffic = Arc::new(traffic(4, 60_000));
    let first = traffic.admit("mx1.sink.test", "a.test").await.unwrap();
    traffic.heed_peers(Peers {
        nodes: 1,
        pauses: HashMap::new(),
    });
    let _second = traffic.admit("mx1.sink.test", "a.test").await.unwrap();
    assert_eq!(traffic.destinations()[0].limits_now.connections, 2);
    let third = tokio::spawn({
        let traffic = Arc::clone(&traffic);
        async move { traffic.admit("mx1.sink.test", "a.test").await.is_ok() }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!third.is_finished(), "a third connection was admitted");
    drop(first);
    assert!(third.await.unwrap());

    let pause = |seconds| PeerPause {
        level: 2,
        rest: Duration::from_secs(seconds),
        reply: Some("421 4.7.0 slow down".to_owned()),
    };
    traffic.heed_peers(Peers {
        nodes: 1,
        pauses: [
            ("sink".to_owned(), pause(20)),
            ("mx.elsewhere.test".to_owned(), pause(40)),
        ]
        .into(),
    });
    for (host, longest) in [("mx2.sink.test", 20), ("MX.Elsewhere.test", 40)] {
        match traffic.admit(host, "a.test").await {
            Err(Deferral::Throttled { rest, reply, .. }) => {
                assert!(rest > Duration::from_secs(longest - 5), "{host}: {rest:?}");
                assert!(rest <= Duration::from_secs(longest), "{host}: {rest:?}");
                assert_eq!(reply, "421 4.7.0 slow down");
            }
            other => panic!("{host}: expected a deferral, got {other:?}"),
        }
    }
    let views = traffic.destinations();
    assert_eq!(views.len(), 2, "{views:?}");
    // Level 2 quarters the 4 connections, and this node has half of that one; what it
    // publishes is its own state, so the pause does not come back from the others.
    assert!(
        views.iter().all(|view| view.limits_now.connections == 1
            && (view.throttle_level, view.paused_for) == (0, None)),
        "{views:?}"
    );
    assert!(traffic.admit("mx.third.test", "a.test").await.is_ok());
    // The other node no longer publishes the pause: this node no longer rests.
    traffic.heed_peers(Peers::default());
    assert!(traffic.admit("mx2.sink.test", "a.test").await.is_ok());
}

/// When another node stops, the deliveries waiting for a connection are admitted at once
/// rather than when their wait ends.
#[tokio::test]
async fn a_larger_part_admits_the_waiting_at_once() {
    let traffic = Arc::new(traffic(4, 60_000));
    traffic.heed_peers(Peers {
        nodes: 1,
        pauses: HashMap::new(),
    });
    let _first = traffic.admit("mx1.sink.test", "a.test").await.unwrap();
    let _second = traffic.admit("mx1.sink.test", "a.test").await.unwrap();
    let waiting = tokio::spawn({
        let traffic = Arc::clone(&traffic);
        async move { traffic.admit("mx1.sink.test", "a.test").await.is_ok() }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "a third connection was admitted");
    traffic.heed_peers(Peers::default());
    // Without the wake-up it is admitted only when its wait of 5 s ends.
    let admitted = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("admitted at once")
        .unwrap();
    assert!(admitted);
}

/// A destination whose rate is spent for longer than the longest wait is deferred.
#[tokio::test]
async fn a_spent_rate_defers() {
    let traffic = traffic(4, 1);
    drop(traffic.admit("mx1.sink.test", "a.test").await.unwrap());
    match traffic.admit("mx1.sink.test", "a.test").await {
        Err(Deferral::Busy { destination, wait }) => {
            assert_eq!(destination, "sink");
            assert!(wait > Duration::from_secs(50));
        }
        other => panic!("expected a deferral, got {other:?}"),
    }
}
