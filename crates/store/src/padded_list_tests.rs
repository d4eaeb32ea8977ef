//! The reads made with `IN (...)` lists padded to a power of two with their last value
//! (`paging::padded`), on both backends: every claimed message, verified return path, listed
//! message with its recipients and listed mailing with its contacts comes back once, never once
//! per repeat.

use sealpost_domain::{
    Contact, ContactId, DomainName, Mailing, MailingId, MessageId, ReturnPath, SystemClock,
    TenantId, Timestamp,
};

use crate::Store;
use crate::queue_tests::{message, stores_with_tenant};

/// Stores `count` messages of the tenant, each to one recipient, and returns their ids.
async fn stored_messages(store: &Store, tenant: TenantId, count: usize) -> Vec<MessageId> {
    let messages: Vec<_> = (0..count)
        .map(|index| message(tenant, &[&format!("r{index}@receiver.test")], None))
        .collect();
    store.insert_messages(&messages).await.unwrap();
    messages.iter().map(|message| message.id).collect()
}

#[tokio::test]
async fn padded_lists_read_each_row_once() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let stored = stored_messages(&store, tenant, 5).await;
        // Three ids are read as four, five as eight.
        for count in [3, 5] {
            let ids = &stored[..count];
            let mut read: Vec<_> = store
                .messages_to_deliver(ids)
                .await
                .unwrap()
                .into_iter()
                .map(|message| message.id)
                .collect();
            read.sort();
            let mut expected = ids.to_vec();
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

#[tokio::test]
async fn padded_page_reads_list_each_row_once() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let stored = stored_messages(&store, tenant, 5).await;
        // The summaries of three messages and of five, each with its one recipient.
        for count in [3, 5] {
            let ids = &stored[..count];
            let summaries = store.message_summaries(tenant, ids).await.unwrap();
            let mut read: Vec<_> = summaries.iter().map(|summary| summary.id).collect();
            read.sort();
            let mut expected = ids.to_vec();
            expected.sort();
            assert_eq!(read, expected);
            for summary in &summaries {
                assert_eq!(summary.recipients.len(), 1, "{summary:?}");
            }
        }

        // Three mailings from one sender: three mailing ids and the sender's id three times,
        // each list read as four.
        let contact = |email: &str| Contact {
            id: ContactId::new(&SystemClock),
            tenant_id: tenant,
            name: email.to_owned(),
            email: email.to_owned(),
            created_at: Timestamp(1_800_000_000),
        };
        let sender = contact("hello@client.test");
        let recipient = contact("someone@receiver.test");
        for one in [&sender, &recipient] {
            store.insert_contact(one).await.unwrap();
        }
        for index in 0..3 {
            let mailing = Mailing {
                id: MailingId::new(&SystemClock),
                tenant_id: tenant,
                sender: sender.clone(),
                recipients: vec![recipient.clone()],
                subject: format!("Subject {index}"),
                body: "Body".into(),
                message_id: None,
                created_at: Timestamp(1_800_000_000 + index),
                sent_at: None,
            };
            store.insert_mailing(&mailing).await.unwrap();
        }
        let mailings = store.list_mailings(tenant, 10).await.unwrap();
        assert_eq!(mailings.len(), 3, "{mailings:?}");
        for mailing in &mailings {
            assert_eq!(mailing.sender, sender);
            assert_eq!(mailing.recipients, std::slice::from_ref(&recipient));
        }
    }
}

/// A list longer than one chunk (`paging::LIST_CHUNK`) is read whole, a chunk at a time: 600
/// summaries, each with its recipient.
#[tokio::test]
async fn a_list_longer_than_a_chunk_is_read_whole() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let ids = stored_messages(&store, tenant, 600).await;
        let summaries = store.message_summaries(tenant, &ids).await.unwrap();
        assert_eq!(summaries.len(), 600);
        assert!(
            summaries
                .iter()
                .all(|summary| summary.recipients.len() == 1)
        );
    }
}
