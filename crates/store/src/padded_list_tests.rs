//! The reads a delivery round makes with `IN (...)` lists padded to a power of two with their
//! last value (`paging::padded`), on both backends: every claimed message and every verified
//! return path comes back once, never once per repeat.

use sealpost_domain::{DomainName, ReturnPath, Timestamp};

use crate::queue_tests::{message, stores_with_tenant};

#[tokio::test]
async fn padded_lists_read_each_row_once() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let messages: Vec<_> = (0..5)
            .map(|index| message(tenant, &[&format!("r{index}@receiver.test")], None))
            .collect();
        store.insert_messages(&messages).await.unwrap();
        // Three ids are read as four, five as eight.
        for count in [3, 5] {
            let ids: Vec<_> = messages[..count].iter().map(|message| message.id).collect();
            let mut read: Vec<_> = store
                .messages_to_deliver(&ids)
                .await
                .unwrap()
                .into_iter()
                .map(|message| message.id)
                .collect();
            read.sort();
            let mut expected = ids.clone();
            expected.sort();
            assert_eq!(read, expected);
        }

        let domain = DomainName::parse("client.test").unwrap();
        store
            .set_return_path(&ReturnPath {
                tenant_id: tenant,
                domain: domain.clone(),
                return_path: DomainName::parse("rp.client.test").unwrap(),
                created_at: Timestamp(1_800_000_000),
                verified_at: None,
            })
            .await
            .unwrap();
        store
            .mark_return_path(tenant, &domain, Some(Timestamp(1_800_000_001)))
            .await
            .unwrap();
        // One tenant named three times is read as four.
        let paths = store
            .verified_return_paths(&[tenant, tenant, tenant])
            .await
            .unwrap();
        assert_eq!(paths.len(), 1, "{paths:?}");
    }
}
