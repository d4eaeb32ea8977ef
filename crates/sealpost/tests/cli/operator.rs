//! Operator commands: `dkim keygen`, the master key rules, tenant and domain commands with
//! `--json` on both backends, deleting a tenant, and an unreachable PostgreSQL.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

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

fn operator_flow(directory: &Path, database_url: &str, nameserver: &str) {
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", database_url),
        ("SEALPOST_NAMESERVER", nameserver),
        ("KEY_PASSWORD", "fixture-pass"),
        ("UI_PASSWORD", "a long enough password"),
        ("SHORT_PASSWORD", "short"),
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

    let admin = ok_json(sealpost(&[
        "user",
        "add",
        "--email",
        "Ann@Acme.example",
        "--tenant",
        "acme",
        "--password-env",
        "UI_PASSWORD",
        "--json",
    ]));
    assert_eq!(admin["email"], "ann@acme.example");
    assert_eq!(admin["role"], "tenant_admin");
    assert_eq!(admin["tenant"], "acme");
    let operator = ok_json(sealpost(&[
        "user",
        "add",
        "--email",
        "ops@platform.example",
        "--operator",
        "--password-env",
        "UI_PASSWORD",
        "--json",
    ]));
    assert_eq!(operator["role"], "operator");
    fails_with(
        sealpost(&[
            "user",
            "add",
            "--email",
            "ann@acme.example",
            "--operator",
            "--password-env",
            "UI_PASSWORD",
        ]),
        "already exists",
    );
    fails_with(
        sealpost(&[
            "user",
            "add",
            "--email",
            "bob@acme.example",
            "--tenant",
            "acme",
            "--password-env",
            "SHORT_PASSWORD",
        ]),
        "at least 12 characters",
    );
    ok_json(sealpost(&[
        "user",
        "set-password",
        "--email",
        "ann@acme.example",
        "--password-env",
        "UI_PASSWORD",
        "--json",
    ]));
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

    // The test DNS carries the fixture key's record, which proves the domain at activation.
    let mut activate = vec!["domain", "activate", "--json"];
    activate.extend(target);
    assert_eq!(ok_json(sealpost(&activate))["active"], true);
    let proven = ok_json(sealpost(&[
        "sending-domain",
        "list",
        "--tenant",
        "acme",
        "--json",
    ]));
    assert_eq!(proven[0]["domain"], "xn--bcher-kva.example");
    assert_eq!(proven[0]["proof"], "dkim_record");
    // A domain whose records are not published stays unproven: exit 1 with what DNS showed.
    let pending = ok_json(sealpost(&[
        "sending-domain",
        "add",
        "--tenant",
        "acme",
        "other.example",
        "--json",
    ]));
    assert_eq!(
        pending["verification_record"]["name"],
        "_sealpost.other.example"
    );
    let unproven = sealpost(&[
        "sending-domain",
        "verify",
        "--tenant",
        "acme",
        "other.example",
    ]);
    assert_eq!(unproven.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unproven.stderr)
            .contains("no TXT record at _sealpost.other.example"),
        "{}",
        String::from_utf8_lossy(&unproven.stderr)
    );
    let mut record = vec!["domain", "dns-record", "--json"];
    record.extend(target);
    let record = ok_json(sealpost(&record));
    assert_eq!(record["name"], "workplace._domainkey.xn--bcher-kva.example");
    let mut generate = vec!["domain", "generate-key", "--json"];
    generate.extend(target);
    let generated = ok_json(sealpost(&generate));
    // The new key waits for its record under a selector of its own; the imported key signs on.
    assert_eq!(generated["active"], true);
    assert_eq!(generated["key"]["origin"], "imported");
    assert_eq!(generated["keys"][1]["state"], "pending");
    assert_eq!(generated["keys"][1]["selector"], "workplace2");
    // Promotion waits for DNS, which does not carry the new key; forced, it is recorded.
    let mut promote = vec!["domain", "promote-key", "--key", "workplace2"];
    promote.extend(target);
    fails_with(
        sealpost(&promote),
        "workplace2._domainkey.xn--bcher-kva.example",
    );
    promote.extend(["--force", "--json"]);
    let promoted = ok_json(sealpost(&promote));
    assert_eq!(promoted["keys"][0]["state"], "retiring");
    assert_eq!(promoted["keys"][1]["state"], "active");
    let mut history = vec!["domain", "history", "--json"];
    history.extend(target);
    let events = ok_json(sealpost(&history));
    assert_eq!(events[0]["kind"], "key.active");
    assert_eq!(events[0]["warning"], true);
    // The re-check by hand: one tenant or all, with a summary; the missing record is named.
    fails_with(sealpost(&["dns", "recheck"]), "--all");
    fails_with(
        sealpost(&["dns", "recheck", "--tenant", "nobody"]),
        "tenant not found",
    );
    let summary = ok_json(sealpost(&["dns", "recheck", "--all", "--json"]));
    assert_eq!(
        (&summary["checked"], &summary["missing"]),
        (&Value::from(1), &Value::from(1))
    );
    // Beside DKIM: no DMARC record is published; SPF is not checked without the platform's
    // sending networks, nor is a return path the domain does not have.
    assert_eq!(
        (
            &summary["spf_problems"],
            &summary["dmarc_problems"],
            &summary["return_path_problems"]
        ),
        (&Value::from(0), &Value::from(1), &Value::from(0))
    );
    let text = sealpost(&["dns", "recheck", "--all"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "Beside DKIM: 0 with an SPF problem, 1 with a DMARC problem, 0 with a return-path \
             problem."
        ),
        "{text}"
    );
    let shown = ok_json(sealpost(&{
        let mut show = vec!["domain", "show", "--json"];
        show.extend(target);
        show
    }));
    assert!(
        shown["dns"]["last_summary"]
            .as_str()
            .unwrap()
            .contains("workplace2._domainkey.xn--bcher-kva.example"),
        "{shown}"
    );
    assert_eq!(
        ok_json(sealpost(&["dns", "recheck", "--tenant", "acme", "--json"]))["checked"],
        1
    );
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
    assert_eq!(ok_json(sealpost(&show))["key"]["id"], promoted["key"]["id"]);

    let mut delete = vec!["domain", "delete", "--json"];
    delete.extend(target);
    ok_json(sealpost(&delete));
    fails_with(sealpost(&show), "signing domain not found");
    key_rotation(&sealpost);
    delete_the_tenant(&sealpost);
}

