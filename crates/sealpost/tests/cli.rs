//! The real binary, driven as an operator would: `dkim keygen`, the master key rules, tenant and
//! domain commands with `--json` on both backends, and `serve --demo` on a real socket.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_sealpost");

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vault/resources/keys")
        .join(name)
        .display()
        .to_string()
}

/// A command with no `SEALPOST_` settings inherited from the test's environment.
fn command(directory: &Path, environment: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(directory);
    for (name, _) in std::env::vars() {
        if name.starts_with("SEALPOST_") {
            command.env_remove(name);
        }
    }
    command.env("SEALPOST_LOG", "warn");
    for (name, value) in environment {
        command.env(name, value);
    }
    command
}

fn run(directory: &Path, environment: &[(&str, &str)], arguments: &[&str]) -> Output {
    command(directory, environment)
        .args(arguments)
        .output()
        .unwrap()
}

#[track_caller]
fn ok_json(output: Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[track_caller]
fn fails_with(output: Output, message: &str) {
    assert!(!output.status.success(), "unexpected success");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{stderr:?} lacks {message:?}");
}

#[test]
fn dkim_keygen_writes_a_key_file_that_openssl_reads() {
    let directory = tempfile::tempdir().unwrap();
    let arguments = [
        "dkim",
        "keygen",
        "--out",
        "k.pem",
        "--domain",
        "client.example",
        "--selector",
        "s1",
        "--json",
    ];
    let view = ok_json(run(directory.path(), &[], &arguments));
    let key_file = directory.path().join("k.pem");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(view["bits"], 2048);
    assert_eq!(view["name"], "s1._domainkey.client.example");

    let public = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            key_file.to_str().unwrap(),
            "-pubout",
            "-outform",
            "DER",
        ])
        .output()
        .unwrap();
    assert!(public.status.success());
    let value = view["value"].as_str().unwrap();
    let p = value.strip_prefix("v=DKIM1; k=rsa; p=").unwrap();
    let openssl_base64 = Command::new("openssl")
        .args(["base64", "-A"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(&public.stdout)?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&openssl_base64.stdout).trim(), p);

    let plain = run(
        directory.path(),
        &[],
        &["dkim", "keygen", "--out", "k2.pem"],
    );
    assert!(String::from_utf8_lossy(&plain.stdout).contains("<selector>._domainkey.<domain>"));
    fails_with(
        run(directory.path(), &[], &["dkim", "keygen", "--out", "k.pem"]),
        "must not exist",
    );
}

#[test]
fn serve_without_a_master_key_refuses_and_says_how_to_make_one() {
    let directory = tempfile::tempdir().unwrap();
    let output = run(directory.path(), &[], &["serve", "--listen", "127.0.0.1:0"]);
    fails_with(output, "sealpost master-key generate --out");
    assert!(
        !directory.path().join("data").exists(),
        "nothing was created"
    );
}

