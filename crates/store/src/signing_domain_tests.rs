//! Signing domains, their keys and their changes of state with events, on both backends.

use sealpost_domain::{
    Activation, CheckOutcome, DnsChange, DnsState, DnsStatus, DomainChanges, DomainName, KeyChange,
    KeyId, KeyOrigin, KeyState, LastCheck, SealedKey, Selector, SigningDomain, SigningDomainId,
    SigningKey, SystemClock, Tenant, TenantId, Timestamp, Uuid,
};

use crate::tests::{for_each_backend, tenant};
use crate::{Store, StoreError};

pub(crate) fn signing_domain(tenant: &Tenant, domain: &str, selector: &str) -> SigningDomain {
    SigningDomain {
        id: SigningDomainId::new(&SystemClock),
        tenant_id: tenant.id,
        domain: DomainName::parse(domain).unwrap(),
        selector: Selector::parse(selector).unwrap(),
        active: false,
        keys: Vec::new(),
        dns: DnsStatus::new(Timestamp(1_700_000_100)),
        records: Vec::new(),
        version: 1,
        created_at: Timestamp(1_700_000_100),
        updated_at: Timestamp(1_700_000_100),
    }
}

pub(crate) fn key(selector: &str, created_at: i64) -> (SigningKey, SealedKey) {
    (
        SigningKey {
            id: KeyId::new(&SystemClock),
            selector: Selector::parse(selector).unwrap(),
            state: KeyState::Pending,
            state_since: Timestamp(created_at),
            forced: false,
            algorithm: sealpost_domain::KeyAlgorithm::Rsa,
            public_key_der: vec![0x30, 0x82, 1, 2, 3],
            bits: 2048,
            origin: KeyOrigin::Generated,
            created_at: Timestamp(created_at),
        },
        SealedKey {
            encrypted_pkcs8_pem: format!("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{selector}\n"),
            sealed_password: vec![9; 60],
        },
    )
}

pub(crate) fn ids(changes: &DomainChanges) -> Vec<Uuid> {
    changes
        .events()
        .iter()
        .map(|_| SystemClock.new_uuid())
        .collect()
}

use sealpost_domain::Clock as _;

pub(crate) async fn with_domain(store: &Store) -> (Tenant, SigningDomain) {
    let acme = tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let domain = signing_domain(&acme, "client.example", "workplace");
    store.insert_signing_domain(acme.id, &domain).await.unwrap();
    (acme, domain)
}

async fn add_key(store: &Store, domain: &SigningDomain, selector: &str, at: i64) -> SigningKey {
    let (public, sealed) = key(selector, at);
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

pub(crate) fn promote(key: &SigningKey, from: KeyState, to: KeyState, forced: bool) -> KeyChange {
    KeyChange {
        key: key.id,
        selector: key.selector.clone(),
        from,
        to,
        forced,
    }
}

#[tokio::test]
async fn domain_and_selector_pair_is_unique_per_tenant() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        let globex = tenant("globex");
        store.create_tenant(&acme).await.unwrap();
        store.create_tenant(&globex).await.unwrap();
        let first = signing_domain(&acme, "client.example", "workplace");
        store.insert_signing_domain(acme.id, &first).await.unwrap();
        // Several domains may share a selector, and one domain may have several selectors.
        let shared_selector = signing_domain(&acme, "other.example", "workplace");
        store
            .insert_signing_domain(acme.id, &shared_selector)
            .await
            .unwrap();
        let second_selector = signing_domain(&acme, "client.example", "s2");
        store
            .insert_signing_domain(acme.id, &second_selector)
            .await
            .unwrap();
        let other_tenant = signing_domain(&globex, "client.example", "workplace");
        store
            .insert_signing_domain(globex.id, &other_tenant)
            .await
            .unwrap();
        let duplicate = signing_domain(&acme, "client.example", "workplace");
        let result = store.insert_signing_domain(acme.id, &duplicate).await;
        assert!(matches!(result, Err(StoreError::Duplicate(what)) if what.contains("selector")));
        let collision = store
            .set_signing_domain_selector(
                acme.id,
                second_selector.id,
                &Selector::parse("workplace").unwrap(),
                Timestamp(5),
            )
            .await;
        assert!(matches!(collision, Err(StoreError::Duplicate(_))));
        let unknown = signing_domain(&acme, "new.example", "workplace");
        let result = store
            .insert_signing_domain(TenantId::new(&SystemClock), &unknown)
            .await;
        assert!(matches!(result, Err(StoreError::NotFound)));
        let listed = store.list_signing_domains(acme.id).await.unwrap();
        assert_eq!(listed, [second_selector, first, shared_selector]);
    })
    .await;
}

