//! Signing outgoing mail through the service on both backends (SPEC S4): the signing decision,
//! message completion, the signer cache following key changes, and verification with keys from a
//! real DNS server on loopback.

use std::sync::Arc;

use sealpost_dkim::{Cause, DkimResult};
use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{SigningDomain, SigningRecord};
use sealpost_domain::{TenantId, Timestamp};
use sealpost_service::{Clock, DnsGate, KeyImport, Service, ServiceError};
use sealpost_store::{Store, testing};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

const NOW: i64 = 1_800_000_000;

#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(NOW)
    }

    fn new_uuid(&self) -> sealpost_domain::Uuid {
        sealpost_service::SystemClock.new_uuid()
    }
}

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vault/resources/keys")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The fixture key's DKIM record at `workplace._domainkey.client.test`.
fn fixture_zone() -> Zone {
    let vault = Vault::new(MasterKey::generate());
    let key = vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    let value = sealpost_domain::dkim_txt_value(&key.public_key_der());
    Zone::new().txt_split("workplace._domainkey.client.test", &value)
}

/// The tenant's signing domain client.test with the fixture key (whose record [`fixture_zone`]
/// serves) imported, not yet active.
async fn fixture_domain(service: &Service, tenant: TenantId) -> SigningDomain {
    let domain = service
        .signing_domains()
        .add_signing_domain(tenant, "client.test", "workplace")
        .await
        .unwrap();
    let pem = fixture("rsa2048-pkcs8.pem");
    let import = KeyImport {
        pem: &pem,
        password: None,
    };
    service
        .signing_domains()
        .import_key(tenant, domain.id, import)
        .await
        .unwrap();
    domain
}

/// A DNS server serving [`fixture_zone`].
async fn dns() -> TestDns {
    TestDns::start(fixture_zone()).await.unwrap()
}

/// Proves `domain` for `tenant` as the tenant would: its verification record is published
/// beside the records of `zone` (which grows by it) and verified.
async fn prove(service: &Service, dns: &TestDns, zone: &mut Zone, tenant: TenantId, domain: &str) {
    let pending = service
        .signing_domains()
        .add_sending_domain(tenant, domain)
        .await
        .unwrap();
    *zone = zone
        .clone()
        .txt(&pending.record_name(), &[&pending.record_value()]);
    dns.replace(zone.clone()).unwrap();
    service
        .signing_domains()
        .verify_sending_domain(tenant, domain)
        .await
        .unwrap();
}

async fn services(dns: &TestDns) -> (tempfile::TempDir, Vec<Service>) {
    let directory = tempfile::tempdir().unwrap();
    let mut services = Vec::new();
    for store in testing::fresh_stores(directory.path()).await {
        services.push(open(store, dns).await);
    }
    (directory, services)
}

async fn open(store: Store, dns: &TestDns) -> Service {
    open_as(store, dns, MasterKey::generate()).await
}

/// A node opened with `master`, so that two of them can share a database.
async fn open_as(store: Store, dns: &TestDns, master: MasterKey) -> Service {
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        ..ResolverConfig::default()
    })
    .unwrap();
    Service::open(store, Vault::new(master), Arc::new(FixedClock), resolver)
        .await
        .unwrap()
}