fn operator_flow(directory: &Path, database_url: &str) {
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", database_url),
        ("KEY_PASSWORD", "fixture-pass"),
    ];
    let sealpost = |arguments: &[&str]| run(directory, &environment, arguments);
    ok_json(sealpost(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    fails_with(
        sealpost(&["master-key", "generate", "--out", "master.key"]),
        "File exists",
    );

    let tenant = ok_json(sealpost(&[
        "tenant",
        "create",
        "acme",
        "--display-name",
        "Acme",
        "--json",
    ]));
    assert_eq!(tenant["display_name"], "Acme");
    fails_with(sealpost(&["tenant", "create", "acme"]), "already exists");
    fails_with(
        sealpost(&["tenant", "create", "Bad Name"]),
        "not a valid tenant name",
    );
    let key = ok_json(sealpost(&[
        "tenant", "api-key", "acme", "--label", "app", "--json",
    ]));
    assert!(key["token"].as_str().unwrap().starts_with("sp_"));
    let key_id = key["id"].as_str().unwrap();
    ok_json(sealpost(&[
        "tenant",
        "revoke-api-key",
        "acme",
        key_id,
        "--json",
    ]));
    fails_with(
        sealpost(&["tenant", "revoke-api-key", "acme", key_id]),
        "API key not found",
    );
    let keys = ok_json(sealpost(&["tenant", "api-keys", "acme", "--json"]));
    assert_eq!(keys, serde_json::json!([]));
    let listed = ok_json(sealpost(&["tenant", "list", "--json"]));
    assert_eq!(listed[0]["name"], "acme");

    let added = ok_json(sealpost(&[
        "domain",
        "add",
        "--tenant",
        "acme",
        "bücher.example",
        "--selector",
        "workplace",
        "--json",
    ]));
    assert_eq!(added["domain"], "xn--bcher-kva.example");
    fails_with(
        sealpost(&[
            "domain",
            "add",
            "--tenant",
            "acme",
            "bücher.example",
            "--selector",
            "workplace",
        ]),
        "already exists",
    );
    fails_with(
        sealpost(&[
            "domain",
            "add",
            "--tenant",
            "acme",
            "user@x.example",
            "--selector",
            "s",
        ]),
        "not an e-mail address",
    );
    fails_with(
        sealpost(&[
            "domain",
            "add",
            "--tenant",
            "nobody",
            "x.example",
            "--selector",
            "s",
        ]),
        "tenant not found",
    );
    fails_with(
        sealpost(&["domain", "activate", "--tenant", "acme", "bücher.example"]),
        "no key yet",
    );

    let target = ["--tenant", "acme", "xn--bcher-kva.example"];
    let import = |file: &str, password: bool| {
        let file = fixture(file);
        let mut arguments = vec!["domain", "import-key"];
        arguments.extend(target);
        arguments.extend(["--file", file.as_str(), "--json"]);
        if password {
            arguments.extend(["--password-env", "KEY_PASSWORD"]);
        }
        sealpost(&arguments)
    };
    fails_with(
        import("rsa4096-pkcs8.pem", false),
        "only 2048-bit keys are accepted",
    );
    fails_with(
        import("ec-pkcs8.pem", false),
        "DKIM signing keys must be RSA",
    );
    fails_with(import("rsa2048-pkcs1-des3.pem", false), "give the password");
    let imported = ok_json(import("rsa2048-pkcs1-des3.pem", true));
    assert_eq!(imported["key"]["origin"], "imported");
    let public = std::fs::read_to_string(fixture("rsa2048-public.pem")).unwrap();
    assert_eq!(imported["key"]["public_key_pem"], public.as_str());

    let mut activate = vec!["domain", "activate", "--json"];
    activate.extend(target);
    assert_eq!(ok_json(sealpost(&activate))["active"], true);
    let mut record = vec!["domain", "dns-record", "--json"];
    record.extend(target);
    let record = ok_json(sealpost(&record));
    assert_eq!(record["name"], "workplace._domainkey.xn--bcher-kva.example");
    let mut generate = vec!["domain", "generate-key", "--json"];
    generate.extend(target);
    let generated = ok_json(sealpost(&generate));
    assert_eq!(generated["key"]["origin"], "generated");
    assert_eq!(generated["active"], false);
    let mut deactivate = vec!["domain", "deactivate", "--json"];
    deactivate.extend(target);
    assert_eq!(ok_json(sealpost(&deactivate))["active"], false);
    let domains = ok_json(sealpost(&["domain", "list", "--tenant", "acme", "--json"]));
    assert_eq!(domains.as_array().unwrap().len(), 1);

    // Another master key is refused before anything is touched.
    let wrong = [
        (
            "SEALPOST_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
        ("SEALPOST_DATABASE_URL", database_url),
    ];
    fails_with(
        run(directory, &wrong, &["tenant", "list"]),
        "does not match",
    );
    fails_with(
        run(directory, &wrong, &["serve", "--listen", "127.0.0.1:0"]),
        "does not match",
    );
    let mut show = vec!["domain", "show", "--json"];
    show.extend(target);
    assert_eq!(ok_json(sealpost(&show))["key"], generated["key"]);

    let mut delete = vec!["domain", "delete", "--json"];
    delete.extend(target);
    ok_json(sealpost(&delete));
    fails_with(sealpost(&show), "signing domain not found");
}

#[test]
fn operator_commands_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sealpost.db", directory.path().display());
    operator_flow(directory.path(), &url);
}

#[tokio::test]
async fn operator_commands_on_postgres() {
    let directory = tempfile::tempdir().unwrap();
    let url = sealpost_store::testing::fresh_postgres_url().await;
    let path = directory.path().to_owned();
    tokio::task::spawn_blocking(move || operator_flow(&path, &url))
        .await
        .unwrap();
}

#[test]
fn demo_server_creates_its_master_key_and_serves_http() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = command(directory.path(), &[("SEALPOST_OPERATOR_TOKEN", "op-token")])
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("sealpost listening on http://")
        .unwrap()
        .to_owned();
    let key_file = directory.path().join("data/master.key");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let body = r#"{"name":"acme"}"#;
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer op-token\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    assert!(stderr.contains("DEMO MODE"), "{stderr}");
    assert!(
        !stderr.contains(
            &std::fs::read_to_string(&key_file)
                .unwrap()
                .trim()
                .to_owned()
        )
    );

    // The CLI finds the demo key and sees what the server stored.
    let listed = ok_json(run(directory.path(), &[], &["tenant", "list", "--json"]));
    assert_eq!(listed[0]["name"], "acme");
}

/// `sealpost dkim sign` and `dkim verify` against a real DNS server serving the fixture key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_sign_and_verify_files() {
    let public = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(fixture("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    let value = sealpost_domain::dkim_txt_value(&public.stdout);
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
    let public = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(fixture("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    let value = sealpost_domain::dkim_txt_value(&public.stdout);
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
    let listed = ok_json(run(
        here,
        &environment,
        &["queue", "list", "--tenant", "acme", "--json"],
    ));
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the refused message was not stored"
    );
    let cancelled = ok_json(run(
        here,
        &environment,
        &["queue", "cancel", "--tenant", "acme", &id, "--json"],
    ));
    assert_eq!(cancelled["changed"], 1);
}

/// `SEALPOST_LOG_FORMAT=json` makes every log line one JSON object.
#[test]
fn logs_can_be_json() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = command(
        directory.path(),
        &[
            ("SEALPOST_LOG_FORMAT", "json"),
            ("SEALPOST_LOG", "info"),
            ("SEALPOST_DELIVERY__ENABLED", "false"),
        ],
    )
    .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("sealpost listening on"));
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(
            parsed["level"].is_string() && parsed["fields"].is_object(),
            "{line}"
        );
    }
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

/// A PostgreSQL server that is not there is named at once, with its cause.
#[test]
fn an_unreachable_postgresql_is_reported_with_its_cause() {
    let directory = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/test");
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", url.as_str()),
    ];
    ok_json(run(
        directory.path(),
        &environment,
        &["master-key", "generate", "--out", "master.key", "--json"],
    ));
    let started = std::time::Instant::now();
    let output = run(
        directory.path(),
        &environment,
        &["serve", "--listen", "127.0.0.1:0"],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    fails_with(output, "PostgreSQL is not reachable");
}
