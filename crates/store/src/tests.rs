//! The store's behaviour, run identically against SQLite and PostgreSQL.

use sealpost_domain::{
    ApiKeyId, Email, SystemClock, Tenant, TenantId, TenantName, Timestamp, User, UserId, UserRole,
};

use crate::tenants::ApiKeyInfo;
use crate::{Store, StoreError, TenantKey, testing};

const NOW: i64 = 1_800_000_000;

pub(crate) fn tenant(name: &str) -> Tenant {
    Tenant {
        id: TenantId::new(&SystemClock),
        name: TenantName::parse(name).unwrap(),
        display_name: format!("{name} Ltd"),
        created_at: Timestamp(1_700_000_000),
    }
}

pub(crate) async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        test(store).await;
    }
}

#[tokio::test]
async fn tenants_are_unique_by_name() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        store.create_tenant(&acme).await.unwrap();
        store.create_tenant(&tenant("globex")).await.unwrap();
        let again = store.create_tenant(&tenant("acme")).await;
        assert!(matches!(again, Err(StoreError::Duplicate(what)) if what.contains("tenant")));

        let names: Vec<String> = store
            .list_tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|tenant| tenant.name.as_str().to_owned())
            .collect();
        assert_eq!(names, ["acme", "globex"]);
        assert_eq!(store.tenant_by_name(&acme.name).await.unwrap(), acme);
        assert_eq!(store.tenant(acme.id).await.unwrap(), acme);
        assert!(matches!(
            store.tenant(TenantId::new(&SystemClock)).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn api_keys_resolve_to_their_tenant_only() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        store.create_tenant(&acme).await.unwrap();
        let info = ApiKeyInfo {
            id: ApiKeyId::new(&SystemClock),
            label: "backend".to_owned(),
            created_at: Timestamp(1),
        };
        store.add_api_key(acme.id, &info, "hash-1").await.unwrap();
        assert_eq!(
            store.tenant_for_api_key("hash-1").await.unwrap(),
            Some(acme.clone())
        );
        assert_eq!(store.tenant_for_api_key("hash-2").await.unwrap(), None);
        assert_eq!(
            store.list_api_keys(acme.id).await.unwrap(),
            std::slice::from_ref(&info)
        );

        let unknown_tenant = store
            .add_api_key(TenantId::new(&SystemClock), &info, "hash-3")
            .await;
        assert!(matches!(unknown_tenant, Err(StoreError::NotFound)));
        let reused_token = ApiKeyInfo {
            id: ApiKeyId::new(&SystemClock),
            ..info
        };
        let reused = store.add_api_key(acme.id, &reused_token, "hash-1").await;
        assert!(matches!(reused, Err(StoreError::Duplicate(_))));

        let globex = tenant("globex");
        store.create_tenant(&globex).await.unwrap();
        let foreign = store.delete_api_key(globex.id, info.id).await;
        assert!(matches!(foreign, Err(StoreError::NotFound)));
        assert_eq!(
            store.tenant_for_api_key("hash-1").await.unwrap(),
            Some(acme.clone())
        );
        store.delete_api_key(acme.id, info.id).await.unwrap();
        assert_eq!(store.tenant_for_api_key("hash-1").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn meta_values_are_written_once() {
    for_each_backend(|store| async move {
        assert_eq!(store.meta("check").await.unwrap(), None);
        assert_eq!(
            store.meta_insert_if_absent("check", b"one").await.unwrap(),
            b"one"
        );
        assert_eq!(
            store.meta_insert_if_absent("check", b"two").await.unwrap(),
            b"one"
        );
    })
    .await;
}

#[tokio::test]
async fn sqlite_commits_survive_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let url = testing::sqlite_url(directory.path());
    let acme = tenant("acme");
    {
        let store = Store::connect(&url).await.unwrap();
        store.create_tenant(&acme).await.unwrap();
        store.close().await;
    }
    let reopened = Store::connect(&url).await.unwrap();
    assert_eq!(reopened.tenant(acme.id).await.unwrap(), acme);
}

#[tokio::test]
async fn unknown_database_urls_are_refused() {
    let result = Store::connect("mysql://localhost/db").await;
    assert!(matches!(result, Err(StoreError::Url(message)) if message.contains("sqlite://")));
}

#[tokio::test]
async fn postgres_statements_time_out() {
    let url = testing::fresh_postgres_url().await;
    let options = crate::StoreOptions {
        max_connections: Some(2),
        statement_timeout: std::time::Duration::from_millis(200),
    };
    let store = Store::connect_with(&url, &options).await.unwrap();
    let Store::Postgres(pool) = &store else {
        panic!("a PostgreSQL URL opens PostgreSQL");
    };
    let error = sqlx::query("SELECT pg_sleep(2)")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("statement timeout"), "{error}");
}

#[tokio::test]
async fn a_session_is_read_with_the_tenant_its_page_names() {
    for_each_backend(|store| async move {
        let acme = tenant("acme");
        let globex = tenant("globex");
        store.create_tenant(&acme).await.unwrap();
        store.create_tenant(&globex).await.unwrap();
        let ann = User {
            id: UserId::new(&SystemClock),
            email: Email::parse("ann@acme.example").unwrap(),
            role: UserRole::TenantAdmin(acme.id),
            created_at: Timestamp(NOW),
        };
        store.insert_user(&ann, "hash").await.unwrap();
        store
            .insert_session("live", ann.id, Timestamp(NOW), Timestamp(NOW + 60))
            .await
            .unwrap();
        let now = Timestamp(NOW + 1);

        let by_name = store
            .session_user_with_tenant("live", now, TenantKey::Name(&acme.name))
            .await
            .unwrap();
        assert_eq!(by_name, Some((ann.clone(), Some(acme.clone()))));
        // The account's access is the caller's decision: another tenant is found all the same.
        let by_id = store
            .session_user_with_tenant("live", now, TenantKey::Id(globex.id))
            .await
            .unwrap();
        assert_eq!(by_id, Some((ann.clone(), Some(globex.clone()))));
        let unknown = TenantName::parse("initech").unwrap();
        let nobody = store
            .session_user_with_tenant("live", now, TenantKey::Name(&unknown))
            .await
            .unwrap();
        assert_eq!(nobody, Some((ann.clone(), None)));

        let expired = store
            .session_user_with_tenant("live", Timestamp(NOW + 60), TenantKey::Name(&acme.name))
            .await
            .unwrap();
        assert_eq!(expired, None);
        let stranger = store
            .session_user_with_tenant("other", now, TenantKey::Name(&acme.name))
            .await
            .unwrap();
        assert_eq!(stranger, None);
    })
    .await;
}