const INCOMPLETE: &str = "From: Facilities <facilities@client.test>\nTo: someone@receiver.test\n\
                          Subject: Work order 4711\n\nThe boiler is fixed.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_completed_signed_and_verifies_and_a_new_key_waits_for_its_record() {
    let dns = dns().await;
    let (_directory, services) = services(&dns).await;
    for service in services {
        let acme = service.accounts().create_tenant("acme", "").await.unwrap();
        let domain = fixture_domain(&service, acme.id).await;
        service
            .signing_domains()
            .update_signing_domain(acme.id, domain.id, Some(true), None)
            .await
            .unwrap();

        let signed = service
            .submissions()
            .sign_outgoing(acme.id, INCOMPLETE.as_bytes(), "bounce@client.test")
            .await
            .unwrap();
        assert_eq!(signed.added_headers, ["Date", "Message-ID", "MIME-Version"]);
        assert!(matches!(
            &signed.signing,
            SigningRecord::Signed { domain: signed_domain, .. } if signed_domain.as_str() == "client.test"
        ));
        let text = String::from_utf8(signed.message.clone()).unwrap();
        assert!(
            text.starts_with(
                "DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple; t=1800000000;"
            ),
            "{text}"
        );
        assert!(
            text.contains("h=From:To:Message-ID:Subject:MIME-Version:Date;"),
            "{text}"
        );
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "bare LF left in {text:?}"
        );

        // The same key again comes from the cache and still verifies.
        for message in [
            signed.message.clone(),
            service
                .submissions()
                .sign_outgoing(acme.id, INCOMPLETE.as_bytes(), "bounce@client.test")
                .await
                .unwrap()
                .message,
        ] {
            let report = service
                .submissions()
                .verify_message(&message)
                .await
                .unwrap();
            assert_eq!(report.result(), DkimResult::Pass, "{report:#?}");
        }

        // A new key waits for its record: the active key keeps signing, and its signatures
        // still verify. Forced before DNS carries it, the new key signs at once (under its own
        // selector), and its signatures fail for want of a record: what forcing warns of.
        let rotated = service
            .signing_domains()
            .generate_key(acme.id, domain.id)
            .await
            .unwrap();
        let pending = rotated.pending_key().unwrap().clone();
        assert_eq!(pending.selector.as_str(), "workplace2");
        let resigned = service
            .submissions()
            .sign_outgoing(acme.id, INCOMPLETE.as_bytes(), "bounce@client.test")
            .await
            .unwrap();
        let report = service
            .submissions()
            .verify_message(&resigned.message)
            .await
            .unwrap();
        assert_eq!(report.result(), DkimResult::Pass, "{report:#?}");
        service
            .signing_domains()
            .promote_key(acme.id, domain.id, pending.id, DnsGate::Force)
            .await
            .unwrap();
        let forced = service
            .submissions()
            .sign_outgoing(acme.id, INCOMPLETE.as_bytes(), "bounce@client.test")
            .await
            .unwrap();
        assert!(
            matches!(&forced.signing, SigningRecord::Signed { selector, .. } if selector.as_str() == "workplace2")
        );
        let report = service
            .submissions()
            .verify_message(&forced.message)
            .await
            .unwrap();
        assert_eq!(
            report.signatures[0].cause,
            Cause::KeyNotFound,
            "{report:#?}"
        );
    }
}

/// A change another process commits (the CLI, or another node) reaches this node's very next
/// message: what a node keeps of a tenant's sending configuration lasts only while the store
/// says nothing of it changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_another_process_commits_reaches_the_next_message() {
    let dns = dns().await;
    let directory = tempfile::tempdir().unwrap();
    let urls = [
        testing::sqlite_url(directory.path()),
        testing::fresh_postgres_url().await,
    ];
    for url in urls {
        let master = MasterKey::generate().to_text().to_string();
        let mut nodes = Vec::new();
        for _ in 0..2 {
            let store = Store::connect(&url).await.unwrap();
            nodes.push(open_as(store, &dns, MasterKey::from_text(&master).unwrap()).await);
        }
        let (node, other) = (&nodes[0], &nodes[1]);
        let acme = node.accounts().create_tenant("acme", "").await.unwrap();
        let domain = fixture_domain(node, acme.id).await;
        let others_domains = other.signing_domains();
        let set_active = |active: bool| {
            others_domains.update_signing_domain(acme.id, domain.id, Some(active), None)
        };
        let signing = || async {
            node.submissions()
                .sign_outgoing(acme.id, INCOMPLETE.as_bytes(), "bounce@client.test")
                .await
                .unwrap()
                .signing
        };
        set_active(true).await.unwrap();
        // Twice, so the second message is decided with whatever the node kept of the first.
        for _ in 0..2 {
            assert!(signing().await.is_signed(), "{url}");
        }
        set_active(false).await.unwrap();
        match signing().await {
            SigningRecord::Unsigned(reason) => {
                assert_eq!(reason.code(), "from_domain_inactive", "{url}");
            }
            signed => panic!("{url}: a paused domain signed: {signed:?}"),
        }
        set_active(true).await.unwrap();
        assert!(signing().await.is_signed(), "{url}");
        // The kept copy is used while nothing changed: with the table of sending domains out
        // of reach (a rename raises no version), the next message is still decided, where a
        // fresh read of the configuration would fail.
        let store = Store::connect(&url).await.unwrap();
        let rename =
            |from: &str, to: &str| alter(&store, format!("ALTER TABLE {from} RENAME TO {to}"));
        rename("sending_domains", "sending_domains_hidden").await;
        let kept = node
            .submissions()
            .sign_outgoing(acme.id, INCOMPLETE.as_bytes(), "bounce@client.test")
            .await;
        rename("sending_domains_hidden", "sending_domains").await;
        assert!(kept.unwrap().signing.is_signed(), "{url}");
    }
}

