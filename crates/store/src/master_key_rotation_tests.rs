//! The master key rotation's record on both backends: one rotation at a time, writes that never
//! overwrite a value changed since it was read, and the finish that swaps the check value.

use sealpost_domain::Timestamp;

use crate::tests::for_each_backend;
use crate::{
    AUTHENTICATOR_ROOT, MASTER_KEY_CHECK, RewrapCursor, RewrappedValue, RotationPhase,
    RotationStart, SealedColumn, StoreError,
};

fn start<'a>(old_check: &'a [u8], new_check: &'a [u8]) -> RotationStart<'a> {
    RotationStart {
        old_check,
        new_check,
        new_under_old: b"new under old",
        old_under_new: b"old under new",
        now: Timestamp(1_000),
    }
}

#[tokio::test]
async fn a_rotation_is_recorded_rewrapped_by_compare_and_set_and_finished_once() {
    for_each_backend(|store| async move {
        store
            .meta_insert_if_absent(MASTER_KEY_CHECK, b"old")
            .await
            .unwrap();
        store
            .meta_insert_if_absent(AUTHENTICATOR_ROOT, b"root sealed")
            .await
            .unwrap();
        assert!(store.master_key_rotation().await.unwrap().is_none());
        assert!(
            !store
                .start_master_key_rotation(&start(b"other", b"new"))
                .await
                .unwrap(),
            "a rotation from a key the data is not under is refused"
        );
        assert!(
            store
                .start_master_key_rotation(&start(b"old", b"new"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .start_master_key_rotation(&start(b"old", b"newer"))
                .await
                .unwrap(),
            "one rotation at a time"
        );

        let rows = store
            .sealed_rows(SealedColumn::AuthenticatorRoot, "", 10)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].sealed, b"root sealed");
        let stale = RewrappedValue {
            id: rows[0].id.clone(),
            old: b"something else".to_vec(),
            new: b"lost".to_vec(),
        };
        let cursor = RewrapCursor {
            column: SealedColumn::AuthenticatorRoot,
            after: rows[0].id.clone(),
        };
        let replaced = store
            .commit_rewraps(SealedColumn::AuthenticatorRoot, &[stale], Some(&cursor))
            .await
            .unwrap();
        assert_eq!(replaced, 0, "a value changed since it was read stays");
        let current = RewrappedValue {
            id: rows[0].id.clone(),
            old: b"root sealed".to_vec(),
            new: b"root under new".to_vec(),
        };
        let replaced = store
            .commit_rewraps(SealedColumn::AuthenticatorRoot, &[current], Some(&cursor))
            .await
            .unwrap();
        assert_eq!(replaced, 1);
        let record = store.master_key_rotation().await.unwrap().unwrap();
        assert_eq!(record.phase, RotationPhase::Rewrapping);
        assert_eq!(record.cursor, cursor);
        assert_eq!(record.rewrapped, 1);
        assert!(record.wraps.is_some());
        assert_eq!(
            store.meta(AUTHENTICATOR_ROOT).await.unwrap().unwrap(),
            b"root under new"
        );

        assert!(
            store
                .finish_master_key_rotation(Timestamp(2_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .finish_master_key_rotation(Timestamp(3_000))
                .await
                .unwrap()
        );
        let record = store.master_key_rotation().await.unwrap().unwrap();
        assert_eq!(record.phase, RotationPhase::Finished);
        assert!(record.wraps.is_none(), "no key stays wrapped under another");
        assert_eq!(record.old_check, b"old");
        assert_eq!(record.finished_at, Some(Timestamp(2_000)));
        assert_eq!(store.meta(MASTER_KEY_CHECK).await.unwrap().unwrap(), b"new");
        assert!(matches!(
            store
                .commit_rewraps(SealedColumn::AuthenticatorRoot, &[], None)
                .await,
            Err(StoreError::Changed(_))
        ));
        assert!(
            store
                .start_master_key_rotation(&start(b"new", b"next"))
                .await
                .unwrap(),
            "a finished rotation makes room for the next"
        );
    })
    .await;
}
