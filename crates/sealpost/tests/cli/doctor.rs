//! `sealpost doctor` against a platform served by a real DNS server on loopback (testdns), a real
//! SQLite database, certificate files made for the test and a loopback SMTP greeter as the
//! outbound probe's target: a healthy platform is green, a broken one (no PTR, a wrong SPF
//! include, an expired certificate, a closed port 25, another master key) is red with a fix for
//! each problem, and a DNS failure makes it "could not check".

use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use sealpost_testdns::{TestDns, Zone};
use serde_json::Value;

use crate::support::run;

const PLATFORM: &str = "mail.platform.test";
const INCLUDE: &str = "_spf.mail.platform.test";
const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const OTHER_KEY: &str = "0202020202020202020202020202020202020202020202020202020202020202";

/// A platform on loopback: its DNS, its database and its files.
struct Platform {
    directory: tempfile::TempDir,
    dns: TestDns,
    /// The outbound probe's target: greets with 220 and closes.
    greeter: TcpListener,
    dkim_record: (String, String),
}

impl Platform {
    async fn start() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let dns = TestDns::start(Zone::new()).await.unwrap();
        let greeter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut platform = Self {
            directory,
            dns,
            greeter,
            dkim_record: (String::new(), String::new()),
        };
        write_certificate(&platform.path("tls.pem"), 90);
        platform.write_config(platform.greeter.local_addr().unwrap().port());
        platform.dkim_record = platform.platform_signing_domain();
        platform.serve_greetings();
        platform
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    fn write_config(&self, probe_port: u16) {
        let config = format!(
            "data_dir = {data:?}\nnameserver = \"{dns}\"\n\n[platform]\ndomain = \"{PLATFORM}\"\n\
             sending_ips = [\"192.0.2.1\", \"192.0.2.2\"]\ndkim_tenant = \"ops\"\n\n\
             [smtp]\ntls_cert = {cert:?}\ntls_key = {cert:?}\n\n[delivery]\nremote_port = {probe_port}\n",
            data = self.path("data").display().to_string(),
            dns = self.dns.addr(),
            cert = self.path("tls.pem").display().to_string(),
        );
        std::fs::write(self.path("sealpost.toml"), config).unwrap();
    }

    /// The `ops` tenant signs the platform's own mail: its signing domain and key record.
    fn platform_signing_domain(&self) -> (String, String) {
        for arguments in [
            &["tenant", "create", "ops"][..],
            &[
                "domain",
                "add",
                "--tenant",
                "ops",
                PLATFORM,
                "--selector",
                "ops1",
            ],
            &["domain", "generate-key", "--tenant", "ops", PLATFORM],
        ] {
            let output = self.sealpost(MASTER_KEY, arguments);
            assert!(output.status.success(), "{arguments:?}: {output:?}");
        }
        let output = self.sealpost(
            MASTER_KEY,
            &[
                "domain",
                "dns-record",
                "--tenant",
                "ops",
                PLATFORM,
                "--json",
            ],
        );
        let record: Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            record["name"].as_str().unwrap().to_owned(),
            record["value"].as_str().unwrap().to_owned(),
        )
    }

    fn serve_greetings(&self) {
        let greeter = self.greeter.try_clone().unwrap();
        std::thread::spawn(move || {
            for stream in greeter.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.write_all(b"220 probe.test ESMTP\r\n");
            }
        });
    }

    /// Everything a healthy platform publishes.
    fn healthy_zone(&self) -> Zone {
        Zone::new()
            .ptr("1.2.0.192.in-addr.arpa", PLATFORM)
            .ptr("2.2.0.192.in-addr.arpa", PLATFORM)
            .a(PLATFORM, "192.0.2.1".parse().unwrap())
            .a(PLATFORM, "192.0.2.2".parse().unwrap())
            .txt(INCLUDE, &["v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all"])
            .txt_split(&self.dkim_record.0, &self.dkim_record.1)
            .mx("probe.test", 10, "mx.probe.test")
            .a("mx.probe.test", Ipv4Addr::LOCALHOST)
    }

    fn sealpost(&self, master_key: &str, arguments: &[&str]) -> std::process::Output {
        let config = self.path("sealpost.toml").display().to_string();
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(arguments);
        run(
            self.directory.path(),
            &[("SEALPOST_MASTER_KEY", master_key)],
            &all,
        )
    }

    /// `sealpost doctor --json` with the probe at `probe.test`: the exit code and the report.
    fn doctor(&self, master_key: &str, extra: &[&str]) -> (i32, Value) {
        let mut arguments = vec!["doctor", "--json", "--probe-domain", "probe.test"];
        arguments.extend_from_slice(extra);
        let output = self.sealpost(master_key, &arguments);
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!("{}", String::from_utf8_lossy(&output.stderr));
        });
        (output.status.code().unwrap(), report)
    }
}

