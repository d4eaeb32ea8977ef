//! The re-check's findings for the records beside DKIM (migration 0024), on both backends:
//! stored with the domain's commit and its events, read back with the domain (alone and in the
//! tenant's list), and replaced as a whole by the next re-check.

use sealpost_domain::{
    DomainChanges, RecordChange, RecordFinding, RecordKind, RecordOutcome, Timestamp,
};

use crate::signing_domain_tests::{ids, with_domain};
use crate::tests::for_each_backend;

fn finding(kind: RecordKind, outcome: RecordOutcome, found_at: Option<i64>) -> RecordFinding {
    RecordFinding {
        kind,
        name: "client.example".to_owned(),
        outcome,
        detail: format!("{kind} is {outcome}"),
        checked_at: Timestamp(60),
        settled: outcome.is_definite().then_some(outcome),
        settled_since: outcome.is_definite().then_some(Timestamp(60)),
        found_at: found_at.map(Timestamp),
    }
}

#[tokio::test]
async fn record_findings_are_stored_with_their_events_and_replaced_by_the_next_recheck() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let first = vec![
            finding(RecordKind::Spf, RecordOutcome::Missing, Some(10)),
            finding(RecordKind::Dmarc, RecordOutcome::Found, Some(60)),
            finding(RecordKind::ReturnPathMx, RecordOutcome::Temporary, None),
        ];
        let change = RecordChange {
            kind: RecordKind::Spf,
            name: "client.example".to_owned(),
            from: RecordOutcome::Found,
            to: RecordOutcome::Missing,
            detail: "client.example has no SPF record".to_owned(),
        };
        let checked = DomainChanges {
            records: Some((first.clone(), vec![change])),
            ..DomainChanges::default()
        };
        let after = store
            .apply_domain_changes(&domain, &checked, &ids(&checked), Timestamp(60))
            .await
            .unwrap();
        assert_eq!(after.records, first);
        let listed = store.list_signing_domains(acme.id).await.unwrap();
        assert_eq!(listed[0].records, first);
        let events = store.domain_events(acme.id, domain.id, 10).await.unwrap();
        assert_eq!(events[0].kind, "domain.record_changed");
        assert!(
            events[0]
                .detail
                .contains("SPF record at client.example went from found to missing"),
            "{}",
            events[0].detail
        );

        // The next re-check's findings replace them: the return path is gone.
        let second = vec![finding(RecordKind::Spf, RecordOutcome::Found, Some(120))];
        let checked = DomainChanges {
            records: Some((second.clone(), Vec::new())),
            ..DomainChanges::default()
        };
        let after = store
            .apply_domain_changes(&after, &checked, &ids(&checked), Timestamp(120))
            .await
            .unwrap();
        assert_eq!(after.records, second);
        // Changes that are not a re-check leave them alone.
        let unrelated = DomainChanges {
            activation: Some(sealpost_domain::Activation::Off),
            ..DomainChanges::default()
        };
        let after = store
            .apply_domain_changes(&after, &unrelated, &ids(&unrelated), Timestamp(130))
            .await
            .unwrap();
        assert_eq!(after.records, second);
    })
    .await;
}