#[tokio::test]
async fn the_selector_changes_only_while_the_domain_has_no_key() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let renamed = store
            .set_signing_domain_selector(
                acme.id,
                domain.id,
                &Selector::parse("mail").unwrap(),
                Timestamp(5),
            )
            .await
            .unwrap();
        assert_eq!((renamed.selector.as_str(), renamed.version), ("mail", 2));
        add_key(&store, &renamed, "mail", 10).await;
        let refused = store
            .set_signing_domain_selector(
                acme.id,
                domain.id,
                &Selector::parse("other").unwrap(),
                Timestamp(6),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Changed(_))),
            "{refused:?}"
        );
        let unchanged = store.signing_domain(acme.id, domain.id).await.unwrap();
        assert_eq!(unchanged.selector.as_str(), "mail");
    })
    .await;
}

/// A rotation as the service commits it: each key added pending, the first promoted with the
/// domain switched on, the second promoted while the first starts retiring, in one commit each,
/// with their events; an edit from a stale copy writes nothing.
#[tokio::test]
async fn keys_move_through_their_states_with_one_event_per_change() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let first = add_key(&store, &domain, "workplace", 10).await;
        let domain = store.signing_domain(acme.id, domain.id).await.unwrap();
        assert_eq!(domain.keys, std::slice::from_ref(&first));
        assert_eq!(domain.version, 2);
        let (public, sealed) = key("workplace", 11);
        let twice = store
            .insert_signing_key(acme.id, domain.id, &public, &sealed, SystemClock.new_uuid())
            .await;
        assert!(matches!(twice, Err(StoreError::Duplicate(_))), "{twice:?}");
        assert_eq!(
            store.sealed_key(acme.id, first.id).await.unwrap(),
            key("workplace", 10).1
        );

        let switch_on = DomainChanges {
            keys: vec![promote(&first, KeyState::Pending, KeyState::Active, false)],
            activation: Some(Activation::On { forced: false }),
            dns: None,
            records: None,
        };
        let on = store
            .apply_domain_changes(&domain, &switch_on, &ids(&switch_on), Timestamp(20))
            .await
            .unwrap();
        assert!(on.active);
        assert_eq!(on.active_key().unwrap().id, first.id);
        assert_eq!(on.active_key().unwrap().state_since, Timestamp(20));
        let stale = store
            .apply_domain_changes(&domain, &switch_on, &ids(&switch_on), Timestamp(21))
            .await;
        assert!(matches!(stale, Err(StoreError::Changed(_))), "{stale:?}");

        let second = add_key(&store, &on, "workplace2", 30).await;
        let on = store.signing_domain(acme.id, domain.id).await.unwrap();
        let rotate = DomainChanges {
            keys: vec![
                promote(&first, KeyState::Active, KeyState::Retiring, false),
                promote(&second, KeyState::Pending, KeyState::Active, true),
            ],
            ..DomainChanges::default()
        };
        let rotated = store
            .apply_domain_changes(&on, &rotate, &ids(&rotate), Timestamp(40))
            .await
            .unwrap();
        let states: Vec<_> = rotated
            .keys
            .iter()
            .map(|key| (key.selector.to_string(), key.state, key.forced))
            .collect();
        assert_eq!(
            states,
            [
                ("workplace".into(), KeyState::Retiring, false),
                ("workplace2".into(), KeyState::Active, true)
            ]
        );
        assert!(rotated.active);

        let history = store.domain_events(acme.id, domain.id, 10).await.unwrap();
        let kinds: Vec<_> = history
            .iter()
            .map(|event| (event.kind.as_str(), event.warning, event.at))
            .collect();
        assert_eq!(
            kinds,
            [
                ("key.active", true, 40),
                ("key.retiring", false, 40),
                ("key.pending", false, 30),
                ("domain.activated", false, 20),
                ("key.active", false, 20),
                ("key.pending", false, 10),
            ]
        );
        assert_eq!(history[0].key_id, Some(second.id));
        assert!(
            history[0].detail.contains("by force"),
            "{}",
            history[0].detail
        );
    })
    .await;
}

