//! The migration that gave signing domains several keys: a domain's single key of the older
//! schema becomes its one active key, with its sealed key intact, on both backends.

use sealpost_domain::{DnsState, KeyOrigin, SealedKey, TenantId};

use crate::Store;

/// The migration files of `backend` numbered below or at `number`, in order, as text.
pub(crate) fn migrations(backend: &str, up_to: &str, including: bool) -> Vec<String> {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| {
            let number = &name[..4];
            number < up_to || (including && number == up_to)
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| std::fs::read_to_string(directory.join(name)).unwrap())
        .collect()
}

const LEGACY_DOMAINS: &str = "INSERT INTO tenants (id, name, display_name, created_at) \
     VALUES ('018f0000-0000-7000-8000-000000000001', 'acme', 'Acme', 1);
     INSERT INTO signing_domains (id, tenant_id, domain, selector, active, version, created_at, \
     updated_at, key_id, key_public_der, key_bits, key_origin, key_created_at, \
     key_encrypted_pkcs8, key_sealed_password) VALUES \
     ('018f0000-0000-7000-8000-000000000002', '018f0000-0000-7000-8000-000000000001', \
      'client.example', 'workplace', TRUE, 4, 1, 7, '018f0000-0000-7000-8000-000000000003', \
      'AB', 2048, 'imported', 6, 'sealed pem', 'pw'), \
     ('018f0000-0000-7000-8000-000000000004', '018f0000-0000-7000-8000-000000000001', \
      'new.example', 'workplace', FALSE, 1, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL);";

/// A database of the version before keys had states: each domain's single key becomes its one
/// active key, with its sealed parts, and a domain without a key keeps having none.
#[tokio::test]
async fn legacy_single_keys_become_one_active_key() {
    let directory = tempfile::tempdir().unwrap();
    let sqlite_url = format!("{}?mode=rwc", crate::testing::sqlite_url(directory.path()));
    let postgres_url = crate::testing::fresh_postgres_url().await;
    for (backend, url) in [("sqlite", sqlite_url), ("postgres", postgres_url)] {
        let legacy = LEGACY_DOMAINS
            .replace(
                "'AB'",
                if backend == "sqlite" {
                    "X'AB'"
                } else {
                    "'\\xAB'::bytea"
                },
            )
            .replace(
                "'pw'",
                if backend == "sqlite" {
                    "X'0102'"
                } else {
                    "'\\x0102'::bytea"
                },
            );
        let mut steps = migrations(backend, "0009", false);
        steps.push(legacy);
        // Every migration from 0009 on, so the legacy key reaches today's schema.
        steps.extend(
            migrations(backend, "9999", true)
                .into_iter()
                .skip(steps.len() - 1),
        );
        let store = match backend {
            "sqlite" => Store::Sqlite(crate::SqlitePools::single(
                sqlx::SqlitePool::connect(&url).await.unwrap(),
            )),
            _ => Store::Postgres(sqlx::PgPool::connect(&url).await.unwrap()),
        };
        for step in steps {
            crate::with_writer!(&store, pool => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(step)).execute(pool).await.unwrap();
            });
        }
        let tenant: TenantId = "018f0000-0000-7000-8000-000000000001".parse().unwrap();
        let domains = store.list_signing_domains(tenant).await.unwrap();
        assert_eq!(domains.len(), 2, "{backend}");
        let signing = &domains[0];
        assert!(signing.active);
        let key = signing.active_key().expect("the single key is active");
        assert_eq!(key.algorithm, sealpost_domain::KeyAlgorithm::Rsa);
        assert_eq!(key.id.to_string(), "018f0000-0000-7000-8000-000000000003");
        assert_eq!(
            (
                key.selector.as_str(),
                key.public_key_der.as_slice(),
                key.bits,
                key.origin
            ),
            ("workplace", &[0xAB][..], 2048, KeyOrigin::Imported)
        );
        assert_eq!(signing.dns.state, DnsState::Pending);
        assert_eq!(
            store.sealed_key(tenant, key.id).await.unwrap(),
            SealedKey {
                encrypted_pkcs8_pem: "sealed pem".into(),
                sealed_password: vec![1, 2]
            }
        );
        assert!(domains[1].keys.is_empty() && !domains[1].active);
    }
}
