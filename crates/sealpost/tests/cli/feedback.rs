//! `sealpost webhook ...` and `sealpost return-path ...` on SQLite: an endpoint is added with its
//! secret printed once, listed without it, sent a test event that shows in its log, switched
//! off, rotated and removed; a private address and an unknown event type are refused. A return
//! path is set for a signing domain with the records to publish (from `feedback.inbound_host`),
//! refused outside the domain, checked (nothing published: not verified) and removed.

use crate::support::{fails_with, ok_json, run};

#[test]
fn webhook_and_return_path_commands() {
    let directory = tempfile::tempdir().unwrap();
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_FEEDBACK__INBOUND_HOST", "inbound.platform.test"),
        ("SEALPOST_PLATFORM__SPF_INCLUDE_HOST", "spf.platform.test"),
        ("SEALPOST_PLATFORM__SENDING_IPS", "[\"192.0.2.10\"]"),
        // Nothing answers here: the check fails for lack of records, quickly.
        ("SEALPOST_NAMESERVER", "127.0.0.1:9"),
    ];
    let sealpost = |arguments: &[&str]| run(directory.path(), &environment, arguments);
    assert!(
        sealpost(&["master-key", "generate", "--out", "master.key"])
            .status
            .success()
    );
    assert!(sealpost(&["tenant", "create", "acme"]).status.success());

    let added = ok_json(sealpost(&[
        "webhook",
        "add",
        "--tenant",
        "acme",
        "https://hooks.client.example/in",
        "--event",
        "message.bounced",
        "--json",
    ]));
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = added["webhook"]["id"].as_str().unwrap().to_owned();
    fails_with(
        sealpost(&["webhook", "add", "--tenant", "acme", "http://10.0.0.1/"]),
        "private",
    );
    fails_with(
        sealpost(&[
            "webhook",
            "add",
            "--tenant",
            "acme",
            "https://hooks.client.example/",
            "--event",
            "message.opened",
        ]),
        "\"message.opened\" is not an event type",
    );
    let listed = sealpost(&["webhook", "list", "--tenant", "acme"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(
        text.contains("https://hooks.client.example/in\tmessage.bounced\ton"),
        "{text}"
    );
    assert!(!text.contains(&secret[6..]), "{text}");

    assert!(
        sealpost(&["webhook", "test", "--tenant", "acme", &id])
            .status
            .success()
    );
    let log = ok_json(sealpost(&[
        "webhook", "log", "--tenant", "acme", &id, "--json",
    ]));
    assert_eq!(log[0]["event_type"], "test");
    assert_eq!(log[0]["state"], "pending");
    let delivery = log[0]["id"].to_string();
    fails_with(
        sealpost(&["webhook", "replay", "--tenant", "acme", &id, &delivery]),
        "only a delivery that was given up on can be replayed",
    );
    let off = ok_json(sealpost(&[
        "webhook",
        "enable",
        "--tenant",
        "acme",
        &id,
        "--enabled",
        "false",
        "--json",
    ]));
    assert_eq!(off["enabled"], false);
    let rotated = ok_json(sealpost(&[
        "webhook",
        "rotate-secret",
        "--tenant",
        "acme",
        &id,
        "--json",
    ]));
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    assert!(
        sealpost(&["webhook", "remove", "--tenant", "acme", &id])
            .status
            .success()
    );
    fails_with(
        sealpost(&["webhook", "remove", "--tenant", "acme", &id]),
        "webhook endpoint not found",
    );

    assert!(
        sealpost(&[
            "domain",
            "add",
            "--tenant",
            "acme",
            "client.test",
            "--selector",
            "mail"
        ])
        .status
        .success()
    );
    fails_with(
        sealpost(&[
            "return-path",
            "set",
            "--tenant",
            "acme",
            "client.test",
            "bounces.other.test",
        ]),
        "return_path",
    );
    let set = sealpost(&[
        "return-path",
        "set",
        "--tenant",
        "acme",
        "client.test",
        "bounces.client.test",
    ]);
    let text = String::from_utf8(set.stdout).unwrap();
    assert!(text.contains("not verified"), "{text}");
    assert!(
        text.contains("bounces.client.test\tMX\t10 inbound.platform.test."),
        "{text}"
    );
    assert!(
        text.contains("bounces.client.test\tTXT\tv=spf1 include:spf.platform.test -all"),
        "{text}"
    );
    let checked = ok_json(sealpost(&[
        "return-path",
        "check",
        "--tenant",
        "acme",
        "client.test",
        "--json",
    ]));
    assert_eq!(checked["verified"], false);
    assert_eq!(checked["records"][0]["found"], false);
    assert!(
        sealpost(&["return-path", "remove", "--tenant", "acme", "client.test"])
            .status
            .success()
    );
    fails_with(
        sealpost(&["return-path", "show", "--tenant", "acme", "client.test"]),
        "return path not found",
    );
}