/// The schema backs the rules: no domain is active without an active key, and no domain has two
/// active keys, whatever a caller asks.
#[tokio::test]
async fn the_schema_refuses_signing_without_a_key_and_two_active_keys() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let switch_on = DomainChanges {
            activation: Some(Activation::On { forced: true }),
            ..DomainChanges::default()
        };
        let result = store
            .apply_domain_changes(&domain, &switch_on, &ids(&switch_on), Timestamp(11))
            .await;
        assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
        let first = add_key(&store, &domain, "workplace", 10).await;
        let second = add_key(&store, &domain, "workplace2", 11).await;
        let current = store.signing_domain(acme.id, domain.id).await.unwrap();
        let both = DomainChanges {
            keys: vec![
                promote(&first, KeyState::Pending, KeyState::Active, false),
                promote(&second, KeyState::Pending, KeyState::Active, false),
            ],
            ..DomainChanges::default()
        };
        let result = store
            .apply_domain_changes(&current, &both, &ids(&both), Timestamp(12))
            .await;
        assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
        assert_eq!(
            store.signing_domain(acme.id, domain.id).await.unwrap(),
            current,
            "nothing of a refused change is stored"
        );
        assert_eq!(
            store
                .domain_events(acme.id, domain.id, 10)
                .await
                .unwrap()
                .len(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn the_dns_status_is_stored_and_due_domains_are_found() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let due = store
            .due_signing_domains(Timestamp(2_000_000_000), 10)
            .await;
        assert_eq!(due.unwrap(), [(acme.id, domain.id, domain.domain.clone())]);
        let status = DnsStatus {
            state: DnsState::Warning,
            since: Timestamp(50),
            failing_since: Some(Timestamp(50)),
            last_check: Some(LastCheck {
                at: Timestamp(50),
                outcome: CheckOutcome::Missing,
                summary: "no record at workplace._domainkey.client.example".into(),
            }),
            next_check_at: Timestamp(3_000_000_000),
        };
        let change = DnsChange {
            from: DnsState::Verified,
            to: DnsState::Warning,
        };
        let checked = DomainChanges {
            dns: Some((status.clone(), Some(change))),
            ..DomainChanges::default()
        };
        let after = store
            .apply_domain_changes(&domain, &checked, &ids(&checked), Timestamp(50))
            .await
            .unwrap();
        assert_eq!(after.dns, status);
        let due = store
            .due_signing_domains(Timestamp(2_000_000_000), 10)
            .await;
        assert_eq!(due.unwrap(), []);
        let all = store.signing_domain_ids(None).await.unwrap();
        assert_eq!(all, [(acme.id, domain.id, domain.domain.clone())]);
        let events = store.domain_events(acme.id, domain.id, 10).await.unwrap();
        assert_eq!(events[0].kind, "domain.warning");
    })
    .await;
}

#[tokio::test]
async fn a_stored_domain_that_is_no_domain_is_left_out_of_the_re_check_lists() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let other = signing_domain(&acme, "other.example", "workplace");
        store.insert_signing_domain(acme.id, &other).await.unwrap();
        let sql = "UPDATE signing_domains SET domain = 'not a domain' WHERE id = $1";
        let updated = match &store {
            Store::Sqlite(pools) => sqlx::query(sql)
                .bind(domain.id)
                .execute(pools.writer())
                .await
                .map(|done| done.rows_affected()),
            Store::Postgres(pool) => sqlx::query(sql)
                .bind(domain.id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
        };
        assert_eq!(updated.unwrap(), 1);
        for listed in [
            store.signing_domain_ids(None).await.unwrap(),
            store
                .due_signing_domains(Timestamp(2_000_000_000), 10)
                .await
                .unwrap(),
        ] {
            let ids: Vec<_> = listed.iter().map(|(_, id, _)| *id).collect();
            assert_eq!(ids, [other.id]);
        }
    })
    .await;
}

#[tokio::test]
async fn no_operation_reaches_another_tenants_domain() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let globex = tenant("globex");
        store.create_tenant(&globex).await.unwrap();
        let first = add_key(&store, &domain, "workplace", 10).await;
        let before = store.signing_domain(acme.id, domain.id).await.unwrap();
        let not_found = |result: Result<_, StoreError>| matches!(result, Err(StoreError::NotFound));
        assert!(not_found(
            store.signing_domain(globex.id, domain.id).await.map(drop)
        ));
        assert!(not_found(
            store.sealed_key(globex.id, first.id).await.map(drop)
        ));
        let (other, sealed) = key("evil", 20);
        let rekeyed = store
            .insert_signing_key(
                globex.id,
                domain.id,
                &other,
                &sealed,
                SystemClock.new_uuid(),
            )
            .await;
        assert!(not_found(rekeyed));
        let mut foreign = before.clone();
        foreign.tenant_id = globex.id;
        let switch_on = DomainChanges {
            keys: vec![promote(&first, KeyState::Pending, KeyState::Active, false)],
            activation: Some(Activation::On { forced: false }),
            dns: None,
            records: None,
        };
        let applied = store
            .apply_domain_changes(&foreign, &switch_on, &ids(&switch_on), Timestamp(20))
            .await;
        assert!(
            matches!(applied, Err(StoreError::Changed(_))),
            "{applied:?}"
        );
        let renamed = store
            .set_signing_domain_selector(
                globex.id,
                domain.id,
                &Selector::parse("x").unwrap(),
                Timestamp(5),
            )
            .await;
        assert!(not_found(renamed.map(drop)));
        assert!(not_found(
            store.delete_signing_domain(globex.id, domain.id).await
        ));
        assert!(
            store
                .list_signing_domains(globex.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .domain_events(globex.id, domain.id, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.signing_domain(acme.id, domain.id).await.unwrap(),
            before
        );

        store
            .delete_signing_domain(acme.id, domain.id)
            .await
            .unwrap();
        assert!(not_found(
            store.signing_domain(acme.id, domain.id).await.map(drop)
        ));
        assert!(not_found(
            store.sealed_key(acme.id, first.id).await.map(drop)
        ));
    })
    .await;
}
