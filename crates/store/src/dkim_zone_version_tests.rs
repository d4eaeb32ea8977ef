//! The DKIM zone version (migration 0035): every change to what the zone serves raises it, and
//! a change that leaves every served record as it was does not, whoever writes, on both
//! backends.

use crate::sending_version_tests::{ACME, TABLES, create_tenants, execute};
use crate::{Store, testing};

/// Statements in order, `{t}` being the tenant, each with whether it changes what the zone
/// serves: a domain's and a key's life, each column a served record is made of changed once,
/// with the writes that leave the records alone between.
const CHANGES: [(&str, bool); 23] = [
    (TABLES[1].1, false),
    (TABLES[2].1, true),
    (
        "UPDATE signing_keys SET sealed_password = {bytes} WHERE tenant_id = '{t}'",
        false,
    ),
    (
        "UPDATE signing_domains SET dns_checked_at = 2 WHERE tenant_id = '{t}'",
        false,
    ),
    (
        "UPDATE signing_keys SET state = 'active' WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "UPDATE signing_keys SET state = 'active' WHERE tenant_id = '{t}'",
        false,
    ),
    (
        "UPDATE signing_keys SET public_der = public_der || public_der WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "UPDATE signing_keys SET selector = 'moved' WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "UPDATE signing_keys SET algorithm = 'ed25519' WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "INSERT INTO signing_domains (id, tenant_id, domain, selector, active, version, \
         created_at, updated_at) VALUES ('e-{t}', '{t}', 'second.test', 'workplace', FALSE, 1, \
         1, 1)",
        false,
    ),
    (
        "UPDATE signing_keys SET signing_domain_id = 'e-{t}' WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "UPDATE signing_domains SET tenant_id = '018f0000-0000-7000-8000-000000000002' \
         WHERE id = 'e-{t}'",
        true,
    ),
    (
        "UPDATE signing_domains SET tenant_id = '{t}' WHERE id = 'e-{t}'",
        true,
    ),
    (
        "UPDATE signing_keys SET signing_domain_id = 'd-{t}' WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "UPDATE signing_keys SET tenant_id = '018f0000-0000-7000-8000-000000000002' \
         WHERE tenant_id = '{t}'",
        true,
    ),
    (
        "UPDATE signing_keys SET tenant_id = '{t}' \
         WHERE tenant_id = '018f0000-0000-7000-8000-000000000002'",
        true,
    ),
    (
        "UPDATE signing_domains SET domain = 'renamed.test' WHERE id = 'd-{t}'",
        true,
    ),
    ("DELETE FROM signing_keys WHERE tenant_id = '{t}'", true),
    (TABLES[2].1, true),
    (
        "UPDATE tenants SET display_name = 'Acme' WHERE id = '{t}'",
        false,
    ),
    (
        "UPDATE tenants SET deleting_since = 5 WHERE id = '{t}'",
        true,
    ),
    ("DELETE FROM signing_keys WHERE tenant_id = '{t}'", true),
    ("DELETE FROM signing_domains WHERE tenant_id = '{t}'", true),
];

async fn version(store: &Store) -> i64 {
    store.dkim_zone_version().await.unwrap()
}

#[tokio::test]
async fn the_zone_version_moves_with_what_the_zone_serves_and_only_then() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        create_tenants(&store).await;
        for (statement, changes_the_zone) in CHANGES {
            let before = version(&store).await;
            execute(&store, statement, ACME)
                .await
                .unwrap_or_else(|error| panic!("{statement}: {error}"));
            let after = version(&store).await;
            assert_eq!(
                after > before,
                changes_the_zone,
                "{statement}: {before} then {after} ({store:?})"
            );
        }
    }
}

/// A tenant's deletion moves the version in its first phase, which takes the zone's records of
/// the tenant away.
#[tokio::test]
async fn a_tenant_s_deletion_moves_the_version_in_its_first_phase() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let tenant = testing::tenant("acme", "Acme");
        store.create_tenant(&tenant).await.unwrap();
        let before = version(&store).await;
        store
            .shred_tenant(tenant.id, sealpost_domain::Timestamp(5))
            .await
            .unwrap();
        assert!(version(&store).await > before, "{store:?}");
    }
}
