//! Lists that page, count, filter and search in the database, on both backends: messages,
//! mailings (with their progress worked out in SQL), contacts and mail tester reports.

use sealpost_domain::{
    CheckerAddress, CheckerReportId, CheckerReportRecord, Contact, ContactId, DomainName, Mailing,
    MailingId, MailingProgress, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState,
    Route, Selector, SigningRecord, SubmissionSource, SystemClock, Tenant, TenantId, TenantName,
    Timestamp,
};

use crate::{
    Cursor, DraftDeletion, MailingFilter, MessageFilter, Page, PageRequest, Store, StoreError,
    testing,
};

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

fn message(tenant: TenantId, at: i64, subject: &str, to: &str) -> QueuedMessage {
    QueuedMessage {
        id: MessageId::new(&SystemClock),
        tenant_id: tenant,
        mail_from: "hello@client.test".into(),
        raw: format!("From: hello@client.test\r\nSubject: {subject}\r\n\r\nbody\r\n").into_bytes(),
        signing: SigningRecord::Signed {
            domain: DomainName::parse("client.test").unwrap(),
            selector: Selector::parse("workplace").unwrap(),
        },
        route: Route::Native,
        source: SubmissionSource::Http,
        idempotency_key: None,
        accepted_at: Timestamp(at),
        expires_at: Timestamp(at + 86_400),
        recipients: vec![Recipient {
            id: RecipientId::new(&SystemClock),
            address: to.to_owned(),
            domain: to.rsplit_once('@').unwrap().1.to_owned(),
            state: RecipientState::Queued,
            attempts: 0,
            next_attempt_at: None,
            last_reply: None,
            updated_at: Timestamp(at),
        }],
    }
}

async fn set_state(store: &Store, message: MessageId, state: RecipientState) {
    with_writer!(store, pool => {
        sqlx::query("UPDATE recipients SET state = $1 WHERE message_id = $2")
            .bind(state.as_str())
            .bind(message)
            .execute(pool)
            .await
            .unwrap();
    });
}

/// Every page of a list, following the cursors, checking each page's total.
async fn walk<T, F, Fut>(limit: u32, mut read: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut all = Vec::new();
    let mut request = PageRequest::first(limit);
    loop {
        let page = read(request.clone()).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        let total = page.total;
        all.extend(page.items);
        match page.next {
            Some(next) => request.after = Some(next),
            None => {
                assert_eq!(all.len() as u64, total, "the pages hold the total");
                return all;
            }
        }
    }
}

#[tokio::test]
async fn message_pages_cover_every_message_once_and_filter_in_the_database() {
    let (_directory, stores) = stores_with_tenants().await;
    for (store, acme, globex) in stores {
        let mut ids = Vec::new();
        // Two messages share a time, so the id breaks the tie between pages.
        for (number, at) in [0, 1, 1, 2, 3, 4, 5].into_iter().enumerate() {
            let subject = format!("Work order {number}");
            let one = message(
                acme,
                NOW + at,
                &subject,
                &format!("r{number}@receiver.test"),
            );
            store.insert_message(&one).await.unwrap();
            ids.push(one.id);
        }
        let encoded = message(
            acme,
            NOW + 9,
            "=?utf-8?b?R3LDvMOfZQ==?= 100%",
            "x@other.test",
        );
        store.insert_message(&encoded).await.unwrap();
        store
            .insert_message(&message(
                globex,
                NOW + 9,
                "Work order 9",
                "r9@receiver.test",
            ))
            .await
            .unwrap();
        set_state(&store, ids[2], RecipientState::Failed).await;
        set_state(&store, ids[5], RecipientState::Failed).await;

        let all = MessageFilter::default();
        let listed = walk(3, |request| {
            let (store, all) = (&store, &all);
            async move { store.message_page(acme, all, &request).await }
        })
        .await;
        let mut expected = ids.clone();
        expected.push(encoded.id);
        expected.reverse();
        let listed: Vec<MessageId> = listed.iter().map(|message| message.id).collect();
        assert_eq!(listed.len(), 8);
        let mut sorted = listed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 8, "no message on two pages");
        assert_eq!(listed[0], encoded.id, "newest first");

        let check = |filter: MessageFilter, expect: Vec<MessageId>| {
            let store = &store;
            async move {
                let page = store
                    .message_page(acme, &filter, &PageRequest::first(50))
                    .await
                    .unwrap();
                let mut found: Vec<MessageId> = page.items.iter().map(|m| m.id).collect();
                found.sort();
                let mut expect = expect;
                expect.sort();
                assert_eq!(found, expect, "{filter:?}");
                assert_eq!(page.total, expect.len() as u64, "{filter:?}");
            }
        };
        let failed = MessageFilter {
            state: Some(RecipientState::Failed),
            ..MessageFilter::default()
        };
        check(failed, vec![ids[2], ids[5]]).await;
        let by_subject = MessageFilter {
            search: Some("ORDER 3".into()),
            ..MessageFilter::default()
        };
        check(by_subject, vec![ids[3]]).await;
        let decoded = MessageFilter {
            search: Some("grüße 100%".into()),
            ..MessageFilter::default()
        };
        check(decoded, vec![encoded.id]).await;
        let wildcard = MessageFilter {
            search: Some("%".into()),
            ..MessageFilter::default()
        };
        check(wildcard, vec![encoded.id]).await;
        let by_recipient = MessageFilter {
            search: Some("r6@receiver".into()),
            state: Some(RecipientState::Queued),
            since: Some(Timestamp(NOW + 5)),
        };
        check(by_recipient, vec![ids[6]]).await;
        let recent = MessageFilter {
            since: Some(Timestamp(NOW + 4)),
            ..MessageFilter::default()
        };
        check(recent, vec![ids[5], ids[6], encoded.id]).await;

        // Messages accepted before the Subject was kept get theirs when the store opens.
        with_writer!(&store, pool => {
            sqlx::query("UPDATE messages SET subject = NULL").execute(pool).await.unwrap();
        });
        assert_eq!(store.fill_missing_subjects().await.unwrap(), 9);
        check(
            MessageFilter {
                search: Some("order 3".into()),
                ..MessageFilter::default()
            },
            vec![ids[3]],
        )
        .await;
        let found = store.message_summaries(globex, &ids).await.unwrap();
        assert!(found.is_empty(), "another tenant's ids are not found");
    }
}