/// A certificate for the platform, issued by a test authority and valid from 30 days ago for
/// `days_left` more days (negative: expired), written with its authority's as a chain.
fn write_certificate(path: &Path, days_left: i64) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut authority = CertificateParams::new(Vec::<String>::new()).unwrap();
    authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    authority
        .distinguished_name
        .push(DnType::CommonName, "Doctor Test Authority");
    let issuer = CertifiedIssuer::self_signed(authority, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec![PLATFORM.to_owned()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, PLATFORM);
    let now = time::OffsetDateTime::now_utc();
    leaf.not_before = now - time::Duration::days(30);
    leaf.not_after = now + time::Duration::days(days_left);
    let key = KeyPair::generate().unwrap();
    let certificate = leaf.signed_by(&key, &issuer).unwrap();
    let chain = format!(
        "{}{}{}",
        certificate.pem(),
        issuer.pem(),
        key.serialize_pem()
    );
    std::fs::write(path, chain).unwrap();
}

fn check<'a>(report: &'a Value, name: &str, subject: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["check"] == name && check["subject"] == subject)
        .unwrap_or_else(|| panic!("no {name} check of {subject} in {report:#}"))
}

#[track_caller]
fn assert_status(report: &Value, name: &str, subject: &str, status: &str, words: &str) {
    let found = check(report, name, subject);
    assert_eq!(found["status"], status, "{found:#}");
    let text = format!("{} {}", found["found"], found["fix"]);
    assert!(text.contains(words), "{words:?} not in {found:#}");
    assert_eq!(found["fix"].is_string(), status == "fail", "{found:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_platform_is_green() {
    let platform = Platform::start().await;
    platform.dns.replace(platform.healthy_zone()).unwrap();
    let (code, report) = platform.doctor(MASTER_KEY, &[]);
    assert_eq!(
        (code, report["verdict"].as_str()),
        (0, Some("green")),
        "{report:#}"
    );
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "pass", "{check:#}");
    }
    assert_status(&report, "reverse_dns", "192.0.2.2", "pass", "resolves back");
    assert_status(&report, "spf_include", INCLUDE, "pass", "ip4:192.0.2.2");
    assert_status(
        &report,
        "platform_dkim",
        &platform.dkim_record.0,
        "pass",
        "key",
    );
    assert_status(
        &report,
        "outbound_smtp",
        "probe.test",
        "pass",
        "mx.probe.test",
    );
    let certificate = platform.path("tls.pem").display().to_string();
    assert_status(
        &report,
        "tls_certificate",
        &certificate,
        "pass",
        "Doctor Test Authority",
    );
    assert_status(
        &report,
        "database",
        "SQLite",
        "pass",
        "every migration applied",
    );
    assert_status(
        &report,
        "master_key",
        "master key",
        "pass",
        "the one the database expects",
    );

    // Offline, the outbound check is skipped and the platform stays green; the text output
    // names every check.
    let (code, report) = platform.doctor(MASTER_KEY, &["--offline"]);
    assert_eq!(code, 0, "{report:#}");
    assert_status(&report, "outbound_smtp", "probe.test", "skipped", "offline");
    let config = platform.path("sealpost.toml").display().to_string();
    let text = run(
        platform.directory.path(),
        &[("SEALPOST_MASTER_KEY", MASTER_KEY)],
        &["--config", &config, "doctor", "--offline"],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("The platform is green."), "{text}");
    assert!(text.contains("pass    reverse_dns     192.0.2.1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_platform_is_red_with_a_fix_for_each_problem() {
    let platform = Platform::start().await;
    // 192.0.2.2 has no PTR; the include lists an address the platform does not send from and
    // lacks one it does; the certificate expired; nothing listens at the probe's port.
    let zone = Zone::new()
        .ptr("1.2.0.192.in-addr.arpa", PLATFORM)
        .a(PLATFORM, "192.0.2.1".parse().unwrap())
        .txt(INCLUDE, &["v=spf1 ip4:192.0.2.1 ip4:203.0.113.9 -all"])
        .mx("probe.test", 10, "mx.probe.test")
        .a("mx.probe.test", Ipv4Addr::LOCALHOST);
    platform.dns.replace(zone).unwrap();
    write_certificate(&platform.path("tls.pem"), -3);
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    platform.write_config(closed_port);

    let (code, report) = platform.doctor(MASTER_KEY, &["--probe-timeout", "3"]);
    assert_eq!(
        (code, report["verdict"].as_str()),
        (1, Some("to_fix")),
        "{report:#}"
    );
    assert_status(&report, "reverse_dns", "192.0.2.1", "pass", "resolves back");
    assert_status(
        &report,
        "reverse_dns",
        "192.0.2.2",
        "fail",
        "set its PTR record to",
    );
    assert_status(
        &report,
        "spf_include",
        INCLUDE,
        "fail",
        "192.0.2.2 is missing",
    );
    assert_status(
        &report,
        "spf_include",
        INCLUDE,
        "fail",
        "203.0.113.9 is listed but not",
    );
    assert_status(
        &report,
        "spf_include",
        INCLUDE,
        "fail",
        "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all",
    );
    assert_status(
        &report,
        "platform_dkim",
        &platform.dkim_record.0,
        "fail",
        "Publish a TXT record",
    );
    assert_status(
        &report,
        "outbound_smtp",
        "probe.test",
        "fail",
        "Open outbound TCP port 25",
    );
    let certificate = platform.path("tls.pem").display().to_string();
    assert_status(
        &report,
        "tls_certificate",
        &certificate,
        "fail",
        "expired 3 days ago",
    );
    assert_status(
        &report,
        "tls_certificate",
        &certificate,
        "fail",
        "systemctl reload sealpost",
    );

    // Another master key than the database's: named, with where to find the right one.
    let (code, report) = platform.doctor(OTHER_KEY, &["--offline"]);
    assert_eq!(code, 1, "{report:#}");
    assert_status(
        &report,
        "master_key",
        "master key",
        "fail",
        "restore it from the backup",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_or_master_key_is_named() {
    let platform = Platform::start().await;
    platform.dns.replace(platform.healthy_zone()).unwrap();
    let config = platform.path("sealpost.toml").display().to_string();
    let output = run(
        platform.directory.path(),
        &[],
        &["--config", &config, "doctor", "--offline", "--json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_status(
        &report,
        "master_key",
        "master key",
        "fail",
        "sealpost master-key generate",
    );
    // The DNS checks still run without a database.
    assert_status(&report, "spf_include", INCLUDE, "pass", "v=spf1");

    std::fs::remove_dir_all(platform.path("data")).unwrap();
    let (code, report) = platform.doctor(MASTER_KEY, &["--offline"]);
    assert_eq!(code, 1, "{report:#}");
    let database = &report["checks"][0];
    assert_eq!(database["check"], "database", "{report:#}");
    assert_eq!(database["status"], "fail", "{report:#}");
    assert!(
        database["fix"].as_str().unwrap().contains("database_url"),
        "{database}"
    );
    assert!(
        !platform.path("data/sealpost.db").exists(),
        "the doctor does not create a database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_failure_is_could_not_check() {
    let platform = Platform::start().await;
    platform
        .dns
        .replace(platform.healthy_zone().servfail(INCLUDE))
        .unwrap();
    let (code, report) = platform.doctor(MASTER_KEY, &["--offline"]);
    assert_eq!(
        (code, report["verdict"].as_str()),
        (2, Some("unchecked")),
        "{report:#}"
    );
    let include = check(&report, "spf_include", INCLUDE);
    assert_eq!(include["status"], "unknown", "{include:#}");
}
