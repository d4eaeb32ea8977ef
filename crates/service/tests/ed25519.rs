//! Ed25519 beside RSA (RFC 8463) through the service on both backends, against a real DNS server
//! on loopback: an Ed25519 key is added pending under its own selector, signs nothing until its
//! record is published, then every message carries two signatures, rsa-sha256 on top, which
//! dkimpy and OpenDKIM verify; a tampered message fails both with the body-hash cause. Imports of
//! Ed25519 PKCS#8 (plain and encrypted) and the refusals of the wrong algorithm, by name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use sealpost_dkim::{Cause, DkimResult};
use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{KeyAlgorithm, KeyState, SigningDomain, SigningRecord, TenantId};
use sealpost_service::{DnsGate, HandoffPurpose, KeyImport, Service, ServiceError, SystemClock};
use sealpost_store::{Store, testing};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{ImportError, MasterKey, Vault};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join("crates/vault/resources/keys").join(name)).unwrap()
}

fn python() -> PathBuf {
    std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"))
}

/// dkimpy's lines for every signature of a message (`pass d=.. s=..` or `fail d=.. s=.. why`).
fn dkimpy_verify(nameserver: SocketAddr, message: &[u8]) -> Vec<String> {
    use std::io::Write as _;
    let output = Command::new(python())
        .arg(workspace().join("crates/dkim/tests/interop/dkimpy_tool.py"))
        .args(["verify", "--nameserver", &nameserver.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(message)?;
            child.wait_with_output()
        })
        .expect("dkimpy runs (./scripts/test installs it into .venv)");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// OpenDKIM's `dkim=` verdicts, in the order of its Authentication-Results.
fn opendkim_verify(nameserver: SocketAddr, message: &[u8]) -> Vec<String> {
    let directory = tempfile::tempdir().unwrap();
    let unbound = directory.path().join("unbound.conf");
    std::fs::write(
        &unbound,
        format!(
            "server:\n  do-not-query-localhost: no\n  local-zone: \"test.\" nodefault\n\
             forward-zone:\n  name: \".\"\n  forward-addr: {}@{}\n",
            nameserver.ip(),
            nameserver.port()
        ),
    )
    .unwrap();
    let config = directory.path().join("opendkim.conf");
    std::fs::write(
        &config,
        format!(
            "Syslog no\nRequireSafeKeys no\nResolverConfiguration {}\nMode v\n",
            unbound.display()
        ),
    )
    .unwrap();
    let file = directory.path().join("message.eml");
    std::fs::write(&file, message).unwrap();
    let output = Command::new("opendkim")
        .arg("-x")
        .arg(&config)
        .arg("-t")
        .arg(&file)
        .arg("-vv")
        .output()
        .expect("opendkim is installed (./scripts/test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.split("dkim=")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|verdict| verdict.trim_end_matches(['\'', ';']).to_owned())
        .collect()
}

async fn service(dns: &TestDns, store: Store) -> Service {
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        attempts: 1,
        ..ResolverConfig::default()
    })
    .unwrap();
    Service::open(
        store,
        Vault::new(MasterKey::generate()),
        Arc::new(SystemClock),
        resolver,
    )
    .await
    .unwrap()
}

/// Publishes the verification record and the records of the keys under `selectors`.
async fn publish(
    dns: &TestDns,
    base: &Zone,
    service: &Service,
    domain: &SigningDomain,
    selectors: &[&str],
) {
    let current = service
        .signing_domains()
        .signing_domain(domain.tenant_id, domain.id)
        .await
        .unwrap();
    let mut zone = base.clone();
    for selector in selectors {
        let key = current
            .keys
            .iter()
            .find(|key| key.selector.as_str() == *selector)
            .unwrap();
        let record = service
            .signing_domains()
            .key_record(domain.tenant_id, domain.id, key.id)
            .await
            .unwrap();
        zone = zone.txt_split(&record.name, &record.value);
    }
    dns.replace(zone).unwrap();
}

const MESSAGE: &str = "From: Facilities <facilities@client.test>\nTo: someone@receiver.test\n\
                       Subject: Work order 4711\n\nThe boiler is fixed.\n";

