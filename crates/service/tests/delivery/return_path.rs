//! Return-path domains on both backends: the records Sealpost asks for are checked against a
//! real DNS server; until they are right mail keeps its MAIL FROM, and once they are, each
//! recipient is delivered to aiosmtpd with its own VERP MAIL FROM at the return-path domain,
//! which names that recipient and no other, and which a forged variant does not match.

use sealpost_dnsauth::report::PlatformSpf;
use sealpost_domain::{DomainName, EmailAddress, RecipientState};
use sealpost_service::{ServiceError, Submission};
use sealpost_store::testing;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

use crate::aiosmtpd::Sink;
use crate::support;

/// The delivery tests' zone plus the platform's SPF include, and the return path's MX and SPF
/// records when `published`.
pub(crate) async fn dns(published: bool) -> TestDns {
    let key = Vault::new(MasterKey::generate())
        .import(
            &std::fs::read_to_string(
                support::workspace().join("crates/vault/resources/keys/rsa2048-pkcs8.pem"),
            )
            .unwrap(),
            None,
        )
        .unwrap();
    let mut zone = Zone::new()
        .txt_split(
            "workplace._domainkey.client.test",
            &sealpost_domain::dkim_txt_value(&key.public_key_der()),
        )
        .mx("receiver.test", 10, "mx.receiver.test")
        .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST)
        .txt("_spf.platform.test", &["v=spf1 ip4:127.0.0.1 -all"]);
    if published {
        zone = zone
            .mx("bounces.client.test", 10, "inbound.platform.test")
            .txt(
                "bounces.client.test",
                &["v=spf1 include:_spf.platform.test -all"],
            );
    }
    TestDns::start(zone).await.unwrap()
}

fn submission() -> Submission {
    support::work_order(&["one@receiver.test", "two@receiver.test"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_return_paths_give_each_recipient_its_own_verp_mail_from() {
    for published in [false, true] {
        let dns = dns(published).await;
        let directory = tempfile::tempdir().unwrap();
        for store in testing::fresh_stores(directory.path()).await {
            let mailbox = tempfile::tempdir().unwrap();
            let sink = Sink::start(mailbox.path());
            let (service, delivery, tenant) =
                support::signing_service(store, &dns, sink.port).await;
            let service = service
                .with_platform(Some(PlatformSpf {
                    include_host: "_spf.platform.test".to_owned(),
                    networks: vec!["127.0.0.1".parse().unwrap()],
                }))
                .with_inbound_host(Some(DomainName::parse("inbound.platform.test").unwrap()));
            let feedback = service.feedback();
            let refused = feedback
                .set_return_path(tenant, "client.test", "bounces.other.test")
                .await;
            assert!(matches!(
                refused,
                Err(ServiceError::Invalid {
                    field: "return_path",
                    ..
                })
            ));
            let unknown = feedback
                .set_return_path(tenant, "nosuch.test", "bounces.nosuch.test")
                .await;
            assert!(matches!(
                unknown,
                Err(ServiceError::NotFound("signing domain"))
            ));
            let entry = feedback
                .set_return_path(tenant, "client.test", "bounces.client.test")
                .await
                .unwrap();
            let records = feedback.return_path_records(&entry).unwrap();
            let shown: Vec<_> = records
                .iter()
                .map(|record| (record.kind, record.value.as_str()))
                .collect();
            assert_eq!(
                shown,
                [
                    ("MX", "10 inbound.platform.test."),
                    ("TXT", "v=spf1 include:_spf.platform.test -all")
                ]
            );
            let check = feedback
                .check_return_path(tenant, "client.test")
                .await
                .unwrap();
            assert_eq!(
                check.return_path.verified_at.is_some(),
                published,
                "{check:?}"
            );
            assert!(
                check
                    .records
                    .iter()
                    .all(|(_, found)| found.is_ok() == published),
                "{check:?}"
            );

            // For the signing decision a MAIL FROM in the return-path domain counts as one in
            // its signing domain (SPEC S4.1).
            let mut in_return_path = submission();
            in_return_path.mail_from = "app@bounces.client.test".into();
            let signed = service
                .submissions()
                .submit(tenant, in_return_path)
                .await
                .unwrap();
            let signed = service.messages().message(tenant, signed.id).await.unwrap();
            assert!(signed.signing.is_signed(), "{:?}", signed.signing);
            service
                .messages()
                .cancel_message(tenant, signed.id)
                .await
                .unwrap();

            let accepted = service
                .submissions()
                .submit(tenant, submission())
                .await
                .unwrap();
            assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 2);
            let message = service
                .messages()
                .message(tenant, accepted.id)
                .await
                .unwrap();
            assert!(
                message
                    .recipients
                    .iter()
                    .all(|recipient| recipient.state == RecipientState::Sent),
                "{message:?}"
            );
            let envelopes: Vec<serde_json::Value> = std::fs::read_dir(mailbox.path())
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
                .collect();
            if !published {
                assert_eq!(
                    envelopes.len(),
                    1,
                    "one transaction for both: {envelopes:?}"
                );
                assert_eq!(envelopes[0]["mail_from"], "bounce@client.test");
                continue;
            }
            assert_eq!(envelopes.len(), 2, "one transaction each: {envelopes:?}");
            for envelope in envelopes {
                let to = envelope["rcpt_tos"][0].as_str().unwrap();
                let mail_from = envelope["mail_from"].as_str().unwrap();
                assert!(mail_from.ends_with("@bounces.client.test"), "{mail_from}");
                let address = EmailAddress::parse(mail_from).unwrap();
                let (found_tenant, recipient) = feedback
                    .recipient_of_return_address(&address)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(found_tenant, tenant);
                let named = message
                    .recipients
                    .iter()
                    .find(|r| r.id == recipient)
                    .unwrap();
                assert_eq!(named.address, to);
                // One character of the tag changed, or another domain: no match.
                let local = address.local_part();
                let last = if local.ends_with('0') { '1' } else { '0' };
                for forged in [
                    format!("{}{last}@bounces.client.test", &local[..local.len() - 1]),
                    format!("{local}@receiver.test"),
                ] {
                    let forged = EmailAddress::parse(&forged).unwrap();
                    let found = feedback.recipient_of_return_address(&forged).await;
                    assert_eq!(found.unwrap(), None, "{forged}");
                }
            }
        }
    }
}
