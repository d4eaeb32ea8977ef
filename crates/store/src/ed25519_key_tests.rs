//! Ed25519 keys beside RSA keys (RFC 8463, migration 0020), on both backends: stored with their
//! algorithm, one active key of each algorithm at a time, and the domain's active key pointer
//! naming the RSA key.

use sealpost_domain::{
    Activation, Clock as _, DomainChanges, KeyAlgorithm, KeyState, SigningKey, SystemClock,
    Timestamp,
};

use crate::signing_domain_tests::{ids, key, promote, with_domain};
use crate::tests::for_each_backend;

async fn add(
    store: &crate::Store,
    domain: &sealpost_domain::SigningDomain,
    selector: &str,
    algorithm: KeyAlgorithm,
    at: i64,
) -> SigningKey {
    let (mut public, sealed) = key(selector, at);
    public.algorithm = algorithm;
    store
        .insert_signing_key(
            domain.tenant_id,
            domain.id,
            &public,
            &sealed,
            SystemClock.new_uuid(),
        )
        .await
        .unwrap();
    public
}

#[tokio::test]
async fn one_key_of_each_algorithm_signs_and_the_algorithm_reads_back() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let rsa = add(&store, &domain, "workplace", KeyAlgorithm::Rsa, 10).await;
        let ed = add(&store, &domain, "workplace-ed", KeyAlgorithm::Ed25519, 11).await;
        let domain = store.signing_domain(acme.id, domain.id).await.unwrap();
        assert_eq!(domain.keys, [rsa.clone(), ed.clone()]);

        let both = DomainChanges {
            keys: vec![
                promote(&rsa, KeyState::Pending, KeyState::Active, false),
                promote(&ed, KeyState::Pending, KeyState::Active, false),
            ],
            activation: Some(Activation::On { forced: false }),
            dns: None,
            records: None,
        };
        let on = store
            .apply_domain_changes(&domain, &both, &ids(&both), Timestamp(20))
            .await
            .unwrap();
        assert_eq!(on.active_key().unwrap().id, rsa.id);
        assert_eq!(on.active_key_of(KeyAlgorithm::Ed25519).unwrap().id, ed.id);
        let signing: Vec<_> = on.signing_keys().iter().map(|key| key.id).collect();
        assert_eq!(signing, [rsa.id, ed.id]);

        // A second active Ed25519 key is refused by the database itself.
        let second = add(&store, &on, "workplace-ed2", KeyAlgorithm::Ed25519, 30).await;
        let on = store.signing_domain(acme.id, on.id).await.unwrap();
        let two_active = DomainChanges {
            keys: vec![promote(&second, KeyState::Pending, KeyState::Active, false)],
            ..DomainChanges::default()
        };
        let refused = store
            .apply_domain_changes(&on, &two_active, &ids(&two_active), Timestamp(40))
            .await;
        assert!(refused.is_err(), "{refused:?}");
        let after = store.signing_domain(acme.id, on.id).await.unwrap();
        assert_eq!(after.key(second.id).unwrap().state, KeyState::Pending);
    })
    .await;
}
