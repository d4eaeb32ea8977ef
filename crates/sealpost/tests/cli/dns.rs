//! DNS-using commands against a real DNS server: `dkim sign` and `dkim verify`, `spf check`,
//! `platform spf-record` and `dns check`.

use std::io::Write as _;
use std::process::Stdio;

use serde_json::Value;

use crate::support::*;

/// `sealpost dkim sign` and `dkim verify` against a real DNS server serving the fixture key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_sign_and_verify_files() {
    let value = fixture_dkim_value();
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new().txt_split("workplace._domainkey.client.test", &value),
    )
    .await
    .unwrap();
    let nameserver = dns.addr().to_string();
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    std::fs::write(
        here.join("message.eml"),
        "From: a@client.test\nTo: b@receiver.test\nSubject: Work order\n\nFixed.\n",
    )
    .unwrap();

    let key = fixture("rsa2048-pkcs8.pem");
    let sign = [
        "dkim",
        "sign",
        "--key",
        &key,
        "--domain",
        "client.test",
        "--selector",
        "workplace",
        "--timestamp",
        "1700000000",
        "message.eml",
    ];
    let signed = run(here, &[], &sign);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let text = String::from_utf8(signed.stdout.clone()).unwrap();
    assert!(
        text.starts_with(
            "DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple; t=1700000000;"
        ),
        "{text}"
    );
    assert!(
        text.contains("\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"),
        "{text}"
    );
    std::fs::write(here.join("signed.eml"), &signed.stdout).unwrap();

    let verified = run(
        here,
        &[],
        &["dkim", "verify", "--nameserver", &nameserver, "signed.eml"],
    );
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("DKIM: pass"));
    let report = ok_json(run(
        here,
        &[],
        &[
            "dkim",
            "verify",
            "--json",
            "--nameserver",
            &nameserver,
            "signed.eml",
        ],
    ));
    assert_eq!(report["result"], "pass");
    assert_eq!(report["signatures"][0]["d"], "client.test");
    assert_eq!(report["signatures"][0]["s"], "workplace");
    assert_eq!(report["signatures"][0]["a"], "rsa-sha256");
    assert_eq!(report["signatures"][0]["cause"], "verified");

    // A tampered message on standard input: exit 1 with the cause.
    let tampered = text.replace("Fixed.", "Broken.");
    let mut child = command(here, &[])
        .args(["dkim", "verify", "--json", "--nameserver", &nameserver, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(tampered.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["result"], "fail");
    assert_eq!(report["signatures"][0]["cause"], "body_modified");

    // No signature at all is not a pass.
    let unsigned = run(
        here,
        &[],
        &[
            "dkim",
            "verify",
            "--json",
            "--nameserver",
            &nameserver,
            "message.eml",
        ],
    );
    assert_eq!(unsigned.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&unsigned.stdout).unwrap();
    assert_eq!(report["result"], "none");

    // Input errors exit 2.
    let missing = run(
        here,
        &[],
        &["dkim", "verify", "--nameserver", &nameserver, "absent.eml"],
    );
    assert_eq!(missing.status.code(), Some(2));
    fails_with(missing, "cannot read absent.eml");
    std::fs::write(here.join("garbage.eml"), " not a header\n").unwrap();
    let garbage = run(
        here,
        &[],
        &["dkim", "verify", "--nameserver", &nameserver, "garbage.eml"],
    );
    assert_eq!(garbage.status.code(), Some(2));
    fails_with(garbage, "line 1");
    std::fs::write(here.join("no-from.eml"), "Subject: x\n\nbody\n").unwrap();
    let no_from = run(
        here,
        &[],
        &sign.map(|argument| {
            if argument == "message.eml" {
                "no-from.eml"
            } else {
                argument
            }
        }),
    );
    assert_eq!(no_from.status.code(), Some(2));
    fails_with(no_from, "no From header");
    let usage = run(
        here,
        &[],
        &["dkim", "verify", "--nameserver", "not-an-address"],
    );
    assert_eq!(usage.status.code(), Some(2));

    // An encrypted key needs its password from the environment.
    let encrypted = fixture("rsa2048-pkcs8-pbkdf2-aes256.pem");
    let with_password = [
        "dkim",
        "sign",
        "--key",
        &encrypted,
        "--password-env",
        "KEY_PASSWORD",
        "--domain",
        "client.test",
        "--selector",
        "workplace",
        "message.eml",
    ];
    let right = run(here, &[("KEY_PASSWORD", "fixture-pass")], &with_password);
    assert!(
        right.status.success(),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    std::fs::write(here.join("signed2.eml"), &right.stdout).unwrap();
    let verified = run(
        here,
        &[],
        &["dkim", "verify", "--nameserver", &nameserver, "signed2.eml"],
    );
    assert_eq!(verified.status.code(), Some(0));
    let wrong = run(here, &[("KEY_PASSWORD", "wrong")], &with_password);
    assert_eq!(wrong.status.code(), Some(2));
    fails_with(wrong, "password");
}

/// `sealpost platform spf-record` from the configuration, and `sealpost spf check` against a real
/// DNS server that publishes that record and a tenant domain including it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spf_check_and_the_platform_record() {
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    std::fs::write(
        here.join("sealpost.toml"),
        "[platform]\ndomain = \"platform.test\"\n\
         sending_ips = [\"192.0.2.0/24\", \"2001:db8::/32\", \"198.51.100.7\"]\n",
    )
    .unwrap();
    let record = ok_json(run(here, &[], &["platform", "spf-record", "--json"]));
    assert_eq!(
        record,
        serde_json::json!({
            "name": "_spf.platform.test",
            "type": "TXT",
            "value": "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip4:198.51.100.7 -all",
        })
    );
    let text = run(here, &[], &["platform", "spf-record"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains(
        "Name:  _spf.platform.test\nType:  TXT\n\
             Value: v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip4:198.51.100.7 -all"
    ));

    let zone = sealpost_testdns::Zone::new()
        .txt("_spf.platform.test", &[record["value"].as_str().unwrap()])
        .txt(
            "client.test",
            &["v=spf1 include:_spf.platform.test -all exp=why.client.test"],
        )
        .txt("why.client.test", &["%{i} may not send mail for %{d}"])
        .txt("mx.client.test", &["v=spf1 a -all"])
        .a("mx.client.test", std::net::Ipv4Addr::new(203, 0, 113, 10))
        .servfail("broken.test");
    let dns = sealpost_testdns::TestDns::start(zone).await.unwrap();
    let nameserver = dns.addr().to_string();
    let check = |ip: &str, sender: &str, helo: &str, json: bool| {
        let mut arguments = vec![
            "spf",
            "check",
            "--ip",
            ip,
            "--sender",
            sender,
            "--helo",
            helo,
            "--nameserver",
            &nameserver,
        ];
        if json {
            arguments.push("--json");
        }
        run(here, &[], &arguments)
    };

    let report = ok_json(check(
        "2001:db8::25",
        "news@client.test",
        "mx.client.test",
        true,
    ));
    assert_eq!(report["result"], "pass");
    assert_eq!(report["domain"], "client.test");
    assert_eq!(
        (report["lookups"].as_u64(), report["void_lookups"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(report.get("explanation").is_none());
    let trace = report["trace"].as_array().unwrap();
    let steps: Vec<(u64, &str, &str)> = trace
        .iter()
        .map(|step| {
            (
                step["depth"].as_u64().unwrap(),
                step["term"].as_str().unwrap(),
                step["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                0,
                "v=spf1 include:_spf.platform.test -all exp=why.client.test",
                "found"
            ),
            (0, "include:_spf.platform.test", "match"),
            (
                1,
                "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip4:198.51.100.7 -all",
                "found"
            ),
            (1, "ip4:192.0.2.0/24", "no_match"),
            (1, "ip6:2001:db8::/32", "match"),
        ]
    );
    assert_eq!(trace[1]["counts_lookup"], true);
    assert_eq!(trace[0]["queries"][0]["type"], "TXT");
    assert_eq!(trace[0]["queries"][0]["answer"], "records");

    // A fail is a result, not an error: exit 0, with the domain's explanation.
    let failed = check("203.0.113.99", "news@client.test", "mx.client.test", true);
    assert_eq!(failed.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(report["result"], "fail");
    assert_eq!(
        report["explanation"],
        "203.0.113.99 may not send mail for client.test"
    );

    let text = check("203.0.113.99", "news@client.test", "mx.client.test", false);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.starts_with("SPF: fail (-all in the SPF record of client.test matched)\n"),
        "{text}"
    );
    assert!(
        text.contains("  include:_spf.platform.test [lookup 1]: no match\n"),
        "{text}"
    );
    assert!(
        text.contains("Explanation: 203.0.113.99 may not send mail for client.test"),
        "{text}"
    );

    // A bounce checks the HELO identity.
    let report = ok_json(check("203.0.113.10", "", "mx.client.test", true));
    assert_eq!(report["result"], "pass");
    assert_eq!(report["sender"], "postmaster@mx.client.test");

    // DNS failures are temperror, and still exit 0.
    let report = ok_json(check("192.0.2.1", "a@broken.test", "mx.client.test", true));
    assert_eq!(report["result"], "temperror");
    assert_eq!(report["trace"][0]["queries"][0]["answer"], "temporary");

    // A sender without a local part is checked as postmaster (RFC 7208 4.3); anything else that
    // is not an address is refused before any lookup.
    for sender in ["client.test", "@client.test", "<@client.test>"] {
        let report = ok_json(check("203.0.113.10", sender, "mx.client.test", true));
        assert_eq!(report["sender"], "postmaster@client.test", "{sender}");
    }
    for (sender, words) in [
        ("not an address", "the domain is not valid"),
        ("@", "it has no domain"),
        (
            "a b@client.test",
            "\"a b@client.test\" has an invalid local part",
        ),
        (
            "a@",
            "the domain of \"a@\" is not valid: the domain is empty",
        ),
    ] {
        let refused = check("203.0.113.10", sender, "mx.client.test", false);
        assert_eq!(refused.status.code(), Some(2), "{sender}");
        fails_with(
            refused,
            &format!("--sender {sender:?} is not a sender: {words}"),
        );
    }

    // Usage errors exit 2.
    let bad_ip = check("not-an-ip", "a@client.test", "mx.client.test", true);
    assert_eq!(bad_ip.status.code(), Some(2));
    let no_helo = run(here, &[], &["spf", "check", "--ip", "192.0.2.1"]);
    assert_eq!(no_helo.status.code(), Some(2));
    std::fs::write(
        here.join("sealpost.toml"),
        "[platform]\ndomain = \"platform.test\"\n",
    )
    .unwrap();
    let empty = run(here, &[], &["platform", "spf-record"]);
    assert_eq!(empty.status.code(), Some(2));
    fails_with(empty, "platform.sending_ips is empty");
}

/// `sealpost dns check` against a real DNS server: a domain that published everything (its DKIM
/// record compared with the tenant's stored key), one that did not, and bad input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_check_reports_every_record_with_its_fix() {
    let value = fixture_dkim_value();
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new()
            .txt("_spf.platform.test", &["v=spf1 ip4:192.0.2.0/24 -all"])
            .txt("client.test", &["v=spf1 include:_spf.platform.test -all"])
            .mx("client.test", 10, "mx.client.test")
            .txt_split("workplace._domainkey.client.test", &value)
            .txt("_dmarc.client.test", &["v=DMARC1; p=reject"])
            .txt("broken.test", &["v=spf1 a -all"])
            .a("broken.test", std::net::Ipv4Addr::new(198, 51, 100, 1)),
    )
    .await
    .unwrap();
    let nameserver = dns.addr().to_string();
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    std::fs::write(
        here.join("sealpost.toml"),
        "master_key_file = \"master.key\"\n[platform]\ndomain = \"platform.test\"\n\
         sending_ips = [\"192.0.2.0/24\"]\n",
    )
    .unwrap();
    let sealpost = |arguments: &[&str]| run(here, &[], arguments);
    ok_json(sealpost(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    ok_json(sealpost(&["tenant", "create", "acme", "--json"]));
    ok_json(sealpost(&[
        "domain",
        "add",
        "--tenant",
        "acme",
        "client.test",
        "--selector",
        "workplace",
        "--json",
    ]));
    let key = fixture("rsa2048-pkcs8.pem");
    ok_json(sealpost(&[
        "domain",
        "import-key",
        "--tenant",
        "acme",
        "client.test",
        "--file",
        &key,
        "--json",
    ]));

    let healthy = sealpost(&[
        "dns",
        "check",
        "client.test",
        "--tenant",
        "acme",
        "--nameserver",
        &nameserver,
        "--json",
    ]);
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&healthy.stdout)
    );
    let report: Value = serde_json::from_slice(&healthy.stdout).unwrap();
    assert_eq!(report["status"], "ok", "{report:#}");
    let dkim = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|section| section["check"] == "dkim")
        .unwrap();
    assert_eq!(dkim["findings"][0]["code"], "dkim.record");

    let broken = sealpost(&[
        "dns",
        "check",
        "broken.test",
        "--selector",
        "workplace",
        "--nameserver",
        &nameserver,
    ]);
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(
        text.starts_with("DNS check of broken.test: error"),
        "{text}"
    );
    assert!(text.contains("spf.include_missing"), "{text}");
    assert!(
        text.contains("publish: broken.test TXT v=spf1 a include:_spf.platform.test -all"),
        "{text}"
    );
    assert!(text.contains("dkim.record_missing"), "{text}");

    let invalid = sealpost(&["dns", "check", "not a domain", "--nameserver", &nameserver]);
    assert_eq!(invalid.status.code(), Some(2));
    fails_with(invalid, "not a valid domain name");
}

/// `sealpost check-message`: the mail tester's pre-flight on a file, against a real DNS server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_message_scores_a_file_before_it_is_sent() {
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new()
            .txt_split("workplace._domainkey.client.test", &fixture_dkim_value())
            .txt("client.test", &["v=spf1 ip4:127.0.0.1 -all"])
            .txt("_dmarc.client.test", &["v=DMARC1; p=reject"])
            .ptr("1.0.0.127.in-addr.arpa", "mta.client.test")
            .a("mta.client.test", std::net::Ipv4Addr::LOCALHOST),
    )
    .await
    .unwrap();
    let nameserver = dns.addr().to_string();
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path().to_owned();
    tokio::task::spawn_blocking(move || {
        std::fs::write(
            here.join("message.eml"),
            "From: Facilities <facilities@client.test>\nTo: someone@receiver.test\n\
             Subject: Work order 4711\n\nThe boiler is fixed.\n",
        )
        .unwrap();
        let key = fixture("rsa2048-pkcs8.pem");
        let signed = run(
            &here,
            &[],
            &[
                "dkim",
                "sign",
                "--key",
                &key,
                "--domain",
                "client.test",
                "--selector",
                "workplace",
                "message.eml",
            ],
        );
        assert!(signed.status.success());
        std::fs::write(here.join("signed.eml"), &signed.stdout).unwrap();
        let check = |file: &str| {
            ok_json(run(
                &here,
                &[],
                &[
                    "check-message",
                    file,
                    "--ip",
                    "127.0.0.1",
                    "--helo",
                    "mta.client.test",
                    "--mail-from",
                    "bounce@client.test",
                    "--nameserver",
                    &nameserver,
                    "--json",
                ],
            ))
        };
        let good = check("signed.eml");
        assert!(good["score"].as_f64().unwrap() >= 9.0, "{good:#}");
        assert!(
            good["problems"]
                .as_array()
                .unwrap()
                .iter()
                .all(|problem| problem["severity"] != "error"),
            "{good:#}"
        );
        let unsigned = check("message.eml");
        let codes: Vec<&str> = unsigned["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|problem| problem["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"dkim_none"), "{unsigned:#}");
        assert!(unsigned["score"].as_f64() < good["score"].as_f64());
        let bad_ip = run(
            &here,
            &[],
            &[
                "check-message",
                "signed.eml",
                "--ip",
                "not-an-ip",
                "--helo",
                "x",
                "--mail-from",
                "a@b.test",
            ],
        );
        assert_eq!(bad_ip.status.code(), Some(2));
    })
    .await
    .unwrap();
}
