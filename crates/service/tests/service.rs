//! The use cases over both backends: the master key binding, the signing-domain rules, and a
//! scan of the stored bytes proving that no private key material reaches the database.

use std::sync::Arc;

use base64::Engine as _;
use pkcs1::der::Decode as _;
use sealpost_domain::{KeyState, TenantId, Timestamp};
use sealpost_service::{Clock, DnsGate, KeyImport, Service, ServiceError};
use sealpost_store::{Store, testing};
use sealpost_vault::{ImportError, MasterKey, Vault};

#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(1_800_000_000)
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

/// These tests make no DNS lookups; the resolver points at a loopback port nothing serves.
fn unused_resolver() -> sealpost_dns::Resolver {
    sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
        nameserver: Some(([127, 0, 0, 1], 9).into()),
        ..sealpost_dns::ResolverConfig::default()
    })
    .unwrap()
}

async fn service(store: Store, master: &str) -> Result<Service, ServiceError> {
    let vault = Vault::new(MasterKey::from_text(master).unwrap());
    Service::open(store, vault, Arc::new(FixedClock), unused_resolver()).await
}

async fn each_backend() -> (tempfile::TempDir, Vec<(Store, String)>) {
    let directory = tempfile::tempdir().unwrap();
    let sqlite = testing::sqlite_url(directory.path());
    let postgres = testing::fresh_postgres_url().await;
    let mut stores = Vec::new();
    for url in [sqlite, postgres] {
        stores.push((Store::connect(&url).await.unwrap(), url));
    }
    (directory, stores)
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_and_changes_nothing() {
    let (_directory, stores) = each_backend().await;
    for (store, url) in stores {
        let master = MasterKey::generate().to_text();
        let first = service(store, &master).await.unwrap();
        let tenant = first.accounts().create_tenant("acme", "").await.unwrap();
        let check = first.store().meta("master_key_check").await.unwrap();
        first.store().close().await;

        let other = MasterKey::generate().to_text();
        let refused = service(Store::connect(&url).await.unwrap(), &other).await;
        let error = refused.unwrap_err();
        assert!(
            matches!(error, ServiceError::WrongMasterKey(_)),
            "{error:?}"
        );
        assert!(error.to_string().contains("does not match"), "{error}");

        let again = service(Store::connect(&url).await.unwrap(), &master)
            .await
            .unwrap();
        assert_eq!(again.store().meta("master_key_check").await.unwrap(), check);
        assert_eq!(again.accounts().list_tenants().await.unwrap(), [tenant]);
    }
}

#[tokio::test]
async fn signing_domain_rules() {
    let (_directory, stores) = each_backend().await;
    for (store, _url) in stores {
        let service = service(store, &MasterKey::generate().to_text())
            .await
            .unwrap();
        let acme = service
            .accounts()
            .create_tenant("acme", "Acme")
            .await
            .unwrap();

        let domain = service
            .signing_domains()
            .add_signing_domain(acme.id, " Bücher.Example. ", "workplace")
            .await
            .unwrap();
        assert_eq!(domain.domain.as_str(), "xn--bcher-kva.example");
        assert!(!domain.active);

        let invalid = service
            .signing_domains()
            .add_signing_domain(acme.id, "not a domain", "s1")
            .await;
        assert!(matches!(
            invalid,
            Err(ServiceError::Invalid {
                field: "domain",
                ..
            })
        ));
        let invalid = service
            .signing_domains()
            .add_signing_domain(acme.id, "ok.example", "bad selector")
            .await;
        assert!(matches!(
            invalid,
            Err(ServiceError::Invalid {
                field: "selector",
                ..
            })
        ));
        let duplicate = service
            .signing_domains()
            .add_signing_domain(acme.id, "xn--bcher-kva.example", "workplace")
            .await;
        assert!(
            matches!(duplicate, Err(ServiceError::Conflict(_))),
            "{duplicate:?}"
        );
        let unknown = service
            .signing_domains()
            .add_signing_domain(
                TenantId::new(&sealpost_service::SystemClock),
                "ok.example",
                "s1",
            )
            .await;
        assert!(matches!(unknown, Err(ServiceError::NotFound("tenant"))));
        // The list reads the tenant only when it finds no domain: an unknown tenant is still
        // named as such, not shown an empty list.
        let unknown_list = service
            .signing_domains()
            .list_signing_domains(TenantId::new(&sealpost_service::SystemClock))
            .await;
        assert!(matches!(
            unknown_list,
            Err(ServiceError::NotFound("tenant"))
        ));
        // So does the list of sending domains, which a signing domain's page shows.
        let unknown_senders = service
            .signing_domains()
            .list_sending_domains(TenantId::new(&sealpost_service::SystemClock))
            .await;
        assert!(matches!(
            unknown_senders,
            Err(ServiceError::NotFound("tenant"))
        ));

        let no_key = service
            .signing_domains()
            .update_signing_domain(acme.id, domain.id, Some(true), None)
            .await;
        assert!(matches!(no_key, Err(ServiceError::NoKey)));
        assert!(matches!(
            service
                .signing_domains()
                .dns_record(acme.id, domain.id)
                .await,
            Err(ServiceError::NoKey)
        ));

        let refused = service
            .signing_domains()
            .import_key(
                acme.id,
                domain.id,
                KeyImport {
                    pem: &fixture("rsa1024-pkcs8.pem"),
                    password: None,
                },
            )
            .await;
        assert!(matches!(
            refused,
            Err(ServiceError::Import(ImportError::WrongSize(1024)))
        ));
        assert_eq!(
            service
                .signing_domains()
                .signing_domain(acme.id, domain.id)
                .await
                .unwrap(),
            domain
        );

        // The selector may change while the domain has no key; the key's record then lives
        // under it, so it no longer changes.
        let renamed = service
            .signing_domains()
            .update_signing_domain(acme.id, domain.id, None, Some("s2026"))
            .await
            .unwrap();
        assert_eq!(renamed.selector.as_str(), "s2026");
        let with_key = service
            .signing_domains()
            .generate_key(acme.id, domain.id)
            .await
            .unwrap();
        let key = with_key.current_key().unwrap().clone();
        assert_eq!(
            (key.bits, key.state, key.selector.as_str()),
            (2048, KeyState::Pending, "s2026")
        );
        let fixed = service
            .signing_domains()
            .update_signing_domain(acme.id, domain.id, None, Some("other"))
            .await;
        assert!(matches!(fixed, Err(ServiceError::Conflict(_))), "{fixed:?}");
        // Activation needs the domain proven in DNS: the tenant publishes its verification
        // record.
        let pending = service
            .signing_domains()
            .add_sending_domain(acme.id, "bücher.example")
            .await
            .unwrap();
        let dns = sealpost_testdns::TestDns::start(
            sealpost_testdns::Zone::new().txt(&pending.record_name(), &[&pending.record_value()]),
        )
        .await
        .unwrap();
        let service = service.with_resolver(
            sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
                nameserver: Some(dns.addr()),
                cache: false,
                ..sealpost_dns::ResolverConfig::default()
            })
            .unwrap(),
        );
        // DNS proves the domain but does not carry the key: activation waits for the record,
        // unless forced, which the history records with a warning.
        let unpublished = service
            .signing_domains()
            .update_signing_domain(acme.id, domain.id, Some(true), None)
            .await;
        assert!(
            matches!(&unpublished, Err(ServiceError::KeyNotPublished(message))
                if message.contains("s2026._domainkey.xn--bcher-kva.example")),
            "{unpublished:?}"
        );
        let active = service
            .signing_domains()
            .edit_signing_domain(acme.id, domain.id, Some(true), None, DnsGate::Force)
            .await
            .unwrap();
        assert!(active.active);
        let signing = active.active_key().unwrap();
        assert_eq!((signing.id, signing.forced), (key.id, true));
        let history = service
            .signing_domains()
            .domain_history(acme.id, domain.id)
            .await
            .unwrap();
        let kinds: Vec<_> = history
            .iter()
            .map(|event| (event.kind.as_str(), event.warning))
            .collect();
        assert_eq!(
            kinds,
            [
                ("domain.activated", true),
                ("key.active", true),
                ("key.pending", false)
            ]
        );
        let record = service
            .signing_domains()
            .dns_record(acme.id, domain.id)
            .await
            .unwrap();
        assert_eq!(record.name, "s2026._domainkey.xn--bcher-kva.example");
        let opened = service
            .signing_domains()
            .open_key(acme.id, domain.id, key.id)
            .await
            .unwrap();
        assert_eq!(opened.public_key_der(), key.public_key_der);

        let found = service
            .signing_domains()
            .find_signing_domain(acme.id, "bücher.example", None)
            .await
            .unwrap();
        assert_eq!(found.id, domain.id);
    }
}

