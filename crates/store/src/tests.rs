//! The store's behaviour, run identically against SQLite and PostgreSQL.

use sealpost_domain::{
    ApiKeyId, DomainName, KeyId, KeyOrigin, SealedKey, Selector, SigningDomain, SigningDomainId,
    SigningDomainUpdate, SigningKey, SystemClock, Tenant, TenantId, TenantName, Timestamp,
};

use crate::tenants::ApiKeyInfo;
use crate::{Store, StoreError, testing};

fn tenant(name: &str) -> Tenant {
    Tenant {
        id: TenantId::new(&SystemClock),
        name: TenantName::parse(name).unwrap(),
        display_name: format!("{name} Ltd"),
        created_at: Timestamp(1_700_000_000),
    }
}

fn signing_domain(tenant: &Tenant, domain: &str, selector: &str) -> SigningDomain {
    SigningDomain {
        id: SigningDomainId::new(&SystemClock),
        tenant_id: tenant.id,
        domain: DomainName::parse(domain).unwrap(),
        selector: Selector::parse(selector).unwrap(),
        active: false,
        key: None,
        version: 1,
        created_at: Timestamp(1_700_000_100),
        updated_at: Timestamp(1_700_000_100),
    }
}

fn key() -> (SigningKey, SealedKey) {
    (
        SigningKey {
            id: KeyId::new(&SystemClock),
            public_key_der: vec![0x30, 0x82, 1, 2, 3],
            bits: 2048,
            origin: KeyOrigin::Generated,
            created_at: Timestamp(1_700_000_200),
        },
        SealedKey {
            encrypted_pkcs8_pem: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n".to_owned(),
            sealed_password: vec![9; 60],
        },
    )
}

async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        test(store).await;
    }
}

#[tokio::test]
async fn tenants_are_unique_by_name() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        store.create_tenant(&acme).await.unwrap();
        store.create_tenant(&tenant("globex")).await.unwrap();
        let again = store.create_tenant(&tenant("acme")).await;
        assert!(matches!(again, Err(StoreError::Duplicate(what)) if what.contains("tenant")));

        let names: Vec<String> = store
            .list_tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|tenant| tenant.name.as_str().to_owned())
            .collect();
        assert_eq!(names, ["acme", "globex"]);
        assert_eq!(store.tenant_by_name(&acme.name).await.unwrap(), acme);
        assert_eq!(store.tenant(acme.id).await.unwrap(), acme);
        assert!(matches!(
            store.tenant(TenantId::new(&SystemClock)).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn api_keys_resolve_to_their_tenant_only() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        store.create_tenant(&acme).await.unwrap();
        let info = ApiKeyInfo {
            id: ApiKeyId::new(&SystemClock),
            label: "backend".to_owned(),
            created_at: Timestamp(1),
        };
        store.add_api_key(acme.id, &info, "hash-1").await.unwrap();
        assert_eq!(
            store.tenant_for_api_key("hash-1").await.unwrap(),
            Some(acme.id)
        );
        assert_eq!(store.tenant_for_api_key("hash-2").await.unwrap(), None);
        assert_eq!(
            store.list_api_keys(acme.id).await.unwrap(),
            std::slice::from_ref(&info)
        );

        let unknown_tenant = store
            .add_api_key(TenantId::new(&SystemClock), &info, "hash-3")
            .await;
        assert!(matches!(unknown_tenant, Err(StoreError::NotFound)));
        let reused_token = ApiKeyInfo {
            id: ApiKeyId::new(&SystemClock),
            ..info
        };
        let reused = store.add_api_key(acme.id, &reused_token, "hash-1").await;
        assert!(matches!(reused, Err(StoreError::Duplicate(_))));

        let globex = tenant("globex");
        store.create_tenant(&globex).await.unwrap();
        let foreign = store.delete_api_key(globex.id, info.id).await;
        assert!(matches!(foreign, Err(StoreError::NotFound)));
        assert_eq!(
            store.tenant_for_api_key("hash-1").await.unwrap(),
            Some(acme.id)
        );
        store.delete_api_key(acme.id, info.id).await.unwrap();
        assert_eq!(store.tenant_for_api_key("hash-1").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn domain_and_selector_pair_is_unique_per_tenant() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        let globex = tenant("globex");
        store.create_tenant(&acme).await.unwrap();
        store.create_tenant(&globex).await.unwrap();

        let first = signing_domain(&acme, "client.example", "workplace");
        store.insert_signing_domain(acme.id, &first).await.unwrap();
        // Several domains may share a selector, and one domain may have several selectors.
        let shared_selector = signing_domain(&acme, "other.example", "workplace");
        store
            .insert_signing_domain(acme.id, &shared_selector)
            .await
            .unwrap();
        let second_selector = signing_domain(&acme, "client.example", "s2");
        store
            .insert_signing_domain(acme.id, &second_selector)
            .await
            .unwrap();
        // Another tenant may register the same pair.
        let other_tenant = signing_domain(&globex, "client.example", "workplace");
        store
            .insert_signing_domain(globex.id, &other_tenant)
            .await
            .unwrap();

        let duplicate = signing_domain(&acme, "client.example", "workplace");
        let result = store.insert_signing_domain(acme.id, &duplicate).await;
        assert!(matches!(result, Err(StoreError::Duplicate(what)) if what.contains("selector")));

        let renamed = SigningDomainUpdate {
            selector: Some(Selector::parse("workplace").unwrap()),
            ..SigningDomainUpdate::default()
        };
        let collision = store
            .update_signing_domain(acme.id, second_selector.id, &renamed, Timestamp(5))
            .await;
        assert!(matches!(collision, Err(StoreError::Duplicate(_))));

        let unknown = signing_domain(&acme, "new.example", "workplace");
        let result = store
            .insert_signing_domain(TenantId::new(&SystemClock), &unknown)
            .await;
        assert!(matches!(result, Err(StoreError::NotFound)));

        let listed = store.list_signing_domains(acme.id).await.unwrap();
        assert_eq!(listed, [second_selector, first, shared_selector]);
    })
    .await;
}