fn contact(tenant: TenantId, name: &str, email: &str) -> Contact {
    Contact {
        id: ContactId::new(&SystemClock),
        tenant_id: tenant,
        name: name.into(),
        email: email.into(),
        created_at: Timestamp(NOW),
    }
}

fn mailing(tenant: TenantId, at: i64, subject: &str, sender: &Contact, to: &[&Contact]) -> Mailing {
    Mailing {
        id: MailingId::new(&SystemClock),
        tenant_id: tenant,
        sender: sender.clone(),
        recipients: to.iter().map(|contact| (*contact).clone()).collect(),
        subject: subject.into(),
        body: "Body".into(),
        message_id: None,
        created_at: Timestamp(at),
        sent_at: None,
    }
}

/// Sends a mailing as the service does: one message per recipient contact, in the states given.
async fn send(store: &Store, mailing: &Mailing, states: &[RecipientState]) {
    let mut first = None;
    for (contact, state) in mailing.recipients.iter().zip(states) {
        let one = message(mailing.tenant_id, NOW, &mailing.subject, &contact.email);
        store.insert_message(&one).await.unwrap();
        set_state(store, one.id, *state).await;
        store
            .record_mailing_message(mailing.tenant_id, mailing.id, contact.id, one.id)
            .await
            .unwrap();
        first.get_or_insert(one.id);
    }
    store
        .mark_mailing_sent(
            mailing.tenant_id,
            mailing.id,
            first.unwrap(),
            Timestamp(NOW),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn mailing_pages_filter_by_the_progress_rule_and_drafts_can_be_deleted() {
    use RecipientState::*;
    let (_directory, stores) = stores_with_tenants().await;
    for (store, acme, globex) in stores {
        let sender = contact(acme, "Hello", "hello@client.test");
        let a = contact(acme, "Ann", "ann@receiver.test");
        let b = contact(acme, "Bob", "bob@receiver.test");
        for one in [&sender, &a, &b] {
            store.insert_contact(one).await.unwrap();
        }
        let cases: [(&[RecipientState], MailingProgress); 5] = [
            (&[Sent, Sent], MailingProgress::Delivered),
            (&[Sent, Failed], MailingProgress::PartlyDelivered),
            (&[Failed, Expired], MailingProgress::Failed),
            (&[Sent, Deferred], MailingProgress::InProgress),
            (&[], MailingProgress::Draft),
        ];
        let mut made = Vec::new();
        for (number, (states, progress)) in cases.iter().enumerate() {
            let one = mailing(
                acme,
                NOW + number as i64,
                &format!("Mailing {number}"),
                &sender,
                &[&a, &b],
            );
            store.insert_mailing(&one).await.unwrap();
            if !states.is_empty() {
                send(&store, &one, states).await;
            }
            // The SQL rule agrees with the rule the pages show.
            if !states.is_empty() {
                assert_eq!(MailingProgress::of_sent(states), *progress);
            }
            made.push((one.id, *progress));
        }
        for (id, progress) in &made {
            let filter = MailingFilter {
                progress: Some(*progress),
                search: None,
            };
            let page = store
                .mailing_page(acme, &filter, &PageRequest::first(10))
                .await
                .unwrap();
            let found: Vec<MailingId> = page.items.iter().map(|m| m.id).collect();
            assert_eq!(found, vec![*id], "{progress:?}");
            assert_eq!(page.total, 1);
            assert_eq!(page.items[0].recipients, vec![a.clone(), b.clone()]);
            assert_eq!(page.items[0].sender, sender);
        }
        let filter = MailingFilter::default();
        let all = walk(2, |request| {
            let (store, filter) = (&store, &filter);
            async move { store.mailing_page(acme, filter, &request).await }
        })
        .await;
        let order: Vec<MailingId> = all.iter().map(|m| m.id).collect();
        let mut expected: Vec<MailingId> = made.iter().map(|(id, _)| *id).collect();
        expected.reverse();
        assert_eq!(order, expected);
        let search = MailingFilter {
            progress: None,
            search: Some("mailing 2".into()),
        };
        let page = store
            .mailing_page(acme, &search, &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(
            page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![made[2].0]
        );
        let ids: Vec<MailingId> = made.iter().map(|(id, _)| *id).collect();
        assert_eq!(store.mailings_messages(acme, &ids).await.unwrap().len(), 8);
        assert!(
            store
                .mailings_messages(globex, &ids)
                .await
                .unwrap()
                .is_empty()
        );

        let draft = made[4].0;
        assert!(matches!(
            store.delete_draft_mailing(globex, draft).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.delete_draft_mailing(acme, made[0].0).await.unwrap(),
            DraftDeletion::AlreadySent
        );
        assert_eq!(
            store.delete_draft_mailing(acme, draft).await.unwrap(),
            DraftDeletion::Deleted
        );
        assert!(matches!(
            store.mailing(acme, draft).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.list_contacts(acme).await.unwrap().len(),
            3,
            "contacts stay"
        );
    }
}

#[tokio::test]
async fn contact_and_report_pages_follow_their_cursors() {
    let (_directory, stores) = stores_with_tenants().await;
    for (store, acme, globex) in stores {
        for (name, email) in [
            ("Cleo", "cleo@receiver.test"),
            ("Ann", "ann2@receiver.test"),
            ("Ann", "ann1@receiver.test"),
            ("Bob", "bob@other.test"),
        ] {
            store
                .insert_contact(&contact(acme, name, email))
                .await
                .unwrap();
        }
        store
            .insert_contact(&contact(globex, "Ann", "ann@globex.test"))
            .await
            .unwrap();
        let contacts = walk(3, |request| {
            let store = &store;
            async move { store.contact_page(acme, None, &request).await }
        })
        .await;
        let emails: Vec<&str> = contacts.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(
            emails,
            [
                "ann1@receiver.test",
                "ann2@receiver.test",
                "bob@other.test",
                "cleo@receiver.test"
            ]
        );
        let page = store
            .contact_page(acme, Some("RECEIVER"), &PageRequest::first(2))
            .await
            .unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(page.items.len(), 2);
        assert_eq!(
            page.next,
            Some(Cursor::Name {
                name: "Ann".into(),
                email: "ann2@receiver.test".into()
            })
        );

        let address = CheckerAddress {
            token: "0123456789abcdef01234567".into(),
            tenant_id: acme,
            message_id: None,
            created_at: Timestamp(NOW),
        };
        store.insert_checker_address(&address).await.unwrap();
        for (number, sender) in ["a@one.test", "b@two.test", "c@one.test"]
            .iter()
            .enumerate()
        {
            let report = CheckerReportRecord {
                id: CheckerReportId::new(&SystemClock),
                token: address.token.clone(),
                tenant_id: acme,
                received_at: Timestamp(NOW + number as i64),
                client_ip: "127.0.0.1".into(),
                helo: "mail.example".into(),
                mail_from: (*sender).into(),
                score: 7.5,
                report: "{}".into(),
            };
            store
                .insert_checker_report(&report, b"Subject: x\r\n\r\n")
                .await
                .unwrap();
        }
        let reports = walk(2, |request| {
            let store = &store;
            async move { store.checker_report_page(acme, None, None, &request).await }
        })
        .await;
        let senders: Vec<&str> = reports.iter().map(|r| r.mail_from.as_str()).collect();
        assert_eq!(senders, ["c@one.test", "b@two.test", "a@one.test"]);
        let page = store
            .checker_report_page(
                acme,
                Some(&address.token),
                Some("one.test"),
                &PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(page.total, 2);
        let page = store
            .checker_report_page(globex, None, None, &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(page.total, 0);
    }
}
