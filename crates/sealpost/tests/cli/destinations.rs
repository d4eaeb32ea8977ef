//! `sealpost destinations`: what the delivering nodes published of each destination, read by
//! the real binary from the shared database.

use sealpost_store::Store;
use sealpost_store::testing::{calm_destination, throttled_destination};

use crate::support::*;

#[test]
fn destinations_lists_what_the_nodes_published() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sealpost.db", directory.path().display());
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", url.as_str()),
    ];
    let sealpost = |arguments: &[&str]| run(directory.path(), &environment, arguments);
    ok_json(sealpost(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    let empty = sealpost(&["destinations"]);
    assert!(empty.status.success());
    assert_eq!(
        String::from_utf8_lossy(&empty.stdout).trim(),
        "No node has sent to any destination in the last minute."
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(Store::connect(&url)).unwrap();
    let now = sealpost_domain::Clock::now(&sealpost_domain::SystemClock).0;
    runtime
        .block_on(
            store.publish_destinations("node-a", &[throttled_destination("node-a", "google", now)]),
        )
        .unwrap();
    // Another node's receiver took mail, but it rests through node-a's pause.
    let calm = calm_destination("node-b", "google", now);
    runtime
        .block_on(store.publish_destinations("node-b", &[calm]))
        .unwrap();
    // A node that stopped publishing long ago is left out.
    runtime
        .block_on(store.publish_destinations(
            "node-gone",
            &[throttled_destination("node-gone", "google", now - 3600)],
        ))
        .unwrap();
    let listed = ok_json(sealpost(&["destinations", "--json"]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let google = &listed[0];
    assert_eq!(google["destination"], "google");
    assert_eq!(google["node"], "node-a");
    assert_eq!(google["connections_in_use"], 2);
    assert_eq!(google["connections_allowed"], 5);
    assert_eq!(google["throttle_level"], 1);
    assert_eq!(google["last_throttle_reply"], "421 4.7.0 Try again later");
    assert_eq!(google["waiting"], 0);
    assert_eq!(google["domains"][1], "googlemail.test");
    assert!(google["paused_until"].as_str().unwrap().ends_with('Z'));
    assert_eq!(listed[1]["peer_pause"]["node"], "node-a");
    let human = sealpost(&["destinations"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("google (node node-a): 2 of 5 connections in use (limit 10)"),
        "{text}"
    );
    assert!(text.contains("throttled until"), "{text}");
    assert!(
        text.contains("google (node node-b): 2 of 5 connections")
            && text.contains(
                "for node node-a, whose receiver asked for a pause: 421 4.7.0 Try again later"
            ),
        "{text}"
    );
}