#[tokio::test]
async fn keys_updates_and_deletion() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        store.create_tenant(&acme).await.unwrap();
        let domain = signing_domain(&acme, "client.example", "workplace");
        store.insert_signing_domain(acme.id, &domain).await.unwrap();
        assert_eq!(store.sealed_key(acme.id, domain.id).await.unwrap(), None);

        let (public, sealed) = key();
        let with_key = store
            .set_signing_key(acme.id, domain.id, &public, &sealed, Timestamp(10))
            .await
            .unwrap();
        assert_eq!(with_key.key.as_ref(), Some(&public));
        assert_eq!(with_key.version, 2);
        assert_eq!(
            store.sealed_key(acme.id, domain.id).await.unwrap(),
            Some((public.id, sealed))
        );

        let activate = SigningDomainUpdate {
            active: Some(true),
            ..SigningDomainUpdate::default()
        };
        let active = store
            .update_signing_domain(acme.id, domain.id, &activate, Timestamp(11))
            .await
            .unwrap();
        assert!(active.active);
        assert_eq!(active.version, 3);
        assert_eq!(active.updated_at, Timestamp(11));

        // A replaced key needs its DNS record published first, so the domain goes inactive.
        let (new_public, new_sealed) = key();
        let replaced = store
            .set_signing_key(acme.id, domain.id, &new_public, &new_sealed, Timestamp(12))
            .await
            .unwrap();
        assert!(!replaced.active);
        assert_eq!(replaced.key, Some(new_public));

        store
            .delete_signing_domain(acme.id, domain.id)
            .await
            .unwrap();
        let gone = store.signing_domain(acme.id, domain.id).await;
        assert!(matches!(gone, Err(StoreError::NotFound)));
        let again = store.delete_signing_domain(acme.id, domain.id).await;
        assert!(matches!(again, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn the_schema_refuses_an_active_domain_without_a_key() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        store.create_tenant(&acme).await.unwrap();
        let domain = signing_domain(&acme, "client.example", "workplace");
        store.insert_signing_domain(acme.id, &domain).await.unwrap();
        let activate = SigningDomainUpdate {
            active: Some(true),
            ..SigningDomainUpdate::default()
        };
        let result = store
            .update_signing_domain(acme.id, domain.id, &activate, Timestamp(11))
            .await;
        assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
        assert!(
            !store
                .signing_domain(acme.id, domain.id)
                .await
                .unwrap()
                .active
        );
    })
    .await;
}