/// The private parts of an RSA key (private exponent, primes, CRT values) and the whole
/// plaintext DER: none of these may appear anywhere in the database.
/// `der` is PKCS#8 or, as `openssl pkcs8` writes a decrypted RSA key, PKCS#1.
fn secrets_of(der: &[u8]) -> Vec<Vec<u8>> {
    let pkcs1_der = match pkcs8::PrivateKeyInfo::from_der(der) {
        Ok(info) => info.private_key,
        Err(_) => der,
    };
    let rsa = pkcs1::RsaPrivateKey::from_der(pkcs1_der).unwrap();
    vec![
        der.to_vec(),
        pkcs1_der.to_vec(),
        rsa.private_exponent.as_bytes().to_vec(),
        rsa.prime1.as_bytes().to_vec(),
        rsa.prime2.as_bytes().to_vec(),
        rsa.exponent1.as_bytes().to_vec(),
        rsa.exponent2.as_bytes().to_vec(),
        rsa.coefficient.as_bytes().to_vec(),
    ]
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// Opens the stored document with `openssl pkcs8` and the unsealed password, returning the
/// plaintext PKCS#8 DER that openssl produced.
fn openssl_open(document: &str, password: &str) -> Vec<u8> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("stored.pem");
    std::fs::write(&path, document).unwrap();
    let output = std::process::Command::new("openssl")
        .args(["pkcs8", "-in", path.to_str().unwrap(), "-outform", "DER"])
        .arg("-passin")
        .arg(format!("pass:{password}"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Everything the database holds, as bytes: the SQLite files, or every PostgreSQL table dumped
/// as text (bytea as hex).
async fn database_bytes(store: &Store, directory: &std::path::Path) -> Vec<u8> {
    match store {
        Store::Sqlite(_) => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(directory).unwrap() {
                bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
            bytes
        }
        Store::Postgres(pool) => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            assert!(tables.len() >= 4, "{tables:?}");
            let mut bytes = Vec::new();
            for (table,) in tables {
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" t"
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                for (row,) in rows {
                    bytes.extend(row.into_bytes());
                }
            }
            bytes
        }
    }
}

#[tokio::test]
async fn no_private_key_material_reaches_the_database() {
    let (directory, stores) = each_backend().await;
    for (store, _url) in stores {
        let master = MasterKey::generate().to_text();
        let service = service(store.clone(), &master).await.unwrap();
        let acme = service.accounts().create_tenant("acme", "").await.unwrap();
        let generated = service
            .signing_domains()
            .add_signing_domain(acme.id, "a.example", "s1")
            .await
            .unwrap();
        service
            .signing_domains()
            .generate_key(acme.id, generated.id)
            .await
            .unwrap();
        let imported = service
            .signing_domains()
            .add_signing_domain(acme.id, "b.example", "s1")
            .await
            .unwrap();
        let pem = fixture("rsa2048-pkcs1-aes256.pem");
        let import = KeyImport {
            pem: &pem,
            password: Some("fixture-pass"),
        };
        service
            .signing_domains()
            .import_key(acme.id, imported.id, import)
            .await
            .unwrap();

        let audit = Vault::new(MasterKey::from_text(&master).unwrap());
        let fixture_secrets = secrets_of(&pem_der(&fixture("rsa2048-pkcs8.pem")));
        let mut secrets = fixture_secrets.clone();
        for domain in [&generated, &imported] {
            let stored = store.signing_domain(acme.id, domain.id).await.unwrap();
            let key_id = stored.current_key().unwrap().id;
            let sealed = store.sealed_key(acme.id, key_id).await.unwrap();
            let password = audit.reveal_password(acme.id, key_id, &sealed).unwrap();
            let plaintext = secrets_of(&openssl_open(&sealed.encrypted_pkcs8_pem, &password));
            if domain.id == imported.id {
                // The private exponent: the stored document holds exactly the imported key.
                assert_eq!(plaintext[2], fixture_secrets[2]);
            }
            secrets.extend(plaintext);
            secrets.push(password.as_bytes().to_vec());
        }

        let database = database_bytes(&store, directory.path()).await;
        let as_hex = matches!(store, Store::Postgres(_));
        for marker in ["BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY"] {
            assert!(!contains(&database, marker.as_bytes()), "found {marker}");
        }
        assert!(
            contains(&database, b"BEGIN ENCRYPTED PRIVATE KEY"),
            "the scan sees the keys"
        );
        for secret in &secrets {
            let needle = if as_hex {
                hex_lower(secret)
            } else {
                secret.clone()
            };
            assert!(
                !contains(&database, &needle),
                "private key material found in the database"
            );
            let base64 = base64::engine::general_purpose::STANDARD.encode(secret);
            assert!(!contains(
                &database,
                &base64.as_bytes()[..40.min(base64.len())]
            ));
        }
    }
}

fn hex_lower(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|byte| format!("{byte:02x}").into_bytes())
        .collect()
}

#[tokio::test]
async fn web_ui_accounts_sign_in_with_sessions_and_a_limit() {
    use sealpost_domain::UserRole;
    let (_directory, stores) = each_backend().await;
    let client: std::net::IpAddr = [192, 0, 2, 7].into();
    for (store, _url) in stores {
        let service = service(store, &MasterKey::generate().to_text())
            .await
            .unwrap();
        let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
        let role = UserRole::TenantAdmin(tenant.id);
        let short = service
            .accounts()
            .create_user("ann@acme.example", role, "short")
            .await;
        assert!(matches!(
            short,
            Err(ServiceError::Invalid {
                field: "password",
                ..
            })
        ));
        let unknown = UserRole::TenantAdmin(TenantId::new(&sealpost_service::SystemClock));
        let orphan = service
            .accounts()
            .create_user("bob@acme.example", unknown, "a long enough password")
            .await;
        assert!(matches!(orphan, Err(ServiceError::NotFound("tenant"))));
        let user = service
            .accounts()
            .create_user(" Ann@Acme.example", role, "a long enough password")
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "ann@acme.example");
        let again = service
            .accounts()
            .create_user(
                "ann@acme.example",
                UserRole::Operator,
                "another long password",
            )
            .await;
        assert!(matches!(again, Err(ServiceError::Conflict(_))));

        let wrong = service
            .accounts()
            .sign_in("ann@acme.example", "not the password", client)
            .await;
        assert!(matches!(wrong, Err(ServiceError::SignInRefused)));
        let nobody = service
            .accounts()
            .sign_in("nobody@acme.example", "a long enough password", client)
            .await;
        assert!(matches!(nobody, Err(ServiceError::SignInRefused)));

        let signed_in = service
            .accounts()
            .sign_in("ANN@acme.example", "a long enough password", client)
            .await
            .unwrap();
        let session = service
            .accounts()
            .session(&signed_in.token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.user, user);
        assert_eq!(session.csrf_token.len(), 64);
        assert_ne!(session.csrf_token.as_str(), signed_in.token.as_str());
        // A tenant page reads the session with the tenant it names, by name or by id.
        let accounts = service.accounts();
        for named in ["acme", &tenant.id.to_string(), "initech", "Not a name!"] {
            let (found, page_tenant) = accounts
                .session_with_tenant(&signed_in.token, named)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found.csrf_token, session.csrf_token);
            let expected = (named == "acme" || named == tenant.id.to_string()).then_some(&tenant);
            assert_eq!((found.user, page_tenant.as_ref()), (user.clone(), expected));
        }
        service.accounts().sign_out(&signed_in.token).await.unwrap();
        let gone = accounts.session_with_tenant(&signed_in.token, "acme");
        assert!(gone.await.unwrap().is_none());
        assert!(
            service
                .accounts()
                .session(&signed_in.token)
                .await
                .unwrap()
                .is_none()
        );

        // A new password ends the sessions opened with the old one.
        let before = service
            .accounts()
            .sign_in("ann@acme.example", "a long enough password", client)
            .await
            .unwrap();
        service
            .accounts()
            .set_user_password("ann@acme.example", "a new long password")
            .await
            .unwrap();
        assert!(
            service
                .accounts()
                .session(&before.token)
                .await
                .unwrap()
                .is_none()
        );

        for _ in 0..5 {
            let guess = service
                .accounts()
                .sign_in("ann@acme.example", "guess", client)
                .await;
            assert!(matches!(guess, Err(ServiceError::SignInRefused)));
        }
        let locked = service
            .accounts()
            .sign_in("ann@acme.example", "a new long password", client)
            .await;
        assert!(matches!(locked, Err(ServiceError::TooManyAttempts { .. })));
        let elsewhere = [192, 0, 2, 8].into();
        service
            .accounts()
            .sign_in("ann@acme.example", "a new long password", elsewhere)
            .await
            .unwrap();
    }
}
