//! `sealpost troubleshoot` against the running demo: the support path of SPEC S5 in one
//! command, the test mailing delivered by the demo node and its report awaited.

use serde_json::Value;

use crate::support::Demo;

#[test]
fn the_demo_sender_passes_every_step_and_its_test_mailing_arrives() {
    let demo = Demo::start(&[]);
    let output = demo.cli(&[
        "troubleshoot",
        "hello@client.example",
        "--tenant",
        "demo",
        "--nameserver",
        &demo.dns,
        "--send-test",
        "--wait",
        "60",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["sender_domain"], "client.example");
    assert_eq!(result["from_domain"]["status"], "active");
    assert_eq!(result["mail_from_domain_standing"]["status"], "active");
    assert_eq!(result["signed"], true);
    let sections = result["dns"]["sections"].as_array().unwrap();
    for check in ["spf", "dkim", "dmarc"] {
        let section = sections
            .iter()
            .find(|section| section["check"] == check)
            .unwrap();
        assert_ne!(section["status"], "error", "{section}");
    }
    let report = &result["test_mailing"]["report"]["report"];
    assert_eq!(report["score"], 10.0, "{report}");
}

#[test]
fn a_foreign_sender_is_named_as_the_problem() {
    let demo = Demo::start(&[]);
    let output = demo.cli(&[
        "troubleshoot",
        "someone@elsewhere.example",
        "--tenant",
        "demo",
        "--nameserver",
        &demo.dns,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("2. From domain elsewhere.example: not a signing domain of this tenant"),
        "{stdout}"
    );
    assert!(
        stdout.contains("UNSIGNED: the From domain elsewhere.example"),
        "{stdout}"
    );
    assert!(stdout.contains("4. Test mailing: not sent"), "{stdout}");

    let output = demo.cli(&["troubleshoot", "not an address", "--tenant", "demo"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
