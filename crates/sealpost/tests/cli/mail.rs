//! Mail through the real server: SMTP submission, and the tenant's own mail server commands.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::Stdio;

use crate::support::*;

/// Reads SMTP reply lines until the last line of a reply (`NNN ` rather than `NNN-`).
fn smtp_reply(reader: &mut BufReader<std::net::TcpStream>) -> String {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        reply.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return reply;
        }
    }
}

fn smtp(
    stream: &mut std::net::TcpStream,
    reader: &mut BufReader<std::net::TcpStream>,
    line: &str,
) -> String {
    stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    smtp_reply(reader)
}

/// SMTP submission through the real server: AUTH with the tenant's name and API key, no relay
/// without AUTH, and a message acknowledged with 250 survives `kill -9` right after.
#[test]
fn smtp_submission_is_durable_before_250() {
    use base64::Engine as _;
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    // Delivery stays off: this test is about acceptance, and the recipient's domain is not
    // served by any DNS server the test runs.
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_SMTP__ALLOW_PLAIN_AUTH_ON_LOOPBACK", "true"),
        ("SEALPOST_DELIVERY__ENABLED", "false"),
    ];
    ok_json(run(
        here,
        &environment,
        &["master-key", "generate", "--out", "master.key", "--json"],
    ));
    ok_json(run(
        here,
        &environment,
        &["tenant", "create", "acme", "--json"],
    ));
    let key = ok_json(run(
        here,
        &environment,
        &["tenant", "api-key", "acme", "--label", "smtp", "--json"],
    ));
    let token = key["token"].as_str().unwrap().to_owned();
    // The tenant proves client.test with its verification record in a DNS server of the test.
    let added = ok_json(run(
        here,
        &environment,
        &[
            "sending-domain",
            "add",
            "--tenant",
            "acme",
            "client.test",
            "--json",
        ],
    ));
    let record = &added["verification_record"];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dns = runtime
        .block_on(sealpost_testdns::TestDns::start(
            sealpost_testdns::Zone::new().txt(
                record["name"].as_str().unwrap(),
                &[record["value"].as_str().unwrap()],
            ),
        ))
        .unwrap();
    let nameserver = dns.addr().to_string();
    let environment = [
        environment[0],
        environment[1],
        environment[2],
        ("SEALPOST_NAMESERVER", nameserver.as_str()),
    ];
    ok_json(run(
        here,
        &environment,
        &[
            "sending-domain",
            "verify",
            "--tenant",
            "acme",
            "client.test",
            "--json",
        ],
    ));

    let mut child = command(here, &environment)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--smtp-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let smtp_address = line
        .trim()
        .strip_prefix("sealpost smtp submission on ")
        .unwrap()
        .to_owned();

    let connect = || {
        let stream = std::net::TcpStream::connect(&smtp_address).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        assert!(smtp_reply(&mut reader).starts_with("220 "));
        (stream, reader)
    };
    let (mut stream, mut reader) = connect();
    assert!(smtp(&mut stream, &mut reader, "EHLO app.test").contains("AUTH PLAIN LOGIN"));
    // No open relay: nothing is accepted without AUTH.
    assert!(smtp(&mut stream, &mut reader, "MAIL FROM:<a@client.test>").starts_with("530 "));
    let wrong = base64::engine::general_purpose::STANDARD.encode(b"\0acme\0sp_wrong");
    assert!(smtp(&mut stream, &mut reader, &format!("AUTH PLAIN {wrong}")).starts_with("535 "));
    let other_name = base64::engine::general_purpose::STANDARD.encode(format!("\0other\0{token}"));
    assert!(
        smtp(
            &mut stream,
            &mut reader,
            &format!("AUTH PLAIN {other_name}")
        )
        .starts_with("535 ")
    );

    let (mut stream, mut reader) = connect();
    smtp(&mut stream, &mut reader, "EHLO app.test");
    let right = base64::engine::general_purpose::STANDARD.encode(format!("\0acme\0{token}"));
    assert!(smtp(&mut stream, &mut reader, &format!("AUTH PLAIN {right}")).starts_with("235 "));
    assert!(smtp(&mut stream, &mut reader, "MAIL FROM:<bounce@client.test>").starts_with("250 "));
    assert!(smtp(&mut stream, &mut reader, "RCPT TO:<someone@receiver.test>").starts_with("250 "));
    // A message without a From header is refused for good, and nothing is stored.
    assert!(smtp(&mut stream, &mut reader, "DATA").starts_with("354 "));
    let refused = smtp(
        &mut stream,
        &mut reader,
        "Subject: no author\r\n\r\nbody\r\n.",
    );
    assert!(
        refused.starts_with("550 5.6.0 message: the message has no From header"),
        "{refused}"
    );

    // A domain the tenant has not proven is refused for good, naming the record to publish.
    smtp(&mut stream, &mut reader, "MAIL FROM:<bounce@other.test>");
    smtp(&mut stream, &mut reader, "RCPT TO:<someone@receiver.test>");
    smtp(&mut stream, &mut reader, "DATA");
    let refused = smtp(
        &mut stream,
        &mut reader,
        "From: a@other.test\r\nSubject: spoof\r\n\r\nbody\r\n.",
    );
    assert!(
        refused.starts_with("550 5.7.1 the From domain other.test has not been proven"),
        "{refused}"
    );

    smtp(&mut stream, &mut reader, "MAIL FROM:<bounce@client.test>");
    smtp(&mut stream, &mut reader, "RCPT TO:<someone@receiver.test>");
    smtp(&mut stream, &mut reader, "DATA");
    let accepted = smtp(
        &mut stream,
        &mut reader,
        "From: a@client.test\r\nSubject: Work order\r\n\r\n..a line with a dot\r\n.",
    );
    assert!(
        accepted.starts_with("250 2.0.0 Ok: queued as "),
        "{accepted}"
    );
    let id = accepted.trim().rsplit(' ').next().unwrap().to_owned();

    // The key revoked by another process while the session is open: the node still knows the
    // key at MAIL, and the message's own read refuses it and ends the login; AUTH then fails.
    ok_json(run(
        here,
        &environment,
        &[
            "tenant",
            "revoke-api-key",
            "acme",
            key["id"].as_str().unwrap(),
            "--json",
        ],
    ));
    assert!(smtp(&mut stream, &mut reader, "MAIL FROM:<bounce@client.test>").starts_with("250 "));
    assert!(smtp(&mut stream, &mut reader, "RCPT TO:<someone@receiver.test>").starts_with("250 "));
    assert!(smtp(&mut stream, &mut reader, "DATA").starts_with("354 "));
    let revoked = smtp(
        &mut stream,
        &mut reader,
        "From: a@client.test\r\nSubject: After revocation\r\n\r\nbody\r\n.",
    );
    assert!(
        revoked.starts_with("530 5.7.0 Authentication no longer valid"),
        "{revoked}"
    );
    assert!(smtp(&mut stream, &mut reader, "MAIL FROM:<bounce@client.test>").starts_with("530 "));
    assert!(smtp(&mut stream, &mut reader, &format!("AUTH PLAIN {right}")).starts_with("535 "));

    // Killed at once: the acknowledged message is already durable.
    child.kill().unwrap();
    child.wait().unwrap();

    let shown = ok_json(run(
        here,
        &environment,
        &["queue", "show", "--tenant", "acme", &id, "--json"],
    ));
    assert_eq!(shown["source"], "smtp");
    assert_eq!(shown["recipients"][0]["address"], "someone@receiver.test");
    assert_eq!(shown["recipients"][0]["state"], "queued");
    assert_eq!(shown["held"], serde_json::Value::Null);
    // Paused (as the reputation guard pauses), the queued message says it is held, and why.
    let url = format!("sqlite://{}", here.join("data/sealpost.db").display());
    let reason = "bounce rate 12.50 % over the last 7 days is above 10.00 % (25 of 200 delivered)";
    runtime.block_on(async {
        let store = sealpost_store::Store::connect(&url).await.unwrap();
        let name = sealpost_domain::TenantName::parse("acme").unwrap();
        let tenant = store.tenant_by_name(&name).await.unwrap().id;
        let at = sealpost_domain::Timestamp(1_800_000_000);
        assert!(store.pause_sending(tenant, at, reason).await.unwrap());
    });
    let show = ["queue", "show", "--tenant", "acme", &id];
    let held = ok_json(run(here, &environment, &[&show[..], &["--json"]].concat()));
    assert_eq!(held["held"]["since"], 1_800_000_000, "{held}");
    assert_eq!(held["held"]["reason"], reason, "{held}");
    let text = String::from_utf8(run(here, &environment, &show).stdout).unwrap();
    assert!(
        text.contains(&format!(
            "held: the tenant's sending is paused since 2027-01-15T08:00:00Z: the {reason}; its \
             waiting recipients go out when an operator resumes it (sealpost tenant resume), and \
             expire later by as long as they were held"
        )),
        "{text}"
    );
    let listed = ok_json(run(
        here,
        &environment,
        &["queue", "list", "--tenant", "acme", "--json"],
    ));
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the refused messages were not stored"
    );
    let cancelled = ok_json(run(
        here,
        &environment,
        &["queue", "cancel", "--tenant", "acme", &id, "--json"],
    ));
    assert_eq!(cancelled["changed"], 1);
}