#[tokio::test]
async fn no_operation_reaches_another_tenants_domain() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        let globex = tenant("globex");
        store.create_tenant(&acme).await.unwrap();
        store.create_tenant(&globex).await.unwrap();
        let domain = signing_domain(&acme, "client.example", "workplace");
        store.insert_signing_domain(acme.id, &domain).await.unwrap();
        let (public, sealed) = key();
        store
            .set_signing_key(acme.id, domain.id, &public, &sealed, Timestamp(10))
            .await
            .unwrap();
        let before = store.signing_domain(acme.id, domain.id).await.unwrap();

        let not_found = |result: Result<_, StoreError>| matches!(result, Err(StoreError::NotFound));
        assert!(not_found(
            store.signing_domain(globex.id, domain.id).await.map(drop)
        ));
        assert!(not_found(
            store.sealed_key(globex.id, domain.id).await.map(drop)
        ));
        let update = SigningDomainUpdate {
            active: Some(true),
            selector: Some(Selector::parse("evil").unwrap()),
        };
        let updated = store
            .update_signing_domain(globex.id, domain.id, &update, Timestamp(20))
            .await;
        assert!(not_found(updated.map(drop)));
        let (other_public, other_sealed) = key();
        let rekeyed = store
            .set_signing_key(
                globex.id,
                domain.id,
                &other_public,
                &other_sealed,
                Timestamp(20),
            )
            .await;
        assert!(not_found(rekeyed.map(drop)));
        assert!(not_found(
            store.delete_signing_domain(globex.id, domain.id).await
        ));
        assert!(
            store
                .list_signing_domains(globex.id)
                .await
                .unwrap()
                .is_empty()
        );

        assert_eq!(
            store.signing_domain(acme.id, domain.id).await.unwrap(),
            before
        );
    })
    .await;
}

#[tokio::test]
async fn meta_values_are_written_once() {
    for_each_backend(|store| async move {
        assert_eq!(store.meta("check").await.unwrap(), None);
        assert_eq!(
            store.meta_insert_if_absent("check", b"one").await.unwrap(),
            b"one"
        );
        assert_eq!(
            store.meta_insert_if_absent("check", b"two").await.unwrap(),
            b"one"
        );
    })
    .await;
}

#[tokio::test]
async fn sqlite_commits_survive_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let url = testing::sqlite_url(directory.path());
    let acme = tenant("acme");
    {
        let store = Store::connect(&url).await.unwrap();
        store.create_tenant(&acme).await.unwrap();
        store.close().await;
    }
    let reopened = Store::connect(&url).await.unwrap();
    assert_eq!(reopened.tenant(acme.id).await.unwrap(), acme);
}

#[tokio::test]
async fn unknown_database_urls_are_refused() {
    let result = Store::connect("mysql://localhost/db").await;
    assert!(matches!(result, Err(StoreError::Url(message)) if message.contains("sqlite://")));
}

#[tokio::test]
async fn postgres_statements_time_out() {
    let url = testing::fresh_postgres_url().await;
    let options = crate::StoreOptions {
        max_connections: Some(2),
        statement_timeout: std::time::Duration::from_millis(200),
    };
    let store = Store::connect_with(&url, &options).await.unwrap();
    let Store::Postgres(pool) = &store else {
        panic!("a PostgreSQL URL opens PostgreSQL");
    };
    let error = sqlx::query("SELECT pg_sleep(2)")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("statement timeout"), "{error}");
}
