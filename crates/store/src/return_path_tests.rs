//! Return-path domains on both backends: one per tenant and signing domain, replaced whole, a
//! domain that names one tenant only, found by the domain, and verified by a check.

use sealpost_domain::{
    DomainName, ReturnPath, SystemClock, Tenant, TenantId, TenantName, Timestamp,
};

use crate::{Store, StoreError, testing};

async fn tenant(store: &Store, name: &str) -> TenantId {
    let tenant = Tenant {
        id: TenantId::new(&SystemClock),
        name: TenantName::parse(name).unwrap(),
        display_name: name.to_owned(),
        created_at: Timestamp(1_800_000_000),
    };
    store.create_tenant(&tenant).await.unwrap();
    tenant.id
}

fn entry(tenant: TenantId, domain: &str, return_path: &str) -> ReturnPath {
    ReturnPath {
        tenant_id: tenant,
        domain: DomainName::parse(domain).unwrap(),
        return_path: DomainName::parse(return_path).unwrap(),
        created_at: Timestamp(1_800_000_000),
        verified_at: None,
    }
}

#[tokio::test]
async fn a_return_path_domain_names_one_tenant() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let acme = tenant(&store, "acme").await;
        let other = tenant(&store, "other").await;
        let first = entry(acme, "client.test", "rp.client.test");
        store.set_return_path(&first).await.unwrap();
        let replaced = entry(acme, "client.test", "bounces.client.test");
        store.set_return_path(&replaced).await.unwrap();
        assert!(matches!(
            store
                .set_return_path(&entry(other, "client.test", "bounces.client.test"))
                .await,
            Err(StoreError::Duplicate(_))
        ));
        let domain = DomainName::parse("client.test").unwrap();
        let bounces = DomainName::parse("bounces.client.test").unwrap();
        assert_eq!(
            store.return_path(acme, &domain).await.unwrap(),
            Some(replaced.clone())
        );
        assert_eq!(store.return_path(other, &domain).await.unwrap(), None);
        assert_eq!(
            store.return_path_by_domain(&bounces).await.unwrap(),
            Some(replaced.clone())
        );
        assert_eq!(
            store.list_return_paths(acme).await.unwrap(),
            vec![replaced.clone()]
        );
        assert_eq!(store.list_return_paths(other).await.unwrap(), vec![]);
        let old = DomainName::parse("rp.client.test").unwrap();
        assert_eq!(store.return_path_by_domain(&old).await.unwrap(), None);

        assert_eq!(store.verified_return_paths(&[acme]).await.unwrap(), vec![]);
        store
            .mark_return_path(acme, &domain, Some(Timestamp(1_800_000_500)))
            .await
            .unwrap();
        let verified = store.return_path(acme, &domain).await.unwrap().unwrap();
        assert_eq!(verified.verified_at, Some(Timestamp(1_800_000_500)));
        // A delivery round reads only the verified entries, and only of the tenants it names.
        assert_eq!(
            store.verified_return_paths(&[acme, other]).await.unwrap(),
            vec![verified.clone()]
        );
        assert_eq!(store.verified_return_paths(&[other]).await.unwrap(), vec![]);
        assert!(matches!(
            store.remove_return_path(other, &domain).await,
            Err(StoreError::NotFound)
        ));
        store.remove_return_path(acme, &domain).await.unwrap();
        assert_eq!(store.return_path_by_domain(&bounces).await.unwrap(), None);
    }
}
