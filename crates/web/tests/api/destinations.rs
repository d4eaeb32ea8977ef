//! The operator's destinations over the API on both backends: what a delivering node published
//! is listed with its limits and throttle state, a node resting through another's pause says so,
//! a stopped node's rows are left out, and a tenant's key cannot read it.

use axum::http::{Method, StatusCode};
use sealpost_domain::{Clock as _, SystemClock};
use sealpost_store::testing::{self, calm_destination, throttled_destination};

use crate::support::*;

#[tokio::test]
async fn the_operator_reads_what_the_nodes_published() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let now = SystemClock.now().0;
        store
            .publish_destinations("node-a", &[throttled_destination("node-a", "google", now)])
            .await
            .unwrap();
        // Another node's receiver took mail, but it rests through node-a's pause.
        let calm = calm_destination("node-b", "google", now);
        store.publish_destinations("node-b", &[calm]).await.unwrap();
        store
            .publish_destinations(
                "node-gone",
                &[throttled_destination("node-gone", "yahoo", now - 3600)],
            )
            .await
            .unwrap();
        let app = app(store).await;

        let path = "/api/v1/platform/destinations";
        let (code, view) = call(&app, Method::GET, path, Some(OPERATOR), None).await;
        assert_eq!(code, StatusCode::OK, "{view}");
        let rows = view["destinations"].as_array().unwrap();
        assert_eq!(
            rows.len(),
            2,
            "the stopped node's row is left out: {view:#}"
        );
        let row = &rows[0];
        assert_eq!(row["destination"], "google");
        assert_eq!(row["node"], "node-a");
        assert_eq!(row["connections_allowed"], 5);
        assert_eq!(row["connection_limit"], 10);
        assert_eq!(row["throttle_level"], 1);
        assert_eq!(row["last_throttle_reply"], "421 4.7.0 Try again later");
        assert!(
            row["paused_until"].as_str().unwrap().ends_with('Z'),
            "{row}"
        );
        assert_eq!(row["domains"][1], "googlemail.test");
        assert_eq!(row["waiting"], 0);
        assert!(row["peer_pause"].is_null(), "{row}");
        let resting = &rows[1];
        assert_eq!(resting["node"], "node-b");
        assert!(resting["paused_until"].is_null(), "{resting}");
        assert_eq!(resting["peer_pause"]["node"], "node-a");
        assert_eq!(resting["peer_pause"]["until"], row["paused_until"]);
        assert_eq!(resting["peer_pause"]["reply"], "421 4.7.0 Try again later");

        let token = tenant_token(&app, "acme").await;
        let refused = call(&app, Method::GET, path, Some(&token), None).await;
        assert_error(
            &refused,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "operator token",
        );
    }
}