/// `sealpost delivery`: switch a tenant to its own mail server and test the connection against a
/// loopback server that offers AUTH; the password never shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_commands_set_and_test_the_tenants_own_server() {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    const PASSWORD: &str = "own-server-secret";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read).lines();
        write
            .write_all(b"220 relay.client.test ESMTP\r\n")
            .await
            .unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            let reply: &[u8] = match line.get(..4).unwrap_or("").to_ascii_uppercase().as_str() {
                "EHLO" => b"250-relay.client.test\r\n250 AUTH PLAIN\r\n",
                "AUTH" => b"235 2.7.0 Authentication successful\r\n",
                "QUIT" => b"221 2.0.0 Bye\r\n",
                _ => b"502 5.5.1 no\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let environment = [
            ("SEALPOST_MASTER_KEY_FILE", "master.key"),
            ("RELAY_PASSWORD", PASSWORD),
        ];
        let sealpost = |arguments: &[&str]| run(&here, &environment, arguments);
        ok_json(sealpost(&[
            "master-key",
            "generate",
            "--out",
            "master.key",
            "--json",
        ]));
        ok_json(sealpost(&["tenant", "create", "acme", "--json"]));
        let shown = ok_json(sealpost(&[
            "delivery", "show", "--tenant", "acme", "--json",
        ]));
        assert_eq!(shown["mode"], "native");
        let relay = [
            "delivery",
            "set-relay",
            "--tenant",
            "acme",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--username",
            "facilities",
            "--tls-mode",
            "none",
        ];
        fails_with(sealpost(&relay), "password");
        let mut with_password = relay.to_vec();
        with_password.extend(["--password-env", "RELAY_PASSWORD", "--json"]);
        let set = sealpost(&with_password);
        let set_text = String::from_utf8_lossy(&set.stdout).into_owned();
        let set = ok_json(set);
        assert_eq!(
            (set["mode"].as_str(), set["password_set"].as_bool()),
            (Some("relay"), Some(true))
        );
        assert!(!set_text.contains(PASSWORD));
        let test = sealpost(&["delivery", "test", "--tenant", "acme", "--json"]);
        assert_eq!(
            test.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&test.stdout)
        );
        let text = String::from_utf8_lossy(&test.stdout).into_owned();
        assert!(text.contains("AUTH PLAIN ***"), "{text}");
        assert!(!text.contains(PASSWORD));
        let native = ok_json(sealpost(&[
            "delivery",
            "set-native",
            "--tenant",
            "acme",
            "--json",
        ]));
        assert_eq!(native["mode"], "native");
    })
    .await
    .unwrap();
}
