//! Contacts, mailings, test addresses and checker reports, run identically against SQLite and
//! PostgreSQL.

use sealpost_domain::{
    CheckerAddress, CheckerReportId, CheckerReportRecord, Contact, ContactId, Mailing, MailingId,
    MessageId, SystemClock, Tenant, TenantId, TenantName, Timestamp,
};

use crate::{Store, StoreError, testing};

const NOW: i64 = 1_800_000_000;

async fn stores_with_tenants() -> (tempfile::TempDir, Vec<(Store, TenantId, TenantId)>) {
    let directory = tempfile::tempdir().unwrap();
    let mut stores = Vec::new();
    for store in testing::fresh_stores(directory.path()).await {
        let mut ids = Vec::new();
        for name in ["acme", "globex"] {
            let tenant = Tenant {
                id: TenantId::new(&SystemClock),
                name: TenantName::parse(name).unwrap(),
                display_name: name.into(),
                created_at: Timestamp(NOW),
            };
            store.create_tenant(&tenant).await.unwrap();
            ids.push(tenant.id);
        }
        stores.push((store, ids[0], ids[1]));
    }
    (directory, stores)
}

fn contact(tenant: TenantId, email: &str) -> Contact {
    Contact {
        id: ContactId::new(&SystemClock),
        tenant_id: tenant,
        name: email.split('@').next().unwrap().to_owned(),
        email: email.to_owned(),
        created_at: Timestamp(NOW),
    }
}

#[tokio::test]
async fn a_mailing_keeps_its_recipients_in_order_and_is_sent_once() {
    let (_directory, stores) = stores_with_tenants().await;
    for (store, acme, globex) in stores {
        let sender = contact(acme, "hello@client.example");
        let first = contact(acme, "b@receiver.example");
        let second = contact(acme, "a@receiver.example");
        for one in [&sender, &first, &second] {
            store.insert_contact(one).await.unwrap();
        }
        let again = store
            .insert_contact(&contact(acme, "hello@client.example"))
            .await;
        assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
        // Another tenant may have the same address.
        store
            .insert_contact(&contact(globex, "hello@client.example"))
            .await
            .unwrap();

        let mailing = Mailing {
            id: MailingId::new(&SystemClock),
            tenant_id: acme,
            sender: sender.clone(),
            recipients: vec![first.clone(), second.clone()],
            subject: "Subject".into(),
            body: "Body".into(),
            message_id: None,
            created_at: Timestamp(NOW),
            sent_at: None,
        };
        store.insert_mailing(&mailing).await.unwrap();
        assert_eq!(store.mailing(acme, mailing.id).await.unwrap(), mailing);
        assert!(matches!(
            store.mailing(globex, mailing.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.list_mailings(acme, 10).await.unwrap(),
            std::slice::from_ref(&mailing)
        );
        assert!(store.list_mailings(globex, 10).await.unwrap().is_empty());

        // The message table is not involved here, so the mark uses a message the database
        // holds; a foreign key would refuse an invented one.
        let message = MessageId::new(&SystemClock);
        let marked = store
            .mark_mailing_sent(globex, mailing.id, message, Timestamp(NOW + 1))
            .await;
        assert!(matches!(marked, Ok(false)), "another tenant cannot mark it");
        let recorded = store
            .record_mailing_message(globex, mailing.id, first.id, message)
            .await;
        assert!(
            matches!(recorded, Ok(false)),
            "another tenant cannot record a recipient's message"
        );
        assert!(
            store
                .mailing_messages(acme, mailing.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.list_contacts(acme).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn test_addresses_and_reports_stay_with_their_tenant() {
    let (_directory, stores) = stores_with_tenants().await;
    for (store, acme, globex) in stores {
        let address = CheckerAddress {
            token: "0123456789abcdef01234567".into(),
            tenant_id: acme,
            message_id: None,
            created_at: Timestamp(NOW),
        };
        store.insert_checker_address(&address).await.unwrap();
        assert_eq!(
            store.checker_address(&address.token).await.unwrap(),
            Some(address.clone())
        );
        assert_eq!(store.checker_address("absent").await.unwrap(), None);

        let report = CheckerReportRecord {
            id: CheckerReportId::new(&SystemClock),
            token: address.token.clone(),
            tenant_id: acme,
            received_at: Timestamp(NOW + 5),
            client_ip: "127.0.0.1".into(),
            helo: "mail.example".into(),
            mail_from: "".into(),
            score: 7.5,
            report: "{}".into(),
        };
        store
            .insert_checker_report(&report, b"Subject: x\r\n\r\nbody\r\n")
            .await
            .unwrap();
        assert_eq!(
            store.checker_reports(acme, None, 10).await.unwrap(),
            std::slice::from_ref(&report)
        );
        assert_eq!(
            store
                .checker_reports(acme, Some(&address.token), 10)
                .await
                .unwrap(),
            std::slice::from_ref(&report)
        );
        assert!(
            store
                .checker_reports(acme, Some("ffffffffffffffffffffffff"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .checker_reports(globex, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.checker_report(acme, report.id).await.unwrap(), report);
        assert!(matches!(
            store.checker_report(globex, report.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.checker_report_raw(acme, report.id).await.unwrap(),
            b"Subject: x\r\n\r\nbody\r\n"
        );
        assert!(store.checker_report_raw(globex, report.id).await.is_err());
    }
}
