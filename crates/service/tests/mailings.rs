//! Contacts, mailings and the mail tester's use cases over both backends: every refusal names
//! its field and reason, a mailing is queued once, and test addresses and reports stay with
//! their tenant.

use std::sync::Arc;

use sealpost_domain::{ContactId, Timestamp};
use sealpost_mail_tester::Received;
use sealpost_service::{
    Arrival, CheckerSettings, Clock, ContactForm, MailingForm, Service, ServiceError,
};
use sealpost_store::{Store, testing};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

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

/// A service on each backend with the mail tester set up; the DNS server answers NXDOMAIN for
/// everything, so analyses are quick and deterministic.
async fn services(dns: &TestDns) -> (tempfile::TempDir, Vec<Service>) {
    let directory = tempfile::tempdir().unwrap();
    let urls = [
        testing::sqlite_url(directory.path()),
        testing::fresh_postgres_url().await,
    ];
    let mut services = Vec::new();
    for url in urls {
        let store = Store::connect(&url).await.unwrap();
        let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
            nameserver: Some(dns.addr()),
            cache: false,
            ..sealpost_dns::ResolverConfig::default()
        })
        .unwrap();
        let vault = Vault::new(MasterKey::generate());
        let service = Service::open(store, vault, Arc::new(FixedClock), resolver)
            .await
            .unwrap()
            .with_checker(Some(CheckerSettings {
                domain: sealpost_domain::DomainName::parse("checker.test").unwrap(),
                spamd: None,
            }));
        services.push(service);
    }
    (directory, services)
}