/// Runs a schema change, so that a test can put a table or column out of a read's reach.
async fn alter(store: &Store, statement: String) {
    let statement = sqlx::AssertSqlSafe(statement);
    match store {
        Store::Sqlite(pools) => sqlx::query(statement)
            .execute(pools.writer())
            .await
            .map(drop),
        Store::Postgres(pool) => sqlx::query(statement).execute(pool).await.map(drop),
    }
    .unwrap();
}

/// A node reads an API key once and then lets each submission's own read confirm it: the key is
/// known while the key's own read would fail, and a key revoked since sends nothing more, a
/// replay of an earlier request included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_s_read_confirms_its_api_key() {
    let dns = dns().await;
    let (_directory, services) = services(&dns).await;
    for service in services {
        let acme = service.accounts().create_tenant("acme", "").await.unwrap();
        prove(&service, &dns, &mut fixture_zone(), acme.id, "client.test").await;
        let key = service
            .accounts()
            .create_api_key(acme.id, "application")
            .await
            .unwrap();
        let submission = |body: &str, key: Option<&str>| sealpost_service::Submission {
            mail_from: "bounce@client.test".into(),
            recipients: vec!["someone@receiver.test".into()],
            raw: format!("From: a@client.test\r\n\r\n{body}\r\n").into_bytes(),
            idempotency_key: key
                .map(|key| sealpost_service::idempotency_key(key, body.as_bytes()).unwrap()),
            source: sealpost_domain::SubmissionSource::Http,
        };
        let sender = || async {
            service
                .accounts()
                .api_key_login(&key.token)
                .await
                .unwrap()
                .expect("the key's tenant is known")
        };
        let first = service
            .submissions()
            .submit(sender().await, submission("first", Some("order-1")))
            .await
            .unwrap();
        assert!(!first.replayed);

        // The key's own read needs the tenant's display name; with that column out of reach,
        // the key is still known, from this node's memory, and a message is accepted: its
        // submission read the key with the suppression list, not apart.
        let hide = "ALTER TABLE tenants RENAME COLUMN display_name TO display_name_hidden";
        alter(service.store(), hide.to_owned()).await;
        let kept = service.accounts().api_key_login(&key.token).await;
        let accepted = match &kept {
            Ok(Some(login)) => {
                let submission = submission("kept", None);
                Some(
                    service
                        .submissions()
                        .submit(login.clone(), submission)
                        .await,
                )
            }
            _ => None,
        };
        let show = "ALTER TABLE tenants RENAME COLUMN display_name_hidden TO display_name";
        alter(service.store(), show.to_owned()).await;
        assert_eq!(kept.unwrap().unwrap().tenant.id, acme.id);
        assert!(accepted.unwrap().is_ok());

        // Revoked: the node still knows the key's tenant, and the submission's read refuses it,
        // a new message and a replay alike. Then the node forgets it.
        service
            .accounts()
            .revoke_api_key(acme.id, &key.info.id.to_string())
            .await
            .unwrap();
        let login = sender().await;
        for (body, key) in [("second", None), ("first", Some("order-1"))] {
            let refused = service
                .submissions()
                .submit(login.clone(), submission(body, key))
                .await;
            assert!(
                matches!(refused, Err(ServiceError::ApiKeyRefused)),
                "{refused:?}"
            );
        }
        assert_eq!(
            service.accounts().api_key_login(&key.token).await.unwrap(),
            None
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_mail_records_the_domain_at_fault() {
    let dns = dns().await;
    let (_directory, services) = services(&dns).await;
    for service in services {
        let acme = service.accounts().create_tenant("acme", "").await.unwrap();
        let other = service.accounts().create_tenant("other", "").await.unwrap();
        // Every domain below is proven by the tenant that uses it, so what is tested is the
        // signing decision alone; `other` proves client.test with its own record too.
        let mut zone = fixture_zone();
        for domain in [
            "client.test",
            "unknown.test",
            "paused.test",
            "platform.test",
        ] {
            prove(&service, &dns, &mut zone, acme.id, domain).await;
        }
        prove(&service, &dns, &mut zone, other.id, "client.test").await;
        let active = service
            .signing_domains()
            .add_signing_domain(acme.id, "client.test", "workplace")
            .await
            .unwrap();
        service
            .signing_domains()
            .generate_key(acme.id, active.id)
            .await
            .unwrap();
        // The generated key's record is not in the zone: forced, as the signing decision alone
        // is under test here.
        service
            .signing_domains()
            .edit_signing_domain(acme.id, active.id, Some(true), None, DnsGate::Force)
            .await
            .unwrap();
        let paused = service
            .signing_domains()
            .add_signing_domain(acme.id, "paused.test", "workplace")
            .await
            .unwrap();
        service
            .signing_domains()
            .generate_key(acme.id, paused.id)
            .await
            .unwrap();

        let cases = [
            (
                acme.id,
                "From: a@unknown.test\n\nx\n",
                "bounce@client.test",
                "from_domain_not_a_signing_domain",
                "unknown.test",
            ),
            (
                acme.id,
                "From: a@paused.test\n\nx\n",
                "bounce@client.test",
                "from_domain_inactive",
                "paused.test",
            ),
            (
                acme.id,
                "From: a@client.test\n\nx\n",
                "bounce@platform.test",
                "mail_from_domain_not_a_signing_domain",
                "platform.test",
            ),
            (
                acme.id,
                "From: a@client.test\n\nx\n",
                "bounce@paused.test",
                "mail_from_domain_inactive",
                "paused.test",
            ),
            // Another tenant's active domain never signs for this one.
            (
                other.id,
                "From: a@client.test\n\nx\n",
                "bounce@client.test",
                "from_domain_not_a_signing_domain",
                "client.test",
            ),
        ];
        for (tenant, message, mail_from, code, domain) in cases {
            let signed = service
                .submissions()
                .sign_outgoing(tenant, message.as_bytes(), mail_from)
                .await
                .unwrap();
            match &signed.signing {
                SigningRecord::Unsigned(reason) => {
                    assert_eq!(reason.code(), code);
                    assert!(reason.to_string().contains(domain), "{reason}");
                }
                other => panic!("{message} was signed: {other:?}"),
            }
            assert!(!String::from_utf8_lossy(&signed.message).contains("DKIM-Signature"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_that_cannot_be_signed_are_refused_with_the_reason() {
    let dns = dns().await;
    let (_directory, services) = services(&dns).await;
    for service in services {
        let acme = service.accounts().create_tenant("acme", "").await.unwrap();
        let cases = [
            (
                "To: b@receiver.test\n\nx\n",
                "bounce@client.test",
                "message",
                "no From header",
            ),
            (
                "From: a@client.test\nFrom: b@client.test\n\nx\n",
                "bounce@client.test",
                "message",
                "2 From headers",
            ),
            (
                "From: a@client.test, b@client.test\n\nx\n",
                "bounce@client.test",
                "message",
                "2 addresses",
            ),
            (
                "From: nobody\n\nx\n",
                "bounce@client.test",
                "message",
                "no address",
            ),
            (
                " folded first\n\nx\n",
                "bounce@client.test",
                "message",
                "line 1",
            ),
            ("", "bounce@client.test", "message", "empty"),
            (
                "From: a@client.test\n\nx\n",
                "not-an-address",
                "mail_from",
                "not a valid",
            ),
        ];
        for (message, mail_from, field, words) in cases {
            let error = service
                .submissions()
                .sign_outgoing(acme.id, message.as_bytes(), mail_from)
                .await
                .unwrap_err();
            match error {
                ServiceError::Invalid {
                    field: got,
                    message: text,
                } => {
                    assert_eq!(got, field, "{text}");
                    assert!(text.contains(words), "{text:?} lacks {words:?}");
                }
                other => panic!("{message:?}: {other:?}"),
            }
        }
        let error = service.submissions().verify_message(b"").await.unwrap_err();
        assert!(matches!(
            error,
            ServiceError::Invalid {
                field: "message",
                ..
            }
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_the_tenant_cannot_sign_is_refused_when_configured() {
    let dns = dns().await;
    let (_directory, services) = services(&dns).await;
    for service in services {
        let service = service.with_unsigned_policy(sealpost_service::UnsignedPolicy::Refuse);
        let acme = service.accounts().create_tenant("acme", "").await.unwrap();
        prove(&service, &dns, &mut fixture_zone(), acme.id, "unknown.test").await;
        let submission = sealpost_service::Submission {
            mail_from: "bounce@unknown.test".into(),
            recipients: vec!["someone@receiver.test".into()],
            raw: b"From: a@unknown.test\r\n\r\nbody\r\n".to_vec(),
            idempotency_key: None,
            source: sealpost_domain::SubmissionSource::Http,
        };
        match service.submissions().submit(acme.id, submission).await {
            Err(ServiceError::Invalid {
                field: "from",
                message,
            }) => {
                assert!(
                    message.contains("unknown.test is not one of the tenant's signing domains"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            service
                .messages()
                .recent_messages(acme.id, 10)
                .await
                .unwrap()
                .is_empty(),
            "nothing was stored"
        );
    }
}