async fn sign(service: &Service, tenant: TenantId) -> Vec<u8> {
    let signed = service
        .submissions()
        .sign_outgoing(tenant, MESSAGE.as_bytes(), "bounce@client.test")
        .await
        .unwrap();
    assert!(
        matches!(&signed.signing, SigningRecord::Signed { selector, .. } if selector.as_str() == "workplace"),
        "{:?}",
        signed.signing
    );
    signed.message
}

/// The `a=` and `s=` of each DKIM-Signature of a message, top first.
fn signatures(message: &[u8]) -> Vec<(String, String)> {
    let parsed = sealpost_dkim::ParsedMessage::parse(message).unwrap();
    parsed
        .headers
        .iter()
        .filter(|field| field.is("DKIM-Signature"))
        .map(|field| {
            let text = String::from_utf8_lossy(field.raw).replace(['\r', '\n', '\t', ' '], "");
            let tag = |name: &str| {
                text.split(';')
                    .find_map(|tag| tag.strip_prefix(&format!("{name}=")))
                    .unwrap_or_default()
                    .to_owned()
            };
            (tag("a"), tag("s"))
        })
        .collect()
}

fn states(domain: &SigningDomain) -> Vec<(String, &'static str, KeyState)> {
    domain
        .keys
        .iter()
        .map(|key| (key.selector.to_string(), key.algorithm.as_str(), key.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ed25519_key_signs_beside_rsa_once_published_and_both_signatures_verify() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let dns = TestDns::start(Zone::new()).await.unwrap();
        let service = service(&dns, store).await;
        let domains = service.signing_domains();
        let tenant = service
            .accounts()
            .create_tenant("acme", "")
            .await
            .unwrap()
            .id;
        let domain = domains
            .add_signing_domain(tenant, "client.test", "workplace")
            .await
            .unwrap();
        let proof = domains
            .add_sending_domain(tenant, "client.test")
            .await
            .unwrap();
        let base = Zone::new().txt(&proof.record_name(), &[&proof.record_value()]);
        dns.replace(base.clone()).unwrap();
        domains.generate_key(tenant, domain.id).await.unwrap();
        publish(&dns, &base, &service, &domain, &["workplace"]).await;
        domains
            .activate(tenant, domain.id, DnsGate::RequireRecord)
            .await
            .unwrap();

        // The Ed25519 key waits for its record under its own selector; RSA alone signs.
        let added = domains
            .generate_key_of(tenant, domain.id, KeyAlgorithm::Ed25519)
            .await
            .unwrap();
        assert_eq!(
            states(&added),
            [
                ("workplace".into(), "rsa", KeyState::Active),
                ("workplace-ed".into(), "ed25519", KeyState::Pending)
            ]
        );
        let record = domains
            .ed25519_dns_record(tenant, domain.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.name, "workplace-ed._domainkey.client.test");
        assert!(
            record.value.starts_with("v=DKIM1; k=ed25519; p="),
            "{}",
            record.value
        );
        assert_eq!(record.value.len(), "v=DKIM1; k=ed25519; p=".len() + 44);
        assert_eq!(
            signatures(&sign(&service, tenant).await),
            [("rsa-sha256".into(), "workplace".into())]
        );
        let unpublished = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(unpublished.domain.keys[1].state, KeyState::Pending);

        // The hand-off lists both records.
        let handoff = domains.dns_handoff(tenant, domain.id).await.unwrap();
        let dkim: Vec<&str> = handoff
            .records
            .iter()
            .filter(|record| matches!(record.purpose, HandoffPurpose::Dkim(_)))
            .map(|record| record.host.as_str())
            .collect();
        assert_eq!(dkim, ["workplace._domainkey", "workplace-ed._domainkey"]);

        publish(
            &dns,
            &base,
            &service,
            &domain,
            &["workplace", "workplace-ed"],
        )
        .await;
        let published = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(
            states(&published.domain),
            [
                ("workplace".into(), "rsa", KeyState::Active),
                ("workplace-ed".into(), "ed25519", KeyState::Active)
            ]
        );
        let kinds: Vec<&str> = published.events.iter().map(|event| event.kind()).collect();
        assert_eq!(kinds, ["key.active"]);

        let message = sign(&service, tenant).await;
        assert_eq!(
            signatures(&message),
            [
                ("rsa-sha256".into(), "workplace".into()),
                ("ed25519-sha256".into(), "workplace-ed".into())
            ]
        );
        assert_eq!(
            dkimpy_verify(dns.addr(), &message),
            [
                "pass d=client.test s=workplace",
                "pass d=client.test s=workplace-ed"
            ]
        );
        assert_eq!(opendkim_verify(dns.addr(), &message), ["pass", "pass"]);
        let report = service
            .submissions()
            .verify_message(&message)
            .await
            .unwrap();
        assert!(
            report
                .signatures
                .iter()
                .all(|s| s.result == DkimResult::Pass),
            "{report:#?}"
        );

        let tampered = String::from_utf8(message)
            .unwrap()
            .replace("is fixed", "is broken")
            .into_bytes();
        let lines = dkimpy_verify(dns.addr(), &tampered);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|line| line.starts_with("fail") && line.contains("body hash mismatch")),
            "{lines:?}"
        );
        assert_eq!(opendkim_verify(dns.addr(), &tampered)[0], "fail");
        let report = service
            .submissions()
            .verify_message(&tampered)
            .await
            .unwrap();
        let causes: Vec<Cause> = report.signatures.iter().map(|s| s.cause).collect();
        assert_eq!(causes, [Cause::BodyModified, Cause::BodyModified]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_keys_import_from_pkcs8_and_the_wrong_algorithm_is_refused_by_name() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let dns = TestDns::start(Zone::new()).await.unwrap();
        let service = service(&dns, store).await;
        let domains = service.signing_domains();
        let tenant = service
            .accounts()
            .create_tenant("acme", "")
            .await
            .unwrap()
            .id;
        let domain = domains
            .add_signing_domain(tenant, "client.test", "workplace")
            .await
            .unwrap();
        let import = |name: &'static str, password: Option<&'static str>, algorithm| {
            let pem = fixture(name);
            let domains = service.signing_domains();
            async move {
                domains
                    .import_key_of(
                        tenant,
                        domain.id,
                        algorithm,
                        KeyImport {
                            pem: &pem,
                            password,
                        },
                    )
                    .await
            }
        };
        import("ed25519.pem", None, KeyAlgorithm::Ed25519)
            .await
            .unwrap();
        let both = import(
            "ed25519-pkcs8-scrypt-aes256.pem",
            Some("fixture-pass"),
            KeyAlgorithm::Ed25519,
        )
        .await
        .unwrap();
        assert_eq!(
            states(&both),
            [
                ("workplace-ed".into(), "ed25519", KeyState::Pending),
                ("workplace-ed2".into(), "ed25519", KeyState::Pending)
            ]
        );
        // The key imported is the fixture's: its public key is openssl's.
        let public = std::process::Command::new("openssl")
            .args(["pkey", "-pubin", "-outform", "DER", "-in"])
            .arg(workspace().join("crates/vault/resources/keys/ed25519-public.pem"))
            .output()
            .unwrap()
            .stdout;
        assert!(both.keys.iter().all(|key| key.public_key_der == public));

        let refusals = [
            (
                import(
                    "ed25519-pkcs8-pbkdf2-aes256.pem",
                    Some("wrong"),
                    KeyAlgorithm::Ed25519,
                )
                .await,
                ImportError::WrongPassword,
            ),
            (
                import("ed25519.pem", None, KeyAlgorithm::Rsa).await,
                ImportError::Ed25519AsRsa,
            ),
            (
                import("rsa2048-pkcs8.pem", None, KeyAlgorithm::Ed25519).await,
                ImportError::NotEd25519("an RSA key"),
            ),
        ];
        for (result, expected) in refusals {
            match result {
                Err(ServiceError::Import(error)) => assert_eq!(error, expected),
                other => panic!("expected {expected:?}, got {other:?}"),
            }
        }
        let after = domains.signing_domain(tenant, domain.id).await.unwrap();
        assert_eq!(after.keys.len(), 2, "a refused key is not stored");
    }
}
