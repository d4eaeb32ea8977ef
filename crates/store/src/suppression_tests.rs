//! The suppression list on both backends: entries added in one transaction, an address kept
//! once whatever its case, lookups for a submission's recipients, removal, and one tenant's list
//! never seen by another.

use sealpost_domain::{
    ApiKeyId, MessageId, SuppressedAddress, Suppression, SuppressionReason, SystemClock, Tenant,
    TenantId, TenantName, Timestamp,
};

use crate::{ApiKeyInfo, Store, StoreError, testing};

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

fn entry(tenant: TenantId, address: &str, reason: SuppressionReason) -> Suppression {
    Suppression {
        tenant_id: tenant,
        address: SuppressedAddress::parse(address).unwrap(),
        reason,
        message_id: Some(MessageId::new(&SystemClock)),
        detail: "550 5.1.1 user unknown".to_owned(),
        created_at: Timestamp(1_800_000_100),
    }
}

fn address(text: &str) -> SuppressedAddress {
    SuppressedAddress::parse(text).unwrap()
}

#[tokio::test]
async fn entries_are_kept_per_tenant_once_per_address() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let acme = tenant(&store, "acme").await;
        let other = tenant(&store, "other").await;
        let gone = entry(acme, "Gone@Client.test", SuppressionReason::HardBounce);
        let spam = entry(acme, "spam@client.test", SuppressionReason::Complaint);
        let added = store
            .add_suppressions(acme, &[gone.clone(), spam.clone()])
            .await
            .unwrap();
        assert_eq!(added, 2);

        // The same address again, in another case and for another reason, keeps the first entry.
        let again = entry(acme, "gone@client.test", SuppressionReason::Manual);
        assert_eq!(store.add_suppressions(acme, &[again]).await.unwrap(), 0);
        assert_eq!(
            store
                .suppression(acme, &address("GONE@client.test"))
                .await
                .unwrap(),
            Some(gone.clone())
        );
        assert_eq!(
            store.list_suppressions(acme).await.unwrap(),
            vec![gone.clone(), spam.clone()]
        );

        // A submission's read: the version with the entries among its recipients, on one
        // recipient or several, listed or not. A return path raises acme's version, so that
        // it differs from the other tenant's and from a version that was never raised.
        let raise = format!(
            "INSERT INTO return_paths (tenant_id, domain, return_path, created_at) \
             VALUES ('{acme}', 'client.test', 'bounces.client.test', 1)"
        );
        with_writer!(&store, pool => {
            sqlx::query(sqlx::AssertSqlSafe(raise)).execute(pool).await.unwrap();
        });
        let version = store.sending_version(acme).await.unwrap();
        assert!(version > store.sending_version(other).await.unwrap());
        let among = |addresses: &'static [&'static str]| {
            let addresses: Vec<SuppressedAddress> =
                addresses.iter().map(|text| address(text)).collect();
            let store = &store;
            async move {
                store
                    .sending_version_and_suppressions(acme, None, &addresses)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            among(&["fine@client.test", "spam@client.test", "other@client.test"]).await,
            (version, vec![spam.clone()])
        );
        assert_eq!(
            among(&["spam@client.test"]).await,
            (version, vec![spam.clone()])
        );
        assert_eq!(among(&["fine@client.test"]).await, (version, Vec::new()));
        assert_eq!(among(&[]).await, (version, Vec::new()));
        let mut both = among(&["gone@client.test", "spam@client.test"]).await;
        both.1
            .sort_by(|a, b| a.address.as_str().cmp(b.address.as_str()));
        assert_eq!(both, (version, vec![gone.clone(), spam.clone()]));
        let missing = "018f0000-0000-7000-8000-0000000000ff".parse().unwrap();
        assert!(matches!(
            store
                .sending_version_and_suppressions(missing, None, &[address("spam@client.test")])
                .await,
            Err(StoreError::NotFound)
        ));

        // Another tenant sees nothing of it and cannot remove it.
        assert!(store.list_suppressions(other).await.unwrap().is_empty());
        assert!(
            store
                .sending_version_and_suppressions(other, None, &[address("spam@client.test")])
                .await
                .unwrap()
                .1
                .is_empty()
        );
        assert!(matches!(
            store
                .remove_suppression(other, &address("spam@client.test"))
                .await,
            Err(StoreError::NotFound)
        ));

        store
            .remove_suppression(acme, &address("spam@client.test"))
            .await
            .unwrap();
        assert!(matches!(
            store
                .remove_suppression(acme, &address("spam@client.test"))
                .await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.list_suppressions(acme).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_batch_with_an_entry_of_another_tenant_stores_nothing() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let acme = tenant(&store, "acme").await;
        let other = tenant(&store, "other").await;
        let batch = [
            entry(acme, "one@client.test", SuppressionReason::Manual),
            entry(other, "two@client.test", SuppressionReason::Manual),
        ];
        assert!(matches!(
            store.add_suppressions(acme, &batch).await,
            Err(StoreError::Corrupt(_))
        ));
        assert!(store.list_suppressions(acme).await.unwrap().is_empty());
        assert!(store.list_suppressions(other).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_submission_s_read_confirms_its_api_key() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let acme = tenant(&store, "acme").await;
        let other = tenant(&store, "other").await;
        let key = ApiKeyInfo {
            id: ApiKeyId::new(&SystemClock),
            label: "application".to_owned(),
            created_at: Timestamp(1_800_000_000),
        };
        store.add_api_key(acme, &key, "acme-hash").await.unwrap();
        store
            .add_suppressions(
                acme,
                &[entry(
                    acme,
                    "spam@client.test",
                    SuppressionReason::Complaint,
                )],
            )
            .await
            .unwrap();
        let read = |tenant: TenantId, api_key: &'static str, addresses: Vec<SuppressedAddress>| {
            let store = &store;
            async move {
                store
                    .sending_version_and_suppressions(tenant, Some(api_key), &addresses)
                    .await
            }
        };
        let spam = || vec![address("spam@client.test")];

        // The tenant's own key: the same answer as without one, with recipients or none.
        let (_, entries) = read(acme, "acme-hash", spam()).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert!(read(acme, "acme-hash", Vec::new()).await.is_ok());

        // A key of no tenant, or of another tenant, is refused, recipients or none.
        for (tenant, api_key) in [(acme, "unknown-hash"), (other, "acme-hash")] {
            assert!(matches!(
                read(tenant, api_key, spam()).await,
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                read(tenant, api_key, Vec::new()).await,
                Err(StoreError::NotFound)
            ));
        }

        // A deleted key is refused from then on.
        store.delete_api_key(acme, key.id).await.unwrap();
        assert!(matches!(
            read(acme, "acme-hash", spam()).await,
            Err(StoreError::NotFound)
        ));
    }
}
