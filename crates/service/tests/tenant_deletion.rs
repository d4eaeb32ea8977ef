//! Deleting a tenant with real sealed secrets, on both backends (SPEC S11.5): after the first
//! phase alone (a crash) none of its keys opens and its relay password is gone, the next start
//! finishes the deletion, and another tenant's key still opens.

use std::sync::Arc;

use sealpost_domain::TenantId;
use sealpost_service::{KeyImport, RelayForm, Service, ServiceError, SystemClock};
use sealpost_store::{Store, testing};
use sealpost_vault::{MasterKey, Vault};

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

async fn open(store: &Store, master: &str) -> Service {
    let vault = Vault::new(MasterKey::from_text(master).unwrap());
    Service::open(
        store.clone(),
        vault,
        Arc::new(SystemClock),
        unused_resolver(),
    )
    .await
    .unwrap()
}

/// A tenant with an imported signing key and a relay password; returns the key's id.
async fn tenant_with_secrets(service: &Service, name: &str) -> (TenantId, sealpost_domain::KeyId) {
    let tenant = service.accounts().create_tenant(name, "").await.unwrap();
    let domain = service
        .signing_domains()
        .add_signing_domain(tenant.id, &format!("{name}.example"), "s1")
        .await
        .unwrap();
    let pem = fixture("rsa2048-pkcs8.pem");
    let import = KeyImport {
        pem: &pem,
        password: None,
    };
    service
        .signing_domains()
        .import_key(tenant.id, domain.id, import)
        .await
        .unwrap();
    let relay = RelayForm {
        host: "smtp.relay.example",
        port: 587,
        username: "mailer",
        password: Some("relay password"),
        implicit_tls: false,
        tls_mode: "required",
    };
    service
        .relays()
        .set_relay_delivery(tenant.id, relay)
        .await
        .unwrap();
    let stored = service
        .store()
        .signing_domain(tenant.id, domain.id)
        .await
        .unwrap();
    (tenant.id, stored.current_key().unwrap().id)
}

/// Whether the tenant's key opens with the vault, as signing would open it.
async fn key_opens(
    store: &Store,
    vault: &Vault,
    tenant: TenantId,
    key: sealpost_domain::KeyId,
) -> bool {
    match store.sealed_key(tenant, key).await {
        Ok(sealed) => vault.open(tenant, key, &sealed).is_ok(),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_deleted_tenants_keys_are_shredded_before_its_rows_go() {
    let directory = tempfile::tempdir().unwrap();
    let urls = [
        testing::sqlite_url(directory.path()),
        testing::fresh_postgres_url().await,
    ];
    for url in urls {
        let store = Store::connect(&url).await.unwrap();
        let master = MasterKey::generate().to_text();
        let vault = Vault::new(MasterKey::from_text(&master).unwrap());
        let service = open(&store, &master).await;
        let (doomed, doomed_key) = tenant_with_secrets(&service, "doomed").await;
        let (kept, kept_key) = tenant_with_secrets(&service, "kept").await;
        assert!(key_opens(&store, &vault, doomed, doomed_key).await);

        // The crash: only the first phase committed.
        store
            .shred_tenant(doomed, sealpost_domain::Timestamp(1))
            .await
            .unwrap();
        assert!(!key_opens(&store, &vault, doomed, doomed_key).await);
        assert_eq!(store.sealed_relay_password(doomed).await.unwrap(), None);
        assert!(key_opens(&store, &vault, kept, kept_key).await);
        assert!(store.sealed_relay_password(kept).await.unwrap().is_some());

        // The next start finishes the deletion.
        let restarted = open(&store, &master).await;
        assert!(matches!(
            restarted.accounts().tenant(doomed).await,
            Err(ServiceError::NotFound("tenant"))
        ));
        let kept_tenant = restarted.accounts().tenant(kept).await.unwrap();

        restarted
            .accounts()
            .delete_tenant(&kept_tenant)
            .await
            .unwrap();
        assert!(!key_opens(&store, &vault, kept, kept_key).await);
        assert!(
            restarted
                .accounts()
                .list_tenants()
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            restarted.accounts().delete_tenant(&kept_tenant).await,
            Err(ServiceError::NotFound("tenant"))
        ));
    }
}