/// `domain key-rotation`: off at first, a period outside 30 to 730 days refused with the range
/// and nothing stored, a period set, then off again.
fn key_rotation(sealpost: &dyn Fn(&[&str]) -> std::process::Output) {
    let show = ["domain", "key-rotation", "--tenant", "acme", "--json"];
    assert_eq!(ok_json(sealpost(&show))["every_days"], Value::Null);
    let set = |days: &str| {
        sealpost(&[
            "domain",
            "key-rotation",
            "--tenant",
            "acme",
            "--every-days",
            days,
            "--json",
        ])
    };
    assert_eq!(ok_json(set("180"))["every_days"], 180);
    fails_with(
        set("7"),
        "A rotation period of 7 days is not allowed: choose a whole number of days from 30 to 730",
    );
    assert_eq!(ok_json(sealpost(&show))["every_days"], 180);
    let human = sealpost(&["domain", "key-rotation", "--tenant", "acme"]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("every 180 days"),
        "{human:?}"
    );
    let off = [
        "domain",
        "key-rotation",
        "--tenant",
        "acme",
        "--off",
        "--json",
    ];
    assert_eq!(ok_json(sealpost(&off))["every_days"], Value::Null);
}

/// `tenant delete` refuses without `--yes`, saying what would go, then deletes the tenant with
/// its user: setting that user's password afterwards finds no such user.
fn delete_the_tenant(sealpost: &dyn Fn(&[&str]) -> std::process::Output) {
    let refused = sealpost(&["tenant", "delete", "acme"]);
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    fails_with(refused, "run again with --yes");
    assert!(
        said.contains("1 UI account") && !said.contains("UI accounts"),
        "{said}"
    );
    assert_eq!(
        ok_json(sealpost(&["tenant", "list", "--json"]))[0]["name"],
        "acme"
    );
    let deleted = ok_json(sealpost(&["tenant", "delete", "acme", "--yes", "--json"]));
    assert!(deleted["deleted"].is_string(), "{deleted}");
    assert_eq!(
        ok_json(sealpost(&["tenant", "list", "--json"])),
        serde_json::json!([])
    );
    fails_with(
        sealpost(&["tenant", "delete", "acme", "--yes"]),
        "tenant not found",
    );
    let set_password = [
        "user",
        "set-password",
        "--email",
        "ann@acme.example",
        "--password-env",
        "UI_PASSWORD",
    ];
    fails_with(sealpost(&set_password), "not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sealpost.db", directory.path().display());
    let dns = fixture_key_dns().await;
    let nameserver = dns.addr().to_string();
    let path = directory.path().to_owned();
    tokio::task::spawn_blocking(move || operator_flow(&path, &url, &nameserver))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_on_postgres() {
    let directory = tempfile::tempdir().unwrap();
    let url = sealpost_store::testing::fresh_postgres_url().await;
    let dns = fixture_key_dns().await;
    let nameserver = dns.addr().to_string();
    let path = directory.path().to_owned();
    tokio::task::spawn_blocking(move || operator_flow(&path, &url, &nameserver))
        .await
        .unwrap();
}

/// A DNS server with the fixture key's DKIM record at
/// `workplace._domainkey.xn--bcher-kva.example`, which proves that domain for the tenant that
/// imports the key.
async fn fixture_key_dns() -> sealpost_testdns::TestDns {
    sealpost_testdns::TestDns::start(sealpost_testdns::Zone::new().txt_split(
        "workplace._domainkey.xn--bcher-kva.example",
        &fixture_dkim_value(),
    ))
    .await
    .unwrap()
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