fn contact(name: &str, email: &str) -> ContactForm {
    ContactForm {
        name: name.to_owned(),
        email: email.to_owned(),
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, ServiceError>, field: &str, text: &str) {
    match result {
        Err(ServiceError::Invalid {
            field: actual,
            message,
        }) => {
            assert_eq!(actual, field, "{message}");
            assert!(message.contains(text), "{message:?} lacks {text:?}");
        }
        other => panic!("expected {field} to be refused, got {other:?}"),
    }
}

/// A contact id that names no contact of the tenant: a conflict with the tenant's contacts,
/// named by its field.
fn assert_missing_contact<T: std::fmt::Debug>(result: Result<T, ServiceError>, field: &str) {
    match result {
        Err(ServiceError::Conflict(message)) => {
            assert!(message.starts_with(&format!("{field}: ")), "{message}");
            assert!(message.contains("no such contact"), "{message:?}");
        }
        other => panic!("expected the {field} contact to be missing, got {other:?}"),
    }
}

#[tokio::test]
async fn contacts_and_mailings_refuse_bad_input_with_the_reason() {
    let dns = TestDns::start(Zone::new()).await.unwrap();
    let (_directory, services) = services(&dns).await;
    for service in services {
        let tenant = service
            .accounts()
            .create_tenant("acme", "")
            .await
            .unwrap()
            .id;
        let other = service
            .accounts()
            .create_tenant("globex", "")
            .await
            .unwrap()
            .id;
        assert_invalid(
            service
                .mailings()
                .add_contact(tenant, contact("", "a@b.example"))
                .await,
            "name",
            "required",
        );
        assert_invalid(
            service
                .mailings()
                .add_contact(tenant, contact("A\r\nBcc: x@y", "a@b.example"))
                .await,
            "name",
            "one line",
        );
        assert_invalid(
            service
                .mailings()
                .add_contact(tenant, contact("A", "not an address"))
                .await,
            "email",
            "",
        );
        let sender = service
            .mailings()
            .add_contact(tenant, contact("Facilities", "facilities@client.example"))
            .await
            .unwrap();
        assert!(matches!(
            service
                .mailings()
                .add_contact(tenant, contact("Again", "facilities@client.example"))
                .await,
            Err(ServiceError::Conflict(_))
        ));
        let recipient = service
            .mailings()
            .add_contact(tenant, contact("Tech", "tech@receiver.example"))
            .await
            .unwrap();
        let foreign = service
            .mailings()
            .add_contact(other, contact("Other", "other@receiver.example"))
            .await
            .unwrap();

        let form = |sender: Option<ContactId>, recipients: Vec<ContactId>| MailingForm {
            sender,
            recipients,
            subject: "Work order".to_owned(),
            body: "The door is fixed.".to_owned(),
        };
        assert_invalid(
            service
                .mailings()
                .create_mailing(tenant, form(None, vec![recipient.id]))
                .await,
            "sender",
            "choose",
        );
        // The sender's domain is not a signing domain yet, then not active: refused with why.
        assert_invalid(
            service
                .mailings()
                .create_mailing(tenant, form(Some(sender.id), vec![recipient.id]))
                .await,
            "sender",
            "client.example is not one of the tenant's signing domains",
        );
        let domain = service
            .signing_domains()
            .add_signing_domain(tenant, "client.example", "s1")
            .await
            .unwrap();
        service
            .signing_domains()
            .generate_key(tenant, domain.id)
            .await
            .unwrap();
        assert_invalid(
            service
                .mailings()
                .create_mailing(tenant, form(Some(sender.id), vec![recipient.id]))
                .await,
            "sender",
            "not active",
        );
        // The tenant proves the domain with the verification record it was given.
        let pending = service
            .signing_domains()
            .add_sending_domain(tenant, "client.example")
            .await
            .unwrap();
        // Its IT department publishes the DKIM record too: activation waits for it.
        let record = service
            .signing_domains()
            .dns_record(tenant, domain.id)
            .await
            .unwrap();
        dns.replace(
            Zone::new()
                .txt(&pending.record_name(), &[&pending.record_value()])
                .txt_split(&record.name, &record.value),
        )
        .unwrap();
        service
            .signing_domains()
            .update_signing_domain(tenant, domain.id, Some(true), None)
            .await
            .unwrap();
        assert_invalid(
            service
                .mailings()
                .create_mailing(tenant, form(Some(sender.id), vec![]))
                .await,
            "recipients",
            "at least one",
        );
        assert_missing_contact(
            service
                .mailings()
                .create_mailing(tenant, form(Some(sender.id), vec![foreign.id]))
                .await,
            "recipients",
        );
        assert_missing_contact(
            service
                .mailings()
                .create_mailing(tenant, form(Some(foreign.id), vec![recipient.id]))
                .await,
            "sender",
        );
        let mut bad_subject = form(Some(sender.id), vec![recipient.id]);
        bad_subject.subject = "Hi\nBcc: x@y.example".to_owned();
        assert_invalid(
            service.mailings().create_mailing(tenant, bad_subject).await,
            "subject",
            "one line",
        );
        let mut no_body = form(Some(sender.id), vec![recipient.id]);
        no_body.body = "  ".to_owned();
        assert_invalid(
            service.mailings().create_mailing(tenant, no_body).await,
            "body",
            "required",
        );

        let mailing = service
            .mailings()
            .create_mailing(
                tenant,
                form(Some(sender.id), vec![recipient.id, recipient.id]),
            )
            .await
            .unwrap();
        assert_eq!(mailing.recipients.len(), 1, "a contact is added once");
        let status = service
            .mailings()
            .send_mailing(tenant, mailing.id)
            .await
            .unwrap();
        assert_eq!(status.messages.len(), 1);
        let message = status
            .message_to(&recipient)
            .expect("the queued message")
            .clone();
        assert_eq!(message.recipients.len(), 1);
        assert_eq!(message.recipients[0].address, "tech@receiver.example");
        assert!(matches!(
            message.signing,
            sealpost_domain::SigningRecord::Signed { .. }
        ));
        assert_eq!(message.subject, "Work order");
        assert!(matches!(
            service.mailings().send_mailing(tenant, mailing.id).await,
            Err(ServiceError::Conflict(_))
        ));
        assert!(matches!(
            service.mailings().mailing_status(other, mailing.id).await,
            Err(ServiceError::NotFound(_))
        ));
        assert_eq!(
            service
                .mailings()
                .list_mailings(tenant, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            service
                .mailings()
                .list_mailings(other, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A mailing to three contacts is three messages, each with only its own recipient.
        let mut three = Vec::new();
        for name in ["ann", "bob", "cyd"] {
            let email = format!("{name}@receiver.example");
            three.push(
                service
                    .mailings()
                    .add_contact(tenant, contact(name, &email))
                    .await
                    .unwrap(),
            );
        }
        let ids = three.iter().map(|contact| contact.id).collect();
        let mailing = service
            .mailings()
            .create_mailing(tenant, form(Some(sender.id), ids))
            .await
            .unwrap();
        let status = service
            .mailings()
            .send_mailing(tenant, mailing.id)
            .await
            .unwrap();
        assert_eq!(status.messages.len(), 3);
        for contact in &three {
            let message = status.message_to(contact).expect("a message per contact");
            let addresses: Vec<&str> = message
                .recipients
                .iter()
                .map(|recipient| recipient.address.as_str())
                .collect();
            assert_eq!(addresses, [contact.email.as_str()]);
            let stored = service
                .messages()
                .message(tenant, message.id)
                .await
                .unwrap();
            let head = String::from_utf8_lossy(&stored.raw).into_owned();
            let to = format!("To: \"{}\" <{}>\r\n", contact.name, contact.email);
            assert!(head.contains(&to), "{head}");
            for others in three.iter().filter(|other| other.id != contact.id) {
                assert!(!head.contains(&others.email), "{head}");
            }
            assert_eq!(
                status.delivery_to(contact).map(|recipient| recipient.state),
                Some(sealpost_domain::RecipientState::Queued)
            );
        }
        let distinct: std::collections::HashSet<_> = status
            .messages
            .iter()
            .map(|(_, message)| message.id)
            .collect();
        assert_eq!(distinct.len(), 3);
        assert!(matches!(
            service.mailings().send_mailing(tenant, mailing.id).await,
            Err(ServiceError::Conflict(_))
        ));
        assert_eq!(
            service
                .mailings()
                .mailing_status(tenant, mailing.id)
                .await
                .unwrap()
                .messages
                .len(),
            3
        );
    }
}

#[tokio::test]
async fn test_addresses_take_mail_for_their_tenant_only() {
    let dns = TestDns::start(Zone::new()).await.unwrap();
    let (_directory, services) = services(&dns).await;
    for service in services {
        let tenant = service
            .accounts()
            .create_tenant("acme", "")
            .await
            .unwrap()
            .id;
        let other = service
            .accounts()
            .create_tenant("globex", "")
            .await
            .unwrap()
            .id;
        let address = service
            .mail_tester()
            .issue_test_address(tenant)
            .await
            .unwrap();
        assert!(address.address.ends_with("@checker.test"));
        assert_eq!(address.expires_at.0 - address.created_at.0, 7 * 24 * 3600);
        assert!(
            service
                .mail_tester()
                .accepts_test_recipient(&address.address)
                .await
                .unwrap()
        );
        let upper = address.address.to_uppercase();
        assert!(
            service
                .mail_tester()
                .accepts_test_recipient(&upper)
                .await
                .unwrap()
        );
        for refused in [
            address.address.replace("checker.test", "other.test"),
            "test-000000000000000000000000@checker.test".to_owned(),
            "postmaster@checker.test".to_owned(),
        ] {
            assert!(
                !service
                    .mail_tester()
                    .accepts_test_recipient(&refused)
                    .await
                    .unwrap(),
                "{refused}"
            );
        }

        let message =
            b"From: a@client.example\r\nTo: x@checker.test\r\nSubject: t\r\n\r\nHello\r\n";
        let recipients = vec![address.address.clone(), "nobody@checker.test".to_owned()];
        let ids = service
            .mail_tester()
            .receive_test_message(Arrival {
                recipients: &recipients,
                received: Received {
                    message,
                    client_ip: "127.0.0.1".parse().unwrap(),
                    helo: "mta.client.example",
                    mail_from: "bounce@client.example",
                },
            })
            .await
            .unwrap();
        assert_eq!(ids.len(), 1);
        let report = service
            .mail_tester()
            .checker_report(tenant, ids[0])
            .await
            .unwrap();
        assert_eq!(report.record.helo, "mta.client.example");
        assert_eq!(report.record.mail_from, "bounce@client.example");
        assert_eq!(report.address, address.address);
        let codes: Vec<&str> = report
            .document
            .problems
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        for expected in ["dkim_none", "date_missing", "message_id_missing"] {
            assert!(codes.contains(&expected), "{expected} not in {codes:?}");
        }
        assert_eq!(
            service
                .mail_tester()
                .checker_report_raw(tenant, ids[0])
                .await
                .unwrap(),
            message
        );
        assert_eq!(
            service
                .mail_tester()
                .checker_reports(tenant, None, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            service
                .mail_tester()
                .checker_reports(other, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            service.mail_tester().checker_report(other, ids[0]).await,
            Err(ServiceError::NotFound(_))
        ));
        let nobody = vec!["nobody@checker.test".to_owned()];
        assert!(matches!(
            service
                .mail_tester()
                .receive_test_message(Arrival {
                    recipients: &nobody,
                    received: Received {
                        message,
                        client_ip: "127.0.0.1".parse().unwrap(),
                        helo: "x",
                        mail_from: "",
                    },
                })
                .await,
            Err(ServiceError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn without_a_checker_domain_no_test_address_is_issued() {
    let dns = TestDns::start(Zone::new()).await.unwrap();
    let (_directory, services) = services(&dns).await;
    for service in services {
        let service = service.with_checker(None);
        let tenant = service
            .accounts()
            .create_tenant("acme", "")
            .await
            .unwrap()
            .id;
        match service.mail_tester().issue_test_address(tenant).await {
            Err(ServiceError::Conflict(message)) => assert!(message.contains("[checker] domain")),
            other => panic!("{other:?}"),
        }
        assert!(
            !service
                .mail_tester()
                .accepts_test_recipient("test-0@checker.test")
                .await
                .unwrap()
        );
    }
}
